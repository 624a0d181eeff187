// Shared widgets: accessible tabs, lists of a node's links, a node's facts.

import type { EdgeRecord, NodeRecord } from "./api";
import { type Child, h, uid } from "./dom";
import { kindLabel, nodeLink, placeText } from "./kinds";
import { languageName } from "./languages";
import { sdgBadges, sdgNumber } from "./sdg";

export interface Tab {
  id: string;
  label: string;
  render: (panel: HTMLElement) => Promise<void>;
}

/**
 * Tabs after the WAI-ARIA pattern: arrow keys move between tabs, a panel loads when its
 * tab is first shown. Returns the element and the promise of the first panel.
 */
export function tabs(label: string, list: Tab[], initial = 0): { element: HTMLElement; ready: Promise<void> } {
  const base = uid("tabs");
  const loaded = new Map<string, Promise<void>>();
  const buttons: HTMLButtonElement[] = [];
  const panels: HTMLElement[] = [];
  const show = (index: number, focus: boolean): Promise<void> => {
    buttons.forEach((button, i) => {
      const selected = i === index;
      button.setAttribute("aria-selected", String(selected));
      button.tabIndex = selected ? 0 : -1;
      panels[i].hidden = !selected;
    });
    if (focus) buttons[index].focus();
    const tab = list[index];
    let found = loaded.get(tab.id);
    if (!found) {
      found = tab.render(panels[index]);
      loaded.set(tab.id, found);
    }
    return found;
  };
  const tablist = h("div", { role: "tablist", "aria-label": label, class: "tablist" });
  list.forEach((tab, i) => {
    const button = h("button", { type: "button", role: "tab", id: `${base}-${tab.id}-tab`, "aria-controls": `${base}-${tab.id}`, "data-tab": tab.id }, tab.label);
    button.addEventListener("click", () => void show(i, false));
    button.addEventListener("keydown", (event) => {
      const keys: Record<string, number> = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: list.length - 1 };
      if (event.key in keys) {
        event.preventDefault();
        void show((keys[event.key] + list.length) % list.length, true);
      }
    });
    buttons.push(button);
    tablist.appendChild(button);
    panels.push(h("div", { role: "tabpanel", id: `${base}-${tab.id}`, "aria-labelledby": button.id, tabindex: 0, class: "tabpanel" }));
  });
  const element = h("div", { class: "tabs" }, tablist, panels);
  return { element, ready: show(initial, false) };
}

const LINK_GROUPS: [string, (edge: EdgeRecord, other: NodeRecord) => boolean][] = [
  ["Sectors", (_e, o) => o.kind === "sector"],
  ["Works on", (e, o) => e.kind === "works_on" && o.kind === "initiative"],
  ["People", (_e, o) => o.kind === "person"],
  ["Organisations", (_e, o) => o.kind === "organization"],
  ["Communities", (_e, o) => o.kind === "community"],
  ["Councils", (_e, o) => o.kind === "council"],
  ["Initiatives", (_e, o) => o.kind === "initiative"],
  ["Wisdom Book", (_e, o) => o.kind === "wisdom_entry"],
  ["Events", (_e, o) => o.kind === "event"],
];

/** A node's links grouped by what they lead to; goals as their badges. */
export function linkList(found: { edge: EdgeRecord; other: NodeRecord }[]): HTMLElement {
  const goals = new Set<number>();
  for (const { other } of found) {
    const goal = sdgNumber(other.id) ?? (/^sdg_target:(\d{1,2})\./.exec(other.id) ? Number(/^sdg_target:(\d{1,2})\./.exec(other.id)![1]) : null);
    if (goal) goals.add(goal);
  }
  const rows: Child[] = [];
  if (goals.size) rows.push(h("dt", null, "Goals"), h("dd", null, sdgBadges([...goals])));
  const used = new Set<string>();
  for (const [title, matches] of LINK_GROUPS) {
    // Each node once, however many links lead to it, so that the count is of nodes.
    const members = found.filter(({ edge, other }) => {
      if (used.has(other.id) || !matches(edge, other)) return false;
      used.add(other.id);
      return true;
    });
    if (!members.length) continue;
    rows.push(
      h("dt", null, `${title} (${members.length})`),
      h("dd", null, h("ul", { class: "inline-list" }, members.slice(0, 40).map(({ edge, other }) => h("li", { title: edge.kind.replace(/_/g, " ") }, nodeLink(other)))), members.length > 40 ? h("span", { class: "muted" }, ` and ${members.length - 40} more`) : null),
    );
  }
  if (!rows.length) return h("p", { class: "muted" }, "No links you may see.");
  return h("dl", { class: "links" }, rows);
}

/** The facts of a record (lists and short texts), skipping what a page shows elsewhere. */
export function facts(node: NodeRecord, fields: [string, string][]): HTMLElement | null {
  const rows: Child[] = [];
  for (const [name, label] of fields) {
    const value = node[name];
    if (Array.isArray(value) && value.length) {
      // Languages are stored as codes ("en"): a person reads their names.
      const shown = name === "languages" ? value.map((v) => languageName(String(v))) : value.map(String);
      rows.push(h("dt", null, label), h("dd", null, h("ul", { class: "inline-list" }, shown.map((v) => h("li", null, v)))));
    } else if (typeof value === "string" && value) {
      rows.push(h("dt", null, label), h("dd", null, value));
    } else if (typeof value === "number") {
      rows.push(h("dt", null, label), h("dd", null, String(value)));
    }
  }
  const place = placeText(node);
  if (place) rows.push(h("dt", null, "Place"), h("dd", null, place));
  return rows.length ? h("dl", { class: "facts" }, rows) : null;
}

export function kindLine(node: NodeRecord): HTMLElement {
  return h("p", { class: "kind-line" }, h("span", { class: `kind-tag kind-${node.kind}` }, kindLabel(node.kind)), node.fictional ? h("span", { class: "muted" }, " · fictional demo record") : null);
}
