"""The council assistant: five to eight people who together cover a sector.

Who may be proposed: people of the sector whom the audience may list (discoverable, a
visibility the audience sees) and who are open to collaborate, minus those excluded;
for the board seat, any such board member of the network, preferring one of the sector.

What a proposal covers (its targets):

- **regions** where the sector is active (goal x region activity, :mod:`gaps`);
- the sector's **key goals** (:data:`graph.analytics.gaps.KEY_SHARE` of its activity);
- its largest **groups** (:mod:`groups`) with people in them, at most :data:`MAX_GROUPS`.

Selection is greedy and deterministic. The board seat is filled first, then each seat
goes to the candidate with the largest marginal gain, ties broken by id::

    gain = 1.0 * new region + 0.5 * new key goals (at most 2) + 0.8 * new group
           + 0.6 * reach

where *reach* is the candidate's bridge score in the sector (:mod:`bridges`: shortest
paths from other sectors passing through them, relative to the sector's strongest
bridge). Each member's explanation gives the gain of their seat, part by part.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx

from graph.analytics.bridges import SectorBridges
from graph.analytics.gaps import SectorGaps
from graph.analytics.groups import SectorGroups
from graph.analytics.names import join_words, plural, sdg_phrase, sdg_ref
from graph.analytics.snapshot import Places, Snapshot
from graph.model import Person
from graph.store import Store

MIN_SIZE, MAX_SIZE, DEFAULT_SIZE = 5, 8, 7
MAX_GROUPS = 8
GAINS: dict[str, float] = {"region": 1.0, "sdgs": 0.5, "group": 0.8, "reach": 0.6}
PER_STRATUM = 40
"""Candidates kept per region and per group before records are read (and overall x5)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    node: str
    region: str | None
    sdgs: frozenset[str]
    group: str | None
    reach: float
    bridged: tuple[str, ...]
    in_sector: bool
    board: bool = False


@dataclass(frozen=True, slots=True)
class Seat:
    candidate: Candidate
    score: float
    gains: dict[str, float]
    new_region: bool
    new_sdgs: tuple[str, ...]
    new_group: bool


@dataclass(frozen=True)
class Proposal:
    sector: str
    seats: tuple[Seat, ...]
    regions: tuple[str, ...]
    sdgs: tuple[str, ...]
    groups: tuple[str, ...]
    """The targets, most important first."""
    group_labels: dict[str, str] = field(default_factory=dict)
    pool: int = 0

    @property
    def covered(self) -> dict[str, list[str]]:
        found: dict[str, set[str]] = {"regions": set(), "sdgs": set(), "groups": set()}
        for seat in self.seats:
            c = seat.candidate
            found["regions"].update([c.region] if c.region in self.regions else [])
            found["sdgs"].update(c.sdgs & set(self.sdgs))
            found["groups"].update([c.group] if c.group in self.groups else [])
        return {
            "regions": [r for r in self.regions if r in found["regions"]],
            "sdgs": [s for s in self.sdgs if s in found["sdgs"]],
            "groups": [g for g in self.groups if g in found["groups"]],
        }

    @property
    def uncovered(self) -> dict[str, list[str]]:
        covered = self.covered
        return {
            "regions": [r for r in self.regions if r not in covered["regions"]],
            "sdgs": [s for s in self.sdgs if s not in covered["sdgs"]],
            "groups": [g for g in self.groups if g not in covered["groups"]],
        }

    @property
    def board_member(self) -> bool:
        return any(seat.candidate.board for seat in self.seats)


def board_members(store: Store) -> frozenset[str]:
    """The people who serve on the network's board (one scan of the people's records).

    The flag lives in the record, not the view; records are canonical JSON with sorted
    keys and defaults left out, so ``"board_member":true`` appears verbatim in exactly
    those records (a string value would escape its quotes). The match is confirmed on
    the parsed records.
    """
    flagged = store.ids_with_record_text("person", '"board_member":true')
    records = store.get_nodes(flagged)
    return frozenset(i for i, n in records.items() if isinstance(n, Person) and n.board_member)


