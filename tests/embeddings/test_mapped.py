"""Saved indexes are read memory-mapped: shared by processes, read-only, merged at saves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings.encoder import HashingEncoder
from embeddings.lexical import LexicalIndex
from embeddings.options import VectorOptions
from embeddings.search import SemanticIndex
from embeddings.storage import current_snapshot
from embeddings.vectors import VectorIndex
from tests.embeddings.conftest import unit_vectors

IDS = [f"v{i:05d}" for i in range(1_200)]


def saved(tmp_path: Path, exact_below: int) -> Path:
    index = VectorIndex(16, exact_below=exact_below)
    index.upsert(IDS, unit_vectors(len(IDS), 16, seed=1))
    index.remove(IDS[:5])
    index.save(tmp_path / "vectors")
    return current_snapshot(tmp_path / "vectors")


def same(got: list[tuple[str, float]], expected: list[tuple[str, float]]) -> None:
    """The same ids in the same order, with the same scores up to float rounding (FAISS
    and numpy sum the products in different orders)."""
    assert [i for i, _ in got] == [i for i, _ in expected]
    assert [s for _, s in got] == pytest.approx([s for _, s in expected], abs=1e-6)


@pytest.mark.parametrize("exact_below", [20_000, 500], ids=["exact", "hnsw"])
def test_a_loaded_index_maps_its_files_and_answers_as_one_read_into_memory(
    tmp_path: Path, exact_below: int
) -> None:
    folder = saved(tmp_path, exact_below)
    mapped = VectorIndex.read_files(folder)
    copied = VectorIndex.read_files(folder, mapped=False)
    assert mapped.mapped and not copied.mapped
    assert mapped.uses_hnsw is copied.uses_hnsw is (exact_below == 500)
    with pytest.raises(ValueError, match="read-only"):  # no write can reach the file
        mapped._data.base[0, 0] = 1.0
    # New rows go to memory beside the map; a mapped graph does not grow, its rows past
    # it are searched exactly, so that the answers stay those of an index in memory.
    added = unit_vectors(40, 16, seed=2)
    for index in (mapped, copied):
        index.upsert([f"new{i}" for i in range(40)], added)
        index.upsert([IDS[10]], unit_vectors(1, 16, seed=3))  # moves a mapped item
        index.remove([IDS[11], "new3"])
    assert mapped.tail_rows == 41 and mapped.mapped
    allowed = {IDS[10], "new7", "new3", *IDS[100:160]}
    for query in [*unit_vectors(5, 16, seed=4), added[7], added[3]]:
        same(mapped.search(query, 10), copied.search(query, 10))
        same(mapped.search(query, 5, allowed=allowed), copied.search(query, 5, allowed=allowed))
    assert mapped.search(added[7], 1)[0][0] == "new7"
    assert "new3" not in [i for i, _ in mapped.search(added[3], 50)]


@pytest.mark.parametrize("exact_below", [20_000, 500], ids=["exact", "hnsw"])
def test_a_save_merges_the_rows_added_since_and_maps_the_new_files(
    tmp_path: Path, exact_below: int
) -> None:
    folder = saved(tmp_path, exact_below)
    index = VectorIndex.read_files(folder)
    index.upsert(["late"], unit_vectors(1, 16, seed=9))
    before = [index.search(q, 10) for q in unit_vectors(5, 16, seed=5)]
    index.save(tmp_path / "vectors")
    assert index.mapped and index.tail_rows == 0
    if exact_below == 500:
        assert index._graph.ntotal == len(index._ids)  # the graph holds the merged rows
    assert [index.search(q, 10) for q in unit_vectors(5, 16, seed=5)] == before
    reloaded = VectorIndex.load(tmp_path / "vectors")
    assert reloaded.search(index.vector("late"), 1)[0][0] == "late"


def test_rows_piling_up_past_a_mapped_graph_make_a_rebuild_due(tmp_path: Path) -> None:
    index = VectorIndex.read_files(saved(tmp_path, 500))
    index.defer_rebuilds = True  # so that the due rebuild is seen, not run
    index.upsert([f"n{i}" for i in range(400)], unit_vectors(400, 16, seed=6))
    assert index.rebuild_due() is None  # 400 rows past it: fewer than exact_below
    index.upsert([f"m{i}" for i in range(200)], unit_vectors(200, 16, seed=7))
    assert index.rebuild_due() is True


def test_a_mapped_graph_is_not_rebuilt_while_a_backlog_comes_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = VectorIndex.read_files(saved(tmp_path, 500))
    index.wait_for_graph(True)  # the backlog of a restart in its middle, or of an import
    extra = [f"n{i}" for i in range(900)]
    vectors = unit_vectors(900, 16, seed=6)
    index.upsert(extra, vectors)  # 900 rows past the mapped graph of 1,195: 43%
    assert index.rebuild_due() is None
    assert index.mapped and index.tail_rows == 900  # the saved graph still in use
    assert [i for i, _ in index.search(vectors[3], 1)] == ["n3"]  # the rows past it too
    monkeypatch.setattr("embeddings.vectors._WAIT_ROWS", 899)  # too many rows searched exactly
    assert index.rebuild_due() is True
    monkeypatch.undo()
    index.wait_for_graph(False)  # every vector in: the one graph over every row
    assert index.uses_hnsw and not index.mapped and index.rebuild_due() is None
    assert [i for i, _ in index.search(vectors[3], 1)] == ["n3"]
    assert len(index) == len(IDS) - 5 + 900


def test_lexical_postings_are_mapped_and_grow_in_memory(tmp_path: Path) -> None:
    index = LexicalIndex()
    index.upsert([("a", "community gardens in cities"), ("b", "clean water wells"),
                  ("c", "gardens of water")])  # fmt: skip
    index.save(tmp_path / "lexical")
    folder = current_snapshot(tmp_path / "lexical")
    mapped, copied = LexicalIndex.read_files(folder), LexicalIndex.read_files(folder, mapped=False)
    assert mapped.mapped and not copied.mapped
    for index in (mapped, copied):
        index.upsert([("d", "water gardens"), ("a", "rooftop gardens")])
    for query in ("gardens", "water", "community", "rooftop water"):
        assert mapped.search(query, 10) == copied.search(query, 10)
    assert mapped.mapped  # terms that grew were copied; the others still read the map


@pytest.mark.parametrize("exact_below", [20_000, 3], ids=["exact", "hnsw"])
def test_an_erasure_leaves_the_person_in_no_mapped_file_and_no_delta(
    tmp_path: Path, exact_below: int
) -> None:
    """One process saves after the erasure; another loaded the older snapshot (a second
    worker). Neither keeps the person's vector in a file it maps or in its memory."""
    folder = tmp_path / "index"
    texts = [("person:zq", "glockenspiel lessons"), ("b", "community gardens"),
             ("c", "clean water wells"), ("d", "youth mentoring")]  # fmt: skip
    writer = SemanticIndex(HashingEncoder(64), folder=folder, vectors=VectorOptions(exact_below))
    writer.upsert(texts)
    writer.save(watermark=1)
    reader = SemanticIndex.load(writer.encoder, folder)
    for index in (writer, reader):
        index.upsert([("person:zz", "kintsugi repairs")])  # held in memory, past the map
    assert writer.vectors.mapped and reader.vectors.mapped
    gone = [index.vector(i).tobytes() for index in (writer,) for i in ("person:zq", "person:zz")]

    for index in (writer, reader):
        assert index.forget(["person:zq", "person:zz"]) == 2
        held = index.vectors._data
        assert not held.is_mapped  # the snapshot it mapped holds them: no longer read
        memory = held.base.tobytes() + held.tail.tobytes()
        assert not any(vector in memory for vector in gone)
    writer.save(watermark=2)

    assert writer.vectors.mapped and writer.vectors.tail_rows == 0
    assert [p.name for p in folder.glob("snapshot-*")] == ["snapshot-000002"]
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for needle in (b"glockenspiel", b"kintsugi", b"person:z", *gone):
                assert needle not in data, (path, needle[:20])
    # The reader then maps what the writer saved, and shares it again.
    assert reader.saved_elsewhere() and reader.adopt_saved()
    assert reader.vectors.mapped and reader.vectors.tail_rows == 0
    assert not reader.saved_elsewhere() and not reader.adopt_saved()
    for index in (writer, reader, SemanticIndex.load(writer.encoder, folder)):
        assert [h.id for h in index.search("community gardens", 1)] == ["b"]
        assert not {"person:zq", "person:zz"} & {h.id for h in index.search("kintsugi", 10)}
    assert np.isfinite(writer.vector("b")).all()


