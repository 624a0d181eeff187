"""Bridges between a sector and the others, and the single points of failure between them.

The sector's own network is an undirected graph of its counted people, initiatives and
councils, joined by ``knows``, ``works_on`` and ``member_of``. A node of it is an
*entry* for another sector ``k`` when it belongs to ``k`` itself (a second interest, a
tag) or is linked to a node of ``k`` outside the sector (knows someone there, works on
an initiative there).

- **Bridge** score: betweenness from the other sectors into this one. For every other
  sector a virtual source is joined to all of its entries, and Brandes' accumulation
  counts the shortest paths from it to every node of the sector; a node's score is the
  number of those paths it passes on, summed over the sectors. That is exact (eleven
  breadth-first searches, no sampling), and cheap because the sources are sectors, not
  people.
- **Single points of failure**: nodes whose removal leaves another sector with no link
  at all to the sector's core (its largest biconnected block). They are articulation
  points of the sector's network on every path from that sector's entries to the core,
  read off the block-cut tree: the intersection, over the entries, of the cut vertices
  between each entry and the core (an only entry counts itself).

People who may not be listed are not in the network at all, so nobody is a bridge
through someone hidden, and no hidden person is ever named.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx

from graph.analytics.names import join_words, plural
from graph.analytics.snapshot import Snapshot, bits, most_connected

INNER_KINDS = ("council", "initiative", "person")
INNER_EDGES = frozenset({"knows", "works_on", "member_of"})
INNER_CAP = 25_000
"""Largest sector network analysed; beyond it the most connected nodes are kept."""


@dataclass(frozen=True, slots=True)
class Bridge:
    node: str
    paths: float
    """Shortest paths from other sectors into this one that pass through the node."""
    score: float
    """``paths`` relative to the sector's strongest bridge of the same kind (1.0)."""
    by_sector: tuple[tuple[str, float], ...]
    """(sector, paths) for the sectors it bridges, most first."""
    own_sectors: tuple[str, ...]
    """Other sectors the node belongs to itself."""
    via_links: tuple[str, ...]
    """Other sectors it reaches through a direct link to someone or something there."""


@dataclass(frozen=True, slots=True)
class FailurePoint:
    node: str
    sectors: tuple[str, ...]
    """Sectors whose every link to the sector's core passes through the node."""


@dataclass(frozen=True)
class SectorBridges:
    sector: str
    bridges: tuple[Bridge, ...]
    failure_points: tuple[FailurePoint, ...]
    linked: tuple[str, ...]
    """Other sectors with at least one link into the sector's core."""
    unlinked: tuple[str, ...]
    """Other sectors with no link into the sector's core at all."""
    size: int


@dataclass
class _Network:
    ids: list[str]
    adj: list[list[int]]
    entries: dict[str, list[int]]
    own: list[int]
    via: list[int]


def sector_bridges(graph: nx.MultiDiGraph, snap: Snapshot, sector: str) -> SectorBridges:
    """Bridges and single points of failure of ``sector`` (see the module doc)."""
    net = _network(graph, snap, sector)
    others = [s for s in snap.sectors if s != sector]
    totals = [0.0] * len(net.ids)
    per_sector: dict[str, list[float]] = {}
    for other in others:
        entries = net.entries.get(other)
        if entries:
            delta = _dependencies(net.adj, entries)
            per_sector[other] = delta
            totals = [t + d for t, d in zip(totals, delta, strict=True)]
    best: dict[str, float] = {}
    for i, node in enumerate(net.ids):
        kind = snap.kind[node]
        best[kind] = max(best.get(kind, 0.0), totals[i])
    bridges = []
    if any(best.values()):
        order = sorted(range(len(net.ids)), key=lambda i: (-round(totals[i], 9), net.ids[i]))
        for i in order:
            if totals[i] <= 0:
                break
            by_sector = sorted(
                ((s, d[i]) for s, d in per_sector.items() if d[i] > 0),
                key=lambda p: (-round(p[1], 9), p[0]),
            )
            bridges.append(
                Bridge(
                    node=net.ids[i],
                    paths=round(totals[i], 3),
                    score=round(totals[i] / best[snap.kind[net.ids[i]]], 4),
                    by_sector=tuple((s, round(v, 3)) for s, v in by_sector),
                    own_sectors=tuple(s for s in bits(net.own[i], snap.sectors) if s != sector),
                    via_links=tuple(s for s in bits(net.via[i], snap.sectors) if s != sector),
                )
            )
    failures, linked = _failure_points(net, others)
    unlinked = tuple(s for s in others if s not in linked)
    return SectorBridges(
        sector, tuple(bridges), failures, tuple(s for s in others if s in linked), unlinked,
        len(net.ids),
    )  # fmt: skip


