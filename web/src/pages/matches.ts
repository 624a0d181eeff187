// My matches: people, initiatives and communities recommended to me, each with the
// reasons in plain sentences ("You both care about Quality education"), and buttons to
// follow, save, or say "not interested" (which the recommender then respects).

import { ApiError, currentAccount, del, get, loadSession, type NodeRecord, put } from "../api";
import { failure, h, notice, replace } from "../dom";
import { nodeHref } from "../kinds";
import { navigate } from "../nav";
import type { Params } from "../main";
import { tabs } from "../widgets";

interface Match {
  node: NodeRecord;
  reasons: string[];
}

interface MatchesPage {
  kind: string;
  mode: string;
  items: Match[];
}

interface MarkItem {
  kind: string;
  node: { id: string; kind: string; name: string };
}

type Kind = "person" | "initiative" | "community";
type Mode = "similar" | "complementary" | "bridging";

const MODES: [Mode, string][] = [
  ["similar", "Like-minded"],
  ["complementary", "Complementary: what you offer and need"],
  ["bridging", "Bridging: other sectors"],
];

const KINDS: [Kind, string, string][] = [
  ["person", "People", "people"],
  ["initiative", "Initiatives", "initiatives"],
  ["community", "Communities", "communities"],
];

const PAGE_SIZE = 10;

function blurb(node: NodeRecord): string | null {
  const text = [node.bio, node.description].find((value) => typeof value === "string" && value.trim());
  if (typeof text !== "string") return null;
  return text.length > 220 ? `${text.slice(0, 217).trimEnd()}…` : text;
}

function markPath(kind: string, id: string): string {
  return `/v1/me/marks/${kind}/${encodeURIComponent(id)}`;
}

/** A toggle button for follow or save: pressed when marked. */
function markButton(kind: "follow" | "save", node: NodeRecord, marked: Set<string>, labels: [string, string]): HTMLButtonElement {
  const key = `${kind}:${node.id}`;
  const button = h("button", { type: "button", class: "secondary", "aria-pressed": String(marked.has(key)), "data-mark": kind }, marked.has(key) ? labels[1] : labels[0]);
  button.addEventListener("click", () => {
    const on = !marked.has(key);
    button.disabled = true;
    void (on ? put(markPath(kind, node.id)) : del(markPath(kind, node.id)))
      .then(() => {
        if (on) marked.add(key);
        else marked.delete(key);
        button.setAttribute("aria-pressed", String(on));
        button.textContent = on ? labels[1] : labels[0];
      })
      .catch((error: unknown) => {
        button.after(failure(error, `${labels[0]} ${node.name}`));
      })
      .finally(() => {
        button.disabled = false;
      });
  });
  return button;
}

function card(match: Match, marked: Set<string>, list: HTMLElement): HTMLElement {
  const node = match.node;
  const text = blurb(node);
  const hide = h("button", { type: "button", class: "secondary", "data-mark": "hide" }, "Not interested");
  const item = h(
    "li",
    { class: "card match", "data-id": node.id },
    h("h3", null, h("a", { href: nodeHref(node.id) }, node.name)),
    text ? h("p", { class: "blurb" }, text) : null,
    h("ul", { class: "reasons" }, match.reasons.map((reason) => h("li", null, reason))),
    h(
      "p",
      { class: "actions" },
      markButton("follow", node, marked, ["Follow", "Following"]),
      " ",
      markButton("save", node, marked, ["Save", "Saved"]),
      " ",
      hide,
    ),
  );
  hide.addEventListener("click", () => {
    hide.disabled = true;
    void put(markPath("hide", node.id))
      .then(() => {
        const undo = h("button", { type: "button", class: "link-button" }, "Undo");
        const said = h("li", { class: "notice notice-info hidden-match", role: "status" }, `We will not suggest ${node.name} again. `, undo);
        undo.addEventListener("click", () => {
          undo.disabled = true;
          void del(markPath("hide", node.id))
            .then(() => said.replaceWith(card(match, marked, list)))
            .catch((error: unknown) => said.append(failure(error, "Undo")));
        });
        item.replaceWith(said);
      })
      .catch((error: unknown) => {
        hide.disabled = false;
        item.append(failure(error, "Not interested"));
      });
  });
  return item;
}

