from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import embeddings.vectors
from embeddings.errors import CountMismatch, DimensionMismatch, UnknownItem
from embeddings.vectors import VectorIndex
from tests.embeddings.conftest import unit_vectors


def filled(n: int, dimension: int = 16, *, exact_below: int = 20_000, seed: int = 0) -> VectorIndex:
    index = VectorIndex(dimension, exact_below=exact_below)
    index.upsert([f"v{i:05d}" for i in range(n)], unit_vectors(n, dimension, seed=seed))
    return index


def exact_top(index: VectorIndex, ids: list[str], query: np.ndarray, k: int) -> list[str]:
    matrix = np.stack([index.vector(i) for i in ids])
    order = sorted(range(len(ids)), key=lambda j: (-float(matrix[j] @ query), ids[j]))
    return [ids[j] for j in order[:k]]


def test_an_item_is_its_own_nearest_neighbour() -> None:
    index = filled(200)
    hits = index.search(index.vector("v00042"), 3)
    assert hits[0][0] == "v00042"
    assert hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)


def test_vectors_are_stored_normalised() -> None:
    index = VectorIndex(3)
    index.upsert(["a"], np.array([[3.0, 4.0, 0.0]]))
    assert np.allclose(index.vector("a"), [0.6, 0.8, 0.0])


def test_the_index_switches_to_hnsw_at_the_threshold_and_back() -> None:
    index = filled(99, exact_below=100)
    assert not index.uses_hnsw
    index.upsert(["extra"], unit_vectors(1, 16, seed=9))
    assert index.uses_hnsw and len(index) == 100
    index.remove(["extra", "v00000"])
    assert index.uses_hnsw  # hysteresis: no rebuild just below the threshold
    index.remove([f"v{i:05d}" for i in range(1, 30)])
    assert not index.uses_hnsw and len(index) == 69
    assert index.search(index.vector("v00050"), 1)[0][0] == "v00050"


def test_a_waiting_graph_is_built_once_released_or_when_too_many_rows_are_searched_exactly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = filled(0, exact_below=100)
    index.wait_for_graph(True)  # a backlog comes in
    index.upsert([f"w{i}" for i in range(300)], unit_vectors(300, 16, seed=4))
    assert not index.uses_hnsw and index.rebuild_due() is None  # searched exactly meanwhile
    monkeypatch.setattr(embeddings.vectors, "_WAIT_ROWS", 299)  # at a million: too many rows
    assert index.rebuild_due() is True
    monkeypatch.undo()
    index.wait_for_graph(False)  # every vector in
    assert index.uses_hnsw and index.search(index.vector("w7"), 1)[0][0] == "w7"


def test_hnsw_recall_at_10_is_close_to_exact() -> None:
    vectors = unit_vectors(3_000, 384, seed=1)
    ids = [f"v{i:05d}" for i in range(3_000)]
    index = VectorIndex(384, exact_below=1_000)
    index.upsert(ids, vectors)
    assert index.uses_hnsw
    queries = unit_vectors(50, 384, seed=2)
    found = 0
    for query in queries:
        truth = set(exact_top(index, ids, query, 10))
        found += len(truth & {i for i, _ in index.search(query, 10)})
    assert found / (10 * len(queries)) >= 0.95


@pytest.mark.parametrize("exact_below", [20_000, 2_000], ids=["exact", "hnsw"])
def test_a_rare_filter_still_fills_the_page(exact_below: int) -> None:
    index = filled(10_000, exact_below=exact_below)
    query = unit_vectors(1, 16, seed=5)[0]
    assert index.search(query, 10, allowed={"v07777"}) == [
        ("v07777", pytest.approx(float(index.vector("v07777") @ query), abs=1e-5))
    ]
    allowed = {f"v{i:05d}" for i in range(3, 10_000, 661)}
    assert len(allowed) == 16
    hits = index.search(query, 10, allowed=allowed, exclude={"v00003"})
    assert len(hits) == 10
    assert [i for i, _ in hits] == exact_top(index, sorted(allowed - {"v00003"}), query, 10)


@pytest.mark.parametrize("exact_below", [20_000, 1_000], ids=["exact", "hnsw"])
def test_a_broad_filter_returns_only_allowed_items(exact_below: int) -> None:
    index = filled(5_000, exact_below=exact_below)
    allowed = {f"v{i:05d}" for i in range(0, 5_000, 2)}
    query = unit_vectors(1, 16, seed=6)[0]
    hits = index.search(query, 20, allowed=allowed)
    assert len(hits) == 20 and {i for i, _ in hits} <= allowed
    truth = exact_top(index, sorted(allowed), query, 20)
    assert len({i for i, _ in hits} & set(truth)) >= 18


