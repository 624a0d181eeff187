"""Gaps: the goal x region cells of a sector with little activity.

A unit of activity is one counted node of the sector (a person, initiative, Wisdom
Book entry, organisation, event or council) working on one goal in one region; a person
on three goals counts three times. Regions are the six UN M49 regions of
``data/regions.json``; a node without a country (nor community giving one) is
"unplaced" and counted apart.

Each cell is compared with what it would hold if the sector's work on that goal were
spread over the regions like the network's counted people and content are:
``expected = activity on the goal x the region's share of the network``. A cell is a
**gap** when the goal is one of the sector's own (at least :data:`KEY_SHARE` of its
activity) and the cell holds less than :data:`GAP_RATIO` of what is expected, with at
least :data:`MIN_EXPECTED` expected. Gaps are ranked by the shortfall.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from graph.analytics.names import plural, sdg_phrase, sdg_ref
from graph.analytics.snapshot import MEMBER_KINDS, Places, Snapshot

KEY_SHARE = 0.05
GAP_RATIO = 0.5
MIN_EXPECTED = 1.0
Counts = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SectorGaps:
    sector: str
    sdgs: tuple[str, ...]
    regions: tuple[str, ...]
    people: Counts
    """Goal x region activity of people."""
    content: Counts
    """Goal x region activity of initiatives, entries, organisations, events and councils."""
    expected: Counts
    key_sdgs: tuple[str, ...]
    """The sector's own goals: at least :data:`KEY_SHARE` of its placed activity, most first."""
    network_share: tuple[float, ...]
    """Each region's share of the network's placed people and content."""
    unplaced: int
    """Units of activity with no region."""

    @property
    def counts(self) -> Counts:
        return self.people + self.content

    def is_gap(self, g: int, r: int) -> bool:
        expected = float(self.expected[g, r])
        return (
            self.sdgs[g] in self.key_sdgs
            and expected >= MIN_EXPECTED
            and float(self.counts[g, r]) < GAP_RATIO * expected
        )

    def gaps(self) -> list[tuple[int, int]]:
        """(goal, region) indices of the gaps, largest shortfall first."""
        found = [
            (g, r)
            for g in range(len(self.sdgs))
            for r in range(len(self.regions))
            if self.is_gap(g, r)
        ]
        shortfall = self.expected - self.counts
        return sorted(found, key=lambda c: (-round(float(shortfall[c]), 6), c))


def sector_gaps(snap: Snapshot, places: Places, sector: str) -> SectorGaps:
    """The goal x region grid of ``sector`` (see the module doc)."""
    n_sdgs, n_regions = len(snap.sdgs), len(snap.region_names)
    people = np.zeros((n_sdgs, n_regions))
    content = np.zeros((n_sdgs, n_regions))
    unplaced = 0
    for kind, nodes in snap.members(sector).items():
        target = people if kind == "person" else content
        for node in nodes:
            goals = snap.sdg_mask.get(node, 0)
            if not goals:
                continue
            region = places.region.get(node, -1)
            rows = [g for g in range(n_sdgs) if goals >> g & 1]
            if region < 0:
                unplaced += len(rows)
            else:
                target[rows, region] += 1
    network = np.zeros(n_regions)
    for node, kind in snap.kind.items():
        region = places.region.get(node, -1)
        if region >= 0 and kind in MEMBER_KINDS:
            network[region] += 1
    share = network / network.sum() if network.sum() else np.zeros(n_regions)
    total = people + content
    per_goal = total.sum(axis=1)
    expected = per_goal[:, None] * share[None, :]
    placed = per_goal.sum()
    order = sorted(range(n_sdgs), key=lambda g: (-per_goal[g], g))
    key = tuple(snap.sdgs[g] for g in order if placed and per_goal[g] / placed >= KEY_SHARE)
    return SectorGaps(
        sector=sector,
        sdgs=snap.sdgs,
        regions=snap.region_names,
        people=people,
        content=content,
        expected=expected,
        key_sdgs=key,
        network_share=tuple(round(float(s), 4) for s in share),
        unplaced=unplaced,
    )


def explain_gap(gaps: SectorGaps, g: int, r: int, names: Mapping[str, str]) -> dict[str, Any]:
    """Why a cell is a gap, in a sentence and in figures."""
    sdg, region = gaps.sdgs[g], gaps.regions[r]
    sector = names.get(gaps.sector, gaps.sector)
    count, expected = int(gaps.counts[g, r]), float(gaps.expected[g, r])
    people, content = int(gaps.people[g, r]), int(gaps.content[g, r])
    per_goal = float(gaps.counts[g].sum())
    sector_share = count / per_goal if per_goal else 0.0
    summary = (
        f"{sdg_phrase(sdg, names)} in {region}: {sector} has {plural(people, 'person', 'people')} "
        f"and {plural(content, 'initiative or entry', 'initiatives and entries')} here, where "
        f"about {expected:.0f} would match how the network is spread ({region} holds "
        f"{gaps.network_share[r]:.0%} of the network but {sector_share:.0%} of {sector}'s work "
        f"on this goal)."
    )
    return {
        "sdg": sdg_ref(sdg, names),
        "region": region,
        "count": count,
        "people": people,
        "content": content,
        "expected": round(expected, 2),
        "explanation": {
            "summary": summary,
            "components": {"shortfall": round(expected - count, 2),
                           "ratio": round(count / expected, 3) if expected else None},
            "network_share": gaps.network_share[r],
            "sector_share": round(sector_share, 4),
        },
    }  # fmt: skip
