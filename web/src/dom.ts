// A tiny way to build DOM nodes, and the pieces every page shares: a section that
// loads its own data, notices for "loading", "not available" and errors.

import { ApiError, NotAvailable, TimedOut } from "./api";

export type Child = Node | string | number | null | undefined | false | Child[];
type Handler = (event: Event) => void;
export type Attrs = Record<
  string,
  string | number | boolean | null | undefined | Handler | Partial<CSSStyleDeclaration>
>;

/** An element with attributes, `on<event>` handlers, a `style` object, and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "style" && typeof value === "object") {
      // Through the CSSOM, which the Content-Security-Policy allows (style attributes it does not).
      Object.assign(el.style, value);
    } else if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value as Handler);
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function replace(el: Element, ...children: Child[]): void {
  clear(el);
  append(el, children);
}

let ids = 0;
/** A document-unique id for label/aria wiring. */
export function uid(prefix: string): string {
  ids += 1;
  return `${prefix}-${ids}`;
}

export function notice(kind: "info" | "error" | "unavailable", ...children: Child[]): HTMLElement {
  return h("p", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : null }, ...children);
}

/** The notice for a failed request: an endpoint missing on this server, or an error. */
export function failure(error: unknown, what: string): HTMLElement {
  if (error instanceof NotAvailable) {
    return notice("unavailable", `${what} is not available on this server yet (${error.path}).`);
  }
  if (error instanceof TimedOut) {
    return notice("error", `${what}: the server did not answer in time (${error.path}). Try again later.`);
  }
  if (error instanceof ApiError) {
    if (error.status === 422) return notice("info", `${what}: ${error.detail}.`);
    if (error.status === 404) return notice("info", `${what}: not found, or not visible to you.`);
    return notice("error", `${what} failed: ${error.detail} (${error.status}).`);
  }
  return notice("error", `${what} failed: ${String(error)}`);
}

/**
 * A page section with a heading that loads its own content: shows "Loading…", then what
 * `load` returns, or a notice when it fails. The promise settles when the section has.
 */
export function section(
  parent: HTMLElement,
  title: string,
  load: () => Promise<Child>,
  options: { level?: 2 | 3; id?: string; intro?: Child } = {},
): Promise<void> {
  const headingId = options.id ?? uid("section");
  const body = h("div", { class: "section-body", "aria-busy": "true" }, h("p", { class: "loading" }, "Loading…"));
  const heading = h(options.level === 3 ? "h3" : "h2", { id: headingId }, title);
  parent.appendChild(h("section", { class: "card", "aria-labelledby": headingId }, heading, options.intro, body));
  return load().then(
    (content) => {
      replace(body, content);
      body.removeAttribute("aria-busy");
    },
    (error: unknown) => {
      replace(body, failure(error, title));
      body.removeAttribute("aria-busy");
    },
  );
}

export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || uid("field");
  control.id = id;
  const hintEl = hint ? h("span", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hintEl);
}

export function announce(message: string): void {
  const el = document.getElementById("announcer");
  if (el) el.textContent = message;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en")} ${n === 1 ? one : many}`;
}

/** A count as people read it: exact, or "about 98,000" when the service says it is an
 * estimate (while the network changes, listings of more than 1,000 reuse a count made up
 * to a minute ago). */
export function countText(n: number, estimate?: boolean): string {
  if (!estimate) return n.toLocaleString("en");
  const step = 10 ** Math.max(0, Math.floor(Math.log10(Math.max(n, 1))) - 1);
  return `about ${(Math.round(n / step) * step).toLocaleString("en")}`;
}

/** Escape a string for use in a regular expression. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Text with every occurrence of the terms (at word starts, any case) wrapped in <mark>. */
export function highlight(text: string, terms: string[]): Child[] {
  const words = terms.map((t) => t.trim()).filter((t) => t.length > 1);
  if (!words.length) return [text];
  const pattern = new RegExp(`\\b(${words.map(escapeRegExp).join("|")})\\w*`, "gi");
  const out: Child[] = [];
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    const at = match.index ?? 0;
    if (at > last) out.push(text.slice(last, at));
    out.push(h("mark", null, match[0]));
    last = at + match[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}
