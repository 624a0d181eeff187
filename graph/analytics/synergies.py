"""Synergies: pairs of initiatives, people or entries from two sectors that could work together.

A pair joins a node of the sector with a node of another sector (neither belongs to the
other's sector). It qualifies when the two share a goal or a community, and it ranks by

    score = 0.5 * content + 0.3 * sdgs + 0.2 * communities

where ``content`` is the cosine of their texts (negative counts as 0), ``sdgs`` the
Jaccard index of their goals and ``communities`` the Jaccard index of the communities
they are linked to (with the larger ones those are part of, so two people in Davis and
Sacramento share the Capital Region). Each node appears in at most
:data:`PER_NODE` pairs, so one well-connected initiative does not fill the page.

Candidate sets are bounded: the :data:`SIDE_CAP` most connected nodes of each side (by
neighbours in the view, then id), so a sector of 12,000 people costs one matrix product of
at most 1,500 x 4,000 vectors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx
import numpy as np
import numpy.typing as npt

from graph.analytics.names import join_words, node_ref, sdg_phrase, sdg_ref
from graph.analytics.snapshot import Places, Snapshot, bit_matrix, bits, most_connected
from graph.similarity import TextSimilarity

SynergyKind = Literal["initiative", "person", "wisdom_entry"]
Matrix = npt.NDArray[np.float32]
WEIGHTS: dict[str, float] = {"content": 0.5, "sdgs": 0.3, "communities": 0.2}
SIDE_CAP = (1_500, 4_000)
"""Most candidates on the sector's side, and on the other side."""
PER_NODE = 3
MAX_PAIRS = 300
"""Length of the ranked list kept per request shape (pages are cut from it)."""


@dataclass(frozen=True, slots=True)
class Synergy:
    """One ranked pair: ``a`` in the sector, ``b`` in ``b_sectors`` (other sectors)."""

    a: str
    b: str
    score: float
    content: float
    sdgs: float
    communities: float
    shared_sdgs: tuple[str, ...]
    shared_communities: tuple[str, ...]
    b_sectors: tuple[str, ...]


def sector_synergies(
    graph: nx.MultiDiGraph,
    snap: Snapshot,
    places: Places,
    similarity: TextSimilarity,
    sector: str,
    *,
    other: str | None,
    kind: SynergyKind,
    max_pairs: int = MAX_PAIRS,
) -> list[Synergy]:
    """Pairs between ``sector`` and ``other`` (every other sector when None), best first."""
    mine = set(snap.members(sector).get(kind, ()))
    if other is None:
        theirs = {n for n in snap.sector_mask if snap.kind[n] == kind} - mine
    else:
        theirs = set(snap.members(other).get(kind, ())) - mine
        mine -= set(snap.members(other).get(kind, ()))
    side_a, va = _with_vectors(similarity, most_connected(graph, sorted(mine), SIDE_CAP[0]))
    side_b, vb = _with_vectors(similarity, most_connected(graph, sorted(theirs), SIDE_CAP[1]))
    if not side_a or not side_b:
        return []
    content = np.clip(va @ vb.T, 0.0, 1.0)
    sdg_shared, sdg_jaccard = _jaccard_masks(snap, side_a, side_b)
    comm_shared, comm_jaccard = _jaccard_sets(places, side_a, side_b)
    score = (WEIGHTS["content"] * content + WEIGHTS["sdgs"] * sdg_jaccard
             + WEIGHTS["communities"] * comm_jaccard).astype(np.float64)  # fmt: skip
    score = np.round(score, 6)
    score[(sdg_shared == 0) & (comm_shared == 0)] = -1.0
    chosen = _top_pairs(score, max_pairs)
    out = []
    for row, col in chosen:
        a, b = side_a[row], side_b[col]
        shared_sdgs = bits(snap.sdg_mask.get(a, 0) & snap.sdg_mask.get(b, 0), snap.sdgs)
        shared_places = places.communities.get(a, frozenset()) & places.communities.get(
            b, frozenset()
        )
        # The most specific community first: the smallest one says the most.
        nearest = sorted(shared_places, key=lambda c: (places.size.get(c, 0), c))
        b_sectors = tuple(s for s in snap.sectors_of(b) if s != sector)
        out.append(
            Synergy(
                a=a,
                b=b,
                score=float(score[row, col]),
                content=round(float(content[row, col]), 4),
                sdgs=round(float(sdg_jaccard[row, col]), 4),
                communities=round(float(comm_jaccard[row, col]), 4),
                shared_sdgs=tuple(shared_sdgs),
                shared_communities=tuple(nearest),
                b_sectors=b_sectors if other is None else (other,),
            )
        )
    return out


def _with_vectors(similarity: TextSimilarity, nodes: list[str]) -> tuple[list[str], Matrix]:
    """The nodes that have a text vector, and their vectors as rows."""
    found = similarity.vectors(nodes)
    kept = [n for n in nodes if n in found]
    if not kept:
        return [], np.zeros((0, 0), dtype=np.float32)
    return kept, np.asarray([found[n] for n in kept], dtype=np.float32)


