"""Plain option objects for the semantic index, built by the caller from its settings."""

from __future__ import annotations

from dataclasses import dataclass

from embeddings.hybrid import Method


@dataclass(frozen=True, slots=True)
class VectorOptions:
    """How the vector index is built (see :class:`embeddings.vectors.VectorIndex`)."""

    exact_below: int = 20_000
    hnsw_m: int = 32
    ef_construction: int = 100
    ef_search: int = 256


@dataclass(frozen=True, slots=True)
class RankingOptions:
    """Defaults of hybrid search and of ``similar``.

    ``alpha = 0.7`` leans on the dense side because the cosines of related texts spread
    over a narrower range than the normalised BM25 part, which runs from 0 to 1.
    ``depth`` is how many candidates each side contributes to a fusion or to MMR.
    ``similar`` is Rocchio-style feedback without a text query: the mean of the item's
    and the positives' vectors minus ``negative_weight`` times the mean of the
    negatives', normalised (classic Rocchio weighs the negatives 0.15 against an
    original query; here the positives are the query, and 0.5 makes one negative
    count clearly without outweighing the item itself).
    """

    alpha: float = 0.7
    method: Method = "weighted"
    depth: int = 50
    negative_weight: float = 0.5
