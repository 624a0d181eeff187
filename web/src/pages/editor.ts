// The editor desk: paste a draft of a Wisdom Book entry and see related entries,
// near-duplicates, people who practise it and suggested tags. Signed in as an editor
// (or with an editor's API key, for scripts), keep it as a draft (kept beside the Wisdom
// Book, seen by editors only: GET/POST/PUT/DELETE /v1/drafts), accept suggested tags into
// it, and publish it, which files the entry with its tags for everyone to read. Opening
// an existing entry makes a draft that revises it.

import { ApiError, type NodeRecord, NotAvailable, type Page, apiKey, currentAccount, del, get, loadSession, node, post, put, setApiKey } from "../api";
import { type Child, failure, field, h, notice, replace } from "../dom";
import { busy, clearErrors, formField, formMessage, showErrors } from "../forms";
import { onLeave } from "../nav";
import { type Recommendation, recommendations } from "../explain";
import { nodeLink } from "../kinds";
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

/** A draft as `/v1/drafts` answers it (times in seconds since 1970). */
interface Draft {
  id: string;
  title: string;
  body: string;
  sectors: string[];
  goals: string[];
  revises: string | null;
  mine: boolean;
  created_at: number;
  updated_at: number;
  published_at: number | null;
  published_node: string | null;
}

type TagKind = "addresses" | "in_sector";

const ONLY_EDITORS = "Only editors can keep drafts; ask an admin.";

/** Why the visitor may not keep drafts, or "" if they may (a pasted key is trusted here:
 * the API decides). */
function writeBlocker(): string {
  if (apiKey()) return "";
  const account = currentAccount();
  if (!account) return "Sign in as an editor to keep drafts and publish entries (or use an editor key below).";
  if (account.role === "member") return ONLY_EDITORS;
  return "";
}

function clock(seconds: number): string {
  const at = new Date(seconds * 1000);
  return `${String(at.getHours()).padStart(2, "0")}:${String(at.getMinutes()).padStart(2, "0")}`;
}

/** When a draft was last saved, as a person says it: "14:02 today", "2 Dec, 14:02". */
function savedWhen(seconds: number): string {
  const at = new Date(seconds * 1000);
  const today = new Date().toDateString() === at.toDateString();
  return today ? `${clock(seconds)} today` : `${at.toLocaleDateString(undefined, { day: "numeric", month: "short" })}, ${clock(seconds)}`;
}

function sectorName(id: string): string {
  const slug = id.split(":")[1] ?? id;
  return slug.charAt(0).toUpperCase() + slug.slice(1).replace(/-/g, " ");
}

function goalName(id: string): string {
  const goal = Number(id.split(":")[1]);
  return `Goal ${goal}: ${SDG_NAMES[goal] ?? ""}`.trim();
}

function keyPanel(): HTMLElement {
  const input = h("input", { type: "password", name: "api-key", autocomplete: "off", spellcheck: "false" });
  const state = h("p", { class: "hint", role: "status" });
  const show = () => {
    state.textContent = apiKey() ? "A key is in use for this tab (kept in sessionStorage, never in the page's address)." : currentAccount() ? "No key: you work as yourself, signed in." : "No key: you are anonymous, and can read and check drafts but not keep them or publish.";
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
    h("p", null, "Signed in as an editor, you need no key. Without signing in, keeping drafts and publishing needs an editor's key (ask an admin: ", h("code", null, "cocreate keys create --role editor"), "). The key stays in this browser tab only."),
    field("API key", input),
    h("p", null, save, " ", forget),
    state,
  );
}

