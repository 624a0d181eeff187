"""What each batch of changes touched: the nodes, and the sectors whose figures may differ.

Structures built once per version of the graph view (the recommender's recommendable
people and degrees, the councils' figures of a sector) need not be built again from
nothing after a write that touched a few people: :class:`Touches`, a projection of the
change feed, records for every batch the nodes it touched and the sectors it may have
changed, and :meth:`Touches.between` answers for a range of versions.

- **Nodes**: every node an entry names (upserted or deleted) and both ends of every
  edge an entry names. Deleting a node logs the deletion of each of its edges first, so
  its neighbours are named too.
- **Sectors**: a sector's figures (bridges, groups, council proposals) read its
  members, their links and the nodes at the other end of those links (their kind, their
  own sectors), the members' goals, places and texts. So a touched node touches the
  sectors it belongs to, before and after the batch; a node whose attributes in the view
  changed (kind, place, visibility: what others' figures read of a neighbour, where a
  new bio or name is read only by its own sectors' figures) or that joined or left a
  sector (or a council, whose seats put people in its sector) also touches the sectors
  of its neighbours, whose links now lead to something else.
  Both are read before the batch is applied (:meth:`prepare`) and after (:meth:`apply`).
  A node with more than :data:`HUB_LINKS` links, a change of a sector or community
  node, a link to or from a community (which places and counts people: two links away
  from where it is made) or a batch of more than :data:`MANY_CHANGES` entries touch every
  sector; a council joining or leaving a sector also touches the sectors of its seat
  holders' neighbours. An erasure names nobody (:mod:`graph.store`): what it touched is
  not known.

Records are kept for the last :data:`KEEP` batches; a range older than that is unknown
(``None``), and whoever asked builds from nothing, as before.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import networkx as nx

from graph.feed import ChangeBatch
from graph.store import split_edge_ref
from graph.view import GraphView, node_attributes

HUB_LINKS = 5_000
"""A node with more links than this touches every sector (its neighbourhood is most of one)."""
MANY_CHANGES = 1_000
"""A batch with more entries than this touches every sector (an import, a catch-up)."""
KEEP = 10_000
"""Batches remembered."""
MAX_CARRY_NODES = 500
"""More nodes touched than this: a structure is built again rather than carried over
node by node."""
MEMBERSHIP_KINDS = frozenset({"sector", "council"})
"""Kinds of node a link to which puts a node in a sector."""
EVERYWHERE_KINDS = frozenset({"sector", "community"})
"""Kinds of node whose own change, or (for a community) any change of whose links,
touches every sector: every sector's bridges list the others, and a community places
everyone in it and in the communities below it, and counts them."""


@dataclass(frozen=True, slots=True)
class Touched:
    """What the changes after one version up to another touched."""

    nodes: frozenset[str]
    sectors: frozenset[str] | None
    """None: every sector."""

    def sector(self, sector: str) -> bool:
        """Whether ``sector``'s figures may differ between the two versions."""
        return self.sectors is None or sector in self.sectors


@dataclass(frozen=True, slots=True)
class _Record:
    since: int
    """The version the batch was applied to."""
    seq: int
    """The version it made."""
    nodes: frozenset[str] | None
    """None: not known (an erasure)."""
    sectors: frozenset[str] | None