def propose_council(
    graph: nx.MultiDiGraph,
    snap: Snapshot,
    places: Places,
    store: Store,
    sector: str,
    *,
    gaps: SectorGaps,
    groups: SectorGroups,
    bridges: SectorBridges,
    board: Collection[str],
    size: int = DEFAULT_SIZE,
    exclude: Collection[str] = (),
) -> Proposal:
    """A council of ``size`` for ``sector`` (see the module doc); ``board``: the board members."""
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size must be {MIN_SIZE} to {MAX_SIZE}, got {size}")
    excluded = set(exclude)
    counts = gaps.counts.sum(axis=0)
    regions = tuple(
        r for _, r in sorted((-counts[i], r) for i, r in enumerate(gaps.regions) if counts[i] > 0)
    )
    # Only groups with people in them can be covered by a seat.
    kept = [g for g in groups.groups if g.kinds.get("person", 0)][:MAX_GROUPS]
    group_of = {n: g.id for g in kept for n in g.members}
    reach = {b.node: b.score for b in bridges.bridges if snap.kind.get(b.node) == "person"}
    top = max(reach.values(), default=0.0)
    bridged = {b.node: tuple(s for s, _ in b.by_sector[:3]) for b in bridges.bridges}
    key = frozenset(gaps.key_sdgs)

    def candidate(node: str, *, board: bool = False) -> Candidate:
        goals = snap.sdgs_of(node) if node in snap.sdg_mask else _goals(graph, node, snap)
        return Candidate(
            node=node,
            region=places.region_of(node, snap.region_names),
            sdgs=frozenset(goals) & key,
            group=group_of.get(node),
            reach=round(reach.get(node, 0.0) / top, 4) if top else 0.0,
            bridged=bridged.get(node, ()),
            in_sector=sector in snap.sectors_of(node),
            board=board,
        )

    pool = [n for n in snap.members(sector).get("person", ()) if n not in excluded]
    shortlist = _shortlist([candidate(n) for n in pool])
    boards = {p for p in board if snap.kind.get(p) == "person" and p not in excluded}
    records = store.get_nodes(sorted({c.node for c in shortlist} | boards))
    open_ = {i for i, n in records.items() if isinstance(n, Person) and n.open_to_collaborate}
    shortlist = [replace(c, board=c.node in boards) for c in shortlist if c.node in open_]
    board_pool = [candidate(n, board=True) for n in sorted(boards & open_)]
    seats = _greedy(shortlist, board_pool, size, regions, key)
    return Proposal(
        sector=sector,
        seats=tuple(seats),
        regions=regions,
        sdgs=tuple(s for s in gaps.key_sdgs),
        groups=tuple(g.id for g in kept),
        group_labels={g.id: g.label for g in kept},
        pool=len(pool),
    )


def _goals(graph: nx.MultiDiGraph, node: str, snap: Snapshot) -> list[str]:
    """Goals of a person outside the sector (the snapshot keeps only sector members')."""
    found = set()
    for target, keys in graph._succ[node].items():
        if "interested_in" not in keys:
            continue
        if target in snap.sdgs:
            found.add(target)
        elif graph._node[target]["kind"] == "sdg_target":
            found.update(t for t, k in graph._succ[target].items() if "part_of" in k)
    return sorted(found & set(snap.sdgs))


def _shortlist(candidates: list[Candidate]) -> list[Candidate]:
    """The strongest candidates of each region and group, and overall (bounded reads)."""

    def alone(c: Candidate) -> tuple[float, str]:
        return (-(GAINS["sdgs"] * min(2, len(c.sdgs)) + GAINS["reach"] * c.reach), c.node)

    ranked = sorted(candidates, key=alone)
    keep: dict[str, Candidate] = {c.node: c for c in ranked[: PER_STRATUM * 5]}
    seen: dict[tuple[str, str | None], int] = {}
    for c in ranked:
        for stratum in (("region", c.region), ("group", c.group)):
            if stratum[1] is not None and seen.get(stratum, 0) < PER_STRATUM:
                seen[stratum] = seen.get(stratum, 0) + 1
                keep[c.node] = c
    return sorted(keep.values(), key=lambda c: c.node)


