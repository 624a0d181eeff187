// Explanations shown plainly: a sentence first, the strength in words (one scale on
// every page), the reasons as sentences (goals and sectors by name, the words in
// common, offers meeting needs, the path, the distance in words), and "Why this?" with
// the parts as shares that add up to 100%. Raw scores stay in the API's answers.

import type { NodeRecord } from "./api";
import { type Child, h, highlight } from "./dom";
import { kindTag, nodeHref, nodeLink } from "./kinds";
import { sdgBadge, sdgNumber } from "./sdg";

export interface SharedSdg {
  id: string;
  number?: number;
  name?: string;
}

export interface Explanation {
  summary?: string;
  components?: Record<string, unknown>;
  shared_sectors?: { id: string; name?: string }[];
  shared_sdgs?: SharedSdg[];
  path?: PathStep[];
  phrases?: { yours?: string[]; theirs?: string[] };
  offer_need?: unknown;
  distance_band?: string | null;
  /** How far, in words, when asked near a place or near the seed ("about 50 km away"). */
  distance?: string | null;
  /** Words of the query or of a text found in this one (as written). */
  matched_terms?: string[];
  /** Set where a list was found by closeness of meaning alone ("more like this"). */
  close_in_meaning?: boolean;
  [reason: string]: unknown;
}

export type PathStep =
  | { id: string; kind: string; name: string }
  | { edge: string; direction: "out" | "in" | string };

export interface Recommendation {
  node?: NodeRecord;
  a?: NodeRecord;
  b?: NodeRecord;
  score: number;
  explanation?: Explanation;
}

export function humanize(name: string): string {
  return name.replace(/[_-]+/g, " ").replace(/\s+/g, " ").trim();
}

/**
 * A number for the few places that must show one (counts, expected counts): never more
 * than two decimals. Strength is shown with `strengthTag`, never as a raw score.
 */
export function formatScore(value: number): string {
  return Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2);
}

// --- strength: one scale, defined the same on every page ------------------------------

/**
 * The kinds of evidence a result can have. Strength counts how many of them agree, the
 * same way on every page (search, recommendations, "more like this"), so that "Good
 * match" means the same thing wherever it is read; scores of different lists are on
 * different scales and are kept by the API, not shown.
 */
export interface Evidence {
  goals?: boolean; // shared goals, sectors or communities
  network?: boolean; // linked in the network within a few steps
  offers?: boolean; // an offer meets a need
  words?: boolean; // words in common
  meaning?: boolean; // close in meaning (among the closest texts)
  near?: boolean; // within 200 km
}

export const STRENGTHS: [min: number, key: string, label: string][] = [
  [3, "strong", "Strong match"],
  [2, "good", "Good match"],
  [1, "some", "Some overlap"],
  [0, "loose", "Loosely related"],
];

export function strengthOf(evidence: Evidence): { key: string; label: string } {
  const count = Object.values(evidence).filter(Boolean).length;
  const [, key, label] = STRENGTHS.find(([min]) => count >= min) ?? STRENGTHS[STRENGTHS.length - 1];
  return { key, label };
}

/** The strength as words, with what it counted in its tooltip. */
export function strengthTag(evidence: Evidence): HTMLElement {
  const { key, label } = strengthOf(evidence);
  return h("span", { class: `strength strength-${key}`, title: strengthSentence(evidence) }, label);
}

/** Why the strength is what it is, in a sentence: "Good match: words in common and ...". */
export function strengthSentence(evidence: Evidence): string {
  const { label } = strengthOf(evidence);
  const said = EVIDENCE_WORDS.filter(([name]) => evidence[name]).map(([, words]) => words);
  if (!said.length) return `${label}: none of the reasons the app looks for is clear here.`;
  const listed = said.length === 1 ? said[0] : `${said.slice(0, -1).join(", ")} and ${said[said.length - 1]}`;
  return `${label}: ${listed}.`;
}

const EVIDENCE_WORDS: [keyof Evidence, string][] = [
  ["goals", "shared goals or sectors"],
  ["network", "linked in the network"],
  ["offers", "offers meeting needs"],
  ["words", "words in common"],
  ["meaning", "close in meaning"],
  ["near", "near each other"],
];

const NEAR_BANDS = new Set(["within 10 km", "within 50 km", "within 200 km"]);

/** A distance band as words: "within 50 km" reads "Within about 50 km". */
export function distanceWords(band: string): string {
  if (band.startsWith("over ")) return `More than ${band.slice(5)} away`;
  if (band.startsWith("within ")) return `Within about ${band.slice(7)}`;
  return band;
}

