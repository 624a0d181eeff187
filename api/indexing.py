"""Serving while the text vectors are computed: one encoder per machine, in the background.

A new store (or one with many new texts) used to be encoded in full before ``serve``
answered anything: 24 minutes at 100,000 people. Now the service starts with every text
searchable by its words (:meth:`embeddings.search.SemanticIndex.add_words_only`), the
graph and the listings whole, and :class:`BackgroundIndexer` computes the vectors behind
it, adding them to the index batch by batch.

Only one process encodes: the one holding an exclusive lock on a file of the index
folder (the first worker to ask). It stores every vector it computes in the store
(:func:`api.vectors.share`), where the other workers read them instead of encoding them
again; once every vector is in, it saves the index so the next start loads it.
``/ready`` tells the progress, and searches say their results come from a partial index.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from api.analytics import analytics
from api.search import index_texts
from api.services import Services
from api.vectors import known_vectors
from embeddings.encoder import Encoder
from embeddings.onnx import with_every_core
from embeddings.search import SemanticIndex
from embeddings.threads import usable_cores

log = logging.getLogger(__name__)

BATCH = 512
"""Texts encoded at a time (the encoder sorts them by length into small batches): large
enough for speed, small enough that searches see progress every few seconds."""
ADOPT_SECONDS = 600.0
"""How long a worker that did not encode waits, once every vector is in, for the encoding
one's saved index, to map its vectors instead of holding its own copy."""
IDLE_SECONDS = 1.0
"""How often a worker that does not encode looks for the vectors the encoder stored."""
LOCK_FILE = ".encoding"


