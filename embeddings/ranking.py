"""Array types, normalisation and the deterministic top-k selection every index shares."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Mapping, Sequence

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]
"""One vector, shape (dimension,)."""
Matrix = npt.NDArray[np.float32]
"""Vectors as rows, shape (n, dimension)."""
Rows = npt.NDArray[np.int64]
"""Row numbers into an index's storage."""
Ranked = list[tuple[str, float]]
"""(id, score) pairs, best first."""


def normalise_rows(matrix: npt.NDArray[np.floating]) -> Matrix:
    """A float32 copy with each row scaled to unit length; all-zero rows stay zero."""
    out = np.array(matrix, dtype=np.float32, copy=True, ndmin=2)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


def normalise(vector: npt.NDArray[np.floating]) -> Vector:
    """A float32 copy of one vector scaled to unit length (zero stays zero)."""
    flat = np.asarray(vector, dtype=np.float32).reshape(-1)
    out: Vector = normalise_rows(flat[None, :])[0]
    return out


def top_k(
    scores: npt.NDArray[np.floating],
    ids: Sequence[str],
    k: int,
    *,
    rows: Rows | None = None,
) -> Ranked:
    """The k best (id, score) pairs: scores descending, ties broken by id ascending.

    ``scores[i]`` belongs to ``ids[rows[i]]`` (``ids[i]`` when ``rows`` is None);
    entries that are not finite (``-inf`` marks a non-candidate) are never returned.
    Every candidate tied with the k-th score is considered before cutting, so the
    result does not depend on how the partition happened to order equal scores.
    """
    n = scores.size
    if k <= 0 or n == 0:
        return []
    if n > k:
        kth = np.partition(scores, n - k)[n - k]
        chosen = np.flatnonzero(scores >= kth) if np.isfinite(kth) else np.arange(n)
    else:
        chosen = np.arange(n)
    chosen = chosen[np.isfinite(scores[chosen])]
    positions = chosen if rows is None else rows[chosen]
    pairs = [(ids[int(p)], float(s)) for p, s in zip(positions, scores[chosen], strict=True)]
    pairs.sort(key=lambda pair: (-pair[1], pair[0]))
    return pairs[:k]


def lookup_rows(
    rows: Mapping[str, int], ids: Collection[str], exclude: Collection[str] = ()
) -> Rows:
    """The sorted, distinct rows of the ``ids`` that ``rows`` knows, minus those of ``exclude``."""
    found = np.array(list(map(rows.get, ids, itertools.repeat(-1))), dtype=np.int64)
    found = np.unique(found[found >= 0])
    if exclude and found.size:
        found = np.setdiff1d(found, lookup_rows(rows, exclude), assume_unique=True)
    return found