class Touches:
    """A projection of the change feed (after the graph view): see the module doc."""

    def __init__(self, view: GraphView, *, keep: int = KEEP) -> None:
        self.view = view
        self._records: deque[_Record] = deque(maxlen=keep)
        self._lock = threading.Lock()
        self._start = view.seq
        """The first version records run from."""

    def prepare(self, batch: ChangeBatch) -> tuple[int, frozenset[str], frozenset[str] | None]:
        """Before the batch (read by the feed's own thread, the only one that changes the
        graph): the nodes whose attributes in the view it changes, and the sectors it
        touches as the graph is now."""
        graph = self.view.graph
        changed = frozenset(
            node_id
            for node_id, node in batch.nodes.items()
            if node_id in graph._node and graph._node[node_id] != node_attributes(node)
        )
        return self.view.seq, changed, _sectors_touched(graph, batch, changed)

    def apply(
        self, batch: ChangeBatch, prepared: tuple[int, frozenset[str], frozenset[str] | None]
    ) -> None:
        since, changed, before = prepared
        after = _sectors_touched(self.view.graph, batch, changed)
        sectors = None if before is None or after is None else before | after
        # An erasure names nobody: who it removed is not known here.
        nodes = None if batch.erasures else _nodes(batch)
        record = _Record(since, self.view.seq, nodes, sectors)
        with self._lock:
            if self._records and self._records[-1].seq != since:
                self._records.clear()  # a gap (should not happen): start again from here
            if not self._records:
                self._start = since
            if len(self._records) == self._records.maxlen:
                self._start = self._records[0].seq  # the oldest record is dropped now
            self._records.append(record)

    def between(self, since: int, until: int) -> Touched | None:
        """What the changes after version ``since`` up to ``until`` touched; None when
        that is not known (older than what is kept, ``until`` not applied yet, or an erasure
        in between: it names nobody)."""
        if since == until:
            return Touched(frozenset(), frozenset())
        with self._lock:
            if since < self._start or since > until or not self._records:
                return None
            if self._records[-1].seq < until:
                return None
            nodes: set[str] = set()
            sectors: set[str] | None = set()
            for record in reversed(self._records):
                if record.seq <= since:
                    break
                if record.since >= until:
                    continue
                if record.nodes is None:
                    return None
                nodes |= record.nodes
                if record.sectors is None or sectors is None:
                    sectors = None
                else:
                    sectors |= record.sectors
        return Touched(frozenset(nodes), None if sectors is None else frozenset(sectors))


def _nodes(batch: ChangeBatch) -> frozenset[str]:
    found: set[str] = set()
    for change in batch.changes:
        if change.entity == "node":
            if change.op != "erase":
                found.add(change.ref)
        else:
            source, _kind, target = split_edge_ref(change.ref)
            found.update((source, target))
    return frozenset(found)


def _sectors_touched(
    graph: nx.MultiDiGraph, batch: ChangeBatch, changed: frozenset[str]
) -> frozenset[str] | None:
    """The sectors the batch may change, read on ``graph`` as it is now; None: every one.
    ``changed``: the nodes whose attributes in the view (kind, place, visibility) change."""
    if len(batch.changes) > MANY_CHANGES or batch.erasures:
        return None
    found: set[str] = set()
    widened: set[str] = set(changed)  # nodes whose neighbours' sectors count too
    named: set[str] = set()
    for change in batch.changes:
        if change.entity == "node":
            if _kind_of(graph, change.ref) in EVERYWHERE_KINDS:
                return None
            named.add(change.ref)
            continue
        source, _kind, target = split_edge_ref(change.ref)
        named.update((source, target))
        kinds = (_kind_of(graph, source), _kind_of(graph, target))
        if "community" in kinds:
            return None
        for one, mine, other in ((source, *kinds), (target, *kinds[::-1])):
            if other in MEMBERSHIP_KINDS:
                widened.add(one)
                if mine == "council" and other == "sector":
                    # a council joining or leaving a sector moves its seat holders with it
                    widened.update(_neighbours(graph, one))
    for node in named:
        if node not in graph:
            continue
        if _kind_of(graph, node) == "sector":
            found.add(node)
            continue
        found |= _sectors_of(graph, node)
    for node in widened:
        if node not in graph:
            continue
        neighbours = _neighbours(graph, node)
        if len(neighbours) > HUB_LINKS:
            return None
        for other in neighbours:
            found |= _sectors_of(graph, other)
    return frozenset(found)


def _kind_of(graph: nx.MultiDiGraph, node: str) -> str | None:
    attrs = graph._node.get(node)
    return None if attrs is None else attrs.get("kind")


def _neighbours(graph: nx.MultiDiGraph, node: str) -> set[str]:
    return set(graph._succ[node]) | set(graph._pred[node])


def _sectors_of(graph: nx.MultiDiGraph, node: str) -> set[str]:
    """The sectors ``node`` is in, as the councils' snapshot reads them (a link from it
    to the sector, or a seat on a council linked to one), and ``node`` if it is one."""
    nodes, succ = graph._node, graph._succ
    found: set[str] = set()
    if nodes[node].get("kind") == "sector":
        found.add(node)
    for other in succ[node]:
        kind = nodes[other].get("kind")
        if kind == "sector":
            found.add(other)
        elif kind == "council":
            found.update(s for s in succ[other] if nodes[s].get("kind") == "sector")
    return found
