"""The evaluation maths of scripts/evaluate.py, on hand-made rankings with known answers."""

from __future__ import annotations

import math

import pytest

from tests.scripts.loading import load_script

evaluate = load_script("evaluate", module="evaluate_script")


@pytest.mark.parametrize(
    ("ranked", "relevance", "expected"),
    [
        (["a", "x", "y"], {"a": 1.0}, 1.0),
        (["x", "a", "y"], {"a": 1.0}, 1 / math.log2(3)),
        (["x", "y", "z"], {"a": 1.0}, 0.0),
        # two relevant at ranks 1 and 3: (1 + 1/2) / (1 + 1/log2(3))
        (["a", "x", "b"], {"a": 1.0, "b": 1.0}, 1.5 / (1 + 1 / math.log2(3))),
        # graded, in the wrong order: (1 + 2/log2(3)) / (2 + 1/log2(3))
        (["b", "a"], {"a": 2.0, "b": 1.0}, (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))),
        ([], {"a": 1.0}, 0.0),
        (["a"], {}, 0.0),
    ],
)
def test_ndcg_at_10(ranked: list[str], relevance: dict[str, float], expected: float) -> None:
    assert evaluate.ndcg_at_k(ranked, relevance) == pytest.approx(expected)


def test_ndcg_counts_only_the_first_k() -> None:
    ranked = [f"x{i}" for i in range(10)] + ["a"]
    assert evaluate.ndcg_at_k(ranked, {"a": 1.0}, 10) == 0.0
    assert evaluate.ndcg_at_k(ranked, {"a": 1.0}, 11) == pytest.approx(1 / math.log2(12))


def test_ndcg_ideal_is_cut_at_k_too() -> None:
    """Eleven relevant ids, the first ten found: a perfect score at k = 10."""
    relevance = {f"r{i}": 1.0 for i in range(11)}
    assert evaluate.ndcg_at_k([f"r{i}" for i in range(10)], relevance, 10) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("ranked", "relevance", "k", "expected"),
    [
        (["a", "b", "c"], {"a": 1.0, "z": 1.0}, 3, 0.5),
        (["a", "b", "c"], {"c": 1.0}, 2, 0.0),
        (["c", "b", "a"], {"a": 1.0, "b": 2.0}, 3, 1.0),
        (["a"], {"a": 0.0}, 1, 0.0),  # grade 0 is not relevant
        (["a", "b"], {}, 2, 0.0),
    ],
)
def test_recall_at_k(
    ranked: list[str], relevance: dict[str, float], k: int, expected: float
) -> None:
    assert evaluate.recall_at_k(ranked, relevance, k) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("ranked", "expected"),
    [(["a", "b"], 1.0), (["x", "y", "b"], 1 / 3), (["x"] * 10 + ["a"], 0.0), ([], 0.0)],
)
def test_reciprocal_rank_at_10(ranked: list[str], expected: float) -> None:
    assert evaluate.reciprocal_rank(ranked, {"a": 1.0, "b": 1.0}) == pytest.approx(expected)


def test_mean_reciprocal_rank_over_queries() -> None:
    per_query = [
        {"mrr@10": evaluate.reciprocal_rank(["a"], {"a": 1.0})},
        {"mrr@10": evaluate.reciprocal_rank(["x", "a"], {"a": 1.0})},
        {"mrr@10": evaluate.reciprocal_rank(["x"], {"a": 1.0})},
    ]
    assert evaluate.mean_scores(per_query)["mrr@10"] == pytest.approx(0.5)


def test_split_is_stable_across_processes() -> None:
    """The split comes from sha1, not from the salted built-in hash()."""
    assert evaluate.split_of("initiative:commcare") == "tune"
    assert evaluate.split_of("initiative:openmrs") == "test"


def test_split_halves_do_not_overlap_and_cover_every_query() -> None:
    queries = [
        evaluate.Query(f"q{i}", f"text {i}", {f"initiative:{i % 40}": 1.0}, f"initiative:{i % 40}")
        for i in range(200)
    ]
    parts = evaluate.halves(queries)
    tune = {q.id for q in parts["tune"]}
    test = {q.id for q in parts["test"]}
    assert not tune & test
    assert tune | test == {q.id for q in queries}
    assert 50 < len(tune) < 150  # both halves get a fair share
    # every query about one initiative lands in the same half
    assert not {q.key for q in parts["tune"]} & {q.key for q in parts["test"]}
    assert evaluate.halves(queries) == parts


def test_paired_bootstrap_of_a_constant_gain() -> None:
    result = evaluate.paired_bootstrap([0.5, 1.0, 0.25], [0.25, 0.75, 0.0], rounds=200)
    assert result["mean"] == pytest.approx(0.25)
    assert result["ci95_low"] == pytest.approx(0.25)
    assert result["ci95_high"] == pytest.approx(0.25)
    assert (result["wins"], result["ties"], result["losses"]) == (3, 0, 0)


def test_evidence_identical_to_the_description_is_left_out() -> None:
    evidence = {
        "Tracks  vaccines.": {"initiative:a"},
        "Used by 40 ministries of health.": {"initiative:a", "initiative:b"},
    }
    descriptions = {"initiative:a": "tracks vaccines.", "initiative:b": "Other."}
    [query] = evaluate.evidence_queries(evidence, descriptions)
    assert query.relevance == {"initiative:a": 1.0, "initiative:b": 1.0}
    assert query.key == "initiative:a"


def test_siblings_share_an_owner_and_exclude_the_query_initiative() -> None:
    owners = {"i:a": {"o:x"}, "i:b": {"o:x", "o:y"}, "i:c": {"o:y"}, "i:d": {"o:z"}}
    descriptions = {"i:a": "A.", "i:b": "B.", "i:c": "", "i:d": "D."}
    queries = {q.key: q for q in evaluate.sibling_queries(owners, descriptions)}
    assert set(queries) == {"i:a", "i:b"}  # c has no description, d has no sibling
    assert set(queries["i:b"].relevance) == {"i:a", "i:c"}
    assert queries["i:b"].exclude == ("i:b",)


def _row(method: str, alpha: float, depth: int, ndcg: float) -> dict[str, object]:
    return {"method": method, "alpha": alpha, "depth": depth, "ndcg@10": ndcg}


def test_choose_keeps_a_flat_knob_and_moves_a_steep_one() -> None:
    previous = evaluate.RankingOptions(alpha=0.7, method="weighted", depth=50)
    grid = [
        _row("weighted", 0.8, 10, 0.708),  # the best, by noise-sized margins
        _row("weighted", 0.8, 50, 0.706),
        _row("weighted", 0.7, 50, 0.690),  # the previous default, clearly worse
        _row("rrf", 0.5, 50, 0.675),
    ]
    chosen = evaluate.choose(grid, previous, tolerance=0.005)
    assert (chosen.method, chosen.alpha, chosen.depth) == ("weighted", 0.8, 50)
    exact = evaluate.choose(grid, previous, tolerance=0.0)
    assert (exact.method, exact.alpha, exact.depth) == ("weighted", 0.8, 10)


def test_choose_keeps_the_previous_default_when_nothing_beats_it_clearly() -> None:
    previous = evaluate.RankingOptions(alpha=0.7, method="weighted", depth=50)
    grid = [_row("rrf", 0.5, 20, 0.703), _row("weighted", 0.7, 50, 0.700)]
    chosen = evaluate.choose(grid, previous, tolerance=0.005)
    assert (chosen.method, chosen.alpha, chosen.depth) == ("weighted", 0.7, 50)