export async function render(main: HTMLElement, _params: Params, url: URL): Promise<void> {
  main.appendChild(h("h1", null, "Editor desk"));
  main.appendChild(h("p", null, "Paste a draft of a Grassroots Wisdom Book entry: see the entries it relates to, possible duplicates, people who practise it, and the goals and sectors it could be tagged with. Editors keep drafts here, out of sight of everyone else, until they publish them."));
  await loadSession();
  main.appendChild(keyPanel());

  let current: Draft | null = null; // the draft being written, once saved
  let revises: { id: string; name: string } | null = null; // the entry it changes
  let sectors: string[] = [];
  let goals: string[] = [];
  const targetLine = h("p", { class: "target-line", role: "status" });
  const title = h("input", { name: "title", maxlength: 300, autocomplete: "off" });
  const body = h("textarea", { name: "body", rows: 10, maxlength: 20000 });
  const showTarget = () => {
    replace(targetLine, revises ? ["You are changing ", nodeLink({ id: revises.id, name: revises.name, kind: "wisdom_entry" }), ": readers see your changes once you publish."] : "A new entry: it is filed in the Wisdom Book when you publish it.");
  };

  // The tags chosen for the draft, each with a way to take it off again.
  const sectorList = h("ul", { class: "plain-list chosen-tags" });
  const goalList = h("ul", { class: "plain-list chosen-tags" });
  const showTags = () => {
    const row = (id: string, label: Child, drop: () => void) => h("li", { "data-tag": id }, label, " ", h("button", { type: "button", class: "link-button", onclick: drop }, "Remove"));
    replace(sectorList, sectors.length ? sectors.map((id) => row(id, sectorName(id), () => { sectors = sectors.filter((s) => s !== id); showTags(); })) : h("li", { class: "muted" }, "None yet: accept a suggested sector below."));
    replace(goalList, goals.length ? goals.map((id) => row(id, [sdgBadge(Number(id.split(":")[1])), ` ${goalName(id)}`], () => { goals = goals.filter((g) => g !== id); showTags(); })) : h("li", { class: "muted" }, "None yet: accept a suggested goal below."));
  };
  const tagField = (label: string, name: string, list: HTMLElement) => h("div", { class: "field", "data-field": name }, h("span", { class: "label" }, label), list, h("p", { class: "field-error", hidden: true }));
  const accept = (kind: TagKind, id: string): string => {
    if (kind === "in_sector" && !sectors.includes(id)) sectors = [...sectors, id];
    if (kind === "addresses" && !goals.includes(id)) goals = [...goals, id];
    showTags();
    return "Added to your draft; save it to keep it.";
  };

  const saveButton = h("button", { type: "button", class: "secondary" }, "Save draft");
  const publishButton = h("button", { type: "button", class: "secondary" }, "Publish");
  const saveState = h("p", { class: "hint", role: "status" });
  const confirmRow = h("div", { class: "confirm-row", hidden: true });
  const draftForm = h(
    "form",
    { class: "draft", "aria-label": "Your draft", novalidate: true },
    formField("Title", title),
    formField("Draft", body, "the text of the entry, as long as you like (up to 20,000 characters)"),
    tagField("Sectors of this entry", "sectors", sectorList),
    tagField("Goals of this entry", "goals", goalList),
    formMessage(),
    h("p", null, h("button", { type: "submit" }, "Check my draft"), " ", saveButton, " ", publishButton),
    confirmRow,
    saveState,
  );
  draftForm.addEventListener("submit", (event) => {
    event.preventDefault();
    void check();
  });

  const listBox = h("div", { "aria-live": "polite" });
  const draftsCard = h("section", { class: "card", "aria-labelledby": "drafts-h" }, h("h2", { id: "drafts-h" }, "Your drafts"), h("p", { class: "hint" }, "The drafts of all editors, last saved first. Only editors can see them."), listBox);

  const showSaving = () => {
    const why = writeBlocker();
    saveButton.disabled = publishButton.disabled = Boolean(why);
    draftsCard.hidden = Boolean(why);
    if (why) saveState.textContent = why;
    else if (!current) saveState.textContent = "Not saved yet. Saving keeps it as a draft that only editors can see.";
  };

  const open = (draft: Draft | null, entry: { id: string; name: string } | null) => {
    current = draft;
    revises = entry;
    title.value = draft?.title ?? title.value;
    body.value = draft?.body ?? body.value;
    sectors = draft ? [...draft.sectors] : [];
    goals = draft ? [...draft.goals] : [];
    confirmRow.hidden = true;
    showTags();
    showTarget();
    showSaving();
    if (draft) saveState.textContent = `Draft last saved at ${clock(draft.updated_at)}, only editors can see it.`;
  };

  // Only the latest refresh shows its answer: an earlier one answered later (the list
  // asked for as the key was set, then again after a save) would show an older list.
  let listing = 0;
  const refreshList = async (): Promise<void> => {
    const asked = ++listing;
    if (writeBlocker()) return replace(listBox);
    try {
      const page = await get<{ items: Draft[] }>("/v1/drafts");
      if (asked !== listing) return;
      if (!page.items.length) return replace(listBox, h("p", { class: "muted" }, "No drafts yet."));
      replace(listBox, h("ul", { class: "plain-list drafts-list" }, page.items.map((d) => {
        const opener = h("button", { type: "button", class: "secondary" }, "Open");
        const remover = h("button", { type: "button", class: "secondary" }, "Delete");
        const item = h("li", { "data-draft": d.id }, h("strong", null, d.title), h("span", { class: "muted" }, ` · last saved ${savedWhen(d.updated_at)}${d.revises ? " · changes a published entry" : ""}${d.mine ? " · yours" : ""}`), " ", opener, " ", remover);
        opener.addEventListener("click", () => {
          void (async () => {
            let entry: { id: string; name: string } | null = null;
            if (d.revises) {
              try {
                const found = await node(d.revises);
                entry = { id: found.id, name: found.name };
              } catch {
                entry = { id: d.revises, name: d.title };
              }
            }
            open(d, entry);
            title.focus();
          })();
        });
        remover.addEventListener("click", () => {
          remover.disabled = true;
          del(`/v1/drafts/${d.id}`).then(() => {
            if (current?.id === d.id) open(null, revises);
            void refreshList();
          }).catch((error: unknown) => {
            remover.disabled = false;
            item.appendChild(failure(error, "Deleting the draft"));
          });
        });
        return item;
      })));
    } catch (error) {
      if (asked === listing) replace(listBox, failure(error, "Your drafts"));
    }
  };

  const refused = (error: unknown, what: string) => {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      showErrors(draftForm, new ApiError(error.status, ONLY_EDITORS), what);
    } else if (error instanceof ApiError) {
      // "draft.title" (publishing under a title that exists) is said beside the title too
      const errors = error.errors.map((e) => ({ ...e, field: e.field.replace(/^draft\./, "body.") }));
      showErrors(draftForm, new ApiError(error.status, error.detail, errors), what);
    } else {
      showErrors(draftForm, error, what);
    }
  };

  /** Save the desk's draft (a new one, or the one open); the saved draft. */
  const store = async (): Promise<Draft> => {
    const fields = { title: title.value.trim(), body: body.value.trim(), sectors, goals, revises: revises?.id ?? null };
    const saved = current ? await put<Draft>(`/v1/drafts/${current.id}`, fields) : await post<Draft>("/v1/drafts", fields);
    current = saved;
    return saved;
  };

  saveButton.addEventListener("click", () => {
    void busy(draftForm, async () => {
      try {
        const saved = await store();
        clearErrors(draftForm);
        saveState.textContent = `Draft saved at ${clock(saved.updated_at)}, only editors can see it.`;
        await refreshList();
      } catch (error) {
        refused(error, "Saving did not work");
      }
    });
  });

  publishButton.addEventListener("click", () => {
    const name = title.value.trim() || "this entry";
    const yes = h("button", { type: "button" }, "Yes, publish");
    const no = h("button", { type: "button", class: "secondary" }, "Not yet");
    replace(confirmRow, h("p", null, `Publish “${name}” in the Wisdom Book? Everyone will be able to read it.`), h("p", null, yes, " ", no));
    confirmRow.hidden = false;
    yes.focus();
    no.addEventListener("click", () => {
      confirmRow.hidden = true;
    });
    yes.addEventListener("click", () => {
      confirmRow.hidden = true;
      void busy(draftForm, async () => {
        try {
          const saved = await store();
          const done = await post<{ node: NodeRecord; draft: Draft }>(`/v1/drafts/${saved.id}/publish`);
          clearErrors(draftForm);
          open(null, { id: done.node.id, name: done.node.name });
          replace(saveState, "Published: ", nodeLink(done.node), ". Everyone can read it now.");
          await refreshList();
        } catch (error) {
          refused(error, "Publishing did not work");
          if (current) {
            saveState.textContent = `Draft saved at ${clock(current.updated_at)}, only editors can see it; it is not published.`;
            await refreshList();
          }
        }
      });
    });
  });

  const lookup = h("input", { type: "search", name: "entry", autocomplete: "off", maxlength: 100 });
  const found = h("div", { "aria-live": "polite" });
  const loadEntry = async (id: string) => {
    try {
      const entry = await node(id);
      const text = typeof entry.body === "string" ? entry.body : "";
      title.value = entry.name;
      body.value = text;
      replace(found);
      if (writeBlocker()) {
        open(null, { id: entry.id, name: entry.name });
        return;
      }
      // Opening an entry makes a draft of it (with the entry's sectors and goals), or
      // opens the draft of it an editor already keeps.
      const kept = (await get<{ items: Draft[] }>("/v1/drafts")).items.filter((d) => d.revises === entry.id);
      const made = kept.find((d) => d.mine) ?? kept[0] ?? (await post<Draft>("/v1/drafts", { title: entry.name, body: text, revises: entry.id }));
      open(made, { id: entry.id, name: entry.name });
      saveState.textContent = `A draft of “${entry.name}” is open, only editors can see it. The entry changes when you publish.`;
      await refreshList();
    } catch (error) {
      replace(found, failure(error, "Opening the entry"));
    }
  };
  const lookupForm = h("form", { class: "search-row", "aria-label": "Open an existing entry" }, field("Existing entry (name starts with)", lookup), h("button", { type: "submit", class: "secondary" }, "Find"));
  lookupForm.addEventListener("submit", (event) => {
    event.preventDefault();
    get<Page<NodeRecord>>("/v1/nodes", { kind: "wisdom_entry", q: lookup.value.trim() || undefined, limit: 10 }).then(
      (page) => replace(found, page.items.length ? h("ul", { class: "plain-list" }, page.items.map((n) => h("li", null, h("button", { type: "button", class: "link-button", onclick: () => void loadEntry(n.id) }, `Open “${n.name}”`)))) : notice("info", "No entry with a name like that.")),
    ).catch(
      (error) => replace(found, failure(error, "Finding entries")),
    );
  });

  const results = h("div", { class: "desk-results", "aria-live": "polite" });
  const onSession = () => {
    showSaving();
    void refreshList();
  };
  open(null, null);
  window.addEventListener("cocreate:session", onSession);
  window.addEventListener("cocreate:key", onSession);
  onLeave(() => {
    window.removeEventListener("cocreate:session", onSession);
    window.removeEventListener("cocreate:key", onSession);
  });
  main.append(draftsCard, h("section", { class: "card", "aria-label": "Write or open a draft" }, lookupForm, found, draftForm, targetLine), results);
  void refreshList();

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
    if (suggested.status === "fulfilled") tags.appendChild(tagList(suggested.value, accept));
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

