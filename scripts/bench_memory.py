#!/usr/bin/env python
"""Benchmark: memory of the graph view per worker, networkx against the compact arrays.

For a store (``--data-dir``, made with ``cocreate demo --people N``; or ``--people N`` to
make one in a scratch folder), starts ``--workers`` fresh processes per mode, each of
which builds the view as the service does at start and then reads every node and every
adjacency row once (as the audience index and the visible counts do), and reports:

- ``rss_*``: resident memory after importing, after the nodes (networkx only: the nodes
  with their attributes are added first, then the edges) and after the whole view;
- with every worker of a mode alive at once, each one's RSS, PSS (shared pages divided
  among the processes mapping them) and USS (pages only it holds), from psutil;
- ``touch_seconds``: reading every node and row once; ``walk_seconds``: reading the kind
  of every neighbour of 2,000 people (what a recommendation reads around its seed);
- for ``compact``: the seconds and peak RSS of writing the files (one worker does it) and
  their size on disk, nodes (ids and attribute columns) and edges (both CSR directions).

    .venv/bin/python scripts/bench_memory.py --people 10000
    .venv/bin/python scripts/bench_memory.py --data-dir /tmp/demo100k --workers 2

Prints the figures as JSON (and writes them to ``--json``).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MIB = 1024 * 1024


def _rss() -> float:
    return float(psutil.Process().memory_info().rss) / MIB


def _touch(graph: Any) -> int:
    """Read every node's attributes and every adjacency row once; how many entries."""
    seen = 0
    for _, attrs in graph.nodes(data=True):
        seen += len(attrs)
    for node in graph:
        seen += len(graph._succ[node]) + len(graph._pred[node])
    return seen


