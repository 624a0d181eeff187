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

from graph.compact import kind_reader
from graph.matching.profiles import ProfileIndex
from graph.queries import EdgeFilter
from graph.similarity import TextSimilarity

if TYPE_CHECKING:
    from graph.matching.cowork import Teams

Incident = tuple[str, str, bool]
"""(neighbour, edge kind, forward): forward when the stored edge points at the neighbour."""

TOPIC_KINDS = frozenset({"sdg", "sector", "sdg_target"})
WORK_EDGES = frozenset({"works_on", "partners_with"})


class Degrees:
    """Node degrees of one graph, computed once per node (a hub's degree costs its size).

    Keep one per version of the graph (the service keeps one per ``view.seq``).
    """

    def __init__(self, graph: nx.MultiDiGraph) -> None:
        self.graph = graph
        self._seen: dict[str, int] = {}

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
        the nodes whose links the changes since touched (:mod:`graph.touches`)."""
        seen = dict(older._seen)
        for node in changed:
            seen.pop(node, None)
        self._seen = seen

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
    teams: Teams | None = None
    """The members of each hub as this audience sees them, shared between requests
    (:class:`graph.matching.cowork.Teams`); None: read per request."""

    def __post_init__(self) -> None:
        if self.degrees is None:
            self.degrees = Degrees(self.graph)
        self.kind: Callable[[str], str] = kind_reader(self.graph)

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
