"""The baselines of ``evaluate_coauthor.py``: link prediction on the co-work graph and
the cosine of work texts."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

K = 10
"""How many people every system names per query."""
Vectors = dict[str, npt.NDArray[np.float32]]


class Baselines:
    """Adamic-Adar and resource allocation on the co-work graph, and work-text cosine,
    each over every person of a split (a ``Split`` of ``evaluate_coauthor.py``)."""

    def __init__(self, split: Any, vectors: Vectors) -> None:
        self.names = sorted(split.pool)
        self.position = {name: n for n, name in enumerate(self.names)}
        graph = split.graph
        self.coauthors: dict[str, set[str]] = defaultdict(set)
        for paper in sorted(split.papers):
            people = sorted(graph.predecessors(paper))
            for a in people:
                self.coauthors[a].update(p for p in people if p != a)
        dimension = len(next(iter(vectors.values())))
        profile = np.zeros((len(self.names), dimension), dtype=np.float32)
        for n, person in enumerate(self.names):
            known = [vectors[p] for p in sorted(graph.successors(person)) if p in split.papers]
            if known:
                centre = np.mean(known, axis=0)
                profile[n] = centre / max(float(np.linalg.norm(centre)), 1e-12)
        self.profile = profile

    def cowork(self, seed: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(Adamic-Adar, resource allocation) of the seed with every person."""
        aa = np.zeros(len(self.names))
        ra = np.zeros(len(self.names))
        for w in sorted(self.coauthors[seed]):
            degree = len(self.coauthors[w])
            rows = [self.position[v] for v in self.coauthors[w]]
            aa[rows] += 1.0 / math.log(max(degree, 2))
            ra[rows] += 1.0 / degree
        return aa, ra

    def text(self, seed: str) -> npt.NDArray[np.float64]:
        return np.asarray(self.profile @ self.profile[self.position[seed]], dtype=np.float64)

    def top(self, scores: npt.NDArray[np.float64], exclude: Iterable[str]) -> list[str]:
        """The first ``K`` people by score, ties by id, ``exclude`` left out."""
        skip = set(exclude)
        order = np.lexsort((np.arange(len(scores)), -scores))
        found: list[str] = []
        for position in order:
            if self.names[position] not in skip:
                found.append(self.names[position])
                if len(found) == K:
                    break
        return found
