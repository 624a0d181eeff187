#!/usr/bin/env python
"""Benchmark: councils' figures after a write, and /v1/stats, by network size.

For each size the script measures, in one process, on the graph view a worker holds:

- **lock holds**: how long each building block holds the feed's read lock: the
  snapshot and places of an audience, and the copy of what a figure walks that the
  background computation takes (``graph.analytics.pinned.freeze``);
- **after a write**, per figure (overlap, and bridges, groups, gaps, synergies and a
  council proposal for a few sectors): what a request waits for and how long the next
  write waits to be applied meanwhile. BASELINE: the figure computed by the request,
  holding the read lock (``staleness`` 0, the engine before this change). NEW: the figure
  of the version before answered at once and the current one computed in the background,
  while a write is applied every 0.25 s (their longest wait, and how many background
  reads met a write and were read again under the lock, are reported);
- **/v1/stats**: BASELINE the SQL counts of ``graph.listing`` per audience (what the route
  did), NEW ``graph.counts.VisibleCounts`` (first use, then per request after a write,
  and its cost in the feed's apply).

The network is made by ``cocreate generate`` and ``cocreate import --no-vectors`` into
``var/bench/analytics-<people>-seed<seed>/``; text vectors are random unit vectors (no
model is loaded: the figures' costs do not depend on what the vectors say, their values
do). Figures go to ``var/bench/analytics.json``.

    .venv/bin/python scripts/bench_analytics.py --sizes 10000,100000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_audience import cocreate, open_index

from api.services import open_store
from api.settings import Settings
from api.similarity import IndexSimilarity
from embeddings.threads import single_threaded_blas
from graph.analytics import SectorAnalytics, load_regions
from graph.analytics.freshness import PrivacyEpochs, Staleness
from graph.analytics.pinned import freeze
from graph.analytics.snapshot import build_places, build_snapshot
from graph.counts import AUDIENCES, VisibleCounts
from graph.feed import ChangeFeed
from graph.listing import count_edges, count_nodes
from graph.model import Person
from graph.store import Store
from graph.view import GraphView
from graph.visibility import ListingAudience

SECTORS = ("sector:education", "sector:health", "sector:environment")
WRITE_EVERY = 0.25  # seconds between writes while a figure is computed in the background
LENIENT = Staleness(max_changes=1_000_000, max_seconds=3600.0)
SQL_AUDIENCE = {
    "public": ListingAudience(visibilities=frozenset({"public"})),
    "members": ListingAudience(visibilities=frozenset({"public", "members"})),
    "all": ListingAudience(visibilities=None, include_undiscoverable=True, respect_locality=False),
}


def ensure_store(folder: Path, people: int, seed: int) -> None:
    """Generate and import the network (no vectors) into ``folder`` unless it is there."""
    marker = folder / "built.json"
    if marker.is_file():
        return
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("cocreate.db*"):
        stale.unlink()
    data = folder / "people.jsonl"
    if not data.is_file():
        cocreate(folder, "generate", "--people", str(people), "--seed", str(seed), str(data))
    output = cocreate(folder, "import", "--no-vectors", str(data))
    data.unlink()
    marker.write_text(json.dumps({"people": people, "seed": seed, "import": output}) + "\n")


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    found = work()
    return time.perf_counter() - started, found


class World:
    """A worker's derived state over one store: view, feed, counts and privacy epochs."""

    def __init__(self, folder: Path, seed: int) -> None:
        self.settings = Settings(data_dir=folder)
        self.store: Store = open_store(self.settings)
        self.view = GraphView.from_store(self.store)
        self.counts = VisibleCounts(self.view)
        self.epochs = PrivacyEpochs(self.view)
        self.feed = ChangeFeed(self.store, [self.view, self.counts, self.epochs], seq=self.view.seq)
        self.similarity = IndexSimilarity(open_index(folder, self.store, seed))
        self.regions = load_regions(self.settings.reference_dir)
        self.written = 0
        self.sectors = len(SECTORS)
        self.run = datetime.now(UTC).strftime("%Y%m%d%H%M%S")  # ids no earlier run wrote

    def engine(self, staleness: Staleness) -> SectorAnalytics:
        return SectorAnalytics(self.store, self.view, self.regions, lock=self.feed.lock,
                               epochs=self.epochs, staleness=staleness)  # fmt: skip

    def write(self) -> float:
        """Write a new public person and apply it; how long the apply waited and took."""
        self.written += 1
        self.store.write([Person(id=f"person:bench-{self.run}-{self.written}", name="Bench")])
        seconds, _ = timed(self.feed.step)
        return seconds

    def figures(self, engine: SectorAnalytics) -> dict[str, Callable[[], Any]]:
        sim = self.similarity
        found: dict[str, Callable[[], Any]] = {"overlap": lambda: engine.overlap("public", sim)}
        for s in SECTORS[: self.sectors]:
            name = s.partition(":")[2]
            found[f"bridges {name}"] = lambda s=s: engine.bridges("public", s)  # type: ignore[misc]
            found[f"groups {name}"] = lambda s=s: engine.groups("public", sim, s)  # type: ignore[misc]
            found[f"gaps {name}"] = lambda s=s: engine.gaps("public", s)  # type: ignore[misc]
            found[f"synergies {name}"] = lambda s=s: engine.synergies(  # type: ignore[misc]
                "public", sim, s, other=None, kind="initiative"
            )
            found[f"council {name}"] = lambda s=s: engine.propose("members", sim, s)  # type: ignore[misc]
        return found


def read(world: World, work: Callable[[], Any]) -> tuple[float, Any]:
    """``work`` as a request does it: under the feed's read lock."""
    with world.feed.lock.read():
        return timed(work)


