"""The compact graph's files: written from the store, memory-mapped by every worker.

A folder (``<data dir>/graph``) holds version folders, each the :class:`~graph.compact.Arrays`
of one change-log sequence number as ``.npy`` files plus ``meta.json``, and ``CURRENT``,
the name of the newest. One process writes a version at a time, under an exclusive
``flock`` on ``lock``; it replaces ``CURRENT`` atomically and then deletes the older
versions (a worker still mapping one keeps reading it until it moves to the new one).

A version is written at start when there is none, when the change log holds an erasure
after it (an erased person must not stay in a file), or when replaying the log since it
would take longer than writing a new one; and in the background when a worker's delta
grows or it applies an erasure (:class:`~graph.view.GraphView`).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import uuid
from array import array
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select

from graph import schema
from graph.compact import ATTRIBUTES, CODED, FLAGS, Arrays
from graph.store import Store, last_seq_read

log = logging.getLogger(__name__)

FORMAT = 2
REPLAY_LIMIT = 50_000
"""Change-log entries past a version beyond which a start writes a new version instead."""

_VERSION = re.compile(r"v\d{12}-[0-9a-f]{8}")
"""The name of a version's folder (:meth:`GraphFiles.write`)."""
_ARRAYS = ("ids", "out_offsets", "out_targets", "out_kinds", "in_offsets", "in_sources",
           "in_kinds", "out_distinct", "in_distinct")  # fmt: skip


def read_arrays(store: Store) -> Arrays:
    """The whole graph as it is in the store now, in compact form (one read transaction)."""
    with store.engine.connect() as conn, conn.begin():
        seq = last_seq_read(conn)
        t = schema.nodes
        rows = conn.execute(select(t.c.id, *(t.c[name] for name in ATTRIBUTES))).all()
        e = schema.edges
        # Streamed: the edges go into compact arrays as they are read, never into a list.
        edges = conn.execute(select(e.c.source, e.c.target, e.c.kind))
        return build_arrays(seq, rows, edges)


def build_arrays(seq: int, rows: Sequence[Sequence[Any]], edges: Iterable[Sequence[str]]) -> Arrays:
    """Arrays from node rows (id, then the ATTRIBUTES in order) and (source, target, kind)
    edges (read once)."""
    ids = np.array([row[0].encode() for row in rows], dtype=np.bytes_)
    if not len(ids):
        ids = np.zeros(0, dtype="S1")
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    vocab: dict[str, list[str | None]] = {}
    columns: dict[str, npt.NDArray[Any]] = {}
    for at, name in enumerate(ATTRIBUTES, start=1):
        values = [row[at] for row in rows]
        if name in CODED:
            words: list[str | None] = [None, *sorted({v for v in values if v is not None})]
            code = {w: i for i, w in enumerate(words)}
            columns[name] = np.array([code[v] for v in values], dtype=np.uint16)[order]
            vocab[name] = words
        elif name in FLAGS:
            flags = [-1 if v is None else int(bool(v)) for v in values]
            columns[name] = np.array(flags, dtype=np.int8)[order]
        else:
            numbers = [np.nan if v is None else float(v) for v in values]
            columns[name] = np.array(numbers, dtype=np.float64)[order]

    number = {bytes(b).decode(): i for i, b in enumerate(ids)}
    ends: tuple[array[int], array[int]] = (array("i"), array("i"))
    seen = array("B")
    first_seen: dict[str, int] = {}
    for source, target, kind in edges:
        a, b = number.get(source), number.get(target)
        if a is None or b is None:
            continue
        kind_code = first_seen.get(kind)
        if kind_code is None:
            kind_code = first_seen[kind] = len(first_seen)
        ends[0].append(a)
        ends[1].append(b)
        seen.append(kind_code)
    del number
    kinds = sorted(first_seen)
    vocab["edge"] = [*kinds]
    sorted_code = np.zeros(max(1, len(first_seen)), dtype=np.uint8)
    for kind, at in first_seen.items():
        sorted_code[at] = kinds.index(kind)
    sources = np.frombuffer(ends[0], dtype=np.int32).copy() if ends[0] else np.zeros(0, np.int32)
    targets = np.frombuffer(ends[1], dtype=np.int32).copy() if ends[1] else np.zeros(0, np.int32)
    codes = sorted_code[np.frombuffer(seen, dtype=np.uint8)] if seen else np.zeros(0, np.uint8)
    del ends, seen
    out = np.lexsort((codes, targets, sources))
    inn = np.lexsort((codes, sources, targets))
    out_offsets, in_offsets = _offsets(sources, len(ids)), _offsets(targets, len(ids))
    return Arrays(
        seq=seq, ids=ids, columns=columns, vocab=vocab,
        out_offsets=out_offsets, out_targets=targets[out], out_kinds=codes[out],
        in_offsets=in_offsets, in_sources=sources[inn], in_kinds=codes[inn],
        out_distinct=_distinct(sources[out], targets[out], len(ids)),
        in_distinct=_distinct(targets[inn], sources[inn], len(ids)),
    )  # fmt: skip


