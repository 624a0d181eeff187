"""How much each pair of sectors overlaps: shared goals, shared people, similar content.

Three components, each a 12 x 12 matrix with 1 on the diagonal:

- ``sdgs``: cosine of the sectors' goal profiles. A sector's profile gives each goal
  the share of its people who care about it plus the share of its content (initiatives,
  Wisdom Book entries, organisations, events) that addresses it, half and half, so that
  thousands of people do not drown a few dozen initiatives.
- ``people``: the Ochiai coefficient of the sectors' people, ``shared / sqrt(a * b)``,
  counting only people the audience may list (see :mod:`graph.analytics.snapshot`).
- ``content``: cosine of the sectors' content centroids after the mean of the twelve
  centroids is taken away. Every text of the network shares a common direction
  ("community", "people", "support"); removing it leaves what sets a sector apart, so
  the cosine measures what two sectors share beyond what all of them share.

The combined score rescales each component from the weakest pair of sectors (0) to
the strongest (1) and takes their weighted mean: the matrix ranks pairs of sectors
against each other, which is what a council reads it for.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from graph.analytics.names import join_words, plural, sdg_phrase, sdg_ref
from graph.analytics.snapshot import CONTENT_KINDS, Snapshot, bit_matrix
from graph.similarity import TextSimilarity

Matrix = npt.NDArray[np.float64]
WEIGHTS: dict[str, float] = {"sdgs": 1 / 3, "people": 1 / 3, "content": 1 / 3}
COMPONENTS = tuple(WEIGHTS)
CONTENT_SAMPLE = 2_000
"""At most this many content vectors per sector make its centroid (a seeded sample)."""
SEED = 7


@dataclass(frozen=True)
class SectorOverlap:
    """The overlap of every pair of sectors, its components and what explains each cell."""

    sectors: tuple[str, ...]
    sdgs: tuple[str, ...]
    matrix: Matrix
    components: dict[str, Matrix]
    ranges: dict[str, tuple[float, float]]
    """Weakest and strongest off-diagonal value of each component (the rescaling)."""
    profiles: Matrix
    """Sector x goal: the share of the sector's work on each goal (see the module doc)."""
    shared_people: npt.NDArray[np.int64]
    people: npt.NDArray[np.int64]

    def shared_sdgs(self, i: int, j: int, k: int = 3) -> list[str]:
        """Up to ``k`` goals both sectors work on, strongest common share first."""
        both = np.minimum(self.profiles[i], self.profiles[j])
        order = sorted(range(len(self.sdgs)), key=lambda g: (-both[g], g))
        return [self.sdgs[g] for g in order[:k] if both[g] >= 0.02]

    def cell(self, i: int, j: int, names: Mapping[str, str]) -> dict[str, Any]:
        """The reasons behind one cell, with a sentence a person can read."""
        a, b = self.sectors[i], self.sectors[j]
        shared = self.shared_sdgs(i, j)
        raw = {name: round(float(self.components[name][i, j]), 4) for name in COMPONENTS}
        return {
            "a": {"id": a, "name": names.get(a, a)},
            "b": {"id": b, "name": names.get(b, b)},
            "score": round(float(self.matrix[i, j]), 4),
            "explanation": {
                "summary": self._sentence(i, j, shared, names),
                "components": raw,
                "shared_sdgs": [sdg_ref(s, names) for s in shared],
                "shared_people": int(self.shared_people[i, j]),
                "people": {a: int(self.people[i]), b: int(self.people[j])},
                "content_similarity": raw["content"],
            },
        }

    def _sentence(self, i: int, j: int, shared: list[str], names: Mapping[str, str]) -> str:
        a, b = names.get(self.sectors[i], self.sectors[i]), names.get(self.sectors[j], "")
        if i == j:
            return f"{a} is compared with itself."
        goals = join_words([sdg_phrase(s, names) for s in shared]) or "no goal in common"
        people = plural(int(self.shared_people[i, j]), "person", "people")
        content = float(self.components["content"][i, j])
        texts = "alike" if content >= 0.2 else ("somewhat alike" if content >= 0 else "unlike")
        return (
            f"{a} and {b} overlap {strength(float(self.matrix[i, j]))}: both work most on "
            f"{goals}; {people} belong to both; their initiatives and entries read {texts}."
        )

    def summary(self, names: Mapping[str, str], k: int = 3) -> str:
        """The strongest pairs, in one sentence."""
        n = len(self.sectors)
        pairs = sorted(
            ((float(self.matrix[i, j]), self.sectors[i], self.sectors[j], i, j)
             for i in range(n) for j in range(i + 1, n)),
            key=lambda p: (-p[0], p[1], p[2]),
        )  # fmt: skip
        if not pairs:
            return "There are fewer than two sectors to compare."
        top = [f"{names.get(a, a)} and {names.get(b, b)}" for _, a, b, _, _ in pairs[:k]]
        return (
            f"The sectors that overlap most are {join_words(top)}. Three things count "
            "equally: the goals two sectors share, the people in both, and how alike their "
            "work reads; 100% is the pair of sectors that overlaps most, 0% the least."
        )


