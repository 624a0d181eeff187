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


TRIM = """
import json, sys
from api.serving import give_back_memory
def rss():
    with open("/proc/self/status") as status:
        return int(status.read().split("VmRSS:")[1].split()[0]) // 1024
# 200 MiB in blocks malloc serves from its heap (above pymalloc's 512 bytes, below the
# size it maps on its own), then all but every hundredth freed: the pages in between
# are free, but the heap's top is held, so glibc keeps them.
blocks = [bytearray(2048) for _ in range(100_000)]
kept = blocks[::100]
del blocks
before = rss()
trimmed = give_back_memory()
print(json.dumps({"before": before, "after": rss(), "trimmed": trimmed}))
"""


@glibc
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc/self/status")
def test_freed_memory_is_given_back() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-c", TRIM], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True, timeout=120)  # fmt: skip
    found = json.loads(run.stdout)
    assert found["trimmed"] is True
    # Of the ~196 MiB freed, most goes back (each kept block holds its page).
    assert found["before"] - found["after"] > 100, found
