"""Fusing a dense and a lexical ranking, and maximal marginal relevance for diversity."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from embeddings.errors import CountMismatch, InvalidOption
from embeddings.ranking import Ranked, normalise_rows

Method = Literal["zscore", "weighted", "rrf"]
ScoreSource = Mapping[str, float] | Callable[[Sequence[str]], Mapping[str, float]]
"""The true scores of ids a ranking did not list: a dict, or a function asked once."""

RRF_CONSTANT = 60


@dataclass(frozen=True, slots=True)
class Fused:
    """One fused result: its scores and 1-based ranks on each side (None when absent)."""

    id: str
    score: float
    dense: float | None
    lexical: float | None
    dense_rank: int | None
    lexical_rank: int | None


def fuse(
    dense: Ranked,
    lexical: Ranked,
    *,
    method: Method = "weighted",
    alpha: float = 0.5,
    k: int = 10,
    dense_scores: ScoreSource | None = None,
    lexical_scores: ScoreSource | None = None,
) -> list[Fused]:
    """The k best of the union of two rankings, fused; ties broken by id ascending.

    ``zscore`` (what the index ships, see :class:`embeddings.options.RankingOptions`):
    ``alpha * z(dense) + (1 - alpha) * z(lexical)``, where each
    side's scores are standardised over the ids being fused (minus their mean, over their
    standard deviation; a side with no spread contributes 0). Each side then counts by how
    far a candidate stands out from the others *on that side*, whatever the range of its
    raw scores: the cosines of related texts spread over a few hundredths, BM25 over its
    whole range. An id one ranking did not list gets its true score there (as below).

    ``weighted``: ``alpha * dense + (1 - alpha) * lexical / top``, where ``dense`` is
    the cosine as is and ``top`` is the best BM25 score of this query among the ids
    being fused, so the lexical part lies in [0, 1]. An id that only one ranking
    listed gets its true score on the other side from ``dense_scores`` /
    ``lexical_scores``; a score neither listed nor supplied counts as 0.

    ``rrf``: reciprocal-rank fusion ``2 * (alpha / (60 + dense_rank) + (1 - alpha) /
    (60 + lexical_rank))``, a side contributing nothing where the id is unranked;
    ``alpha = 0.5`` gives plain RRF. Supplied scores are reported, not used.
    """
    if not 0.0 <= alpha <= 1.0:
        raise InvalidOption("alpha", alpha, "a number from 0 to 1")
    if method not in ("zscore", "weighted", "rrf"):
        raise InvalidOption("method", method, "'zscore', 'weighted' or 'rrf'")
    dense_rank = {item_id: rank for rank, (item_id, _) in enumerate(dense, start=1)}
    lexical_rank = {item_id: rank for rank, (item_id, _) in enumerate(lexical, start=1)}
    union = list(dict.fromkeys([*dense_rank, *lexical_rank]))
    dense_of = _complete(dict(dense), union, dense_scores)
    lexical_of = _complete(dict(lexical), union, lexical_scores)
    if method == "zscore":
        dense_z = _standardised([dense_of.get(i, 0.0) for i in union])
        lexical_z = _standardised([lexical_of.get(i, 0.0) for i in union])
        scores = [
            alpha * d + (1.0 - alpha) * lex for d, lex in zip(dense_z, lexical_z, strict=True)
        ]
    elif method == "weighted":
        top = max((s for s in lexical_of.values() if s > 0), default=1.0)
        scores = [
            alpha * (dense_of.get(i) or 0.0) + (1.0 - alpha) * (lexical_of.get(i) or 0.0) / top
            for i in union
        ]
    else:
        scores = [
            2.0 * (_rrf(alpha, dense_rank.get(i)) + _rrf(1.0 - alpha, lexical_rank.get(i)))
            for i in union
        ]
    # Only the k kept become results.
    best = sorted(range(len(union)), key=lambda at: (-scores[at], union[at]))[: max(k, 0)]
    return [
        Fused(union[at], scores[at], dense_of.get(union[at]), lexical_of.get(union[at]),
              dense_rank.get(union[at]), lexical_rank.get(union[at]))
        for at in best
    ]  # fmt: skip


def _standardised(scores: list[float]) -> list[float]:
    """Each score minus the mean, over the standard deviation (all 0 when they are equal)."""
    values = np.asarray(scores, dtype=np.float64)
    spread = float(values.std()) if values.size else 0.0
    if spread <= 1e-12:
        return [0.0] * values.size
    standardised: list[float] = ((values - values.mean()) / spread).tolist()
    return standardised


def _rrf(weight: float, rank: int | None) -> float:
    return 0.0 if rank is None else weight / (RRF_CONSTANT + rank)


def _complete(
    listed: dict[str, float], union: list[str], source: ScoreSource | None
) -> dict[str, float]:
    missing = [item_id for item_id in union if item_id not in listed]
    if not missing or source is None:
        return listed
    found = source if isinstance(source, Mapping) else source(missing)
    listed.update((item_id, float(found[item_id])) for item_id in missing if item_id in found)
    return listed


def mmr(
    candidates: Ranked,
    vectors: npt.ArrayLike,
    *,
    lambda_: float = 0.5,
    k: int = 10,
) -> Ranked:
    """Pick k candidates by maximal marginal relevance, for diverse "more like this".

    ``candidates`` are (id, relevance) pairs and ``vectors`` their vectors, row for row.
    Each step takes the candidate maximising ``lambda_ * relevance - (1 - lambda_) *
    (highest cosine to a candidate already taken)``, ties broken by id; ``lambda_ = 1``
    is the relevance order, lower values favour novelty. Returns the picked pairs, in
    the order picked, with their relevance.
    """
    if not 0.0 <= lambda_ <= 1.0:
        raise InvalidOption("lambda_", lambda_, "a number from 0 to 1")
    matrix = normalise_rows(np.asarray(vectors, dtype=np.float32))
    if matrix.shape[0] != len(candidates):
        raise CountMismatch(len(candidates), matrix.shape[0])
    ids = [item_id for item_id, _ in candidates]
    relevance = np.array([score for _, score in candidates], dtype=np.float64)
    similarity = (matrix @ matrix.T).astype(np.float64)
    closest = np.zeros(len(ids))  # highest similarity to the picked ones (0 before any pick)
    open_ = np.ones(len(ids), dtype=bool)
    picked: list[int] = []
    for _ in range(min(max(k, 0), len(ids))):
        value = lambda_ * relevance - (1.0 - lambda_) * closest
        value[~open_] = -np.inf
        best_value = value.max()
        best = min(np.flatnonzero(value == best_value).tolist(), key=ids.__getitem__)
        picked.append(best)
        open_[best] = False
        closest = similarity[best] if len(picked) == 1 else np.maximum(closest, similarity[best])
    return [candidates[i] for i in picked]
