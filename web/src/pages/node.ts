// Any other node (organisation, community, council, goal, target, Wisdom Book entry,
// event): what it is, its links, and what reads like it.

import { type NodeRecord, type Page, get, links, node, post } from "../api";
import { countText, failure, field, h, notice, replace, section } from "../dom";
import { type Recommendation, recommendations } from "../explain";
import { kindLabel, nodeHref } from "../kinds";
import type { Params } from "../main";
import { navigate } from "../nav";
import { SDG_COLOURS, sdgBadge, sdgNumber, textOn } from "../sdg";
import { linkList } from "../widgets";
import { asRelated, renderNodeBody } from "./initiative";

const FACTS: [string, string][] = [
  ["issues", "Issues"],
  ["scope", "Scope"],
  ["proclaimed", "Proclaimed"],
  ["title", "Title"],
  ["code", "Code"],
  ["published", "Published"],
  ["starts", "Starts"],
  ["ends", "Ends"],
  ["needs", "Needs"],
];

interface Learned {
  communities: Recommendation[];
  initiatives: Recommendation[];
  connectors: Recommendation[];
  goals: { id: string; number: number; name: string }[];
}

/** For a community starting a campaign: who faced the same issues, and local connectors. */
function learnFromOthers(main: HTMLElement, community: NodeRecord): void {
  const issues = Array.isArray(community.issues) ? (community.issues as string[]).join(", ") : "";
  const box = h("textarea", { name: "issues", rows: 3, maxlength: 5000 }, issues);
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { "aria-label": "Learn from other communities" }, field("The issues you face, in your words", box), h("button", { type: "submit" }, "Find who faced them"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = box.value.trim();
    if (!text) return replace(out, notice("info", "Write the issues first."));
    replace(out, h("p", { class: "loading" }, "Looking…"));
    post<Learned>("/v1/communities/learn", { community: community.id, issues: text, limit: 5 })
      .then((found) =>
        replace(
          out,
          found.goals.length ? h("p", null, h("span", { class: "reason-label" }, "Read as: "), found.goals.map((g) => sdgBadge(g.number, { name: g.name }))) : null,
          h("h3", null, "Communities that faced these issues"),
          recommendations(found.communities, "None found."),
          h("h3", null, "Initiatives that addressed them"),
          recommendations(found.initiatives, "None found."),
          h("h3", null, "Connectors near you"),
          recommendations(found.connectors, "None found."),
        ),
      )
      .catch((error) => replace(out, failure(error, "Learning from other communities")));
  });
  main.appendChild(h("section", { class: "card", "aria-labelledby": "learn-h" }, h("h2", { id: "learn-h" }, "Learn from other communities"), form, out));
}

const COUNTED = ["person", "initiative", "organization", "community", "wisdom_entry", "event"];

/** For a goal or a sector: how many of each kind are linked to it (counts, not lists). */
export async function hubCounts(item: NodeRecord): Promise<HTMLElement> {
  const filter = item.kind === "sdg" ? "sdg" : "sector";
  const totals = await Promise.all(
    COUNTED.map((kind) => get<Page<NodeRecord>>("/v1/nodes", { kind, [filter]: item.id, limit: 1 }).then((page) => [kind, page.total ?? 0, page.total_is_estimate ?? false] as const)),
  );
  return h(
    "div",
    null,
    h("ul", { class: "counts" }, totals.filter(([, n]) => n > 0).map(([kind, n, estimate]) => h("li", null, h("strong", null, countText(n, estimate)), ` ${kindLabel(kind, n)}`))),
    h("p", null, h("a", { href: `/map?${filter}=${encodeURIComponent(item.id)}` }, "See them on the map")),
  );
}

export async function render(main: HTMLElement, params: Params): Promise<void> {
  const id = params.id;
  const pretty = nodeHref(id);
  if (pretty !== `/nodes/${id}`) {
    navigate(pretty, { replace: true });
    return;
  }
  let item: NodeRecord;
  try {
    item = await node(id);
  } catch (error) {
    main.appendChild(h("h1", null, "Not found"));
    main.appendChild(failure(error, id));
    return;
  }
  await renderNodeBody(main, item, FACTS);
  const goal = item.kind === "sdg" ? sdgNumber(item.id) : null;
  if (goal) {
    const colour = SDG_COLOURS[goal];
    main.querySelector("h1")?.prepend(h("span", { class: "sdg-tile", "aria-hidden": "true", style: { backgroundColor: colour, color: textOn(colour) } }, String(goal)), " ");
  }
  const body = typeof item.body === "string" ? item.body : null;
  if (body) main.appendChild(h("section", { class: "card", "aria-label": "Entry" }, h("h2", null, "The entry"), body.split(/\n{2,}/).map((p) => h("p", null, p))));
  if (item.kind === "community") learnFromOthers(main, item);
  const encoded = encodeURIComponent(id);
  const related = item.kind === "sdg" || item.kind === "sector" || item.kind === "sdg_target" ? null : item.kind;
  const hub = item.kind === "sdg" || item.kind === "sector";
  await Promise.allSettled([
    hub ? section(main, "Linked to it", () => hubCounts(item)) : section(main, "Links", async () => linkList(await links(id))),
    related
      ? section(main, `More ${kindLabel(related, 2)} like this`, async () => {
          const page = await get<Page<{ node: NodeRecord; score: number; explanation: { matched_terms?: string[] } }>>(`/v1/nodes/${encoded}/similar`, { kind: related, limit: 6 });
          return recommendations(asRelated(page, "Reads much like this one."), "Nothing alike yet.");
        })
      : Promise.resolve(),
  ]);
}
