"""Existing collaborators and the co-work graph: who already works with whom.

Two people already collaborate when one knows the other, or they share an initiative,
a council, or an organisation small enough to be a team (at most :data:`TEAM_SIZE`
members): recommending them as collaborators tells a person nothing new. The co-work
graph links each person to these collaborators; co-workers' co-workers, two steps away
in it (four hops through ``works_on``: person, initiative, person, initiative, person),
are where most new collaborations come from.

Everything is read through :meth:`MatchContext.incident`, so a node or edge the
audience may not use never makes anyone a collaborator, a co-worker's co-worker, or a
step of a walk; team sizes and co-work degrees count only visible members.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx

from graph.matching.context import Incident, MatchContext

Walk = tuple[Incident, ...]

TEAM_SIZE = 12
"""An organisation with at most this many visible members is one team: its members
collaborate already. A larger one (a university, a company) is not."""
TEAM_KINDS = frozenset({"initiative", "council"})
TEAM_EDGES = frozenset({"works_on", "member_of"})


class Teams:
    """The people linked to each hub, as one audience sees them in one version of the
    graph: read once and shared by every request of that audience (a person's second
    circle reads the members of the hubs of up to ``max_coworkers`` co-workers).

    Keep one per audience and ``view.seq``; :meth:`carry` keeps those of an earlier
    version that no change since could have altered. What an audience may see is its
    hidden nodes alone here: the only links an audience's edge rule refuses are those to
    communities, whose members are never read as a team's.
    """

    def __init__(self) -> None:
        self.members: dict[str, list[Incident]] = {}

    def carry(self, older: Teams, changed: Iterable[str], graph: nx.MultiDiGraph) -> None:
        """Keep what ``older`` read, but for the hubs ``changed`` nodes (those whose
        links or attributes the changes touched, :mod:`graph.touches`) are or are
        linked to: a link added or removed touches both its ends, and a person whose
        visibility changed is linked to every hub whose members that changes."""
        kept = dict(older.members)
        succ, pred = graph._succ, graph._pred
        for node in changed:
            kept.pop(node, None)
            if node in succ:
                for hub in (*succ[node], *pred[node]):
                    kept.pop(hub, None)
        self.members = kept


class CoWork:
    """Co-work neighbourhoods read through one context; each hub's members are read once
    (once per version and audience when the context carries its :class:`Teams`)."""

    def __init__(self, ctx: MatchContext) -> None:
        self.ctx = ctx
        self._members: dict[str, list[Incident]] = {} if ctx.teams is None else ctx.teams.members
        self._collaborators: dict[tuple[str, int | None], dict[str, Walk]] = {}

    def members(self, hub: str) -> list[Incident]:
        """The people linked to a hub, through edges the audience may use."""
        found = self._members.get(hub)
        if found is None:
            kind = self.ctx.kind
            found = sorted(step for step in self.ctx.incident(hub) if kind(step[0]) == "person")
            self._members[hub] = found
        return found

    def is_team(self, hub: str) -> bool:
        """An initiative, a council, or an organisation of at most ``TEAM_SIZE`` members."""
        kind = self.ctx.kind(hub)
        if kind in TEAM_KINDS:
            return True
        return kind == "organization" and len(self.members(hub)) <= TEAM_SIZE

    def collaborators(self, person: str, *, hub_cap: int | None = None) -> dict[str, Walk]:
        """The person's existing collaborators, each with the walk that links them (a
        ``knows`` edge, or the shared hub). With ``hub_cap``, hubs of more members are
        skipped (for walks beyond the person's own circle, which must stay bounded)."""
        key = (person, hub_cap)
        found = self._collaborators.get(key)
        if found is not None:
            return found
        found = {}
        ctx = self.ctx
        for hub, kind, forward in sorted(ctx.incident(person)):
            hub_kind = ctx.kind(hub)
            if hub_kind == "person":
                if kind == "knows":
                    found.setdefault(hub, ((hub, kind, forward),))
                continue
            if kind not in TEAM_EDGES or not self.is_team(hub):
                continue
            members = self.members(hub)
            if hub_cap is not None and len(members) > hub_cap:
                continue
            step = (hub, kind, forward)
            for member in members:
                if member[0] != person and member[0] not in found:
                    found[member[0]] = (step, member)
        self._collaborators[key] = found
        return found


@dataclass
class SecondCircle:
    """Co-workers' co-workers of one person: the strongest with their walks (candidates),
    and the co-work link strengths of all of them (features of any candidate)."""

    walks: dict[str, Walk] = field(default_factory=dict)
    resource_allocation: dict[str, float] = field(default_factory=dict)
    adamic_adar: dict[str, float] = field(default_factory=dict)


def second_circle(
    cowork: CoWork,
    person: str,
    mine: dict[str, Walk],
    *,
    keep: int,
    max_coworkers: int,
    hub_cap: int,
) -> SecondCircle:
    """The ``keep`` people two steps from ``person`` in the co-work graph with the largest
    resource allocation (``sum 1/degree`` over the co-workers they share; the degree is a
    co-worker's number of collaborators), ties by id. At most ``max_coworkers`` of the
    person's co-workers (the fewest-connected first, as they say the most) are walked,
    each through hubs of at most ``hub_cap`` members."""
    # Sums in one fixed order (co-workers sorted, each one's collaborators in the order
    # read): the same neighbourhood always gives the same figures and ties.
    ra: dict[str, float] = {}
    aa: dict[str, float] = {}
    first: dict[str, str] = {}  # the co-worker each was reached through first
    circles = [(w, cowork.collaborators(w, hub_cap=hub_cap)) for w in sorted(mine)]
    circles.sort(key=lambda wc: (len(wc[1]), wc[0]))
    circles = circles[:max_coworkers]
    for w, theirs in circles:
        degree = len(theirs)
        if not degree:
            continue
        by_ra, by_aa = 1.0 / degree, 1.0 / math.log(max(degree, 2))
        for other in theirs:
            if other == person or other in mine:
                continue
            if other in ra:
                ra[other] += by_ra
                aa[other] += by_aa
            else:
                ra[other], aa[other], first[other] = by_ra, by_aa, w
    kept = heapq.nsmallest(keep, ((-value, other) for other, value in ra.items()))
    theirs_of = dict(circles)
    walks = {}
    for _, other in kept:
        w = first[other]
        walks[other] = mine[w] + theirs_of[w][other]
    return SecondCircle(walks, ra, aa)