def strength(value: float) -> str:
    """An overlap (0 the weakest pair of sectors, 1 the strongest) in words, as volunteers
    read it (issue 13: strength as words, no raw scores)."""
    if value >= 0.67:
        return "strongly"
    if value >= 0.34:
        return "moderately"
    return "a little"


def sector_overlap(
    snap: Snapshot, similarity: TextSimilarity, *, weights: Mapping[str, float] = WEIGHTS
) -> SectorOverlap:
    """The sector overlap of a snapshot (vectorised: a few matrix products)."""
    ids = list(snap.sector_mask)
    sector_bits = bit_matrix([snap.sector_mask[i] for i in ids], len(snap.sectors))
    sdg_bits = bit_matrix([snap.sdg_mask.get(i, 0) for i in ids], len(snap.sdgs))
    person = np.fromiter((snap.kind[i] == "person" for i in ids), dtype=bool, count=len(ids))

    people_in = sector_bits[person]
    shared = (people_in.T @ people_in).round().astype(np.int64)
    counts = np.diag(shared).copy()
    people = _cosine_of_counts(shared, counts)

    profiles = (_shares(sector_bits[person].T @ sdg_bits[person])
                + _shares(sector_bits[~person].T @ sdg_bits[~person]))  # fmt: skip
    profiles = _shares(profiles)
    sdgs = _cosine(profiles)

    content = _cosine(_centred(_centroids(snap, similarity)))
    components = {"sdgs": sdgs, "people": people, "content": content}
    matrix, ranges = _combine(components, weights)
    return SectorOverlap(
        sectors=snap.sectors,
        sdgs=snap.sdgs,
        matrix=matrix,
        components=components,
        ranges=ranges,
        profiles=profiles,
        shared_people=shared,
        people=counts,
    )


def _shares(counts: Matrix) -> Matrix:
    totals = counts.sum(axis=1, keepdims=True)
    out: Matrix = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    return out


def _cosine(rows: Matrix) -> Matrix:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit = np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)
    out: Matrix = np.clip(unit @ unit.T, -1.0, 1.0)
    np.fill_diagonal(out, 1.0)
    return out


def _cosine_of_counts(shared: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]) -> Matrix:
    scale = np.sqrt(np.outer(counts, counts).astype(np.float64))
    out = np.divide(shared.astype(np.float64), scale, out=np.zeros(shared.shape), where=scale > 0)
    np.fill_diagonal(out, 1.0)
    return out


def _centroids(snap: Snapshot, similarity: TextSimilarity) -> Matrix:
    """Each sector's mean content vector (its own description vector when it has no content)."""
    rows: list[npt.NDArray[np.float64]] = []
    for sector in snap.sectors:
        items = snap.in_sector(sector, sorted(CONTENT_KINDS))
        if len(items) > CONTENT_SAMPLE:
            items = sorted(random.Random(f"{SEED}:{sector}").sample(items, CONTENT_SAMPLE))
        found = similarity.vectors([*items, sector])
        vectors = [found[i] for i in items if i in found]
        if not vectors and sector in found:
            vectors = [found[sector]]
        if vectors:
            mean = np.mean(np.asarray(vectors, dtype=np.float64), axis=0)
            rows.append(mean / (np.linalg.norm(mean) or 1.0))
        else:
            rows.append(np.zeros(0))
    width = max((len(r) for r in rows), default=0)
    return np.asarray([r if len(r) == width else np.zeros(width) for r in rows])


def _centred(rows: Matrix) -> Matrix:
    present = np.linalg.norm(rows, axis=1) > 0 if rows.size else np.zeros(len(rows), dtype=bool)
    if present.sum() < 2:
        return rows
    out = rows.copy()
    out[present] -= rows[present].mean(axis=0)
    return out


def _combine(
    components: dict[str, Matrix], weights: Mapping[str, float]
) -> tuple[Matrix, dict[str, tuple[float, float]]]:
    n = next(iter(components.values())).shape[0]
    off = ~np.eye(n, dtype=bool)
    total = sum(weights.values()) or 1.0
    matrix = np.zeros((n, n))
    ranges: dict[str, tuple[float, float]] = {}
    for name, values in components.items():
        low, high = (float(values[off].min()), float(values[off].max())) if n > 1 else (0.0, 1.0)
        ranges[name] = (low, high)
        scaled = (values - low) / (high - low) if high > low else np.zeros((n, n))
        matrix += weights[name] / total * np.clip(scaled, 0.0, 1.0)
    np.fill_diagonal(matrix, 1.0)
    return matrix, ranges
