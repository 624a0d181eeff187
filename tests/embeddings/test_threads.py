"""How many threads the numerical libraries may use (embeddings/threads.py)."""

from __future__ import annotations

import pytest
from threadpoolctl import ThreadpoolController, threadpool_limits

from embeddings.threads import openmp_threads, single_threaded_blas, thread_limits, usable_cores


def _pthreads_blas() -> list[int]:
    """The thread limits of the BLAS libraries not threaded by OpenMP (numpy's)."""
    blas = ThreadpoolController().select(user_api="blas").lib_controllers
    return [lib.num_threads for lib in blas if getattr(lib, "threading_layer", "") != "openmp"]


def test_leaving_an_openmp_limit_keeps_blas_to_one_thread() -> None:
    """``serve`` loads under ``openmp_threads(1)`` and limits BLAS to one thread inside:
    putting back OpenMP's limit must not put back BLAS's, or every process forked from
    the load runs its products on every core (their idle threads spin beside requests)."""
    if not _pthreads_blas():
        pytest.skip("no BLAS library threaded without OpenMP is loaded")
    with threadpool_limits(limits=2):  # (as on a machine of several cores; put back after)
        assert max(_pthreads_blas()) == 2
        openmp = ThreadpoolController().select(user_api="openmp").lib_controllers
        before = [lib.num_threads for lib in openmp]
        with openmp_threads(1):
            assert all(lib.num_threads == 1 for lib in openmp)
            single_threaded_blas()
        assert _pthreads_blas() == [1] * len(_pthreads_blas())
        assert [lib.num_threads for lib in openmp] == before  # OpenMP's own limit put back
        assert thread_limits()["blas"] == 1


def test_the_cores_counted_are_those_the_process_may_run_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 16)  # the machine's
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {2, 3})  # this process's
    assert usable_cores() == 2
    assert usable_cores(1) == 1
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(12)))
    assert (usable_cores(), usable_cores(8)) == (12, 8)
    monkeypatch.delattr("os.sched_getaffinity", raising=False)  # a platform without one
    assert usable_cores() == 16
