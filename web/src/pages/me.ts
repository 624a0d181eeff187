// My profile: the signed-in person writes and changes their own profile (GET and PATCH
// /v1/me). One form, one Save: the API writes all of it or nothing, and its reasons are
// shown beside the fields they name. The place shows, as it is chosen, exactly what
// others will see of it (POST /v1/me/place-preview), and the bio brings goals and sectors
// to add with one click (POST /v1/tags/suggest).

import { type Account, ApiError, type NodeRecord, get, loadSession, patch, post, sectors } from "../api";
import { countryName, COUNTRIES, country as findCountry } from "../countries";
import { type Child, h, notice, replace, uid } from "../dom";
import { busy, clearErrors, formField, formMessage, showErrors } from "../forms";
import { LANGUAGES, languageName } from "../languages";
import type { Params } from "../main";
import { onLeave } from "../nav";
import { SDG_COLOURS, SDG_NAMES, SDG_NUMBERS, textOn } from "../sdg";

interface ShownPlace {
  name?: string;
  country?: string;
  region?: string;
  lat?: number;
  lon?: number;
}

interface Me {
  account: Account;
  person: NodeRecord | null;
  sectors?: string[];
  goals?: string[];
  place_shown_to_others?: ShownPlace | null;
}

interface Suggestion {
  id: string;
  suggested: boolean;
  existing: boolean;
  evidence: string[];
}

interface Suggestions {
  sdgs: (Suggestion & { goal: number })[];
  sectors: Suggestion[];
}

const PHRASES: [string, string, string][] = [
  ["interests", "Interests", "what you like to work on, e.g. youth mentoring, reading circles"],
  ["skills", "Skills", "what you are good at, e.g. facilitation, bookkeeping"],
  ["offers", "What you can offer", "how you could help others, e.g. tutoring, a meeting room"],
  ["needs", "What you are looking for", "help you would welcome, e.g. grant writing, volunteers"],
];

const PRECISIONS: [string, string][] = [
  ["exact", "The exact point I give"],
  ["city", "My town or city (about 10 km around)"],
  ["region", "My area, without the town's name (about 100 km around)"],
  ["country", "Only my country"],
];

const VISIBILITIES: [string, string][] = [
  ["public", "Everyone, including visitors who are not signed in"],
  ["members", "Signed-in members only"],
  ["private", "Only me"],
];

const SEEN_BY: Record<string, string> = {
  public: "Everyone can see your profile.",
  members: "Signed-in members can see your profile.",
  private: "Only you can see your profile.",
};

const SHARE_CONTACT: [string, string][] = [
  ["nobody", "Only me"],
  ["introduced", "People I accepted an introduction with"],
  ["members", "Every signed-in member"],
];

const SUGGEST_DELAY_MS = 600;
const PREVIEW_DELAY_MS = 300;

/** Phrases written one per line or separated by commas, without blanks or repeats. */
export function phrases(text: string): string[] {
  const seen = new Set<string>();
  const found: string[] = [];
  for (const part of text.split(/[\n,;]+/)) {
    const phrase = part.trim();
    if (phrase && !seen.has(phrase.toLowerCase())) {
      seen.add(phrase.toLowerCase());
      found.push(phrase);
    }
  }
  return found;
}

/** The place others will see, as a sentence ("Davis, United States (about 10 km around)"). */
export function placeSentence(shown: ShownPlace | null | undefined, precision: string): string {
  if (!shown) return "no place: you have not given one.";
  const where = countryName(shown.country) || shown.region || "";
  const coords = shown.lat !== undefined && shown.lon !== undefined;
  const named = [shown.name, where].filter(Boolean).join(", ");
  if (precision === "country" || (!shown.name && !coords)) {
    return where ? `somewhere in ${where}.` : "no place: give a town or a country.";
  }
  if (precision === "region") {
    return coords ? `an area about 100 km across${where ? ` in ${where}` : ""}, without the town's name.` : `somewhere in ${where}.`;
  }
  if (precision === "city") return coords ? `${named} (about 10 km around).` : `${named}.`;
  return coords ? `${named} (the exact point you gave).` : `${named}.`;
}