def _greedy(
    pool: list[Candidate],
    boards: list[Candidate],
    size: int,
    regions: tuple[str, ...],
    key: frozenset[str],
) -> list[Seat]:
    regions_left, sdgs_left = set(regions), set(key)
    groups_seen: set[str] = set()
    seats: list[Seat] = []

    def seat_for(c: Candidate) -> Seat:
        new_region = c.region is not None and c.region in regions_left
        new_sdgs = tuple(sorted(c.sdgs & sdgs_left, key=lambda s: int(s.partition(":")[2])))
        new_group = c.group is not None and c.group not in groups_seen
        gains = {
            "region": GAINS["region"] if new_region else 0.0,
            "sdgs": GAINS["sdgs"] * min(2, len(new_sdgs)),
            "group": GAINS["group"] if new_group else 0.0,
            "reach": round(GAINS["reach"] * c.reach, 4),
        }
        return Seat(c, round(sum(gains.values()), 4), gains, new_region, new_sdgs, new_group)

    def take(seat: Seat) -> None:
        seats.append(seat)
        c = seat.candidate
        regions_left.discard(c.region or "")
        sdgs_left.difference_update(c.sdgs)
        if c.group is not None:
            groups_seen.add(c.group)

    if boards:
        # A board member of the sector itself goes before one from elsewhere.
        scored = [seat_for(c) for c in boards]
        take(min(scored, key=lambda s: (not s.candidate.in_sector, -s.score, s.candidate.node)))
    while len(seats) < size:
        taken = {s.candidate.node for s in seats}
        scored = [seat_for(c) for c in pool if c.node not in taken]
        if not scored:
            break
        take(min(scored, key=lambda s: (-s.score, s.candidate.node)))
    return seats


def explain_seat(seat: Seat, proposal: Proposal, names: Mapping[str, str]) -> dict[str, Any]:
    """Why a person is proposed, in a sentence and in figures."""
    c = seat.candidate
    who = names.get(c.node, c.node)
    here = names.get(proposal.sector, proposal.sector)
    brings = []
    if seat.new_region and c.region:
        brings.append(c.region)
    brings += [sdg_phrase(s, names) for s in seat.new_sdgs]
    if seat.new_group and c.group:
        brings.append(f"the group '{proposal.group_labels.get(c.group, c.group)}'")
    role = " (board member)" if c.board else ""
    parts = [f"{who}{role} brings {join_words(brings)} to the council" if brings
             else f"{who}{role} adds depth to what the council already covers"]  # fmt: skip
    if c.board and not c.in_sector:
        parts.append(f"they serve on the board and are not yet part of {here}")
    if c.bridged:
        parts.append(f"they link {here} with {join_words([names.get(s, s) for s in c.bridged])}")
    return {
        "summary": "; ".join(parts) + ".",
        "components": seat.gains,
        "board_member": c.board,
        "region": c.region,
        "sdgs": [sdg_ref(s, names) for s in sorted(c.sdgs, key=lambda s: int(s[4:]))],
        "group": {"id": c.group, "label": proposal.group_labels.get(c.group, "")}
        if c.group
        else None,
    }


def explain_proposal(proposal: Proposal, names: Mapping[str, str]) -> str:
    """What a proposal covers and what it leaves out, in one sentence."""
    here = names.get(proposal.sector, proposal.sector)
    covered, missing = proposal.covered, proposal.uncovered
    board = "a board member" if proposal.board_member else "no board member (none is available)"
    summary = (
        f"{plural(len(proposal.seats), 'person', 'people')} for the {here} council with "
        f"{board}, covering {len(covered['regions'])} of {len(proposal.regions)} regions where "
        f"{here} is active, {len(covered['sdgs'])} of its {len(proposal.sdgs)} key goals and "
        f"{len(covered['groups'])} of its {len(proposal.groups)} largest groups"
    )
    left = [*missing["regions"], *[sdg_phrase(s, names) for s in missing["sdgs"]]]
    left += [f"the group '{proposal.group_labels.get(g, g)}'" for g in missing["groups"]]
    return summary + (f"; not covered: {join_words(left)}." if left else ".")
