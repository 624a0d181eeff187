"""glibc's malloc arenas, bounded in the processes of ``serve`` (api/serving.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from api.serving import limit_malloc_arenas, malloc_arenas

ROOT = Path(__file__).resolve().parents[2]
THREADS = """
import ctypes, json, sys, threading
from api.serving import limit_malloc_arenas, malloc_arenas
applied = limit_malloc_arenas() if sys.argv[1] == "limit" else None
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
held, go = [], threading.Barrier(8)
def allocate():
    go.wait()  # all eight at once, each its first allocation in C
    held.append(libc.malloc(4096))
threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads: thread.start()
for thread in threads: thread.join()
print(json.dumps({"applied": applied, "arenas": malloc_arenas()}))
"""

glibc = pytest.mark.skipif(malloc_arenas() is None, reason="not glibc's malloc")


def _threads(mode: str, env: dict[str, str]) -> dict[str, int | None]:
    run = subprocess.run([sys.executable, "-c", THREADS, mode], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True, timeout=120)  # fmt: skip
    return json.loads(run.stdout)


@glibc
def test_threads_share_the_bounded_arenas() -> None:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    env["PYTHONPATH"] = str(ROOT)
    unbounded = _threads("none", env)
    bounded = _threads("limit", env)
    assert unbounded["arenas"] is not None and unbounded["arenas"] > 2, unbounded
    assert bounded == {"applied": 2, "arenas": 2}


@glibc
def test_a_bound_set_by_the_operator_is_kept() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MALLOC_ARENA_MAX": "4"}
    assert _threads("limit", env) == {"applied": 4, "arenas": 4}


def test_a_bound_that_is_not_a_number_keeps_the_default(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "many")
    assert limit_malloc_arenas() is None
    assert "MALLOC_ARENA_MAX='many' is not a number" in caplog.text
