"""Rebuilding the vector index off its lock: copy under it, build without it, swap in briefly.

A rebuild of :class:`embeddings.vectors.VectorIndex` (building the HNSW graph once the
index is large, dropping it once small, compacting retired rows) changes no answer: the
same ids keep the same vectors, only their row numbers change. So it can be prepared
while searches and writes go on, against the index as it was when it began:

1. Under the owner's lock, :meth:`VectorIndex.begin_rebuild` notes the live rows and how
   many rows there are (the *mark*). Rows below the mark never change again (an update
   or removal only retires a row; rows are only ever appended), so they can be read
   without the lock.
2. With no lock held, :meth:`Rebuild.build` copies those rows and builds the new graph;
   :meth:`Rebuild.take` adds, also without the lock, the rows appended since.
3. Under the lock again, :meth:`VectorIndex.finish_rebuild` takes the few rows appended
   since the last take, marks the rows retired since the copy as retired in the new
   structure too, and swaps it in. Searches meanwhile use the old structure, whose
   retired rows are masked as always.

:class:`BackgroundRebuilds` runs these steps in a thread for the owner
(:class:`embeddings.search.SemanticIndex`), one rebuild at a time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from embeddings.hnsw import Graph, new_graph
from embeddings.ranking import Matrix, Rows
from embeddings.threads import openmp_threads

if TYPE_CHECKING:
    from embeddings.rowstore import RowStore
    from embeddings.vectors import VectorIndex

log = logging.getLogger(__name__)

BUILD_CHUNK = 8_192
"""Rows added to a new graph at a time, so that closing does not wait for a whole build."""
SWAP_ROWS = 64
"""The background thread takes the rows written during a build off the lock until at most
this many remain to take during the swap (a graph adds a few thousand rows a second; a
few hundred on a busy machine)."""
CATCH_UP_ROUNDS = 100


class RowSource(NamedTuple):
    """The index's storage as it is now: rows below ``stop`` are written and stay as they are."""

    data: RowStore
    ids: list[str]
    stop: int


@dataclass(frozen=True, slots=True)
class GraphOptions:
    m: int
    ef_construction: int
    ef_search: int


class Rebuild:
    """A new copy of the index's rows (and graph), built from a :class:`RowSource`.

    The new structure holds the rows that were live at the mark, in order, then every row
    appended since (live or not), in order. Its ``rows`` maps each id to its latest row.
    """

    def __init__(
        self,
        source: RowSource,
        keep: Rows,
        *,
        generation: int,
        scrubs: int,
        graph: GraphOptions | None,
    ) -> None:
        self.keep = keep
        self.mark = self.covered = source.stop
        self.generation = generation
        self.scrubs = scrubs
        self.options = graph
        self.data: Matrix = np.zeros((0, source.data.dimension), dtype=np.float32)
        self.used = 0
        self.ids: list[str] = []
        self.rows: dict[str, int] = {}
        self.graph: Graph | None = None
        self._source: RowSource | None = source

    def build(self, *, cancelled: Callable[[], bool] = lambda: False) -> bool:
        """Copy the rows live at the mark and build the graph; False if cancelled."""
        source, self._source = self._source, None
        if source is None:
            raise RuntimeError("a rebuild is built once")
        n = self.keep.size
        self.data = np.zeros((max(1_024, n + n // 8), source.data.dimension), dtype=np.float32)
        source.data.take(self.keep, out=self.data[:n])
        self.used = n
        self.ids = [source.ids[row] for row in self.keep.tolist()]
        self.rows = {item_id: row for row, item_id in enumerate(self.ids)}
        if self.options is not None:
            self.graph = new_graph(
                source.data.dimension,
                m=self.options.m,
                ef_construction=self.options.ef_construction,
                ef_search=self.options.ef_search,
            )
            for start in range(0, n, BUILD_CHUNK):
                if cancelled():
                    return False
                self.graph.add(self.data[start : min(n, start + BUILD_CHUNK)])
        return True

    def take(self, source: RowSource) -> None:
        """Add the rows appended to the index since the last take (or the mark)."""
        start, stop = self.covered, source.stop
        if stop <= start:
            return
        added = source.data.rows(start, stop)
        end = self.used + added.shape[0]
        if end > self.data.shape[0]:
            grown = np.zeros((max(end, 2 * self.used), self.data.shape[1]), dtype=np.float32)
            grown[: self.used] = self.data[: self.used]
            self.data = grown
        self.data[self.used : end] = added
        new_ids = source.ids[start:stop]
        self.rows.update((item_id, self.used + i) for i, item_id in enumerate(new_ids))
        self.ids.extend(new_ids)
        if self.graph is not None:
            self.graph.add(self.data[self.used : end])
        self.used = end
        self.covered = stop

    def old_rows(self) -> Rows:
        """For each row of the new structure, its row in the index it was built from."""
        return np.concatenate([self.keep, np.arange(self.mark, self.covered, dtype=np.int64)])


class BackgroundRebuilds:
    """Runs a vector index's rebuilds in a background thread, one at a time.

    ``lock`` is the owner's lock, under which every read and write of the index happens;
    the thread takes it only to look at the index and to swap the new structure in.
    ``swap_under`` gives the lock of whoever reads the vector index without the owner's
    lock (a service's requests read it under the change feed's shared lock): the swap
    holds it too, taken before the owner's lock, the order the feed's writes take them in.
    """

    def __init__(self, lock: AbstractContextManager[Any]) -> None:
        self._lock = lock
        self.swap_under: Callable[[], AbstractContextManager[Any]] = nullcontext
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()
        self.threads: int | None = None
        """OpenMP threads a graph is built with (None: the thread's default, one in a service)."""

    @property
    def busy(self) -> bool:
        """Whether a rebuild is in flight."""
        return self._thread is not None

    def start_if_due(self, index: VectorIndex) -> None:
        """Start a rebuild if the index needs one and none is in flight (under the lock)."""
        if self._thread is not None or self._closed.is_set() or not index.defer_rebuilds:
            return
        graph = index.rebuild_due()
        if graph is None:
            return
        plan = index.begin_rebuild(graph=graph)
        self._thread = threading.Thread(
            target=self._run, args=(index, plan), name="cocreate-index-rebuild", daemon=True
        )
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until no rebuild is in flight (one may start another); whether none is.

        Never call it holding the lock: the rebuild needs it to finish.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while (thread := self._thread) is not None:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                return False
        return True

    def close(self, timeout: float = 30.0) -> None:
        """Cancel the rebuild in flight (at its next chunk) and wait for the thread."""
        self._closed.set()
        if not self.wait(timeout):
            log.warning("the index rebuild did not stop within %.0f s", timeout)

    def _run(self, index: VectorIndex, plan: Rebuild) -> None:
        me = threading.current_thread()
        again = False  # whether to look for the next rebuild once this one is over
        try:
            with openmp_threads(self.threads) if self.threads else nullcontext():
                if not plan.build(cancelled=self._closed.is_set):
                    return
            for _ in range(CATCH_UP_ROUNDS):
                with self._lock:
                    source = index.row_source(plan)
                if source is None or source.stop - plan.covered <= SWAP_ROWS:
                    break
                plan.take(source)
            with self.swap_under(), self._lock:
                if not self._closed.is_set():
                    index.finish_rebuild(plan)  # False if the index was rebuilt meanwhile
                    again = True
        except Exception:
            log.exception("rebuilding the vector index failed; the old one stays in use")
        finally:
            with self._lock:
                if self._thread is me:
                    self._thread = None
                if again:
                    self.start_if_due(index)
