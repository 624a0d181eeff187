#!/usr/bin/env python
"""Benchmark: how widely a search's HNSW walk must look, on a service's saved index.

Opens the store and search index of ``--data-dir`` (as ``cocreate serve`` would, the
search's text encoded as the service encodes it) and takes ``--queries`` people's
interests as queries, as ``scripts/bench_http.py`` does. For each efSearch of
``--walks``, it reports:

- recall@depth of the walk against exact search over every live vector, and over a
  random quarter of them (a filter that leaves a walk, not an exact search);
- milliseconds of CPU a walk takes (one thread, best of ``--rounds`` rounds);
- how the hybrid's ten results compare with those of the index's own efSearch (the
  share of queries whose ten are the same, in the same order, and the mean overlap).

    .venv/bin/python scripts/bench_walk.py --data-dir IDX100K --json var/bench/walk.json

Run on a quiet machine: the milliseconds are CPU time, but caches are shared.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sqlite3
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("COCREATE_ENCODER_THREADS", "1")
os.environ["COCREATE_QUERY_CACHE"] = "0"

import numpy as np  # noqa: E402

from api.services import Services, ask_with_own_encoder  # noqa: E402
from api.settings import Settings  # noqa: E402


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="a served data folder")
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--walks", default="64,96,128,192,256", help="efSearch values")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path)
    return parser.parse_args()


def interests(database: Path, count: int) -> list[str]:
    """People's first two interests, as someone would type them (distinct)."""
    listed = "kind = 'person' AND visibility = 'public' AND discoverable"
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        rows = conn.execute(f"SELECT data FROM nodes WHERE {listed} ORDER BY id LIMIT ?",
                            (count * 20,)).fetchall()  # fmt: skip
    found = ("; ".join(json.loads(row[0]).get("interests", [])[:2]) for row in rows)
    return list(dict.fromkeys(text for text in found if text))[:count]


def main() -> None:
    options = parse_options()
    walks = [int(w) for w in options.walks.split(",")]
    settings = Settings(data_dir=options.data_dir)
    services = Services.load(settings, defer_indexing=True)
    index = services.search.index
    ask_with_own_encoder(index, settings)
    vectors = index.vectors
    if not vectors.uses_hnsw:
        raise SystemExit("this index is searched exactly: there is no walk to measure")
    texts = interests(settings.data_dir / "cocreate.db", options.queries)
    queries = np.stack([index.query_vector(text) for text in texts])
    depth = index.ranking.depth
    live = np.flatnonzero(vectors._alive[: vectors._size])
    quarter_mask = np.zeros(vectors._size, dtype=bool)
    rng = np.random.default_rng(options.seed)
    quarter_mask[live[rng.random(live.size) < 0.25]] = True
    quarter = np.flatnonzero(quarter_mask)
    truth = [{i for i, _ in vectors._exact(q, depth, live)} for q in queries]
    truth_quarter = [{i for i, _ in vectors._exact(q, depth, quarter)} for q in queries]
    own = vectors.ef_search

    def tops(walk: int) -> list[list[str]]:
        index.ranking = replace(index.ranking, walk=walk)
        return [[hit.id for hit in index.search(text, 10)] for text in texts]

    reference = tops(own)
    results: list[dict[str, Any]] = []
    for walk in walks:
        best = float("inf")
        for _ in range(options.rounds):
            started = time.process_time()
            found = [vectors._ann(q, depth, None, walk) for q in queries]
            best = min(best, (time.process_time() - started) / len(queries) * 1000)
        among = [vectors._ann(q, depth, quarter_mask, walk) for q in queries]
        ten = tops(walk)
        pairs = list(zip(ten, reference, strict=True))
        results.append({
            "ef_search": walk,
            "recall": _recall(found, truth, depth),
            "recall_quarter": _recall(among, truth_quarter, depth),
            "walk_ms": round(best, 3),
            "hybrid_same_ten": round(float(np.mean([a == b for a, b in pairs])), 3),
            "hybrid_overlap": round(
                float(np.mean([len(set(a) & set(b)) / 10 for a, b in pairs])), 4
            ),
        })  # fmt: skip
    services.close()
    report = {"items": len(live), "queries": len(texts), "depth": depth, "index_ef": own,
              "walks": results}  # fmt: skip
    print(f"{len(live):,} vectors, {len(texts)} queries, depth {depth}, the index's own "
          f"efSearch {own}\n")  # fmt: skip
    print("| efSearch | recall@depth | among a quarter | walk, ms CPU | hybrid ten the same "
          "| overlap |\n|---:|---:|---:|---:|---:|---:|")  # fmt: skip
    for row in results:
        print(f"| {row['ef_search']} | {row['recall']:.4f} | {row['recall_quarter']:.4f} | "
              f"{row['walk_ms']:.2f} | {row['hybrid_same_ten']:.3f} | "
              f"{row['hybrid_overlap']:.4f} |")  # fmt: skip
    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps(report, indent=2))


def _recall(found: list[list[tuple[str, float]]], truth: list[set[str]], depth: int) -> float:
    hits = sum(len({i for i, _ in got} & wanted) for got, wanted in zip(found, truth, strict=True))
    return round(hits / (depth * len(truth)), 4)


if __name__ == "__main__":
    main()