def _distinct(
    rows: npt.NDArray[np.int32], ends: npt.NDArray[np.int32], n: int
) -> npt.NDArray[np.int32]:
    """Distinct neighbours per row, for (row, end) pairs sorted by row then end."""
    if not len(rows):
        return np.zeros(n, dtype=np.int32)
    first = np.concatenate(([True], (rows[1:] != rows[:-1]) | (ends[1:] != ends[:-1])))
    return np.bincount(rows[first], minlength=n).astype(np.int32)


def _offsets(ends: npt.NDArray[np.int32], n: int) -> npt.NDArray[np.int64]:
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(ends, minlength=n), out=offsets[1:])
    return offsets


class GraphFiles:
    """The folder of compact graph versions (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @contextmanager
    def locked(self, *, wait: bool = True) -> Iterator[bool]:
        """Hold the writers' lock; yields False (without it) if ``wait`` is off and it is taken."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "lock", "a+b") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def current(self) -> str | None:
        """The name of the newest version, if any."""
        try:
            return (self.folder / "CURRENT").read_text().strip() or None
        except FileNotFoundError:
            return None

    def current_seq(self) -> int | None:
        name = self.current()
        if name is None:
            return None
        meta = json.loads((self.folder / name / "meta.json").read_text())
        return int(meta["seq"])

    def load(self, name: str | None = None) -> Arrays | None:
        """The arrays of a version (default: the newest), memory-mapped read-only."""
        name = name or self.current()
        if name is None:
            return None
        where = self.folder / name
        meta = json.loads((where / "meta.json").read_text())
        if meta.get("format") != FORMAT:
            return None
        # Plain arrays over the mapped pages: numpy's memmap subclass costs microseconds
        # on every slice and element read.
        mapped = {k: _mapped(where / f"{k}.npy") for k in _ARRAYS}
        columns = {k: _mapped(where / f"column_{k}.npy") for k in ATTRIBUTES}
        return Arrays(seq=int(meta["seq"]), columns=columns, vocab=meta["vocab"], **mapped)

    def write(self, arrays: Arrays) -> str:
        """Write a new version and make it the newest (hold :meth:`locked`); its name."""
        name = f"v{arrays.seq:012d}-{uuid.uuid4().hex[:8]}"
        where = self.folder / name
        where.mkdir(parents=True)
        for key in _ARRAYS:
            _save(where / f"{key}.npy", getattr(arrays, key))
        for key in ATTRIBUTES:
            _save(where / f"column_{key}.npy", arrays.columns[key])
        meta = {"format": FORMAT, "seq": arrays.seq, "vocab": dict(arrays.vocab),
                "nodes": arrays.nodes, "edges": arrays.edges}  # fmt: skip
        (where / "meta.json").write_text(json.dumps(meta))
        pointer = self.folder / f"CURRENT.{uuid.uuid4().hex[:8]}"
        pointer.write_text(name)
        os.replace(pointer, self.folder / "CURRENT")
        for old in self.folder.iterdir():  # older versions: nothing else in the folder
            if old.is_dir() and old.name != name and _VERSION.fullmatch(old.name):
                shutil.rmtree(old, ignore_errors=True)
        log.info("graph files: version %s, %d nodes, %d edges", name, arrays.nodes, arrays.edges)
        return name

    def refresh(self, store: Store, *, at_least: int, wait: bool = True) -> bool:
        """Write a version from the store unless the newest is at ``at_least`` already;
        whether one was written (False too when ``wait`` is off and another writes)."""
        with self.locked(wait=wait) as held:
            if not held:
                return False
            seq = self.current_seq()
            if seq is not None and seq >= at_least:
                return False
            self.write(read_arrays(store))
            return True

    def open(self, store: Store) -> Arrays:
        """The newest version fit to start from, written first if there is none or it is not
        (an erasure after it, or more than :data:`REPLAY_LIMIT` entries to replay)."""
        with self.locked():
            seq = self.current_seq()
            if seq is None or _stale(store, seq):
                self.write(read_arrays(store))
            found = self.load()
        if found is None:
            raise RuntimeError(f"graph files in {self.folder} could not be read")
        return found


def _stale(store: Store, seq: int) -> bool:
    t = schema.changes
    with store.engine.connect() as conn:
        last = last_seq_read(conn)
        erased = conn.execute(select(func.max(t.c.seq)).where(t.c.op == "erase")).scalar()
    return last - seq > REPLAY_LIMIT or (erased is not None and int(erased) > seq)


def _mapped(path: Path) -> npt.NDArray[Any]:
    return np.asarray(np.load(path, mmap_mode="r"))


def _save(path: Path, array: npt.NDArray[Any]) -> None:
    with open(path, "wb") as handle:
        np.save(handle, np.ascontiguousarray(array))
        handle.flush()
        os.fsync(handle.fileno())
