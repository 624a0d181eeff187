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

    ``alpha``, ``method`` and ``depth`` were tuned for nDCG@10 on the DPG evidence
    queries (see ``docs/evaluation.md``). ``alpha = 0.8`` leans on the dense side because
    the cosines of related texts spread over a narrower range than the normalised BM25
    part, which runs from 0 to 1. ``depth`` is how many candidates each side contributes
    to a fusion or to MMR; fusion quality is flat from 20 to 200, so it stays at 50.
    ``similar`` is Rocchio-style feedback without a text query: the mean of the item's
    and the positives' vectors minus ``negative_weight`` times the mean of the
    negatives', normalised (classic Rocchio weighs the negatives 0.15 against an
    original query; here the positives are the query, and 0.5 makes one negative
    count clearly without outweighing the item itself).
    """

    # Tuned by `scripts/evaluate.py retrieval` (var/eval/retrieval.json, 2026-11-21): best
    # on the tuning half among weighted/rrf x alpha 0..1 x depth 10..200; was alpha 0.7.
    alpha: float = 0.8
    method: Method = "weighted"
    depth: int = 50
    negative_weight: float = 0.5
