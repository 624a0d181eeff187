// Settings: my name and the weekly digest, my sign-ins and tokens for scripts (a new
// token's secret is shown once), a download of everything the network keeps about me,
// and deleting my account, which asks me to type my email address first.

import { type Account, ApiError, del, get, loadSession, patch, post, setSession } from "../api";
import { failure, h, notice, replace, section } from "../dom";
import { busy, formField, formMessage, showErrors } from "../forms";
import type { Params } from "../main";
import { navigate } from "../nav";

interface TokenItem {
  id: string;
  kind: string;
  label: string | null;
  created_at: number;
  expires_at: number | null;
  current: boolean;
}

function day(seconds: number): string {
  return new Date(seconds * 1000).toLocaleDateString("en", { year: "numeric", month: "long", day: "numeric" });
}

export async function render(main: HTMLElement, _params: Params, _url: URL): Promise<void> {
  main.append(h("h1", null, "Settings"));
  const account = await loadSession();
  if (!account) {
    main.append(notice("info", h("a", { href: "/signin?next=/settings" }, "Sign in"), " to change your settings."));
    return;
  }
  main.append(accountForm(account));
  void section(main, "Your sign-ins and tokens", () => tokenList(), {
    intro: h("p", null, "Each place you are signed in, and each token a script of yours uses. Remove any you do not recognise."),
  });
  main.append(
    h(
      "section",
      { class: "card", "aria-labelledby": "download-h" },
      h("h2", { id: "download-h" }, "Download my data"),
      h("p", null, "A file with everything the network keeps about you: your account, your profile with your contact details, your links, your sign-ins and what you changed."),
      h("p", null, h("a", { class: "button", href: "/v1/me/export", download: "cocreate-me.json" }, "Download my data")),
    ),
    deleteForm(account),
  );
}

function accountForm(account: Account): HTMLElement {
  const name = h("input", { name: "name", type: "text", autocomplete: "name", maxlength: 200, required: true, value: account.name });
  const digest = h("input", { name: "digest", type: "checkbox" });
  digest.checked = account.digest;
  const saved = h("p", { class: "hint", role: "status" });
  const form = h(
    "form",
    { class: "card account-form", "aria-labelledby": "you-h", novalidate: true },
    h("h2", { id: "you-h" }, "You"),
    formField("Your name", name, "as others see it"),
    h("div", { class: "field", "data-field": "digest" }, h("label", null, digest, " Send me the weekly digest by mail"), h("p", { class: "field-error", hidden: true })),
    formMessage(),
    h("button", { type: "submit" }, "Save"),
    saved,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    saved.textContent = "";
    void busy(form, async () => {
      try {
        await patch("/v1/account", { name: name.value.trim(), digest: digest.checked });
        await loadSession(true);
        saved.textContent = "Saved.";
      } catch (error) {
        showErrors(form, error, "Saving did not work");
      }
    });
  });
  return form;
}

async function tokenList(): Promise<HTMLElement> {
  const wrapper = h("div");
  const list = h("div", { "aria-live": "polite" });
  const refresh = async (): Promise<void> => {
    try {
      const { items } = await get<{ items: TokenItem[] }>("/v1/account/tokens");
      replace(list, items.length ? tokenTable(items, refresh) : notice("info", "No sign-ins or tokens."));
    } catch (error) {
      replace(list, failure(error, "Your sign-ins and tokens"));
    }
  };
  await refresh();
  wrapper.append(list, newTokenForm(refresh));
  return wrapper;
}

function tokenTable(items: TokenItem[], refresh: () => Promise<void>): HTMLElement {
  const rows = items.map((item) => {
    const state = h("span", { role: "status" });
    const revoke = h("button", { type: "button", class: "secondary" }, item.kind === "session" ? "Sign out there" : "Revoke");
    revoke.addEventListener("click", () => {
      revoke.disabled = true;
      del(`/v1/account/tokens/${encodeURIComponent(item.id)}`).then(
        () => {
          if (item.current) {
            setSession(null, null);
            navigate("/signin");
            return;
          }
          void refresh();
        },
        (error: unknown) => {
          revoke.disabled = false;
          state.textContent = error instanceof ApiError && error.status === 404 ? "Already gone." : "That did not work; try again.";
        },
      );
    });
    const what = item.kind === "session" ? "Signed in on the web" : "Token for a script";
    return h(
      "tr",
      null,
      h("td", null, what, item.current ? h("strong", null, " (this one)") : null),
      h("td", null, item.label ?? ""),
      h("td", null, day(item.created_at)),
      h("td", null, item.expires_at ? day(item.expires_at) : "until revoked"),
      h("td", null, revoke, " ", state),
    );
  });
  return h(
    "table",
    { class: "data-table" },
    h("thead", null, h("tr", null, h("th", { scope: "col" }, "What"), h("th", { scope: "col" }, "Where or what for"), h("th", { scope: "col" }, "Since"), h("th", { scope: "col" }, "Works until"), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")))),
    h("tbody", null, rows),
  );
}

function newTokenForm(refresh: () => Promise<void>): HTMLElement {
  const label = h("input", { name: "label", type: "text", maxlength: 200, required: true, autocomplete: "off", placeholder: "my import script" });
  const shown = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "account-form", "aria-label": "Make a token for a script", novalidate: true },
    h("h3", null, "Make a token for a script"),
    formField("What it is for", label, "a script sends the token to act as you; anyone who has it can, so keep it secret"),
    formMessage(),
    h("button", { type: "submit" }, "Make a token for a script"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void busy(form, async () => {
      try {
        const made = await post<{ id: string; token: string; label: string }>("/v1/account/tokens", { label: label.value.trim() });
        label.value = "";
        const secret = h("input", { type: "text", readonly: true, value: made.token, class: "secret", "aria-label": "Your new token", spellcheck: "false" });
        const copied = h("span", { role: "status" });
        const copy = h("button", { type: "button" }, "Copy");
        copy.addEventListener("click", () => {
          secret.select();
          navigator.clipboard.writeText(made.token).then(
            () => {
              copied.textContent = "Copied.";
            },
            () => {
              copied.textContent = "Select the text and copy it by hand.";
            },
          );
        });
        replace(shown, notice("info", "Your new token is shown only now: copy it into your script. If you lose it, revoke it and make another."), h("p", null, secret, " ", copy, " ", copied));
        await refresh();
      } catch (error) {
        showErrors(form, error, "Making a token did not work");
      }
    });
  });
  return h("div", null, form, shown);
}

function deleteForm(account: Account): HTMLElement {
  const confirm = h("input", { name: "confirm", type: "email", autocomplete: "off", maxlength: 320, required: true });
  const form = h(
    "form",
    { class: "card account-form danger", "aria-labelledby": "delete-h", novalidate: true },
    h("h2", { id: "delete-h" }, "Delete my account"),
    h("p", null, "This removes your account and your profile from the network for good: your links, your introductions and what you wrote about yourself. It cannot be undone. You may want to download your data first."),
    formField("Type your email address to confirm", confirm, `the address you sign in with (${account.email})`),
    formMessage(),
    h("button", { type: "submit", class: "danger" }, "Delete my account"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void busy(form, async () => {
      try {
        await del("/v1/me", { confirm: confirm.value.trim() });
        setSession(null, null);
        const page = form.parentElement;
        if (page) replace(page, h("h1", null, "Your account is deleted"), notice("info", "Everything about you was removed. Thank you for the time you spent with us."), h("p", null, h("a", { href: "/" }, "Back to the start")));
      } catch (error) {
        showErrors(form, error, "Deleting the account did not work");
      }
    });
  });
  return form;
}

