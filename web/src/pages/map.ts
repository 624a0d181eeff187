// The Map of Co-creators: people, initiatives and communities at the positions the API
// gives (a person's already coarsened to the precision they chose), on a basemap with
// place names and borders that ships with the app (see ../basemap.ts), so it works
// offline; a tile server may be configured. The service answers for the view only
// (clusters on a grid by zoom, small ones with their items), asked again when the map
// has moved, so that a network of a million stays a small answer. A place box finds towns, counties, states and
// countries; the list beside the map names what is in view, in the markers' order.
// People placed only to a town or a region are drawn as the area they stand for, never
// as a pin, so that nobody reads a 110 km cell as an address.

import L from "leaflet";
import Supercluster from "supercluster";
import { get, sectors } from "../api";
import { type Box, type Geography, type Place, findPlaces, loadGeography, nearestTown, townFloor } from "../basemap";
import { type Child, failure, field, h, plural, replace } from "../dom";
import { formField } from "../forms";
import { KIND_COLOURS, kindLabel, nodeHref } from "../kinds";
import type { Params } from "../main";
import { onLeave } from "../nav";
import { SDG_NAMES, SDG_NUMBERS } from "../sdg";

interface MapPoint {
  id: string;
  kind: string;
  name: string;
  lat: number;
  lon: number;
  precision: string;
  about?: string;
}

/** A cluster the service made for the view (GET /v1/map?bbox=...&zoom=...): small ones
 * carry their items, which this page places and clusters itself; big ones are drawn as
 * they come, and zooming in on them asks again. */
interface ViewCluster {
  lat: number;
  lon: number;
  count: number;
  kinds: Record<string, number>;
  items?: MapPoint[] | null;
}

interface MapAnswer {
  clusters: ViewCluster[];
  total: number;
  unplaced: number;
}

interface PlaceProps {
  key: string;
  count: number;
  kinds: Record<string, number>;
}

type ClusterProps = { count: number; kinds: Record<string, number> };

/** One thing drawn on the map, and so one entry of the list beside it. */
interface Shown {
  lat: number;
  lon: number;
  cluster?: { id: number; count: number; kinds: Record<string, number> };
  items: MapPoint[];
  area: boolean;
}

const MAP_KINDS = ["person", "initiative", "community", "organization", "event"];
const DEFAULT_KINDS = ["person", "initiative", "community"];
const POPUP_LIMIT = 40;
const LIST_LIMIT = 60;
// The size of the cell a coarse position stands for (graph/geo.py GRID_DEGREES).
const CELL_DEGREES: Record<string, number> = { city: 0.1, region: 1 };
const CELL_WORDS: Record<string, string> = { city: "about 11 km across", region: "about 110 km across" };
// Below these zooms a cell is too small to see, and joins the clusters instead.
const CELL_SHOWN_FROM: Record<string, number> = { city: 10, region: 7 };
const PIN_SIZE = 26;
const RADII: Record<string, number> = { town: 50, county: 50, state: 200, region: 200, country: 1000 };
// The view is asked for with a margin (so that areas and pins just outside stay drawn
// while panning), and again once the map has been still this long.
const MARGIN_DEGREES = 1;
const ASK_AFTER_MS = 250;

function meta(name: string): string {
  return document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? "";
}

/** A person placed to a town or region stands for a whole cell of the grid. (A
 * community's precision is its own size, and its position its centre: a pin.) */
function isArea(point: MapPoint): boolean {
  return point.kind === "person" && point.precision in CELL_DEGREES;
}

/** The points grouped by position: several people in one coarsened cell share a place. */
function places(points: MapPoint[]): Map<string, MapPoint[]> {
  const found = new Map<string, MapPoint[]>();
  for (const point of points) {
    const key = `${point.lat},${point.lon},${isArea(point) ? point.precision : "exact"}`;
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

function kindCounts(items: MapPoint[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item.kind] = (counts[item.kind] ?? 0) + 1;
  return counts;
}

/** "12 people, 2 communities" */
function kindWords(counts: Record<string, number>): string {
  return Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, n]) => plural(n, kindLabel(kind).toLowerCase(), kindLabel(kind, 2).toLowerCase()))
    .join(", ");
}

