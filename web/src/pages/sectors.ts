// For sector councils: the sector's current council and its board member, the council
// assistant that proposes members covering regions and themes and compares them with the
// current council, the 12 x 12 overlap as a heatmap, ranked synergies with reasons, bridge
// people, sub-sector groups and gaps as a goal x region grid. On phones the long parts fold
// away (the first stays open), so the first screen is the heading, the council and the list
// of parts. Strength is shown as words or percentages, never as raw scores or formulas.

import { ApiError, type NodeRecord, apiKey, currentAccount, get, node, post, sectors } from "../api";
import { type Child, failure, field, h, notice, plural, replace, section } from "../dom";
import { type Recommendation, recommendations } from "../explain";
import { kindLabel, nodeLink } from "../kinds";
import type { Params } from "../main";
import { onLeave } from "../nav";
import { hslHex, sdgBadge, textOn } from "../sdg";
import { fold, onPhone, openHashed, openOnLink, partsList } from "../widgets";
import { hubCounts } from "./node";

interface Overlap {
  sectors: { id: string; name: string }[];
  matrix: number[][];
  components?: Record<string, number[][]>;
  shared_sdgs?: number[][][];
  shared_people?: number[][];
  explanation?: { summary?: string };
  detail?: OverlapCell | null;
}

interface CellReasons {
  summary?: string;
  components?: Record<string, number>;
  shared_sdgs?: { id: string; number: number; name: string }[];
  shared_people?: number;
}

interface OverlapCell extends CellReasons {
  score: number;
  explanation?: CellReasons;
}

const SHORT: Record<string, string> = {
  "sector:gender-partnerships": "Gender",
  "sector:restorative-justice": "Restorative",
  "sector:science-research": "Science",
  "sector:social-justice": "Soc. justice",
  "sector:social-services": "Soc. services",
};

function shortName(s: { id: string; name: string }): string {
  return SHORT[s.id] ?? s.name;
}

function sectorApi(id: string, part: string): string {
  return `/v1/sectors/${encodeURIComponent(id)}/${part}`;
}

/** A share between 0 and 1 as a whole percentage: the same reading on every page. */
function percent(value: number): string {
  return `${Math.round(Math.max(0, Math.min(1, value)) * 100)}%`;
}

/** An overlap in words (as the server's sentences put it). */
function overlapWords(value: number): string {
  return value >= 0.67 ? "overlap strongly" : value >= 0.34 ? "overlap moderately" : "overlap a little";
}

