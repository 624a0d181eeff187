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

import math
from collections import defaultdict
from dataclasses import dataclass, field

from graph.matching.context import Incident, MatchContext

Walk = tuple[Incident, ...]

TEAM_SIZE = 12
"""An organisation with at most this many visible members is one team: its members
collaborate already. A larger one (a university, a company) is not."""
TEAM_KINDS = frozenset({"initiative", "council"})
TEAM_EDGES = frozenset({"works_on", "member_of"})


class CoWork:
    """Co-work neighbourhoods read through one context; each hub's members are read once."""

    def __init__(self, ctx: MatchContext) -> None:
        self.ctx = ctx
        self._members: dict[str, list[Incident]] = {}
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
            for other, kind2, forward2 in members:
                if other != person:
                    found.setdefault(other, ((hub, kind, forward), (other, kind2, forward2)))
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
    ra: dict[str, list[float]] = defaultdict(list)
    aa: dict[str, list[float]] = defaultdict(list)
    walks: dict[str, Walk] = {}
    circles = [(w, cowork.collaborators(w, hub_cap=hub_cap)) for w in sorted(mine)]
    circles.sort(key=lambda wc: (len(wc[1]), wc[0]))
    for w, theirs in circles[:max_coworkers]:
        degree = len(theirs)
        if not degree:
            continue
        for other, walk in theirs.items():
            if other == person or other in mine:
                continue
            ra[other].append(1.0 / degree)
            aa[other].append(1.0 / math.log(max(degree, 2)))
            walks.setdefault(other, mine[w] + walk)
    strength = {other: math.fsum(values) for other, values in ra.items()}
    kept = sorted(strength, key=lambda other: (-strength[other], other))[:keep]
    return SecondCircle(
        {other: walks[other] for other in kept},
        strength,
        {other: math.fsum(values) for other, values in aa.items()},
    )
