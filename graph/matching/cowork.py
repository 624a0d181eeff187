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
from dataclasses import dataclass, field

from graph.matching.context import TEAM_KINDS, Incident, MatchContext

Walk = tuple[Incident, ...]

TEAM_SIZE = 12
"""An organisation with at most this many visible members is one team: its members
collaborate already. A larger one (a university, a company) is not."""
TEAM_EDGES = frozenset({"works_on", "member_of"})


Link = tuple[Incident, dict[str, Incident] | None]
"""A step out of a person that makes collaborators: a ``knows`` link (None: the step
reaches the collaborator) or a link to a team hub, with the hub's members."""


@dataclass(frozen=True)
class Members:
    """The people linked to a hub: each with the first of their links to it (links in
    sorted order), and how many links there are."""

    first: dict[str, Incident]
    links: int


class CoWork:
    """Co-work neighbourhoods read through one context; each hub's members are read once
    (once per version and audience when the context carries its
    :class:`~graph.matching.context.Neighbourhoods`)."""

    def __init__(self, ctx: MatchContext) -> None:
        self.ctx = ctx
        shared = ctx.shared
        self._members: dict[str, Members] = {} if shared is None else shared.members
        self._degrees: dict[str, tuple[int | None, int]] = (
            {} if shared is None else shared.cowork_degrees
        )
        self._degrees_cap = 10**9 if shared is None else shared.MAX_COWORK_DEGREES
        self._collaborators: dict[tuple[str, int | None], dict[str, Walk]] = {}
        self._read: dict[tuple[str, int | None], list[Link]] = {}

    def members(self, hub: str) -> Members:
        """The people linked to a hub, through edges the audience may use."""
        found = self._members.get(hub)
        if found is None:
            kind = self.ctx.kind
            steps = sorted(step for step in self.ctx.incident(hub) if kind(step[0]) == "person")
            first: dict[str, Incident] = {}
            for step in steps:
                first.setdefault(step[0], step)
            found = self._members[hub] = Members(first, len(steps))
        return found

    def is_team(self, hub: str) -> bool:
        """An initiative, a council, or an organisation of at most ``TEAM_SIZE`` members."""
        kind = self.ctx.kind(hub)
        if kind in TEAM_KINDS:
            return True
        return kind == "organization" and self.members(hub).links <= TEAM_SIZE

    def _links(self, person: str, hub_cap: int | None) -> list[Link]:
        """What makes the person's collaborators, in sorted order: each ``knows`` link
        (with None: the step reaches the collaborator), and each team hub with its
        members. With ``hub_cap``, hubs of more member links are skipped. Read once
        per request."""
        key = (person, hub_cap)
        found = self._read.get(key)
        if found is not None:
            return found
        ctx = self.ctx
        found = self._read[key] = []
        for hub, kind, forward in sorted(ctx.incident(person)):
            if ctx.kind(hub) == "person":
                if kind == "knows":
                    found.append(((hub, kind, forward), None))
                continue
            if kind not in TEAM_EDGES or not self.is_team(hub):
                continue
            members = self.members(hub)
            if hub_cap is not None and members.links > hub_cap:
                continue
            found.append(((hub, kind, forward), members.first))
        return found

    def collaborators(self, person: str, *, hub_cap: int | None = None) -> dict[str, Walk]:
        """The person's existing collaborators, each with the walk that links them (a
        ``knows`` edge, or the shared hub). With ``hub_cap``, hubs of more members are
        skipped (for walks beyond the person's own circle, which must stay bounded)."""
        key = (person, hub_cap)
        found = self._collaborators.get(key)
        if found is not None:
            return found
        found = {}
        for step, members in self._links(person, hub_cap):
            if members is None:
                found.setdefault(step[0], (step,))
                continue
            for other, member in members.items():
                if other != person and other not in found:
                    found[other] = (step, member)
        self._collaborators[key] = found
        return found

    def collaborator_ids(self, person: str, *, hub_cap: int | None = None) -> set[str]:
        """The keys of :meth:`collaborators`, without building a walk to each."""
        found: set[str] = set()
        knows = []
        for step, members in self._links(person, hub_cap):
            if members is None:
                knows.append(step[0])
            else:
                found.update(members)
        found.discard(person)
        found.update(knows)
        return found

    def degree(self, person: str, *, hub_cap: int | None = None) -> int:
        """``len(collaborator_ids(person, hub_cap=hub_cap))``, kept for the version and
        audience with the neighbourhoods they share: a second circle orders every
        co-worker of the person by it (at a million people, thousands of them for a
        member of a large initiative, most read again by the next request)."""
        found = self._degrees.get(person)
        if found is not None and found[0] == hub_cap:
            return found[1]
        degree = len(self.collaborator_ids(person, hub_cap=hub_cap))
        if found is not None or len(self._degrees) < self._degrees_cap:
            self._degrees[person] = (hub_cap, degree)
        return degree

    def walk(self, person: str, other: str, *, hub_cap: int | None = None) -> Walk:
        """``collaborators(person, hub_cap=hub_cap)[other]``, read alone."""
        for step, members in self._links(person, hub_cap):
            if members is None:
                if step[0] == other:
                    return (step,)
            elif other != person and other in members:
                return (step, members[other])
        raise KeyError(other)


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
    # Sums in one fixed order (co-workers sorted, then by their number of collaborators):
    # the same neighbourhood always gives the same figures and ties.
    ra: dict[str, float] = {}
    aa: dict[str, float] = {}
    first: dict[str, str] = {}  # the co-worker each was reached through first
    walked = sorted(mine, key=lambda w: (cowork.degree(w, hub_cap=hub_cap), w))
    circles = [(w, cowork.collaborator_ids(w, hub_cap=hub_cap)) for w in walked[:max_coworkers]]
    skip = {person, *mine}
    for w, theirs in circles:
        degree = len(theirs)
        if not degree:
            continue
        by_ra, by_aa = 1.0 / degree, 1.0 / math.log(max(degree, 2))
        # each one's sums gain one term per co-worker, in the order of circles
        for other in theirs - skip:
            if other in ra:
                ra[other] += by_ra
                aa[other] += by_aa
            else:
                ra[other], aa[other], first[other] = by_ra, by_aa, w
    kept = heapq.nsmallest(keep, ((-value, other) for other, value in ra.items()))
    walks = {}
    for _, other in kept:
        w = first[other]
        walks[other] = mine[w] + cowork.walk(w, other, hub_cap=hub_cap)
    return SecondCircle(walks, ra, aa)
