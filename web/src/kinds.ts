// Node kinds: how each is called, coloured (a colour-blind-safe palette) and linked.

import type { NodeRecord } from "./api";
import { countryName } from "./countries";
import { h } from "./dom";
import { SDG_COLOURS, sdgNumber } from "./sdg";

export const KIND_LABELS: Record<string, [string, string]> = {
  person: ["person", "people"],
  initiative: ["initiative", "initiatives"],
  organization: ["organisation", "organisations"],
  community: ["community", "communities"],
  council: ["council", "councils"],
  sector: ["sector", "sectors"],
  sdg: ["SDG", "SDGs"],
  sdg_target: ["SDG target", "SDG targets"],
  wisdom_entry: ["Wisdom Book entry", "Wisdom Book entries"],
  event: ["event", "events"],
};

// Okabe and Ito's palette, distinguishable with the common kinds of colour blindness.
export const KIND_COLOURS: Record<string, string> = {
  person: "#0072B2",
  initiative: "#E69F00",
  organization: "#009E73",
  community: "#CC79A7",
  council: "#D55E00",
  sector: "#56B4E9",
  sdg: "#F0E442",
  sdg_target: "#999999",
  wisdom_entry: "#8B5A2B",
  event: "#332288",
};

export function kindLabel(kind: string, count = 1): string {
  const labels = KIND_LABELS[kind];
  if (!labels) return kind;
  return count === 1 ? labels[0] : labels[1];
}

export function kindColour(kind: string, id?: string): string {
  if (kind === "sdg" && id) {
    const goal = sdgNumber(id);
    if (goal) return SDG_COLOURS[goal];
  }
  return KIND_COLOURS[kind] ?? "#555555";
}

/** The address of a node's page in the app. */
export function nodeHref(id: string): string {
  const [kind, slug] = id.split(/:(.*)/s, 2);
  if (kind === "person") return `/people/${slug}`;
  if (kind === "initiative") return `/initiatives/${slug}`;
  if (kind === "sector") return `/sectors/${slug}`;
  return `/nodes/${id}`;
}

export function nodeLink(node: Pick<NodeRecord, "id" | "name" | "kind">): HTMLElement {
  return h("a", { href: nodeHref(node.id), class: "node-link", "data-id": node.id }, node.name || node.id);
}

export function kindTag(kind: string): HTMLElement {
  return h("span", { class: `kind-tag kind-${kind}` }, kindLabel(kind));
}

/** The place line of a node as the API shows it (already coarsened for people). */
export function placeText(node: NodeRecord): string | null {
  const place = node.place as { name?: string; country?: string; region?: string } | undefined;
  if (!place) return null;
  // The country by its name, not its two-letter code.
  const parts = [place.name, place.country ? countryName(place.country) : null, place.region].filter(Boolean);
  return parts.length ? parts.join(", ") : null;
}

export const PRECISION_TEXT: Record<string, string> = {
  exact: "as given",
  city: "to the nearest town (a 0.1° cell, about 11 km)",
  region: "to the region (a 1° cell, about 110 km)",
  country: "to the country only",
};
