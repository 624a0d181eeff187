// The Map of Co-creators: people, initiatives and communities at the positions the API
// gives (a person's already coarsened to the precision they chose), clustered when
// dense, filterable by kind, sector and goal. The basemap is country outlines shipped
// with the app (world-atlas), so it works offline; a tile server may be configured.

import L from "leaflet";
import Supercluster from "supercluster";
import { feature } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";
import countries from "world-atlas/countries-110m.json";
import { get, sectors } from "../api";
import { type Child, failure, field, h, plural, replace } from "../dom";
import { KIND_COLOURS, PRECISION_TEXT, kindLabel, nodeHref } from "../kinds";
import type { Params } from "../main";
import { navigate, onLeave } from "../nav";
import { SDG_NAMES, SDG_NUMBERS } from "../sdg";

interface MapPoint {
  id: string;
  kind: string;
  name: string;
  lat: number;
  lon: number;
  precision: string;
}

interface MapAnswer {
  items: MapPoint[];
  total: number;
  unplaced: number;
}

interface PlaceProps {
  key: string;
  count: number;
}

const MAP_KINDS = ["person", "initiative", "community", "organization", "event"];
const DEFAULT_KINDS = ["person", "initiative", "community"];
const LIST_LIMIT = 40;

function meta(name: string): string {
  return document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? "";
}

/** The points grouped by position: several people in one coarsened cell share a place. */
function places(points: MapPoint[]): Map<string, MapPoint[]> {
  const found = new Map<string, MapPoint[]>();
  for (const point of points) {
    const key = `${point.lat},${point.lon}`;
    const list = found.get(key);
    if (list) list.push(point);
    else found.set(key, [point]);
  }
  return found;
}

function placeColour(items: MapPoint[]): string {
  const kinds = new Set(items.map((i) => i.kind));
  return kinds.size === 1 ? KIND_COLOURS[items[0].kind] ?? "#555555" : "#4B5563";
}

function placeLabel(items: MapPoint[]): string {
  if (items.length === 1) return `${items[0].name} (${kindLabel(items[0].kind)})`;
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item.kind, (counts.get(item.kind) ?? 0) + 1);
  return [...counts].map(([kind, n]) => plural(n, kindLabel(kind), kindLabel(kind, 2))).join(", ") + " here";
}

function popup(items: MapPoint[]): HTMLElement {
  const sorted = [...items].sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
  const precisions = new Set(items.filter((i) => i.kind === "person").map((i) => i.precision));
  return h(
    "div",
    { class: "map-popup" },
    h("p", null, h("strong", null, placeLabel(items))),
    h("ul", null, sorted.slice(0, LIST_LIMIT).map((item) => h("li", null, h("a", { href: nodeHref(item.id) }, item.name), h("span", { class: "muted" }, ` · ${kindLabel(item.kind)}`)))),
    sorted.length > LIST_LIMIT ? h("p", { class: "muted" }, `and ${sorted.length - LIST_LIMIT} more`) : null,
    precisions.size ? h("p", { class: "muted" }, [...precisions].map((p) => `People placed ${PRECISION_TEXT[p] ?? p}.`).join(" ")) : null,
  );
}

/** Run `action` when the marker is clicked, tapped, or focused and Enter is pressed. */
function onActivate(marker: L.Marker, action: () => void): void {
  const run = (event: L.LeafletEvent & { originalEvent?: Event }) => {
    // Stopped, as Leaflet's own popups do, so that the map does not take it as a click
    // elsewhere (which closes popups).
    if (event.originalEvent) L.DomEvent.stop(event.originalEvent);
    action();
  };
  marker.on("click", run);
  marker.on("keypress", (event: L.LeafletKeyboardEvent) => {
    if (event.originalEvent.key === "Enter" || event.originalEvent.key === " ") run(event);
  });
}

