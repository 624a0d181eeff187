"""How many threads the numerical libraries may use while answering queries.

A query is encoded by ONNX Runtime's own threads and then scored with small numpy
products (a few million multiply-adds). Left alone, OpenBLAS runs those products on
every core and its idle threads keep spinning afterwards, taking the cores the encoder
needs next: on two cores that doubled the time to encode a query and made scoring
10,000 vectors six times slower (``docs/benchmarks.md``). A service therefore keeps
BLAS to one thread; the parallelism that pays is the encoder's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

from threadpoolctl import threadpool_limits


def single_threaded_blas() -> None:
    """Limit BLAS (OpenBLAS, MKL, BLIS) to one thread for the rest of this process."""
    threadpool_limits(limits=1, user_api="blas")


@contextmanager
def openmp_threads(limit: int) -> Iterator[None]:
    """At most ``limit`` OpenMP threads (faiss's) within the block, as before after it.

    With one, no OpenMP thread is ever started: a process that forks afterwards (``serve``
    with its workers) leaves its children no pool of threads they do not have, which
    GNU OpenMP would wait on forever."""
    with suppress(ImportError):
        import faiss  # noqa: F401 (loaded first, so that the limit reaches its OpenMP)
    with threadpool_limits(limits=limit, user_api="openmp"):
        yield
