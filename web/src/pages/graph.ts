// The graph explorer: a node's neighbourhood as an interactive network, coloured by
// kind, that grows when a node is clicked (or chosen from the list, by keyboard).

import cytoscape from "cytoscape";
import { type EdgeRecord, type NodeRecord, type Page, get, node } from "../api";
import { failure, field, h, notice, plural, replace } from "../dom";
import { KIND_COLOURS, KIND_LABELS, kindColour, kindLabel, nodeHref } from "../kinds";
import type { Params } from "../main";
import { navigate, onLeave } from "../nav";

const EXPAND_LIMIT = 25;
const CYTOSCAPE_STYLE_ID = "__________cytoscape_stylesheet";

interface Neighbour {
  distance: number;
  node: NodeRecord;
}

/** Up to `limit` nodes taking each kind in turn, so a hub shows every kind it links to. */
function mixed(nodes: NodeRecord[], limit: number): NodeRecord[] {
  const byKind = new Map<string, NodeRecord[]>();
  for (const n of nodes) {
    const list = byKind.get(n.kind);
    if (list) list.push(n);
    else byKind.set(n.kind, [n]);
  }
  const queues = [...byKind.values()];
  const chosen: NodeRecord[] = [];
  for (let round = 0; chosen.length < limit && queues.some((q) => q.length > round); round += 1) {
    for (const queue of queues) {
      if (round < queue.length && chosen.length < limit) chosen.push(queue[round]);
    }
  }
  return chosen;
}

function shortLabel(name: string): string {
  return name.length > 28 ? `${name.slice(0, 26)}…` : name;
}

async function chooser(main: HTMLElement): Promise<void> {
  main.appendChild(h("h1", null, "Graph explorer"));
  main.appendChild(h("p", null, "Start from a node and grow its neighbourhood: people, initiatives, organisations, communities, sectors, goals and the Wisdom Book."));
  const box = h("input", { type: "search", name: "q", autocomplete: "off", maxlength: 100 });
  const kind = h("select", { name: "kind" }, h("option", { value: "" }, "any kind"), Object.keys(KIND_LABELS).map((k) => h("option", { value: k }, kindLabel(k))));
  const results = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "search-row", role: "search", "aria-label": "Find a node to start from" }, field("Name starts with", box), field("Kind", kind), h("button", { type: "submit" }, "Find"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    replace(results, h("p", { class: "loading" }, "Looking…"));
    get<Page<NodeRecord>>("/v1/nodes", { q: box.value.trim() || undefined, kind: kind.value || undefined, limit: 20 }).then(
      (page) => replace(results, page.items.length ? h("ul", { class: "plain-list" }, page.items.map((n) => h("li", null, h("a", { href: `/graph/${n.id}` }, n.name), h("span", { class: "muted" }, ` · ${kindLabel(n.kind)}`)))) : notice("info", "No node with a name like that.")),
    ).catch(
      (error) => replace(results, failure(error, "Finding nodes")),
    );
  });
  main.append(form, results, h("p", null, "Or start from: ", h("a", { href: "/graph/sector:health" }, "the Health sector"), " · ", h("a", { href: "/graph/sdg:4" }, "SDG 4"), " · ", h("a", { href: "/graph/community:capital-region" }, "the Capital Region")));
}