class Request(threading.Thread):
    """A request in its own thread, holding the read lock while it computes."""

    def __init__(self, world: World, ask: Callable[[], Any]) -> None:
        super().__init__()
        self.world, self.ask = world, ask
        self.entered = threading.Event()
        self.took = 0.0
        self.start()

    def run(self) -> None:
        with self.world.feed.lock.read():
            self.entered.set()
            self.took = timed(self.ask)[0]


def lock_holds(world: World) -> dict[str, float]:
    graph, seq = world.view.graph, world.view.seq
    found: dict[str, float] = {}
    for audience in ("public", "members"):
        took, snap = timed(lambda a=audience: build_snapshot(graph, seq=seq, audience=a,
                                                              regions=world.regions))  # fmt: skip
        found[f"snapshot {audience}"] = ms(took)
        found[f"places {audience}"] = ms(timed(lambda s=snap: build_places(graph, s))[0])
    members = [n for ids in snap.members(SECTORS[0]).values() for n in ids]
    found["freeze: one sector's members"] = ms(timed(lambda: freeze(graph, members))[0])
    everyone = [n for n in snap.sector_mask if snap.kind[n] == "initiative"]
    found["freeze: initiatives of every sector"] = ms(timed(lambda: freeze(graph, everyone))[0])
    found["freeze: no node"] = ms(timed(lambda: freeze(graph, []))[0])
    return found


def after_a_write(world: World, wanted: set[str] | None) -> dict[str, dict[str, float]]:
    """Per figure: BASELINE and NEW request time after a write, and the next write's wait."""
    results: dict[str, dict[str, float]] = {}
    baseline, new = world.engine(Staleness()), world.engine(LENIENT)
    for name in world.figures(baseline):
        if wanted is not None and name.partition(" ")[0] not in wanted:
            continue
        row: dict[str, float] = {}
        # BASELINE: the request computes under the read lock; a write arrives meanwhile.
        world.write()
        request = Request(world, world.figures(baseline)[name])
        request.entered.wait()
        row["baseline_write_wait_ms"] = ms(world.write())
        request.join()
        row["baseline_request_ms"] = ms(request.took)
        # NEW: warm at one version, write, then the request answers the older figure.
        read(world, world.figures(new)[name])
        new.settle()
        world.write()
        took, answer = read(world, world.figures(new)[name])
        row["new_request_ms"] = ms(took)
        row["new_answer_current"] = float(answer.current)
        waits = []
        started = time.perf_counter()
        locked = new.locked_reads
        while not new.settle(timeout=0.0):
            waits.append(world.write())
            time.sleep(WRITE_EVERY)
        new.settle()
        row["new_background_ms"] = ms(time.perf_counter() - started)
        row["new_writes_during"] = len(waits)
        row["new_write_wait_max_ms"] = ms(max(waits, default=0.0))
        row["new_reads_again_under_lock"] = new.locked_reads - locked
        results[name] = row
        print(f"  {name}: {row}", flush=True)
    return results


def stats(world: World) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for audience in AUDIENCES:
        seen = SQL_AUDIENCE[audience]
        took, sql = timed(lambda s=seen: {"nodes": count_nodes(world.store, s),
                                          "edges": count_edges(world.store, s)})  # fmt: skip
        found[f"sql {audience} ms"] = ms(took)
        first, kept = read(world, lambda a=audience: world.counts.counts(a))
        found[f"counts first use {audience} ms"] = ms(first)
        assert kept == sql, audience  # the same numbers
    applies = [world.write() for _ in range(20)]
    found["write applied with counts kept, median ms"] = ms(statistics.median(applies))
    asks = [
        read(world, lambda a=a: world.counts.counts(a))[0] for _ in range(50) for a in AUDIENCES
    ]
    found["counts per request median ms"] = round(statistics.median(asks) * 1000, 3)
    found["counts per request max ms"] = round(max(asks) * 1000, 3)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="people, comma-separated")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sectors", type=int, default=3, help="sectors measured (1-3)")
    parser.add_argument(
        "--figures",
        default="all",
        help="comma-separated names of the figures measured after a write (e.g. "
        "overlap,gaps); 'all'; 'none' for the lock holds and /v1/stats only",
    )
    parser.add_argument("--bench-dir", type=Path, default=Path("var/bench"))
    parser.add_argument("--json", type=Path, default=Path("var/bench/analytics.json"))
    options = parser.parse_args()
    single_threaded_blas()
    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "sizes": {},
    }
    for people in (int(s) for s in options.sizes.split(",")):
        folder = options.bench_dir / f"analytics-{people}-seed{options.seed}"
        ensure_store(folder, people, options.seed)
        world = World(folder, options.seed)
        world.sectors = options.sectors
        graph = world.view.graph
        print(f"{people} people: {graph.number_of_nodes()} nodes, "
              f"{graph.number_of_edges()} edges", flush=True)  # fmt: skip
        size: dict[str, Any] = {"nodes": graph.number_of_nodes(), "edges": graph.number_of_edges()}
        size["stats"] = stats(world)
        print(f"  stats: {size['stats']}", flush=True)
        size["lock_holds_ms"] = lock_holds(world)
        print(f"  lock holds: {size['lock_holds_ms']}", flush=True)
        if options.figures != "none":
            wanted = None if options.figures == "all" else set(options.figures.split(","))
            size["after_a_write"] = after_a_write(world, wanted)
        report["sizes"][str(people)] = size
        world.store.close()
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {options.json}")


if __name__ == "__main__":
    main()
