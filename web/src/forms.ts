// Forms that show the API's reasons beside the fields they name: each field has an error
// slot, and an answer's `errors` ([{field: "body.bio", reason}]) are put in the slots of
// the fields with those names (`name="bio"`); anything else goes to the form's own slot.

import { ApiError, NotAvailable, TimedOut } from "./api";
import { type Child, h, replace, uid } from "./dom";

/** A labelled control with a hint and a slot for its error message. */
export function formField(label: string, control: HTMLElement, hint?: Child): HTMLElement {
  const id = control.id || uid("field");
  control.id = id;
  const described: string[] = [];
  const hintEl = hint ? h("span", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintEl) described.push(hintEl.id);
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
  described.push(error.id);
  control.setAttribute("aria-describedby", described.join(" "));
  return h("div", { class: "field", "data-field": control.getAttribute("name") ?? "" }, h("label", { for: id }, label), control, hintEl, error);
}

/** The slot for messages about the whole form (put it where the form should show them). */
export function formMessage(): HTMLElement {
  return h("div", { class: "form-message", role: "alert", "aria-live": "assertive" });
}

/** Clear every error of the form. */
export function clearErrors(form: HTMLElement): void {
  for (const slot of form.querySelectorAll<HTMLElement>(".field-error")) {
    slot.hidden = true;
    slot.textContent = "";
  }
  for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
  for (const message of form.querySelectorAll<HTMLElement>(".form-message")) replace(message);
}

/** Show an error answer: each reason beside its field, the rest in the form's message slot. */
export function showErrors(form: HTMLElement, error: unknown, what: string): void {
  clearErrors(form);
  const message = form.querySelector<HTMLElement>(".form-message");
  const rest: string[] = [];
  if (error instanceof ApiError) {
    let first: HTMLElement | null = null;
    for (const item of error.errors) {
      const name = item.field.replace(/^body\./, "");
      const wrapper = form.querySelector<HTMLElement>(`[data-field="${CSS.escape(name)}"]`)
        ?? form.querySelector<HTMLElement>(`[data-field="${CSS.escape(name.replace(/[[.].*$/, ""))}"]`);
      const slot = wrapper?.querySelector<HTMLElement>(".field-error");
      if (wrapper && slot) {
        slot.textContent = plainReason(item.reason);
        slot.hidden = false;
        const control = wrapper.querySelector<HTMLElement>("input, select, textarea");
        control?.setAttribute("aria-invalid", "true");
        first ??= control ?? null;
      } else {
        rest.push(plainReason(item.reason));
      }
    }
    if (!error.errors.length) rest.push(error.status === 429 ? "Too many attempts: please wait a little and try again." : error.detail);
    first?.focus();
  } else if (error instanceof TimedOut) {
    rest.push("The server did not answer in time. Please try again.");
  } else if (error instanceof NotAvailable) {
    rest.push(`${what} is not available on this server.`);
  } else {
    rest.push(String(error));
  }
  if (message && rest.length) replace(message, h("p", { class: "notice notice-error" }, `${what}: ${rest.join(" ")}`));
}

/** A reason as a person would read it (the API's are already short sentences). */
export function plainReason(reason: string): string {
  const text = reason.replace(/^Value error, /, "").replace(/^String should have at least (\d+) characters?$/, "Please write at least $1 characters.");
  return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".");
}

/** Disable a form's submit button while `work` runs. */
export async function busy<T>(form: HTMLFormElement, work: () => Promise<T>): Promise<T> {
  const button = form.querySelector<HTMLButtonElement>("button[type=submit]");
  if (button) button.disabled = true;
  form.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    if (button) button.disabled = false;
    form.removeAttribute("aria-busy");
  }
}