@pytest.mark.parametrize("wrapper", [frozenset, set])
def test_exclusions_from_a_filter_answer_as_the_filter_without_them(
    wrapper: type[frozenset[str]] | type[set[str]],
) -> None:
    """A broad filter's exclusions are cleared from the walk's mask rather than taken from
    its rows first; below the exact search's limit once they are out, it is exact."""
    index = filled(5_000, exact_below=1_000)
    limit = index._exact_filter_limit()
    ids = [f"v{i:05d}" for i in range(5_000)]
    query = unit_vectors(1, 16, seed=8)[0]
    near = [i for i, _ in index.search(query, 40)]
    for size in (4_000, limit + 10, limit + 1):  # a walk; and at the edge, both sides
        allowed = wrapper(ids[:size])
        exclude = {*near[:5], *ids[:10], "unknown"}  # near the query, and at the edge
        without = wrapper(allowed - exclude)
        for k in (10, 30):
            assert index.search(query, k, allowed=allowed, exclude=exclude) == index.search(
                query, k, allowed=without
            ), (size, k)
    exact = index.search(query, 10, allowed=wrapper(ids[: limit + 5]), exclude=set(ids[:10]))
    assert [i for i, _ in exact] == exact_top(index, ids[10 : limit + 5], query, 10)


@pytest.mark.parametrize("exact_below", [20_000, 100], ids=["exact", "hnsw"])
def test_exclude_and_allowed_ids_outside_the_index(exact_below: int) -> None:
    index = filled(300, exact_below=exact_below)
    query = index.vector("v00010")
    assert "v00010" not in {i for i, _ in index.search(query, 5, exclude=["v00010"])}
    assert index.search(query, 5, allowed=["nope", "v00010"])[0][0] == "v00010"
    assert index.search(query, 5, allowed=[]) == []


@pytest.mark.parametrize("exact_below", [20_000, 100], ids=["exact", "hnsw"])
def test_an_update_moves_the_item_and_a_removal_hides_it(exact_below: int) -> None:
    index = filled(300, exact_below=exact_below)
    old, new = index.vector("v00001"), index.vector("v00002")
    index.upsert(["v00001"], new[None, :])
    assert len(index) == 300
    assert {i for i, _ in index.search(new, 2)} == {"v00001", "v00002"}
    assert "v00001" not in {i for i, _ in index.search(old, 3)}
    assert index.remove(["v00002", "unknown"]) == 1
    assert "v00002" not in index
    assert index.search(new, 1)[0][0] == "v00001"
    with pytest.raises(UnknownItem, match="v00002"):
        index.vector("v00002")


@pytest.mark.parametrize("exact_below", [20_000, 100], ids=["exact", "hnsw"])
def test_removing_many_items_compacts_without_changing_results(exact_below: int) -> None:
    index = filled(400, exact_below=exact_below)
    index.remove([f"v{i:05d}" for i in range(0, 400, 3)])  # a third: past the 20% mark
    kept = [f"v{i:05d}" for i in range(400) if i % 3]
    assert index.ids() == kept
    query = unit_vectors(1, 16, seed=7)[0]
    assert [i for i, _ in index.search(query, 10, allowed=kept)] == exact_top(
        index, kept, query, 10
    )


def test_equal_scores_are_ordered_by_id() -> None:
    index = VectorIndex(2)
    index.upsert(["c", "a", "b", "d"], np.array([[1, 0], [1, 0], [1, 0], [0, 1]], dtype=float))
    assert [i for i, _ in index.search(np.array([1.0, 0.0]), 2)] == ["a", "b"]


@pytest.mark.parametrize("exact_below", [20_000, 500], ids=["exact", "hnsw"])
def test_save_and_load_give_identical_results(tmp_path: Path, exact_below: int) -> None:
    index = filled(1_000, exact_below=exact_below)
    index.remove(["v00003", "v00004"])
    index.upsert(["v00005"], unit_vectors(1, 16, seed=8))
    index.save(tmp_path / "vectors")
    loaded = VectorIndex.load(tmp_path / "vectors")
    assert loaded.uses_hnsw == index.uses_hnsw and len(loaded) == len(index)
    for query in unit_vectors(5, 16, seed=3):
        assert loaded.search(query, 10) == index.search(query, 10)
    loaded.upsert(["new"], unit_vectors(1, 16, seed=4))  # a loaded index keeps growing
    assert loaded.search(loaded.vector("new"), 1)[0][0] == "new"


def test_a_bad_shape_is_rejected_with_the_numbers() -> None:
    index = VectorIndex(4)
    with pytest.raises(DimensionMismatch, match="expected vectors of dimension 4, got 3"):
        index.upsert(["a"], np.ones((1, 3)))
    with pytest.raises(CountMismatch, match="2 ids but 1 vectors"):
        index.upsert(["a", "b"], np.ones((1, 4)))
    with pytest.raises(DimensionMismatch):
        index.search(np.ones(5), 1)


