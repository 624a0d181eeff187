// The editor desk: paste a draft of a Wisdom Book entry and see related entries,
// near-duplicates, people who practise it and suggested tags. Signed in as an editor
// (or with an editor's API key, for scripts), save the entry, publish it, and accept a
// tag onto it. An entry saved without a publication date is a draft in the Wisdom Book
// (readable like any entry); publishing gives it today's date.

import { ApiError, type NodeRecord, NotAvailable, type Page, apiKey, currentAccount, get, loadSession, node, post, put, setApiKey } from "../api";
import { type Child, failure, field, h, notice, replace } from "../dom";
import { busy, formField, formMessage, showErrors } from "../forms";
import { onLeave } from "../nav";
import { type Recommendation, recommendations } from "../explain";
import { kindLabel, nodeLink } from "../kinds";
import type { Params } from "../main";
import { SDG_NAMES, sdgBadge } from "../sdg";

interface Suggestions {
  sdgs: { id: string; goal: number; confidence: number; suggested: boolean; targets: { id: string; code: string; title: string; score: number }[]; evidence: string[] }[];
  sectors: { id: string; confidence: number; suggested: boolean; evidence: string[] }[];
  confidence?: string;
}

interface Related {
  related: Recommendation[];
  near_duplicates: Recommendation[];
  tags: Suggestions;
  practitioners: Recommendation[];
}

interface Target {
  id: string;
  name: string;
}

/** Why the visitor may not write entries and tags, or "" if they may (a pasted key is
 * trusted here: the API decides). */
function writeBlocker(): string {
  if (apiKey()) return "";
  const account = currentAccount();
  if (!account) return "Sign in as an editor to save entries and accept tags (or use an editor key below).";
  if (account.role === "member") return "Only editors can save entries; ask an admin.";
  return "";
}

/** The id a new entry gets from its title (as the API's slugs: lower case, dashes). */
function entryId(title: string): string {
  const slug = title
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, 100)
    .replace(/^-+|-+$/g, "");
  return `wisdom_entry:${slug || "entry"}`;
}

function today(): string {
  const now = new Date();
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
}

function keyPanel(): HTMLElement {
  const input = h("input", { type: "password", name: "api-key", autocomplete: "off", spellcheck: "false" });
  const state = h("p", { class: "hint", role: "status" });
  const show = () => {
    state.textContent = apiKey() ? "A key is in use for this tab (kept in sessionStorage, never in the page's address)." : currentAccount() ? "No key: you work as yourself, signed in." : "No key: you are anonymous, and can read and check drafts but not save them or accept tags.";
  };
  const save = h("button", { type: "button" }, "Use this key");
  const forget = h("button", { type: "button", class: "secondary" }, "Forget the key");
  save.addEventListener("click", () => {
    const key = input.value.trim();
    if (key) setApiKey(key);
    input.value = "";
    show();
  });
  forget.addEventListener("click", () => {
    setApiKey(null);
    show();
  });
  window.addEventListener("cocreate:key", show);
  show();
  return h(
    "details",
    { class: "card key-panel", open: apiKey() || currentAccount() ? null : true },
    h("summary", null, "Your API key (for scripts; not needed when signed in)"),
    h("p", null, "Signed in as an editor, you need no key. Without signing in, saving and accepting tags needs an editor's key (ask an admin: ", h("code", null, "cocreate keys create --role editor"), "). The key stays in this browser tab only."),
    field("API key", input),
    h("p", null, save, " ", forget),
    state,
  );
}

