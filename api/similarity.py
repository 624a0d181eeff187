"""The graph's :class:`~graph.similarity.TextSimilarity`, backed by the service's semantic index.

Stored nodes are compared by their stored vectors (nothing is re-encoded); free texts
are encoded once with the index's encoder. Privacy is not this module's business: the
caller passes ``among``/``exclude`` built from :mod:`graph.visibility`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

import numpy as np
import numpy.typing as npt

from embeddings.search import SemanticIndex

Scored = list[tuple[str, float]]


class IndexSimilarity:
    """Cosine similarity of nodes' texts from a :class:`SemanticIndex`; nearest-neighbour
    walks look as widely as ``ef_search`` says (None: the index's own setting)."""

    def __init__(self, index: SemanticIndex, *, ef_search: int | None = None) -> None:
        self.index = index
        self.ef_search = ef_search

    def vectors(self, ids: Iterable[str]) -> dict[str, npt.NDArray[np.float32]]:
        known = [i for i in ids if i in self.index]
        return dict(zip(known, self.index.vectors.take(known), strict=True))

    def scores(self, node_id: str, others: Iterable[str]) -> dict[str, float]:
        if node_id not in self.index:
            return {}
        return self.index.vectors.scores(self.index.vector(node_id), others)

    def nearest(
        self,
        node_id: str,
        k: int,
        *,
        among: Collection[str] | None = None,
        exclude: Collection[str] = (),
    ) -> Scored:
        if node_id not in self.index or k <= 0:
            return []
        query = self.index.vector(node_id)
        skip = {node_id, *exclude}
        found = self.index.vectors.search(
            query, k, allowed=among, exclude=skip, ef_search=self.ef_search
        )
        return _ordered(found)

    def nearest_text(
        self,
        text: str,
        k: int,
        *,
        among: Collection[str] | None = None,
        exclude: Collection[str] = (),
    ) -> Scored:
        if k <= 0 or not any(ch.isalnum() for ch in text):
            return []
        query = self.encode([text])[0]
        found = self.index.vectors.search(
            query, k, allowed=among, exclude=exclude, ef_search=self.ef_search
        )
        return _ordered(found)

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self.index.encoder.encode(list(texts))


def _ordered(ranked: Iterable[tuple[str, float]]) -> Scored:
    return sorted(((i, float(s)) for i, s in ranked), key=lambda pair: (-pair[1], pair[0]))
