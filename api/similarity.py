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
    """Cosine similarity of nodes' texts from a :class:`SemanticIndex`."""

    def __init__(self, index: SemanticIndex) -> None:
        self.index = index

    def vectors(self, ids: Iterable[str]) -> dict[str, npt.NDArray[np.float32]]:
        vectors = self.index.vectors
        return {i: vectors.vector(i) for i in ids if i in self.index}

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
        return _ordered(self.index.vectors.search(query, k, allowed=among, exclude=skip))

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
        return _ordered(self.index.vectors.search(query, k, allowed=among, exclude=exclude))

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self.index.encoder.encode(list(texts))


def _ordered(ranked: Iterable[tuple[str, float]]) -> Scored:
    return sorted(((i, float(s)) for i, s in ranked), key=lambda pair: (-pair[1], pair[0]))