def _walk(graph: Any, people: int = 2_000) -> float:
    """Seconds to read, for ``people`` people (every k-th by id), each neighbour's kind: the
    reads a recommendation makes around its seed."""
    chosen = sorted(n for n in graph if n.startswith("person:"))
    chosen = chosen[:: max(1, len(chosen) // people)][:people]
    started = time.perf_counter()
    nodes = graph._node
    for node in chosen:
        for row in (graph._succ[node], graph._pred[node]):
            for other, keys in row.items():
                if nodes[other]["kind"] and keys:
                    pass
    return time.perf_counter() - started


def worker(mode: str, data_dir: Path) -> None:
    """One process: build the view, touch it, print the figures, wait for stdin to close."""
    import networkx as nx

    from graph.store import Store
    from graph.view import GraphView

    store = Store.open(data_dir / "cocreate.db")
    figures: dict[str, Any] = {"pid": os.getpid(), "mode": mode, "rss_imported": _rss()}
    started = time.perf_counter()
    if mode == "networkx":
        graph = nx.MultiDiGraph()
        gc.disable()  # as GraphView.from_store does
        _load_nodes_only(store, graph)
        figures["rss_nodes"] = _rss()
        _load_edges(store, graph)
        gc.enable()
        view = GraphView(graph, seq=0, store=store)
    else:
        view = GraphView.open_compact(store, data_dir / "graph")
    figures["build_seconds"] = round(time.perf_counter() - started, 2)
    figures["rss_view"] = _rss()
    started = time.perf_counter()
    figures["entries_read"] = _touch(view.graph)
    figures["touch_seconds"] = round(time.perf_counter() - started, 2)
    figures["rss_after_reading"] = _rss()
    figures["walk_seconds"] = round(_walk(view.graph), 3)
    figures["nodes"], figures["edges"] = view.graph.number_of_nodes(), view.graph.number_of_edges()
    print(json.dumps(figures), flush=True)
    sys.stdin.read()  # the parent measures every worker at once, then closes it


def _load_nodes_only(store: Any, graph: Any) -> None:
    from sqlalchemy import select

    from graph.view import _COLUMNS, _attrs

    with store.engine.connect() as conn:
        graph.add_nodes_from((row.id, _attrs(row)) for row in conn.execute(select(*_COLUMNS)))


def _load_edges(store: Any, graph: Any) -> None:
    from sqlalchemy import select

    from graph import schema

    t = schema.edges
    with store.engine.connect() as conn:
        rows = conn.execute(select(t.c.source, t.c.target, t.c.kind))
        graph.add_edges_from((row[0], row[1], row[2], {}) for row in rows)


def write_files(data_dir: Path) -> dict[str, Any]:
    """Write the compact files in this process (as the one worker that writes them does)."""
    from graph.compact_files import GraphFiles, read_arrays
    from graph.store import Store

    store = Store.open(data_dir / "cocreate.db")
    files = GraphFiles(data_dir / "graph")
    before = _rss()
    started = time.perf_counter()
    with files.locked():
        name = files.write(read_arrays(store))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    folder = data_dir / "graph" / name
    sizes = {p.stem: p.stat().st_size for p in folder.iterdir()}
    node_bytes = sum(v for k, v in sizes.items() if k == "ids" or k.startswith("column_"))
    edge_bytes = sum(v for k, v in sizes.items() if k.startswith(("out_", "in_")))
    return {
        "write_seconds": round(seconds, 2),
        "rss_before_write": round(before, 1),
        "peak_rss_write": round(peak, 1),
        "files_mib": round(sum(sizes.values()) / MIB, 1),
        "node_files_mib": round(node_bytes / MIB, 1),
        "edge_files_mib": round(edge_bytes / MIB, 1),
    }


def _spawn(args: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, __file__, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True, env=env,
    )  # fmt: skip


def measure(mode: str, data_dir: Path, workers: int) -> dict[str, Any]:
    """Start ``workers`` processes one after the other, then measure them all at once."""
    found: dict[str, Any] = {"workers": []}
    if mode == "compact":
        shutil.rmtree(data_dir / "graph", ignore_errors=True)
        done = subprocess.run(
            [sys.executable, __file__, "--write-files", str(data_dir)], capture_output=True,
            text=True, check=True, env={**os.environ, "PYTHONPATH": str(REPO)},
        )  # fmt: skip
        found["files"] = json.loads(done.stdout.strip().splitlines()[-1])
    processes = []
    for _ in range(workers):
        process = _spawn(["--worker", mode, str(data_dir)])
        assert process.stdout is not None
        figures = json.loads(process.stdout.readline())
        processes.append((process, figures))
    for process, figures in processes:
        full = psutil.Process(process.pid).memory_full_info()
        figures.update(rss_all_alive=full.rss / MIB, pss=full.pss / MIB, uss=full.uss / MIB)
        found["workers"].append({k: round(v, 1) if isinstance(v, float) else v
                                 for k, v in figures.items()})  # fmt: skip
    for process, _ in processes:
        assert process.stdin is not None
        process.stdin.close()
        process.wait()
    found["pss_total"] = round(sum(w["pss"] for w in found["workers"]), 1)
    found["rss_total"] = round(sum(w["rss_all_alive"] for w in found["workers"]), 1)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="a store made by cocreate demo")
    parser.add_argument("--people", type=int, default=None, help="make a demo store of N people")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--modes", default="networkx,compact")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--worker", nargs=2, metavar=("MODE", "DIR"), help=argparse.SUPPRESS)
    parser.add_argument("--write-files", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]))
        return
    if args.write_files:
        print(json.dumps(write_files(args.write_files)))
        return
    scratch = None
    data_dir = args.data_dir
    if data_dir is None:
        if args.people is None:
            parser.error("give --data-dir or --people")
        scratch = Path(tempfile.mkdtemp(prefix="bench-memory-"))
        data_dir = scratch
        env = {**os.environ, "PYTHONPATH": str(REPO), "COCREATE_DATA_DIR": str(data_dir)}
        subprocess.run(
            [sys.executable, "-m", "api", "demo", "--people", str(args.people),
             "--seed", str(args.seed)], check=True, env=env, capture_output=True,
        )  # fmt: skip
    try:
        report: dict[str, Any] = {"data_dir": str(data_dir), "workers": args.workers}
        for mode in args.modes.split(","):
            report[mode] = measure(mode, data_dir, args.workers)
        text = json.dumps(report, indent=2)
        print(text)
        if args.json is not None:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(text + "\n")
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
