"""A vector index keyed by string ids: exact search while small, FAISS HNSW once large.

Vectors are stored L2-normalised, so the inner product is the cosine similarity. Every
vector lives in one growable float32 array whose row numbers are also the FAISS labels;
an update appends a new row and retires the old one, a removal retires a row. Retired
rows are skipped at search time (HNSW cannot delete) and dropped by a compaction once
they pass 20% of the rows, which for HNSW means rebuilding the graph.

The HNSW graph is built when the index reaches ``exact_below`` items and dropped when
it shrinks below 80% of that (hysteresis, so a size hovering at the threshold does not
rebuild the graph again and again).

Such a rebuild happens within the write that makes it due, unless ``defer_rebuilds`` is
set: then the owner runs it in steps (:meth:`begin_rebuild`, then off the lock
:class:`embeddings.rebuild.Rebuild`, then :meth:`finish_rebuild`; see
:mod:`embeddings.rebuild`), and meanwhile searches go on over the old structure.

A saved index is read back memory-mapped (see :mod:`embeddings.rowstore`): its vectors
file with ``np.load(mmap_mode="r")``, its HNSW graph with FAISS's ``IO_FLAG_MMAP_IFC``
(the graph's own copy of the vectors and its links used in place, not copied), so every
worker of a machine shares one copy in the page cache. Rows added since the save are
held in memory (the tail); a mapped graph cannot grow, so the tail rows past it are
searched exactly beside it, until the next save merges them into a new file (or they
pass ``max(exact_below, 10%)`` of the rows and the graph is rebuilt in memory). A save
writes new files and the saving index then maps them; a reader that mapped the old
ones keeps them (renamed away and unlinked files stay readable) until it reloads.

Filters are applied before ranking: a filter that passes few items (fewer than
``exact_below``, or at most 20% of the index capped at 50,000) is answered exactly from
just those vectors; a broader one goes through HNSW with a FAISS selector, and falls
back to exact search if the graph returns fewer than ``k`` of the allowed items.

Not thread-safe on its own: :class:`embeddings.search.SemanticIndex` serialises access.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from embeddings.errors import CountMismatch, DimensionMismatch, IndexFormatError, UnknownItem
from embeddings.hnsw import (
    Graph,
    graph_vector,
    map_graph,
    owned_copy,
    read_graph,
    search_graph,
    write_graph,
    zero_vectors,
)
from embeddings.ranking import (
    Matrix,
    Ranked,
    RowCache,
    Rows,
    Vector,
    normalise,
    normalise_rows,
    top_k,
)
from embeddings.rebuild import GraphOptions, Rebuild, RowSource
from embeddings.rowstore import RowStore
from embeddings.storage import (
    check_format,
    current_snapshot,
    read_json,
    write_json,
    writing_snapshot,
)

log = logging.getLogger(__name__)

_KIND, _FORMAT = "vector-index", 1
_PARAMS = ("dimension", "exact_below", "hnsw_m", "ef_construction", "ef_search")
_COMPACT_AT = 0.2  # retired share of the rows that triggers a compaction
_DROP_GRAPH_BELOW = 0.8  # of exact_below
_EXACT_FILTER_SHARE, _EXACT_FILTER_CAP = 0.2, 50_000
_GATHER_SHARE = 0.15  # above this share of the rows, scoring all rows is faster than gathering
_TAIL_SHARE = 0.1  # rows past a mapped graph, searched exactly, before the graph is rebuilt
_WAIT_ROWS = 200_000
"""The most rows searched exactly while a graph waits for a backlog (wait_for_graph): a
query then reads every one of them (300 MB of fp32 vectors at 200,000), so past it the
graph is built (and grown) during the backlog after all, as at a million people."""


class VectorIndex:
    """Cosine-similarity search over string-keyed vectors, exact or HNSW by size."""

    def __init__(
        self,
        dimension: int,
        *,
        exact_below: int = 20_000,
        hnsw_m: int = 32,
        ef_construction: int = 100,
        ef_search: int = 256,
    ) -> None:
        self.dimension = dimension
        self.exact_below = exact_below
        self.hnsw_m = hnsw_m
        self.ef_construction = ef_construction
        self.ef_search = ef_search
        self._data = RowStore.empty(dimension)
        self._alive = np.zeros(0, dtype=bool)
        self._size = 0  # rows in use, retired ones included
        self._ids: list[str] = []  # row -> id; a retired row keeps its old id
        self._rows: dict[str, int] = {}  # live id -> row
        self._graph: Graph | None = None
        self._graph_mapped = False  # a mapped graph is read-only: it never grows
        self._selections = RowCache()  # told whenever ids move between rows
        self.defer_rebuilds = False  # the owner runs them (see embeddings.rebuild)
        self.graph_waits = False  # no new graph is built meanwhile (see wait_for_graph)
        self._generation = 0  # rebuilds swapped in: a rebuild begun before another is stale
        self._scrubs = 0  # scrubs: a rebuild begun before one must scrub what it swaps in

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._rows

    @property
    def mapped(self) -> bool:
        """Whether the saved rows are read from a memory-mapped file (shared by processes)."""
        return self._data.is_mapped

    @property
    def tail_rows(self) -> int:
        """Rows held in memory beside the mapped ones (added since the last save or load)."""
        return self._size - self._data.mapped_rows

    def maps_any(self, ids: Iterable[str]) -> bool:
        """Whether the mapped files hold the vector of any of these ids."""
        mapped = self._data.mapped_rows
        if self._graph is not None and self._graph_mapped:
            mapped = max(mapped, int(self._graph.ntotal))
        return any(-1 < self._rows.get(i, -1) < mapped for i in ids)

    @property
    def uses_hnsw(self) -> bool:
        """Whether searches go through the HNSW graph (else they are exact)."""
        return self._graph is not None

    def ids(self) -> list[str]:
        """The live ids, in insertion order."""
        return [self._ids[row] for row in sorted(self._rows.values())]

    def vector(self, item_id: str) -> Vector:
        """A copy of the stored (normalised) vector of this id."""
        row = self._rows.get(item_id)
        if row is None:
            raise UnknownItem(item_id)
        return self._data.row(row)

    def take(self, ids: Sequence[str]) -> npt.NDArray[np.float32]:
        """Copies of the stored vectors of these ids, one row each, in their order."""
        try:
            rows = np.fromiter((self._rows[i] for i in ids), dtype=np.int64, count=len(ids))
        except KeyError as unknown:
            raise UnknownItem(unknown.args[0]) from None
        return self._data.take(rows)

    def upsert(self, ids: Sequence[str], vectors: npt.ArrayLike) -> None:
        """Add or replace vectors; within one batch the last occurrence of an id wins."""
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[1] != self.dimension:
            raise DimensionMismatch(self.dimension, int(matrix.shape[-1]) if matrix.ndim else 0)
        if matrix.shape[0] != len(ids):
            raise CountMismatch(len(ids), matrix.shape[0])
        last = {item_id: i for i, item_id in enumerate(ids)}
        order = sorted(last.values())
        batch, matrix = [ids[i] for i in order], normalise_rows(matrix[order])
        moved_from = [self._rows.get(item_id) for item_id in batch]
        for old in moved_from:
            if old is not None:
                self._alive[old] = False
        start = self._size
        self._reserve(start + len(batch))
        self._data.append(matrix)
        self._alive[start : start + len(batch)] = True
        self._ids.extend(batch)
        self._rows.update((item_id, start + i) for i, item_id in enumerate(batch))
        self._size += len(batch)
        if self._graph is not None and not self._graph_mapped:
            self._graph.add(matrix)
        self._selections.moved(batch, moved_from, range(start, start + len(batch)))
        self._maintain()

    def remove(self, ids: Iterable[str]) -> int:
        """Remove these ids (unknown ones are ignored); returns how many were removed."""
        removed: dict[str, int] = {}
        for item_id in ids:
            row = self._rows.pop(item_id, None)
            if row is not None:
                self._alive[row] = False
                removed[item_id] = row
        if removed:
            self._selections.moved(list(removed), list(removed.values()), [None] * len(removed))
            self._maintain()
        return len(removed)

    def scrub(self) -> None:
        """Keep no retired vector in memory, so that a save writes none (after an erasure).

        Without a graph the retired rows are compacted away. A graph cannot delete, and
        rebuilding it is slow, so there they are overwritten with zeros, in the rows and
        in the graph's copy, and stay (masked out of every search) until a compaction.
        Mapped rows and a mapped graph are read-only: they are first copied into memory
        (until the next save maps the files it writes, which hold zeros there).
        """
        self._scrubs += 1
        retired = np.flatnonzero(~self._alive[: self._size])
        if retired.size == 0:
            return
        if self._graph is None:
            self._rebuild(graph=False)
            return
        self._unmap()
        self._data.zero(retired)
        zero_vectors(self._graph, retired)

    def _unmap(self) -> None:
        """Hold every row and the graph in memory (writable), no longer in mapped files."""
        if self._data.mapped_rows:
            self._data = self._data.unmapped()
        if self._graph is not None and self._graph_mapped:
            self._graph = owned_copy(self._graph)
            self._graph_mapped = False
            tail = self._size - self._graph.ntotal
            if tail:
                self._graph.add(self._data.rows(self._graph.ntotal, self._size))

    def search(
        self,
        query: npt.ArrayLike,
        k: int,
        *,
        allowed: Collection[str] | None = None,
        exclude: Collection[str] = (),
        ef_search: int | None = None,
    ) -> Ranked:
        """The best k (id, cosine) among ``allowed`` (all if None) minus ``exclude``;
        ``ef_search`` (None: the index's own) says how widely the graph walk looks."""
        q = self._query(query)
        if k <= 0 or not self._rows:
            return []
        if allowed is not None:
            exact = self._graph is None or len(allowed) <= self._exact_filter_limit()
            held = (  # (a set too large to be searched exactly is not gathered)
                self._selections.held(self._rows, allowed, self._data.take, 4 * self.dimension)
                if exact
                else None
            )
            if held is not None and (
                self._graph is None or held[0].size <= self._exact_filter_limit()
            ):
                return self._exact_held(q, k, *held, exclude)
            rows = self._selections.lookup(self._rows, allowed)
            excluded = self._selections.lookup(self._rows, exclude) if exclude else None
            limit = self._exact_filter_limit()
            if excluded is not None and (
                self._graph is None or rows.size - excluded.size <= limit
            ):  # maybe an exact search: it takes the rows themselves
                rows, excluded = np.setdiff1d(rows, excluded, assume_unique=True), None
            if self._graph is None or rows.size <= limit:
                return self._exact(q, k, rows)
            # A walk: the exclusions are cleared in its mask rather than taken from the rows
            # (a set difference over tens of thousands of rows took 0.3 to 0.8 ms).
            mask = np.zeros(self._size, dtype=bool)
            mask[rows] = True
            if excluded is not None:
                mask[excluded] = False
            return self._ann(q, k, mask, ef_search)
        excluded = self._selections.lookup(self._rows, exclude)
        if self._graph is None:
            scores = self._data.scores(q)
            scores[~self._alive[: self._size]] = -np.inf
            scores[excluded] = -np.inf
            return top_k(scores, self._ids, k)
        if excluded.size == 0 and len(self._rows) == self._size:
            return self._ann(q, k, None, ef_search)
        mask = self._alive[: self._size].copy()
        mask[excluded] = False
        return self._ann(q, k, mask, ef_search)

    def scores(self, query: npt.ArrayLike, ids: Iterable[str]) -> dict[str, float]:
        """The exact cosine of the query with each of these ids (unknown ids are left out)."""
        q = self._query(query)
        known = [item_id for item_id in ids if item_id in self._rows]
        rows = np.fromiter((self._rows[i] for i in known), dtype=np.int64, count=len(known))
        return dict(zip(known, (self._data.take(rows) @ q).tolist(), strict=True))

    def save(self, folder: str | Path) -> None:
        """Save as a crash-safe snapshot in ``folder`` (see :mod:`embeddings.storage`)."""
        with writing_snapshot(Path(folder)) as staging:
            self.write_files(staging)
            self.remap(staging)

    @classmethod
    def load(cls, folder: str | Path) -> VectorIndex:
        """Load the current snapshot saved in ``folder``."""
        return cls.read_files(current_snapshot(Path(folder)))

    def write_files(self, folder: Path) -> None:
        """Write the index into an existing, empty folder.

        A retired row's vector is written as zeros (no search reads it). A mapped graph
        with rows past it is merged with them in a copy made for the write.
        """
        alive = self._alive[: self._size]
        ids = [self._ids[row] if live else None for row, live in enumerate(alive.tolist())]
        write_json(folder / "index.json", {"kind": _KIND, "format": _FORMAT, **self._params()})
        write_json(folder / "ids.json", ids)
        retired = np.flatnonzero(~alive)
        self._data.write(folder / "vectors.npy", blank=retired)
        graph = self._graph
        if graph is None:
            return
        if self._graph_mapped and (graph.ntotal < self._size or retired.size):
            graph = owned_copy(graph)  # dropped once written: the saved file is mapped
            if graph.ntotal < self._size:
                graph.add(self._data.rows(graph.ntotal, self._size))
            zero_vectors(graph, retired[retired < graph.ntotal])
        write_graph(graph, folder / "hnsw.faiss")

    @classmethod
    def read_files(cls, folder: Path, *, mapped: bool = True) -> VectorIndex:
        """Read an index written by :meth:`write_files`, its files memory-mapped unless
        ``mapped`` is false (then read into memory)."""
        meta = check_format(folder, read_json(folder / "index.json"), _KIND, _FORMAT)
        index = cls(**{key: int(meta[key]) for key in _PARAMS})
        ids = read_json(folder / "ids.json")
        data = RowStore.mapped(folder / "vectors.npy", index.dimension)
        if not isinstance(ids, list) or len(ids) != data.size:
            raise IndexFormatError(folder, "ids.json and vectors.npy disagree on the row count")
        index._data, index._size = data if mapped else data.unmapped(), data.size
        index._alive = np.fromiter((i is not None for i in ids), dtype=bool, count=len(ids))
        index._ids = [i if i is not None else "" for i in ids]
        index._rows = {i: row for row, i in enumerate(ids) if i is not None}
        index._reserve(index._size + 1)  # room now, not in the first write (under its lock)
        index._read_graph(folder, mapped=mapped)
        return index

    def remap(self, folder: Path) -> None:
        """Map the files just written by :meth:`write_files` into ``folder`` in place of
        the rows and graph held now (the same rows: the tail is merged into the file)."""
        data = RowStore.mapped(folder / "vectors.npy", self.dimension)
        if data.size != self._size:
            raise IndexFormatError(folder, "vectors.npy is not the index just written")
        self._data = data
        self._reserve(self._size + 1)
        self._read_graph(folder, mapped=True)
        self._selections.clear()

    def adopt(self, saved: VectorIndex, same: Collection[str]) -> None:
        """Read the rows of ``saved`` (an index another process saved, mapped) in place of
        these ones where they hold the same vector: the ids in ``same`` (same text) that
        this index holds. The others of this index are added after them, in memory.

        A worker that computed nothing itself (it read what another one encoded) so comes
        to share that one's files instead of holding its own copy of every vector.
        """
        keep = {i: row for i, row in saved._rows.items() if i in same and i in self._rows}
        saved._alive[: saved._size] = False
        saved._alive[list(keep.values())] = True
        saved._rows = keep
        rest = [i for i in self.ids() if i not in keep]
        saved.defer_rebuilds = True  # the owner's rebuilds, as it runs them, come after
        if rest:
            rows = np.fromiter((self._rows[i] for i in rest), dtype=np.int64, count=len(rest))
            saved.upsert(rest, self._data.take(rows))
        self._data, self._alive, self._size = saved._data, saved._alive, saved._size
        self._ids, self._rows = saved._ids, saved._rows
        self._graph, self._graph_mapped = saved._graph, saved._graph_mapped
        self._selections.clear()
        self._generation += 1  # a rebuild begun before read rows that moved
        if not self.defer_rebuilds:
            self._maintain()

    def _read_graph(self, folder: Path, *, mapped: bool) -> None:
        path = folder / "hnsw.faiss"
        self._graph, self._graph_mapped = None, False
        if not path.is_file():
            return
        graph, is_mapped = map_graph(path) if mapped else (read_graph(path), False)
        if graph.ntotal != self._size or graph.d != self.dimension:
            raise IndexFormatError(folder, "hnsw.faiss does not match vectors.npy")
        self._graph, self._graph_mapped = graph, is_mapped
        if is_mapped and self._data.is_mapped and self._data.mapped_rows == self._size:
            self._data = self._graph_rows(path, graph)

    def _graph_rows(self, path: Path, graph: Graph) -> RowStore:
        """The rows read from the graph's own copy of the vectors at the end of its file,
        in place of vectors.npy (the same vectors, a retired row's aside: every worker
        then maps 165 MB fewer at 100,000 people); vectors.npy where they are not there."""
        if not self._size:
            return self._data
        try:
            shared = RowStore.mapped_end(path, self._size, self.dimension)
        except IndexFormatError:
            return self._data
        probes = sorted({0, self._size // 2, self._size - 1})
        if all(np.array_equal(shared.row(row), graph_vector(graph, row)) for row in probes):
            return shared
        log.warning("%s does not end with its vectors: vectors.npy is read beside it", path)
        return self._data

    def _params(self) -> dict[str, int]:
        return {name: int(getattr(self, name)) for name in _PARAMS}

    def _query(self, query: npt.ArrayLike) -> Vector:
        flat = np.asarray(query, dtype=np.float32).reshape(-1)
        if flat.size != self.dimension:
            raise DimensionMismatch(self.dimension, flat.size)
        return normalise(flat)

    def _exact_filter_limit(self) -> int:
        share = min(int(_EXACT_FILTER_SHARE * len(self._rows)), _EXACT_FILTER_CAP)
        return max(self.exact_below, share)

    def _exact(self, q: Vector, k: int, rows: Rows) -> Ranked:
        if rows.size > _GATHER_SHARE * self._size:
            scores = self._data.scores(q)[rows]  # one pass beats a large gather
        else:
            scores = self._data.take(rows) @ q
        return top_k(scores, self._ids, k, rows=rows)

    def _exact_held(
        self, q: Vector, k: int, rows: Rows, matrix: Matrix, exclude: Collection[str]
    ) -> Ranked:
        """Exact search over a set's vectors held in one array (``RowCache.held``)."""
        scores = matrix @ q
        if exclude:
            out = self._selections.lookup(self._rows, exclude)
            at = np.minimum(np.searchsorted(rows, out), max(rows.size - 1, 0))
            if rows.size:
                scores[at[rows[at] == out]] = -np.inf
        return top_k(scores, self._ids, k, rows=rows)

    def _ann(
        self, q: Vector, k: int, mask: npt.NDArray[np.bool_] | None, ef_search: int | None = None
    ) -> Ranked:
        """Through the graph; ``mask`` (None: every row is live) says which rows may come.

        Rows past a mapped graph (added since the save) are searched exactly beside it.
        """
        graph = self._graph
        if graph is None:
            raise RuntimeError("an HNSW search without a graph")
        covered = int(graph.ntotal)
        part = None if mask is None else mask[:covered]
        candidates = covered if part is None else int(np.count_nonzero(part))
        wanted = min(k, candidates)
        found = (
            search_graph(graph, q, wanted, ef_search=ef_search or self.ef_search, allowed=part)
            if wanted
            else []
        )
        hits = [(self._ids[label], score) for label, score in found]
        if len(hits) < wanted:
            log.debug("HNSW returned %d of %d; falling back to exact search", len(hits), wanted)
            rows = np.flatnonzero(self._alive[: self._size] if mask is None else mask)
            return self._exact(q, k, rows)
        if covered < self._size:
            rest = self._alive[covered : self._size] if mask is None else mask[covered:]
            hits += self._exact(q, k, covered + np.flatnonzero(rest))
        hits.sort(key=lambda hit: (-hit[1], hit[0]))
        return hits[:k]

    def _reserve(self, rows: int) -> None:
        self._data.reserve(rows)
        if rows <= self._alive.size:
            return
        capacity = max(rows, 2 * self._alive.size, 1024)
        alive = np.zeros(capacity, dtype=bool)
        alive[: self._size] = self._alive[: self._size]
        self._alive = alive

    def _maintain(self) -> None:
        """Build, drop or rebuild the graph and compact the rows as the size requires."""
        graph = None if self.defer_rebuilds else self.rebuild_due()
        if graph is not None:
            self._rebuild(graph=graph)

    def wait_for_graph(self, waits: bool, *, build: bool = True) -> None:
        """Whether a new HNSW graph waits (searches stay exact): while a backlog of vectors
        comes in, one graph built once they are all in costs less than one built at the
        threshold and grown row by row, and the workers that read the vectors another
        one encodes map the graph it saves instead of each building their own. Once
        released, the graph is built now (or by the owner's background rebuild), unless
        ``build`` is False (a process closing: at the next change)."""
        self.graph_waits = waits
        if not waits and build and not self.defer_rebuilds:
            self._maintain()

    def rebuild_due(self) -> bool | None:
        """Whether a rebuild is due and, if so, whether the result has a graph (else None)."""
        live = len(self._rows)
        if self._graph is None and live >= self.exact_below:
            return None if self._graph_waits(live) else True
        if self._graph is not None and live < _DROP_GRAPH_BELOW * self.exact_below:
            return False
        if self._size - live > _COMPACT_AT * self._size:
            return self._graph is not None
        if self._graph is not None and self._graph_mapped:
            past = self._size - int(self._graph.ntotal)
            if past > max(self.exact_below, _TAIL_SHARE * self._size):
                # Too many rows searched exactly beside the mapped graph; while a backlog
                # comes in (a restart in its middle, a large import), the one graph is
                # built once it is all in, as when none exists.
                return None if self._graph_waits(past) else True
        return None

    def _graph_waits(self, exact_rows: int) -> bool:
        """Whether a due graph waits, ``exact_rows`` being searched exactly meanwhile."""
        return self.graph_waits and exact_rows <= _WAIT_ROWS

    def begin_rebuild(self, *, graph: bool) -> Rebuild:
        """A rebuild of the rows live now, with or without a graph, to build off the lock."""
        options = GraphOptions(self.hnsw_m, self.ef_construction, self.ef_search)
        return Rebuild(
            RowSource(self._data.view(), self._ids, self._size),
            np.flatnonzero(self._alive[: self._size]),
            generation=self._generation,
            scrubs=self._scrubs,
            graph=options if graph else None,
        )

    def row_source(self, rebuild: Rebuild) -> RowSource | None:
        """The storage to take new rows from, or None if the rebuild is stale."""
        if rebuild.generation != self._generation:
            return None
        return RowSource(self._data.view(), self._ids, self._size)

    def finish_rebuild(self, rebuild: Rebuild) -> bool:
        """Swap a built rebuild in, with every change made since it began; False if stale.

        The rows appended since its last take are added to it, and its rows retired since
        the copy are retired in it too. Costs about a millisecond per hundred rows added.
        """
        source = self.row_source(rebuild)
        if source is None:
            return False
        rebuild.take(source)
        n = rebuild.used
        alive = np.zeros(rebuild.data.shape[0], dtype=bool)
        alive[:n] = self._alive[rebuild.old_rows()]
        rows = rebuild.rows
        retired = np.flatnonzero(~alive[:n])
        for row in retired.tolist():  # rows retired since the copy, and retired new rows
            if rows.get(rebuild.ids[row]) == row:
                del rows[rebuild.ids[row]]
        if len(rows) != len(self._rows):
            raise RuntimeError(f"a rebuild holds {len(rows)} items, the index {len(self._rows)}")
        if rebuild.scrubs != self._scrubs and retired.size:  # keep no copy of an erased row
            rebuild.data[retired] = 0.0
            if rebuild.graph is not None:
                zero_vectors(rebuild.graph, retired)
        self._data, self._alive, self._size = RowStore.in_memory(rebuild.data, n), alive, n
        self._ids, self._rows, self._graph = rebuild.ids, rows, rebuild.graph
        self._graph_mapped = False
        self._selections.clear()
        self._generation += 1
        return True

    def _rebuild(self, *, graph: bool) -> None:
        started = time.perf_counter()
        rebuild = self.begin_rebuild(graph=graph)
        rebuild.build()
        self.finish_rebuild(rebuild)
        log.info(
            "vector index rebuilt: %d items, %s, %.2f s",
            self._size,
            "HNSW" if graph else "exact",
            time.perf_counter() - started,
        )
