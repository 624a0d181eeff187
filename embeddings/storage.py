"""Crash-safe snapshots of an index folder, and the small JSON and .npy helpers they use.

A saved index lives in ``folder/snapshot-NNNNNN/``; the file ``folder/CURRENT`` names
the complete one. A save writes a fresh ``folder/.tmp-*`` folder, flushes it to disk,
renames it to the next snapshot name and only then replaces ``CURRENT`` (an atomic
rename). A crash at any moment leaves ``CURRENT`` naming a complete snapshot; the
leftovers are ignored by loads and swept by the next save, which keeps the previous
snapshot too so that a reader who has just read ``CURRENT`` still finds its files
(unless told not to: after an erasure no older snapshot may stay).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.errors import IndexFormatError, IndexNotFound

CURRENT = "CURRENT"
_SNAPSHOT = re.compile(r"snapshot-(\d{6,})")


@contextmanager
def writing_snapshot(folder: Path, *, keep_previous: bool = True) -> Iterator[Path]:
    """Yield an empty folder to write a snapshot into; publish it if the block succeeds.

    Every older snapshot is then removed, except the previous one if ``keep_previous``.
    One save at a time holds the folder, across processes (workers save after an
    erasure), so that two never take the same name or sweep each other's staging.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder))
        try:
            yield staging
            _fsync_tree(staging)
            previous = _current_name(folder)
            name = f"snapshot-{_last_number(folder) + 1:06d}"
            staging.rename(folder / name)
            pointer = folder / f".{CURRENT}.tmp"
            with pointer.open("w", encoding="utf-8") as handle:
                handle.write(name + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(pointer, folder / CURRENT)
            _fsync_dir(folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _sweep(folder, keep={name, previous} if keep_previous else {name})


def current_snapshot(folder: Path) -> Path:
    """The folder of the complete snapshot that ``folder/CURRENT`` names."""
    try:
        name = (folder / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError as exc:
        raise IndexNotFound(folder) from exc
    if not _SNAPSHOT.fullmatch(name) or not (folder / name).is_dir():
        raise IndexFormatError(folder, f"{CURRENT} names a missing snapshot '{name}'")
    return folder / name


def has_snapshot(folder: Path) -> bool:
    """Whether ``folder`` holds a saved index."""
    return (folder / CURRENT).is_file()


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as compact UTF-8 JSON."""
    with path.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, separators=(",", ":"))


def read_json(path: Path) -> Any:
    """Read a JSON file, as an :class:`IndexFormatError` if it is missing or broken."""
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        raise IndexFormatError(path, str(exc)) from exc


def read_array(
    path: Path, dtype: npt.DTypeLike, ndim: int, *, mapped: bool = False
) -> npt.NDArray[Any]:
    """Read a .npy file (never pickles), checking its dtype and number of dimensions.

    ``mapped``: map the file read-only instead (its pages shared by every process that
    maps it; a write to the array raises).
    """
    try:
        array: npt.NDArray[Any] = np.load(
            path, allow_pickle=False, mmap_mode="r" if mapped else None
        )
    except (OSError, ValueError) as exc:
        raise IndexFormatError(path, str(exc)) from exc
    if array.dtype != np.dtype(dtype) or array.ndim != ndim:
        raise IndexFormatError(path, f"expected {ndim}-d {np.dtype(dtype)}, got {array.shape}")
    return array


def check_format(path: Path, meta: Any, kind: str, version: int) -> dict[str, Any]:
    """The metadata dict, if it describes this kind of index in this format version."""
    if not isinstance(meta, dict) or meta.get("kind") != kind:
        raise IndexFormatError(path, f"not a {kind}")
    if meta.get("format") != version:
        raise IndexFormatError(path, f"format {meta.get('format')}, this code reads {version}")
    return meta


def _last_number(folder: Path) -> int:
    numbers = [int(m.group(1)) for p in folder.iterdir() if (m := _SNAPSHOT.fullmatch(p.name))]
    return max(numbers, default=0)


def _current_name(folder: Path) -> str:
    try:
        return (folder / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return ""


def _sweep(folder: Path, *, keep: set[str]) -> None:
    """Remove staging leftovers and every snapshot not in ``keep``."""
    for path in folder.iterdir():
        stale = bool(_SNAPSHOT.fullmatch(path.name)) and path.name not in keep
        if path.is_dir() and (stale or path.name.startswith(".tmp-")):
            shutil.rmtree(path, ignore_errors=True)


def _fsync_tree(root: Path) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    for path in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        _fsync_dir(path)


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