export async function render(main: HTMLElement, _params: Params, url: URL): Promise<void> {
  main.appendChild(h("h1", null, "Editor desk"));
  main.appendChild(h("p", null, "Paste a draft of a Grassroots Wisdom Book entry: see the entries it relates to, possible duplicates, people who practise it, and the goals and sectors it could be tagged with."));
  await loadSession();
  main.appendChild(keyPanel());

  let target: Target | null = null;
  let record: NodeRecord | null = null; // the loaded entry, whose other fields a save keeps
  const targetLine = h("p", { class: "target-line", role: "status" });
  const title = h("input", { name: "name", maxlength: 300, autocomplete: "off" });
  const body = h("textarea", { name: "body", rows: 10, maxlength: 20000 });
  const showTarget = () => {
    replace(targetLine, target ? ["Accepted tags go onto ", nodeLink({ id: target.id, name: target.name, kind: target.id.split(":")[0] }), "."] : "Load an existing entry below to accept tags onto it, or save your draft first.");
  };
  showTarget();

  const lookup = h("input", { type: "search", name: "entry", autocomplete: "off", maxlength: 100 });
  const found = h("div", { "aria-live": "polite" });
  const loadEntry = async (id: string) => {
    try {
      const entry = await node(id);
      title.value = entry.name;
      const text = typeof entry.body === "string" ? entry.body : typeof entry.description === "string" ? entry.description : "";
      body.value = text;
      target = { id: entry.id, name: entry.name };
      record = entry.kind === "wisdom_entry" ? entry : null;
      showTarget();
      showSaving();
      replace(found);
    } catch (error) {
      replace(found, failure(error, "Loading the entry"));
    }
  };
  const lookupForm = h("form", { class: "search-row", "aria-label": "Load an existing entry" }, field("Existing entry (name starts with)", lookup), h("button", { type: "submit", class: "secondary" }, "Find"));
  lookupForm.addEventListener("submit", (event) => {
    event.preventDefault();
    get<Page<NodeRecord>>("/v1/nodes", { kind: ["wisdom_entry", "initiative"], q: lookup.value.trim() || undefined, limit: 10 }).then(
      (page) => replace(found, page.items.length ? h("ul", { class: "plain-list" }, page.items.map((n) => h("li", null, h("button", { type: "button", class: "link-button", onclick: () => void loadEntry(n.id) }, `Load “${n.name}”`), h("span", { class: "muted" }, ` · ${kindLabel(n.kind)}`)))) : notice("info", "No entry with a name like that.")),
    ).catch(
      (error) => replace(found, failure(error, "Finding entries")),
    );
  });

  const results = h("div", { class: "desk-results", "aria-live": "polite" });
  const saveButton = h("button", { type: "button", class: "secondary" }, "Save as a draft");
  const publishButton = h("button", { type: "button", class: "secondary" }, "Publish");
  const saveState = h("p", { class: "hint", role: "status" });
  const draft = h(
    "form",
    { class: "draft", "aria-label": "Your draft", novalidate: true },
    formField("Title", title),
    formField("Draft", body, "the text of the entry, as long as you like (up to 20,000 characters)"),
    formMessage(),
    h("p", null, h("button", { type: "submit" }, "Check my draft"), " ", saveButton, " ", publishButton),
    saveState,
  );
  draft.addEventListener("submit", (event) => {
    event.preventDefault();
    void check();
  });
  const showSaving = () => {
    const why = writeBlocker();
    saveButton.disabled = publishButton.disabled = Boolean(why);
    const published = typeof record?.published === "string" ? record.published : null;
    saveState.textContent = why || (record ? `Saving changes “${record.name}”${published ? `, published on ${published}` : ", a draft not yet published"}.` : "Saving files a new entry in the Wisdom Book as a draft; publishing gives it today's date.");
  };
  const save = (publish: boolean): void => {
    void busy(draft, async () => {
      const fields: Record<string, unknown> = { name: title.value.trim(), body: body.value.trim() };
      if (publish) fields.published = today();
      try {
        let saved: NodeRecord;
        if (record) {
          const { type: _type, ...kept } = record;
          saved = await put<NodeRecord>(`/v1/nodes/${encodeURIComponent(record.id)}`, { ...kept, ...fields });
        } else {
          saved = await post<NodeRecord>("/v1/nodes", { kind: "wisdom_entry", id: entryId(String(fields.name)), ...fields });
        }
        record = saved;
        target = { id: saved.id, name: saved.name };
        showTarget();
        showSaving();
        saveState.textContent = publish ? `Published “${saved.name}” today.` : `Saved “${saved.name}” as a draft.`;
      } catch (error) {
        if (error instanceof ApiError && error.status === 409) {
          showErrors(draft, new ApiError(409, error.detail, [{ field: "body.name", reason: "an entry with this title exists already: find it above and load it to change it" }]), "Saving did not work");
        } else if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
          showErrors(draft, new ApiError(error.status, "Only editors can save entries; ask an admin."), "Saving did not work");
        } else {
          showErrors(draft, error, publish ? "Publishing did not work" : "Saving did not work");
        }
      }
    });
  };
  saveButton.addEventListener("click", () => save(false));
  publishButton.addEventListener("click", () => save(true));
  showSaving();
  window.addEventListener("cocreate:session", showSaving);
  window.addEventListener("cocreate:key", showSaving);
  onLeave(() => {
    window.removeEventListener("cocreate:session", showSaving);
    window.removeEventListener("cocreate:key", showSaving);
  });
  main.append(h("section", { class: "card", "aria-label": "Write or load a draft" }, lookupForm, found, draft, targetLine), results);

  const check = async (): Promise<void> => {
    const text = `${title.value.trim()}\n\n${body.value.trim()}`.trim();
    if (!text) {
      replace(results, notice("info", "Paste a draft first."));
      return;
    }
    replace(results, h("p", { class: "loading" }, "Reading your draft…"));
    const tags = h("section", { class: "card", "aria-labelledby": "tags-h" }, h("h2", { id: "tags-h" }, "Suggested tags"));
    const dups = h("section", { class: "card", "aria-labelledby": "dups-h" }, h("h2", { id: "dups-h" }, "Possible duplicates"));
    const related = h("section", { class: "card", "aria-labelledby": "related-h" }, h("h2", { id: "related-h" }, "Related entries"));
    const people = h("section", { class: "card", "aria-labelledby": "people-h" }, h("h2", { id: "people-h" }, "People who practise this"));
    const draftBody = { title: title.value.trim() || text.slice(0, 80), body: body.value.trim() || title.value.trim() };
    const [suggested, relatedAnswer] = await Promise.allSettled([
      post<Suggestions>("/v1/tags/suggest", { text, top: 5 }),
      post<Related>("/v1/wisdom/related", draftBody),
    ]);
    replace(results, tags, dups, related, people);
    if (suggested.status === "fulfilled") tags.appendChild(tagList(suggested.value, () => target));
    else tags.appendChild(failure(suggested.reason, "Tag suggestions"));
    if (relatedAnswer.status === "fulfilled") {
      const r = relatedAnswer.value;
      if (r.near_duplicates.length) {
        dups.append(notice("error", "These entries say much the same: check before filing a new one."), recommendations(r.near_duplicates, ""));
      } else dups.appendChild(notice("info", "No near-duplicates found."));
      related.appendChild(recommendations(r.related, "No related entries."));
      people.appendChild(recommendations(r.practitioners, "Nobody to suggest yet."));
    } else {
      dups.appendChild(failure(relatedAnswer.reason, "Duplicate detection"));
      people.appendChild(failure(relatedAnswer.reason, "Practitioners"));
      // Related entries can still come from plain search while the endpoint is missing.
      const q = text.replace(/\s+/g, " ").slice(0, 480);
      try {
        const page = await get<Page<{ node: NodeRecord; score: number; explanation: { matched_terms: string[] } }>>("/v1/search", { q, kind: "wisdom_entry", limit: 5 });
        const items: Recommendation[] = page.items.map((hit) => ({ node: hit.node, score: hit.score, explanation: { summary: hit.explanation.matched_terms.length ? `Found by search; words in common: ${hit.explanation.matched_terms.join(", ")}.` : "Found by search, by meaning." } }));
        related.append(relatedAnswer.reason instanceof NotAvailable ? notice("info", "Found by plain search (the related-wisdom endpoint is not available on this server).") : "", recommendations(items, "No related entries."));
      } catch (error) {
        related.appendChild(failure(error, "Related entries"));
      }
    }
  };

  const preset = url.searchParams.get("entry");
  if (preset) {
    await loadEntry(preset);
    await check();
  }
}