async function showMatches(panel: HTMLElement, kind: Kind, what: string, marked: Set<string>): Promise<void> {
  let mode: Mode = "similar";
  const results = h("div", { "aria-live": "polite" });
  const chooser = h("fieldset", { class: "mode-chooser" }, h("legend", null, "Suggest"));
  for (const [value, label] of MODES) {
    const radio = h("input", { type: "radio", name: `mode-${kind}`, value, checked: value === mode });
    radio.addEventListener("change", () => {
      mode = value;
      void load();
    });
    chooser.append(h("label", { class: "check" }, radio, label));
  }
  const load = async (): Promise<void> => {
    replace(results, h("p", { class: "loading" }, "Loading…"));
    try {
      const page = await get<MatchesPage>("/v1/me/matches", { kind, mode, limit: PAGE_SIZE });
      if (!page.items.length) {
        replace(results, notice("info", `No ${what} to suggest yet. Add more about yourself to your profile, and come back later.`));
        return;
      }
      const list = h("ul", { class: "matches" });
      for (const match of page.items) list.append(card(match, marked, list));
      replace(results, list);
    } catch (error) {
      replace(results, failure(error, `Suggested ${what}`));
    }
  };
  if (kind !== "community") panel.append(chooser);
  panel.append(results);
  await load();
}

export async function render(main: HTMLElement, _params: Params, url: URL): Promise<void> {
  main.append(h("h1", null, "My matches"));
  const account = currentAccount() ?? (await loadSession());
  if (!account) {
    const next = encodeURIComponent(url.pathname);
    main.append(notice("info", h("a", { href: `/signin?next=${next}` }, "Sign in to see your matches"), ". New here? ", h("a", { href: "/join" }, "Join"), "."));
    return;
  }
  let marks: MarkItem[];
  try {
    marks = (await get<{ items: MarkItem[] }>("/v1/me/marks")).items;
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) {
      main.append(notice("info", "We suggest people and initiatives from what you write about yourself. ", h("a", { href: "/me" }, "Write your profile first"), "."));
      return;
    }
    if (error instanceof ApiError && error.status === 401) {
      navigate(`/signin?next=${encodeURIComponent(url.pathname)}`, { replace: true });
      return;
    }
    main.append(failure(error, "Your matches"));
    return;
  }
  const marked = new Set(marks.map((mark) => `${mark.kind}:${mark.node.id}`));
  main.append(h("p", { class: "lead" }, "People, initiatives and communities you might like to meet, and why. Follow or save the ones you like; say “Not interested” and we will not suggest them again."));
  const { element, ready } = tabs(
    "What to suggest",
    KINDS.map(([kind, label, what]) => ({ id: kind, label, render: (panel: HTMLElement) => showMatches(panel, kind, what, marked) })),
  );
  main.append(element, keptList(marks), h("p", null, h("a", { href: "/digest" }, "Your weekly digest"), " tells you of new people and initiatives near you."));
  await ready;
}

const KEPT: [string, string][] = [
  ["save", "Saved"],
  ["follow", "Followed"],
  ["hide", "Not interested"],
];

/** What I saved, follow, or said I am not interested in, each with a way to undo it. */
function keptList(marks: MarkItem[]): HTMLElement {
  const box = h("section", { class: "card", "aria-labelledby": "kept-h" }, h("h2", { id: "kept-h" }, "Saved, followed and set aside"));
  if (!marks.length) {
    box.append(h("p", { class: "muted" }, "Nothing yet. Save or follow a suggestion above and it is kept here."));
    return box;
  }
  for (const [kind, title] of KEPT) {
    const mine = marks.filter((mark) => mark.kind === kind);
    if (!mine.length) continue;
    box.append(
      h("h3", null, title),
      h(
        "ul",
        { class: "kept" },
        mine.map((mark) => {
          const undo = h("button", { type: "button", class: "link-button" }, kind === "hide" ? "Suggest again" : "Remove");
          const item = h("li", null, h("a", { href: nodeHref(mark.node.id) }, mark.node.name), " ", undo);
          undo.addEventListener("click", () => {
            undo.disabled = true;
            del(markPath(kind, mark.node.id)).then(
              () => item.remove(),
              (error: unknown) => {
                undo.disabled = false;
                item.append(failure(error, "Undoing"));
              },
            );
          });
          return item;
        }),
      ),
    );
  }
  return box;
}
