"""Work done in a short-lived child process, its result handed back through a pipe.

A sector's groups and bridges allocate hundreds of MiB at 100,000 people and free them
at the end. A long-lived process keeps most of that memory: CPython's small-object
allocator gives an arena back to the system only once every object in it is free, and
the few objects that outlive a computation (the figures, the next version's structures)
are spread over most of them. Computed in a child forked for the purpose, what the work
allocated goes with the child; the parent keeps only the result it unpickles.

The child is a copy of the parent at the moment of the fork, with one thread: a lock
another thread held then stays held in the child. The caller forks while holding what
keeps its data consistent (``holding``) and gives the child fresh copies of the locks
it will take (``work`` does that first). A child that waits for any other such lock uses
no processor time from then on: after ``idle`` seconds of that (or at the time limit)
it is killed and :class:`ChildFailed` raised, for the caller to do the work itself.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import select
import signal
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
IDLE_SECONDS = 120.0
"""How long a child may use no processor time at all before it is taken for stuck (a
child computing at a low priority on a busy machine still gets some)."""
LOOK_SECONDS = 5.0
"""How often the parent looks at the child's processor time while it waits."""


class ChildFailed(Exception):
    """The child process gave no result: it was killed, ran out of time, or its result
    could not be pickled."""


def possible() -> bool:
    """Whether this platform forks (not Windows)."""
    return hasattr(os, "fork")


def run_apart(
    work: Callable[[], T],
    *,
    timeout: float,
    idle: float = IDLE_SECONDS,
    holding: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext,
) -> T:
    """``work()`` run in a child process forked inside ``holding()``; its result, or the
    exception it raised, raised again here.

    Raises:
        ChildFailed: no result within ``timeout`` seconds, or none while the child used
            no processor time for ``idle`` seconds (waiting for a lock no thread of it
            will release: it is killed then), or the child ended without one.
    """
    read_end, write_end = os.pipe()
    try:
        with holding():
            pid = os.fork()
            if pid == 0:  # the child, which never leaves ``holding`` (nor returns)
                os.close(read_end)
                _child(work, write_end)
        os.close(write_end)
        write_end = -1
        data = _read_all(read_end, pid, timeout, idle)
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)
    if isinstance(data, str):
        raise ChildFailed(data)
    try:
        outcome, value = pickle.loads(data)
    except Exception as exc:
        raise ChildFailed(f"its result could not be read: {exc}") from exc
    if outcome == "error":
        raise value
    return value  # type: ignore[no-any-return]


def _child(work: Callable[[], T], fd: int) -> None:
    """The child's whole life: the work, its result written, then the end (no clean-up
    of what it inherited: connections, other threads' state, files being written)."""
    code = 1
    try:
        # What was loaded stays out of collections: walking it would copy its pages.
        gc.freeze()
        try:
            result = work()
        except BaseException as exc:  # (handed to the parent, raised there)
            data = _pickled_error(exc)
        else:
            try:
                data = pickle.dumps(("ok", result), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:
                failed = ChildFailed(f"its result could not be pickled: {exc}")
                data = pickle.dumps(("error", failed), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        code = 0
    finally:
        os._exit(code)


def _pickled_error(exc: BaseException) -> bytes:
    try:
        return pickle.dumps(("error", exc), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        failed = ChildFailed(f"{type(exc).__name__}: {exc}")
        return pickle.dumps(("error", failed), protocol=pickle.HIGHEST_PROTOCOL)


def _read_all(fd: int, pid: int, timeout: float, idle: float) -> bytes | str:
    """Everything the child writes until it ends; or why there is nothing: it ended
    without writing, or it still runs after ``timeout`` seconds or has used no processor
    time for ``idle`` seconds (then it is killed)."""
    chunks: list[bytes] = []
    used, since = _cpu_ticks(pid), time.monotonic()
    deadline, look = since + timeout, min(LOOK_SECONDS, idle / 2)
    while True:
        now = time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(min(deadline - now, look), 0.0))
        if not ready:
            now = time.monotonic()
            ticks = _cpu_ticks(pid)
            if ticks != used:
                used, since = ticks, now
            if now >= deadline or now - since >= idle:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                if now >= deadline:
                    return f"no result within {timeout:.0f} s"
                return f"no processor time used for {idle:.0f} s"
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        return f"it ended with {code} and no result"
    return b"".join(chunks)


def _cpu_ticks(pid: int) -> int | None:
    """The processor time the process has used, in clock ticks (Linux's /proc; None
    where it cannot be read: then only the time limit applies)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