/** A reason of the API for one field, in words a volunteer reads without a manual. */
function friendly(field: string, reason: string): string {
  const name = field.replace(/^body\./, "");
  if (/pattern/.test(reason)) {
    if (name === "contact.email") return "Please write an email address like name@example.org.";
    if (name === "place.country") return "Please choose a country from the list.";
    if (name.startsWith("languages")) return "Please choose languages from the list.";
    return "Please check what you wrote here.";
  }
  if (name === "place" && /required when the other/.test(reason)) {
    return "Please give both numbers of the point (north–south and east–west), or neither.";
  }
  if (/^String should have at least 1 character/.test(reason)) return "Please write something here, or remove it.";
  const most = /^String should have at most (\d+) characters?$/.exec(reason);
  if (most) return `Please write at most ${most[1]} characters.`;
  const range = /^Input should be (less|greater) than or equal to (-?[\d.]+)$/.exec(reason);
  if (range) return `Please give a number ${range[1] === "less" ? "up to" : "from"} ${range[2]}.`;
  if (/share_contact/.test(name) && /Input should be/.test(reason)) {
    return "This choice cannot be saved on this server yet.";
  }
  return reason;
}

function readable(error: unknown): unknown {
  if (!(error instanceof ApiError)) return error;
  return new ApiError(error.status, error.detail, error.errors.map((item) => ({ field: item.field, reason: friendly(item.field, item.reason) })));
}

function choices(name: string, legend: string, options: [string, Child][], checked: Set<string>, type: "checkbox" | "radio", hint?: string): HTMLElement {
  const hintId = hint ? uid("hint") : null;
  const errorId = uid("error");
  return h(
    "fieldset",
    { class: "field choices", "data-field": name, "aria-describedby": [hintId, errorId].filter(Boolean).join(" ") },
    h("legend", null, legend),
    hint ? h("span", { class: "hint", id: hintId }, hint) : null,
    h(
      "div",
      { class: "choice-grid" },
      options.map(([value, label]) =>
        h("label", { class: "choice" }, h("input", { type, name, value, checked: checked.has(value) }), " ", label),
      ),
    ),
    h("p", { class: "field-error", id: errorId, hidden: true }),
  );
}

function checkedValues(form: HTMLElement, name: string): string[] {
  return [...form.querySelectorAll<HTMLInputElement>(`input[name="${name}"]:checked`)].map((input) => input.value);
}

function chosen(form: HTMLElement, name: string): string {
  return form.querySelector<HTMLInputElement>(`input[name="${name}"]:checked`)?.value ?? "";
}

function goalLabel(goal: number): Child {
  const colour = SDG_COLOURS[goal];
  return [h("span", { class: "sdg-tile", style: { background: colour, color: textOn(colour) }, "aria-hidden": "true" }, String(goal)), " ", SDG_NAMES[goal]];
}

function slugOf(id: string): string {
  return id.replace(/^person:/, "");
}

export async function render(main: HTMLElement, _params: Params, _url: URL): Promise<void> {
  const account = await loadSession();
  if (!account) {
    main.append(
      h("h1", null, "My profile"),
      notice("info", h("a", { href: "/signin?next=/me" }, "Sign in to write your profile"), ". New here? ", h("a", { href: "/join" }, "Join"), " first."),
    );
    return;
  }
  const [me, sectorPage] = await Promise.all([get<Me>("/v1/me"), sectors()]);
  const sectorNames = new Map(sectorPage.items.map((item) => [item.id, item.name]));
  const shareContact = me.person ? "share_contact" in me.person : await hasShareContact();
  const heading = h("h1", null, me.person ? "My profile" : "Write your profile");
  const seeIt = h("p", { class: "see-profile" });
  main.append(
    heading,
    h("p", { class: "lead" }, "Tell others what you care about, what you can offer and what you are looking for. You choose who sees it."),
    seeIt,
  );
  const form = buildForm(me, sectorPage.items, sectorNames, shareContact);
  main.append(form.element);
  const showLink = (person: NodeRecord | null) => {
    replace(seeIt, person ? [h("a", { href: `/people/${encodeURIComponent(slugOf(person.id))}` }, "See your profile page"), "."] : null);
  };
  showLink(me.person);
  form.onSaved = (saved) => {
    heading.textContent = "My profile";
    document.title = "My profile · Cocreate";
    showLink(saved.person);
  };
}

async function hasShareContact(): Promise<boolean> {
  try {
    const spec = await get<{ components?: { schemas?: Record<string, { properties?: Record<string, unknown> }> } }>("/openapi.json");
    return Boolean(spec.components?.schemas?.Person?.properties?.share_contact);
  } catch {
    return false;
  }
}

