"""Worker processes that each accept their own share of new connections.

uvicorn's worker processes share one listening socket, and a worker takes from it every
connection waiting when it looks: a client that opens its connections at once (the
HTTP benchmark's eight, a proxy's pool) finds them all taken by one worker while the
other waits idle (measured: one worker's request threads used 13 s of CPU in a 15 s run,
the other's 1 s). ``serve`` runs its workers here instead: each binds a socket of its
own to the same address with ``SO_REUSEPORT``, and the kernel spreads new connections
between the sockets by a hash of the client's address and port. A worker that ends is
started again (its socket goes with it, and the others take its share meanwhile).

With ``COCREATE_PRELOAD`` the first workers and the councils process are forked from one
load made in a process of its own, the loader (:func:`api.preload.fork_from_load`), which
then ends: ``serve`` adopts them (it is their subreaper) and holds nothing it loaded. A
process started again after one ended loads its own.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api.services import Services

log = logging.getLogger(__name__)

APP = "api.app:create_app"
RESTART_SECONDS = 1.0
"""How long to wait before starting a worker again in place of one that ended."""
STOP_SECONDS = 30.0
"""How long a worker may take to finish its requests after SIGTERM before it is killed."""
MALLOC_ARENAS = 2
"""glibc's malloc arenas in each process of ``serve`` (:func:`limit_malloc_arenas`)."""
M_ARENA_MAX = -8
"""``mallopt``'s parameter for the most arenas (glibc's ``malloc.h``)."""
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
"""``prctl``'s options (Linux's ``prctl.h``)."""
ORPHAN_SECONDS = 10.0
"""How long a process of ``serve`` may take to end once ``serve`` is gone (killed
outright, so that nobody is left to stop it) before it ends at once: its requests under
way are finished by then, and its background work (warming, figures) is of no use to
anyone any more."""


def bind(host: str, port: int, *, listen: bool, reuse_address: bool = True) -> socket.socket:
    """A TCP socket bound to (``host``, ``port``) with ``SO_REUSEPORT`` (and, with
    ``reuse_address``, ``SO_REUSEADDR``)."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    if reuse_address:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host.strip("[]"), port))
    if listen:
        sock.listen(2048)
    return sock


def check_free(host: str, port: int) -> None:
    """Raise OSError (address in use) unless (``host``, ``port``) is free: bound alone,
    without ``SO_REUSEPORT``, so that an address another program or another ``serve``
    listens on (or holds, below) is refused rather than shared with it."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as alone:
        alone.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        alone.bind((host.strip("[]"), port))


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


Parent = int | tuple[int, ...]
"""``serve``'s process id; with the loader's after it, for a process the loader forked
(its parent until it ends and ``serve`` adopts it)."""


def worker(
    host: str,
    port: int,
    options: dict[str, Any],
    parent: Parent,
    forked: Services | None = None,
) -> None:
    """One worker process of ``serve`` (process ``parent``): uvicorn serving the app on a
    socket of its own; ``forked``: the services the loader loaded before it forked this
    process (else it opens its own)."""
    if forked is not None:
        for signum in (signal.SIGTERM, signal.SIGINT):  # the loader's, until uvicorn's
            signal.signal(signum, signal.SIG_DFL)
    # First, and with serve's id as serve knew it: serve may be gone before this process
    # gets here (killed while this worker still loads), and the parent it has by then is
    # whoever adopted it, which would never go.
    end_with(parent, then=lambda: os.kill(os.getpid(), signal.SIGTERM))
    import uvicorn

    if forked is None:
        config = uvicorn.Config(APP, factory=True, host=host, port=port, **options)
    else:
        from api.app import create_app

        config = uvicorn.Config(create_app(forked=forked), host=host, port=port, **options)
    uvicorn.Server(config).run(sockets=[bind(host, port, listen=True)])


def end_with(parent: Parent, then: Callable[[], None] | None = None) -> None:
    """End this process once ``parent`` (``serve``) is gone however it ended, rather than
    serve on alone: ``then`` is called first (a worker stops as SIGTERM stops it, its
    requests under way finished), and whatever is still running ``ORPHAN_SECONDS`` later
    (a shutdown waiting on a warmer in the middle of its work) ends at once."""

    def watch() -> None:
        wait_orphaned(parent)
        if then is not None:
            then()
        time.sleep(ORPHAN_SECONDS)
        log.warning("serve is gone: ending now, %.0f s after it", ORPHAN_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="cocreate-end-with", daemon=True).start()


def wait_orphaned(parent: Parent, every: float = 1.0) -> None:
    """Return once this process's parent is none of ``parent`` (it ended, however)."""
    while not orphaned(parent):
        time.sleep(every)


