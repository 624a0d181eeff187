// Search: one box, filters, and every result explained in words: a sentence first (the
// words of the search it holds, whether it is among the closest in meaning, how far),
// the strength on the app's one scale, the goals shared and the path in the graph.

import { type NodeRecord, type Page, type EdgeRecord, communities, get, post, sectors } from "../api";
import { type Child, failure, field, h, highlight, notice, plural, replace } from "../dom";
import { type Evidence, distanceWords, namedLink, pathFromApi, pathView, strengthSentence, strengthTag, whyThis } from "../explain";
import { KIND_LABELS, kindTag, nodeLink } from "../kinds";
import type { Params } from "../main";
import { navigate } from "../nav";
import { SDG_NAMES, SDG_NUMBERS, sdgBadges, sdgNumber } from "../sdg";
import { clearViewpoint, viewpoint } from "../viewpoint";

interface Hit {
  node: NodeRecord;
  score: number;
  explanation: {
    mode: string;
    scores: Record<string, number | null>;
    matched_terms: string[];
    fields: string[];
    passage: { field: string; text: string } | null;
    filters: Record<string, unknown>;
    distance_km?: number | null;
    distance_band?: string | null;
    distance?: string | null;
  };
}

interface PathAnswer {
  steps: { source: string; kind: string; target: string; forward: boolean }[];
  nodes: NodeRecord[];
}

const PAGE_SIZE = 10;
const FILTERS = ["kind", "sector", "sdg", "community", "country", "near", "lat", "lon", "radius_km"] as const;
const SEARCHABLE_KINDS = ["person", "initiative", "organization", "community", "wisdom_entry", "event", "council", "sdg_target"];
const RADII = [10, 50, 200, 1000, 5000];

/** A place as the server understood it (GET /v1/places, and "near" of a search). */
interface NearPlace {
  kind: "town" | "country";
  name: string;
  label: string;
  radius_km?: number | null;
}

const PLACE_IN_WORDS = /(^|\s)(near|in|around|close to)\s+\S/i;

/** "Near (town or country)": suggestions from the offline gazetteer as one types. */
function placeField(value: string | null): HTMLElement {
  const list = h("datalist", { id: "place-suggestions" });
  const input = h("input", { name: "near", list: "place-suggestions", autocomplete: "off", maxlength: 120, value: value ?? "", placeholder: "e.g. Sacramento" });
  let timer: number | undefined;
  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    const text = input.value.trim();
    if (text.length < 2) return;
    timer = window.setTimeout(() => {
      get<{ items: NearPlace[] }>("/v1/places", { q: text, limit: 8 }).then(
        (found) => replace(list, found.items.map((p) => h("option", { value: p.label }))),
        () => undefined,
      );
    }, 200);
  });
  return h("div", null, field("Near (town or country)", input, "a town or a country, by name"), list);
}

function nearLine(near: NearPlace): HTMLElement {
  const where = near.kind === "country" ? `in ${near.label}` : `within ${near.radius_km ?? 100} km of ${near.label}`;
  return h("p", { class: "near-line", role: "status" }, `Showing what is ${where}.`);
}

function select(name: string, options: [string, string][], value: string | null): HTMLSelectElement {
  const el = h("select", { name }, options.map(([v, label]) => h("option", { value: v }, label)));
  el.value = value ?? "";
  return el;
}

/** The goals a node is linked to (what it addresses, or what a person cares about). */
async function goalsOf(id: string): Promise<number[]> {
  const edges = await get<Page<EdgeRecord>>("/v1/edges", { node: id, kind: ["addresses", "interested_in", "part_of"], limit: 200 });
  const goals = new Set<number>();
  for (const edge of edges.items) {
    const other = edge.source === id ? edge.target : edge.source;
    const direct = sdgNumber(other);
    const target = /^sdg_target:(\d{1,2})\./.exec(other);
    const goal = direct ?? (target ? Number(target[1]) : null);
    if (goal) goals.add(goal);
  }
  return [...goals];
}