@pytest.mark.parametrize("exact_below", [10**6, 100])
def test_a_remembered_exclusion_follows_the_index_as_it_changes(exact_below: int) -> None:
    """The service excludes the same frozenset from search after search; its rows are
    remembered, and forgotten as soon as ids move (update, removal, compaction)."""
    vectors = unit_vectors(1_000, 16, seed=3)
    index = VectorIndex(16, exact_below=exact_below)
    ids = [f"n{i}" for i in range(1_000)]
    index.upsert(ids, vectors)
    hidden = frozenset(ids[:600])  # large enough to be remembered
    query = vectors[0]
    before = index.search(query, 5, exclude=hidden)
    assert before and not {i for i, _ in before} & hidden
    assert index.search(query, 5, exclude=hidden) == before
    # Re-adding n0..n9 with new vectors moves them to new rows; the rows remembered for
    # the hidden set must not be used for the moved ids.
    index.upsert(ids[:10], unit_vectors(10, 16, seed=4))
    for _ in range(2):
        found = {i for i, _ in index.search(vectors[0], 50, exclude=hidden)}
        assert found and not found & hidden
    index.remove(ids[600:990])  # compaction renumbers rows
    found = {i for i, _ in index.search(vectors[995], 10, exclude=hidden)}
    assert found == set(ids[990:1000]) - hidden
    found = {i for i, _ in index.search(vectors[995], 10, allowed=frozenset(ids), exclude=hidden)}
    assert found == set(ids[990:1000])


def test_take_copies_the_vectors_of_ids_in_their_order() -> None:
    index = filled(50)
    taken = index.take(["v00007", "v00003"])
    assert np.array_equal(taken, np.stack([index.vector("v00007"), index.vector("v00003")]))
    taken[0] = 0.0  # a copy: the index keeps its own
    assert np.linalg.norm(index.vector("v00007")) == pytest.approx(1.0)
    assert index.take([]).shape == (0, 16)
    with pytest.raises(UnknownItem, match="nope"):
        index.take(["v00001", "nope"])


def test_a_search_may_ask_for_a_narrower_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    """``ef_search`` reaches the graph walk for this search only; None keeps the index's."""
    index = filled(300, exact_below=100)
    asked: list[int] = []
    walk = embeddings.vectors.search_graph

    def recorded(*args: Any, ef_search: int, **kwargs: Any) -> Any:
        asked.append(ef_search)
        return walk(*args, ef_search=ef_search, **kwargs)

    monkeypatch.setattr(embeddings.vectors, "search_graph", recorded)
    query = index.vector("v00042")
    narrow = index.search(query, 5, ef_search=16)
    assert index.search(query, 5, exclude={"v00001"}, ef_search=16)[0][0] == "v00042"
    assert narrow[0][0] == "v00042" and len(narrow) == 5
    index.search(query, 5)
    assert asked == [16, 16, index.ef_search]


@pytest.mark.parametrize("exact_below", [10**6, 1_000])
def test_a_held_selection_answers_as_one_looked_up_anew(exact_below: int) -> None:
    """A large frozen set searched exactly has its vectors gathered once and held; the
    answers are those of the same ids given as a plain set (looked up each time), with
    the exclusions, and a changed vector is searched as it is now."""
    vectors = unit_vectors(6_000, 16, seed=5)
    index = VectorIndex(16, exact_below=exact_below)
    ids = [f"n{i:04d}" for i in range(6_000)]
    index.upsert(ids, vectors)
    # 286 ids (under 5% of the items, so held): searched exactly either way
    chosen = frozenset(ids[::21])
    gathered: list[int] = []
    take = index._data.take

    def counted(rows: Any, out: Any = None) -> Any:
        gathered.append(rows.size)
        return take(rows, out)

    index._data.take = counted  # type: ignore[method-assign]
    skip = {ids[0], ids[21], "not-there"}
    for query in (vectors[0], vectors[7], vectors[1_500]):
        held = index.search(query, 10, allowed=chosen, exclude=skip)
        assert held == index.search(query, 10, allowed=set(chosen), exclude=skip)
        assert [i for i, _ in held] == exact_top(index, sorted(chosen - skip), query, 10)
    assert gathered.count(len(chosen)) == 1  # once for the three searches
    index.upsert([ids[42]], vectors[5_999][None, :])  # n0042 moves to the query's place
    assert index.search(vectors[5_999], 1, allowed=chosen)[0][0] == "n0042"
    index.remove([ids[42]])
    assert index.search(vectors[5_999], 1, allowed=chosen)[0][0] != "n0042"


def test_a_set_searched_through_the_graph_is_not_gathered() -> None:
    """A frozen set too large to be searched exactly (over the exact filter limit) goes
    through the HNSW graph: its vectors are neither gathered nor held."""
    vectors = unit_vectors(2_000, 16, seed=6)
    index = VectorIndex(16, exact_below=200)
    index._selections.HELD_SHARE = 1.0  # (held by share or not: tests/embeddings/test_ranking.py)
    ids = [f"n{i:04d}" for i in range(2_000)]
    index.upsert(ids, vectors)
    limit = index._exact_filter_limit()
    small, large = frozenset(ids[:limit]), frozenset(ids[: limit + 1])
    index.search(vectors[0], 5, allowed=large)
    assert not index._selections._held
    index.search(vectors[0], 5, allowed=small)
    assert [rows.size for _, rows, _ in index._selections._held.values()] == [limit]
