// The inbox: requests to be introduced that others made to me (accept or decline), the
// ones I made with their plain status, the contact details shared once a request is
// accepted, join requests I may answer and my own, and the people I blocked.

import { type NodeRecord, del, get, loadSession, node, post } from "../api";
import { failure, h, notice, replace } from "../dom";
import type { Params } from "../main";

interface Brief {
  id: string;
  name: string;
  kind: string;
}

interface Introduction {
  id: string;
  direction: "received" | "sent";
  other: Brief;
  message: string;
  status: "waiting" | "accepted" | "declined" | "no_answer";
  created_at: number;
  answered_at: number | null;
}

interface JoinRequest {
  id: string;
  direction: "received" | "sent";
  person: Brief;
  target: Brief;
  message: string;
  status: Introduction["status"];
  created_at: number;
}

const SENT_STATUS: Record<string, string> = {
  waiting: "Waiting for an answer",
  no_answer: "No answer",
  accepted: "Accepted: you can now get in touch",
  declined: "Waiting for an answer",
};

const RECEIVED_STATUS: Record<string, string> = {
  waiting: "Waiting for your answer",
  no_answer: "Not answered in time",
  accepted: "You accepted",
  declined: "You declined (they were not told)",
};

function pageOf(brief: Brief): string {
  const slug = brief.id.slice(brief.id.indexOf(":") + 1);
  if (brief.kind === "person") return `/people/${encodeURIComponent(slug)}`;
  if (brief.kind === "initiative") return `/initiatives/${encodeURIComponent(slug)}`;
  return `/nodes/${encodeURIComponent(brief.id)}`;
}

function when(seconds: number): string {
  return new Date(seconds * 1000).toLocaleDateString(undefined, { year: "numeric", month: "long", day: "numeric" });
}

const CONTACT_LABELS: Record<string, string> = { email: "Email", phone: "Phone", website: "Website" };

/** The contact details the other person chose to share with me (fetched with my own access). */
async function sharedContact(other: Brief): Promise<HTMLElement> {
  let record: NodeRecord;
  try {
    record = await node(other.id);
  } catch (error) {
    return failure(error, "Their contact details");
  }
  const contact = record.contact as Record<string, string> | undefined;
  if (!contact || !Object.keys(contact).length) {
    return h("p", { class: "muted" }, `${other.name} has not chosen to share contact details. You can still read their page.`);
  }
  return h(
    "dl",
    { class: "contact" },
    Object.entries(contact).flatMap(([key, value]) => [h("dt", null, CONTACT_LABELS[key] ?? key), h("dd", null, value)]),
  );
}

function answerButtons(path: string, onDone: () => void): HTMLElement {
  const accept = h("button", { type: "button" }, "Accept");
  const decline = h("button", { type: "button", class: "secondary" }, "Decline");
  const message = h("div", { "aria-live": "polite" });
  const answer = (verb: "accept" | "decline") => {
    accept.disabled = decline.disabled = true;
    post(`${path}/${verb}`).then(onDone, (error) => {
      accept.disabled = decline.disabled = false;
      replace(message, failure(error, "Your answer"));
    });
  };
  accept.addEventListener("click", () => answer("accept"));
  decline.addEventListener("click", () => answer("decline"));
  return h("div", null, h("p", { class: "actions" }, accept, " ", decline), message);
}

function introductionCard(item: Introduction, reload: () => void): HTMLElement {
  const received = item.direction === "received";
  const card = h(
    "li",
    { class: "card request" },
    h("h3", null, h("a", { href: pageOf(item.other) }, item.other.name)),
    h("p", { class: "muted" }, `${received ? "Asked you" : "You asked"} on ${when(item.created_at)}. `, h("strong", null, (received ? RECEIVED_STATUS : SENT_STATUS)[item.status])),
    h("blockquote", null, item.message),
  );
  if (received && item.status === "waiting") {
    card.appendChild(h("p", { class: "muted" }, "If you accept, each of you sees the contact details the other chose to share. If you decline, they are not told."));
    card.appendChild(answerButtons(`/v1/introductions/${item.id}`, reload));
  }
  if (item.status === "accepted") {
    const slot = h("div", { "aria-busy": "true" }, h("p", { class: "loading" }, "Loading their contact details…"));
    card.appendChild(slot);
    void sharedContact(item.other).then((shown) => {
      replace(slot, shown);
      slot.removeAttribute("aria-busy");
    });
  }
  return card;
}