/** What a recommendation's explanation shows, as evidence. */
export function evidenceOf(explanation: Explanation | undefined): Evidence {
  if (!explanation) return {};
  const list = (value: unknown) => (Array.isArray(value) ? value.length > 0 : Boolean(value));
  return {
    goals: list(explanation.shared_sdgs) || list(explanation.shared_sectors) || list(explanation.shared_communities) || list(explanation.sdgs) || list(explanation.sectors),
    network: (explanation.path?.length ?? 0) >= 3,
    offers: list(explanation.offer_need),
    words: Boolean(explanation.phrases?.yours?.length || explanation.phrases?.theirs?.length) || list(explanation.matched_terms),
    meaning: explanation.close_in_meaning === true,
    near: typeof explanation.distance_band === "string" && NEAR_BANDS.has(explanation.distance_band),
  };
}

// --- parts of a score: plain names and shares that add up to 100% ---------------------

/** Plain names of the parts the API scores by; parts with the same name are added up. */
const PART_NAMES: Record<string, string> = {
  graph: "Linked in the network",
  graph_work: "Linked in the network",
  cowork: "Linked in the network",
  cowork_aa: "Linked in the network",
  works: "Linked in the network",
  text: "Close in words and meaning",
  text_work: "Close in words and meaning",
  content: "Close in words and meaning",
  wording: "Same wording",
  title: "The title names the same practice",
  complement: "Offers meet needs",
  goals: "Shared goals and sectors",
  topics: "Shared goals and sectors",
  sdgs: "Shared goals",
  proximity: "Near each other",
  activity: "Recently active",
  bridging: "Brings another sector",
  overlap: "Overlap",
  issues: "Issues like yours",
  place: "In your campaign or a similar community",
  link: "Linked to the campaign",
  shortfall: "Fewer than expected",
};

/** Parts that only lower a score, said in words instead of shown as a share. */
const LOWERING: Record<string, string> = {
  diversity: "Placed a little lower so that one group does not fill the list.",
};

