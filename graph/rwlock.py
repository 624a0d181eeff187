"""A readers-writer lock that prefers the writer, and that any thread may release.

Requests read the derived structures (graph view, indexes) under the shared side for
their whole duration; the change-feed follower applies a batch under the exclusive side.
A waiting writer stops new readers from entering, so a steady stream of requests cannot
starve the follower; the readers already inside finish first. A request may enter in
one thread and leave in another (the web framework runs a dependency's setup and
teardown where it likes), so the lock tracks counts, not owners. It is not re-entrant:
code running under the shared side must not try to take it again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ReadWriteLock:
    """Many readers or one writer; a waiting writer goes before new readers."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0
        self._generation = 0

    @property
    def generation(self) -> int:
        """Moves on when a writer enters and again when it leaves: odd while one writes.

        Code that reads without the lock and finds the same even number before and after
        read a version no writer touched (an optimistic read, checked afterwards).
        """
        return self._generation

    @property
    def writer_waiting(self) -> bool:
        """Whether a writer waits (a reader waiting on another reader's work should not:
        that reader may need to enter again, and a waiting writer keeps it out)."""
        return self._writers_waiting > 0

    def try_acquire_read(self) -> bool:
        """Enter as a reader if that needs no waiting."""
        with self._cond:
            if self._writing or self._writers_waiting:
                return False
            self._readers += 1
            return True

    def acquire_read(self) -> None:
        with self._cond:
            while self._writing or self._writers_waiting:
                self._cond.wait()
            self._readers += 1

    def release_read(self) -> None:
        with self._cond:
            if self._readers <= 0:
                raise RuntimeError("release_read without a reader")
            self._readers -= 1
            if self._readers == 0:
                self._cond.notify_all()

    def acquire_write(self) -> None:
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writing or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writing = True
            self._generation += 1

    def release_write(self) -> None:
        with self._cond:
            if not self._writing:
                raise RuntimeError("release_write without the writer")
            self._writing = False
            self._generation += 1
            self._cond.notify_all()

    @contextmanager
    def read(self) -> Iterator[None]:
        self.acquire_read()
        try:
            yield
        finally:
            self.release_read()

    @contextmanager
    def write(self) -> Iterator[None]:
        self.acquire_write()
        try:
            yield
        finally:
            self.release_write()
