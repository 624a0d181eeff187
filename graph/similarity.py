"""Text similarity as the graph's matching code sees it: a small interface, wired by ``api``.

``graph`` never imports the embeddings package. Matching, synergies and the rest take a
:class:`TextSimilarity`; the service hands them one backed by its semantic index
(``api.similarity.IndexSimilarity``), and tests or evaluations may use
:class:`VectorSimilarity`, which works from vectors held in memory.

Scores are cosine similarities of L2-normalised vectors, in [-1, 1]. A node without a
vector (no text indexed yet) is simply absent from every answer.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Scored = list[tuple[str, float]]


@runtime_checkable
class TextSimilarity(Protocol):
    """Similarity of nodes' texts, from stored vectors (no re-encoding of stored nodes)."""

    def vectors(self, ids: Iterable[str]) -> dict[str, npt.NDArray[np.float32]]:
        """The stored, normalised vector of each id that has one."""
        ...

    def scores(self, node_id: str, others: Iterable[str]) -> dict[str, float]:
        """Cosine of ``node_id``'s vector with each of ``others`` that has a vector."""
        ...

    def nearest(
        self,
        node_id: str,
        k: int,
        *,
        among: Collection[str] | None = None,
        exclude: Collection[str] = (),
    ) -> Scored:
        """The k nodes closest to ``node_id`` (never itself), best first, ties by id."""
        ...

    def nearest_text(
        self,
        text: str,
        k: int,
        *,
        among: Collection[str] | None = None,
        exclude: Collection[str] = (),
    ) -> Scored:
        """The k nodes closest to a free text (encoded once), best first, ties by id."""
        ...

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Normalised vectors of free texts (passages, drafts), one row per text."""
        ...


class VectorSimilarity:
    """A :class:`TextSimilarity` over vectors held in memory, by exact inner product.

    ``encoder`` (any callable from texts to a matrix) is needed only for free texts.
    """

    def __init__(
        self,
        vectors: Mapping[str, npt.ArrayLike],
        encoder: object | None = None,
    ) -> None:
        self._ids = sorted(vectors)
        self._row = {item: row for row, item in enumerate(self._ids)}
        matrix = np.asarray([np.asarray(vectors[i], dtype=np.float32) for i in self._ids])
        if matrix.size:
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            matrix = matrix / np.where(norms == 0, 1, norms)
        self._matrix = matrix.astype(np.float32)
        self._encoder = encoder

    def vectors(self, ids: Iterable[str]) -> dict[str, npt.NDArray[np.float32]]:
        return {i: self._matrix[self._row[i]] for i in ids if i in self._row}

    def scores(self, node_id: str, others: Iterable[str]) -> dict[str, float]:
        row = self._row.get(node_id)
        if row is None:
            return {}
        rows = [(o, self._row[o]) for o in others if o in self._row]
        if not rows:
            return {}
        values = self._matrix[[r for _, r in rows]] @ self._matrix[row]
        return {o: float(v) for (o, _), v in zip(rows, values, strict=True)}

    def nearest(
        self,
        node_id: str,
        k: int,
        *,
        among: Collection[str] | None = None,
        exclude: Collection[str] = (),
    ) -> Scored:
        row = self._row.get(node_id)
        if row is None:
            return []
        return self._rank(self._matrix[row], k, among, {node_id, *exclude})

    def nearest_text(
        self,
        text: str,
        k: int,
        *,
        among: Collection[str] | None = None,
        exclude: Collection[str] = (),
    ) -> Scored:
        return self._rank(self.encode([text])[0], k, among, set(exclude))

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        encode = getattr(self._encoder, "encode", None)
        if encode is None:
            raise TypeError("this VectorSimilarity was given no encoder for free texts")
        return np.asarray(encode(list(texts)), dtype=np.float32)

    def _rank(
        self,
        query: npt.NDArray[np.float32],
        k: int,
        among: Collection[str] | None,
        exclude: Collection[str],
    ) -> Scored:
        if k <= 0 or not self._ids:
            return []
        if among is None:
            rows = np.arange(len(self._ids))
        else:
            rows = np.asarray(sorted(self._row[i] for i in among if i in self._row), dtype=int)
        if rows.size == 0:
            return []
        values = self._matrix[rows] @ query
        ranked = sorted(
            ((self._ids[r], float(v)) for r, v in zip(rows, values, strict=True)),
            key=lambda pair: (-pair[1], pair[0]),
        )
        return [pair for pair in ranked if pair[0] not in exclude][:k]
