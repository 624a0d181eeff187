"""Rebuilds of the vector index built off the lock: the same answers before, during and after."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from embeddings import rebuild
from embeddings.encoder import HashingEncoder
from embeddings.hnsw import faiss_module, read_graph
from embeddings.options import RankingOptions, VectorOptions
from embeddings.search import SemanticIndex
from embeddings.vectors import VectorIndex
from graph.rwlock import ReadWriteLock
from tests.embeddings.conftest import unit_vectors

DIM = 16


class Model:
    """What the index should hold: id -> vector, and the exact best k for a query."""

    def __init__(self) -> None:
        self.vectors: dict[str, np.ndarray] = {}
        self.retired: set[str] = set()

    def upsert(self, index: VectorIndex, ids: list[str], vectors: np.ndarray) -> None:
        index.upsert(ids, vectors)
        self.vectors.update(zip(ids, vectors, strict=True))
        self.retired -= set(ids)

    def remove(self, index: VectorIndex, ids: list[str]) -> None:
        index.remove(ids)
        for item_id in ids:
            self.vectors.pop(item_id, None)
        self.retired |= set(ids)

    def top(self, query: np.ndarray, k: int) -> list[str]:
        scored = sorted(self.vectors.items(), key=lambda kv: (-float(kv[1] @ query), kv[0]))
        return [item_id for item_id, _ in scored[:k]]


def queries(n: int = 20) -> np.ndarray:
    return unit_vectors(n, DIM, seed=99)


def assert_answers(index: VectorIndex, model: Model) -> None:
    """Every query gets the exact top 10 of the live items, and no retired id."""
    assert sorted(index.ids()) == sorted(model.vectors)
    for query in queries():
        found = [item_id for item_id, _ in index.search(query, 10)]
        assert found == model.top(query, 10)
        assert not model.retired & set(found)
        some = sorted(model.vectors)[::3]
        allowed = [item_id for item_id, _ in index.search(query, 10, allowed=frozenset(some))]
        assert not model.retired & set(allowed) and set(allowed) <= set(some)


def churn(index: VectorIndex, model: Model, step: int) -> None:
    """A write of each kind: new items, updated items, removed items (also new ones)."""
    fresh = [f"n{step}-{i}" for i in range(30)]
    model.upsert(index, fresh, unit_vectors(30, DIM, seed=1000 + step))
    old = sorted(model.vectors)[step * 7 : step * 7 + 12]
    model.upsert(index, old, unit_vectors(len(old), DIM, seed=2000 + step))
    model.remove(index, sorted(model.vectors)[step * 5 : step * 5 + 15] + fresh[:4])


def from_scratch(model: Model, exact_below: int) -> VectorIndex:
    index = VectorIndex(DIM, exact_below=exact_below)
    ids = sorted(model.vectors)
    index.upsert(ids, np.stack([model.vectors[i] for i in ids]))
    return index


# (items at the start, exact_below, removed before the rebuild, whether it ends with a graph)
SCENARIOS = {
    "graph-built": (599, 600, 0, True),
    "graph-compacted": (800, 400, 165, True),
    "graph-dropped": (800, 700, 250, False),
    "exact-compacted": (500, 20_000, 110, False),
}


def scenario(name: str) -> tuple[VectorIndex, Model, bool]:
    start, exact_below, removed, ends_with_graph = SCENARIOS[name]
    index, model = VectorIndex(DIM, exact_below=exact_below), Model()
    model.upsert(index, [f"v{i:04d}" for i in range(start)], unit_vectors(start, DIM))
    index.defer_rebuilds = True
    model.remove(index, [f"v{i:04d}" for i in range(0, 3 * removed, 3)])
    model.upsert(index, ["extra"], unit_vectors(1, DIM, seed=5))  # makes the rebuild due
    return index, model, ends_with_graph


@pytest.mark.parametrize("name", SCENARIOS)
def test_writes_during_a_rebuild_end_as_in_an_index_built_from_scratch(name: str) -> None:
    index, model, ends_with_graph = scenario(name)
    graph = index.rebuild_due()
    assert graph is ends_with_graph
    plan = index.begin_rebuild(graph=graph)
    churn(index, model, 1)  # before the copy
    assert_answers(index, model)  # the old structure, retired rows masked
    assert plan.build()
    churn(index, model, 2)
    source = index.row_source(plan)
    assert source is not None
    plan.take(source)  # what the background thread does off the lock
    churn(index, model, 3)  # left for the swap
    assert_answers(index, model)
    assert index.finish_rebuild(plan)
    assert index.uses_hnsw is ends_with_graph
    assert_answers(index, model)
    scratch = from_scratch(model, index.exact_below)
    for query in queries():
        ours, theirs = index.search(query, 10), scratch.search(query, 10)
        assert [i for i, _ in ours] == [i for i, _ in theirs]
        assert [s for _, s in ours] == pytest.approx([s for _, s in theirs], abs=1e-6)
    for item_id, vector in model.vectors.items():
        assert index.vector(item_id) == pytest.approx(vector, abs=1e-6)
    churn(index, model, 4)  # and it goes on working after the swap
    assert_answers(index, model)


def test_a_rebuild_overtaken_by_another_is_not_swapped_in() -> None:
    index, model, _ = scenario("exact-compacted")
    plan = index.begin_rebuild(graph=False)
    assert plan.build()
    index.defer_rebuilds = False
    churn(index, model, 1)  # retires over 20% again: compacted within the write
    assert index.row_source(plan) is None
    assert not index.finish_rebuild(plan)
    assert_answers(index, model)


def test_a_scrub_during_a_rebuild_leaves_no_copy_of_the_erased(tmp_path: Path) -> None:
    index, model, _ = scenario("graph-compacted")
    plan = index.begin_rebuild(graph=True)
    assert plan.build()  # the copy holds v0001
    erased = index.vector("v0001")
    model.remove(index, ["v0001"])
    index.scrub()
    assert index.finish_rebuild(plan)
    assert_answers(index, model)
    index.save(tmp_path / "vectors")
    stored = VectorIndex.load(tmp_path / "vectors")
    assert stored.uses_hnsw
    snapshot = next((tmp_path / "vectors").glob("*/vectors.npy")).parent
    hnsw = read_graph(snapshot / "hnsw.faiss")  # kept: the storage below belongs to it
    graph = faiss_module().downcast_index(hnsw.storage)
    in_graph = faiss_module().rev_swig_ptr(graph.get_xb(), graph.ntotal * graph.d)
    for rows in (np.load(snapshot / "vectors.npy"), in_graph.reshape(graph.ntotal, graph.d)):
        assert rows.shape[0] == len(model.vectors) + 1  # the erased row is still there...
        assert not np.any(np.all(np.isclose(rows, erased, atol=1e-6), axis=1))  # ...as zeros


# -- the background thread of the semantic index ------------------------------------


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Holds every background build until set."""
    opened = threading.Event()
    build = rebuild.Rebuild.build

    def held(plan: rebuild.Rebuild, **options: object) -> bool:
        opened.wait(30)
        return build(plan, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(rebuild.Rebuild, "build", held)
    yield opened
    opened.set()


def semantic(exact_below: int) -> SemanticIndex:
    # No relevance floor: these queries are scored against random vectors, by design.
    ranking = RankingOptions(floor=-1.0)
    index = SemanticIndex(HashingEncoder(DIM), vectors=VectorOptions(exact_below), ranking=ranking)
    index.rebuild_in_background()
    return index


def put(index: SemanticIndex, model: Model, ids: list[str], seed: int) -> None:
    vectors = unit_vectors(len(ids), DIM, seed=seed)
    index.upsert([(i, f"text {i} {seed}") for i in ids], known=dict(zip(ids, vectors, strict=True)))
    model.vectors.update(zip(ids, vectors, strict=True))
    model.retired -= set(ids)


def drop(index: SemanticIndex, model: Model, ids: list[str]) -> None:
    index.remove(ids)
    for item_id in ids:
        model.vectors.pop(item_id, None)
    model.retired |= set(ids)


def assert_search(index: SemanticIndex, model: Model) -> None:
    for text in ("text v0001", "apples", "community gardens", "n2-7"):
        query = index.query_vector(text)
        found = [hit.id for hit in index.search(text, 10, mode="dense")]
        assert found == model.top(query, 10)
        assert not model.retired & set(found)


def test_the_graph_is_built_in_the_background_while_writes_and_searches_go_on(
    gate: threading.Event,
) -> None:
    index, model = semantic(300), Model()
    put(index, model, [f"v{i:04d}" for i in range(300)], seed=0)  # due: starts, held
    assert index.rebuilding and not index.vectors.uses_hnsw
    for step in range(3):
        put(index, model, [f"n{step}-{i}" for i in range(20)], seed=10 + step)
        put(index, model, [f"v{i:04d}" for i in range(step * 9, step * 9 + 9)], seed=20 + step)
        drop(index, model, [f"v{i:04d}" for i in range(100 + step * 6, 106 + step * 6)])
        assert_search(index, model)
    gate.set()
    searches = 0
    while index.rebuilding:  # searches and writes while the graph is built and swapped in
        assert_search(index, model)
        put(index, model, [f"late-{searches}"], seed=100 + searches)
        searches += 1
    assert index.wait_for_rebuilds(30)
    assert index.vectors.uses_hnsw
    assert_search(index, model)
    assert sorted(index.vectors.ids()) == sorted(model.vectors)


def test_closing_stops_a_rebuild_and_leaves_a_working_index(gate: threading.Event) -> None:
    index, model = semantic(300), Model()
    put(index, model, [f"v{i:04d}" for i in range(300)], seed=0)
    assert index.rebuilding
    closing = threading.Thread(target=index.close)
    closing.start()
    gate.set()
    closing.join(30)
    assert not closing.is_alive() and not index.rebuilding
    assert not index.vectors.uses_hnsw  # cancelled: never swapped in
    assert_search(index, model)
    put(index, model, ["after"], seed=7)  # without the thread, the next write rebuilds
    assert index.vectors.uses_hnsw and not index.rebuilding
    assert_search(index, model)


def test_the_swap_waits_for_readers_of_the_feeds_lock(gate: threading.Event) -> None:
    """Requests read the vector index under the change feed's shared lock only, so the
    swap must hold the feed's write side too (the concurrency test once met an
    IndexError when it did not)."""
    feed_lock = ReadWriteLock()
    index = SemanticIndex(HashingEncoder(DIM), vectors=VectorOptions(300),
                          ranking=RankingOptions(floor=-1.0))  # fmt: skip
    index.rebuild_in_background(swap_under=feed_lock.write)
    model = Model()
    put(index, model, [f"v{i:04d}" for i in range(300)], seed=0)  # due: starts, held
    assert index.rebuilding
    with feed_lock.read():  # a request in progress
        gate.set()
        assert not index.wait_for_rebuilds(1.0)  # built, but not swapped in under a reader
        assert not index.vectors.uses_hnsw
        assert_search(index, model)
    assert index.wait_for_rebuilds(30)
    assert index.vectors.uses_hnsw
    assert_search(index, model)