class RowCache:
    """The rows of large frozen id sets, remembered until the index changes.

    The service excludes the same hidden profiles from every search: a frozenset of tens
    of thousands of ids, the same object until the graph changes. Turning it into rows
    cost 14 ms a search at 100,000 items; remembered by identity (a frozenset cannot
    change, so the same object means the same ids) it costs nothing. The least recently
    used entry goes first, so sets asked for once (a caller's hidden set less themselves)
    do not push out the ones every search asks for. The owner calls :meth:`clear`
    whenever its id-to-row mapping changes.
    """

    SMALLEST = 256  # smaller sets are cheaper to look up than to remember
    ENTRIES = 32
    ROWS = 2_000_000
    """And at most this many rows in all (8 bytes each), the last set always kept: room
    for the hidden sets, a filter by kind and one by each sector and goal."""
    HELD_BYTES = 40 << 20
    """The vectors of a remembered set are held too (:meth:`held`) up to this size: the
    active initiatives of a million people's network (25,705 of them, 38 MiB)."""
    HELD_SHARE = 0.05
    """And only a set of at most this share of the index's items: the sets asked for
    again and again are small (the initiatives are 3% of the items at 100,000 people),
    while a sector's members (a fifth) held twice over took 60 MiB of each worker at
    100,000 people, to be replaced by the next sector's as searches went from one sector
    to another (docs/benchmarks.md, "The encoder's weights shared")."""
    HELD = 2

    def __init__(self) -> None:
        self._entries: dict[int, tuple[frozenset[str], Rows]] = {}
        self._held: dict[int, tuple[frozenset[str], Rows, Matrix]] = {}

    def clear(self) -> None:
        self._entries.clear()
        self._held.clear()

    def moved(
        self, ids: Sequence[str], old: Sequence[int | None], new: Sequence[int | None]
    ) -> None:
        """Follow ``ids`` from their ``old`` rows to their ``new`` ones (None: not in the
        index before; no longer in it), the new rows past every row remembered (appended).

        A remembered set none of these ids is in keeps its rows and its vectors: a bio
        written no longer makes the next search look up the rows of every hidden profile
        again (at 100,000 people, tens of milliseconds in each worker after each write).
        """
        for key, (members, rows) in list(self._entries.items()):
            inside = [(o, n) for i, o, n in zip(ids, old, new, strict=True) if i in members]
            if not inside:
                continue
            gone = np.array([o for o, _ in inside if o is not None], dtype=np.int64)
            added = np.array(sorted(n for _, n in inside if n is not None), dtype=np.int64)
            kept = rows[~np.isin(rows, gone)] if gone.size else rows
            found = np.concatenate([kept, added])
            found.setflags(write=False)
            self._entries[key] = (members, found)
        for key, (members, _, _) in list(self._held.items()):
            if any(i in members for i in ids):
                del self._held[key]

    def held(
        self,
        rows: Mapping[str, int],
        ids: Collection[str],
        gather: Callable[[Rows], Matrix],
        row_bytes: int,
    ) -> tuple[Rows, Matrix] | None:
        """The rows of a remembered set and their vectors in one array, or None for a set
        that is not remembered, whose vectors would pass :attr:`HELD_BYTES` or which holds
        more than :attr:`HELD_SHARE` of the items.

        The service searches the initiatives (a frozenset of some thousands) exactly, five
        times for one collaborators request; gathering their vectors from the index's rows
        each time was most of such a search. ``gather`` is called once, until a vector of
        the set moves (:meth:`moved`) or the owner calls :meth:`clear` (ids renumbered).
        The least recently used set goes first: searches within one sector after another
        do not push out the initiatives every collaborators request searches.
        """
        if not isinstance(ids, frozenset) or len(ids) < self.SMALLEST:
            return None
        hit = self._held.get(id(ids))
        if hit is not None and hit[0] is ids:
            self._held[id(ids)] = self._held.pop(id(ids))  # the last to be dropped
            return hit[1], hit[2]
        found = self._rows(rows, ids)
        if found.size * row_bytes > self.HELD_BYTES or found.size > self.HELD_SHARE * len(rows):
            return None
        matrix = gather(found)
        matrix.setflags(write=False)
        if len(self._held) >= self.HELD:
            del self._held[next(iter(self._held))]
        self._held[id(ids)] = (ids, found, matrix)
        return found, matrix

    def lookup(
        self, rows: Mapping[str, int], ids: Collection[str], exclude: Collection[str] = ()
    ) -> Rows:
        """As :func:`lookup_rows`, remembering the rows of large frozensets."""
        found = self._rows(rows, ids)
        if exclude and found.size:
            found = np.setdiff1d(found, self._rows(rows, exclude), assume_unique=True)
        return found

    def _rows(self, rows: Mapping[str, int], ids: Collection[str]) -> Rows:
        if not isinstance(ids, frozenset) or len(ids) < self.SMALLEST:
            return lookup_rows(rows, ids)
        hit = self._entries.get(id(ids))
        if hit is not None and hit[0] is ids:
            self._entries[id(ids)] = self._entries.pop(id(ids))  # the last to be dropped
            return hit[1]
        found = lookup_rows(rows, ids)
        found.setflags(write=False)
        self._entries.pop(id(ids), None)  # a set gone whose id this one was given
        self._entries[id(ids)] = (ids, found)
        held = sum(entry[1].size for entry in self._entries.values())
        while len(self._entries) > 1 and (len(self._entries) > self.ENTRIES or held > self.ROWS):
            oldest = next(iter(self._entries))
            held -= self._entries.pop(oldest)[1].size
        return found
