"""What a recommendation is computed from: the graph, text similarity, profiles and an audience.

The audience carries the privacy rules as predicates, so that the matching code never
decides who sees what: ``allow`` says which nodes a walk may pass through or show (the
caller's view of the graph), ``allow_edge`` which stored edges it may use, and
``recommendable`` which nodes may be recommended at all (consent: discoverable, open
to collaborate, not private; or an active initiative). ``edge_kinds_checked``, when
given, names the only edge kinds ``allow_edge`` can refuse, so the others skip the
call. ``people`` and ``initiatives``, when given, are the pools text search looks among
(the caller's recommendable people, perhaps only those near the person).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import networkx as nx

from graph.compact import attribute_reader, kind_reader
from graph.matching.profiles import ProfileIndex
from graph.queries import EdgeFilter
from graph.similarity import TextSimilarity

if TYPE_CHECKING:
    from graph.matching.cowork import Members
    from graph.matching.features import Summary

Incident = tuple[str, str, bool]
"""(neighbour, edge kind, forward): forward when the stored edge points at the neighbour."""

TOPIC_KINDS = frozenset({"sdg", "sector", "sdg_target"})
WORK_EDGES = frozenset({"works_on", "partners_with"})
TEAM_KINDS = frozenset({"initiative", "council"})
"""Hubs whose members always collaborate (:mod:`graph.matching.cowork`); an
organisation does when it is small enough."""
TEAM_HUBS = TEAM_KINDS | {"organization"}


class Degrees:
    """Node degrees of one graph, computed once per node (a hub's degree costs its size).

    Keep one per version of the graph (the service keeps one per ``view.seq``).
    """

    def __init__(self, graph: nx.MultiDiGraph) -> None:
        self.graph = graph
        self._seen: dict[str, int] = {}
        self._missing: list[str] | None = None
        """The nodes whose degree may be missing, when every other one is known; None:
        any node's may be."""

    def __call__(self, node: str) -> int:
        """The number of distinct neighbours (two links to one node count once)."""
        found = self._seen.get(node)
        if found is None:
            succ, pred = self.graph._succ[node], self.graph._pred[node]
            found = len(succ) + sum(1 for other in pred if other not in succ)
            self._seen[node] = found
        return found

    def carry(self, older: Degrees, changed: Iterable[str]) -> None:
        """Keep the degrees ``older`` (of an earlier version) found, but for ``changed``:
        the nodes whose links the changes since touched (:mod:`graph.touches`). What
        ``older`` still missed stays missing with them: a version carried from one that
        was never filled (writes coming faster than the warmer) fills those alone, not
        every node.

        ``older`` is left empty (it computes a degree again if asked): its degrees are
        taken, not copied. The service asks nothing of an older version once a newer one
        is made (requests hold the feed's shared lock, a write its own), and copying
        them took 90 ms of a worker's time after each write at a million people, while
        its requests waited."""
        seen, older._seen = older._seen, {}
        missing = list(changed)
        for node in missing:
            seen.pop(node, None)
        self._seen = seen
        self._missing = None if older._missing is None else [*older._missing, *missing]
        older._missing = None

    def fill(self) -> None:
        """Compute the degree of every node of the graph: after a :meth:`carry` from a
        filled version, of the changed nodes alone (at 100,000 people a pass over every
        node took 35 ms of each worker's time after every write)."""
        graph = self.graph
        for node in graph if self._missing is None else self._missing:
            if node in graph:
                self(node)
        self._missing = []

    def weight(self, node: str) -> float:
        """The Adamic-Adar weight of a common neighbour: 1 / log(degree)."""
        return 1.0 / math.log(max(self(node), 2))


def _anything(_node: str) -> bool:
    return True


@dataclass(frozen=True)
class Audience:
    """Privacy and consent as predicates (see the module docstring); defaults allow all."""

    allow: Callable[[str], bool] = _anything
    allow_edge: EdgeFilter | None = None
    recommendable: Callable[[str], bool] = _anything
    edge_kinds_checked: frozenset[str] | None = None  # None: ask allow_edge for every kind


class Neighbourhoods:
    """What the requests of one audience read of the nodes' neighbourhoods in one version
    of the graph, read once and shared: the people linked to each hub
    (:class:`graph.matching.cowork.Members`; a person's second circle reads the hubs of
    up to ``max_coworkers`` co-workers), each person's number of co-workers (by which
    a second circle chooses them) and each candidate's summary
    (:class:`graph.matching.features.Summary`). At most ``MAX_SUMMARIES`` summaries are
    kept; past that, new ones are read for each request.

    Keep one per audience and ``view.seq``; :meth:`carry` keeps those of an earlier
    version that no change since could have altered. What an audience may see is its
    hidden nodes and its edge rule (community links finer than a person shares), the
    same for every caller of the audience but a person themselves
    (:attr:`MatchContext.personal`).
    """

    MAX_SUMMARIES = 200_000
    MAX_COWORK_DEGREES = 300_000

    def __init__(self) -> None:
        self.members: dict[str, Members] = {}
        self.summaries: dict[str, Summary] = {}
        self.cowork_degrees: dict[str, tuple[int | None, int]] = {}
        """Each person's number of co-workers (:meth:`CoWork.degree`), with the hub cap
        it was counted under. At most ``MAX_COWORK_DEGREES`` are kept."""

    def carry(self, older: Neighbourhoods, changed: Iterable[str], graph: nx.MultiDiGraph) -> None:
        """Keep what ``older`` read, but for the nodes ``changed`` (those whose links or
        attributes the changes touched, :mod:`graph.touches`) and every node linked to
        one: a link added or removed touches both its ends, a person whose visibility
        changed is linked to every hub whose members that changes, and an initiative
        whose sectors changed to every person whose sectors are those of their work.
        ``older`` is left empty: what it read is taken, not copied (see
        :meth:`Degrees.carry`)."""
        members, summaries = older.members, older.summaries
        degrees = older.cowork_degrees
        older.members, older.summaries, older.cowork_degrees = {}, {}, {}
        succ, pred = graph._succ, graph._pred
        kind = kind_reader(graph)
        for node in changed:
            members.pop(node, None)
            summaries.pop(node, None)
            degrees.pop(node, None)
            if node in succ:
                for other in (*succ[node], *pred[node]):
                    members.pop(other, None)
                    summaries.pop(other, None)
                    degrees.pop(other, None)
                    if kind(other) in TEAM_HUBS:
                        # A person's number of co-workers counts the members of their
                        # teams: a change to one member (their visibility, a link) is
                        # two links away from the others
                        for member in (*succ[other], *pred[other]):
                            degrees.pop(member, None)
        self.members, self.summaries, self.cowork_degrees = members, summaries, degrees


@dataclass
class MatchContext:
    """Everything one recommendation reads."""

    graph: nx.MultiDiGraph
    similarity: TextSimilarity
    profiles: ProfileIndex
    audience: Audience = field(default_factory=Audience)
    degrees: Degrees | None = None
    people: Collection[str] | None = None
    initiatives: Collection[str] | None = None
    shared: Neighbourhoods | None = None
    """What this audience's requests share of the nodes' neighbourhoods (the members of
    each hub, each candidate's summary); None: read per request."""
    personal: frozenset[str] = frozenset()
    """Nodes the caller sees otherwise than their audience does (their own person, whose
    finer places they see): their summaries are read for the request alone."""

    def __post_init__(self) -> None:
        if self.degrees is None:
            self.degrees = Degrees(self.graph)
        self.kind: Callable[[str], str] = kind_reader(self.graph)
        self.lat: Callable[[str], float | None] = attribute_reader(self.graph, "lat")
        self.lon: Callable[[str], float | None] = attribute_reader(self.graph, "lon")

    @property
    def degree(self) -> Degrees:
        assert self.degrees is not None
        return self.degrees

    def incident(self, node: str) -> list[Incident]:
        """The node's edges the audience may use, to neighbours it may see (either direction)."""
        # The adjacency dicts are read directly: networkx's edge views cost several times
        # more per edge, and this runs for every candidate of every request.
        succ, pred = self.graph._succ[node], self.graph._pred[node]
        audience = self.audience
        allow, allow_edge, checked = (
            audience.allow,
            audience.allow_edge,
            audience.edge_kinds_checked,
        )
        found: list[Incident] = []
        for other, keys in succ.items():
            if allow(other):
                for kind in keys:
                    if (
                        allow_edge is None
                        or (checked is not None and kind not in checked)
                        or allow_edge(node, kind, other)
                    ):
                        found.append((other, kind, True))
        for other, keys in pred.items():
            if allow(other):
                for kind in keys:
                    if (
                        allow_edge is None
                        or (checked is not None and kind not in checked)
                        or allow_edge(other, kind, node)
                    ):
                        found.append((other, kind, False))
        return found
