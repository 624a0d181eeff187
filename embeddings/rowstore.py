"""The rows of a vector index: a read-only base mapped from a saved file, then a tail in memory.

A saved index's vectors are memory-mapped read-only (``np.load(mmap_mode="r")``), so
every worker process of a machine reads the same pages of the page cache instead of
holding its own copy. Rows written since the save go to a small growable array in memory
(the tail), which the next save merges into a new file (see :mod:`embeddings.vectors`).
Rows are numbered across both: the base holds rows ``0 .. len(base)``, the tail the rest.

The base may also be the vectors a FAISS HNSW file holds for its graph
(:meth:`RowStore.mapped_end`): the index then maps one copy of its vectors, not two. Those
lie two bytes off a float's alignment in the file, and numpy's float routines take a
slow path on such an array (a gather five times slower), so the rows are gathered as
bytes and scored in aligned chunks.

A base row cannot be changed in place (the map is read-only); an index that must change
one (an erasure zeroing a retired vector) copies its base into memory first
(:meth:`RowStore.unmapped`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from embeddings.errors import IndexFormatError
from embeddings.ranking import Matrix, Rows, Vector

SCAN_ROWS = 8192
"""Rows scored at a time from a base read as bytes (:meth:`RowStore.scores`)."""


class RowStore:
    """Vectors by row: ``base`` (read-only, possibly memory-mapped) then ``tail`` (in memory).

    Appending never moves the rows already held: a grown tail is a new array holding a
    copy, so a :meth:`view` taken before still reads its rows (a background rebuild reads
    the rows below its mark without the index's lock).
    """

    def __init__(self, base: Matrix, tail: Matrix, size: int) -> None:
        self.base = base
        # Rows are read through a plain array over the same memory: indexing a
        # ``np.memmap`` makes a memmap of each result, whose setup runs in Python (a
        # tenth of a collaborators request's time went there).
        self._rows: Matrix = np.asarray(base)
        self._bytes: npt.NDArray[np.uint8] | None = (
            None if self._rows.flags.aligned else self._rows.view(np.uint8)
        )
        """The base's rows as bytes, where they are not aligned for floats."""
        self.tail = tail
        self.size = size

    @classmethod
    def empty(cls, dimension: int) -> RowStore:
        blank = np.zeros((0, dimension), dtype=np.float32)
        return cls(blank, blank, 0)

    @classmethod
    def in_memory(cls, data: Matrix, size: int) -> RowStore:
        """Rows ``0 .. size`` of ``data`` (which may have spare rows), all in the tail."""
        return cls(np.zeros((0, data.shape[1]), dtype=np.float32), data, size)

    @classmethod
    def mapped(cls, path: Path, dimension: int) -> RowStore:
        """The rows saved in a .npy file, mapped read-only (never pickles)."""
        try:
            base = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise IndexFormatError(path, str(exc)) from exc
        if base.dtype != np.float32 or base.ndim != 2 or base.shape[1] != dimension:
            raise IndexFormatError(path, f"expected (n, {dimension}) float32, got {base.shape}")
        return cls(base, np.zeros((0, dimension), dtype=np.float32), base.shape[0])

    @classmethod
    def mapped_end(cls, path: Path, rows: int, dimension: int) -> RowStore:
        """``rows`` float32 rows of ``dimension`` that end the file ``path``, mapped
        read-only (where a FAISS flat index writes its vectors, last in its file)."""
        width = 4 * dimension
        try:
            offset = path.stat().st_size - rows * width
            if offset < 0:
                raise ValueError(f"shorter than {rows} rows of {dimension} floats")
            raw = np.memmap(path, dtype=np.uint8, mode="r", offset=offset, shape=(rows, width))
        except (OSError, ValueError) as exc:
            raise IndexFormatError(path, str(exc)) from exc
        return cls(raw.view(np.float32), np.zeros((0, dimension), dtype=np.float32), rows)

    @property
    def dimension(self) -> int:
        return int(self.base.shape[1])

    @property
    def mapped_rows(self) -> int:
        """How many rows the base holds (those of the file it maps, if any)."""
        return int(self.base.shape[0])

    @property
    def is_mapped(self) -> bool:
        """Whether the base is a memory-mapped file."""
        return isinstance(self.base, np.memmap)

    def view(self) -> RowStore:
        """The rows as they are now: later appends and growths do not change it."""
        return RowStore(self.base, self.tail, self.size)

    def row(self, row: int) -> Vector:
        """A copy of one row."""
        b = self.mapped_rows
        out: Vector = np.array(self._rows[row] if row < b else self.tail[row - b])
        return out

    def take(self, rows: Rows, out: Matrix | None = None) -> Matrix:
        """The vectors of these rows, in this order (a copy, into ``out`` if given)."""
        b = self.mapped_rows
        result = out if out is not None else np.empty((rows.size, self.dimension), np.float32)
        if rows.size == 0:
            return result
        in_base = rows < b
        if in_base.all():
            self._gather(rows, result)
        elif not in_base.any():
            np.take(self.tail, rows - b, axis=0, out=result)
        else:
            result[in_base] = self._gather(rows[in_base])
            result[~in_base] = self.tail[rows[~in_base] - b]
        return result

    def _gather(self, rows: Rows, out: Matrix | None = None) -> Matrix:
        """Base rows, copied (into ``out``, C-contiguous, if given)."""
        if out is None:
            out = np.empty((rows.size, self.dimension), dtype=np.float32)
        if self._bytes is None:
            np.take(self._rows, rows, axis=0, out=out)
        else:
            np.take(self._bytes, rows, axis=0, out=out.view(np.uint8))
        return out

    def rows(self, start: int, stop: int) -> Matrix:
        """The vectors of rows ``start .. stop`` (a view of the tail, or a copy)."""
        b = self.mapped_rows
        if start >= b:
            out: Matrix = self.tail[start - b : stop - b]
            return out
        return self.take(np.arange(start, stop, dtype=np.int64))

    def scores(self, query: Vector) -> Vector:
        """The inner product of the query with every row (one pass over each part)."""
        b = self.mapped_rows
        rest: Vector = self.tail[: self.size - b] @ query
        if not b:
            return rest
        if self._bytes is None:
            base: Vector = self._rows @ query
        else:
            base = np.empty(b, dtype=np.float32)
            for start in range(0, b, SCAN_ROWS):
                stop = min(b, start + SCAN_ROWS)
                base[start:stop] = self._gather(np.arange(start, stop)) @ query
        out: Vector = np.concatenate([base, rest])
        return out

    def append(self, matrix: Matrix) -> int:
        """Add rows at the end; the first new row's number."""
        start = self.size
        self.reserve(start + matrix.shape[0])
        b = self.mapped_rows
        self.tail[start - b : start - b + matrix.shape[0]] = matrix
        self.size += matrix.shape[0]
        return start

    def reserve(self, rows: int) -> None:
        """Room for ``rows`` rows in all, so that appending up to them copies nothing."""
        b, used = self.mapped_rows, self.size - self.mapped_rows
        if rows - b <= self.tail.shape[0]:
            return
        capacity = max(rows - b, 2 * self.tail.shape[0], 1024)
        grown = np.zeros((capacity, self.dimension), dtype=np.float32)
        grown[:used] = self.tail[:used]
        self.tail = grown

    def zero(self, rows: Rows) -> None:
        """Overwrite these rows with zeros; they must be in the tail (the base is read-only)."""
        b = self.mapped_rows
        if rows.size and int(rows.min()) < b:
            raise ValueError("a mapped row cannot be changed: copy the base into memory first")
        self.tail[rows - b] = 0.0

    def unmapped(self) -> RowStore:
        """The same rows, all in memory (the base copied), with room for one more."""
        data = np.zeros((max(self.size + 1, 1024), self.dimension), dtype=np.float32)
        b = self.mapped_rows
        if self._bytes is None:
            data[:b] = self.base
        else:
            data[:b].view(np.uint8)[...] = self._bytes
        data[b : self.size] = self.tail[: self.size - b]
        return RowStore.in_memory(data, self.size)

    def write(self, path: Path, *, blank: Rows) -> None:
        """Save rows ``0 .. size`` as a .npy file, the ``blank`` rows written as zeros."""
        out = np.lib.format.open_memmap(
            path, mode="w+", dtype=np.float32, shape=(self.size, self.dimension)
        )
        step = 16_384
        for start in range(0, self.size, step):
            stop = min(self.size, start + step)
            out[start:stop] = self.rows(start, stop)
        if blank.size:
            out[blank] = 0.0
        out.flush()
        del out
