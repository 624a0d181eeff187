// The editor desk: paste a draft of a Wisdom Book entry and see related entries,
// near-duplicates, people who practise it and suggested tags; with an editor's API key,
// accept a tag onto an existing entry.

import { ApiError, type NodeRecord, NotAvailable, type Page, apiKey, get, node, post, setApiKey } from "../api";
import { type Child, failure, field, h, notice, replace } from "../dom";
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

function keyPanel(): HTMLElement {
  const input = h("input", { type: "password", name: "api-key", autocomplete: "off", spellcheck: "false" });
  const state = h("p", { class: "hint", role: "status" });
  const show = () => {
    state.textContent = apiKey() ? "A key is in use for this tab (kept in sessionStorage, never in the page's address)." : "No key: you are anonymous, and can read and check drafts but not accept tags.";
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
    { class: "card key-panel", open: apiKey() ? null : true },
    h("summary", null, "Your API key (editors)"),
    h("p", null, "Accepting a tag writes to the network, which needs an editor's key (ask an admin: ", h("code", null, "cocreate keys create --role editor"), "). The key stays in this browser tab only."),
    field("API key", input),
    h("p", null, save, " ", forget),
    state,
  );
}

export async function render(main: HTMLElement, _params: Params, url: URL): Promise<void> {
  main.appendChild(h("h1", null, "Editor desk"));
  main.appendChild(h("p", null, "Paste a draft of a Grassroots Wisdom Book entry: see the entries it relates to, possible duplicates, people who practise it, and the goals and sectors it could be tagged with."));
  main.appendChild(keyPanel());

  let target: Target | null = null;
  const targetLine = h("p", { class: "target-line", role: "status" });
  const title = h("input", { name: "title", maxlength: 300, autocomplete: "off" });
  const body = h("textarea", { name: "body", rows: 10, maxlength: 20000 });
  const showTarget = () => {
    replace(targetLine, target ? ["Accepted tags go onto ", nodeLink({ id: target.id, name: target.name, kind: target.id.split(":")[0] }), "."] : "Load an existing entry below to accept tags onto it; a new draft is filed first through the API.");
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
      showTarget();
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
  const draft = h("form", { class: "draft", "aria-label": "Your draft" }, field("Title", title), field("Draft", body, "the text of the entry, as long as you like (up to 20,000 characters)"), h("button", { type: "submit" }, "Check my draft"));
  draft.addEventListener("submit", (event) => {
    event.preventDefault();
    void check();
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
      if (!apiKey()) return "Accepting a tag needs an editor key (paste it above).";
      if (!target()) return "Load an existing entry to accept tags onto it.";
      return "";
    };
    const refresh = () => {
      const why = explainWhy();
      accept.disabled = Boolean(why);
      state.textContent = why;
    };
    refresh();
    window.addEventListener("cocreate:key", refresh);
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
          else if (error instanceof ApiError && (error.status === 401 || error.status === 403)) state.textContent = `Not allowed with this key: ${error.detail}`;
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
