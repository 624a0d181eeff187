from __future__ import annotations

from pathlib import Path

import pytest

from embeddings.errors import IndexFormatError, IndexNotFound
from embeddings.storage import CURRENT, current_snapshot
from embeddings.vectors import VectorIndex
from tests.embeddings.conftest import unit_vectors


def small_index(n: int) -> VectorIndex:
    index = VectorIndex(8)
    index.upsert([f"v{i}" for i in range(n)], unit_vectors(n, 8))
    return index


def test_leftovers_of_an_interrupted_save_do_not_break_a_load(tmp_path: Path) -> None:
    small_index(10).save(tmp_path)
    (tmp_path / ".tmp-crashed").mkdir()
    (tmp_path / ".tmp-crashed" / "vectors.npy").write_bytes(b"half a file")
    (tmp_path / "snapshot-999999").mkdir()  # renamed but never published
    (tmp_path / f".{CURRENT}.tmp").write_text("snapshot-999999\n")
    assert len(VectorIndex.load(tmp_path)) == 10


def test_a_save_that_fails_midway_keeps_the_previous_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small_index(10).save(tmp_path)

    def disk_full(self: VectorIndex, folder: Path) -> None:
        (folder / "index.json").write_text("{")
        raise OSError("No space left on device")

    monkeypatch.setattr(VectorIndex, "write_files", disk_full)
    with pytest.raises(OSError, match="No space left"):
        small_index(20).save(tmp_path)
    monkeypatch.undo()
    assert len(VectorIndex.load(tmp_path)) == 10
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]


def test_saves_keep_the_current_and_previous_snapshot_only(tmp_path: Path) -> None:
    for n in (3, 4, 5):
        small_index(n).save(tmp_path)
    snapshots = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("snapshot-"))
    assert snapshots == ["snapshot-000002", "snapshot-000003"]
    assert current_snapshot(tmp_path).name == "snapshot-000003"
    assert len(VectorIndex.load(tmp_path)) == 5


def test_a_missing_or_broken_index_is_reported_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFound, match="no saved index"):
        VectorIndex.load(tmp_path)
    small_index(3).save(tmp_path)
    (current_snapshot(tmp_path) / "vectors.npy").write_bytes(b"not numpy")
    with pytest.raises(IndexFormatError, match=r"vectors\.npy"):
        VectorIndex.load(tmp_path)
    (tmp_path / CURRENT).write_text("snapshot-000042\n")
    with pytest.raises(IndexFormatError, match="missing snapshot 'snapshot-000042'"):
        VectorIndex.load(tmp_path)
