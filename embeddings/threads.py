"""How many threads the numerical libraries may use while answering queries.

A query is encoded by ONNX Runtime's own threads and then scored with small numpy
products (a few million multiply-adds). Left alone, OpenBLAS runs those products on
every core and its idle threads keep spinning afterwards, taking the cores the encoder
needs next: on two cores that doubled the time to encode a query and made scoring
10,000 vectors six times slower (``docs/benchmarks.md``). A service therefore keeps
BLAS to one thread; the parallelism that pays is the encoder's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from threadpoolctl import ThreadpoolController, threadpool_limits


def usable_cores(most: int | None = None) -> int:
    """The cores this process may run on (its CPU affinity: ``taskset`` or a container's
    cpuset may allow fewer than the machine has; a CPU quota is not seen), at least one
    and at most ``most``; the machine's count where there is no affinity."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # (no affinity where the platform has none)
        cores = os.cpu_count() or 1
    return max(1, cores if most is None else min(cores, most))


def single_threaded_blas() -> None:
    """Limit BLAS (OpenBLAS, MKL, BLIS) to one thread for the rest of this process."""
    threadpool_limits(limits=1, user_api="blas")


def thread_limits() -> dict[str, int]:
    """The most threads the BLAS libraries with threads of their own (numpy's) and the
    OpenMP runtimes (faiss's, and the BLAS it threads) loaded in this process may use; 0
    for a kind none of which is loaded. A service process keeps ``blas`` at 1. (GNU
    OpenMP's limit is the calling thread's: another thread may have another.)"""
    found = {"blas": 0, "openmp": 0}
    for library in ThreadpoolController().lib_controllers:
        if library.user_api == "openmp":
            found["openmp"] = max(found["openmp"], library.num_threads)
        elif getattr(library, "threading_layer", "") != "openmp":
            found["blas"] = max(found["blas"], library.num_threads)
    return found


@contextmanager
def openmp_threads(limit: int) -> Iterator[None]:
    """At most ``limit`` OpenMP threads (faiss's) within the block, as before after it.

    With one, no OpenMP thread is ever started: a process that forks afterwards (``serve``
    with its workers) leaves its children no pool of threads they do not have, which
    GNU OpenMP would wait on forever.

    Only OpenMP's own limit is put back after the block. (threadpoolctl's
    ``threadpool_limits`` puts back every library's, so BLAS limited to one thread
    within the block, as ``serve``'s load does, would again run on every core after it,
    in every process forked from it: its idle threads spinning beside each request.)"""
    with suppress(ImportError):
        import faiss  # noqa: F401 (loaded first, so that the limit reaches its OpenMP)
    openmp = ThreadpoolController().select(user_api="openmp").lib_controllers
    before = [library.num_threads for library in openmp]
    for library in openmp:
        library.set_num_threads(limit)
    try:
        yield
    finally:
        for library, threads in zip(openmp, before, strict=True):
            library.set_num_threads(threads)
