// An initiative: what it is, the people who could help it (with reasons, and how far
// away when asked near it or near a place), related initiatives and the Wisdom Book
// entries that speak to it. On phones those parts fold under their headings.

import { type NodeRecord, type Page, get, links, node } from "../api";
import { failure, field, h, notice, replace } from "../dom";
import { type Recommendation, recommendations } from "../explain";
import type { Params } from "../main";
import { joinAction } from "../social";
import { facts, kindLine, linkList, onPhone, openHashed, openOnLink, part, partsList, whereControls } from "../widgets";

const INITIATIVE_FACTS: [string, string][] = [
  ["needs", "Needs"],
  ["offers", "Offers"],
  ["stage", "Stage"],
  ["types", "Types"],
  ["licenses", "Licences"],
  ["started", "Started"],
];

const HELP_MODES: [string, string][] = [
  ["similar", "people close to it and its people"],
  ["complementary", "offers that meet its needs"],
  ["bridging", "bridges from other sectors"],
];

type SimilarHit = { node: NodeRecord; score: number; explanation: { matched_terms?: string[]; passage?: { text: string } | null } };

/** "More like this" hits as recommendations with a plain reason. */
export function asRelated(page: Page<SimilarHit>, reason: string): Recommendation[] {
  return page.items.map((hit) => ({ node: hit.node, score: hit.score, explanation: { summary: reason, close_in_meaning: true } }));
}

export async function renderNodeBody(main: HTMLElement, item: NodeRecord, factFields: [string, string][]): Promise<void> {
  main.appendChild(h("h1", null, item.name));
  main.appendChild(kindLine(item));
  const about = h("section", { class: "card", "aria-label": "About" });
  const text = item.description ?? item.summary ?? item.title;
  if (typeof text === "string") about.appendChild(h("p", { class: "bio" }, text));
  // A fact that only repeats the text above (a goal's title) is not said twice.
  const shown = facts(item, factFields.filter(([name]) => item[name] !== text));
  if (shown) about.appendChild(shown);
  if (typeof item.website === "string" && /^https?:\/\//.test(item.website)) {
    about.appendChild(h("p", null, h("a", { href: item.website, rel: "noopener noreferrer external" }, "Website"), h("span", { class: "muted" }, " (opens another site)")));
  }
  about.appendChild(h("p", { class: "actions" }, h("a", { href: `/graph/${item.id}`, class: "button secondary" }, "Explore the network around it")));
  main.appendChild(about);
}

export async function render(main: HTMLElement, params: Params): Promise<void> {
  const id = `initiative:${params.slug}`;
  let item: NodeRecord;
  try {
    item = await node(id);
  } catch (error) {
    main.appendChild(h("h1", null, "Initiative"));
    main.appendChild(failure(error, "This initiative"));
    return;
  }
  if (item.kind !== "initiative") {
    main.appendChild(h("h1", null, item.name));
    main.appendChild(notice("info", "This is not an initiative."));
    return;
  }
  await renderNodeBody(main, item, INITIATIVE_FACTS);
  main.appendChild(await joinAction(item));
  const encoded = encodeURIComponent(id);
  if (onPhone()) {
    // The list of parts under the name, on the first screen.
    const toc = partsList([["help-h", "People who could help"], ["related-h", "Related initiatives"], ["wisdom-h", "Wisdom Book"], ["links-h", "Links"]]);
    const kind = main.querySelector(".kind-line");
    if (kind) kind.after(toc);
    else main.appendChild(toc);
    openOnLink(main);
  }
  await Promise.allSettled([
    part(main, "People who could help", "help-h", async () => {
      const mode = h("select", { name: "mode" }, HELP_MODES.map(([value, label]) => h("option", { value }, label)));
      const body = h("div", { "aria-live": "polite" });
      const load = async () => {
        try {
          const page = await where.ask<{ items: Recommendation[] }>(`/v1/initiatives/${encoded}/people`, { mode: mode.value, limit: 10 });
          if (page) replace(body, recommendations(page.items, "Nobody to suggest yet."));
        } catch (error) {
          replace(body, failure(error, "People who could help"));
        }
      };
      const where = whereControls("near it", () => void load());
      mode.addEventListener("change", () => void load());
      await load();
      return [h("p", { class: "muted" }, `Reasons are written from the initiative's side: “you” is ${item.name}.`), h("div", { class: "filter-grid compact" }, field("Who", mode)), where.element, body];
    }),
    part(main, "Related initiatives", "related-h", async () => {
      const page = await get<Page<SimilarHit>>(`/v1/nodes/${encoded}/similar`, { kind: "initiative", limit: 6 });
      return recommendations(asRelated(page, "Described in words close to this initiative's."), "No related initiatives.");
    }),
    part(main, "Related Wisdom Book entries", "wisdom-h", async () => {
      const page = await get<Page<SimilarHit>>(`/v1/nodes/${encoded}/similar`, { kind: "wisdom_entry", limit: 5 });
      return recommendations(asRelated(page, "This entry tells of work close to this initiative's."), "No related entries.");
    }),
    part(main, "Links", "links-h", async () => linkList(await links(id))),
  ]);
  if (onPhone()) openHashed();
}
