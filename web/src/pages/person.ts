// A person: their profile within the privacy rules, collaborators recommended per mode
// (similar, complementary, bridging) and initiatives to join, each with its reasons.

import { type NodeRecord, type Page, get, links, node } from "../api";
import { failure, field, h, notice, replace } from "../dom";
import { type Recommendation, recommendations } from "../explain";
import { PRECISION_TEXT } from "../kinds";
import type { Params } from "../main";
import { personActions } from "../social";
import { setViewpoint, viewpoint } from "../viewpoint";
import { facts, kindLine, linkList, tabs } from "../widgets";

const MODES: [string, string, string][] = [
  ["similar", "Similar", "People who care about the same things, in words like yours."],
  ["complementary", "Complementary", "People whose offers meet your needs, and whose needs you can meet."],
  ["bridging", "Bridging", "People in other sectors who share your goals: bridges across the network."],
];

const PERSON_FACTS: [string, string][] = [
  ["interests", "Interests"],
  ["skills", "Skills"],
  ["offers", "Offers"],
  ["needs", "Needs"],
  ["languages", "Languages"],
];

export async function render(main: HTMLElement, params: Params): Promise<void> {
  const id = `person:${params.slug}`;
  let person: NodeRecord;
  try {
    person = await node(id);
  } catch (error) {
    main.appendChild(h("h1", null, "Person"));
    main.appendChild(failure(error, "This profile"));
    return;
  }
  if (person.kind !== "person") {
    main.appendChild(h("h1", null, person.name));
    main.appendChild(notice("info", "This is not a person."));
    return;
  }
  main.appendChild(h("h1", null, person.name));
  main.appendChild(kindLine(person));
  const precision = typeof person.location_precision === "string" ? person.location_precision : null;
  const profile = h("section", { class: "card profile", "aria-label": "Profile" });
  if (typeof person.bio === "string") profile.appendChild(h("p", { class: "bio" }, person.bio));
  const shown = facts(person, PERSON_FACTS);
  if (shown) profile.appendChild(shown);
  if (precision && precision !== "exact") {
    profile.appendChild(h("p", { class: "muted" }, `Their place is shown ${PRECISION_TEXT[precision] ?? precision}, as they chose.`));
  }
  const contact = person.contact as Record<string, string> | undefined;
  if (contact && Object.keys(contact).length) {
    // The API sends contact details only to those the person shares them with (after an
    // accepted introduction, by default), to the owner and to admins.
    profile.appendChild(h("p", { class: "contact" }, h("strong", null, "Contact details shared with you: "), Object.values(contact).join(", ")));
  }
  const current = viewpoint();
  const pathButton = h("button", { type: "button", class: "secondary", "aria-pressed": String(current?.id === id) }, "Show search paths from this person");
  pathButton.addEventListener("click", () => {
    setViewpoint({ id, name: person.name, kind: "person" });
    pathButton.setAttribute("aria-pressed", "true");
    pathButton.textContent = "Search shows paths from this person";
  });
  profile.appendChild(h("p", { class: "actions" }, pathButton, " ", h("a", { href: `/graph/${id}`, class: "button secondary" }, "Explore the network around them")));
  main.appendChild(profile);
  const actions = await personActions(person);
  if (actions) main.appendChild(actions);

  const tasks: Promise<void>[] = [];
  const linksSection = h("section", { class: "card", "aria-labelledby": "links-h" }, h("h2", { id: "links-h" }, "Links"));
  const linksBody = h("div", { "aria-busy": "true" }, h("p", { class: "loading" }, "Loading…"));
  linksSection.appendChild(linksBody);
  tasks.push(
    links(id).then(
      (found) => replace(linksBody, linkList(found)),
    ).catch(
      (error) => replace(linksBody, failure(error, "Links")),
    ).finally(() => linksBody.removeAttribute("aria-busy")),
  );

  const collaborators = h(
    "section",
    { class: "card", "aria-labelledby": "collab-h" },
    h("h2", { id: "collab-h" }, "Recommended collaborators"),
    h("p", { class: "muted" }, `Reasons are written from ${person.name}'s side: “you” is ${person.name}.`),
  );
  const scope = h("select", { name: "scope" }, h("option", { value: "global" }, "worldwide"), h("option", { value: "local" }, "near them"));
  const radius = h("select", { name: "radius_km" }, [50, 200, 1000].map((r) => h("option", { value: r }, `within ${r} km`)));
  radius.value = "200";
  radius.disabled = true;
  const controls = h("div", { class: "filter-grid compact" }, field("Where", scope), field("Radius", radius, "for people near them, by coarsened places"));
  collaborators.appendChild(controls);
  const panels = new Map<string, HTMLElement>();
  const load = (mode: string, panel: HTMLElement): Promise<void> => {
    panels.set(mode, panel);
    const intro = MODES.find(([m]) => m === mode)?.[2] ?? "";
    replace(panel, h("p", { class: "muted" }, intro), h("p", { class: "loading" }, "Loading…"));
    const local = scope.value === "local";
    return get<{ items: Recommendation[] }>(`/v1/people/${encodeURIComponent(id)}/collaborators`, {
      mode,
      scope: scope.value,
      radius_km: local ? radius.value : undefined,
      limit: 10,
    }).then(
      (page) => replace(panel, h("p", { class: "muted" }, intro), recommendations(page.items, "No recommendations in this mode yet.")),
    ).catch(
      (error) => replace(panel, h("p", { class: "muted" }, intro), failure(error, "Recommended collaborators")),
    );
  };
  const tabbed = tabs("Modes of recommendation", MODES.map(([mode, label]) => ({ id: mode, label, render: (panel) => load(mode, panel) })));
  collaborators.appendChild(tabbed.element);
  scope.addEventListener("change", () => {
    radius.disabled = scope.value !== "local";
    for (const [mode, panel] of panels) void load(mode, panel);
  });
  radius.addEventListener("change", () => {
    for (const [mode, panel] of panels) void load(mode, panel);
  });
  tasks.push(tabbed.ready);

  const initiatives = h("section", { class: "card", "aria-labelledby": "init-h" }, h("h2", { id: "init-h" }, "Initiatives they could join"));
  const initiativesBody = h("div", null, h("p", { class: "loading" }, "Loading…"));
  initiatives.appendChild(initiativesBody);
  tasks.push(
    get<{ items: Recommendation[] }>(`/v1/people/${encodeURIComponent(id)}/initiatives`, { limit: 10 }).then(
      (page) => replace(initiativesBody, recommendations(page.items, "No initiatives to recommend yet.")),
    ).catch(
      (error) => replace(initiativesBody, failure(error, "Initiatives to join")),
    ),
  );

  const similar = h("section", { class: "card", "aria-labelledby": "similar-h" }, h("h2", { id: "similar-h" }, "More like them, by their words"));
  const similarBody = h("div", null, h("p", { class: "loading" }, "Loading…"));
  similar.appendChild(similarBody);
  tasks.push(
    get<Page<Recommendation & { explanation: { matched_terms?: string[] } }>>(`/v1/nodes/${encodeURIComponent(id)}/similar`, { kind: "person", limit: 5 }).then(
      (page) => replace(similarBody, recommendations(page.items.map((item) => ({ node: item.node, score: item.score, explanation: { summary: `${item.node?.name ? `${item.node.name}’s` : "Their"} profile reads much like this one.`, close_in_meaning: true } })), "Nobody reads alike yet.")),
    ).catch(
      (error) => replace(similarBody, failure(error, "More like them")),
    ),
  );

  main.append(collaborators, initiatives, linksSection, similar);
  await Promise.allSettled(tasks);
}
