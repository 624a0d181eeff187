// Every compassionate community the visitor may see: name, place, the issues it works on
// and a line of its description, each linked to its page. Paged by the server's cursor,
// so the list is whole however many there are ("Show more" loads the next page).

import { type NodeRecord, type Page, get } from "../api";
import { countText, failure, h, plural, replace } from "../dom";
import { nodeHref, placeText } from "../kinds";

const PAGE_SIZE = 50;
const SNIPPET = 220;

/** The first sentence or so of a description, cut at a word. */
export function snippet(text: string, length = SNIPPET): string {
  const clean = text.replace(/\s+/g, " ").trim();
  if (clean.length <= length) return clean;
  const cut = clean.slice(0, length);
  return `${cut.slice(0, Math.max(cut.lastIndexOf(" "), length / 2))}…`;
}

function card(community: NodeRecord): HTMLElement {
  const place = placeText(community);
  const issues = Array.isArray(community.issues) ? (community.issues as unknown[]).filter((i): i is string => typeof i === "string") : [];
  const description = typeof community.description === "string" ? snippet(community.description) : "";
  return h(
    "li",
    { class: "card community-card", "data-id": community.id },
    h("h2", null, h("a", { href: nodeHref(community.id), class: "node-link", "data-id": community.id }, community.name)),
    place ? h("p", { class: "community-place" }, place) : null,
    issues.length
      ? h("p", { class: "community-issues" }, h("span", { class: "reason-label" }, "Works on: "), issues.join(", "))
      : null,
    description ? h("p", null, description) : null,
  );
}

export async function render(main: HTMLElement): Promise<void> {
  main.appendChild(h("h1", null, "Compassionate communities"));
  main.appendChild(
    h("p", null, "Towns, neighbourhoods and regions where people look after each other. Open one to see who takes part, what it works on and what it can learn from the others."),
  );
  const summary = h("p", { class: "muted", "aria-live": "polite" });
  const list = h("ul", { class: "community-list", "aria-label": "Communities" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Show more communities");
  const status = h("div");
  main.append(summary, list, status, more);
  let cursor: string | null = null;
  let shown = 0;
  const load = async (): Promise<void> => {
    if (shown > 0 && cursor === null) return; // all shown already
    more.disabled = true;
    try {
      const page = await get<Page<NodeRecord>>("/v1/nodes", { kind: "community", limit: PAGE_SIZE, cursor: cursor ?? undefined });
      list.append(...page.items.map(card));
      shown += page.items.length;
      cursor = page.next_cursor ?? null;
      const total = page.total ?? shown;
      summary.textContent = total
        ? shown < total
          ? `Showing ${shown.toLocaleString("en")} of ${countText(total, page.total_is_estimate)} ${total === 1 ? "community" : "communities"}.`
          : `${plural(total, "community", "communities")}.`
        : "";
      if (!total) replace(status, h("p", { class: "muted" }, "No communities you may see yet."));
      more.hidden = cursor === null;
    } catch (error) {
      replace(status, failure(error, "Communities"));
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", () => void load());
  await load();
}
