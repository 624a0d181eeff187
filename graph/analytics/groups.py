"""Sub-sector and regional groupings: communities of a sector's people, initiatives and entries.

The sector's graph joins its counted people, initiatives and Wisdom Book entries by
what ties them (``knows``, ``works_on``, ``authored``, ``describes``, weight 1 each) and
by what they talk about: each node is joined to its :data:`NEIGHBOURS` nearest nodes by
text whose cosine is at least :data:`MIN_SIMILARITY` (weight: the cosine). Louvain
community detection (:func:`networkx.community.louvain_communities`, fixed seed, nodes
and edges added in id order) splits it into groups; the same graph always gives the
same groups. Each group is labelled by its distinguishing key phrases
(:mod:`graph.analytics.labels`) and described by the goals and regions most of its
members share, which is what makes a grouping "sub-sector" or "regional".

A sector larger than :data:`NODE_CAP` is grouped on its most connected nodes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from graph.analytics.labels import distinguishing_terms
from graph.analytics.names import join_words, plural, sdg_phrase, sdg_ref
from graph.analytics.phrases import key_phrases, node_texts
from graph.analytics.snapshot import Places, Snapshot, most_connected
from graph.similarity import TextSimilarity
from graph.store import Store

GROUP_KINDS = ("initiative", "person", "wisdom_entry")
STRUCTURE_EDGES = frozenset({"knows", "works_on", "authored", "describes"})
NEIGHBOURS = 5
MIN_SIMILARITY = 0.35
NODE_CAP = 3_000
MIN_GROUP = 3
SEED = 7
_BLOCK = 1_024
_KIND_WORDS = {
    "person": ("person", "people"),
    "initiative": ("initiative", "initiatives"),
    "wisdom_entry": ("Wisdom Book entry", "Wisdom Book entries"),
}


@dataclass(frozen=True)
class Group:
    id: str
    members: tuple[str, ...]
    """Most connected within the group first (then id)."""
    kinds: dict[str, int]
    terms: tuple[tuple[str, float], ...]
    sdgs: tuple[tuple[str, float], ...]
    """Goals and the share of members who work on each, most shared first."""
    regions: tuple[tuple[str, float], ...]
    """Regions and the share of members (with a known region) there, largest first."""
    unplaced: int = 0
    """Members without a known region."""

    @property
    def label(self) -> str:
        """The group's name: its three leading key phrases (its id when none stands out)."""
        return ", ".join(t for t, _ in self.terms[:3]) or self.id


@dataclass(frozen=True)
class SectorGroups:
    sector: str
    groups: tuple[Group, ...]
    analysed: int
    """Nodes grouped (at most :data:`NODE_CAP`)."""
    total: int
    """Counted people, initiatives and entries of the sector."""
    ungrouped: int
    """Analysed nodes left in groups smaller than :data:`MIN_GROUP`."""


def sector_groups(
    graph: nx.MultiDiGraph,
    snap: Snapshot,
    places: Places,
    similarity: TextSimilarity,
    store: Store,
    sector: str,
    *,
    seed: int = SEED,
) -> SectorGroups:
    """The sector's groups, largest first (see the module doc)."""
    everyone = snap.in_sector(sector, GROUP_KINDS)
    nodes = most_connected(graph, everyone, NODE_CAP)
    g = _grouping_graph(graph, nodes, similarity)
    found = nx.community.louvain_communities(g, weight="weight", resolution=1.0, seed=seed)
    ranked = sorted((sorted(c) for c in found), key=lambda c: (-len(c), c[0]))
    kept = [c for c in ranked if len(c) >= MIN_GROUP]
    records = store.get_nodes(n for c in kept for n in c)
    phrases = key_phrases({n: node_texts(records[n]) for n in records})
    labels = distinguishing_terms(kept, phrases)
    groups = []
    for number, (members, label) in enumerate(zip(kept, labels, strict=True), start=1):
        inside = set(members)
        strength = {n: sum(d["weight"] for m, d in g[n].items() if m in inside) for n in members}
        groups.append(
            Group(
                id=f"group-{number}",
                members=tuple(sorted(members, key=lambda n: (-round(strength[n], 9), n))),
                kinds=dict(sorted(Counter(snap.kind[n] for n in members).items())),
                terms=tuple(label),
                sdgs=_shares([snap.sdgs_of(n) for n in members], len(members)),
                regions=_region_shares(places, snap, members),
                unplaced=sum(1 for n in members if n not in places.region),
            )
        )
    ungrouped = sum(len(c) for c in ranked if len(c) < MIN_GROUP)
    return SectorGroups(sector, tuple(groups), len(nodes), len(everyone), ungrouped)