function joinCard(item: JoinRequest, reload: () => void): HTMLElement {
  const received = item.direction === "received";
  const who = received
    ? [h("a", { href: pageOf(item.person) }, item.person.name), " would like to join ", h("a", { href: pageOf(item.target) }, item.target.name)]
    : ["You asked to join ", h("a", { href: pageOf(item.target) }, item.target.name)];
  const card = h(
    "li",
    { class: "card request" },
    h("h3", null, who),
    h("p", { class: "muted" }, `On ${when(item.created_at)}. `, h("strong", null, (received ? RECEIVED_STATUS : SENT_STATUS)[item.status])),
    h("blockquote", null, item.message),
  );
  if (received && item.status === "waiting") card.appendChild(answerButtons(`/v1/join-requests/${item.id}`, reload));
  return card;
}

function list(items: HTMLElement[], empty: string): HTMLElement {
  return items.length ? h("ul", { class: "requests" }, items) : h("p", { class: "muted" }, empty);
}

export async function render(main: HTMLElement, _params: Params): Promise<void> {
  main.appendChild(h("h1", null, "Inbox"));
  const account = await loadSession();
  if (!account) {
    main.appendChild(notice("info", "Sign in to see your inbox. ", h("a", { href: "/signin?next=/inbox" }, "Sign in")));
    return;
  }
  const body = h("div", { "aria-live": "polite" });
  main.appendChild(body);
  const reload = (): void => void fill();
  async function fill(): Promise<void> {
    const parts: HTMLElement[] = [];
    if (account?.person_id) {
      try {
        const intros = await get<{ received: Introduction[]; sent: Introduction[] }>("/v1/introductions");
        parts.push(
          h("section", { "aria-labelledby": "received-h" }, h("h2", { id: "received-h" }, "People who would like to meet you"),
            list(intros.received.map((i) => introductionCard(i, reload)), "Nobody has asked yet.")),
          h("section", { "aria-labelledby": "sent-h" }, h("h2", { id: "sent-h" }, "People you asked to meet"),
            list(intros.sent.map((i) => introductionCard(i, reload)), "You have not asked anyone yet. Ask from a person's page.")),
        );
      } catch (error) {
        parts.push(failure(error, "Your introductions"));
      }
    } else {
      parts.push(notice("info", "Write your profile first; then you can ask to be introduced to people, and they to you."));
    }
    try {
      const joins = await get<{ received: JoinRequest[]; sent: JoinRequest[] }>("/v1/join-requests");
      if (joins.received.length) {
        parts.push(h("section", { "aria-labelledby": "joins-h" }, h("h2", { id: "joins-h" }, "Requests to join what you coordinate"),
          list(joins.received.map((j) => joinCard(j, reload)), "")));
      }
      if (joins.sent.length) {
        parts.push(h("section", { "aria-labelledby": "my-joins-h" }, h("h2", { id: "my-joins-h" }, "Your requests to join"),
          list(joins.sent.map((j) => joinCard(j, reload)), "")));
      }
    } catch (error) {
      parts.push(failure(error, "Join requests"));
    }
    if (account?.person_id) {
      try {
        const blocked = await get<{ items: Brief[] }>("/v1/blocks");
        if (blocked.items.length) {
          parts.push(h("section", { "aria-labelledby": "blocked-h" }, h("h2", { id: "blocked-h" }, "People you blocked"),
            h("ul", null, blocked.items.map((person) => {
              const undo = h("button", { type: "button", class: "secondary" }, "Unblock");
              undo.addEventListener("click", () => {
                undo.disabled = true;
                del(`/v1/blocks/${encodeURIComponent(person.id)}`).then(reload, () => { undo.disabled = false; });
              });
              return h("li", null, person.name, " ", undo);
            }))));
        }
      } catch (error) {
        parts.push(failure(error, "People you blocked"));
      }
    }
    replace(body, ...parts);
  }
  await fill();
}
