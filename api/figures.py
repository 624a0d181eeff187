"""The councils process: the councils' figures computed once per machine, beside the workers.

A council proposal is made of a sector's groups and bridges, each taking seconds at
100,000 people. Computed in a worker's background thread, they held that worker's
interpreter lock two thirds of the time under a write a second, and its requests waited
for it (collaborators answered a third as fast as without writes). ``cocreate serve``
starts this process beside its workers instead:

- it follows the change log as a worker does and brings every sector's proposal up to
  date after writes, at the warmer's pace (:class:`api.warmup.Warmer` with
  ``councils="publish"``), writing each figure it holds, computed or carried over, to the
  shared folder (:mod:`graph.analytics.shared`);
- it computes each round of figures in a short-lived child process
  (:mod:`graph.analytics.apart`), which takes with it the memory the computation used:
  computed here, most of it stayed with the process for good (at 100,000 people, 310 to
  360 MiB of its own after writes; 60 to 90 MiB with the child);
- it runs at a lower priority (``nice``): the workers' requests come first, and the
  figures catch up when the machine has a moment;
- the workers read the newest figures there (:mod:`graph.analytics.versions`, ``follow``)
  where an older figure may be answered, and compute one themselves only when none may
  (just after something was withdrawn from its audience, say, until this process has
  caught up);
- ``serve`` starts it again if it ends, and stops it when it stops.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
import urllib.request
from types import SimpleNamespace
from typing import TYPE_CHECKING

from api.serving import (
    Parent,
    Process,
    end_with,
    exempt_from_collection,
    orphaned,
    wait_orphaned,
)

if TYPE_CHECKING:  # (imported where the process runs: ``serve`` itself imports none of them)
    from api.services import Services
    from api.settings import Settings

log = logging.getLogger(__name__)

NICE = 10
"""How much lower the process's priority is than the workers'."""
PID_FILE = "councils.pid"
"""In the shared folder: the process's id."""
RESTART_SECONDS = 5.0
"""How long ``serve`` waits before starting the process again after it ended."""


def run(
    settings: Settings | None,
    parent: Parent,
    ready_url: str | None = None,
    forked: Services | None = None,
) -> None:
    """The process's body: until the process ``parent`` (``serve``) is gone. With
    ``ready_url`` (the workers' ``/ready``), it loads the network only once they answer
    it: the workers' start comes first. ``forked``: what the loader loaded before it
    forked this process (:mod:`api.preload`), resumed instead of loaded. ``settings``
    None: read from the environment here."""
    from api.indexing import BackgroundIndexer
    from api.services import Services
    from api.settings import Settings
    from api.warmup import Warmer
    from graph.analytics.shared import made_by

    settings = Settings() if settings is None else settings
    logging.basicConfig(level=logging.WARNING, format="councils: %(message)s")
    # Ctrl-C in a terminal reaches every process of ``serve``: this one is stopped by
    # ``serve`` itself (SIGTERM), after the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(NICE)
    end_with(parent)  # the cleaning up below, once serve is gone, is given a limit
    if ready_url is not None:
        _wait_ready(ready_url, parent)
    if orphaned(parent):
        return
    if forked is None:
        services = Services.start(settings, defer_indexing=True)
    else:
        services = forked
        services.resume(settings)
        services.begin()
    exempt_from_collection()
    if services.figures is not None:  # which process it is, for whoever looks after it
        (services.figures.folder / PID_FILE).write_text(str(os.getpid()))
        if services.epochs is not None:  # for the workers of the next start
            with services.feed.lock.read():
                seq = services.feed.seq
                services.figures.keep_withdrawals(
                    services.epochs, seq, made_by(services.store, seq)
                )
    warmer = Warmer(services, SimpleNamespace(), tagger=False, councils="publish")
    # The vectors a worker computes for a new store, read as it stores them; once they
    # are all in, what was computed without some is computed again.
    indexer = BackgroundIndexer(services, on_complete=warmer.again, may_encode=False)
    indexer.start()
    warmer.start()
    try:
        wait_orphaned(parent)
    finally:
        warmer.stop()
        indexer.stop()
        services.close()


def _wait_ready(url: str, parent: Parent, timeout: float = 3600.0) -> None:
    """Until ``url`` answers 200 (or ``timeout`` seconds, or ``serve`` is gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not orphaned(parent):
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except (OSError, ValueError):
            pass
        time.sleep(1.0)


class CouncilsProcess:
    """The councils process of one ``serve``, kept running while ``serve`` runs."""

    def __init__(
        self,
        settings: Settings | None,
        ready_url: str | None = None,
        started: Process | None = None,
    ) -> None:
        """``started``: the process already running (forked by the loader, adopted); a
        process started here loads its own, in a new interpreter. ``settings`` None: that
        process reads them from the environment."""
        self.settings = settings
        self.ready_url = ready_url
        self.process: Process | None = started
        self.starts = 0 if started is None else 1
        self._stopping = threading.Event()
        self._keeper: threading.Thread | None = None

    def start(self) -> None:
        if self.process is None:
            self._spawn()
        self._keeper = threading.Thread(target=self._keep, name="cocreate-councils", daemon=True)
        self._keeper.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        process = self.process
        if process is not None and process.is_alive():
            process.terminate()
            process.join(timeout)
            if process.is_alive():
                process.kill()
                process.join(timeout)

    def _spawn(self) -> None:
        process = multiprocessing.get_context("spawn").Process(
            target=run,
            args=(self.settings, os.getpid(), self.ready_url),
            name="cocreate-councils",
            daemon=True,
        )
        process.start()
        self.process = process
        self.starts += 1

    def _keep(self) -> None:
        """Start the process again whenever it ends before ``serve`` does (meanwhile the
        workers compute what they need themselves)."""
        while not self._stopping.is_set():
            process = self.process
            if process is not None:
                process.join(1.0)
                if process.is_alive() or self._stopping.is_set():
                    continue
                log.warning("the councils process ended (exit code %s): starting it again",
                            process.exitcode)  # fmt: skip
            if self._stopping.wait(RESTART_SECONDS):
                return
            self._spawn()