function countWords(items: MapPoint[]): string {
  return kindWords(kindCounts(items));
}

function placeLabel(items: MapPoint[], area: boolean): string {
  const where = area ? `somewhere in this area (${CELL_WORDS[items[0].precision]})` : "here";
  if (items.length === 1) return `${items[0].name} (${kindLabel(items[0].kind).toLowerCase()}), ${where}`;
  return `${countWords(items)} ${where}`;
}

function sortedItems(items: MapPoint[]): MapPoint[] {
  return [...items].sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
}

/** An item as a popup or the list shows it: its name as a link, what it is, one line about it. */
function entry(item: MapPoint): HTMLElement {
  return h(
    "li",
    { "data-id": item.id },
    h("a", { href: nodeHref(item.id) }, item.name),
    h("span", { class: "muted" }, ` · ${kindLabel(item.kind)}`),
    item.about ? h("span", { class: "about" }, item.about) : null,
  );
}

function popup(items: MapPoint[], area: boolean): HTMLElement {
  const sorted = sortedItems(items);
  return h(
    "div",
    { class: "map-popup" },
    h("p", null, h("strong", null, items.length === 1 ? (area ? `Somewhere in this area (${CELL_WORDS[items[0].precision]})` : kindLabel(items[0].kind)) : placeLabel(items, area))),
    h("ul", null, sorted.slice(0, POPUP_LIMIT).map(entry)),
    sorted.length > POPUP_LIMIT ? h("p", { class: "muted" }, `and ${sorted.length - POPUP_LIMIT} more`) : null,
    area ? h("p", { class: "muted" }, "Shown only this roughly, as each person chose.") : null,
  );
}

/** Run `action` when a marker or area is clicked, tapped, or focused and Enter is pressed. */
function onActivate(layer: L.Layer, element: HTMLElement | SVGElement | undefined, action: () => void): void {
  layer.on("click", (event: L.LeafletEvent & { originalEvent?: Event }) => {
    // Stopped, as Leaflet's own popups do, so that the map does not take it as a click
    // elsewhere (which closes popups).
    if (event.originalEvent) L.DomEvent.stop(event.originalEvent);
    action();
  });
  element?.addEventListener("keydown", (event) => {
    const key = (event as KeyboardEvent).key;
    if (key === "Enter" || key === " ") {
      event.preventDefault();
      event.stopPropagation();
      action();
    }
  });
}

function readKinds(given: URLSearchParams): string[] {
  const chosen = given.getAll("kind").filter((k) => MAP_KINDS.includes(k));
  return chosen.length ? chosen : DEFAULT_KINDS;
}