function tagList(found: Suggestions, target: () => Target | null): HTMLElement {
  const row = (tag: { id: string; confidence: number; suggested: boolean; evidence: string[] }, label: Child, kind: "addresses" | "in_sector", extra?: Child) => {
    const state = h("span", { class: "accept-state", role: "status" });
    const accept = h("button", { type: "button", class: "secondary", "data-tag": tag.id }, "Accept");
    const explainWhy = () => {
      const blocked = writeBlocker();
      if (blocked) return blocked;
      if (!target()) return "Load an existing entry (or save your draft) to accept tags onto it.";
      return "";
    };
    const refresh = () => {
      const why = explainWhy();
      accept.disabled = Boolean(why);
      state.textContent = why;
    };
    refresh();
    window.addEventListener("cocreate:key", refresh);
    window.addEventListener("cocreate:session", refresh);
    accept.addEventListener("click", () => {
      const entry = target();
      if (!entry) return;
      accept.disabled = true;
      state.textContent = "Adding…";
      post("/v1/edges", { kind, source: entry.id, target: tag.id }).then(
        () => {
          state.textContent = `Added to ${entry.name}.`;
        },
      ).catch(
        (error: unknown) => {
          accept.disabled = false;
          if (error instanceof ApiError && error.status === 409) state.textContent = "Already tagged.";
          else if (error instanceof ApiError && (error.status === 401 || error.status === 403)) state.textContent = "Only editors can accept tags; ask an admin.";
          else state.textContent = `Could not add it: ${error instanceof Error ? error.message : String(error)}`;
        },
      );
    });
    return h(
      "li",
      { class: `tag${tag.suggested ? " suggested" : ""}`, "data-tag": tag.id },
      h("div", { class: "tag-head" }, label, h("span", { class: "confidence" }, `${Math.round(tag.confidence * 100)}% confidence`), tag.suggested ? h("span", { class: "chip" }, "suggested") : null),
      extra,
      tag.evidence.length ? h("p", { class: "muted" }, "Evidence: ", tag.evidence.join("; ")) : null,
      h("p", null, accept, " ", state),
    );
  };
  return h(
    "div",
    null,
    found.confidence ? h("p", { class: "muted" }, found.confidence) : null,
    h("h3", null, "Goals"),
    h("ol", { class: "tags" }, found.sdgs.map((s) => row(s, [sdgBadge(s.goal), ` ${SDG_NAMES[s.goal] ?? s.id}`], "addresses", s.targets.length ? h("p", null, h("span", { class: "reason-label" }, "Closest targets: "), s.targets.map((t) => `${t.code} ${t.title}`).join(" · ")) : null))),
    h("h3", null, "Sectors"),
    h("ol", { class: "tags" }, found.sectors.map((s) => row(s, h("a", { href: `/sectors/${s.id.split(":")[1]}` }, s.id.split(":")[1].replace(/-/g, " ")), "in_sector"))),
  );
}