export async function render(main: HTMLElement, params: Params): Promise<void> {
  if (!params.id) return chooser(main);
  const start = params.id;
  let root: NodeRecord;
  try {
    root = await node(start);
  } catch (error) {
    main.appendChild(h("h1", null, "Graph explorer"));
    main.appendChild(failure(error, start));
    return;
  }
  main.appendChild(h("h1", null, `Around ${root.name}`));
  const legend = h("ul", { class: "legend", "aria-label": "Colours by kind" }, Object.keys(KIND_COLOURS).map((k) => h("li", null, h("span", { class: `swatch kind-${k}`, "aria-hidden": "true" }), kindLabel(k, 2))));
  const onlyKind = h("select", { name: "expand-kind" }, h("option", { value: "" }, "any kind"), Object.keys(KIND_LABELS).map((k) => h("option", { value: k }, kindLabel(k, 2))));
  const canvas = h("div", { class: "graph", role: "img", "aria-label": `Network around ${root.name}; the list below has the same nodes` });
  const status = h("p", { class: "graph-status", role: "status" });
  const selected = h("div", { class: "graph-selected", "aria-live": "polite" });
  const list = h("ul", { class: "graph-list" });
  main.append(
    h("div", { class: "graph-tools" }, field("When expanding, add", onlyKind), h("p", { class: "muted" }, "Click or tap a node to expand it; double-click to open its page.")),
    canvas,
    legend,
    status,
    selected,
    h("h2", null, "Nodes shown"),
    list,
  );

  // Cytoscape would add a <style> element (which the Content-Security-Policy refuses)
  // unless one with this id exists; its one rule is in styles.css instead.
  if (!document.getElementById(CYTOSCAPE_STYLE_ID)) {
    document.head.appendChild(h("meta", { id: CYTOSCAPE_STYLE_ID, name: "cytoscape-rules", content: "in styles.css" }));
  }
  const cy = cytoscape({
    container: canvas,
    minZoom: 0.2,
    maxZoom: 3,
    style: [
      { selector: "node", style: { "background-color": "data(colour)", label: "data(label)", "font-size": 9, color: "#1f2933", "text-valign": "bottom", "text-margin-y": 3, width: 18, height: 18, "border-width": 1, "border-color": "#ffffff" } },
      { selector: "node.root", style: { width: 28, height: 28, "border-width": 3, "border-color": "#1f2933" } },
      { selector: "node.expanded", style: { "border-width": 2, "border-color": "#1f2933" } },
      { selector: "node:selected", style: { "border-width": 4, "border-color": "#D55E00" } },
      { selector: "edge", style: { width: 1, "line-color": "#b8c2cc", "curve-style": "bezier", "target-arrow-shape": "triangle", "target-arrow-color": "#b8c2cc", "arrow-scale": 0.6, label: "data(kind)", "font-size": 6, color: "#52606d", "text-rotation": "autorotate" } },
    ],
  });
  onLeave(() => cy.destroy());
  const names = new Map<string, NodeRecord>();
  const expanded = new Set<string>();

  const addNode = (n: NodeRecord) => {
    if (names.has(n.id)) return;
    names.set(n.id, n);
    cy.add({ group: "nodes", data: { id: n.id, label: shortLabel(n.name), colour: kindColour(n.kind, n.id), kind: n.kind } });
  };
  const addEdge = (source: string, kind: string, target: string) => {
    const id = `${source}|${kind}|${target}`;
    if (cy.getElementById(id).nonempty() || !names.has(source) || !names.has(target)) return;
    cy.add({ group: "edges", data: { id, source, target, kind: kind.replace(/_/g, " ") } });
  };

  const refreshList = () => {
    const items = [...names.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
    replace(
      list,
      items.map((n) =>
        h(
          "li",
          { "data-id": n.id },
          h("span", { class: `swatch kind-${n.kind}`, "aria-hidden": "true" }),
          h("a", { href: nodeHref(n.id) }, n.name),
          h("span", { class: "muted" }, ` · ${kindLabel(n.kind)} `),
          expanded.has(n.id) ? h("span", { class: "muted" }, "(expanded)") : h("button", { type: "button", class: "link-button", "aria-label": `Expand ${n.name}`, onclick: () => void expand(n.id) }, "expand"),
        ),
      ),
    );
    status.textContent = `${plural(cy.nodes().length, "node")} and ${plural(cy.edges().length, "link")} shown.`;
  };

  const expand = async (id: string): Promise<void> => {
    if (expanded.has(id)) return;
    expanded.add(id);
    status.textContent = `Expanding ${names.get(id)?.name ?? id}…`;
    const encoded = encodeURIComponent(id);
    const kind = onlyKind.value || undefined;
    try {
      const [around, edges] = await Promise.all([
        get<Page<Neighbour> & { total: number }>(`/v1/nodes/${encoded}/neighbors`, { depth: 1, limit: 200, kind }),
        get<Page<EdgeRecord>>("/v1/edges", { node: id, limit: 200, kind: undefined }),
      ]);
      const before = new Set(names.keys());
      const chosen = mixed(around.items.map((item) => item.node), EXPAND_LIMIT);
      for (const n of chosen) addNode(n);
      const linked = new Set<string>();
      for (const edge of edges.items) {
        addEdge(edge.source, edge.kind, edge.target);
        linked.add(edge.source === id ? edge.target : edge.source);
      }
      for (const n of chosen) if (!linked.has(n.id)) addEdge(id, "linked", n.id);
      cy.getElementById(id).addClass("expanded");
      const added = [...names.keys()].filter((n) => !before.has(n));
      const layout = cy.layout({ name: "cose", animate: false, randomize: false, fit: true, padding: 20, nodeRepulsion: () => 9000, idealEdgeLength: () => 70 } as cytoscape.LayoutOptions);
      layout.run();
      refreshList();
      const more = around.total > chosen.length ? ` (${chosen.length} of its ${around.total} neighbours, every kind represented)` : "";
      status.textContent = `Added ${plural(added.length, "node")} around ${names.get(id)?.name ?? id}${more}. ${plural(cy.nodes().length, "node")} shown.`;
    } catch (error) {
      expanded.delete(id);
      replace(status, failure(error, "Expanding"));
    }
  };

  const show = (id: string) => {
    const n = names.get(id);
    if (!n) return;
    replace(selected, h("p", null, h("strong", null, n.name), ` (${kindLabel(n.kind)}) · `, h("a", { href: nodeHref(n.id) }, "open its page"), " · ", h("a", { href: `/graph/${n.id}` }, "start from here")));
  };
  cy.on("tap", "node", (event) => {
    const id = event.target.id() as string;
    show(id);
    void expand(id);
  });
  cy.on("dbltap", "node", (event) => navigate(nodeHref(event.target.id() as string)));

  addNode(root);
  cy.getElementById(root.id).addClass("root");
  await expand(root.id);
  show(root.id);
}