def _jaccard_masks(snap: Snapshot, side_a: list[str], side_b: list[str]) -> tuple[Matrix, Matrix]:
    width = len(snap.sdgs)
    ma = bit_matrix([snap.sdg_mask.get(n, 0) for n in side_a], width).astype(np.float32)
    mb = bit_matrix([snap.sdg_mask.get(n, 0) for n in side_b], width).astype(np.float32)
    shared = ma @ mb.T
    union = ma.sum(axis=1)[:, None] + mb.sum(axis=1)[None, :] - shared
    return shared, np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)


def _jaccard_sets(places: Places, side_a: list[str], side_b: list[str]) -> tuple[Matrix, Matrix]:
    """Shared communities of every pair, via an inverted index (communities are few per node)."""
    empty: frozenset[str] = frozenset()
    sets_a = [places.communities.get(n, empty) for n in side_a]
    sets_b = [places.communities.get(n, empty) for n in side_b]
    rows: dict[str, list[int]] = {}
    cols: dict[str, list[int]] = {}
    for i, linked in enumerate(sets_a):
        for community in linked:
            rows.setdefault(community, []).append(i)
    for j, linked in enumerate(sets_b):
        for community in linked:
            cols.setdefault(community, []).append(j)
    shared = np.zeros((len(side_a), len(side_b)), dtype=np.float32)
    for community in sorted(rows.keys() & cols.keys()):
        shared[np.ix_(rows[community], cols[community])] += 1.0
    size_a = np.asarray([len(s) for s in sets_a], dtype=np.float32)
    size_b = np.asarray([len(s) for s in sets_b], dtype=np.float32)
    union = size_a[:, None] + size_b[None, :] - shared
    return shared, np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)


def _top_pairs(score: npt.NDArray[np.float64], max_pairs: int) -> list[tuple[int, int]]:
    """The best pairs (score, then row, then column), each row and column at most PER_NODE times."""
    flat = score.ravel()
    # Select among the eligible pairs only: partitioning millions of equal -1 values
    # is the slow case of introselect.
    eligible = np.flatnonzero(flat >= 0)
    if eligible.size == 0:
        return []
    values = flat[eligible]
    pool = min(eligible.size, max_pairs * PER_NODE * 4)
    if pool < eligible.size:
        threshold = np.partition(values, values.size - pool)[values.size - pool]
        picked = eligible[values >= threshold]
    else:
        picked = eligible
    rows, cols = np.divmod(picked, score.shape[1])
    order = np.lexsort((cols, rows, -flat[picked]))
    used_a: dict[int, int] = {}
    used_b: dict[int, int] = {}
    chosen: list[tuple[int, int]] = []
    for index in order:
        row, col = int(rows[index]), int(cols[index])
        if used_a.get(row, 0) >= PER_NODE or used_b.get(col, 0) >= PER_NODE:
            continue
        used_a[row] = used_a.get(row, 0) + 1
        used_b[col] = used_b.get(col, 0) + 1
        chosen.append((row, col))
        if len(chosen) == max_pairs:
            break
    return chosen


def explain_synergy(
    pair: Synergy, sector: str, names: Mapping[str, str], *, people: bool
) -> dict[str, Any]:
    """The reasons for one pair, with a sentence a person can read."""
    a, b = names.get(pair.a, pair.a), names.get(pair.b, pair.b)
    here = names.get(sector, sector)
    there = join_words([names.get(s, s) for s in pair.b_sectors]) or "another sector"
    reasons: list[str] = []
    if pair.shared_sdgs:
        verb = "both care about" if people else "both work on"
        reasons.append(f"{verb} {join_words(_goal_words(pair.shared_sdgs, names))}")
    if pair.shared_communities:
        places = [names.get(c, c) for c in pair.shared_communities[:2]]
        reasons.append(f"are both linked to {join_words(places)}")
    # Closeness in words: the figure itself stays in ``components`` (issue 13: no raw scores).
    closeness = (
        "very similar" if pair.content >= 0.5 else "related" if pair.content >= 0.3 else "different"
    )
    reasons.append(f"describe {closeness} work")
    return {
        "summary": f"{a} ({here}) and {b} ({there}) {join_words(reasons)}.",
        "components": {"content": pair.content, "sdgs": pair.sdgs,
                       "communities": pair.communities},
        "weights": WEIGHTS,
        "sectors": {"a": [node_ref(sector, names)],
                    "b": [node_ref(s, names) for s in pair.b_sectors]},
        "shared_sdgs": [sdg_ref(s, names) for s in pair.shared_sdgs],
        "shared_communities": [node_ref(c, names) for c in pair.shared_communities],
        "content_similarity": pair.content,
    }  # fmt: skip


def _goal_words(sdgs: Sequence[str], names: Mapping[str, str]) -> list[str]:
    words = [sdg_phrase(s, names) for s in sdgs[:3]]
    if len(sdgs) > 3:
        words.append(f"{len(sdgs) - 3} more goals")
    return words
