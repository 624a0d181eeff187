// The graph explorer: a node's neighbourhood as a network that a volunteer can read as it
// grows (Kumu's basics). Nodes are sized by how many links they have; expanding a node
// adds its 25 most connected neighbours (never the first 25 by name) and lays the whole
// network out again on a canvas that grows; labels stay 13 px on screen at every zoom and
// give way to each other (the best connected keep theirs; the rest show on hover, focus
// or selection); search highlights and centres nodes; any node can be hidden and any
// expansion collapsed; the list beside the graph is its keyboard twin (Tab, Enter to
// expand or collapse, Delete to hide).

import cytoscape from "cytoscape";
import { type NodeRecord, type Page, get, node } from "../api";
import { failure, field, h, notice, plural, replace } from "../dom";
import { KIND_LABELS, kindColour, kindLabel, nodeHref } from "../kinds";
import type { Params } from "../main";
import { navigate, onLeave } from "../nav";
import { SDG_NAMES, sdgNumber, textOn } from "../sdg";

// Neighbours added per expansion, and per "show more": fewer on a phone's narrow
// canvas, where 25 circles leave no room for the names of the most connected.
const BATCH = typeof window !== "undefined" && window.innerWidth < 700 ? 12 : 25;
const PAGE = 200; // the API's largest page of neighbours
const LABEL_PX = 13; // labels' size on screen, whatever the zoom
const EDGE_LABEL_PX = 12;
const LABEL_FONT = `${LABEL_PX}px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif`;
const CYTOSCAPE_STYLE_ID = "__________cytoscape_stylesheet";

interface Joining {
  source: string;
  kind: string;
  target: string;
}

interface Neighbour {
  distance: number;
  node: NodeRecord;
  links?: number;
  edges?: Joining[];
}

/** What the explorer knows of a node shown (or hidden): the record, its links, who brought it. */
interface Shown {
  node: NodeRecord;
  links: number;
  parent: string | null;
}

/** An expanded node's neighbours, most connected first, and how far the explorer has shown them. */
interface Expansion {
  kind: string | undefined;
  pool: Neighbour[];
  total: number;
  /** Neighbours already on screen when a batch was chosen: counted as shown instead of bringing others. */
  counted: Set<string>;
}

/** A label box on screen, for the tests and for anyone debugging what is drawn. */
export interface DrawnNode {
  id: string;
  name: string;
  kind: string;
  links: number;
  colour: string;
  size: number;
  labelShown: boolean;
  fontPx: number;
  label: { x1: number; y1: number; x2: number; y2: number } | null;
}

declare global {
  interface Window {
    cocreateGraph?: { drawn(): DrawnNode[]; zoom(): number; edges(): { drawn: string[]; known: string[] } };
  }
}

/** Up to `limit` nodes taking each kind in turn (each kind's most connected first), so a hub shows every kind it links to. */
function mixed(items: Neighbour[], limit: number): Neighbour[] {
  const byKind = new Map<string, Neighbour[]>();
  for (const item of items) {
    const list = byKind.get(item.node.kind);
    if (list) list.push(item);
    else byKind.set(item.node.kind, [item]);
  }
  const queues = [...byKind.values()];
  const chosen: Neighbour[] = [];
  for (let round = 0; chosen.length < limit && queues.some((q) => q.length > round); round += 1) {
    for (const queue of queues) {
      if (round < queue.length && chosen.length < limit) chosen.push(queue[round]);
    }
  }
  return chosen;
}

/** A label short enough to sit among others: `room` characters (fewer on a phone); the full name shows on hover or selection. */
function shortLabel(name: string, room = 24): string {
  return name.length > room ? `${name.slice(0, room - 2).trimEnd()}…` : name;
}

/** A node's diameter (model units) from its number of links: hubs stand out, leaves stay visible. */
function sizeFor(links: number): number {
  return Math.min(96, 14 + 9 * Math.log2(1 + links));
}