def _grouping_graph(
    graph: nx.MultiDiGraph, nodes: list[str], similarity: TextSimilarity
) -> nx.Graph:
    index = {n: i for i, n in enumerate(nodes)}
    weights: dict[tuple[int, int], float] = {}
    succ = graph._succ
    for i, node in enumerate(nodes):
        for other, keys in succ[node].items():
            j = index.get(other)
            if j is not None and j != i and not keys.keys().isdisjoint(STRUCTURE_EDGES):
                pair = (min(i, j), max(i, j))
                weights[pair] = weights.get(pair, 0.0) + 1.0
    found = similarity.vectors(nodes)
    rows = [index[n] for n in nodes if n in found]
    if len(rows) > 1:
        matrix = np.asarray([found[nodes[r]] for r in rows], dtype=np.float32)
        k = min(NEIGHBOURS, len(rows) - 1)
        for start in range(0, len(rows), _BLOCK):
            block = matrix[start : start + _BLOCK] @ matrix.T
            for offset in range(block.shape[0]):
                block[offset, start + offset] = -np.inf
            best = np.argpartition(-block, k - 1, axis=1)[:, :k]
            for offset, columns in enumerate(best):
                i = rows[start + offset]
                for column in sorted(columns.tolist()):
                    cosine = float(block[offset, column])
                    if cosine >= MIN_SIMILARITY:
                        j = rows[column]
                        pair = (min(i, j), max(i, j))
                        weights[pair] = weights.get(pair, 0.0) + round(cosine, 6) / 2
    g = nx.Graph()
    g.add_nodes_from(nodes)
    g.add_weighted_edges_from((nodes[i], nodes[j], w) for (i, j), w in sorted(weights.items()))
    return g


def _shares(values: list[list[str]], size: int, k: int = 3) -> tuple[tuple[str, float], ...]:
    count = Counter(v for vs in values for v in vs)
    ranked = sorted(count.items(), key=lambda p: (-p[1], int(p[0].partition(":")[2])))
    return tuple((v, round(c / size, 3)) for v, c in ranked[:k] if size)


def _region_shares(
    places: Places, snap: Snapshot, members: list[str], k: int = 3
) -> tuple[tuple[str, float], ...]:
    regions = [places.region_of(n, snap.region_names) for n in members]
    known = [r for r in regions if r is not None]
    count = Counter(known)
    ranked = sorted(count.items(), key=lambda p: (-p[1], p[0]))
    return tuple((r, round(c / len(known), 3)) for r, c in ranked[:k])


def explain_group(group: Group, names: Mapping[str, str]) -> dict[str, Any]:
    """What holds a group together, in a sentence and in figures."""
    parts = [plural(n, *_KIND_WORDS.get(kind, (kind, kind + "s")))
             for kind, n in group.kinds.items()]  # fmt: skip
    terms = [t for t, _ in group.terms[:3]]
    about = f"they talk most about {join_words(terms)}" if terms else "no terms stand out"
    goals = [sdg_phrase(s, names) for s, share in group.sdgs[:2] if share >= 0.25]
    clauses = [about]
    if goals:
        clauses.append(f"work most on {join_words(goals)}")
    placed = sum(group.kinds.values()) - group.unplaced
    if group.regions and group.regions[0][1] >= 0.5 and placed >= MIN_GROUP:
        region, share = group.regions[0]
        clauses.append(f"{round(share * 100)}% of those with a known place are in {region}")
    summary = (
        f"{join_words(parts)}, held together by who knows whom, who works on what and "
        f"whose words are alike: {join_words(clauses)}."
    )
    return {
        "summary": summary[0].upper() + summary[1:],
        "terms": [{"term": t, "weight": w} for t, w in group.terms],
        "sdgs": [{**sdg_ref(s, names), "share": share} for s, share in group.sdgs],
        "regions": [{"name": r, "share": share} for r, share in group.regions],
        "method": f"Louvain community detection (seed {SEED}) on ties and text similarity",
    }