class BackgroundIndexer:
    """Adds the vectors of the items waiting for them to ``services``' index, in a thread."""

    def __init__(
        self,
        services: Services,
        *,
        on_complete: Callable[[], None] | None = None,
        may_encode: bool = True,
    ) -> None:
        self.services = services
        self.on_complete = on_complete
        self.may_encode = may_encode
        """Whether this process may become the one that encodes (the councils process,
        at a lower priority, only reads the vectors the encoding one stores)."""
        """Called once every vector is in (the app has the warmer warm again)."""
        self.encoder = False
        """Whether this process is the one that encodes."""
        self._bulk: Encoder | None = None
        """The encoder of the backlog: the index's model on every core."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock_file: IO[bytes] | None = None
        self._unlocking = threading.Lock()
        self._told = 0
        self._encoded = 0
        """Texts this process encoded (not read from the store)."""

    @property
    def progress(self) -> dict[str, int] | None:
        """{"done", "total"} while vectors are being computed, None once they are all in."""
        return self.services.search.index.progress

    def start(self) -> None:
        if self._thread is None and self.services.search.index.pending:
            _tell_progress()
            self._thread = threading.Thread(target=self._run, name="cocreate-index", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._unlock()

    def wait(self, timeout: float = 600.0) -> bool:
        """Wait until every vector is in; whether it is."""
        deadline = time.monotonic() + timeout
        while self.services.search.index.pending and time.monotonic() < deadline:
            time.sleep(0.05)
        return not self.services.search.index.pending

    def _run(self) -> None:
        started = time.monotonic()
        index = self.services.search.index
        # One graph, built by the encoding process once every vector is in and mapped by
        # the others from its save, rather than one per process grown row by row.
        index.wait_for_graph(True)
        try:
            found = False  # whether the last step added vectors (none before the first)
            while not self._stop.is_set() and index.pending:
                # Nothing (yet) stored to read: encode, unless another process does. (A
                # process reading stored vectors a batch behind the encoding one so never
                # takes its place once it is done, to build and save the same index again.)
                if not found and not self.encoder and self.may_encode:
                    self.encoder = self._try_lock()
                found = self._step()
                if not found:
                    self._stop.wait(IDLE_SECONDS)
            if not self._stop.is_set():
                log.info("indexing: every vector is in, %.1f s after start",
                         time.monotonic() - started)  # fmt: skip
                # A process that took the lock only once another had encoded every text
                # (it read them all from the store) maps what that one saved, unless it
                # maps it already (the warmer adopts a newer snapshot too).
                builds = self.encoder and not _whole(index)
                if builds and (self._encoded or not self._adopted()):
                    self._bulk = None  # its session's memory goes with it
                    if not index.build_graph(usable_cores(8), cancelled=self._stop.is_set):
                        return  # stopped meanwhile: nothing saved
                    log.info("indexing: the graph is built, %.1f s after start",
                             time.monotonic() - started)  # fmt: skip
                    if self._stop.is_set():
                        return
                    self._save()
                self._complete()
                if not self.encoder:
                    self._adopt()
        except Exception:
            log.exception("indexing in the background failed; searches stay partial")
        finally:
            self._bulk = None  # its session's memory goes with it
            # A follower whose adoption failed builds its own; a process stopping does not.
            index.wait_for_graph(False, build=not self._stop.is_set())
            self._unlock()

    def _step(self) -> bool:
        """One batch: the vectors another process stored, and, in the encoding process,
        the rest encoded (and stored). Whether any vector was added."""
        services = self.services
        index = services.search.index
        items = index.pending_items(BATCH)
        if not items:
            return False
        if self.encoder:
            if self._bulk is None:
                self._bulk = with_every_core(index.encoder)
            # encodes, stores, shares
            encoded = index_texts(services.store, index, items, encoder=self._bulk)
            self._encoded += len(encoded.fresh)
        else:
            known = known_vectors(services.store, index.encoder, items)
            if not known:
                return False
            encoded = index.prepare([(i, t) for i, t in items if i in known], known=known)
        with services.feed.lock.write():  # requests read the vectors under the shared side
            added = index.apply_pending(encoded)
        done = self.progress
        if done is not None and self.encoder:
            tenth = 10 * done["done"] // done["total"]
            if tenth > self._told:  # every tenth of the way
                self._told = tenth
                log.info("indexing: %d of %d texts have their vectors (searches are partial "
                         "meanwhile)", done["done"], done["total"])  # fmt: skip
        return added > 0 or bool(encoded.ids)

    def _complete(self) -> None:
        """Every vector is in: the figures computed from text vectors meanwhile miss some
        (the version did not change, so they would be answered until the next write)."""
        dropped = analytics(self.services).forget_text_figures()
        log.info("indexing: %d figures computed from a partial index dropped", dropped)
        if self.on_complete is not None:
            self.on_complete()

    def _adopted(self) -> bool:
        """Whether the index another process saved since this one loaded is now mapped."""
        index = self.services.search.index
        with self.services.feed.lock.write():  # requests read the vectors
            if not index.adopt_saved():
                return False
        log.info("indexing: the saved vectors are mapped (%d held in memory)",
                 index.vectors.tail_rows)  # fmt: skip
        return True

    def _adopt(self) -> None:
        """Map the vectors (and the graph) the encoding process saves, in place of this
        one's copies: while it still builds the graph and saves (it holds the lock), or
        for :data:`ADOPT_SECONDS` after."""
        deadline = time.monotonic() + ADOPT_SECONDS
        while not self._stop.is_set():
            busy = self._encoding_elsewhere()  # (before: a save just made is still seen)
            if self._adopted() or (not busy and time.monotonic() >= deadline):
                return
            self._stop.wait(IDLE_SECONDS)

    def _encoding_elsewhere(self) -> bool:
        """Whether another process holds the lock of the one that encodes."""
        try:
            with open(Path(self.services.settings.index_dir) / LOCK_FILE, "ab") as handle:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
                except OSError:
                    return True
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
                return False
        except OSError:
            return False

    def _save(self) -> None:
        index = self.services.search.index
        # The write side: a save sets aside the items still waiting for vectors and, after
        # an erasure, compacts the arrays that requests read under the shared side.
        with self.services.feed.lock.write():
            index.save(watermark=index.watermark)

    def _try_lock(self) -> bool:
        """Whether this process is now the one that encodes (the lock is released when
        the process ends, however it ends)."""
        folder = Path(self.services.settings.index_dir)
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / LOCK_FILE, "ab")  # noqa: SIM115 (held for the process's life)
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._lock_file = handle
        log.info("indexing: process %d encodes the missing vectors", os.getpid())
        return True

    def _unlock(self) -> None:
        with self._unlocking:  # (stop() and the thread's end may both come here)
            handle, self._lock_file = self._lock_file, None
        if handle is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()


def _whole(index: SemanticIndex) -> bool:
    """Whether the index maps a saved snapshot holding every vector and its graph."""
    vectors = index.vectors
    return vectors.uses_hnsw and vectors.mapped and vectors.tail_rows == 0 and not index.pending


def _tell_progress() -> None:
    """Let the progress reach the process's standard error when nothing configured the
    logging (a served worker): the operator sees how far the indexing is."""
    if logging.getLogger().handlers or log.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
