// Acting on a page: ask to be introduced to a person, block or report them, ask to join an
// initiative. Each opens a short form whose problems show beside the field; visitors who
// are not signed in are offered a link to sign in first.

import { type NodeRecord, loadSession, post } from "./api";
import { h, notice, replace } from "./dom";
import { busy, formField, formMessage, showErrors } from "./forms";

function signInLink(text: string): HTMLElement {
  const next = encodeURIComponent(window.location.pathname);
  return h("p", null, h("a", { href: `/signin?next=${next}` }, text));
}

/** A button that opens a short form with one text box, sent to `send` (`name` is the field the API names). */
function messageForm(
  opener: string,
  label: string,
  name: string,
  hint: string,
  submit: string,
  send: (text: string) => Promise<void>,
  done: string,
  what: string,
): HTMLElement {
  const wrapper = h("div", { class: "social-action" });
  const open = h("button", { type: "button", class: "secondary", "aria-expanded": "false" }, opener);
  const text = h("textarea", { name, rows: 4, maxlength: 1000, required: true });
  const cancel = h("button", { type: "button", class: "secondary" }, "Cancel");
  const form = h(
    "form",
    { class: "card social-form", "aria-label": opener, novalidate: true, hidden: true },
    formField(label, text, hint),
    formMessage(),
    h("p", { class: "actions" }, h("button", { type: "submit" }, submit), " ", cancel),
  );
  const result = h("div", { "aria-live": "polite" });
  open.addEventListener("click", () => {
    form.hidden = false;
    open.setAttribute("aria-expanded", "true");
    text.focus();
  });
  cancel.addEventListener("click", () => {
    form.hidden = true;
    open.setAttribute("aria-expanded", "false");
    open.focus();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void busy(form, async () => {
      try {
        await send(text.value.trim());
        form.hidden = true;
        open.hidden = true;
        replace(result, notice("info", done));
      } catch (error) {
        showErrors(form, error, what);
      }
    });
  });
  wrapper.append(open, form, result);
  return wrapper;
}

/** What a visitor may do about a person: ask to be introduced, block, report. */
export async function personActions(person: NodeRecord): Promise<HTMLElement | null> {
  const account = await loadSession();
  const section = h("section", { class: "card", "aria-labelledby": "act-h" }, h("h2", { id: "act-h" }, "Get in touch"));
  if (!account) {
    section.appendChild(signInLink("Sign in to ask for an introduction"));
    return section;
  }
  if (account.person_id === person.id) return null;
  if (!account.person_id) {
    section.appendChild(h("p", null, "Write your profile first; then you can ask to be introduced to people."));
  } else if (person.open_to_collaborate === false) {
    section.appendChild(h("p", { class: "muted" }, `${person.name} is not open to new contacts right now.`));
  } else {
    section.appendChild(h("p", { class: "muted" }, `${person.name} sees your name and your message, and chooses whether to accept. Contact details are shared only if they do, and you are not told if they decline.`));
    section.appendChild(messageForm(
      "Ask to be introduced", "Your message", "message",
      "Say who you are and why you would like to talk (up to 1000 characters).",
      "Send the request",
      async (message) => { await post("/v1/introductions", { to: person.id, message }); },
      "Your request is sent. You will find the answer in your inbox.",
      "The request was not sent",
    ));
  }
  const blockButton = h("button", { type: "button", class: "secondary" }, "Block");
  const blockResult = h("div", { "aria-live": "polite" });
  blockButton.addEventListener("click", () => {
    if (!window.confirm(`Block ${person.name}? You will not see their requests any more, and they are not told.`)) return;
    blockButton.disabled = true;
    post("/v1/blocks", { person: person.id }).then(
      () => replace(blockResult, notice("info", `You blocked ${person.name}. You can undo it in your inbox.`)),
      (error) => {
        blockButton.disabled = false;
        replace(blockResult, notice("error", `Blocking did not work: ${String(error)}`));
      },
    );
  });
  const others = h("div", { class: "social-more" });
  if (account.person_id) others.append(h("p", { class: "actions" }, blockButton), blockResult);
  others.appendChild(messageForm(
    "Report", "What is wrong?", "reason",
    "Tell the network's admins what is wrong with this profile. They will look into it.",
    "Send the report",
    async (reason) => { await post("/v1/reports", { node: person.id, reason }); },
    "Thank you. The admins will look into it.",
    "The report was not sent",
  ));
  section.appendChild(others);
  return section;
}

/** Asking the coordinators of an initiative (or a community) to join. */
export async function joinAction(item: NodeRecord): Promise<HTMLElement> {
  const account = await loadSession();
  const section = h("section", { class: "card", "aria-labelledby": "join-h" }, h("h2", { id: "join-h" }, "Take part"));
  if (!account) {
    section.appendChild(signInLink("Sign in to ask to join"));
  } else if (!account.person_id) {
    section.appendChild(h("p", null, "Write your profile first; then you can ask to join."));
  } else {
    section.appendChild(messageForm(
      "Ask to join", "Your message", "message",
      "Tell the coordinators how you would like to help (up to 1000 characters).",
      "Send the request",
      async (message) => { await post("/v1/join-requests", { target: item.id, message }); },
      "Your request is sent to the coordinators. You will find the answer in your inbox.",
      "The request was not sent",
    ));
  }
  return section;
}