def orphaned(parent: Parent) -> bool:
    """Whether this process's parent is none of ``parent``: ``serve`` is gone (a process
    the loader forked is adopted by ``serve`` when the loader ends, by another process
    once ``serve`` is gone)."""
    return os.getppid() not in ((parent,) if isinstance(parent, int) else parent)


def become_subreaper() -> bool:
    """Make this process (``serve``) the parent of its descendants whose parent ends (the
    processes the loader forks), so that it can wait for them and start them again;
    whether it could (Linux only)."""
    libc = _libc()
    return (
        libc is not None
        and hasattr(libc, "prctl")
        and (libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    )


def children(pid: int) -> dict[int, str]:
    """The processes whose parent is ``pid``, with their state (``Z``: ended, not waited
    for), from ``/proc``."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as file:
                fields = file.read().rpartition(")")[2].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[1]) == pid:
            found[int(entry.name)] = fields[0]
    return found


def reap_strays(known: Iterable[int]) -> list[int]:
    """Wait for the ended children of this process (``serve``) that nobody waits for:
    descendants orphaned by a process of ``serve`` that ended (the councils process's
    child saving the profiles, say), which come to ``serve`` as their subreaper. Never
    those in ``known``, nor multiprocessing's own (it waits for them itself, and would
    take one waited for here as still running). The ids waited for."""
    try:  # one call, most of the time: is any child ended? (not waited for here)
        ended = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:  # no child at all
        return []
    if ended is None:
        return []
    known = {*known, *(p.pid for p in multiprocessing.active_children() if p.pid)}
    reaped = []
    for pid, state in children(os.getpid()).items():
        if state == "Z" and pid not in known:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
                reaped.append(pid)
    return reaped


def die_with_parent() -> None:
    """End this process (the loader) with a SIGKILL if its parent ends first."""
    libc = _libc()
    if libc is not None and hasattr(libc, "prctl"):
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class Adopted:
    """A process of ``serve`` that the loader forked, and ``serve`` adopted when the loader
    ended: what ``serve`` asks of a :class:`multiprocessing.Process` it started itself."""

    def __init__(self, pid: int, name: str) -> None:
        self.pid = pid
        self.name = name
        self.exitcode: int | None = None
        self._ended = False
        self._reaping = threading.Lock()

    def is_alive(self) -> bool:
        with self._reaping:  # (two threads may ask: one reaps it, the other is told)
            return self._poll()

    def _poll(self) -> bool:
        if not self._ended:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # not serve's child (any more): its code unknown
                self._ended = True
            else:
                if pid == self.pid:
                    self._ended = True
                    self.exitcode = os.waitstatus_to_exitcode(status)
        return not self._ended

    def join(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.is_alive() and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.05)

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def _signal(self, signum: int) -> None:
        # Not reaped meanwhile (the lock held): its id is not another process's yet.
        with self._reaping, contextlib.suppress(ProcessLookupError):
            if self._poll():
                os.kill(self.pid, signum)


Process = BaseProcess | Adopted


def hold(host: str, port: int) -> socket.socket:
    """The address held for as long as ``serve``'s workers run: bound, not listening (the
    kernel hands connections to listening sockets only), and without SO_REUSEADDR, so
    that a later ``serve``'s :func:`check_free` is refused even before the workers
    listen. Fails at once if another program has the address."""
    check_free(host, port)
    return bind(host, port, listen=False, reuse_address=False)


def run_workers(
    host: str,
    port: int,
    workers: int,
    options: dict[str, Any],
    started: Sequence[Process] = (),
    holder: socket.socket | None = None,
) -> None:
    """Run ``workers`` worker processes until SIGTERM or SIGINT, starting again any that
    ends; ``options``: uvicorn's (``uvicorn.Config``). ``started``: the workers already
    running (forked from the loader's load, adopted), with the address ``holder`` (from
    :func:`hold`) they listen on; else they are started here. A worker started here loads
    its own services, in a new interpreter."""
    holder = holder if holder is not None else hold(host, port)
    stopping = threading.Event()
    previous = {
        signum: signal.signal(signum, lambda *_: stopping.set())
        for signum in (signal.SIGTERM, signal.SIGINT)
    }
    context = multiprocessing.get_context("spawn")

    def start() -> Process:
        process = context.Process(
            target=worker, args=(host, port, options, os.getpid()), name="cocreate-worker"
        )
        process.start()  # (spawned: a new interpreter, nothing of this one's state)
        return process

    processes = list(started) if started else [start() for _ in range(workers)]
    try:
        while not stopping.wait(0.5):
            reap_strays(p.pid for p in processes if p.pid is not None)
            for slot, process in enumerate(processes):
                if process.is_alive():
                    continue
                log.warning("worker %s ended (exit code %s): starting another",
                            process.pid, process.exitcode)  # fmt: skip
                if stopping.wait(RESTART_SECONDS):
                    break
                processes[slot] = start()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests under way
        for process in processes:
            process.join(STOP_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()
        holder.close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def limit_malloc_arenas(default: int = MALLOC_ARENAS) -> int | None:
    """Bound the C library's malloc arenas in this process and the processes it starts
    (``MALLOC_ARENA_MAX``, unless set already); the bound applied, or None where the C
    library has no such setting (not glibc).

    glibc gives a thread that finds the arena it wants busy an arena of its own, up to
    eight per core, and memory a request freed in one arena is not reused by another:
    a worker's request threads, warmer and encoder each grew their own heap. At 100,000
    people, replaying the benchmark's searches and recommendations in one process left it
    137 MiB smaller with two arenas than with glibc's default (docs/benchmarks.md); the
    requests hold the interpreter lock for most of their work, so they seldom wait on
    malloc's."""
    wanted = os.environ.get("MALLOC_ARENA_MAX", str(default))
    try:
        arenas = int(wanted)
    except ValueError:
        log.warning("MALLOC_ARENA_MAX=%r is not a number: glibc's default kept", wanted)
        return None
    os.environ["MALLOC_ARENA_MAX"] = str(arenas)  # (read by the C library of spawned ones)
    mallopt = getattr(_libc(), "mallopt", None)
    if mallopt is None or arenas < 1 or not mallopt(M_ARENA_MAX, arenas):
        return None
    return arenas