def test_with_a_graph_the_vectors_are_mapped_once_from_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The rows are read from the HNSW file's own copy of the vectors (two bytes off a
    float's alignment there), not from vectors.npy as well: gathers, full scores and a
    copy into memory give exactly the rows vectors.npy holds."""
    folder = saved(tmp_path, 500)
    index = VectorIndex.read_files(folder)
    rows = index._data
    assert Path(rows.base.filename) == folder / "hnsw.faiss"
    assert rows.is_mapped and not np.asarray(rows.base).flags.aligned
    expected = np.load(folder / "vectors.npy")
    live = index._alive[: index._size]
    picked = np.array([3, 0, 1_199, 640, 5, 640], dtype=np.int64)  # any order, repeats
    assert np.array_equal(rows.take(picked)[live[picked]], expected[picked][live[picked]])
    query = unit_vectors(1, 16, seed=8)[0]
    assert np.allclose(rows.scores(query)[live], (expected @ query)[live], atol=1e-6)
    copy = rows.unmapped()
    assert not copy.is_mapped and np.array_equal(copy.take(picked), rows.take(picked))
    copied = VectorIndex.read_files(folder, mapped=False)
    for q in unit_vectors(5, 16, seed=6):
        same(index.search(q, 10), copied.search(q, 10))
        same(
            index.search(q, 5, allowed=set(IDS[200:260])),
            copied.search(q, 5, allowed=set(IDS[200:260])),
        )

    # A file whose end does not hold the vectors as probed: vectors.npy is read instead.
    import embeddings.vectors as vectors_module

    monkeypatch.setattr(vectors_module, "graph_vector", lambda graph, row: np.ones(16))
    with caplog.at_level("WARNING", logger="embeddings.vectors"):
        fallback = VectorIndex.read_files(folder)
    assert Path(fallback._data.base.filename) == folder / "vectors.npy"
    assert "does not end with its vectors" in caplog.text