export async function render(main: HTMLElement, _params: Params, url: URL): Promise<void> {
  const given = url.searchParams;
  main.appendChild(h("h1", null, "Map of Co-creators"));
  const intro = h("p", { class: "map-intro" }, "Where people, initiatives and communities are. Each person appears only as precisely as they chose (to the town, the region or not at all), and only if they agreed to be found.");

  // The place box: an offline gazetteer of towns, counties, states and countries.
  const placeInput = h("input", { name: "place", type: "search", list: "map-place-options", autocomplete: "off", placeholder: "e.g. Sacramento", value: given.get("place") ?? "" });
  const options = h("datalist", { id: "map-place-options" });
  const near = h("p", { class: "map-near" });
  const meButton = h("button", { type: "button", class: "secondary" }, "Near me");
  const placeForm = h(
    "form",
    { class: "map-place", role: "search", "aria-label": "Find a place on the map" },
    h("div", { class: "map-place-row" }, formField("Find a place", placeInput, "a town, county, state, province or country"), h("button", { type: "submit" }, "Go"), meButton),
    options,
    near,
  );

  // Filters apply at once; on a phone they fold away under "Filters".
  const kinds = readKinds(given);
  const sectorSelect = h("select", { name: "sector" }, h("option", { value: "" }, "any sector"));
  const sdgSelect = h("select", { name: "sdg" }, h("option", { value: "" }, "any goal"), SDG_NUMBERS.map((n) => h("option", { value: `sdg:${n}` }, `${n}. ${SDG_NAMES[n]}`)));
  sdgSelect.value = given.get("sdg") ?? "";
  const kindBoxes = MAP_KINDS.map((kind) =>
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "kind", value: kind, checked: kinds.includes(kind) }), h("span", { class: `swatch kind-${kind}`, "aria-hidden": "true" }), ` ${kindLabel(kind, 2)}`),
  );
  // Folded unless the address chose filters, so that the map comes first; the summary
  // says what is shown either way.
  const chosen = given.has("kind") || given.has("sector") || given.has("sdg");
  const wide = window.matchMedia?.("(min-width: 700px)").matches ?? true;
  const form = h("form", { class: "map-filter-form", "aria-label": "Map filters" }, h("fieldset", null, h("legend", null, "Show"), kindBoxes), h("div", { class: "filter-grid compact" }, field("Sector", sectorSelect), field("Goal (SDG)", sdgSelect)));
  form.addEventListener("submit", (event) => event.preventDefault());
  const summaryNote = h("span", { class: "muted" });
  const filters = h("details", { class: "map-filters", open: chosen && wide }, h("summary", null, "Filters", summaryNote), form);
  const sayFilters = () => {
    const shown = MAP_KINDS.filter((k) => form.querySelector<HTMLInputElement>(`input[value="${k}"]`)?.checked).map((k) => kindLabel(k, 2).toLowerCase());
    const sector = sectorSelect.selectedOptions[0]?.value ? sectorSelect.selectedOptions[0].textContent : "";
    const goal = sdgSelect.value ? sdgSelect.selectedOptions[0]?.textContent : "";
    summaryNote.textContent = `: ${[shown.join(", ") || "nothing", sector, goal].filter(Boolean).join(" · ")}`;
  };
  sayFilters();
  const status = h("p", { class: "map-status", role: "status" }, "Loading the map…");
  const canvas = h("div", { id: "map", class: "map", role: "region", "aria-label": "Map; use the arrow keys to pan, + and - to zoom, Tab to reach the markers" });
  const listBody = h("ol", { class: "map-list-items" });
  const listNote = h("p", { class: "muted" });
  const list = h("section", { class: "map-list", "aria-label": "What is in view" }, h("h2", null, "In view"), h("p", { class: "hint" }, "From north to south, as on the map."), listBody, listNote);
  main.append(h("div", { class: "map-layout" }, intro, placeForm, filters, status, canvas, list));

  // Until the sectors have loaded, the one in the address is the one chosen.
  let sectorsLoaded = false;
  const sectorNow = () => (sectorsLoaded ? sectorSelect.value : given.get("sector") ?? "");
  const tasks: Promise<unknown>[] = [
    sectors().then((page) => {
      for (const s of page.items) sectorSelect.appendChild(h("option", { value: s.id }, s.name));
      sectorSelect.value = given.get("sector") ?? "";
      sectorsLoaded = true;
      sayFilters();
    }, () => undefined),
  ];

  const still = window.matchMedia?.("(prefers-reduced-motion: reduce)").matches ?? false;
  const map = L.map(canvas, {
    worldCopyJump: true, minZoom: 1, maxZoom: 12, zoomSnap: 1, attributionControl: true,
    fadeAnimation: !still, zoomAnimation: !still, markerZoomAnimation: !still,
  });
  onLeave(() => map.remove());
  map.attributionControl.setPrefix("");
  const tiles = meta("cocreate-map-tiles");
  if (tiles) {
    L.tileLayer(tiles, { attribution: meta("cocreate-map-attribution") || undefined, maxZoom: 12 }).addTo(map);
  }
  // A view can be shared: /map?lat=38.6&lon=-121.4&zoom=8 (any filters and place kept).
  const centre = [Number(given.get("lat")), Number(given.get("lon"))] as const;
  const zoom = Number(given.get("zoom"));
  const valid = given.has("lat") && given.has("lon") && Math.abs(centre[0]) <= 85 && Math.abs(centre[1]) <= 180;
  map.setView(valid ? [centre[0], centre[1]] : [25, 0], Number.isInteger(zoom) && zoom >= 1 && zoom <= 12 ? zoom : 2);

  let chosenPlace = given.get("place") ?? "";
  const writeUrl = () => {
    const next = new URLSearchParams();
    for (const [name, value] of new FormData(form).entries()) if (String(value) && name !== "sector") next.append(name, String(value));
    if (sectorNow()) next.set("sector", sectorNow());
    if (chosenPlace) next.set("place", chosenPlace);
    const at = map.getCenter();
    next.set("lat", at.lat.toFixed(2));
    next.set("lon", at.lng.toFixed(2));
    next.set("zoom", String(map.getZoom()));
    history.replaceState(history.state, "", `/map?${next.toString()}`);
  };

  // The geography loads beside the data; the map works (outlines aside) without it.
  let geography: Geography | null = null;
  // The regions of other countries come later (when zoomed in, or a place is looked up).
  const geographyReady = loadGeography(map, () => draw()).then(
    (loaded) => {
      geography = loaded;
      draw(); // the labels, and the list's "around <town>"
      canvas.dataset.basemap = "ready";
    },
    () => {
      canvas.dataset.basemap = "failed";
    },
  );
  tasks.push(geographyReady);

  const showNear = (place: Place) => {
    const radius = RADII[place.kind] ?? 50;
    replace(near, h("a", { href: `/search?lat=${place.lat.toFixed(2)}&lon=${place.lon.toFixed(2)}&radius_km=${radius}` }, `Search near ${place.name}`), h("span", { class: "muted" }, ` (within ${radius} km)`));
  };
  const goTo = (place: Place) => {
    chosenPlace = place.label;
    placeInput.value = place.label;
    if (place.bounds) map.fitBounds(place.bounds, { maxZoom: place.kind === "country" ? 6 : place.kind === "state" ? 7 : place.kind === "region" ? 8 : 10, animate: !still });
    else map.setView([place.lat, place.lon], place.weight >= 100_000 ? 10 : 11, { animate: !still });
    showNear(place);
    writeUrl();
  };
  const placeError = () => placeForm.querySelector<HTMLElement>(".field-error");
  const sayPlace = (message: string) => {
    const slot = placeError();
    if (!slot) return;
    slot.textContent = message;
    slot.hidden = !message;
    placeInput.setAttribute("aria-invalid", message ? "true" : "false");
  };
  const findAndGo = async () => {
    await geographyReady;
    const typed = placeInput.value.trim();
    if (!geography) {
      sayPlace("The list of places could not be loaded; move the map by hand.");
      return;
    }
    if (!typed) {
      sayPlace("Type the name of a town, county, state, province or country.");
      return;
    }
    await geography.loadRegions().catch(() => undefined); // towns and countries do without
    const found = geography.places.find((p) => p.label === typed) ?? findPlaces(geography.places, typed, 1)[0];
    if (!found) {
      sayPlace(`No place called "${typed}" is known to the map. Try a nearby town, or the county.`);
      return;
    }
    sayPlace("");
    goTo(found);
  };
  const suggest = () => {
    if (geography) replace(options, findPlaces(geography.places, placeInput.value.trim()).map((p) => h("option", { value: p.label })));
  };
  placeInput.addEventListener("input", (event) => {
    if (!geography) return;
    // Provinces and regions join the suggestions once loaded.
    void geography.loadRegions().then(suggest, () => undefined);
    const typed = placeInput.value.trim();
    const picked = geography.places.find((p) => p.label === typed);
    // A suggestion chosen from the list moves the map at once.
    if (picked && (event as InputEvent).inputType !== "insertText" && (event as InputEvent).inputType !== "deleteContentBackward") {
      sayPlace("");
      goTo(picked);
      return;
    }
    suggest();
  });
  placeForm.addEventListener("submit", (event) => {
    event.preventDefault();
    void findAndGo();
  });
  meButton.addEventListener("click", () => {
    if (!navigator.geolocation) {
      sayPlace("This browser cannot tell where you are; type a town instead.");
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (position) => {
        sayPlace("");
        map.setView([position.coords.latitude, position.coords.longitude], 10);
      },
      () => sayPlace("Your browser did not share where you are; type a town instead."),
      { timeout: 10_000, maximumAge: 600_000 },
    );
  });
  if (chosenPlace && !valid) void findAndGo();
  else if (chosenPlace) {
    void geographyReady.then(async () => {
      if (!geography) return;
      const named = () => geography?.places.find((p) => p.label === chosenPlace);
      if (!named()) await geography.loadRegions().catch(() => undefined);
      const known = named();
      if (known) showNear(known);
    });
  }

  // The data: three cluster indexes, one per range of zooms, since a cell is drawn as
  // an area only once it is big enough to see (and joins the clusters below that).
  const layer = L.layerGroup().addTo(map);
  let grouped = new Map<string, MapPoint[]>();
  let remote: ViewCluster[] = [];
  let indexes: { from: number; index: Supercluster<PlaceProps, ClusterProps> }[] = [];
  let dataReady = false;
  let loading = 0;

  const clusterIndex = (entries: [string, MapPoint[]][]) => {
    const index = new Supercluster<PlaceProps, ClusterProps>({
      radius: 44, // screen pixels, with the 256-pixel tiles Leaflet uses
      extent: 256,
      maxZoom: 11,
      map: (props) => ({ count: props.count, kinds: { ...props.kinds } }),
      reduce: (acc, props) => {
        acc.count += props.count;
        for (const [kind, n] of Object.entries(props.kinds)) acc.kinds[kind] = (acc.kinds[kind] ?? 0) + n;
      },
    });
    index.load(entries.map(([key, items]) => ({ type: "Feature" as const, properties: { key, count: items.length, kinds: kindCounts(items) }, geometry: { type: "Point" as const, coordinates: [items[0].lon, items[0].lat] } })));
    return index;
  };
  const clustered = (items: MapPoint[], z: number) => !isArea(items[0]) || z < CELL_SHOWN_FROM[items[0].precision];

  const viewBox = (): [number, number, number, number] => {
    const bounds = map.getBounds();
    const west = Math.max(-180, bounds.getWest());
    const east = Math.min(180, bounds.getEast());
    return east - west >= 360 || west >= east ? [-180, -85, 180, 85] : [west, Math.max(-85, bounds.getSouth()), east, Math.min(85, bounds.getNorth())];
  };

  const draw = () => {
    layer.clearLayers();
    const z = map.getZoom();
    canvas.dataset.zoom = String(z);
    const box = viewBox();
    const shown: Shown[] = [];
    const index = indexes.find((i) => z >= i.from)?.index;
    if (index) {
      for (const found of index.getClusters(box, z)) {
        const [lon, lat] = found.geometry.coordinates;
        const props = found.properties as PlaceProps & { cluster?: boolean; cluster_id?: number };
        if (props.cluster) shown.push({ lat, lon, items: [], area: false, cluster: { id: props.cluster_id as number, count: props.count, kinds: props.kinds } });
        else {
          const items = grouped.get(props.key) ?? [];
          shown.push({ lat, lon, items, area: isArea(items[0]) });
        }
      }
    }
    // Cells big enough to see at this zoom, drawn as the area they stand for.
    const view = L.latLngBounds([box[1], box[0]], [box[3], box[2]]);
    // The service's big clusters in view, as they came (ids below zero: zooming in asks again).
    remote.forEach((c, n) => {
      if (view.contains([c.lat, c.lon])) shown.push({ lat: c.lat, lon: c.lon, items: [], area: false, cluster: { id: -1 - n, count: c.count, kinds: c.kinds } });
    });
    for (const items of grouped.values()) {
      if (clustered(items, z)) continue;
      const half = CELL_DEGREES[items[0].precision] / 2;
      const cell = L.latLngBounds([items[0].lat - half, items[0].lon - half], [items[0].lat + half, items[0].lon + half]);
      if (view.intersects(cell)) shown.push({ lat: items[0].lat, lon: items[0].lon, items, area: true });
    }
    // North to south, then west to east: the order of the markers and of the list.
    shown.sort((a, b) => b.lat - a.lat || a.lon - b.lon);
    // Place names keep clear of the pins and clusters.
    const obstacles: Box[] = [];
    for (const thing of shown) {
      if (thing.area) continue;
      const at = map.latLngToContainerPoint([thing.lat, thing.lon]);
      const r = thing.cluster ? 24 : PIN_SIZE / 2 + 2;
      obstacles.push([at.x - r, at.y - r, at.x + r, at.y + r]);
    }
    geography?.draw(map, obstacles);
    // Areas first in the drawing (so pins sit above them), in the same order.
    for (const thing of shown.filter((s) => s.area)) drawArea(thing);
    for (const thing of shown.filter((s) => !s.area)) {
      if (thing.cluster) drawCluster(thing.lat, thing.lon, thing.cluster);
      else drawPin(thing.lat, thing.lon, thing.items);
    }
    drawList(shown);
  };

  const openPopup = (lat: number, lon: number, items: MapPoint[], area: boolean) => {
    // The popup belongs to the map, not the marker: markers are redrawn when the map
    // moves (as it does to show the popup), and the popup must stay open.
    const opened = L.popup({ maxWidth: 320 }).setLatLng([lat, lon]).setContent(popup(items, area)).openOn(map);
    const box = opened.getElement();
    box?.querySelector<HTMLElement>(".map-popup a")?.focus({ preventScroll: true });
    box?.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        map.closePopup();
        canvas.focus({ preventScroll: true });
      }
    });
  };

  const drawCluster = (lat: number, lon: number, cluster: { id: number; count: number; kinds: Record<string, number> }) => {
    const size = Math.round(30 + Math.min(18, Math.log2(cluster.count) * 3));
    const shown = cluster.count > 999 ? `${Math.round(cluster.count / 100) / 10}k` : String(cluster.count);
    // The name starts with the number shown, so that a voice user can say what they see.
    const label = `${shown} in this area: ${kindWords(cluster.kinds)}; press to zoom in`;
    const marker = L.marker([lat, lon], {
      icon: L.divIcon({ className: "map-cluster", html: h("span", null, shown), iconSize: [size, size] }),
      keyboard: true,
      title: label,
    }).addTo(layer);
    const el = marker.getElement();
    onActivate(marker, el, () => map.flyTo([lat, lon], Math.min(zoomInto(cluster.id), 12), { animate: !still }));
    if (el) Object.assign(el.dataset, { marker: "cluster", count: String(cluster.count) });
    el?.setAttribute("aria-label", label);
    el?.setAttribute("role", "button");
  };
  const zoomInto = (id: number) => {
    const z = map.getZoom();
    if (id < 0) return z + 2;
    const index = indexes.find((i) => z >= i.from)?.index;
    return index ? index.getClusterExpansionZoom(id) : z + 2;
  };

  const drawPin = (lat: number, lon: number, items: MapPoint[]) => {
    const count = items.length;
    const label = count > 1 ? `${count} here: ${countWords(items)}` : placeLabel(items, false);
    const icon = h("span", { class: "pin", style: { backgroundColor: placeColour(items) } }, count > 1 ? String(count) : "");
    const size = count > 1 ? PIN_SIZE + 4 : PIN_SIZE;
    const marker = L.marker([lat, lon], { icon: L.divIcon({ className: "map-pin", html: icon, iconSize: [size, size] }), keyboard: true, title: label }).addTo(layer);
    const el = marker.getElement();
    onActivate(marker, el, () => openPopup(lat, lon, items, false));
    if (el) {
      Object.assign(el.dataset, { marker: "place", lat: String(lat), lon: String(lon), count: String(count), ids: items.map((i) => i.id).join(" ") });
      el.setAttribute("aria-label", label);
      el.setAttribute("role", "button");
    }
  };

  const drawArea = (thing: Shown) => {
    const { lat, lon, items } = thing;
    const precision = items[0].precision;
    const half = CELL_DEGREES[precision] / 2;
    const colour = placeColour(items);
    const style: L.PathOptions = { color: colour, weight: 2, dashArray: "5 4", fillColor: colour, fillOpacity: 0.16 };
    const cell = L.latLngBounds([lat - half, lon - half], [lat + half, lon + half]);
    const corner = map.latLngToContainerPoint(cell.getNorthWest());
    const other = map.latLngToContainerPoint(cell.getSouthEast());
    // A cell smaller than a finger is drawn as a circle that size, still an area.
    const shape = Math.abs(other.x - corner.x) >= PIN_SIZE ? L.rectangle(cell, style) : L.circleMarker([lat, lon], { ...style, radius: PIN_SIZE / 2 });
    shape.addTo(layer);
    const el = shape.getElement() as SVGElement | undefined;
    onActivate(shape, el, () => openPopup(lat, lon, items, true));
    if (el) {
      const label = placeLabel(items, true);
      Object.assign(el.dataset, { area: precision, lat: String(lat), lon: String(lon), count: String(items.length), ids: items.map((i) => i.id).join(" ") });
      el.setAttribute("tabindex", "0");
      el.setAttribute("role", "button");
      el.setAttribute("aria-label", label);
      el.appendChild(Object.assign(document.createElementNS("http://www.w3.org/2000/svg", "title"), { textContent: label }));
    }
  };

  // What the map shows, counted as the list beside it counts it (the service answers for a
  // somewhat larger area than the one in view, so its own totals would say more).
  let unplaced = 0;
  let inView: Record<string, number> = {};
  const sayCounts = () => {
    if (!dataReady) return;
    const parts: Child = kindWords(inView) || "Nothing here with these filters: move the map or zoom out";
    replace(
      status,
      parts.charAt(0).toUpperCase() + parts.slice(1),
      Object.keys(inView).length ? " in this part of the map." : ".",
      unplaced ? ` ${plural(unplaced, "more shares", "more share")} only a country, or no place, and ${unplaced === 1 ? "is" : "are"} not shown.` : "",
    );
  };

  const drawList = (shown: Shown[]) => {
    inView = {};
    for (const thing of shown) {
      const kinds = thing.cluster ? Object.entries(thing.cluster.kinds) : thing.items.map((item): [string, number] => [item.kind, 1]);
      for (const [kind, n] of kinds) inView[kind] = (inView[kind] ?? 0) + n;
    }
    sayCounts();
    const rows: HTMLElement[] = [];
    let listed = 0;
    let more = 0;
    for (const thing of shown) {
      if (thing.cluster) {
        // Within about 60 pixels: the town whose name is likely on the map beside it.
        const z = map.getZoom();
        const town = geography ? nearestTown(geography.places, thing.lat, thing.lon, 9.4 * 2 ** (10 - z) * Math.cos((thing.lat * Math.PI) / 180), Math.max(20_000, townFloor(z))) : null;
        const button = h("button", { type: "button", class: "link-button" }, "zoom in");
        button.addEventListener("click", () => map.flyTo([thing.lat, thing.lon], Math.min(zoomInto(thing.cluster?.id as number), 12), { animate: !still }));
        rows.push(h("li", { class: "map-list-cluster" }, `${kindWords(thing.cluster.kinds)} ${town ? `around ${town.name}` : "close together"}: `, button));
        continue;
      }
      const items = sortedItems(thing.items);
      const room = Math.max(0, LIST_LIMIT - listed);
      more += Math.max(0, items.length - room);
      const kept = items.slice(0, room);
      listed += kept.length;
      for (const item of kept) {
        const row = entry(item);
        if (thing.area) row.appendChild(h("span", { class: "muted where" }, `Shown only roughly (${CELL_WORDS[item.precision]})`));
        rows.push(row);
      }
    }
    replace(listBody, rows);
    listBody.dataset.count = String(listed);
    replace(listNote, !dataReady ? "Loading…" : rows.length === 0 ? "Nothing in view here: move the map or zoom out." : more ? `And ${plural(more, "more")} in view: zoom in to see them.` : "");
  };

  let asking: number | undefined;
  map.on("moveend", () => {
    draw();
    writeUrl();
    window.clearTimeout(asking);
    asking = window.setTimeout(() => void load(), ASK_AFTER_MS);
  });

  const load = async () => {
    const ticket = ++loading;
    const kindsNow = new FormData(form).getAll("kind").map(String);
    let answer: MapAnswer;
    try {
      const [west, south, east, north] = viewBox();
      const wide = east - west >= 360 - 2 * MARGIN_DEGREES;
      const bbox = wide
        ? [-180, Math.max(-85, south - MARGIN_DEGREES), 180, Math.min(85, north + MARGIN_DEGREES)]
        : [Math.max(-180, west - MARGIN_DEGREES), Math.max(-85, south - MARGIN_DEGREES), Math.min(180, east + MARGIN_DEGREES), Math.min(85, north + MARGIN_DEGREES)];
      // A map not laid out (a page being left, or not yet shown) has no view to ask for:
      // its next move asks again.
      if (!bbox.every(Number.isFinite) || bbox[0] >= bbox[2] || bbox[1] >= bbox[3]) return;
      const view = { bbox: bbox.map((v) => v.toFixed(3)).join(","), zoom: String(map.getZoom()) };
      answer = await get<MapAnswer>("/v1/map", { kind: kindsNow.length ? kindsNow : DEFAULT_KINDS, sector: sectorNow() || null, sdg: sdgSelect.value || null, ...view });
    } catch (error) {
      if (ticket === loading) replace(status, failure(error, "The map's data"));
      return;
    }
    if (ticket !== loading) return; // a later choice of filters answers instead
    const items = answer.clusters.flatMap((c) => c.items ?? []);
    remote = answer.clusters.filter((c) => !c.items);
    grouped = places(items);
    dataReady = true;
    const entries = [...grouped];
    indexes = [
      { from: CELL_SHOWN_FROM.city, index: clusterIndex(entries.filter(([, items]) => clustered(items, CELL_SHOWN_FROM.city))) },
      { from: CELL_SHOWN_FROM.region, index: clusterIndex(entries.filter(([, items]) => clustered(items, CELL_SHOWN_FROM.region))) },
      { from: 0, index: clusterIndex(entries) },
    ];
    draw();
    unplaced = answer.unplaced;
    sayCounts();
    canvas.dataset.points = String(answer.total);
  };
  form.addEventListener("change", () => {
    sayFilters();
    writeUrl();
    void load();
  });
  await load();
  await Promise.allSettled(tasks);
}