/** "a", "a and b", "a, b and c". */
function joinWords(words: string[]): string {
  return words.length < 2 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} and ${words[words.length - 1]}`;
}

/** A sequential colour from pale to deep blue for a value between 0 and 1. */
function heat(value: number): { background: string; text: string } {
  const t = Math.max(0, Math.min(1, value));
  const light = 97 - t * 67; // 97% (pale) to 30% (deep)
  // Black or white by the cell's luminance: at least 4.5:1 on every shade (white up to 58% gave 3.2:1).
  return { background: `hsl(210, 70%, ${light}%)`, text: textOn(hslHex(210, 0.7, light / 100)) };
}

/** The overlap matrix as a table: rows and columns are sectors, each cell a button. */
export function heatmap(overlap: Overlap, options: { highlight?: string; onPick: (a: string, b: string) => void }): HTMLElement {
  const names = overlap.sectors;
  const off = overlap.matrix.flatMap((row, i) => row.filter((_, j) => j !== i));
  const low = Math.min(...off);
  const high = Math.max(...off);
  const scale = (v: number) => (high > low ? (v - low) / (high - low) : 0.5);
  const table = h(
    "table",
    { class: "heatmap", "data-size": names.length },
    h("caption", null, "How much each pair of sectors overlaps, from 0% to 100%: the goals they share, the people in both and how alike their work reads. Choose a cell to see the pair's synergies."),
    h("thead", null, h("tr", null, h("td", null), names.map((s) => h("th", { scope: "col", title: s.name }, h("span", null, shortName(s)))))),
    h(
      "tbody",
      null,
      names.map((row, i) =>
        h(
          "tr",
          { class: row.id === options.highlight ? "highlight" : null },
          h("th", { scope: "row", title: row.name }, shortName(row)),
          overlap.matrix[i].map((value, j) => {
            const col = names[j];
            const colours = heat(i === j ? 1 : scale(value));
            const goals = overlap.shared_sdgs?.[i]?.[j] ?? [];
            const label = `${row.name} and ${col.name}: ${overlapWords(value)}, ${percent(value)}${goals.length ? `, both work on SDG ${goals.join(", ")}` : ""}`;
            const cell = h(
              "td",
              { class: `cell${i === j ? " diagonal" : ""}`, "data-row": row.id, "data-col": col.id, "data-value": value },
              i === j
                ? h("span", { "aria-label": `${row.name} with itself`, title: row.name }, "·")
                : h("button", { type: "button", "aria-label": label, title: label, style: { backgroundColor: colours.background, color: colours.text } }, percent(value)),
            );
            if (i !== j) cell.querySelector("button")?.addEventListener("click", () => options.onPick(row.id, col.id));
            return cell;
          }),
        ),
      ),
    ),
  );
  return h("div", { class: "heatmap-wrap", tabindex: 0, role: "region", "aria-label": "Sector overlap heatmap (scrolls sideways on small screens)" }, table);
}

/** The overlap heatmap's loader: the table, its legend and the chosen pair's reasons. */
function overlapParts(highlight?: string): () => Promise<Child> {
  const detail = h("div", { class: "pair-detail", "aria-live": "polite" });
  let overlap: Overlap | null = null;
  const pick = (a: string, b: string) => {
    if (!overlap) return;
    const nameA = overlap.sectors.find((s) => s.id === a)?.name ?? a;
    const nameB = overlap.sectors.find((s) => s.id === b)?.name ?? b;
    const why = h("div", null, h("p", { class: "loading" }, "Loading the reasons…"));
    const pairs = h("div", null, h("p", { class: "loading" }, "Loading synergies…"));
    replace(detail, h("h3", { tabindex: -1 }, `${nameA} and ${nameB}`), why, h("h4", null, "Synergies between them"), pairs);
    (detail.querySelector("h3") as HTMLElement).focus();
    get<Overlap>("/v1/sectors/overlap", { detail: `${a},${b}` }).then(
      (found) => {
        const cell = found.detail;
        if (!cell) return replace(why);
        const reasons: CellReasons = { ...cell, ...(cell.explanation ?? {}) };
        const goals = reasons.shared_sdgs ?? [];
        replace(
          why,
          reasons.summary ? h("p", { class: "summary cell-summary" }, reasons.summary) : null,
          h("p", null, h("span", { class: "reason-label" }, "Overlap: "), `${percent(cell.score)}, they ${overlapWords(cell.score)}`),
          goals.length ? h("p", null, h("span", { class: "reason-label" }, "Goals both work on: "), goals.map((g) => sdgBadge(g.number, { shared: true, name: g.name }))) : null,
          reasons.shared_people !== undefined ? h("p", null, h("span", { class: "reason-label" }, "People in both: "), String(reasons.shared_people)) : null,
        );
      },
    ).catch(
      (error) => replace(why, failure(error, "The reasons")),
    );
    get<{ items: Recommendation[] }>(sectorApi(a, "synergies"), { with: b, limit: 5 }).then(
      (page) => replace(pairs, recommendations(page.items, "No pairs found between these two sectors.")),
    ).catch(
      (error) => replace(pairs, failure(error, "Synergies")),
    );
  };
  return async () => {
    overlap = await get<Overlap>("/v1/sectors/overlap");
    const legend = h("p", { class: "muted" }, overlap.explanation?.summary ?? "Each cell combines shared goals, shared people and similar content.");
    return [heatmap(overlap, { highlight, onPick: pick }), legend, detail];
  };
}

function overlapCard(parent: HTMLElement): Promise<void> {
  return section(parent, "Overlap between the twelve sectors", overlapParts(), { id: "overlap" });
}

function overlapFold(parent: HTMLElement, highlight: string, open: boolean): Promise<void> {
  return fold(parent, "Overlap between the twelve sectors", "overlap", overlapParts(highlight), { open });
}

export async function renderOverview(main: HTMLElement): Promise<void> {
  main.appendChild(h("h1", null, "Sector councils"));
  main.appendChild(h("p", null, "Twelve global sector councils connect co-creators across the network. Choose a sector for its synergies, bridge people, sub-sector groups, gaps and the council assistant."));
  const list = h("ul", { class: "sector-list" }, h("li", { class: "loading" }, "Loading…"));
  main.appendChild(h("nav", { "aria-label": "Sectors" }, list));
  const tasks = [
    sectors().then(
      (page) => replace(list, page.items.map((s) => h("li", null, h("a", { href: `/sectors/${s.id.split(":")[1]}` }, s.name)))),
    ).catch(
      (error) => replace(list, h("li", null, failure(error, "Sectors"))),
    ),
    overlapCard(main),
  ];
  await Promise.allSettled(tasks);
}

interface Sdg {
  id: string;
  number: number;
  name: string;
}

interface Gaps {
  regions: string[];
  sdgs: Sdg[];
  cells: { count: number; people: number; content: number; expected: number; gap: boolean }[][];
  key_sdgs: Sdg[];
  unplaced?: number;
  gaps: (Recommendation["explanation"] & { sdg: Sdg; region: string; count: number; expected: number })[];
  explanation?: { summary?: string };
}

/** Goal x region grid: each cell the sector's activity there; gaps stand out. */
function gapGrid(data: Gaps): Child {
  const max = Math.max(1, ...data.cells.flat().map((c) => c.count));
  const key = new Set(data.key_sdgs.map((g) => g.id));
  const table = h(
    "div",
    { class: "heatmap-wrap", tabindex: 0, role: "region", "aria-label": "Activity by goal and region" },
    h(
      "table",
      { class: "gaps" },
      h("caption", null, "People, initiatives and entries of the sector per goal and world region. Striped cells are gaps: far less than the network's spread would lead one to expect, on a key goal (marked ★)."),
      h("thead", null, h("tr", null, h("td", null), data.regions.map((r) => h("th", { scope: "col" }, r)))),
      h(
        "tbody",
        null,
        data.sdgs.map((goal, i) =>
          h(
            "tr",
            { "data-sdg": goal.number },
            h("th", { scope: "row" }, sdgBadge(goal.number, { name: goal.name }), key.has(goal.id) ? h("span", { title: "a key goal of the sector", "aria-label": "key goal" }, " ★") : null),
            (data.cells[i] ?? []).map((cell, j) => {
              const colours = heat(cell.count / max);
              const label = `SDG ${goal.number} in ${data.regions[j]}: ${cell.count} (about ${Math.round(cell.expected)} expected)${cell.gap ? ", a gap" : ""}`;
              return h(
                "td",
                { class: cell.gap ? "gap" : null, title: label, "aria-label": label, "data-gap": cell.gap ? "true" : null, style: cell.gap || !cell.count ? {} : { backgroundColor: colours.background, color: colours.text } },
                String(cell.count),
              );
            }),
          ),
        ),
      ),
    ),
  );
  return [
    data.explanation?.summary ? h("p", { class: "summary" }, data.explanation.summary) : null,
    table,
    data.gaps.length ? [h("h3", null, "The largest gaps"), h("ol", { class: "recs" }, data.gaps.slice(0, 5).map((g) => h("li", { class: "rec" }, h("p", { class: "summary" }, g.summary ?? ""))))] : null,
  ];
}

interface Group {
  id: string;
  label: string;
  size: number;
  kinds: Record<string, number>;
  members: NodeRecord[];
  explanation: { summary?: string; terms?: { term: string; weight: number }[]; sdgs?: Sdg[] };
}

/** Sub-sector groups: a label from their words, who is in them, and why they hang together. */
function groupList(data: { items: Group[]; explanation?: { summary?: string } }): Child {
  if (!data.items.length) return notice("info", "No sub-sector groups found.");
  return [
    data.explanation?.summary ? h("p", { class: "summary" }, data.explanation.summary) : null,
    h(
      "ol",
      { class: "groups" },
      data.items.map((g) =>
        h(
          "li",
          { class: "group", "data-group": g.id },
          h("strong", null, g.label),
          h("span", { class: "muted" }, ` · ${Object.entries(g.kinds).map(([k, n]) => plural(n, kindLabel(k), kindLabel(k, 2))).join(", ")}`),
          g.explanation.summary ? h("p", { class: "summary" }, g.explanation.summary) : null,
          g.explanation.sdgs?.length ? h("p", null, h("span", { class: "reason-label" }, "Goals: "), g.explanation.sdgs.slice(0, 5).map((x) => sdgBadge(x.number, { name: x.name }))) : null,
          g.members.length ? h("p", null, h("span", { class: "reason-label" }, "Among them: "), h("span", { class: "inline-list" }, g.members.slice(0, 10).map((m) => nodeLink(m)))) : null,
        ),
      ),
    ),
  ];
}

interface Proposal {
  members: Recommendation[];
  coverage: { regions: string[]; sdgs: Sdg[]; groups: { id: string; label: string }[]; board_member: boolean };
  uncovered: { regions: string[]; sdgs: Sdg[]; groups: { id: string; label: string }[] };
  candidates: number;
  explanation?: { summary?: string };
}

function coverageView(title: string, part: { regions: string[]; sdgs: Sdg[]; groups: { label: string }[] }): Child {
  if (!part.regions.length && !part.sdgs.length && !part.groups.length) return null;
  return h(
    "div",
    null,
    h("h4", null, title),
    h(
      "dl",
      { class: "facts" },
      part.regions.length ? [h("dt", null, "Regions"), h("dd", null, part.regions.join(", "))] : null,
      part.sdgs.length ? [h("dt", null, "Goals"), h("dd", null, part.sdgs.map((g) => sdgBadge(g.number, { name: g.name })))] : null,
      part.groups.length ? [h("dt", null, "Groups"), h("dd", null, part.groups.map((g) => g.label).join("; "))] : null,
    ),
  );
}

interface CouncilMember {
  node: NodeRecord;
  board_member: boolean;
  since: string | null;
  region: string | null;
  sectors: { id: string; name: string }[];
}

/** GET /v1/sectors/{id}/council: who sits on the sector's global council today. */
interface CurrentCouncil {
  sector: { id: string; name: string };
  council: { id: string; name: string; description: string } | null;
  members: CouncilMember[];
  board_member: { id: string; name: string } | null;
  explanation: { summary: string };
}

/** What a current member brings, in words: where they are and the sectors they care about. */
function memberBrings(m: CouncilMember): string {
  const parts = [m.region ? `From ${m.region}` : null, m.sectors.length ? `${m.region ? "cares" : "Cares"} about ${joinWords(m.sectors.map((s) => s.name))}` : null].filter(Boolean);
  return parts.length ? `${parts.join("; ")}.` : "";
}

/** What a proposed member brings, in words: their region, goals and group. */
function proposedBrings(rec: Recommendation, current?: CouncilMember): string {
  const why = rec.explanation ?? {};
  const region = typeof why.region === "string" ? why.region : current?.region;
  const goals = Array.isArray(why.sdgs) ? (why.sdgs as Sdg[]).slice(0, 3).map((g) => g.name) : [];
  const group = why.group && typeof why.group === "object" ? (why.group as { label?: string }).label : undefined;
  const parts = [
    region ? `From ${region}` : null,
    current?.sectors.length ? `cares about ${joinWords(current.sectors.map((s) => s.name))}` : null,
    goals.length ? `works on ${joinWords(goals)}` : null,
    group ? `in the group "${group}"` : null,
  ].filter((part): part is string => Boolean(part));
  const text = parts.join("; ");
  return text ? `${text.charAt(0).toUpperCase()}${text.slice(1)}.` : "";
}

function boardTag(board: boolean): Child {
  return board ? h("span", { class: "board-tag" }, "Board member") : null;
}

/** The sector's current council: its members (the board member first) and what each brings. */
function councilCard(parent: HTMLElement, found: Promise<CurrentCouncil>): Promise<void> {
  const body = h("div", { "aria-busy": "true" }, h("p", { class: "loading" }, "Loading the council…"));
  parent.appendChild(h("section", { class: "card council-card", id: "council", "aria-labelledby": "council-h" }, h("h2", { id: "council-h" }, "Current council"), body));
  return found.then(
    (council) => {
      body.removeAttribute("aria-busy");
      replace(
        body,
        h("p", { class: "summary" }, council.explanation.summary),
        council.council?.description ? h("p", { class: "muted" }, council.council.description) : null,
        council.members.length
          ? h(
              "ul",
              { class: "council-members" },
              council.members.map((m) =>
                h(
                  "li",
                  { "data-id": m.node.id, "data-board": m.board_member ? "true" : null },
                  h("p", { class: "member-head" }, nodeLink(m.node), " ", boardTag(m.board_member)),
                  h("p", { class: "muted" }, memberBrings(m), m.since ? ` On the council since ${m.since.slice(0, 4)}.` : ""),
                ),
              ),
            )
          : null,
        h("p", null, h("a", { href: "#assistant-h", "data-open": "assistant-h" }, "Compare with a proposal from the council assistant")),
      );
    },
    (error: unknown) => {
      body.removeAttribute("aria-busy");
      replace(body, failure(error, "The current council"));
    },
  );
}

/** The proposal beside the current council: who stays, who is new, who would leave. */
function comparison(current: CurrentCouncil | null, proposal: Proposal): Child {
  if (!current) return null;
  if (!current.council || !current.members.length) {
    return notice("info", "The sector has no current council to compare the proposal with.");
  }
  const now = new Map(current.members.map((m) => [m.node.id, m]));
  const proposed = proposal.members.filter((r): r is Recommendation & { node: NodeRecord } => Boolean(r.node));
  const ids = new Set(proposed.map((r) => r.node.id));
  const kept = proposed.filter((r) => now.has(r.node.id)).length;
  const fresh = proposed.length - kept;
  const leaving = current.members.filter((m) => !ids.has(m.node.id)).length;
  const sentence =
    `The proposal keeps ${kept ? `${kept} of the ${plural(now.size, "current member")}` : "none of the current members"}, ` +
    `brings in ${fresh ? plural(fresh, "new person", "new people") : "nobody new"}` +
    (leaving ? `, and ${plural(leaving, "current member")} would leave.` : ", and nobody would leave.");
  const status = (text: string, kind: string) => h("span", { class: `status-tag status-${kind}` }, text);
  return h(
    "div",
    { class: "comparison", "aria-label": "The proposal compared with the current council" },
    h("h4", null, `Compared with the ${current.council.name}`),
    h("p", { class: "summary" }, sentence),
    h(
      "div",
      { class: "compare" },
      h(
        "div",
        { class: "compare-side", "data-side": "current" },
        h("h5", null, "Current council"),
        h("ul", { class: "council-members" }, current.members.map((m) => {
          const stays = ids.has(m.node.id);
          return h(
            "li",
            { "data-id": m.node.id, "data-status": stays ? "kept" : "leaving" },
            h("p", { class: "member-head" }, nodeLink(m.node), " ", boardTag(m.board_member), " ", stays ? status("Stays", "kept") : status("Would leave", "leaving")),
            h("p", { class: "muted" }, memberBrings(m)),
          );
        })),
      ),
      h(
        "div",
        { class: "compare-side", "data-side": "proposal" },
        h("h5", null, "Proposed council"),
        h("ul", { class: "council-members" }, proposed.map((r) => {
          const was = now.get(r.node.id);
          const board = r.explanation?.board_member === true;
          return h(
            "li",
            { "data-id": r.node.id, "data-status": was ? "kept" : "new" },
            h("p", { class: "member-head" }, nodeLink(r.node), " ", boardTag(board), " ", was ? status("Stays", "kept") : status("New", "new")),
            h("p", { class: "muted" }, proposedBrings(r, was)),
          );
        })),
      ),
    ),
  );
}

/** Whether the visitor can propose a council: signed in, or with a key held for the session. */
function mayPropose(): boolean {
  return currentAccount() !== null || apiKey() !== null;
}

function signInNotice(): HTMLElement {
  return notice("info", h("a", { href: `/signin?next=${encodeURIComponent(location.pathname)}` }, "Sign in"), " to propose a council.");
}

function councilAssistant(sectorId: string, current: Promise<CurrentCouncil | null>): Child {
  const size = h("select", { name: "size" }, [5, 6, 7, 8].map((n) => h("option", { value: n }, String(n))));
  size.value = "7";
  const out = h("div", { "aria-live": "polite" });
  const needsKey = h("p", { class: "hint" });
  const showKey = () => {
    replace(needsKey, mayPropose() ? "" : [h("a", { href: `/signin?next=${encodeURIComponent(location.pathname)}` }, "Sign in"), " to propose a council."]);
  };
  showKey();
  window.addEventListener("cocreate:key", showKey);
  window.addEventListener("cocreate:session", showKey);
  onLeave(() => {
    window.removeEventListener("cocreate:key", showKey);
    window.removeEventListener("cocreate:session", showKey);
  });
  const form = h("form", { class: "assistant", "aria-label": "Council assistant" }, field("Council size", size, "five to eight members, one of them a board member"), h("button", { type: "submit" }, "Propose a council"), needsKey);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!mayPropose()) {
      replace(out, signInNotice());
      return;
    }
    replace(out, h("p", { class: "loading" }, "Composing…"));
    Promise.all([post<Proposal>("/v1/councils/propose", { sector: sectorId, size: Number(size.value) }), current]).then(
      ([found, council]) => {
        replace(
          out,
          found.explanation?.summary ? h("p", { class: "summary" }, found.explanation.summary) : null,
          comparison(council, found),
          h("h4", null, "Why each of them"),
          recommendations(found.members, "No candidates found."),
          coverageView(found.coverage.board_member ? "What they cover (with a board member)" : "What they cover (no board member found)", found.coverage),
          coverageView("Not covered yet", found.uncovered),
        );
      },
    ).catch(
      (error) => {
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
          replace(out, signInNotice());
        } else replace(out, failure(error, "The council assistant"));
      },
    );
  });
  const intro = h("p", null, "Proposes members who together cover the sector's regions, key goals and groups, with the reason for each, and sets them beside the current council. Nothing is written: the council decides.");
  return [intro, form, out];
}

interface BridgesAnswer {
  items: Recommendation[];
  single_points_of_failure: Recommendation[];
  unlinked_sectors: { id: string; name: string }[];
  explanation?: { summary?: string };
}

function selectOf(name: string, options: [string, string][]): HTMLSelectElement {
  return h("select", { name }, options.map(([value, label]) => h("option", { value }, label)));
}

const KIND_WORDS: Record<string, string> = { initiative: "initiatives", person: "people", wisdom_entry: "Wisdom Book entries" };

export async function renderSector(main: HTMLElement, params: Params): Promise<void> {
  const id = `sector:${params.slug}`;
  let sector: NodeRecord;
  try {
    sector = await node(id);
  } catch (error) {
    main.appendChild(h("h1", null, "Sector"));
    main.appendChild(failure(error, "This sector"));
    return;
  }
  main.appendChild(h("h1", null, `${sector.name} sector`));
  const aliases = Array.isArray(sector.aliases) ? (sector.aliases as string[]) : [];
  const about: Child = [
    typeof sector.description === "string" ? h("p", { class: "bio" }, sector.description) : null,
    aliases.length ? h("p", { class: "muted" }, `Also known as: ${aliases.join("; ")}.`) : null,
    h("p", { class: "actions" }, h("a", { href: `/map?sector=${encodeURIComponent(id)}`, class: "button secondary" }, "On the map"), " ", h("a", { href: `/graph/${id}`, class: "button secondary" }, "In the graph"), " ", h("a", { href: "/sectors" }, "All sectors")),
  ];
  // The list of parts, then the current council: who the sector's council is, before
  // what it studies (on a phone both fit the first screen or nearly).
  const parts: [string, string][] = [
    ["about", "About"], ["assistant-h", "Council assistant"], ["synergies", "Synergies"], ["bridges", "Bridge people"],
    ["groups", "Sub-sector groups"], ["gaps", "Gaps"], ["overlap", "Overlap"], ["numbers", "In numbers"],
  ];
  main.appendChild(partsList(parts));
  openOnLink(main);
  const council = get<CurrentCouncil>(sectorApi(id, "council"));
  const councilOrNone = council.catch(() => null);
  const councilShown = councilCard(main, council);

  const synergyKind = selectOf("kind", [["initiative", "initiatives"], ["person", "people"], ["wisdom_entry", "Wisdom Book entries"]]);
  const synergiesBody = h("div");
  const loadSynergies = () =>
    get<{ items: Recommendation[] }>(sectorApi(id, "synergies"), { with: "all", kind: synergyKind.value, limit: 10 }).then(
      (page) =>
        replace(
          synergiesBody,
          h("p", { class: "muted" }, `Pairs of ${KIND_WORDS[synergyKind.value] ?? "nodes"}, one from ${sector.name} and one from another sector, that share a goal or a place and describe related work; the closest pairs first.`),
          recommendations(page.items, "No synergies found."),
        ),
    ).catch(
      (error) => replace(synergiesBody, failure(error, "Synergies")),
    );
  synergyKind.addEventListener("change", () => void loadSynergies());

  const bridgeKind = selectOf("kind", [["person", "people"], ["initiative", "initiatives"], ["council", "councils"]]);
  const bridgesBody = h("div");
  const loadBridges = () =>
    get<BridgesAnswer>(sectorApi(id, "bridges"), { kind: bridgeKind.value, limit: 10 }).then(
      (page) =>
        replace(
          bridgesBody,
          recommendations(page.items, "No bridges found."),
          page.single_points_of_failure.length ? [h("h3", null, "Single points of failure"), h("p", { class: "muted" }, "Without them a sector would lose its only link here."), recommendations(page.single_points_of_failure, "")] : null,
          page.unlinked_sectors.length ? h("p", null, h("span", { class: "reason-label" }, "Not linked to: "), page.unlinked_sectors.map((s) => s.name).join(", ")) : null,
        ),
    ).catch(
      (error) => replace(bridgesBody, failure(error, "Bridges")),
    );
  bridgeKind.addEventListener("change", () => void loadBridges());

  // On a phone only the first long part (the assistant) is open; on wider screens all are.
  const open = (index: number) => index === 0 || !onPhone();
  const tasks: Promise<void>[] = [
    councilShown,
    fold(main, "About the sector", "about", async () => about, { open: !onPhone() }),
    fold(main, "Council assistant", "assistant-h", async () => councilAssistant(id, councilOrNone), { open: open(0) }),
    fold(main, "Synergies with other sectors", "synergies", async () => {
      await loadSynergies();
      return [h("div", { class: "filter-grid compact" }, field("Pairs of", synergyKind)), synergiesBody];
    }, { open: open(1) }),
    fold(main, "Bridge people", "bridges", async () => {
      await loadBridges();
      return [h("div", { class: "filter-grid compact" }, field("Bridges among", bridgeKind)), bridgesBody];
    }, { open: open(2), intro: h("p", { class: "muted section-intro" }, "Who links this sector with the others, and whose absence would cut a sector off.") }),
    fold(main, "Sub-sector groups", "groups", async () => groupList(await get<{ items: Group[]; explanation?: { summary?: string } }>(sectorApi(id, "groups"))), { open: open(3) }),
    fold(main, "Gaps by goal and region", "gaps", async () => gapGrid(await get<Gaps>(sectorApi(id, "gaps"))), { open: open(4) }),
    overlapFold(main, id, open(5)),
    fold(main, "In numbers", "numbers", async () => hubCounts(sector), { open: open(6) }),
  ];
  openHashed();
  await Promise.allSettled(tasks);
}
