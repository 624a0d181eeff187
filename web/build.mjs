// Builds the app into dist/: hashed, minified bundles (split per page where a page
// needs a large library), the stylesheet, and an index.html that names them.
// Gzipped copies sit next to the larger files for the server to send when accepted.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { basename } from "node:path";

const dist = "dist";
const assets = `${dist}/assets`;

await rm(dist, { recursive: true, force: true });
const result = await build({
  entryPoints: { app: "src/main.ts", style: "src/styles.css" },
  bundle: true,
  splitting: true,
  format: "esm",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  minify: true,
  outdir: assets,
  entryNames: "[name]-[hash]",
  chunkNames: "chunk-[hash]",
  assetNames: "[name]-[hash]",
  loader: { ".png": "file", ".svg": "file" },
  legalComments: "linked",
  metafile: true,
  logLevel: "warning",
});

const outputs = Object.entries(result.metafile.outputs);
const named = (entry, ext) => {
  const found = outputs.find(([file, out]) => out.entryPoint === entry && file.endsWith(ext));
  if (!found) throw new Error(`no ${ext} output for ${entry}`);
  return basename(found[0]);
};
const script = named("src/main.ts", ".js");
const style = named("src/styles.css", ".css");

const template = await readFile("src/index.html", "utf8");
const page = template.replace("%SCRIPT%", script).replace("%STYLE%", style);
await writeFile(`${dist}/index.html`, page);

// Swagger UI for /docs, from the swagger-ui-dist package, so that the API's docs need no
// CDN: copied under content-hashed names, which dist/docs.json gives to the server.
const swagger = "node_modules/swagger-ui-dist";
const docs = {};
for (const [key, file] of [["js", "swagger-ui-bundle.js"], ["css", "swagger-ui.css"]]) {
  const bytes = await readFile(`${swagger}/${file}`);
  const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 10);
  const name = file.replace(/\.(js|css)$/, `-${hash}.$1`);
  await writeFile(`${assets}/${name}`, bytes);
  outputs.push([`${assets}/${name}`, { bytes: bytes.length }]);
  docs[key] = name;
}
await writeFile(`${dist}/docs.json`, JSON.stringify(docs));

let packed = 0;
for (const [file, out] of outputs) {
  if (/\.(js|css|json|svg)$/.test(file) && out.bytes > 1024) {
    await writeFile(`${file}.gz`, gzipSync(await readFile(file), { level: 9 }));
    packed += 1;
  }
}
const total = outputs.reduce((sum, [, out]) => sum + out.bytes, 0);
console.log(`web: built ${outputs.length} files (${Math.round(total / 1024)} KiB, ${packed} gzipped) into ${dist}/`);