interface ProfileForm {
  element: HTMLFormElement;
  onSaved: (me: Me) => void;
}

function buildForm(me: Me, sectorItems: NodeRecord[], sectorNames: Map<string, string>, shareContact: boolean): ProfileForm {
  const person = (me.person ?? {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === "string" ? value : "");
  const list = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []);
  const place = (person.place ?? {}) as ShownPlace;
  const contact = (person.contact ?? {}) as Record<string, string>;

  // About you
  const name = h("input", { name: "name", type: "text", autocomplete: "name", maxlength: 300, value: text(person.name) || me.account.name });
  const bio = h("textarea", { name: "bio", rows: 5, maxlength: 20000 }, text(person.bio));

  // What you care about
  const sectorBox = choices("sectors", "Sectors you work in or care about", sectorItems.map((item) => [item.id, item.name]), new Set(me.sectors ?? []), "checkbox");
  const goalBox = choices("goals", "Goals you work towards", SDG_NUMBERS.map((n) => [`sdg:${n}`, goalLabel(n)]), new Set(me.goals ?? []), "checkbox", "the United Nations' 17 Sustainable Development Goals");
  const suggestions = h("div", { class: "suggestions", "aria-live": "polite" });
  const suggestButton = h("button", { type: "button", class: "secondary" }, "Suggest from my bio");

  // Interests, skills, offers, needs
  const phraseFields = PHRASES.map(([field, label, hint]) => {
    const area = h("textarea", { name: field, rows: 3 }, list(person[field]).join("\n"));
    return { field, area, element: formField(label, area, `one per line, or separated by commas; ${hint}`) };
  });

  // Languages
  const spoken = new Set(list(person.languages));
  const languageOptions: [string, Child][] = LANGUAGES.map(([code, label]) => [code, label]);
  for (const code of spoken) if (!languageOptions.some(([known]) => known === code)) languageOptions.push([code, languageName(code)]);
  const languageBox = choices("languages", "Languages you speak", languageOptions, spoken, "checkbox");

  // Where you are
  const placeName = h("input", { name: "place.name", type: "text", maxlength: 300, value: text(place.name), autocomplete: "address-level2" });
  const countrySelect = h(
    "select",
    { name: "place.country", autocomplete: "off" },
    h("option", { value: "" }, "(not given)"),
    COUNTRIES.map((c) => h("option", { value: c.code, selected: c.code === place.country }, c.name)),
  );
  const lat = h("input", { name: "place.lat", type: "number", step: "any", min: -90, max: 90, inputmode: "decimal", value: place.lat ?? "" });
  const lon = h("input", { name: "place.lon", type: "number", step: "any", min: -180, max: 180, inputmode: "decimal", value: place.lon ?? "" });
  const precisionBox = choices(
    "location_precision",
    "How precisely others may see where you are",
    PRECISIONS,
    new Set([text(person.location_precision) || "city"]),
    "radio",
  );
  const preview = h("p", { class: "place-preview", "aria-live": "polite", "data-testid": "place-preview" });
  const precise = h(
    "details",
    { class: "more-precise", open: place.lat !== undefined },
    h("summary", null, "More precise: a point on the map"),
    h(
      "div",
      { class: "field", "data-field": "place" },
      h("p", { class: "field-error", hidden: true }),
      h("p", { class: "hint" }, "The point's latitude and longitude, as a map app shows them (e.g. 38.54 and -121.74 for Davis). Others see it only as precisely as you choose below."),
      h("div", { class: "two-up" }, formField("Latitude (north–south)", lat), formField("Longitude (east–west)", lon)),
    ),
  );

  // Who can see you
  const visibilityBox = choices("visibility", "Who can see your profile", VISIBILITIES, new Set([text(person.visibility) || "members"]), "radio");
  const discoverable = h("input", { type: "checkbox", name: "discoverable", checked: person.discoverable !== false });
  const openTo = h("input", { type: "checkbox", name: "open_to_collaborate", checked: person.open_to_collaborate !== false });
  const flag = (control: HTMLInputElement, label: string, hint: string) =>
    h("div", { class: "field", "data-field": control.name }, h("label", { class: "choice" }, control, " ", label), h("span", { class: "hint" }, hint), h("p", { class: "field-error", hidden: true }));

  // Contact details
  const email = h("input", { name: "contact.email", type: "email", autocomplete: "email", maxlength: 320, value: contact.email ?? "" });
  const phone = h("input", { name: "contact.phone", type: "tel", autocomplete: "tel", maxlength: 40, value: contact.phone ?? "" });
  const website = h("input", { name: "contact.website", type: "url", autocomplete: "url", maxlength: 2000, value: contact.website ?? "" });
  const shareBox = shareContact
    ? choices("share_contact", "Who may see my contact details", SHARE_CONTACT, new Set([text(person.share_contact) || "introduced"]), "radio", "the network's admins can always see them")
    : h("p", { class: "hint" }, "Your contact details are shown only to you and to the network's admins.");

  const saved = h("div", { class: "saved", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "profile-form", "aria-label": "My profile", novalidate: true },
    h("section", { class: "card", "aria-labelledby": "me-about" },
      h("h2", { id: "me-about" }, "About you"),
      formField("Your name", name, "as others will see it"),
      formField("A few words about you", bio, "a few sentences: what you do, what you care about, where"),
    ),
    h("section", { class: "card", "aria-labelledby": "me-care" },
      h("h2", { id: "me-care" }, "What you care about"),
      h("div", { class: "suggest-row" }, suggestButton, h("span", { class: "hint" }, "Ideas from what you wrote about yourself appear here as you type.")),
      suggestions,
      sectorBox,
      goalBox,
    ),
    h("section", { class: "card", "aria-labelledby": "me-do" },
      h("h2", { id: "me-do" }, "What you do and look for"),
      phraseFields.map((p) => p.element),
      languageBox,
    ),
    h("section", { class: "card", "aria-labelledby": "me-where" },
      h("h2", { id: "me-where" }, "Where you are"),
      h("div", { class: "two-up" }, formField("Town or city", placeName, "e.g. Davis"), formField("Country", countrySelect)),
      precise,
      precisionBox,
      preview,
    ),
    h("section", { class: "card", "aria-labelledby": "me-who" },
      h("h2", { id: "me-who" }, "Who can see you"),
      visibilityBox,
      flag(discoverable, "Show me in search, lists and recommendations", "if you untick this, people find you only through a direct link"),
      flag(openTo, "I am open to collaborate", "others may ask to be introduced to you"),
    ),
    h("section", { class: "card", "aria-labelledby": "me-contact" },
      h("h2", { id: "me-contact" }, "Contact details"),
      formField("Email", email, "an address where people may write to you; it can differ from the one you sign in with"),
      formField("Phone", phone),
      formField("Website", website, "e.g. https://example.org"),
      shareBox,
    ),
    h("div", { class: "save-row" }, formMessage(), h("button", { type: "submit" }, "Save"), saved),
  );

  // The place others will see, asked of the API as the place changes.
  let previewTimer: number | undefined;
  let previewRound = 0;
  const placeBody = (): ShownPlace | null => {
    const picked = findCountry(countrySelect.value);
    const found: Record<string, unknown> = {
      name: placeName.value.trim() || null,
      country: picked?.code ?? null,
      region: picked?.region ?? (picked ? null : place.region ?? null),
      lat: lat.value.trim() === "" ? null : Number(lat.value),
      lon: lon.value.trim() === "" ? null : Number(lon.value),
    };
    if (found.name === null && found.country === null && found.lat === null && found.lon === null) return null;
    return found as ShownPlace;
  };
  const showPreview = (shown: ShownPlace | null | undefined) => {
    replace(preview, h("strong", null, "Others will see: "), placeSentence(shown, chosen(form, "location_precision")));
  };
  const refreshPreview = () => {
    window.clearTimeout(previewTimer);
    previewTimer = window.setTimeout(() => {
      const round = ++previewRound;
      const given = placeBody();
      if (!given) {
        showPreview(null);
        return;
      }
      const body = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== null && !(typeof v === "number" && Number.isNaN(v))));
      post<{ shown_to_others: ShownPlace }>("/v1/me/place-preview", { place: body, location_precision: chosen(form, "location_precision") }).then(
        (answer) => {
          if (round === previewRound) showPreview(answer.shown_to_others);
        },
        () => {
          if (round === previewRound) replace(preview, h("strong", null, "Others will see: "), "(this will show once the place is complete).");
        },
      );
    }, PREVIEW_DELAY_MS);
  };
  for (const control of [placeName, countrySelect, lat, lon]) control.addEventListener("input", refreshPreview);
  precisionBox.addEventListener("change", refreshPreview);
  showPreview(me.place_shown_to_others);

  // Goals and sectors suggested from the bio, one click each.
  let suggestTimer: number | undefined;
  let suggestRound = 0;
  const check = (id: string) => {
    const box = form.querySelector<HTMLInputElement>(`input[value="${CSS.escape(id)}"]`);
    if (box) box.checked = true;
  };
  const isChecked = (id: string) => form.querySelector<HTMLInputElement>(`input[value="${CSS.escape(id)}"]`)?.checked ?? false;
  const suggest = () => {
    window.clearTimeout(suggestTimer);
    const written = bio.value.trim();
    const round = ++suggestRound;
    if (written.length < 20) {
      replace(suggestions, h("p", { class: "hint" }, "Write a few sentences about yourself above, and ideas of goals and sectors appear here."));
      return;
    }
    replace(suggestions, h("p", { class: "loading" }, "Finding ideas…"));
    post<Suggestions>("/v1/tags/suggest", { text: written, top: 5 }).then(
      (found) => {
        if (round !== suggestRound) return;
        const ideas: { id: string; label: Child; plain: string }[] = [];
        for (const s of found.sdgs) {
          if (s.suggested && !isChecked(s.id)) ideas.push({ id: s.id, label: goalLabel(s.goal), plain: SDG_NAMES[s.goal] });
        }
        for (const s of found.sectors) {
          const label = sectorNames.get(s.id);
          if (s.suggested && label && !isChecked(s.id)) ideas.push({ id: s.id, label, plain: label });
        }
        if (!ideas.length) {
          replace(suggestions, h("p", { class: "hint" }, "No new ideas from your bio: you have chosen what it speaks of, or it says too little yet."));
          return;
        }
        const chips = ideas.map((idea) => {
          const chip = h("button", { type: "button", class: "idea", "aria-label": `Add ${idea.plain}` }, "+ Add ", idea.label);
          chip.addEventListener("click", () => {
            check(idea.id);
            chip.remove();
            if (!suggestions.querySelector(".idea")) replace(suggestions, h("p", { class: "hint" }, `Added ${idea.plain}.`));
          });
          return chip;
        });
        replace(suggestions, h("p", { class: "hint" }, "Ideas from your bio (click to add):"), h("div", { class: "ideas" }, chips));
      },
      () => {
        if (round === suggestRound) replace(suggestions, h("p", { class: "hint" }, "Ideas cannot be found just now; choose below."));
      },
    );
  };
  bio.addEventListener("input", () => {
    window.clearTimeout(suggestTimer);
    suggestTimer = window.setTimeout(suggest, SUGGEST_DELAY_MS);
  });
  suggestButton.addEventListener("click", suggest);

  const result: ProfileForm = { element: form, onSaved: () => undefined };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    replace(saved);
    const body: Record<string, unknown> = {
      name: name.value.trim(),
      bio: bio.value.trim(),
      sectors: checkedValues(form, "sectors"),
      goals: checkedValues(form, "goals"),
      languages: checkedValues(form, "languages"),
      place: placeBody(),
      location_precision: chosen(form, "location_precision"),
      visibility: chosen(form, "visibility"),
      discoverable: discoverable.checked,
      open_to_collaborate: openTo.checked,
    };
    for (const p of phraseFields) body[p.field] = phrases(p.area.value);
    const given = { email: email.value.trim() || null, phone: phone.value.trim() || null, website: website.value.trim() || null };
    body.contact = Object.values(given).some((v) => v !== null) ? given : null;
    if (shareContact) body.share_contact = chosen(form, "share_contact");
    void busy(form, async () => {
      try {
        const answer = await patch<Me>("/v1/me", body);
        clearErrors(form);
        showPreview(answer.place_shown_to_others);
        for (const p of phraseFields) p.area.value = list(answer.person?.[p.field]).join("\n");
        replace(saved, notice("info", "Saved. ", SEEN_BY[String(answer.person?.visibility)] ?? ""));
        result.onSaved(answer);
      } catch (error) {
        showErrors(form, readable(error), "Saving did not work");
        if (error instanceof ApiError && error.errors.length) {
          replace(saved, notice("error", "Nothing was saved: please look at the fields marked ⚠ and try again."));
        }
      }
    });
  });
  onLeave(() => {
    // A pending suggestion or preview must not land on the next page's form.
    window.clearTimeout(suggestTimer);
    window.clearTimeout(previewTimer);
    suggestRound += 1;
    previewRound += 1;
  });
  return result;
}
