from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pytest

from embeddings.errors import CountMismatch, InvalidOption
from embeddings.hybrid import Fused, fuse, mmr

DENSE = [("a", 0.9), ("b", 0.8)]
LEXICAL = [("c", 10.0), ("a", 5.0)]


def test_weighted_fusion_uses_the_true_score_of_the_other_side() -> None:
    asked: list[list[str]] = []

    def lexical_of(ids: Sequence[str]) -> Mapping[str, float]:
        asked.append(list(ids))
        return {"b": 2.0}

    fused = fuse(
        DENSE, LEXICAL, method="weighted", alpha=0.5, k=10,
        dense_scores={"c": 0.5}, lexical_scores=lexical_of,
    )  # fmt: skip
    assert asked == [["b"]]
    assert [f.id for f in fused] == ["c", "a", "b"]
    assert [f.score for f in fused] == pytest.approx([0.75, 0.70, 0.50])
    assert fused[0] == Fused("c", pytest.approx(0.75), 0.5, 10.0, None, 1)
    assert fused[2] == Fused("b", pytest.approx(0.5), 0.8, 2.0, 2, None)


def test_without_the_other_score_a_one_sided_hit_counts_zero_there() -> None:
    fused = fuse(DENSE, LEXICAL, method="weighted", alpha=0.5, k=10)
    assert [(f.id, f.lexical) for f in fused] == [("a", 5.0), ("c", 10.0), ("b", None)]
    assert [f.score for f in fused] == pytest.approx([0.70, 0.50, 0.40])


@pytest.mark.parametrize(("alpha", "first"), [(1.0, "a"), (0.0, "c")])
def test_alpha_weighs_the_sides(alpha: float, first: str) -> None:
    assert fuse(DENSE, LEXICAL, alpha=alpha, k=1)[0].id == first


def test_reciprocal_rank_fusion() -> None:
    fused = fuse(DENSE, LEXICAL, method="rrf", alpha=0.5, k=10)
    assert [f.id for f in fused] == ["a", "c", "b"]
    assert [f.score for f in fused] == pytest.approx([1 / 61 + 1 / 62, 1 / 61, 1 / 62])
    assert (fused[0].dense_rank, fused[0].lexical_rank) == (1, 2)


def test_fusion_breaks_ties_by_id_and_cuts_at_k() -> None:
    fused = fuse([("b", 0.5), ("a", 0.5), ("c", 0.1)], [], alpha=1.0, k=2)
    assert [f.id for f in fused] == ["a", "b"]


@pytest.mark.parametrize("alpha", [-0.1, 1.5])
def test_alpha_out_of_range_is_rejected(alpha: float) -> None:
    with pytest.raises(InvalidOption, match="alpha"):
        fuse(DENSE, LEXICAL, alpha=alpha)


CANDIDATES = [("a", 0.9), ("a2", 0.89), ("b", 0.7)]
VECTORS = np.array([[1.0, 0.0], [0.99, 0.14], [0.0, 1.0]])


@pytest.mark.parametrize(("lambda_", "order"), [(1.0, ["a", "a2", "b"]), (0.5, ["a", "b", "a2"])])
def test_mmr_trades_relevance_for_diversity(lambda_: float, order: list[str]) -> None:
    picked = mmr(CANDIDATES, VECTORS, lambda_=lambda_, k=3)
    assert [i for i, _ in picked] == order
    assert dict(picked) == dict(CANDIDATES)


def test_mmr_stops_at_k_and_checks_its_input() -> None:
    assert [i for i, _ in mmr(CANDIDATES, VECTORS, lambda_=0.5, k=2)] == ["a", "b"]
    assert mmr([], np.zeros((0, 2)), k=3) == []
    with pytest.raises(CountMismatch):
        mmr(CANDIDATES, VECTORS[:2], k=2)


def test_zscore_fusion_weighs_how_far_each_side_stands_out() -> None:
    # The cosines differ by hundredths, BM25 by a factor of two: standardised, the dense
    # side's clear winner ("a") still beats the lexical side's ("c") at alpha 0.8.
    dense = [("a", 0.62), ("b", 0.50), ("c", 0.49)]
    lexical = [("c", 10.0), ("b", 5.0), ("a", 4.0)]
    fused = fuse(dense, lexical, method="zscore", alpha=0.8, k=3)
    assert [f.id for f in fused] == ["a", "c", "b"]
    d = np.array([0.62, 0.50, 0.49])
    lex = np.array([4.0, 5.0, 10.0])
    expected_a = 0.8 * (d[0] - d.mean()) / d.std() + 0.2 * (lex[0] - lex.mean()) / lex.std()
    assert fused[0].score == pytest.approx(expected_a)
    assert (fused[0].dense, fused[0].lexical) == (0.62, 4.0)
    weighted = fuse(dense, lexical, method="weighted", alpha=0.8, k=3)
    assert weighted[0].id == "c"  # the raw cosines let BM25's spread decide


def test_zscore_fusion_ignores_a_side_without_spread() -> None:
    fused = fuse([("a", 0.5), ("b", 0.4)], [], method="zscore", alpha=0.5, k=2,
                 lexical_scores={"a": 0.0, "b": 0.0})  # fmt: skip
    assert [f.id for f in fused] == ["a", "b"]
    assert fused[0].score == pytest.approx(0.5) and fused[1].score == pytest.approx(-0.5)
