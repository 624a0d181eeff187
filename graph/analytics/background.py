"""Figures of the current version computed in a background thread.

The background computation reads one consistent version without holding the feed's read
lock for the whole computation: under the lock it takes the snapshot and places of the
version (built there when no request has built them), and a copy of the adjacency of the
nodes the figure walks (:func:`~graph.analytics.pinned.freeze`); it computes from those
off the lock, reading text vectors under the lock for a moment at a time, and drops the
work if the version moved meanwhile (it tries again at the new version, a few times).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from graph.analytics.apart import ChildFailed, possible, run_apart
from graph.analytics.pinned import PinnedSimilarity, VersionMoved, freeze
from graph.analytics.snapshot import build_places, build_snapshot
from graph.analytics.versions import NO_PLACES, Entry, Job, VersionedFigures
from graph.rwlock import ReadWriteLock
from graph.similarity import TextSimilarity

log = logging.getLogger(__name__)
RETRIES = 3
"""Background attempts at a figure while the version keeps moving under it."""
PENDING_WAIT = 60.0
"""How long a request waits for its figure from the background before computing it itself."""
IDLE_SECONDS = 30.0
"""How long the worker thread waits for more work before it ends."""
SETTLE_SECONDS = 600.0
"""How long :meth:`BackgroundFigures.compute_apart` waits for the background thread."""
APART_SECONDS = 3 * 3600.0
"""How long a child process computing figures (:meth:`BackgroundFigures.compute_apart`)
may take before it is stopped and the figures are computed in the process itself (one
that uses no processor time for two minutes is stopped at once: stuck on a lock, see
:func:`graph.analytics.apart.run_apart`)."""


@dataclass(frozen=True, slots=True)
class Computed:
    """What a child process computed: the entries it kept, in order, and its counts."""

    kept: list[tuple[tuple[Any, ...], Entry]]
    runs: int
    carried: int
    failed: list[str]
    state: dict[str, Any]


class BackgroundFigures(VersionedFigures):
    """:class:`VersionedFigures` whose figures of an older version, where they may be
    answered, are brought up to date by one worker thread, one figure at a time, each
    asked for once however many requests want it."""

    def __init__(self, *args: Any, **options: Any) -> None:
        super().__init__(*args, **options)
        self._pending: OrderedDict[tuple[Any, ...], Job] = OrderedDict()
        self._busy = False
        self._work = threading.Condition()
        self._worker: threading.Thread | None = None
        self.background_runs = 0
        self.locked_reads = 0
        """Background reads that met a write and were read again under the lock."""
        self.apart_runs = 0
        """Rounds of figures computed by a child process (:meth:`compute_apart`)."""

    def _schedule(self, key: tuple[Any, ...], job: Job) -> None:
        with self._work:
            if key in self._pending:
                return
            self._pending[key] = job
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._run, name="cocreate-analytics", daemon=True
                )
                self._worker.start()
            self._work.notify_all()

    def _wait_pending(self, key: tuple[Any, ...]) -> bool:
        """A request that finds its figure being computed in the background (warmed at
        start or after a write) waits for it rather than computing it a second time."""
        lock = self.lock
        deadline = time.monotonic() + PENDING_WAIT
        with self._work:
            if key not in self._pending:
                return False
            # The request holds the read lock; the background may need to take it again,
            # which a waiting writer prevents: then the request computes it itself.
            while key in self._pending and time.monotonic() < deadline:
                if lock is not None and lock.writer_waiting:
                    break
                self._work.wait(0.05)
            return True

    def settle(self, timeout: float = 60.0) -> bool:
        """Wait until no figure is being computed in the background; whether none is."""
        with self._work:
            return self._work.wait_for(lambda: not self._pending and not self._busy, timeout)

    def compute_apart(
        self, jobs: Sequence[tuple[tuple[Any, ...], Job]], *, timeout: float = APART_SECONDS
    ) -> bool:
        """Compute these figures at the current version in a child process and keep what
        it computed, as the background thread would have (see :mod:`graph.analytics.apart`:
        what the computation allocates goes with the child). Where no child can be made,
        or it fails, is stuck or takes more than ``timeout`` seconds, they are computed by
        the background thread instead, waited for. Whether a child computed them.

        The child is forked under the feed's read lock (no write is half-applied in its
        copy), after the background thread has finished what it was doing.
        """
        if not jobs:
            return True
        self.settle(SETTLE_SECONDS)
        if possible() and self.lock is not None:
            with self._cache_lock:
                texts_round = self._texts_round
            try:
                computed = run_apart(lambda: self._compute_in_child(jobs), timeout=timeout,
                                     holding=self.lock.read)  # fmt: skip
            except ChildFailed as exc:
                log.warning("analytics: a child process computing %d figures failed (%s); "
                            "computing them here", len(jobs), exc)  # fmt: skip
                if self.shared is not None:
                    self.shared.sweep()  # a figure it was writing when it was stopped
            else:
                self._take_computed(computed, texts_round)
                return True
        for key, job in jobs:
            self._schedule(key, job)
        self.settle(SETTLE_SECONDS)
        return False

    def _compute_in_child(self, jobs: Sequence[tuple[tuple[Any, ...], Job]]) -> Computed:
        """(In the child) every job computed in turn, each entry kept noted."""
        # The locks this object takes, new: another thread may have held one at the fork
        # (the feed's lock too: the fork held it as a reader, a writer may have waited).
        self.lock = ReadWriteLock()
        self._cache_lock = threading.Lock()
        self._compute_lock = threading.RLock()
        self._work = threading.Condition()
        self._pending.clear()
        self._worker = None
        self.store.engine.dispose(close=False)  # (the parent's connections stay the parent's)
        kept: list[tuple[tuple[Any, ...], Entry]] = []
        self._kept_log = kept
        runs, carried = self.background_runs, self.carried
        failed = []
        for key, job in jobs:
            try:
                self._refresh_moving(key, job)
            except Exception as exc:
                failed.append(f"{key}: {type(exc).__name__}: {exc}")
        return Computed(kept, self.background_runs - runs, self.carried - carried, failed,
                        self._child_state())  # fmt: skip

    def _take_computed(self, computed: Computed, texts_round: int) -> None:
        """(In the parent) what a child computed, kept here. A figure read from text
        vectors is partial if the last of them came in while the child computed."""
        with self._cache_lock:
            later = self._texts_round != texts_round
            self.background_runs += computed.runs
            self.carried += computed.carried
            self.apart_runs += 1
        for key, entry in computed.kept:
            self._keep(key, replace(entry, partial=True) if later and entry.texts else entry)
        for failure in computed.failed:
            log.error("analytics: computing %s in a child process failed", failure)
        self._take_child_state(computed.state)

    def _run(self) -> None:
        """Compute what is asked for, one figure at a time; ends when idle for a while
        (the next request that needs it starts another), so that an engine no longer
        used leaves no thread behind."""
        while True:
            with self._work:
                if not self._work.wait_for(lambda: bool(self._pending), IDLE_SECONDS):
                    self._worker = None
                    return
                key, job = next(iter(self._pending.items()))
                self._busy = True
            try:
                self._refresh_moving(key, job)
            except Exception:
                log.exception("analytics: computing %s in the background failed", key)
            finally:
                with self._work:
                    self._pending.pop(key, None)
                    self._busy = False
                    self._work.notify_all()

    def _refresh_moving(self, key: tuple[Any, ...], job: Job) -> None:
        """:meth:`_refresh`, tried again at the new version when the view moved meanwhile
        (:data:`RETRIES` times in all)."""
        for _ in range(RETRIES):
            try:
                self._refresh(key, job)
                return
            except VersionMoved:
                continue

    def _refresh(self, key: tuple[Any, ...], job: Job) -> None:
        """Compute ``key`` at the current version without holding the lock for long."""
        assert self.lock is not None
        self._start_reading()
        found = self._extract(key, job, locked=False)
        if found is False:
            self.locked_reads += 1
            found = self._extract(key, job, locked=True)
        if found is None:
            return  # already current
        seq, epoch, snap, places, frozen, similarity = found
        value, foreign = self._compute(key, job, frozen, snap, places, similarity, seq)
        self.background_runs += 1
        self._keep(key, self._entry(seq, epoch, value, similarity is not None, foreign))

    def _extract(self, key: tuple[Any, ...], job: Job, *, locked: bool) -> Any:
        """(seq, epoch, snapshot, places, frozen graph, similarity) of the current version,
        None if the figure is current already; False if an optimistic read met a write.

        ``locked``: under the read lock. Otherwise without it, checked afterwards with the
        lock's write generation: the snapshot, places and copy take seconds at 100,000
        people, during which a waiting writer would hold up every new request. A read
        that met a write (whose half-applied state may even raise) is thrown away. The
        text vectors the figure reads are read under the lock, at the same version.
        """
        assert self.lock is not None
        lock = self.lock
        if locked:
            lock.acquire_read()
        try:
            return self._extract_at(key, job, lock.generation, locked=locked)
        finally:
            if locked:
                lock.release_read()

    def _extract_at(self, key: tuple[Any, ...], job: Job, start: int, *, locked: bool) -> Any:
        assert self.lock is not None
        lock, view = self.lock, self.view
        if start % 2:
            return False  # a writer is in
        try:
            seq = view.seq
            with self._cache_lock:
                entry = self._figures.get(key)
                snap = self._blocks.get((seq, "snapshot", job.audience))
                places = self._blocks.get((seq, "places", job.audience))
            if entry is not None and entry.seq >= seq and not entry.partial:
                return None
            epoch = self._epoch(job.audience)
            if snap is None:
                snap = build_snapshot(view.graph, seq=seq, audience=job.audience,
                                      regions=self.regions)  # fmt: skip
            if places is None and job.places:
                places = build_places(view.graph, snap)
            needs = list(job.needs(view.graph, snap))
            frozen = freeze(view.graph, needs)
        except Exception:
            if not locked and lock.generation != start:
                return False
            raise
        if lock.generation != start:
            return False
        similarity: TextSimilarity | None = None
        if job.similarity is not None:
            wanted = needs if job.vectors is None else list(job.vectors(frozen, snap))
            if not locked:
                lock.acquire_read()
            try:
                if lock.generation != start:
                    return False  # a write came after the optimistic read
                known = job.similarity.vectors(wanted)
            finally:
                if not locked:
                    lock.release_read()
            similarity = PinnedSimilarity(job.similarity, lock, view, seq,
                                          known=known, asked=wanted)  # fmt: skip
        self._block((seq, "snapshot", job.audience), lambda: snap)
        if places is not None:
            self._block((seq, "places", job.audience), lambda: places)
        with self._cache_lock:
            self._epoch_at[(seq, job.audience)] = epoch
        return seq, epoch, snap, places if places is not None else NO_PLACES, frozen, similarity