async function queryGoals(q: string): Promise<number[]> {
  const found = await post<{ sdgs: { goal: number; suggested: boolean }[] }>("/v1/tags/suggest", { text: q, top: 3 });
  return found.sdgs.filter((s) => s.suggested).map((s) => s.goal);
}

/** Where in a record words were found, in words (the API names its fields). */
const FIELD_WORDS: Record<string, string> = {
  name: "the name",
  bio: "the profile",
  description: "the description",
  interests: "the interests",
  skills: "the skills",
  offers: "the offers",
  needs: "the needs",
  issues: "the issues",
  aliases: "other names",
  title: "the title",
  indicators: "the indicators",
  summary: "the summary",
  body: "the entry",
};

function listed(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

const CLOSEST = 5;

/** The sentence a hit leads with: what it has in common with the search, in words. */
function hitSentence(hit: Hit, terms: string[], close: boolean): Child[] {
  const e = hit.explanation;
  const where = [...new Set((e.fields ?? []).map((f) => FIELD_WORDS[f]).filter(Boolean))].slice(0, 3);
  const parts: Child[][] = [];
  if (e.mode === "place") {
    // A place alone ("near Sacramento"): listed by distance, nothing else to say.
    return [e.distance ? "Listed by its distance from the place you gave." : "Listed by distance from the place you gave; its own place is not shared."];
  }
  if (terms.length) {
    const marks: Child[] = terms.map((t, i) => [i ? (i === terms.length - 1 ? " and " : ", ") : null, h("mark", null, t)]);
    parts.push([terms.length === 1 ? "Holds the word " : "Holds the words ", marks, where.length ? ` of your search in ${listed(where)}` : " of your search"]);
  }
  if (close) parts.push([`${parts.length ? "is" : "Is"} among the ${CLOSEST} closest in meaning to your search`]);
  if (!parts.length) parts.push(["Close in meaning to your search, with none of its words"]);
  // A distance from a place named is its own line ("Where: in Sacramento"), not repeated here.
  if (!e.distance && e.distance_band) parts.push([`${distanceWords(e.distance_band).toLowerCase()} of the place you gave`]);
  return [parts.map((p, i) => [i ? (i === parts.length - 1 ? ", and " : ", ") : null, p]), "."];
}

/** How far the hit is from the place of the search, in words (none without a place). */
function howFar(hit: Hit): string | null {
  const e = hit.explanation;
  if (e.distance) return e.distance; // from a place named: "in Sacramento", "about 50 km away"
  if (e.distance_band) return `${distanceWords(e.distance_band).toLowerCase()} of the place you gave`;
  return null;
}

/** Near, on the app's one scale: within 200 km (or in the town or region named). */
function isNear(hit: Hit): boolean {
  const e = hit.explanation;
  if (typeof e.distance_band === "string") return ["within 10 km", "within 50 km", "within 200 km"].includes(e.distance_band);
  const said = e.distance ?? "";
  const km = /about ([\d,]+) km/.exec(said);
  if (km) return Number(km[1].replace(/,/g, "")) <= 200;
  return /^less than|^in the same region|^in /.test(said) && !said.includes("country");
}

function hitView(hit: Hit, origin: { id: string; name: string } | null, sharedGoals: Promise<Set<number>>, tasks: Promise<unknown>[]): HTMLElement {
  const e = hit.explanation;
  const terms = e.matched_terms ?? [];
  const denseRank = e.scores?.dense_rank;
  const close = typeof denseRank === "number" && denseRank <= CLOSEST;
  const evidence: Evidence = {
    words: terms.length > 0,
    meaning: close,
    near: isNear(hit),
  };
  const placeOnly = e.mode === "place"; // listed by distance alone: no strength to tell
  const strength = h("span", { class: "strength-slot" }, placeOnly ? null : strengthTag(evidence));
  const strengthSaid = h("span", null, strengthSentence(evidence));
  const goals = h("span", { class: "hit-goals", "aria-busy": "true" });
  const pathSlot = h("div", { class: "hit-path" });
  tasks.push(
    Promise.all([goalsOf(hit.node.id), sharedGoals]).then(
      ([mine, shared]) => {
        goals.removeAttribute("aria-busy");
        if (mine.length) {
          const common = new Set(mine.filter((g) => shared.has(g)));
          replace(goals, common.size ? "Works on goals of your search (outlined): " : "Works on these goals: ", sdgBadges(mine, common));
          if (common.size) {
            evidence.goals = true;
            if (!placeOnly) replace(strength, strengthTag(evidence));
            strengthSaid.textContent = strengthSentence(evidence);
          }
        } else replace(goals);
      },
      () => {
        goals.removeAttribute("aria-busy");
        replace(goals);
      },
    ),
  );
  if (origin && origin.id !== hit.node.id) {
    tasks.push(
      get<PathAnswer>("/v1/paths", { source: origin.id, target: hit.node.id, max_depth: 4 }).then(
        (found) => replace(pathSlot, `Linked to ${origin.name} like this: `, pathView(pathFromApi(found))),
        () => replace(pathSlot, h("span", { class: "muted" }, `Not linked to ${origin.name} within 4 steps.`)),
      ),
    );
  }
  const passage = e.passage;
  return h(
    "li",
    { class: "hit", "data-id": hit.node.id },
    h("div", { class: "rec-head" }, kindTag(hit.node.kind), " ", namedLink(hit.node), strength),
    h("p", { class: "summary reason-terms" }, hitSentence(hit, terms, close)),
    passage && passage.field !== "name" ? h("p", { class: "passage" }, "“", highlight(passage.text, terms), "”") : null,
    h(
      "ul",
      { class: "reasons" },
      e.distance ? h("li", { class: "reason-distance" }, `Where: ${e.distance}`) : null,
      h("li", null, goals),
      h("li", null, pathSlot),
    ),
    placeOnly ? null : whyThis(undefined, undefined, [
      strengthSaid,
      terms.length ? `It has ${terms.length === 1 ? "a word" : `${terms.length} words`} of your search.` : "It has none of the words of your search: it was found by meaning.",
      close ? `It is among the ${CLOSEST} results closest in meaning to your search.` : terms.length ? "Other results are closer in meaning; it is here for its words." : "",
      howFar(hit) ? `It is ${howFar(hit)}.` : "",
    ]),
  );
}

export async function render(main: HTMLElement, _params: Params, url: URL): Promise<void> {
  const given = url.searchParams;
  const q = (given.get("q") ?? "").trim();
  const offset = Math.max(0, Number(given.get("offset") ?? 0) || 0);
  main.appendChild(h("h1", null, q ? `Search: ${q}` : "Find people, initiatives and ideas"));

  const sectorSelect = select("sector", [["", "any sector"]], given.get("sector"));
  const communitySelect = select("community", [["", "any community"]], given.get("community"));
  const lat = h("input", { name: "lat", type: "number", step: "any", min: -90, max: 90, inputmode: "decimal", value: given.get("lat") ?? "" });
  const lon = h("input", { name: "lon", type: "number", step: "any", min: -180, max: 180, inputmode: "decimal", value: given.get("lon") ?? "" });
  const radius = select("radius_km", [["", "no radius"], ...RADII.map((r): [string, string] => [String(r), `within ${r} km`])], given.get("radius_km"));
  const locate = h("button", { type: "button", class: "secondary" }, "Use my location");
  const locateStatus = h("span", { class: "hint", role: "status" });
  locate.addEventListener("click", () => {
    if (!navigator.geolocation) {
      locateStatus.textContent = "This browser cannot tell your location; type it instead.";
      return;
    }
    locateStatus.textContent = "Asking the browser for your location…";
    navigator.geolocation.getCurrentPosition(
      (position) => {
        // Rounded to about a kilometre: the search needs no more.
        lat.value = position.coords.latitude.toFixed(2);
        lon.value = position.coords.longitude.toFixed(2);
        if (!radius.value) radius.value = "50";
        locateStatus.textContent = `Using ${lat.value}, ${lon.value} (rounded to about 1 km).`;
      },
      () => {
        locateStatus.textContent = "Your location is not available; type it instead.";
      },
      { timeout: 10000, maximumAge: 600000 },
    );
  });

  const box = h("input", { type: "search", name: "q", value: q, required: true, maxlength: 500, autocomplete: "off", placeholder: "e.g. youth mentoring against gang violence" });
  const form = h(
    "form",
    { role: "search", class: "search-form", "aria-label": "Search the network" },
    h("div", { class: "search-row" }, field("What do you care about?", box), h("button", { type: "submit" }, "Search")),
    h(
      "details",
      { class: "filters", open: FILTERS.some((f) => given.get(f)) || null },
      h("summary", null, "Filters"),
      h(
        "div",
        { class: "filter-grid" },
        field("Kind", select("kind", [["", "anything"], ...SEARCHABLE_KINDS.map((k): [string, string] => [k, KIND_LABELS[k][0]])], given.get("kind"))),
        field("Sector", sectorSelect),
        field("Goal (SDG)", select("sdg", [["", "any goal"], ...SDG_NUMBERS.map((n): [string, string] => [`sdg:${n}`, `${n}. ${SDG_NAMES[n]}`])], given.get("sdg"))),
        field("Community", communitySelect),
        field("Country", h("input", { name: "country", maxlength: 60, autocomplete: "country-name", value: given.get("country") ?? "" }), "its name, e.g. Mexico"),
      ),
      h(
        "fieldset",
        { class: "near" },
        h("legend", null, "Near me"),
        placeField(given.get("near")),
        h("div", { class: "filter-grid" }, field("Latitude", lat), field("Longitude", lon), field("Radius", radius)),
        h("p", null, locate, " ", locateStatus),
      ),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const next = new URLSearchParams();
    for (const [name, value] of data.entries()) {
      const text = String(value).trim();
      if (text) next.append(name, text);
    }
    if (!next.get("radius_km")) {
      next.delete("lat");
      next.delete("lon");
    }
    if (next.get("near")) {
      next.delete("lat"); // a place by name, not by numbers
      next.delete("lon");
    }
    navigate(`/?${next.toString()}`);
  });
  main.appendChild(form);

  const tasks: Promise<unknown>[] = [];
  // The option lists fill in while the rest loads.
  tasks.push(
    sectors().then((page) => {
      for (const s of page.items) sectorSelect.appendChild(h("option", { value: s.id }, s.name));
      sectorSelect.value = given.get("sector") ?? "";
    }, () => undefined),
    communities().then((page) => {
      for (const c of page.items) communitySelect.appendChild(h("option", { value: c.id }, c.name));
      communitySelect.value = given.get("community") ?? "";
    }, () => undefined),
  );

  const seen = viewpoint();
  if (seen) {
    main.appendChild(
      h("p", { class: "viewpoint" }, "Paths are shown from ", nodeLink(seen), ". ", h("button", { type: "button", class: "link-button", onclick: () => {
        clearViewpoint();
        navigate(location.pathname + location.search, { replace: true });
      } }, "Stop showing paths")),
    );
  }

  const results = h("div", { class: "results", "aria-live": "polite" });
  main.appendChild(results);
  if (!q) {
    replace(
      results,
      h("p", null, "Search in your own words: what you care about, what you offer or need, a place. Every result says why it was found."),
      h("p", null, "Try: ", ["youth mentoring", "clean water for villages", "restorative circles in schools", "food bank volunteers"].map((example, i) => [i ? " · " : null, h("a", { href: `/?q=${encodeURIComponent(example)}` }, example)])),
      h("p", null, "Or explore the ", h("a", { href: "/map" }, "Map of Co-creators"), ", the ", h("a", { href: "/sectors" }, "sector councils' view"), " or the ", h("a", { href: "/graph" }, "graph"), "."),
    );
    await Promise.allSettled(tasks);
    return;
  }

  const params: Record<string, string | number> = { q, limit: PAGE_SIZE, offset };
  for (const name of FILTERS) {
    const value = given.get(name);
    if (value) params[name] = name === "country" ? value.toUpperCase() : value;
  }
  if (!params.radius_km) {
    delete params.lat;
    delete params.lon;
  }
  if (params.radius_km && !params.lat && !params.near && !PLACE_IN_WORDS.test(q)) delete params.radius_km;
  replace(results, h("p", { class: "loading" }, "Searching…"));
  type SearchPage = Page<Hit> & { no_good_match?: boolean; near?: NearPlace | null; partial_index?: boolean };
  let page: SearchPage;
  try {
    page = await get<SearchPage>("/v1/search", params);
  } catch (error) {
    replace(results, failure(error, "Search"));
    await Promise.allSettled(tasks);
    return;
  }
  // Paths start at the chosen viewpoint, or at the community, sector or goal filtered on.
  const filterOrigin = (params.community ?? params.sector ?? params.sdg) as string | undefined;
  let origin: { id: string; name: string } | null = seen;
  if (!origin && filterOrigin) {
    const label = filterOrigin.startsWith("sdg:")
      ? `SDG ${sdgNumber(filterOrigin)}`
      : (communitySelect.selectedOptions[0]?.textContent || sectorSelect.selectedOptions[0]?.textContent || filterOrigin);
    origin = { id: filterOrigin, name: label };
  }
  const sharedGoals: Promise<Set<number>> = Promise.all([
    queryGoals(q).catch(() => [] as number[]),
    seen ? goalsOf(seen.id).catch(() => [] as number[]) : Promise.resolve([] as number[]),
  ]).then(([fromWords, fromViewpoint]) => {
    const goals = new Set([...fromWords, ...fromViewpoint]);
    const filtered = params.sdg ? sdgNumber(String(params.sdg)) : null;
    if (filtered) goals.add(filtered);
    return goals;
  });
  tasks.push(sharedGoals);

  const summary: Child[] = [];
  // While a new network is being indexed, texts are found by their words only.
  if (page.partial_index) summary.push(notice("info", "Results may be incomplete while we finish indexing."));
  if (page.near) summary.push(nearLine(page.near));
  if (page.items.length === 0 && page.no_good_match) {
    summary.push(notice("info", "No good match for these words: nothing here is about them. Check the spelling, or say it in other words."));
  } else if (page.items.length === 0) {
    summary.push(notice("info", "Nothing found with these words and filters. Try other words, or fewer filters."));
  } else {
    const filtered = typeof page.total === "number" ? ` among ${plural(page.total, "match", "matches")} of the filters` : "";
    summary.push(h("p", { class: "result-count", role: "status" }, `Results ${offset + 1}–${offset + page.items.length}${filtered}.`));
  }
  const list = h("ol", { class: "hits", start: offset + 1 }, page.items.map((hit) => hitView(hit, origin, sharedGoals, tasks)));
  const more: Child[] = [];
  const base = new URLSearchParams(url.search);
  if (offset > 0) {
    base.set("offset", String(Math.max(0, offset - PAGE_SIZE)));
    more.push(h("a", { href: `/?${base.toString()}`, class: "button secondary" }, "Previous results"));
  }
  if (page.items.length === PAGE_SIZE && offset + PAGE_SIZE <= 1000) {
    base.set("offset", String(offset + PAGE_SIZE));
    more.push(" ", h("a", { href: `/?${base.toString()}`, class: "button secondary" }, "More results"));
  }
  replace(results, summary, page.items.length ? list : null, more.length ? h("p", { class: "paging" }, more) : null);
  await Promise.allSettled(tasks);
}
