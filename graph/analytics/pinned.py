"""What a background computation reads: a frozen copy of part of the graph view and
text similarity pinned to one version of it."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Any, TypeVar

import networkx as nx
import numpy as np
import numpy.typing as npt

from graph.rwlock import ReadWriteLock
from graph.similarity import Scored, TextSimilarity
from graph.view import GraphView

T = TypeVar("T")


class VersionMoved(Exception):
    """The view moved on while a background computation read from it."""


def freeze(graph: nx.MultiDiGraph, nodes: Iterable[str]) -> nx.MultiDiGraph:
    """A copy of ``nodes`` with their edges (in and out) and their neighbours, sharing
    nothing a later write changes; the neighbours are there without their own edges.

    Figures walk only the edges of the nodes they name in
    :class:`~graph.analytics.versions.Job` ``needs``; a copy of the whole view would hold
    the lock for seconds at 100,000 people.
    """
    succ_of, pred_of, attrs = graph._succ, graph._pred, graph._node
    succ: dict[str, dict[str, Any]] = {}
    pred: dict[str, dict[str, Any]] = {}
    for node in nodes:
        succ[node] = {t: dict(keys) for t, keys in succ_of[node].items()}
        pred[node] = {s: dict(keys) for s, keys in pred_of[node].items()}
    around = {n for links in (*succ.values(), *pred.values()) for n in links}
    for node in around:
        if node not in succ:
            succ[node], pred[node] = {}, {}
    frozen = nx.MultiDiGraph()
    frozen._node = {n: dict(attrs[n]) for n in succ}
    frozen._adj = frozen._succ = succ
    frozen._pred = pred
    return frozen


class PinnedSimilarity:
    """Text similarity at one version of the view: the vectors of ``asked`` as they were
    read then (``known``), anything else read under the feed's read lock, raising
    :class:`VersionMoved` once the view is at another version."""

    def __init__(
        self,
        similarity: TextSimilarity,
        lock: ReadWriteLock,
        view: GraphView,
        seq: int,
        *,
        known: dict[str, npt.NDArray[np.float32]] | None = None,
        asked: Iterable[str] = (),
    ) -> None:
        self.similarity = similarity
        self.lock = lock
        self.view = view
        self.seq = seq
        self.known = known or {}
        self.asked = frozenset(asked)

    def _read(self, read: Callable[[], T]) -> T:
        with self.lock.read():
            if self.view.seq != self.seq:
                raise VersionMoved(self.seq)
            return read()

    def vectors(self, ids: Iterable[str]) -> dict[str, npt.NDArray[np.float32]]:
        wanted = list(ids)
        found = {i: self.known[i] for i in wanted if i in self.known}
        rest = [i for i in wanted if i not in self.asked]
        if rest:
            found.update(self._read(lambda: self.similarity.vectors(rest)))
        return found

    def scores(self, node_id: str, others: Iterable[str]) -> dict[str, float]:
        wanted = list(others)
        return self._read(lambda: self.similarity.scores(node_id, wanted))

    def nearest(
        self,
        node_id: str,
        k: int,
        *,
        among: Collection[str] | None = None,
        exclude: Collection[str] = (),
    ) -> Scored:
        return self._read(lambda: self.similarity.nearest(node_id, k, among=among, exclude=exclude))

    def nearest_text(
        self,
        text: str,
        k: int,
        *,
        among: Collection[str] | None = None,
        exclude: Collection[str] = (),
    ) -> Scored:
        return self._read(
            lambda: self.similarity.nearest_text(text, k, among=among, exclude=exclude)
        )

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self.similarity.encode(texts)
