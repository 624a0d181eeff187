"""Work done in a child process (graph/analytics/apart.py): its result or its error comes
back, a child that dies or runs out of time is reported, and the fork happens inside
what the caller holds."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator

import numpy as np
import psutil
import pytest

from graph.analytics.apart import ChildFailed, run_apart
from graph.analytics.errors import NotASector


def test_the_work_runs_in_another_process_and_its_result_comes_back() -> None:
    here, before = os.getpid(), _children()
    pid, total, matrix = run_apart(
        lambda: (os.getpid(), sum(range(1000)), np.arange(6.0).reshape(2, 3)), timeout=60
    )
    assert pid != here
    assert total == 499500
    assert matrix.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert _children() <= before  # it has ended and been waited for


def test_a_large_result_is_read_whole() -> None:
    """More than a pipe holds at once: the parent reads while the child writes."""
    text = run_apart(lambda: "x" * 5_000_000, timeout=60)
    assert len(text) == 5_000_000


def test_an_error_in_the_child_is_raised_in_the_parent() -> None:
    def fail() -> None:
        raise NotASector("sector:none")

    with pytest.raises(NotASector, match="sector:none"):
        run_apart(fail, timeout=60)


def test_an_error_that_cannot_be_pickled_is_reported_by_its_text() -> None:
    class Local(Exception):  # (a class defined in a function cannot be pickled)
        pass

    def fail() -> None:
        raise Local("unpicklable")

    with pytest.raises(ChildFailed, match="Local: unpicklable"):
        run_apart(fail, timeout=60)


def test_a_result_that_cannot_be_pickled_is_reported() -> None:
    with pytest.raises(ChildFailed, match="lock"):
        run_apart(threading.Lock, timeout=60)


def test_a_child_that_dies_is_reported() -> None:
    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    before = _children()
    with pytest.raises(ChildFailed):
        run_apart(die, timeout=60)
    assert _children() <= before


def test_a_child_that_runs_out_of_time_is_killed_and_reported() -> None:
    started, before = time.monotonic(), _children()
    with pytest.raises(ChildFailed, match="no result within"):
        run_apart(lambda: time.sleep(60), timeout=0.5)
    assert time.monotonic() - started < 30  # (it did not wait for the sleep)
    assert _children() <= before


def test_a_child_waiting_for_a_lock_nobody_will_release_is_killed_and_reported() -> None:
    """A lock another thread held at the fork stays held in the child: the child uses no
    processor time from then on, and is taken for stuck long before the time limit."""
    lock = threading.Lock()

    @contextlib.contextmanager
    def holding() -> Iterator[None]:
        with lock:
            yield

    started, before = time.monotonic(), _children()
    with pytest.raises(ChildFailed, match="no processor time used for 1 s"):
        run_apart(lambda: lock.acquire(), timeout=600, idle=1.0, holding=holding)
    assert time.monotonic() - started < 60
    assert _children() <= before


def test_a_child_at_work_is_not_taken_for_stuck() -> None:
    """One that uses the processor for longer than ``idle`` seconds gives its result."""

    def busy() -> int:
        until, turns = time.monotonic() + 1.5, 0
        while time.monotonic() < until:
            turns += 1
        return turns

    assert run_apart(busy, timeout=600, idle=0.5) > 0


def test_the_fork_happens_inside_what_the_caller_holds() -> None:
    """The child is made while ``holding`` is entered (a consistent copy), the parent
    leaves it at once, and the child never leaves it: it would release, in its copy,
    what the parent holds (a lock another thread of the parent may be waiting on)."""
    events: list[tuple[str, int]] = []
    lock = threading.Lock()

    @contextlib.contextmanager
    def holding() -> Iterator[None]:
        with lock:
            events.append(("enter", os.getpid()))
            yield
        events.append(("leave", os.getpid()))

    seen = run_apart(lambda: (lock.locked(), list(events)), timeout=60, holding=holding)
    assert seen == (True, [("enter", os.getpid())])
    assert events == [("enter", os.getpid()), ("leave", os.getpid())]
    assert not lock.locked()


def _children() -> set[int]:
    """This process's children now (other tests of the session may have left some)."""
    return {child.pid for child in psutil.Process().children()}