/** Longitudes made continuous along a ring, so shapes crossing 180° draw no band across the map. */
function unwrap(ring: number[][]): number[][] {
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

/** Country outlines without Antarctica (nobody to place there, and it wraps the pole). */
function basemap(topology: Topology<{ countries: GeometryCollection }>): GeoJSON.FeatureCollection {
  const all = feature(topology, topology.objects.countries) as GeoJSON.FeatureCollection;
  const features = all.features
    .filter((f) => f.id !== "010")
    .map((f) => {
      const g = f.geometry;
      if (g.type === "Polygon") return { ...f, geometry: { ...g, coordinates: g.coordinates.map(unwrap) } };
      if (g.type === "MultiPolygon") return { ...f, geometry: { ...g, coordinates: g.coordinates.map((p) => p.map(unwrap)) } };
      return f;
    });
  return { type: "FeatureCollection", features };
}

export async function render(main: HTMLElement, _params: Params, url: URL): Promise<void> {
  const given = url.searchParams;
  const chosenKinds = given.getAll("kind").filter((k) => MAP_KINDS.includes(k));
  const kinds = chosenKinds.length ? chosenKinds : DEFAULT_KINDS;
  main.appendChild(h("h1", null, "Map of Co-creators"));
  main.appendChild(h("p", null, "Where people, initiatives and communities are. Each person appears only as precisely as they chose (to the town, the region or not at all), and only if they agreed to be found."));

  const sectorSelect = h("select", { name: "sector" }, h("option", { value: "" }, "any sector"));
  const sdgSelect = h("select", { name: "sdg" }, h("option", { value: "" }, "any goal"), SDG_NUMBERS.map((n) => h("option", { value: `sdg:${n}` }, `${n}. ${SDG_NAMES[n]}`)));
  sdgSelect.value = given.get("sdg") ?? "";
  const kindBoxes = MAP_KINDS.map((kind) =>
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "kind", value: kind, checked: kinds.includes(kind) }), h("span", { class: `swatch kind-${kind}`, "aria-hidden": "true" }), ` ${kindLabel(kind, 2)}`),
  );
  const form = h(
    "form",
    { class: "map-filters", "aria-label": "Map filters" },
    h("fieldset", null, h("legend", null, "Show"), kindBoxes),
    h("div", { class: "filter-grid compact" }, field("Sector", sectorSelect), field("Goal (SDG)", sdgSelect)),
    h("button", { type: "submit" }, "Update the map"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const [name, value] of new FormData(form).entries()) if (String(value)) next.append(name, String(value));
    const at = map.getCenter();
    next.set("lat", at.lat.toFixed(2));
    next.set("lon", at.lng.toFixed(2));
    next.set("zoom", String(map.getZoom()));
    navigate(`/map?${next.toString()}`, { replace: true });
  });
  const status = h("p", { class: "map-status", role: "status" }, "Loading the map…");
  const canvas = h("div", { id: "map", class: "map", role: "region", "aria-label": "World map; use the arrow keys to pan, + and - to zoom, Tab to reach the markers" });
  main.append(form, status, canvas);

  const tasks: Promise<unknown>[] = [
    sectors().then((page) => {
      for (const s of page.items) sectorSelect.appendChild(h("option", { value: s.id }, s.name));
      sectorSelect.value = given.get("sector") ?? "";
    }, () => undefined),
  ];

  const still = window.matchMedia?.("(prefers-reduced-motion: reduce)").matches ?? false;
  const map = L.map(canvas, {
    worldCopyJump: true, minZoom: 1, maxZoom: 12, zoomSnap: 1, attributionControl: true,
    fadeAnimation: !still, zoomAnimation: !still, markerZoomAnimation: !still,
  });
  onLeave(() => map.remove());
  map.attributionControl.setPrefix("");
  const topology = countries as unknown as Topology<{ countries: GeometryCollection }>;
  L.geoJSON(basemap(topology), {
    interactive: false,
    style: { color: "#7b8794", weight: 0.6, fillColor: "#f4f1ea", fillOpacity: 1 },
  }).addTo(map);
  map.attributionControl.addAttribution("Country outlines: Natural Earth via world-atlas");
  const tiles = meta("cocreate-map-tiles");
  if (tiles) {
    L.tileLayer(tiles, { attribution: meta("cocreate-map-attribution") || undefined, maxZoom: 12 }).addTo(map);
  }
  // A view can be shared: /map?lat=38.6&lon=-121.4&zoom=8 (any filters kept).
  const centre = [Number(given.get("lat")), Number(given.get("lon"))] as const;
  const zoom = Number(given.get("zoom"));
  const valid = given.has("lat") && given.has("lon") && Math.abs(centre[0]) <= 85 && Math.abs(centre[1]) <= 180;
  map.setView(valid ? [centre[0], centre[1]] : [25, 0], Number.isInteger(zoom) && zoom >= 1 && zoom <= 12 ? zoom : 2);

  let answer: MapAnswer;
  try {
    answer = await get<MapAnswer>("/v1/map", { kind: kinds, sector: given.get("sector"), sdg: given.get("sdg") });
  } catch (error) {
    replace(status, failure(error, "The map's data"));
    await Promise.allSettled(tasks);
    return;
  }
  const grouped = places(answer.items);
  const index = new Supercluster<PlaceProps, { count: number }>({
    radius: 44, // screen pixels, with the 256-pixel tiles Leaflet uses
    extent: 256,
    maxZoom: 11,
    map: (props) => ({ count: props.count }),
    reduce: (acc, props) => {
      acc.count += props.count;
    },
  });
  index.load(
    [...grouped].map(([key, items]) => ({
      type: "Feature" as const,
      properties: { key, count: items.length },
      geometry: { type: "Point" as const, coordinates: [items[0].lon, items[0].lat] },
    })),
  );
  const layer = L.layerGroup().addTo(map);
  const draw = () => {
    layer.clearLayers();
    canvas.dataset.zoom = String(map.getZoom());
    const bounds = map.getBounds();
    const west = Math.max(-180, bounds.getWest());
    const east = Math.min(180, bounds.getEast());
    const box: [number, number, number, number] = east - west >= 360 || west >= east ? [-180, -85, 180, 85] : [west, Math.max(-85, bounds.getSouth()), east, Math.min(85, bounds.getNorth())];
    for (const found of index.getClusters(box, map.getZoom())) {
      const [lon, lat] = found.geometry.coordinates;
      const props = found.properties as PlaceProps & { cluster?: boolean; cluster_id?: number; point_count?: number };
      if (props.cluster) {
        const count = props.count;
        const size = Math.round(28 + Math.min(18, Math.log2(count) * 3));
        const label = `${plural(count, "item")} in this area; press to zoom in`;
        const marker = L.marker([lat, lon], {
          icon: L.divIcon({ className: "map-cluster", html: h("span", null, count > 999 ? `${Math.round(count / 100) / 10}k` : String(count)), iconSize: [size, size] }),
          keyboard: true,
          title: label,
        }).addTo(layer);
        onActivate(marker, () => map.flyTo([lat, lon], Math.min(index.getClusterExpansionZoom(props.cluster_id as number), 12)));
        const el = marker.getElement();
        if (el) Object.assign(el.dataset, { marker: "cluster", count: String(count) });
        el?.setAttribute("aria-label", label);
        el?.setAttribute("role", "button");
      } else {
        const items = grouped.get(props.key) ?? [];
        const label = placeLabel(items);
        const count = items.length;
        const icon = h("span", { class: "pin", style: { backgroundColor: placeColour(items) } }, count > 1 ? String(count) : "");
        const marker = L.marker([lat, lon], { icon: L.divIcon({ className: "map-place", html: icon, iconSize: count > 1 ? [26, 26] : [16, 16] }), keyboard: true, title: label }).addTo(layer);
        // The popup belongs to the map, not the marker: markers are redrawn when the map
        // moves (as it does to show the popup), and the popup must stay open.
        onActivate(marker, () => {
          const opened = L.popup({ maxWidth: 320 }).setLatLng([lat, lon]).setContent(popup(items)).openOn(map);
          const box = opened.getElement();
          box?.querySelector<HTMLElement>(".map-popup a")?.focus({ preventScroll: true });
          box?.addEventListener("keydown", (event) => {
            if (event.key === "Escape") {
              map.closePopup();
              canvas.focus({ preventScroll: true });
            }
          });
        });
        const el = marker.getElement();
        if (el) {
          Object.assign(el.dataset, { marker: "place", lat: String(items[0].lat), lon: String(items[0].lon), count: String(count), ids: items.map((i) => i.id).join(" ") });
          el.setAttribute("aria-label", label);
          el.setAttribute("role", "button");
        }
      }
    }
  };
  map.on("moveend", draw);
  draw();
  const counts = new Map<string, number>();
  for (const item of answer.items) counts.set(item.kind, (counts.get(item.kind) ?? 0) + 1);
  const parts: Child = [...counts].map(([kind, n]) => plural(n, kindLabel(kind), kindLabel(kind, 2))).join(", ") || "Nothing to show with these filters";
  replace(
    status,
    parts,
    answer.items.length ? ` on the map, in ${plural(grouped.size, "place")}.` : ".",
    answer.unplaced ? ` ${plural(answer.unplaced, "more shares", "more share")} only a country, or no place, and ${answer.unplaced === 1 ? "is" : "are"} not shown.` : "",
  );
  canvas.dataset.points = String(answer.items.length);
  await Promise.allSettled(tasks);
}
