// Shared widgets: accessible tabs, lists of a node's links, a node's facts, and the
// folding parts of long pages (sector, person, initiative) on phones.

import { ApiError, type EdgeRecord, type NodeRecord, get } from "./api";
import { type Child, failure, field, h, replace, section, uid } from "./dom";
import { clearErrors, formField, formMessage, showErrors } from "./forms";
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

const PHONE = "(max-width: 699px)";

/** A narrow screen, where long pages fold their parts (the same width as the styles'). */
export function onPhone(): boolean {
  return typeof window.matchMedia === "function" && window.matchMedia(PHONE).matches;
}

/**
 * One part of a long page, folding away behind its heading (a <details> inside the card).
 * Open parts load at once; a folded one loads when first opened, so a phone fetches only
 * what its reader asks for. The page is ready without the folded parts.
 */
export function fold(parent: HTMLElement, title: string, id: string, load: () => Promise<Child>, options: { open: boolean; intro?: Child }): Promise<void> {
  const body = h("div", { class: "section-body", "aria-busy": "true" }, h("p", { class: "loading" }, "Loading…"));
  const details = h("details", { class: "fold" }, h("summary", null, h("h2", { id }, title)), options.intro, body);
  details.open = options.open;
  parent.appendChild(h("section", { class: "card", "aria-labelledby": id }, details));
  let started: Promise<void> | null = null;
  const start = (): Promise<void> =>
    (started ??= load().then(
      (content) => {
        replace(body, content);
        body.removeAttribute("aria-busy");
      },
      (error: unknown) => {
        replace(body, failure(error, title));
        body.removeAttribute("aria-busy");
      },
    ));
  details.addEventListener("toggle", () => {
    if (details.open) void start();
  });
  return details.open ? start() : Promise.resolve();
}

/**
 * A part of a long page that folds on phones (open if `open`) and is a plain card, as it
 * always was, on wider screens, where the page is short enough to read whole.
 */
export function part(parent: HTMLElement, title: string, id: string, load: () => Promise<Child>, options: { open?: boolean; intro?: Child } = {}): Promise<void> {
  return onPhone() ? fold(parent, title, id, load, { open: options.open ?? false, intro: options.intro }) : section(parent, title, load, { id, intro: options.intro });
}

/** "On this page": links to the parts of a long page, by their headings' ids. */
export function partsList(parts: [string, string][]): HTMLElement {
  return h("nav", { class: "toc", "aria-label": "On this page" }, h("ul", { class: "inline-list" }, parts.map(([anchor, label]) => h("li", null, h("a", { href: `#${anchor}` }, label)))));
}

/** Links to folded parts open them before the browser scrolls there. */
export function openOnLink(root: HTMLElement): void {
  root.addEventListener("click", (event) => {
    const link = (event.target as HTMLElement).closest("a[href^='#']");
    if (!link) return;
    const target = document.getElementById((link.getAttribute("href") ?? "#").slice(1));
    const details = target?.closest("details");
    if (details && !details.open) details.open = true;
  });
}

/** A page opened at one of its parts (/person/x#links) shows that part open. */
export function openHashed(): void {
  if (location.hash) document.getElementById(location.hash.slice(1))?.closest("details")?.setAttribute("open", "");
}

export interface Where {
  /** The form: where to look, how far, and the place box. */
  element: HTMLFormElement;
  /**
   * GET `path` with `params` and the place chosen. A whole country takes no radius: when
   * the server says so, it is asked again without one. A place it does not know is told
   * beside the place box, and the promise fails. An answer to a choice changed since
   * comes as null (to be dropped), so that a slow old answer never shows over a new one.
   */
  ask<T>(path: string, params: Record<string, string | number | undefined>): Promise<T | null>;
}

/**
 * Where to look for recommendations: anywhere, near the person or initiative itself, or
 * near a town or country typed in the box (suggested from GET /v1/places as one types,
 * sent as near=). `onChange` runs when the choice changes or the form is sent.
 */
export function whereControls(nearSelf: string, onChange: () => void): Where {
  const scope = h("select", { name: "scope" }, h("option", { value: "global" }, "worldwide"), h("option", { value: "local" }, nearSelf), h("option", { value: "place" }, "near a town or country"));
  const radius = h("select", { name: "radius_km" }, [50, 200, 1000].map((r) => h("option", { value: r }, `within ${r} km`)));
  radius.value = "200";
  radius.disabled = true;
  const list = h("datalist", { id: uid("places") });
  const input = h("input", { name: "near", list: list.id, autocomplete: "off", maxlength: 120, placeholder: "e.g. Sacramento" });
  let timer: number | undefined;
  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    const text = input.value.trim();
    if (text.length < 2) return;
    timer = window.setTimeout(() => {
      get<{ items: { label: string }[] }>("/v1/places", { q: text, limit: 8 }).then(
        (found) => replace(list, found.items.map((p) => h("option", { value: p.label }))),
        () => undefined,
      );
    }, 200);
  });
  const nearField = formField("Near (town or country)", input, "a town, or a whole country");
  nearField.dataset.field = "query.near"; // the server names the parameter it could not read
  const send = h("button", { type: "submit", class: "secondary" }, "Show");
  const placeRow = h("div", { class: "near-place" }, nearField, list, send);
  placeRow.hidden = true;
  const form = h("form", { class: "where", "aria-label": "Where to look" }, h("div", { class: "filter-grid compact" }, field("Where", scope), field("Radius", radius, "as precisely as each place is shared")), placeRow, formMessage());
  let asked = 0; // the choices made so far: answers to older ones are dropped
  const changed = () => {
    asked += 1;
    onChange();
  };
  scope.addEventListener("change", () => {
    radius.disabled = scope.value === "global";
    placeRow.hidden = scope.value !== "place";
    clearErrors(form);
    if (scope.value === "place") {
      input.focus();
      if (!input.value.trim()) return; // asked when a place is written
    }
    changed();
  });
  radius.addEventListener("change", changed);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    changed();
  });
  const ask = async <T>(path: string, params: Record<string, string | number | undefined>): Promise<T | null> => {
    const mine = asked;
    const near = scope.value === "place" ? input.value.trim() : "";
    const where = scope.value === "global" ? { scope: "global" } : near ? { near, radius_km: radius.value } : { scope: "local", radius_km: radius.value };
    clearErrors(form);
    try {
      const found = await get<T>(path, { ...params, ...where });
      return mine === asked ? found : null;
    } catch (error) {
      if (mine !== asked) return null;
      const wholeCountry = error instanceof ApiError && error.errors.some((e) => e.field === "query.radius_km");
      if (near && wholeCountry) {
        const found = await get<T>(path, { ...params, near });
        return mine === asked ? found : null;
      }
      if (error instanceof ApiError && error.errors.some((e) => e.field === "query.near")) showErrors(form, error, "The place");
      throw error;
    }
  };
  return { element: form, ask };
}
