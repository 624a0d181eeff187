"""How many threads the numerical libraries may use while answering queries.

A query is encoded by ONNX Runtime's own threads and then scored with small numpy
products (a few million multiply-adds). Left alone, OpenBLAS runs those products on
every core and its idle threads keep spinning afterwards, taking the cores the encoder
needs next: on two cores that doubled the time to encode a query and made scoring
10,000 vectors six times slower (``docs/benchmarks.md``). A service therefore keeps
BLAS to one thread; the parallelism that pays is the encoder's.
"""

from __future__ import annotations

from threadpoolctl import threadpool_limits


def single_threaded_blas() -> None:
    """Limit BLAS (OpenBLAS, MKL, BLIS) to one thread for the rest of this process."""
    threadpool_limits(limits=1, user_api="blas")