/** Lower case without accents, so "sao" finds "São Paulo". */
function folded(text: string): string {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

function linksText(n: number): string {
  return n === 1 ? "1 link" : `${n.toLocaleString("en")} links`;
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

  const searchBox = h("input", { type: "search", name: "find", autocomplete: "off", maxlength: 100, placeholder: "a name" });
  const searchResult = h("p", { class: "graph-found muted", "aria-live": "polite" });
  const onlyKind = h("select", { name: "expand-kind" }, h("option", { value: "" }, "any kind"), Object.keys(KIND_LABELS).map((k) => h("option", { value: k }, kindLabel(k, 2))));
  const fitButton = h("button", { type: "button", class: "secondary" }, "Fit to screen");
  const hiddenBox = h("div", { class: "graph-hidden" });
  const canvas = h("div", { class: "graph", role: "img", "aria-label": `Network around ${root.name}; the list beside it has the same nodes` });
  const legend = h("ul", { class: "legend graph-legend", "aria-label": "What the colours mean" });
  const status = h("p", { class: "graph-status", role: "status" });
  const selected = h("div", { class: "graph-selected", "aria-live": "polite" });
  const list = h("ul", { class: "graph-list", "aria-label": "Nodes shown, the most connected first" });
  const listTitle = h("span", null, "Nodes shown");
  // Open beside the graph; folded on a phone, where it would run for screens below it.
  const listBox = h("details", { class: "graph-nodes", open: !window.matchMedia("(max-width: 699px)").matches }, h("summary", null, h("h2", null, listTitle)), list);
  main.append(
    h("div", { class: "graph-tools" }, field("Find in the graph", searchBox), field("When expanding, add", onlyKind), fitButton),
    searchResult,
    status,
    h(
      "div",
      { class: "graph-layout" },
      h("div", { class: "graph-stage" }, canvas, legend, h("p", { class: "muted graph-help" }, "Bigger circles have more links. Click or tap a node to select and expand it; double-click to open its page. In the list: Tab to a node, Enter to expand or collapse it, Delete to hide it.")),
      h("div", { class: "graph-side" }, selected, listBox, hiddenBox),
    ),
  );

  // Cytoscape would add a <style> element (which the Content-Security-Policy refuses)
  // unless one with this id exists; its one rule is in styles.css instead.
  if (!document.getElementById(CYTOSCAPE_STYLE_ID)) {
    document.head.appendChild(h("meta", { id: CYTOSCAPE_STYLE_ID, name: "cytoscape-rules", content: "in styles.css" }));
  }
  const cy = cytoscape({
    container: canvas,
    minZoom: 0.05,
    maxZoom: 4,
    wheelSensitivity: 0.3,
    style: [
      { selector: "node", style: { "background-color": "data(colour)", width: "data(size)", height: "data(size)", label: "data(label)", "font-size": LABEL_PX, "font-family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", color: "#1f2933", "text-valign": "bottom", "text-margin-y": 3, "text-background-color": "#ffffff", "text-background-opacity": 0.8, "text-background-padding": "1px", "border-width": 1, "border-color": "#ffffff", "min-zoomed-font-size": 0 } },
      { selector: "node.quiet", style: { label: "" } },
      { selector: "node.expanded", style: { "border-width": 3, "border-color": "#1f2933" } },
      { selector: "node.root", style: { "border-width": 4, "border-color": "#1f2933", "border-style": "double" } },
      { selector: "node.faded", style: { opacity: 0.25 } },
      { selector: "node.match", style: { label: "data(label)", "border-width": 4, "border-color": "#D55E00", "z-index": 10, opacity: 1 } },
      { selector: "node.hover, node:selected", style: { label: "data(name)", "z-index": 20, "text-background-opacity": 1 } },
      { selector: "node:selected", style: { "border-width": 4, "border-color": "#D55E00" } },
      { selector: "edge", style: { width: 1.5, "line-color": "#9aa5b1", "curve-style": "bezier", "target-arrow-shape": "triangle", "target-arrow-color": "#9aa5b1", "arrow-scale": 0.7, label: "", "font-size": EDGE_LABEL_PX, color: "#3e4c59", "text-rotation": "autorotate", "text-background-color": "#ffffff", "text-background-opacity": 0.9 } },
      { selector: "edge.faded", style: { opacity: 0.15 } },
      { selector: "edge.near", style: { label: "data(kind)", width: 2.5, "line-color": "#52606d", "target-arrow-color": "#52606d", "z-index": 15 } },
    ],
  });
  onLeave(() => {
    cy.destroy();
    delete window.cocreateGraph;
  });

  const shown = new Map<string, Shown>();
  const hidden = new Map<string, Shown>();
  const expansions = new Map<string, Expansion>();
  const edges = new Map<string, Joining>(); // every edge learnt, to redraw after "show again"
  let focusId: string | null = null;

  // -- drawing ---------------------------------------------------------------------------

  const measure = document.createElement("canvas").getContext("2d");
  const textWidth = (text: string): number => {
    if (!measure) return text.length * LABEL_PX * 0.6;
    measure.font = LABEL_FONT;
    return measure.measureText(text).width;
  };

  /** Keeps labels LABEL_PX on screen at any zoom: cytoscape sizes text in model units. */
  const scaleText = () => {
    const zoom = cy.zoom();
    cy.style().selector("node").style({ "font-size": LABEL_PX / zoom, "text-margin-y": 3 / zoom, "text-background-padding": `${1 / zoom}px` }).selector("edge").style({ "font-size": EDGE_LABEL_PX / zoom }).update();
  };

  /**
   * Which labels to show: the most important nodes first (the start, matches, expanded
   * nodes, then by links), each only if its box on screen overlaps no label already kept.
   */
  const declutter = () => {
    const zoom = cy.zoom();
    const width = cy.width();
    const height = cy.height();
    const rank = (id: string): number => {
      const el = cy.getElementById(id);
      if (el.selected() || el.hasClass("hover")) return 4e9;
      if (id === root.id) return 3e9;
      if (el.hasClass("match")) return 2e9;
      if (el.hasClass("expanded")) return 1e9 + (shown.get(id)?.links ?? 0);
      return shown.get(id)?.links ?? 0;
    };
    const order = cy.nodes().map((n) => n.id()).sort((a, b) => rank(b) - rank(a) || a.localeCompare(b));
    type Box = { x1: number; y1: number; x2: number; y2: number };
    const kept: Box[] = [];
    const apart = (a: Box, b: Box) => a.x2 <= b.x1 || a.x1 >= b.x2 || a.y2 <= b.y1 || a.y1 >= b.y2;
    // Other nodes' circles (a little smaller than drawn) are obstacles too: a label over a circle hides it.
    const circles = new Map<string, Box>();
    for (const n of cy.nodes().toArray()) {
      const p = n.renderedPosition();
      const r = (n.data("size") as number) * zoom * 0.4;
      circles.set(n.id(), { x1: p.x - r, y1: p.y - r, x2: p.x + r, y2: p.y + r });
    }
    cy.batch(() => {
      for (const id of order) {
        const n = cy.getElementById(id);
        const pos = n.renderedPosition();
        const forced = rank(id) >= 4e9;
        // A hovered or selected node shows its whole name, not the shortened label.
        const w = textWidth((forced ? n.data("name") : n.data("label")) as string) + 4;
        const top = pos.y + (n.data("size") as number) * zoom * 0.5 + 3;
        const box = { x1: pos.x - w / 2, y1: top, x2: pos.x + w / 2, y2: top + LABEL_PX * 1.3 };
        const onScreen = box.x1 >= 0 && box.x2 <= width && box.y1 >= 0 && box.y2 <= height;
        const clear = forced || (onScreen && kept.every((k) => apart(box, k)) && [...circles].every(([other, c]) => other === id || apart(box, c)));
        if (clear) kept.push(box);
        if (clear) n.removeClass("quiet");
        else n.addClass("quiet");
      }
    });
  };

  let pending = 0;
  const redraw = () => {
    if (pending) return;
    pending = requestAnimationFrame(() => {
      pending = 0;
      scaleText();
      declutter();
    });
  };
  cy.on("zoom pan resize", redraw);

  /** The canvas grows with the network (to 85% of the window's height), then everything is laid out again and fitted. */
  const layout = () => {
    const target = Math.max(360, Math.min(900, 260 + 9 * cy.nodes().length));
    canvas.style.height = `min(${target}px, 85vh)`;
    cy.resize();
    const options = {
      name: "cose",
      animate: false,
      randomize: false,
      fit: false,
      nodeRepulsion: (n: cytoscape.NodeSingular) => 6000 + 400 * (n.data("size") as number),
      // A hub's spokes lengthen with its number of neighbours, so that the ring around it has room for their labels.
      idealEdgeLength: (e: cytoscape.EdgeSingular) => 60 + 14 * Math.sqrt(Math.max(e.source().degree(false), e.target().degree(false))),
      nodeOverlap: 40,
      componentSpacing: 120,
      gravity: 0.25,
      numIter: 1500,
    } as cytoscape.LayoutOptions;
    cy.layout(options).run();
    fitTo(cy.nodes());
  };

  /**
   * Fits `eles` by their circles alone (cytoscape's fit counts labels, sized for the old
   * zoom), leaving a margin for labels and never zooming in past 1.6.
   */
  const fitTo = (eles: cytoscape.CollectionReturnValue | cytoscape.NodeCollection) => {
    if (eles.empty()) return;
    const box = eles.boundingBox({ includeLabels: false, includeOverlays: false });
    const width = cy.width();
    const height = cy.height();
    const marginX = Math.min(70, width * 0.1);
    const room = width < 500 ? 16 : 24;
    cy.batch(() => {
      for (const n of cy.nodes().toArray()) n.data("label", shortLabel(n.data("name") as string, room));
    });
    const marginY = 28;
    const zoom = Math.max(cy.minZoom(), Math.min(1.6, (width - 2 * marginX) / Math.max(box.w, 1), (height - 2 * marginY - LABEL_PX * 1.5) / Math.max(box.h, 1)));
    const pan = { x: width / 2 - zoom * (box.x1 + box.w / 2), y: (height - LABEL_PX * 1.5) / 2 - zoom * (box.y1 + box.h / 2) };
    cy.viewport({ zoom, pan });
    scaleText();
    declutter();
  };

  const fit = () => fitTo(cy.nodes());
  fitButton.addEventListener("click", fit);

  // -- the network's contents ----------------------------------------------------------

  const addEdge = (edge: Joining) => {
    const id = `${edge.source}|${edge.kind}|${edge.target}`;
    edges.set(id, edge);
    if (cy.getElementById(id).nonempty() || !shown.has(edge.source) || !shown.has(edge.target)) return;
    cy.add({ group: "edges", data: { id, source: edge.source, target: edge.target, kind: edge.kind.replace(/_/g, " ") } });
  };

  const addNode = (entry: Shown, near?: cytoscape.Position) => {
    const n = entry.node;
    shown.set(n.id, entry);
    // Each node starts at its own angle around the one it came from, the same every time
    // (from its id), so the same network is always laid out the same way.
    let hash = 2166136261;
    for (let i = 0; i < n.id.length; i++) hash = Math.imul(hash ^ n.id.charCodeAt(i), 16777619);
    const angle = ((hash >>> 0) / 2 ** 32) * 2 * Math.PI;
    const position = near ? { x: near.x + 120 * Math.cos(angle), y: near.y + 120 * Math.sin(angle) } : { x: 0, y: 0 };
    cy.add({ group: "nodes", position, data: { id: n.id, name: n.name, label: shortLabel(n.name), colour: kindColour(n.kind, n.id), kind: n.kind, size: sizeFor(entry.links) } });
  };

  const setLinks = (id: string, links: number) => {
    const entry = shown.get(id);
    if (!entry || entry.links >= links) return;
    entry.links = links;
    cy.getElementById(id).data("size", sizeFor(links));
  };

  /** Shows the next BATCH of an expansion's neighbours not shown yet; fetches more when its pool runs out. */
  const showMore = async (id: string): Promise<number> => {
    const expansion = expansions.get(id);
    if (!expansion) return 0;
    let fresh = expansion.pool.filter((item) => !shown.has(item.node.id) && !hidden.has(item.node.id));
    if (fresh.length < BATCH && expansion.pool.length < expansion.total) {
      const next = await get<Page<Neighbour> & { total: number }>(`/v1/nodes/${encodeURIComponent(id)}/neighbors`, { depth: 1, limit: PAGE, offset: expansion.pool.length, kind: expansion.kind, order: "links" });
      expansion.pool.push(...next.items);
      expansion.total = next.total;
      fresh = expansion.pool.filter((item) => !shown.has(item.node.id) && !hidden.has(item.node.id));
    }
    const chosen = mixed(fresh, BATCH);
    for (const item of expansion.pool) if (shown.has(item.node.id)) expansion.counted.add(item.node.id);
    const near = cy.getElementById(id).position();
    for (const item of chosen) addNode({ node: item.node, links: item.links ?? 1, parent: id }, near);
    for (const item of expansion.pool) {
      setLinks(item.node.id, item.links ?? 1);
      for (const edge of item.edges ?? []) addEdge(edge);
    }
    // A node this brought may be linked to another expanded node too (one of its
    // neighbours not shown until now): every edge learnt is drawn once both ends are.
    for (const edge of edges.values()) addEdge(edge);
    return chosen.length;
  };

  const shownOf = (id: string): number => (expansions.get(id)?.pool ?? []).filter((item) => shown.has(item.node.id)).length;

  const progress = (id: string): string => {
    const expansion = expansions.get(id);
    if (!expansion) return "";
    return `${shownOf(id).toLocaleString("en")} of its ${plural(expansion.total, "neighbour")} shown, the most connected first`;
  };

  const expand = async (id: string): Promise<void> => {
    if (expansions.has(id) || !shown.has(id)) return;
    const name = shown.get(id)?.node.name ?? id;
    const kind = onlyKind.value || undefined;
    expansions.set(id, { kind, pool: [], total: Number.POSITIVE_INFINITY, counted: new Set() });
    status.textContent = `Expanding ${name}…`;
    try {
      const first = await get<Page<Neighbour> & { total: number }>(`/v1/nodes/${encodeURIComponent(id)}/neighbors`, { depth: 1, limit: PAGE, kind, order: "links" });
      const expansion = { kind, pool: first.items, total: first.total, counted: new Set<string>() };
      expansions.set(id, expansion);
      if (!kind) setLinks(id, first.total);
      const added = await showMore(id);
      cy.getElementById(id).addClass("expanded");
      layout();
      refresh();
      status.textContent = `Added ${plural(added, "node")} around ${name}: ${progress(id)}. ${plural(cy.nodes().length, "node")} shown.`;
    } catch (error) {
      expansions.delete(id);
      replace(status, failure(error, "Expanding"));
    }
  };

  const more = async (id: string): Promise<void> => {
    const name = shown.get(id)?.node.name ?? id;
    try {
      const added = await showMore(id);
      layout();
      refresh();
      status.textContent = `Added ${plural(added, "more node")} around ${name}: ${progress(id)}.`;
    } catch (error) {
      replace(status, failure(error, "Showing more"));
    }
  };

  /** The expanded node other than `except` that counts `id` among its neighbours shown (it was
   * on screen when that expansion chose a batch), if any: collapsing `except` leaves it there.
   * A neighbour of an earlier expansion that only `except` brought goes, so collapsing gives
   * back what was shown before. */
  const heldBy = (id: string, except: string): string | null => {
    for (const [other, expansion] of expansions) {
      if (other !== except && expansion.counted.has(id)) return other;
    }
    return null;
  };

  /** Takes away the neighbours an expansion brought (and what they brought), unless another expanded node holds them too. */
  const collapseQuietly = (id: string): number => {
    let removed = 0;
    for (const [child, entry] of [...shown]) {
      if (entry.parent !== id || child === root.id) continue;
      const holder = heldBy(child, id);
      if (holder) {
        entry.parent = holder;
        continue;
      }
      if (expansions.has(child)) removed += collapseQuietly(child);
      cy.getElementById(child).remove();
      shown.delete(child);
      removed += 1;
    }
    expansions.delete(id);
    cy.getElementById(id).removeClass("expanded");
    return removed;
  };

  const collapse = (id: string) => {
    const removed = collapseQuietly(id);
    refresh();
    redraw();
    status.textContent = `Collapsed ${shown.get(id)?.node.name ?? id}: ${plural(removed, "node")} taken away. ${plural(cy.nodes().length, "node")} shown.`;
  };

  const hide = (id: string) => {
    if (id === root.id) {
      status.textContent = "The node you started from cannot be hidden.";
      return;
    }
    const entry = shown.get(id);
    if (!entry) return;
    if (expansions.has(id)) collapseQuietly(id);
    cy.getElementById(id).remove();
    shown.delete(id);
    hidden.set(id, entry);
    refresh();
    redraw();
    status.textContent = `Hid ${entry.node.name}. ${plural(cy.nodes().length, "node")} shown.`;
  };

  const showHidden = () => {
    for (const entry of hidden.values()) addNode(entry, cy.getElementById(entry.parent ?? root.id).position());
    const count = hidden.size;
    hidden.clear();
    for (const edge of edges.values()) addEdge(edge);
    layout();
    refresh();
    status.textContent = `Showed ${plural(count, "hidden node")} again.`;
  };

  // -- selection, hover, search ----------------------------------------------------------

  /** Edge labels: those of the node under the pointer, and of the selected node when it has few enough to read. */
  const nearEdges = () => {
    cy.edges().removeClass("near");
    cy.nodes(".hover").connectedEdges().addClass("near");
    const chosen = cy.nodes(":selected").connectedEdges();
    if (chosen.length <= 8) chosen.addClass("near");
  };

  const actions = (id: string): HTMLElement[] => {
    const entry = shown.get(id);
    if (!entry) return [];
    const name = entry.node.name;
    const expansion = expansions.get(id);
    const buttons: HTMLElement[] = [];
    if (!expansion) buttons.push(h("button", { type: "button", class: "link-button expand", "aria-label": `Expand ${name}`, onclick: () => void expand(id) }, "expand"));
    else buttons.push(h("button", { type: "button", class: "link-button collapse", "aria-label": `Collapse ${name}`, onclick: () => collapse(id) }, "collapse"));
    if (expansion && shownOf(id) < expansion.total) {
      buttons.push(h("button", { type: "button", class: "link-button more", "aria-label": `Show ${BATCH} more around ${name}`, onclick: () => void more(id) }, `${BATCH} more`));
    }
    if (id !== root.id) buttons.push(h("button", { type: "button", class: "link-button hide", "aria-label": `Hide ${name}`, onclick: () => hide(id) }, "hide"));
    return buttons;
  };

  const select = (id: string | null) => {
    cy.nodes(":selected").unselect();
    const entry = id ? shown.get(id) : undefined;
    if (!id || !entry) {
      replace(selected);
      nearEdges();
      redraw();
      return;
    }
    cy.getElementById(id).select();
    nearEdges();
    const n = entry.node;
    const expansion = expansions.get(id);
    replace(
      selected,
      h("h2", null, n.name),
      h("p", null, `${kindLabel(n.kind)} · ${linksText(entry.links)}`, expansion ? ` · ${progress(id)}` : ""),
      h("p", { class: "graph-actions" }, h("a", { href: nodeHref(n.id) }, "open its page"), " · ", h("a", { href: `/graph/${n.id}` }, "start from here"), " · ", actions(id)),
    );
    redraw();
  };

  cy.on("tap", "node", (event) => {
    const id = event.target.id() as string;
    select(id);
    void expand(id);
  });
  cy.on("tap", (event) => {
    if (event.target === cy) select(null);
  });
  cy.on("dbltap", "node", (event) => navigate(nodeHref(event.target.id() as string)));
  // A hovered node shows its whole name: the others make room for it at once.
  cy.on("mouseover", "node", (event) => {
    event.target.addClass("hover");
    nearEdges();
    declutter();
  });
  cy.on("mouseout", "node", (event) => {
    event.target.removeClass("hover");
    nearEdges();
    declutter();
  });
  cy.on("mouseover", "edge", (event) => event.target.addClass("near"));
  cy.on("mouseout", "edge", () => nearEdges());

  const search = () => {
    const term = folded(searchBox.value.trim());
    cy.elements().removeClass("match faded");
    for (const li of list.querySelectorAll("li.match")) li.classList.remove("match");
    if (!term) {
      searchResult.textContent = "";
      redraw();
      return;
    }
    const matches = cy.nodes().filter((n) => folded(n.data("name") as string).includes(term));
    if (matches.empty()) {
      searchResult.textContent = "No node shown has a name like that.";
      redraw();
      return;
    }
    matches.addClass("match");
    cy.elements().difference(matches).difference(matches.connectedEdges()).addClass("faded");
    fitTo(matches);
    for (const m of matches.toArray()) list.querySelector(`li[data-id="${CSS.escape(m.id())}"]`)?.classList.add("match");
    const names = matches.map((m) => m.data("name") as string);
    searchResult.textContent = `${plural(matches.length, "node matches", "nodes match")}: ${names.slice(0, 5).join(", ")}${names.length > 5 ? "…" : ""}`;
  };
  searchBox.addEventListener("input", search);
  searchBox.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    const first = list.querySelector<HTMLElement>("li.match");
    first?.focus();
  });

  // -- the list beside the graph (the keyboard's way in) and the legend -------------------

  const refresh = () => {
    const items = [...shown.values()].sort((a, b) => Number(b.node.id === root.id) - Number(a.node.id === root.id) || b.links - a.links || a.node.name.localeCompare(b.node.name));
    const term = folded(searchBox.value.trim());
    replace(
      list,
      items.map(({ node: n, links }) => {
        const li = h(
          "li",
          { "data-id": n.id, tabindex: 0, class: term && folded(n.name).includes(term) ? "match" : null, "aria-label": `${n.name}, ${kindLabel(n.kind)}, ${linksText(links)}${expansions.has(n.id) ? ", expanded" : ""}` },
          h("span", { class: "swatch", style: { background: kindColour(n.kind, n.id) }, "aria-hidden": "true" }),
          h("a", { href: nodeHref(n.id), tabindex: -1 }, n.name),
          h("span", { class: "muted" }, ` · ${kindLabel(n.kind)} · ${linksText(links)} `),
          actions(n.id),
        );
        li.addEventListener("focus", () => {
          focusId = n.id;
          select(n.id);
        });
        li.addEventListener("keydown", (event) => {
          if (event.target !== li) return;
          if (event.key === "Enter") {
            event.preventDefault();
            if (expansions.has(n.id)) collapse(n.id);
            else void expand(n.id);
          } else if (event.key === "Delete" || event.key === "Backspace") {
            event.preventDefault();
            const next = (li.nextElementSibling ?? li.previousElementSibling)?.getAttribute("data-id") ?? null;
            hide(n.id);
            focusId = next;
            list.querySelector<HTMLElement>(`li[data-id="${CSS.escape(next ?? "")}"]`)?.focus();
          }
        });
        return li;
      }),
    );
    if (focusId && list.contains(document.activeElement) === false && document.activeElement === document.body) {
      list.querySelector<HTMLElement>(`li[data-id="${CSS.escape(focusId)}"]`)?.focus();
    }
    listTitle.textContent = `Nodes shown (${shown.size.toLocaleString("en")})`;
    replace(hiddenBox, hidden.size ? h("p", null, `${plural(hidden.size, "node")} hidden · `, h("button", { type: "button", class: "link-button", onclick: showHidden }, "show them again")) : null);
    drawLegend();
    if (cy.nodes(":selected").nonempty()) select(cy.nodes(":selected").first().id());
  };

  /** The legend lists the kinds on screen with the colours they are drawn in; goals in their own official colours. */
  const drawLegend = () => {
    const kinds = new Map<string, Set<string>>();
    for (const { node: n } of shown.values()) {
      const ids = kinds.get(n.kind) ?? new Set<string>();
      ids.add(n.id);
      kinds.set(n.kind, ids);
    }
    const entries = Object.keys(KIND_LABELS)
      .filter((k) => kinds.has(k))
      .map((k) => {
        if (k !== "sdg") {
          const colour = kindColour(k);
          return h("li", { "data-kind": k }, h("span", { class: "swatch", style: { background: colour }, "data-colour": colour, "aria-hidden": "true" }), kindLabel(k, 2));
        }
        const goals = [...(kinds.get(k) ?? [])].map((id) => sdgNumber(id)).filter((g): g is number => g !== null).sort((a, b) => a - b);
        return h(
          "li",
          { "data-kind": k },
          goals.map((g) => h("span", { class: "sdg-tile graph-goal", style: { background: kindColour("sdg", `sdg:${g}`), color: textOn(kindColour("sdg", `sdg:${g}`)) }, "data-colour": kindColour("sdg", `sdg:${g}`), title: SDG_NAMES[g] }, String(g))),
          " SDGs, each in its official colour",
        );
      });
    replace(legend, entries);
  };

  window.cocreateGraph = {
    zoom: () => cy.zoom(),
    // The edges drawn, and every edge the answers so far told of ("source|kind|target").
    edges: () => ({ drawn: cy.edges().map((e) => e.id()), known: [...edges.keys()] }),
    drawn: () =>
      cy.nodes().map((n) => {
        const quiet = n.hasClass("quiet") && !n.selected() && !n.hasClass("hover") && !n.hasClass("match");
        const box = quiet ? null : n.renderedBoundingBox({ includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false });
        return {
          id: n.id(),
          name: n.data("name") as string,
          kind: n.data("kind") as string,
          links: shown.get(n.id())?.links ?? 0,
          colour: n.style("background-color") as string,
          size: n.renderedWidth(),
          labelShown: !quiet,
          fontPx: Number.parseFloat(n.style("font-size") as string) * cy.zoom(),
          label: box ? { x1: box.x1, y1: box.y1, x2: box.x2, y2: box.y2 } : null,
        };
      }),
  };

  addNode({ node: root, links: 0, parent: null });
  cy.getElementById(root.id).addClass("root");
  await expand(root.id);
  select(root.id);
}