function tagList(found: Suggestions, accept: (kind: TagKind, id: string) => string): HTMLElement {
  const row = (tag: { id: string; confidence: number; suggested: boolean; evidence: string[] }, label: Child, kind: TagKind, extra?: Child) => {
    const state = h("span", { class: "accept-state", role: "status" });
    const button = h("button", { type: "button", class: "secondary", "data-tag": tag.id }, "Accept");
    const refresh = () => {
      const why = writeBlocker();
      button.disabled = Boolean(why);
      state.textContent = why;
    };
    refresh();
    window.addEventListener("cocreate:key", refresh);
    window.addEventListener("cocreate:session", refresh);
    onLeave(() => {
      window.removeEventListener("cocreate:key", refresh);
      window.removeEventListener("cocreate:session", refresh);
    });
    button.addEventListener("click", () => {
      state.textContent = accept(kind, tag.id);
    });
    return h(
      "li",
      { class: `tag${tag.suggested ? " suggested" : ""}`, "data-tag": tag.id },
      h("div", { class: "tag-head" }, label, h("span", { class: "confidence" }, `${Math.round(tag.confidence * 100)}% confidence`), tag.suggested ? h("span", { class: "chip" }, "suggested") : null),
      extra,
      tag.evidence.length ? h("p", { class: "muted" }, "Evidence: ", tag.evidence.join("; ")) : null,
      h("p", null, button, " ", state),
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