def _network(graph: nx.MultiDiGraph, snap: Snapshot, sector: str) -> _Network:
    succ, pred, kinds, masks = graph._succ, graph._pred, snap.kind, snap.sector_mask
    inner = most_connected(graph, snap.in_sector(sector, INNER_KINDS), INNER_CAP)
    index = {node: i for i, node in enumerate(inner)}
    bit = 1 << snap.sectors.index(sector)
    adj: list[set[int]] = [set() for _ in inner]
    own = [masks.get(node, 0) & ~bit for node in inner]
    via = [0] * len(inner)
    for i, node in enumerate(inner):
        neighbours = [
            t for t, keys in succ[node].items() if not keys.keys().isdisjoint(INNER_EDGES)
        ]
        neighbours += [
            s for s, keys in pred[node].items() if not keys.keys().isdisjoint(INNER_EDGES)
        ]
        for other in neighbours:
            j = index.get(other)
            if j is not None:
                if j != i:
                    adj[i].add(j)
                    adj[j].add(i)
            elif other in kinds:  # a counted node outside the sector
                via[i] |= masks.get(other, 0) & ~bit
    entries: dict[str, list[int]] = {}
    for i in range(len(inner)):
        for s in bits(own[i] | via[i], snap.sectors):
            entries.setdefault(s, []).append(i)
    return _Network(inner, [sorted(a) for a in adj], entries, own, via)


def _dependencies(adj: list[list[int]], entries: list[int]) -> list[float]:
    """Brandes' dependencies of every node on paths from a virtual source joined to ``entries``.

    Predecessors are not stored: on the way back, a node's predecessors are its
    neighbours one step nearer the source (fewer allocations, same result).
    """
    n = len(adj)
    sigma = [0.0] * n
    dist = [-1] * n
    order: list[int] = []
    queue: deque[int] = deque()
    for e in entries:
        sigma[e], dist[e] = 1.0, 1
        queue.append(e)
    while queue:
        v = queue.popleft()
        order.append(v)
        step, paths = dist[v] + 1, sigma[v]
        for w in adj[v]:
            if dist[w] < 0:
                dist[w] = step
                queue.append(w)
            if dist[w] == step:
                sigma[w] += paths
    delta = [0.0] * n
    for w in reversed(order):
        back = dist[w] - 1
        if back < 1:
            continue
        share = (1.0 + delta[w]) / sigma[w]
        for v in adj[w]:
            if dist[v] == back:
                delta[v] += sigma[v] * share
    return delta


def _failure_points(net: _Network, others: list[str]) -> tuple[tuple[FailurePoint, ...], set[str]]:
    """Nodes on every path from some sector's entries to the core; and the linked sectors."""
    if not net.ids:
        return (), set()
    g = nx.Graph()
    g.add_nodes_from(range(len(net.ids)))
    g.add_edges_from((i, j) for i, js in enumerate(net.adj) for j in js if i < j)
    blocks = [frozenset(b) for b in nx.biconnected_components(g)]
    if not blocks:  # no edge at all: each node is its own island
        blocks = [frozenset({i}) for i in range(len(net.ids))]
    core = min(
        range(len(blocks)), key=lambda b: (-len(blocks[b]), min(net.ids[i] for i in blocks[b]))
    )
    cut = set(nx.articulation_points(g))
    parent = _block_cut_tree(blocks, cut, core)
    home = {}
    for b, block in enumerate(blocks):
        for i in block:
            if i not in cut:
                home[i] = ("block", b)
    linked: set[str] = set()
    found: dict[int, list[str]] = {}
    for other in others:
        common: set[int] | None = None
        for e in net.entries.get(other, ()):
            start = ("cut", e) if e in cut else home.get(e)
            if start is None or start not in parent:
                continue  # an entry off the core's component links nothing to the core
            path = {e} | _cuts_to_root(start, parent)
            common = path if common is None else common & path
            if not common:
                break
        if common is None:
            continue
        linked.add(other)
        for i in common:
            found.setdefault(i, []).append(other)
    points = sorted(
        (FailurePoint(net.ids[i], tuple(sorted(s))) for i, s in found.items()),
        key=lambda p: (-len(p.sectors), p.node),
    )
    return tuple(points), linked


