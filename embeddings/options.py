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

    ``method`` and ``alpha`` were chosen for mean nDCG@10 over the validation halves of
    four query sets (Cranfield, CISI, the DPG evidence and the demo queries; see
    ``docs/evaluation.md``): z-score fusion, weighing the dense side 0.8, is at least as
    good as the better of BM25 and dense on each test half, where the earlier ``weighted``
    fusion (alpha 0.8) lost to dense on the demo queries. ``depth`` is how many candidates
    each side contributes to a fusion or to MMR.

    ``floor`` is the relevance floor: when the indexed texts hold no more than half of a
    query's words (random letters, a language the texts do not use, a typo in a short
    query), a hit must share a word with the query or be at least this close in meaning
    (cosine) to be returned. Cosines alone cannot tell gibberish from a real query: random
    letters reach 0.68 against the demo network's short texts, while a real query's best
    hit may sit at 0.35; a query whose words the texts mostly use is answered as ranked.
    ``walk`` is how widely a search without a filter looks through the HNSW graph for its
    candidates (efSearch; a filtered one keeps the index's own, 256). At 100,000 people,
    128 found 0.993 of the exact 50 nearest against 0.998, in about two thirds of the
    time, and the hybrid's ten results overlapped 0.998 with those of 256
    (``scripts/bench_walk.py``); through a quarter of the rows 128 found 0.966 against
    0.992, hence filtered walks keep the wider look.
    ``similar`` is Rocchio-style feedback without a text query: the mean of the item's
    and the positives' vectors minus ``negative_weight`` times the mean of the
    negatives', normalised (classic Rocchio weighs the negatives 0.15 against an
    original query; here the positives are the query, and 0.5 makes one negative
    count clearly without outweighing the item itself).
    """

    # Chosen by `scripts/evaluate.py collections` (var/eval/collections.json, 2026-12-02):
    # was weighted, alpha 0.8.
    alpha: float = 0.8
    method: Method = "zscore"
    depth: int = 50
    walk: int = 128
    negative_weight: float = 0.5
    floor: float = 0.75