export function partName(name: string): string {
  const known = PART_NAMES[name];
  if (known) return known;
  const words = humanize(name);
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * Whole percentages of the positive parts, grouped by plain name, that add up to exactly
 * 100 (largest remainders get the rounding), largest first. Negative parts are left out
 * here and said in words.
 */
export function shares(components: Record<string, unknown>): [string, number][] {
  const grouped = new Map<string, number>();
  for (const [name, value] of Object.entries(components)) {
    const v = numeric(value);
    if (v === null || v <= 0 || name in LOWERING) continue;
    const label = partName(name);
    grouped.set(label, (grouped.get(label) ?? 0) + v);
  }
  const total = [...grouped.values()].reduce((a, b) => a + b, 0);
  if (total <= 0) return [];
  const exact = [...grouped].map(([label, v]) => [label, (v / total) * 100] as const);
  const floors = exact.map(([label, v]) => [label, Math.floor(v), v - Math.floor(v)] as [string, number, number]);
  let left = 100 - floors.reduce((a, [, v]) => a + v, 0);
  for (const row of [...floors].sort((a, b) => b[2] - a[2] || a[0].localeCompare(b[0]))) {
    if (left <= 0) break;
    row[1] += 1;
    left -= 1;
  }
  return floors.map(([label, v]): [string, number] => [label, v]).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** A path in the graph: nodes linked by the kinds of their edges, with arrows. */
export function pathView(steps: PathStep[] | undefined | null): HTMLElement | null {
  if (!steps || !steps.length) return null;
  const items: Child[] = [];
  for (const step of steps) {
    if ("edge" in step) {
      const arrow = step.direction === "in" ? `← ${humanize(step.edge)} —` : `— ${humanize(step.edge)} →`;
      items.push(h("li", { class: "path-edge", "aria-label": `${humanize(step.edge)} (${step.direction === "in" ? "incoming" : "outgoing"})` }, arrow));
    } else {
      items.push(h("li", { class: "path-node" }, nodeLink(step)));
    }
  }
  return h("ol", { class: "path", "aria-label": "Path in the graph" }, items);
}

/** A path answered by GET /v1/paths, as path steps. */
export function pathFromApi(found: {
  steps: { source: string; kind: string; target: string; forward: boolean }[];
  nodes: NodeRecord[];
}): PathStep[] {
  const steps: PathStep[] = [];
  found.nodes.forEach((node, i) => {
    if (i > 0) {
      const step = found.steps[i - 1];
      steps.push({ edge: step.kind, direction: step.forward ? "out" : "in" });
    }
    steps.push({ id: node.id, kind: node.kind, name: node.name });
  });
  return steps;
}

function numeric(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/**
 * "Why this?", folded by default: what counted, each part by its plain name with its
 * share of the whole as a whole percentage (the shares add up to 100%), and any part
 * that lowered the result said in words. No raw score or formula is shown: the API
 * keeps the numbers.
 */
export function whyThis(components: Record<string, unknown> | undefined, _score?: number, said: Child[] = []): HTMLElement | null {
  const parts = components ? shares(components) : [];
  const lowered = components
    ? Object.entries(components)
        .filter(([name, value]) => name in LOWERING && (numeric(value) ?? 0) < 0)
        .map(([name]) => LOWERING[name])
    : [];
  const sentences = said.filter(Boolean);
  if (!parts.length && !lowered.length && !sentences.length) return null;
  return h(
    "details",
    { class: "why" },
    h("summary", null, "Why this?"),
    sentences.length ? h("ul", { class: "why-said" }, sentences.map((s) => h("li", null, s))) : null,
    parts.length
      ? h(
          "table",
          { class: "components" },
          h("caption", null, "What counted, as shares of the whole"),
          h("thead", null, h("tr", null, h("th", { scope: "col" }, "Reason"), h("th", { scope: "col" }, "Share"), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "As a bar")))),
          h(
            "tbody",
            null,
            parts.map(([label, share]) =>
              h(
                "tr",
                { "data-part": label },
                h("th", { scope: "row" }, label),
                h("td", { class: "num" }, `${share}%`),
                h("td", { "aria-hidden": "true" }, h("span", { class: "bar", style: { width: `${share}%` } })),
              ),
            ),
          ),
        )
      : null,
    lowered.map((sentence) => h("p", { class: "muted" }, sentence)),
  );
}

function offerNeed(value: unknown): Child[] {
  if (!value) return [];
  const list = Array.isArray(value) ? value : [value];
  return list
    .map((entry) => {
      if (typeof entry === "string") return entry;
      if (entry && typeof entry === "object") {
        const e = entry as Record<string, unknown>;
        const offer = e.offer ?? e.theirs ?? e.offers;
        const need = e.need ?? e.yours ?? e.needs;
        if (typeof offer === "string" && typeof need === "string") {
          const theirs = e.direction !== "yours_meets_theirs";
          return theirs ? `Their offer “${offer}” meets your need “${need}”.` : `Your offer “${offer}” meets their need “${need}”.`;
        }
      }
      return null;
    })
    .filter((s): s is string => Boolean(s))
    .slice(0, 3)
    .map((sentence) => h("li", { class: "reason-offer-need" }, sentence));
}

function quoted(words: string[]): Child[] {
  return words.map((w, i) => [i ? (i === words.length - 1 ? " and " : ", ") : null, h("mark", null, w)]);
}

/** The reasons of a recommendation, each a sentence on its own line. */
export function reasons(explanation: Explanation | undefined): HTMLElement | null {
  if (!explanation) return null;
  const lines: Child[] = [];
  const sdgs = (explanation.shared_sdgs ?? [])
    .map((s) => ({ n: s.number ?? sdgNumber(s.id), name: s.name }))
    .filter((s): s is { n: number; name: string | undefined } => Boolean(s.n));
  if (sdgs.length) {
    lines.push(h("li", { class: "reason-sdgs" }, sdgs.length === 1 ? "You share a goal: " : "You share these goals: ", sdgs.map((s) => sdgBadge(s.n, { shared: true, name: s.name }))));
  }
  const sectors = explanation.shared_sectors ?? [];
  if (sectors.length) {
    lines.push(h("li", { class: "reason-sectors" }, sectors.length === 1 ? "You are both in the sector " : "You are both in the sectors ", sectors.map((s) => h("a", { class: "chip", href: nodeHref(s.id) }, sectorName(s.name ?? "")))));
  }
  const communities = (explanation.shared_communities ?? []) as { id: string; name?: string }[];
  if (communities.length) {
    lines.push(h("li", { class: "reason-communities" }, "You are both part of ", communities.filter((c) => c.name).map((c) => h("a", { class: "chip", href: nodeHref(c.id) }, c.name ?? ""))));
  }
  const phrases = explanation.phrases;
  const yours = phrases?.yours ?? [];
  const theirs = phrases?.theirs ?? [];
  if (yours.length && theirs.length) {
    lines.push(h("li", { class: "reason-phrases" }, "Your ", quoted(yours), " and their ", quoted(theirs), " share words."));
  } else if (yours.length || theirs.length) {
    lines.push(h("li", { class: "reason-phrases" }, yours.length ? "Your " : "Their ", quoted(yours.length ? yours : theirs), " share words with the other side."));
  }
  lines.push(...offerNeed(explanation.offer_need));
  if (explanation.distance_band && !explanation.distance) {
    lines.push(h("li", { class: "reason-distance" }, `${distanceWords(explanation.distance_band)}.`));
  }
  const path = pathView(explanation.path);
  if (path) {
    const middle = (explanation.path ?? []).filter((s, i, all): s is { id: string; kind: string; name: string } => "name" in s && i > 0 && i < all.length - 1).map((s) => s.name);
    const lead = middle.length ? `Linked through ${middle.join(" and ")}: ` : "Already linked: ";
    lines.push(h("li", { class: "reason-path" }, lead, path));
  }
  const shown = lines.filter(Boolean);
  return shown.length ? h("ul", { class: "reasons" }, shown) : null;
}

/** A sector's name as its record spells it (capitalised, even when given in lower case). */
export function sectorName(name: string): string {
  return name ? name.charAt(0).toUpperCase() + name.slice(1) : name;
}

/**
 * What tells a person apart from others of the same name: their place, and else the
 * first thing they offer or do. Other kinds get their place only.
 */
export function whoLine(node: NodeRecord): string | null {
  const place = node.place as { name?: string; country?: string } | undefined;
  const where = place?.name ?? null;
  if (node.kind !== "person") return where;
  const first = (field: string) => (Array.isArray(node[field]) && typeof (node[field] as unknown[])[0] === "string" ? ((node[field] as string[])[0]) : null);
  const what = first("skills") ?? first("offers") ?? first("interests");
  return [where, what].filter(Boolean).join(" · ") || null;
}

/** A node's name, linked, with what tells it apart from a namesake. */
export function namedLink(node: NodeRecord): Child[] {
  const who = whoLine(node);
  return [h("span", { class: "named" }, h("strong", null, nodeLink(node)), who ? h("span", { class: "who muted" }, `, ${who}`) : null)];
}

/**
 * The API's sentence without its last part when that is the distance band ("...; within
 * 50 km."), for an item that has its own line saying how far it is ("About 20 km away."):
 * the distance is said once. A sentence that was only the band gives null.
 */
export function summaryWithoutBand(summary: string, band: string | null | undefined): string | null {
  if (!band) return summary;
  const said = (band.startsWith("over") ? `${band} away` : band).toLowerCase();
  const text = summary.trim();
  for (const before of ["; ", ": "]) {
    const tail = `${before}${said}.`;
    if (text.toLowerCase().endsWith(tail)) return before === ": " ? null : `${text.slice(0, -tail.length)}.`;
  }
  return summary;
}

/** One recommended node with its reasons; `pair` items show both sides. */
export function recommendation(item: Recommendation): HTMLElement {
  const explanation = item.explanation;
  const distance = typeof explanation?.distance === "string" && explanation.distance ? explanation.distance : null;
  const summary = explanation?.summary && distance ? summaryWithoutBand(explanation.summary, explanation.distance_band) : explanation?.summary;
  const head: Child[] = [];
  if (item.node) {
    head.push(kindTag(item.node.kind), " ", namedLink(item.node));
  } else if (item.a && item.b) {
    head.push(namedLink(item.a), " and ", namedLink(item.b));
  }
  return h(
    "li",
    { class: "rec", "data-id": item.node?.id ?? `${item.a?.id}|${item.b?.id}` },
    h("div", { class: "rec-head" }, head, strengthTag(evidenceOf(explanation))),
    // Asked near a place: how far each is, on the item itself, not only under "Why this?"
    // (and not again at the end of the sentence).
    distance ? h("p", { class: "rec-distance" }, distance.charAt(0).toUpperCase() + distance.slice(1), ".") : null,
    summary ? h("p", { class: "summary" }, summary) : null,
    reasons(explanation),
    whyThis(explanation?.components, item.score, [strengthSentence(evidenceOf(explanation))]),
  );
}

export function recommendations(items: Recommendation[], empty: string): HTMLElement {
  if (!items.length) return h("p", { class: "notice notice-info" }, empty);
  return h("ol", { class: "recs" }, items.map(recommendation));
}

/** Text where the matched words are highlighted. */
export function marked(text: string, terms: string[]): HTMLElement {
  return h("span", null, highlight(text, terms));
}
