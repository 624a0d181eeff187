"""Nodes and edges per kind as each listing audience may count them, kept by the change feed.

The figures are those of :func:`graph.listing.count_nodes` and
:func:`graph.listing.count_edges` (SQL joins over every edge, seconds at 100,000 people),
answered from the graph view instead, in time independent of the network's size:

- a node counts for an audience when :func:`graph.visibility.listable` holds for its
  visibility and discoverability (every node that is not a person is public and
  discoverable); ``all`` (admins) counts every node;
- an edge counts when both its ends count and, below ``all``, it is not a link that
  places a person more precisely than they share (``located_in`` or ``member_of`` a
  community finer than their precision), as the edge lists show them.

:class:`VisibleCounts` is a projection of the change feed. The totals are built by one
pass over the view on first use (the service's warmer makes it, once the service is
ready: 1.5 s at 100,000 people, no longer part of its start); after that each batch
moves them by the difference between the old and new contributions of the nodes it
touches, their edges, and the edges it names. A batch with an erasure (which names
nobody) drops the totals, to be built again on the next use (under that request's read
lock).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx

from graph.feed import ChangeBatch
from graph.store import LOCALITY_RANK, split_edge_ref
from graph.view import GraphView
from graph.visibility import listable

CountAudience = Literal["public", "members", "all"]
AUDIENCES: tuple[CountAudience, ...] = ("public", "members", "all")
PLACING_EDGES = frozenset({"located_in", "member_of"})
EdgeKey = tuple[str, str, str]
"""(source, target, kind)."""


@dataclass
class _Tally:
    nodes: Counter[str]
    edges: Counter[str]

    def add(self, other: _Tally, sign: int) -> None:
        for kind, count in other.nodes.items():
            self.nodes[kind] += sign * count
        for kind, count in other.edges.items():
            self.edges[kind] += sign * count


Tallies = dict[CountAudience, _Tally]


def _empty() -> Tallies:
    return {audience: _Tally(Counter(), Counter()) for audience in AUDIENCES}


class VisibleCounts:
    """Per audience, how many nodes and edges of each kind it may count."""

    def __init__(self, view: GraphView) -> None:
        self.view = view
        self._totals: Tallies | None = None
        self._building = threading.Lock()

    def counts(self, audience: CountAudience) -> dict[str, dict[str, int]]:
        """``{"nodes": {kind: n}, "edges": {kind: n}}`` for the view's current version.

        The caller holds the feed's read lock (one version of the view)."""
        totals = self._totals
        if totals is None:
            with self._building:
                totals = self._totals
                if totals is None:
                    totals = self._totals = _tally_all(self.view.graph)
        found = totals[audience]
        return {
            "nodes": {k: n for k, n in sorted(found.nodes.items()) if n},
            "edges": {k: n for k, n in sorted(found.edges.items()) if n},
        }

    # -- a projection of the change feed (graph.feed) -------------------------------

    def prepare(self, batch: ChangeBatch) -> Tallies | None:
        """The contributions, before the batch, of what it touches (None: not kept yet)."""
        if self._totals is None or batch.erasures:
            return None
        return _tally(self.view.graph, batch.touched_nodes, _named_edges(batch))

    def apply(self, batch: ChangeBatch, prepared: Tallies | None) -> None:
        """Runs after the graph view applied the batch (it comes first in the feed)."""
        if prepared is None or self._totals is None:
            self._totals = None  # built again on the next use
            return
        after = _tally(self.view.graph, batch.touched_nodes, _named_edges(batch))
        for audience, tally in self._totals.items():
            tally.add(after[audience], +1)
            tally.add(prepared[audience], -1)


def _named_edges(batch: ChangeBatch) -> list[EdgeKey]:
    found = []
    for change in batch.changes:
        if change.entity == "edge":
            source, kind, target = split_edge_ref(change.ref)
            found.append((source, target, kind))
    return found


def _tally_all(graph: nx.MultiDiGraph) -> Tallies:
    """Every node and edge of the graph, counted per audience.

    One pass over the edges for ``all``; each audience below takes away the edges of the
    people hidden from it and the links that would place someone too precisely (those
    are out-edges of people), rather than judging every edge three times.
    """
    attrs, succ, pred = graph._node, graph._succ, graph._pred
    nodes = Counter(a["kind"] for a in attrs.values())
    edges = Counter(k for links in succ.values() for kinds in links.values() for k in kinds)
    out: Tallies = {"all": _Tally(nodes, edges)}
    people = [(n, a) for n, a in attrs.items() if a["kind"] == "person"]
    placing = [  # a placed person's links to a community that may place them (any audience)
        (node, a, attrs[target], kinds)
        for node, a in people
        if a.get("locality") is not None
        for target, kinds in succ[node].items()
        if not PLACING_EDGES.isdisjoint(kinds) and attrs[target]["kind"] == "community"
    ]
    for audience in ("public", "members"):
        hidden = {n for n, a in people if not _counts(audience, a)}
        gone = _Tally(Counter(attrs[n]["kind"] for n in hidden), Counter())
        lost = gone.edges
        for node in hidden:
            for kinds in succ[node].values():
                for kind in kinds:
                    lost[kind] += 1
            for source, kinds in pred[node].items():
                if source not in hidden:  # an edge between two hidden people went above
                    for kind in kinds:
                        lost[kind] += 1
        for node, a, community, kinds in placing:
            if node not in hidden:
                for kind in kinds:
                    if _finer(kind, a, community):
                        lost[kind] += 1
        tally = _Tally(Counter(nodes), Counter(edges))
        tally.add(gone, -1)
        out[audience] = tally
    return out


def _tally(graph: nx.MultiDiGraph, nodes: Iterable[str], edges: Iterable[EdgeKey]) -> Tallies:
    """What ``nodes`` and the edges they touch, and ``edges``, contribute as the graph is now."""
    out = _empty()
    attrs: Mapping[str, dict[str, Any]] = graph._node
    counted = {a: out[a] for a in AUDIENCES}
    present = [n for n in nodes if n in attrs]
    for node in present:
        a = attrs[node]
        for audience, tally in counted.items():
            if _counts(audience, a):
                tally.nodes[a["kind"]] += 1
    found: set[EdgeKey] = set()
    succ, pred = graph._succ, graph._pred
    for node in present:
        found.update((node, t, k) for t, kinds in succ[node].items() for k in kinds)
        found.update((s, node, k) for s, kinds in pred[node].items() for k in kinds)
    found.update(e for e in edges if graph.has_edge(e[0], e[1], key=e[2]))
    for source, target, kind in found:
        s, t = attrs[source], attrs[target]
        for audience, tally in counted.items():
            shown = _counts(audience, s) and _counts(audience, t)
            if shown and (audience == "all" or not _finer(kind, s, t)):
                tally.edges[kind] += 1
    return out


def _counts(audience: CountAudience, attrs: Mapping[str, Any]) -> bool:
    return audience == "all" or listable(audience, attrs["visibility"], attrs["discoverable"])


def _finer(kind: str, source: Mapping[str, Any], target: Mapping[str, Any]) -> bool:
    """Whether the edge places a person more precisely than they share (not shown)."""
    if kind not in PLACING_EDGES or source["kind"] != "person" or target["kind"] != "community":
        return False
    mine, level = source.get("locality"), target.get("locality")
    if mine is None or level is None:
        return False
    return LOCALITY_RANK.get(level, 0) < LOCALITY_RANK.get(mine, 0)
