#!/usr/bin/env python
"""Benchmark: what a vector-index rebuild at 100,000 items does to writes and searches.

A :class:`embeddings.search.SemanticIndex` of ``--items`` random unit vectors (dimension
384, each with a short text of random words) is driven the way the change feed drives it
(:mod:`graph.feed`): one writer applies a small batch every 250 ms under the write side of
a readers-writer lock (encoding nothing: the vectors are given), while reader threads run
hybrid searches and "more like this" under the shared side, as requests do. Two cases:

- ``build``: the index grows past ``exact_below`` (= ``--items``) and builds its HNSW graph;
- ``compact``: an index with a graph passes 20% retired rows (removals) and is compacted,
  which rebuilds the graph over the remaining ~80%.

``--mode inline`` rebuilds within the write that makes it due (what main does; the script
also runs against main's code, which has nothing else). ``--mode background`` calls
``rebuild_in_background()``, as the service does. Recorded from the write that makes the
rebuild due until it is swapped in (plus one second): the longest hold of the write lock,
the longest wait of a reader for the read lock, the slowest search (wait included), and
the swap itself when the code has one. The writes before are reported apart (the first
write after loading grows the index's arrays).

    nice -n 10 .venv/bin/python scripts/bench_rebuild.py --case build --mode background
    PYTHONPATH=/tmp/main nice -n 10 .venv/bin/python scripts/bench_rebuild.py \
        --case build --mode inline

The starting index of each case is built once and kept under ``var/bench/rebuild-<items>``.
Figures are appended to ``var/bench/rebuild.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.encoder import HashingEncoder
from embeddings.options import VectorOptions
from embeddings.search import SemanticIndex
from embeddings.storage import has_snapshot
from graph.rwlock import ReadWriteLock

REPO = Path(__file__).resolve().parents[1]
DIMENSION = 384
WORDS = [f"w{i}" for i in range(5_000)]
BATCH, EVERY = 10, 0.25


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--case", choices=["build", "compact"], required=True)
    parser.add_argument("--mode", choices=["inline", "background"], required=True)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--bench-dir", type=Path, default=REPO / "var" / "bench")
    parser.add_argument("--json", type=Path, default=REPO / "var" / "bench" / "rebuild.json")
    return parser.parse_args()


def items(start: int, stop: int, seed: int) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """(id, text) pairs and their vectors for ids start..stop-1 (the same for the same seed)."""
    rng = np.random.default_rng([seed, start])
    n = stop - start
    vectors = rng.standard_normal((n, DIMENSION)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    words = rng.integers(0, len(WORDS), size=(n, 8))
    ids = [f"item:{i:07d}" for i in range(start, stop)]
    texts = [" ".join(WORDS[w] for w in row) for row in words]
    return list(zip(ids, texts, strict=True)), dict(zip(ids, vectors, strict=True))


def starting_index(case: str, total: int, seed: int, folder: Path) -> SemanticIndex:
    """The index just before the rebuild is due, built once and kept in ``folder``."""
    encoder = HashingEncoder(DIMENSION)
    if has_snapshot(folder):
        return SemanticIndex.load(encoder, folder)
    started = time.perf_counter()
    if case == "build":  # just below the threshold
        index = SemanticIndex(encoder, folder=folder, vectors=VectorOptions(exact_below=total))
        count = total - 3 * BATCH
    else:  # a graph, with retired rows just below 20%
        index = SemanticIndex(encoder, folder=folder, vectors=VectorOptions(exact_below=total // 2))
        count = total
    for start in range(0, count, 20_000):
        pairs, vectors = items(start, min(count, start + 20_000), seed)
        index.upsert(pairs, known=vectors)
    if case == "compact":
        index.remove(f"item:{i:07d}" for i in range(0, 5 * (total // 5 - 3 * BATCH), 5))
    index.save(watermark=0)
    print(f"built the starting index in {time.perf_counter() - started:.0f} s", flush=True)
    return index


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holds: list[tuple[float, float, float]] = []  # (when, held, waited and held)
        self.reads: list[tuple[float, float, float]] = []  # (when, lock wait, total)

    def hold(self, when: float, held: float, total: float) -> None:
        with self.lock:
            self.holds.append((when, held, total))

    def read(self, when: float, wait: float, total: float) -> None:
        with self.lock:
            self.reads.append((when, wait, total))


def reader(index: SemanticIndex, lock: ReadWriteLock, rec: Recorder, stop: threading.Event,
           total: int, seed: int) -> None:  # fmt: skip
    rng = np.random.default_rng(seed)
    while not stop.is_set():
        text = " ".join(WORDS[w] for w in rng.integers(0, len(WORDS), 2))
        item = f"item:{int(rng.integers(1, total // 10)) * 5 - 1:07d}"  # never removed
        started = time.perf_counter()
        with lock.read():
            entered = time.perf_counter()
            if rng.random() < 0.5:
                index.search(text, 10)
            else:
                index.similar(item, 10)
        done = time.perf_counter()
        rec.read(started, entered - started, done - started)
        time.sleep(0.005)


def writer(index: SemanticIndex, lock: ReadWriteLock, rec: Recorder, stop: threading.Event,
           case: str, total: int, seed: int) -> None:  # fmt: skip
    step = 0
    while not stop.is_set():
        if case == "build":
            start = total - 3 * BATCH + step * BATCH
            pairs, vectors = items(start, start + BATCH, seed)
            prepared = index.prepare(pairs, known=vectors)
            gone: list[str] = []
        else:
            first = 2 + step * BATCH * 5  # ids 2 mod 5: the start removed 0 mod 5
            gone = [f"item:{i:07d}" for i in range(first, first + 5 * BATCH, 5)]
            prepared = index.prepare([])
        started = time.perf_counter()
        with lock.write():
            acquired = time.perf_counter()
            index.remove(gone)
            index.apply(prepared)
        rec.hold(started, time.perf_counter() - acquired, time.perf_counter() - started)
        step += 1
        time.sleep(EVERY)


def timed_swaps(index: SemanticIndex) -> list[float]:
    """The duration of every swap of a background rebuild (none on code without them)."""
    swaps: list[float] = []
    finish: Callable[..., bool] | None = getattr(index.vectors, "finish_rebuild", None)
    if finish is None:
        return swaps

    def timed(plan: Any) -> bool:
        started = time.perf_counter()
        try:
            return finish(plan)
        finally:
            swaps.append(time.perf_counter() - started)

    index.vectors.finish_rebuild = timed  # type: ignore[method-assign]
    return swaps


def ms(value: float) -> float:
    return round(value * 1000.0, 1)


def main() -> None:
    options = parse()
    folder = options.bench_dir / f"rebuild-{options.items}" / options.case
    index = starting_index(options.case, options.items, options.seed, folder)
    if options.mode == "background":
        index.rebuild_in_background()
    had_graph = index.vectors.uses_hnsw
    size_before = len(index.vectors)
    swaps = timed_swaps(index)
    lock, rec, stop = ReadWriteLock(), Recorder(), threading.Event()
    threads = [
        threading.Thread(
            target=reader, args=(index, lock, rec, stop, options.items, options.seed + r)
        )
        for r in range(options.readers)
    ]
    threads.append(threading.Thread(target=writer, args=(index, lock, rec, stop, options.case,
                                                         options.items, options.seed)))  # fmt: skip
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    rebuilt_at = None
    shown = began
    while time.perf_counter() - began < 3_600:
        time.sleep(0.05)
        if time.perf_counter() - shown > 60:
            shown = time.perf_counter()
            hold = max((s for _, s, _ in rec.holds), default=0.0)
            print(f"{shown - began:.0f} s: {len(rec.holds)} writes, {len(rec.reads)} reads, "
                  f"longest hold {ms(hold):.0f} ms", flush=True)  # fmt: skip
        busy = getattr(index, "rebuilding", False)
        if options.case == "build" and index.vectors.uses_hnsw and not busy:
            rebuilt_at = time.perf_counter()
        if options.case == "compact" and len(rec.holds) >= 5 and not busy:
            rebuilt_at = time.perf_counter()  # the 4th write made it due
        if rebuilt_at is not None:
            break
    time.sleep(1.0)
    stop.set()
    for thread in threads:
        thread.join()
    if rebuilt_at is None:
        raise SystemExit("the rebuild did not finish within an hour")
    # The write that makes the rebuild due: the 3rd (build) or the 4th (compact). The ones
    # before it are reported apart: the first write after loading grows the arrays.
    trigger = 2 if options.case == "build" else 3
    due_at = rec.holds[trigger][0]
    holds = [s for _, s, _ in rec.holds]
    writes = [t for _, _, t in rec.holds]
    waits = [w for when, w, _ in rec.reads if when >= due_at]
    totals = [t for when, _, t in rec.reads if when >= due_at]
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "case": options.case,
        "mode": options.mode,
        "items": size_before,
        "graph": {"before": had_graph, "after": index.vectors.uses_hnsw},
        "rebuild_seconds": round(rebuilt_at - due_at, 1),
        "writes": len(holds),
        "longest_write_hold_before_due_ms": ms(max(holds[:trigger])),
        "longest_write_hold_ms": ms(max(holds[trigger:])),
        "slowest_write_ms": ms(max(writes[trigger:])),  # waiting for the lock included
        "searches": len(totals),
        "longest_read_lock_wait_ms": ms(max(waits)),
        "slowest_search_ms": ms(max(totals)),
        "search_p50_ms": ms(float(np.percentile(totals, 50))),
        "search_p99_ms": ms(float(np.percentile(totals, 99))),
        "swaps_ms": [ms(s) for s in swaps],
        "write_holds_ms": [ms(s) for s in holds],
        "writes_ms": [ms(s) for s in writes],
    }
    runs = json.loads(options.json.read_text()) if options.json.exists() else []
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps([*runs, result], indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
