// A person: their profile within the privacy rules, collaborators recommended per mode
// (similar, complementary, bridging) and initiatives to join, each with its reasons and,
// when asked near them or near a place, how far away in words. On phones the parts fold
// away under their headings, so the first screen is their name, a line about them and
// the list of parts; wider screens show every part open, as cards.

import { type NodeRecord, type Page, get, links, node } from "../api";
import { type Child, failure, h, notice, replace } from "../dom";
import { type Recommendation, recommendations } from "../explain";
import { PRECISION_TEXT } from "../kinds";
import type { Params } from "../main";
import { personActions } from "../social";
import { setViewpoint, viewpoint } from "../viewpoint";
import { facts, kindLine, linkList, onPhone, openHashed, openOnLink, part, partsList, tabs, whereControls } from "../widgets";

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

/** One line about a person for the top of a phone's screen: the first sentence of their
 * bio, else what they care about, else nothing. */
export function oneLine(person: NodeRecord): string | null {
  const bio = typeof person.bio === "string" ? person.bio.trim() : "";
  const first = bio.split(/(?<=[.!?])\s/)[0] ?? "";
  if (first) return first.length > 140 ? `${first.slice(0, 139).replace(/\s+\S*$/, "")}…` : first;
  const interests = Array.isArray(person.interests) ? (person.interests as string[]).slice(0, 3) : [];
  if (interests.length) return `Cares about ${interests.length < 2 ? interests[0] : `${interests.slice(0, -1).join(", ")} and ${interests[interests.length - 1]}`}.`;
  return null;
}

/**
 * The bio as the profile shows it under `line` (the phone's one line about them): what
 * follows the first sentence, so that the sentence is not read twice, from "…" where the
 * line was cut short; the whole bio when the line did not come from it.
 */
export function bioAfter(bio: string, line: string | null): string {
  const text = bio.trim();
  if (!line) return text;
  if (line.endsWith("…")) {
    const shown = line.slice(0, -1);
    return text.startsWith(shown) ? `…${text.slice(shown.length).trimStart()}` : text;
  }
  return text.startsWith(line) ? text.slice(line.length).trim() : text;
}

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
  const phone = onPhone();
  main.appendChild(h("h1", null, person.name));
  main.appendChild(kindLine(person));
  const line = phone ? oneLine(person) : null;
  if (line) main.appendChild(h("p", { class: "one-line" }, line));
  const precision = typeof person.location_precision === "string" ? person.location_precision : null;
  const profile: Child[] = [];
  // On a phone the bio's first sentence is the line under the name already.
  const bio = typeof person.bio === "string" ? bioAfter(person.bio, line) : "";
  if (bio) profile.push(h("p", { class: "bio" }, bio));
  profile.push(facts(person, PERSON_FACTS));
  if (precision && precision !== "exact") {
    profile.push(h("p", { class: "muted" }, `Their place is shown ${PRECISION_TEXT[precision] ?? precision}, as they chose.`));
  }
  const contact = person.contact as Record<string, string> | undefined;
  if (contact && Object.keys(contact).length) {
    // The API sends contact details only to those the person shares them with (after an
    // accepted introduction, by default), to the owner and to admins.
    profile.push(h("p", { class: "contact" }, h("strong", null, "Contact details shared with you: "), Object.values(contact).join(", ")));
  }
  const current = viewpoint();
  const pathButton = h("button", { type: "button", class: "secondary", "aria-pressed": String(current?.id === id) }, "Show search paths from this person");
  pathButton.addEventListener("click", () => {
    setViewpoint({ id, name: person.name, kind: "person" });
    pathButton.setAttribute("aria-pressed", "true");
    pathButton.textContent = "Search shows paths from this person";
  });
  profile.push(h("p", { class: "actions" }, pathButton, " ", h("a", { href: `/graph/${id}`, class: "button secondary" }, "Explore the network around them")));
  const actions = await personActions(person);

  const tasks: Promise<void>[] = [];
  if (phone) {
    const parts: [string, string][] = [["profile-h", "Profile"]];
    if (actions) parts.push(["act-h", "Get in touch"]);
    parts.push(["collab-h", "Collaborators"], ["init-h", "Initiatives to join"], ["links-h", "Links"], ["similar-h", "More like them"]);
    main.appendChild(partsList(parts));
    openOnLink(main);
    tasks.push(part(main, "Profile", "profile-h", async () => profile, { open: true }));
    if (actions) {
      // The card's own heading becomes the fold's.
      actions.querySelector("h2")?.remove();
      tasks.push(part(main, "Get in touch", "act-h", async () => [...actions.childNodes]));
    }
  } else {
    main.appendChild(h("section", { class: "card profile", "aria-label": "Profile" }, profile));
    if (actions) main.appendChild(actions);
  }

  const collaborators = async (): Promise<Child> => {
    const panels = new Map<string, HTMLElement>();
    const where = whereControls("near them", () => {
      for (const [mode, panel] of panels) void load(mode, panel);
    });
    const load = (mode: string, panel: HTMLElement): Promise<void> => {
      panels.set(mode, panel);
      const intro = MODES.find(([m]) => m === mode)?.[2] ?? "";
      replace(panel, h("p", { class: "muted" }, intro), h("p", { class: "loading" }, "Loading…"));
      return where.ask<{ items: Recommendation[] }>(`/v1/people/${encodeURIComponent(id)}/collaborators`, { mode, limit: 10 }).then(
        (page) => {
          if (page) replace(panel, h("p", { class: "muted" }, intro), recommendations(page.items, "No recommendations in this mode yet."));
        },
      ).catch(
        (error) => replace(panel, h("p", { class: "muted" }, intro), failure(error, "Recommended collaborators")),
      );
    };
    const tabbed = tabs("Modes of recommendation", MODES.map(([mode, label]) => ({ id: mode, label, render: (panel) => load(mode, panel) })));
    await tabbed.ready;
    return [h("p", { class: "muted" }, `Reasons are written from ${person.name}'s side: “you” is ${person.name}.`), where.element, tabbed.element];
  };

  const initiatives = async (): Promise<Child> => {
    const body = h("div", { "aria-live": "polite" });
    const load = (): Promise<void> =>
      where.ask<{ items: Recommendation[] }>(`/v1/people/${encodeURIComponent(id)}/initiatives`, { limit: 10 }).then(
        (page) => {
          if (page) replace(body, recommendations(page.items, "No initiatives to recommend yet."));
        },
      ).catch(
        (error) => replace(body, failure(error, "Initiatives to join")),
      );
    const where = whereControls("near them", () => void load());
    await load();
    return [where.element, body];
  };

  const similar = async (): Promise<Child> => {
    const page = await get<Page<Recommendation & { explanation: { matched_terms?: string[] } }>>(`/v1/nodes/${encodeURIComponent(id)}/similar`, { kind: "person", limit: 5 });
    return recommendations(page.items.map((item) => ({ node: item.node, score: item.score, explanation: { summary: `${item.node?.name ? `${item.node.name}’s` : "Their"} profile reads much like this one.`, close_in_meaning: true } })), "Nobody reads alike yet.");
  };

  tasks.push(
    part(main, "Recommended collaborators", "collab-h", collaborators),
    part(main, "Initiatives they could join", "init-h", initiatives),
    part(main, "Links", "links-h", async () => linkList(await links(id))),
    part(main, "More like them, by their words", "similar-h", similar),
  );
  if (phone) openHashed();
  await Promise.allSettled(tasks);
}