def malloc_arenas() -> int | None:
    """How many malloc arenas this process has (glibc's ``malloc_info``); None where the
    C library cannot say."""
    libc = _libc()
    if libc is None or not hasattr(libc, "malloc_info") or not hasattr(libc, "open_memstream"):
        return None
    libc.open_memstream.restype = ctypes.c_void_p
    libc.open_memstream.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    libc.free.argtypes = [ctypes.c_void_p]
    buffer, size = ctypes.c_void_p(), ctypes.c_size_t()
    stream = libc.open_memstream(ctypes.byref(buffer), ctypes.byref(size))
    if not stream:
        return None
    try:
        failed = libc.malloc_info(0, stream)
    finally:
        libc.fclose(stream)  # (sets the buffer and its size)
    try:
        report = ctypes.string_at(buffer.value, size.value) if buffer.value else b""
    finally:
        libc.free(buffer.value)
    return None if failed else report.count(b"<heap nr=")


def give_back_memory() -> bool:
    """Return the C library's free memory to the system (glibc's ``malloc_trim``); whether
    this C library can (False elsewhere, where this is left to it).

    Building a version's structures (a sector's groups and bridges, the recommender's
    caches) makes hundreds of megabytes of short-lived objects at 100,000 people; once
    they are freed glibc keeps the pages in its heaps for later allocations, so a process
    stayed as large as its busiest moment. One computation of every council grew a
    process by 518 MiB while its live objects grew by 44 MiB; a trim gave 267 MiB back
    (docs/benchmarks.md, "The encoder's weights shared"). A trim takes the allocator's
    locks for a few milliseconds: it is made by the warmer's thread, after such work and
    now and then while the feed is quiet, never by a request."""
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is None:
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim(0)
    return True


@functools.cache
def _libc() -> Any:
    """The C library's functions as this process resolves them (an allocator preloaded in
    its place, ``LD_PRELOAD``, answers for ``malloc`` and ``free``)."""
    try:
        return ctypes.CDLL(None)
    except OSError:
        return None


def exempt_from_collection() -> None:
    """Leave what a process of ``serve`` has loaded (the graph view, the search index,
    the profiles: millions of objects at 100,000 people, kept for the life of the process
    and changed in place) out of the cyclic garbage collector's full collections.

    A full collection walks every tracked object: with the graph loaded it held the
    interpreter lock for about a second, now and then, while requests waited (node reads
    at 100,000 people: p50 3.5 ms, p99 1.6 s; docs/benchmarks.md). Frozen objects are
    still freed when their last reference goes; only a reference cycle among them would
    outlive its use, and what is loaded here is replaced piece by piece (a node's
    attributes), not in cycles. Nothing is collected first: loading makes no garbage in
    cycles (a collection at 100,000 people found none, and took 1.6 s of the start).
    """
    gc.freeze()
