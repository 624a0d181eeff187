// Joining and signing in: sign up (a link is mailed), follow the link, sign in, reset a
// forgotten password. Every answer about an address reads the same whether or not it is
// registered, as the API's does.

import { type Account, post, setSession } from "../api";
import { h, notice, replace } from "../dom";
import { busy, formField, formMessage, showErrors } from "../forms";
import { navigate } from "../nav";
import type { Params } from "../main";

interface SignedIn {
  account: Account;
  csrf_token: string;
}

function input(name: string, type: string, autocomplete: string, extra: Record<string, string | number | boolean> = {}): HTMLInputElement {
  return h("input", { name, type, autocomplete, required: true, ...extra });
}

function afterSignIn(url: URL): string {
  const next = url.searchParams.get("next") ?? "";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/me";
}

export async function renderJoin(main: HTMLElement, _params: Params, url: URL): Promise<void> {
  const name = input("name", "text", "name", { maxlength: 200 });
  const email = input("email", "email", "email", { maxlength: 320 });
  const password = input("password", "password", "new-password", { minlength: 10, maxlength: 200 });
  const form = h(
    "form",
    { class: "card account-form", "aria-label": "Join Cocreate", novalidate: true },
    formField("Your name", name, "as others will see it; you can change it later"),
    formField("Email", email, "we send a link to confirm it; it is never shown to anyone"),
    formField("Password", password, "at least 10 characters"),
    formMessage(),
    h("button", { type: "submit" }, "Join"),
  );
  const done = h("div", { "aria-live": "polite" });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void busy(form, async () => {
      try {
        await post("/v1/account/signup", { name: name.value.trim(), email: email.value.trim(), password: password.value });
        password.value = "";
        replace(done, notice("info", `Thank you. If ${email.value.trim()} can be used, a mail with a link is on its way. Open the link to finish joining (check the spam folder if nothing arrives within a few minutes).`));
        form.hidden = true;
      } catch (error) {
        showErrors(form, error, "Joining did not work");
      }
    });
  });
  main.append(
    h("h1", null, "Join Cocreate"),
    h("p", { class: "lead" }, "Find people who care about what you care about, and be introduced to them when both of you agree."),
    form,
    done,
    h("p", null, "Already joined? ", h("a", { href: `/signin${url.search}` }, "Sign in"), "."),
  );
}

export async function renderSignIn(main: HTMLElement, _params: Params, url: URL): Promise<void> {
  const email = input("email", "email", "username", { maxlength: 320 });
  const password = input("password", "password", "current-password", { maxlength: 1000 });
  const form = h(
    "form",
    { class: "card account-form", "aria-label": "Sign in", novalidate: true },
    formField("Email", email),
    formField("Password", password),
    formMessage(),
    h("button", { type: "submit" }, "Sign in"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void busy(form, async () => {
      try {
        const body = await post<SignedIn>("/v1/account/login", { email: email.value.trim(), password: password.value });
        setSession(body.account, body.csrf_token);
        navigate(afterSignIn(url));
      } catch (error) {
        showErrors(form, error, "Signing in did not work");
      }
    });
  });
  main.append(
    h("h1", null, "Sign in"),
    form,
    h("p", null, h("a", { href: "/reset" }, "Forgot your password?"), " · New here? ", h("a", { href: "/join" }, "Join"), "."),
  );
}

export async function renderVerify(main: HTMLElement, _params: Params, url: URL): Promise<void> {
  const token = url.searchParams.get("token") ?? "";
  main.append(h("h1", null, "Confirm your address"));
  if (!token) {
    main.append(notice("info", "This page opens from the link in the mail we sent. ", h("a", { href: "/join" }, "Join"), " to get one."));
    return;
  }
  const invited = url.searchParams.get("invite") === "1";
  if (invited) {
    renderInvitation(main, token);
    return;
  }
  const status = h("div", { "aria-live": "polite" }, h("p", { class: "loading" }, "Confirming…"));
  main.append(status);
  try {
    const body = await post<SignedIn>("/v1/account/verify", { token });
    setSession(body.account, body.csrf_token);
    history.replaceState(null, "", "/verify");
    replace(status, notice("info", `Welcome, ${body.account.name}: your address is confirmed and you are signed in.`), h("p", null, h("a", { class: "button", href: "/me" }, "Write your profile"), " so that others can find you."));
  } catch (error) {
    replace(status, notice("error", "This link does not work any more: it was used already or is more than two days old. ", h("a", { href: "/signin" }, "Sign in"), " if you confirmed already, or ", h("a", { href: "/join" }, "join again"), "."));
    void error;
  }
}

function renderInvitation(main: HTMLElement, token: string): void {
  const name = input("name", "text", "name", { maxlength: 200 });
  const password = input("password", "password", "new-password", { minlength: 10, maxlength: 200 });
  const form = h(
    "form",
    { class: "card account-form", "aria-label": "Accept the invitation", novalidate: true },
    formField("Your name", name),
    formField("Choose a password", password, "at least 10 characters"),
    formMessage(),
    h("button", { type: "submit" }, "Accept and join"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void busy(form, async () => {
      try {
        const body = await post<SignedIn>("/v1/account/verify", { token, name: name.value.trim(), password: password.value });
        setSession(body.account, body.csrf_token);
        navigate("/me");
      } catch (error) {
        showErrors(form, error, "Accepting the invitation did not work");
      }
    });
  });
  main.append(h("p", null, "You were invited to Cocreate. Choose your name and a password to join."), form);
}

export async function renderReset(main: HTMLElement, _params: Params, url: URL): Promise<void> {
  const token = url.searchParams.get("token");
  main.append(h("h1", null, token ? "Choose a new password" : "Forgot your password?"));
  if (token) {
    const password = input("password", "password", "new-password", { minlength: 10, maxlength: 200 });
    const form = h(
      "form",
      { class: "card account-form", "aria-label": "New password", novalidate: true },
      formField("New password", password, "at least 10 characters; every other sign-in ends"),
      formMessage(),
      h("button", { type: "submit" }, "Save the new password"),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void busy(form, async () => {
        try {
          const body = await post<SignedIn>("/v1/account/reset/confirm", { token, password: password.value });
          setSession(body.account, body.csrf_token);
          navigate("/me");
        } catch (error) {
          showErrors(form, error, "Saving the password did not work");
        }
      });
    });
    main.append(form);
    return;
  }
  const email = input("email", "email", "email", { maxlength: 320 });
  const form = h(
    "form",
    { class: "card account-form", "aria-label": "Ask for a reset link", novalidate: true },
    formField("Email", email, "we send a link to set a new password"),
    formMessage(),
    h("button", { type: "submit" }, "Send me a link"),
  );
  const done = h("div", { "aria-live": "polite" });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void busy(form, async () => {
      try {
        await post("/v1/account/reset", { email: email.value.trim() });
        replace(done, notice("info", `If ${email.value.trim()} belongs to an account, a mail with a link is on its way. The link works for an hour.`));
        form.hidden = true;
      } catch (error) {
        showErrors(form, error, "Asking for a link did not work");
      }
    });
  });
  main.append(form, done);
}