Tree = dict[tuple[str, int], tuple[str, int] | None]


def _block_cut_tree(blocks: list[frozenset[int]], cut: set[int], core: int) -> Tree:
    """Parent of each block and cut vertex reachable from the core block (the root)."""
    blocks_of: dict[int, list[int]] = {}
    for b, block in enumerate(blocks):
        for i in block & cut:
            blocks_of.setdefault(i, []).append(b)
    root = ("block", core)
    parent: Tree = {root: None}
    queue: deque[tuple[str, int]] = deque([root])
    while queue:
        kind, value = queue.popleft()
        if kind == "block":
            nxt = [("cut", i) for i in sorted(blocks[value] & cut)]
        else:
            nxt = [("block", b) for b in blocks_of.get(value, ())]
        for child in nxt:
            if child not in parent:
                parent[child] = (kind, value)
                queue.append(child)
    return parent


def _cuts_to_root(start: tuple[str, int], parent: Tree) -> set[int]:
    found: set[int] = set()
    node: tuple[str, int] | None = start
    while node is not None:
        kind, value = node
        parent_node = parent[node]
        if kind == "cut" and parent_node is not None:
            found.add(value)
        node = parent_node
    return found


def _names(ids: tuple[str, ...] | list[str], names: Mapping[str, str], k: int = 3) -> str:
    shown = [names.get(s, s) for s in ids[:k]]
    if len(ids) > k:
        shown.append(plural(len(ids) - k, "more sector"))
    return join_words(shown)


def explain_bridge(
    bridge: Bridge, sector: str, names: Mapping[str, str], *, person: bool
) -> dict[str, Any]:
    """Why a node is a bridge, in a sentence and in figures."""
    who, here = names.get(bridge.node, bridge.node), names.get(sector, sector)
    reached = _names([s for s, _ in bridge.by_sector], names)
    them = "them" if person else "it"
    how = []
    if bridge.own_sectors:
        how.append(f"{'they' if person else 'it'} belong{'' if person else 's'} to "
                   f"{_names(bridge.own_sectors, names)} as well")  # fmt: skip
    only_via = [s for s in bridge.via_links if s not in bridge.own_sectors]
    if only_via:
        link = "they know people or work on initiatives" if person else "its people also work"
        how.append(f"{link} in {_names(only_via, names)}")
    # How much in words, relative to the strongest bridge of the kind (the path count, a
    # fractional figure no volunteer can read, stays in ``components``).
    share = ("more of the shortest routes from those sectors into " + here + " pass through "
             f"{them} than through anyone else" if bridge.score >= 0.999 else
             f"{'many' if bridge.score >= 0.5 else 'some'} of the shortest routes from those "
             f"sectors into {here} pass through {them}")  # fmt: skip
    summary = f"{who} links {here} with {reached}: {share}" + (
        f"; {' and '.join(how)}." if how else "."
    )
    return {
        "summary": summary,
        "components": {"betweenness": bridge.score, "paths": bridge.paths,
                       "sectors_reached": len(bridge.by_sector)},
        "sectors": [{"id": s, "name": names.get(s, s), "paths": p} for s, p in bridge.by_sector],
        "belongs_to": [{"id": s, "name": names.get(s, s)} for s in bridge.own_sectors],
    }  # fmt: skip


def explain_failure_point(
    point: FailurePoint, sector: str, names: Mapping[str, str]
) -> dict[str, Any]:
    """Why a node is a single point of failure between sectors."""
    who, here = names.get(point.node, point.node), names.get(sector, sector)
    others = join_words([names.get(s, s) for s in point.sectors])
    verb = "would lose its" if len(point.sectors) == 1 else "would each lose their"
    return {
        "summary": (
            f"Without {who}, {others} {verb} last link to the core of {here}: every path "
            f"between them passes through {who}."
        ),
        "components": {"sectors_cut_off": len(point.sectors)},
        "sectors": [{"id": s, "name": names.get(s, s)} for s in point.sectors],
    }
