"""The change feed: one follower per process carries the store's change log to every projection.

Derived state (the graph view, the search index, the profile and audience indexes) learns
of writes only here. The follower reads a batch of change-log entries with the current
records of the nodes they touch, lets every projection *prepare* its part outside any
lock (reading, encoding), then *applies* all of them under the exclusive side of one
readers-writer lock and moves ``seq`` on. Requests read under the shared side, so each
sees one version of every projection from start to end, never a half-applied batch, and
no request replays the log itself.

Applying is idempotent: a projection sets what a batch touches to its current state, so
one whose contents are already newer than the feed's ``seq`` (built from the store a
moment later) is simply set again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from graph.errors import StoreBusy
from graph.model import Node
from graph.rwlock import ReadWriteLock
from graph.store import Change, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChangeBatch:
    """Change-log entries in order, with the current records of the nodes they name.

    ``nodes`` holds the nodes named by a node entry that exist now (a node deleted since
    is absent; its deletion is in this batch or a later one).
    """

    changes: tuple[Change, ...]
    nodes: Mapping[str, Node]
    people: Mapping[str, int] | None = None
    """With an erasure in the batch: every person the store has now, with the sequence
    number of their last write (:meth:`graph.store.Store.person_versions`)."""

    @classmethod
    def read(cls, store: Store, since: int, *, limit: int) -> ChangeBatch | None:
        """The next ``limit`` changes after ``since`` with what they need; None if none."""
        changes = store.changes_since(since, limit=limit)
        if not changes:
            return None
        touched = sorted({c.ref for c in changes if c.entity == "node" and c.op != "erase"})
        erasing = any(c.op == "erase" for c in changes)
        people = store.person_versions() if erasing else None
        return cls(tuple(changes), store.get_nodes(touched), people)

    @property
    def last_seq(self) -> int:
        return self.changes[-1].seq

    @property
    def erasures(self) -> list[int]:
        """The sequence numbers of the batch's erasures (entries that name no one)."""
        return [c.seq for c in self.changes if c.op == "erase"]

    def erased(self, held: Iterable[str]) -> set[str]:
        """The people among ``held`` whom an erasure in this batch removed from the store.

        An erasure's entry names no one (:mod:`graph.store`): whoever a projection holds
        that the store no longer has is gone.
        """
        if self.people is None:
            return set()
        people = self.people
        return {i for i in held if i.startswith("person:") and i not in people}

    @property
    def touched_nodes(self) -> frozenset[str]:
        """Every node named by a node entry (upserted or deleted)."""
        return frozenset(c.ref for c in self.changes if c.entity == "node" and c.op != "erase")


class Projection(Protocol):
    """Something derived from the store that the feed keeps up to date."""

    def prepare(self, batch: ChangeBatch) -> Any:
        """Work that needs no lock (store reads, encoding); handed back to :meth:`apply`."""

    def apply(self, batch: ChangeBatch, prepared: Any) -> None:
        """Apply the batch; runs while no request reads, so it must be quick."""


class Saved(Projection, Protocol):
    """A projection read back from a saved state; ``seq`` is the last change it holds."""

    seq: int


def catch_up_saved(saved: Saved, store: Store, *, most: int) -> bool:
    """Apply the store's changes since ``saved.seq`` to it; whether it did. Not when, as
    it starts, more than ``most`` are there (reading them would take longer than reading
    the store) or one is an erasure (a state saved before an erasure is not to be used: it
    may hold the person). Changes committed meanwhile are applied too."""
    after = store.changes_since(saved.seq, limit=most + 1)
    if len(after) > most or any(change.op == "erase" for change in after):
        return False
    while batch := ChangeBatch.read(store, saved.seq, limit=5_000):
        saved.apply(batch, saved.prepare(batch))
    return True


class ChangeFeed:
    """Follows the store's change log and applies each batch to every projection at once."""

    def __init__(
        self,
        store: Store,
        projections: Sequence[Projection],
        *,
        seq: int,
        batch_size: int = 2_000,
        poll_seconds: float = 0.2,
    ) -> None:
        self.store = store
        self.projections = list(projections)
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.lock = ReadWriteLock()
        self.errors = 0
        self._seq = seq
        self._stepping = threading.Lock()  # one batch at a time, from the thread or a caller
        self._applied = threading.Condition()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def seq(self) -> int:
        """The last change applied to every projection."""
        return self._seq

    # -- applying ----------------------------------------------------------------

    def step(self) -> int:
        """Apply the next batch, if any; how many entries it held."""
        with self._stepping:
            batch = ChangeBatch.read(self.store, self._seq, limit=self.batch_size)
            if batch is None:
                return 0
            prepared = [projection.prepare(batch) for projection in self.projections]
            with self.lock.write():
                for projection, work in zip(self.projections, prepared, strict=True):
                    projection.apply(batch, work)
                self._seq = batch.last_seq
        with self._applied:
            self._applied.notify_all()
        return len(batch.changes)

    def catch_up(self) -> int:
        """Apply every change in the log now (at start, and in the command line)."""
        applied = 0
        while count := self.step():
            applied += count
        return applied

    def wait_for(self, seq: int, timeout: float) -> bool:
        """Block until change ``seq`` is applied, at most ``timeout`` seconds; whether it was."""
        with self._applied:
            return self._applied.wait_for(lambda: self._seq >= seq, timeout)

    @contextmanager
    def reading(self) -> Iterator[int]:
        """Hold one version of every projection; yields its sequence number."""
        with self.lock.read():
            yield self._seq

    # -- the follower thread -------------------------------------------------------

    def wake(self, _seq: int = 0) -> None:
        """Tell the follower there is something new (a store listener)."""
        self._wake.set()

    def start(self) -> None:
        """Follow the store in a background thread: woken by local writes, polling for others."""
        if self._thread is not None:
            return
        self._stop.clear()
        self.store.subscribe(self.wake)
        self._thread = threading.Thread(target=self._run, name="cocreate-feed", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        self._thread = None
        self.store.unsubscribe(self.wake)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self._wake.clear()
            try:
                applied = self.step()
            except StoreBusy as exc:
                # A lock, or the database restarting: a line, not a traceback, and a
                # short wait, so the view catches up soon after the database is back.
                failures += 1
                self.errors += 1
                if failures == 1:
                    log.warning("change feed: %s; trying again until it answers", exc)
                self._stop.wait(min(1.0, 0.2 * failures))
                continue
            except Exception:
                # The store may be busy or gone for a moment; the log is still there.
                failures += 1
                self.errors += 1
                log.exception("change feed: applying the changes after %d failed", self._seq)
                self._stop.wait(min(5.0, 0.5 * failures))
                continue
            failures = 0
            if not applied:
                self._wake.wait(self.poll_seconds)
