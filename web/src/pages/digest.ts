// My weekly digest: the new people and initiatives near me or in what I follow this
// week, and my top matches with their reasons; and the choice to get it by mail.

import { type Account, ApiError, currentAccount, get, loadSession, type NodeRecord, patch, setSession } from "../api";
import { failure, h, notice, replace } from "../dom";
import { busy, formMessage, showErrors } from "../forms";
import { nodeHref } from "../kinds";
import type { Params } from "../main";

interface NewItem {
  node: NodeRecord;
  why: string;
}

interface Digest {
  week: string;
  starts: number;
  people: NewItem[];
  initiatives: NewItem[];
  matches: { node: NodeRecord; reasons: string[] }[];
  digest: boolean;
}

function day(seconds: number): string {
  return new Date(seconds * 1000).toLocaleDateString(undefined, { day: "numeric", month: "long", timeZone: "UTC" });
}

function newList(title: string, empty: string, items: NewItem[]): HTMLElement {
  return h(
    "section",
    { class: "digest-section" },
    h("h2", null, title),
    items.length
      ? h("ul", null, items.map((item) => h("li", null, h("a", { href: nodeHref(item.node.id) }, item.node.name), `: ${item.why}`)))
      : h("p", null, empty),
  );
}

function optIn(account: Account): HTMLElement {
  const box = h("input", { type: "checkbox", name: "digest", checked: account.digest });
  const form = h(
    "form",
    { class: "card digest-choice", "aria-label": "Weekly digest by mail" },
    h("div", { class: "field", "data-field": "digest" }, h("label", null, box, " Send me this digest by mail once a week"), h("p", { class: "field-error", hidden: true })),
    formMessage(),
  );
  const status = h("p", { class: "hint", role: "status" });
  box.addEventListener("change", () => {
    void busy(form, async () => {
      try {
        const body = await patch<{ account: Account; csrf_token?: string }>("/v1/account", { digest: box.checked });
        setSession(body.account, body.csrf_token ?? null, false);
        status.textContent = body.account.digest ? "Done: it will come every Monday." : "Done: no more digest mails.";
      } catch (error) {
        box.checked = !box.checked;
        showErrors(form, error, "Changing the choice did not work");
      }
    });
  });
  form.append(status);
  return form;
}

export async function render(main: HTMLElement, _params: Params, url: URL): Promise<void> {
  main.append(h("h1", null, "My weekly digest"));
  const account = currentAccount() ?? (await loadSession());
  if (!account) {
    main.append(notice("info", h("a", { href: `/signin?next=${encodeURIComponent(url.pathname)}` }, "Sign in to see your digest"), "."));
    return;
  }
  main.append(optIn(account));
  const body = h("div", { "aria-live": "polite" }, h("p", { class: "loading" }, "Loading…"));
  main.append(body);
  try {
    const digest = await get<Digest>("/v1/me/digest");
    const matches = h(
      "section",
      { class: "digest-section" },
      h("h2", null, "People you could work with"),
      digest.matches.length
        ? h("ul", null, digest.matches.map((m) => h("li", null, h("a", { href: nodeHref(m.node.id) }, m.node.name), h("ul", { class: "reasons" }, m.reasons.map((r) => h("li", null, r))))))
        : h("p", null, "No suggestions yet: add more about yourself to your profile."),
      h("p", null, h("a", { href: "/matches" }, "See all your matches")),
    );
    replace(
      body,
      h("p", { class: "lead" }, `New since Monday ${day(digest.starts)}, near you or in the sectors and goals you follow.`),
      newList("New people", "Nobody new near you this week yet.", digest.people),
      newList("New initiatives", "No new initiatives near you this week yet.", digest.initiatives),
      matches,
    );
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) {
      replace(body, notice("info", "The digest is made from what you write about yourself. ", h("a", { href: "/me" }, "Write your profile first"), "."));
      return;
    }
    replace(body, failure(error, "Your digest"));
  }
}
