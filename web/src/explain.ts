// Explanations shown plainly: the sentence, the shared goals and sectors, the words
// that matched, the path in the graph, and "why this?" with the score's parts.

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

export function formatScore(value: number): string {
  return Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2);
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

/** "Why this?": the parts of the score as a table with bars, folded by default. */
export function whyThis(components: Record<string, unknown> | undefined, score?: number): HTMLElement | null {
  if (!components) return null;
  const rows = Object.entries(components)
    .map(([name, value]) => [name, numeric(value)] as const)
    .filter((row): row is readonly [string, number] => row[1] !== null);
  if (!rows.length) return null;
  const top = Math.max(1e-9, ...rows.map(([, v]) => Math.abs(v)));
  return h(
    "details",
    { class: "why" },
    h("summary", null, "Why this?"),
    h(
      "table",
      { class: "components" },
      h("caption", null, score === undefined ? "Parts of the score" : `Parts of the score ${formatScore(score)}`),
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "part"), h("th", { scope: "col" }, "value"), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "bar")))),
      h(
        "tbody",
        null,
        rows.map(([name, value]) =>
          h(
            "tr",
            { "data-component": name },
            h("th", { scope: "row" }, humanize(name)),
            h("td", { class: "num" }, formatScore(value)),
            h("td", { "aria-hidden": "true" }, h("span", { class: `bar${value < 0 ? " negative" : ""}`, style: { width: `${Math.round((Math.abs(value) / top) * 100)}%` } })),
          ),
        ),
      ),
    ),
  );
}

function offerNeed(value: unknown): Child {
  if (!value) return null;
  const list = Array.isArray(value) ? value : [value];
  const sentences = list
    .map((entry) => {
      if (typeof entry === "string") return entry;
      if (entry && typeof entry === "object") {
        const e = entry as Record<string, unknown>;
        const offer = e.offer ?? e.theirs ?? e.offers;
        const need = e.need ?? e.yours ?? e.needs;
        if (typeof offer === "string" && typeof need === "string") {
          const theirs = e.direction !== "yours_meets_theirs";
          return theirs ? `their offer “${offer}” meets your need “${need}”` : `your offer “${offer}” meets their need “${need}”`;
        }
        return Object.entries(e)
          .filter(([, v]) => typeof v === "string" || typeof v === "number")
          .map(([k, v]) => `${humanize(k)}: ${v}`)
          .join(", ");
      }
      return null;
    })
    .filter((s): s is string => Boolean(s));
  if (!sentences.length) return null;
  return h("li", { class: "reason-offer-need" }, h("span", { class: "reason-label" }, "Offers and needs: "), sentences.join("; "));
}

/** The reasons of a recommendation, each on its own line. */
export function reasons(explanation: Explanation | undefined): HTMLElement | null {
  if (!explanation) return null;
  const lines: Child[] = [];
  const sdgs = (explanation.shared_sdgs ?? [])
    .map((s) => ({ n: s.number ?? sdgNumber(s.id), name: s.name }))
    .filter((s): s is { n: number; name: string | undefined } => Boolean(s.n));
  if (sdgs.length) {
    lines.push(h("li", { class: "reason-sdgs" }, h("span", { class: "reason-label" }, "Shared goals: "), sdgs.map((s) => sdgBadge(s.n, { shared: true, name: s.name }))));
  }
  const sectors = explanation.shared_sectors ?? [];
  if (sectors.length) {
    lines.push(h("li", { class: "reason-sectors" }, h("span", { class: "reason-label" }, "Shared sectors: "), sectors.map((s) => h("a", { class: "chip", href: nodeHref(s.id) }, s.name ?? s.id))));
  }
  const communities = (explanation.shared_communities ?? []) as { id: string; name?: string }[];
  if (communities.length) {
    lines.push(h("li", { class: "reason-communities" }, h("span", { class: "reason-label" }, "Shared communities: "), communities.map((c) => h("a", { class: "chip", href: nodeHref(c.id) }, c.name ?? c.id))));
  }
  const phrases = explanation.phrases;
  if (phrases && (phrases.yours?.length || phrases.theirs?.length)) {
    lines.push(
      h(
        "li",
        { class: "reason-phrases" },
        h("span", { class: "reason-label" }, "Matching words: "),
        phrases.yours?.length ? h("span", null, "yours ", phrases.yours.map((p) => h("mark", null, p))) : null,
        phrases.yours?.length && phrases.theirs?.length ? " · " : null,
        phrases.theirs?.length ? h("span", null, "theirs ", phrases.theirs.map((p) => h("mark", null, p))) : null,
      ),
    );
  }
  lines.push(offerNeed(explanation.offer_need));
  if (explanation.distance_band) {
    lines.push(h("li", { class: "reason-distance" }, h("span", { class: "reason-label" }, "Distance: "), explanation.distance_band));
  }
  const path = pathView(explanation.path);
  if (path) lines.push(h("li", { class: "reason-path" }, h("span", { class: "reason-label" }, "Path: "), path));
  const shown = lines.filter(Boolean);
  return shown.length ? h("ul", { class: "reasons" }, shown) : null;
}

/** One recommended node with its reasons; `pair` items show both sides. */
export function recommendation(item: Recommendation): HTMLElement {
  const explanation = item.explanation;
  const head: Child[] = [];
  if (item.node) {
    head.push(kindTag(item.node.kind), " ", h("strong", null, nodeLink(item.node)));
  } else if (item.a && item.b) {
    head.push(h("strong", null, nodeLink(item.a)), " and ", h("strong", null, nodeLink(item.b)));
  }
  return h(
    "li",
    { class: "rec", "data-id": item.node?.id ?? `${item.a?.id}|${item.b?.id}` },
    h("div", { class: "rec-head" }, head, h("span", { class: "score", title: "score" }, formatScore(item.score))),
    explanation?.summary ? h("p", { class: "summary" }, explanation.summary) : null,
    reasons(explanation),
    whyThis(explanation?.components, item.score),
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
