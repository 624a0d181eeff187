#!/usr/bin/env python
"""Benchmark: semantic search in-process, on real embeddings of the demo network's texts.

For each size N (``--sizes``) the first N node texts of ``demo_records(people=N)``
(everything but people first, then people to fill; each text as ``graph.texts.node_text``
gives it) are encoded with the real model once and cached under ``var/bench/`` as
``vectors-<model>-seed<S>-n<N>.npy`` (with a ``.json`` holding a digest of the texts,
so a changed generator is never served stale vectors). Then, per size:

- index build: ``SemanticIndex.upsert`` of the N items with their cached vectors (the
  encoder is bypassed, so this is the vector, HNSW and BM25 build alone);
- memory: process RSS delta over the build / N, and the saved index's files / N;
- query latency p50/p99 of ``search`` (hybrid, dense, lexical; query encoding
  included), of ``similar`` (more-like-this, no encoding) and of encoding one query
  alone, one query at a time;
- approximate-index recall@10 against exact search, with the service's HNSW options
  (at sizes the service would answer exactly, a graph is built just to measure it);
- restart: a fresh process loads the model, ``SemanticIndex.load``\\ s the saved index
  and answers a first query.

Queries are the interests of people sampled from the index: short, real texts.
Encode throughput is measured on them (short texts) and, when the cache is built,
on the corpus (long texts). HTTP figures are left to ``scripts/bench_http.py``
(key ``http`` stays null). Prints a Markdown table and writes JSON.

    .venv/bin/python scripts/bench_search.py --sizes 10000,100000 --queries 300
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import logging
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from embeddings.encoder import Encoder, load_encoder
from embeddings.options import VectorOptions
from embeddings.ranking import Matrix
from embeddings.search import Mode, SemanticIndex
from embeddings.threads import single_threaded_blas
from embeddings.vectors import VectorIndex
from graph.demo import demo_records
from graph.edges import Edge
from graph.model import Person
from graph.texts import node_text

log = logging.getLogger("bench_search")

REPO = Path(__file__).resolve().parents[1]
Item = tuple[str, str]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "lexical")
CHUNK = 5_000  # texts encoded per call while building the cache (progress is logged per chunk)
HTTP_NOTE = "to be added by the lead from scripts/bench_http.py (search routes over HTTP)"


class Precomputed:
    """An encoder answering from vectors computed beforehand, so a build skips the model."""

    def __init__(self, encoder: Encoder, texts: Sequence[str], vectors: Matrix) -> None:
        self.name, self.dimension = encoder.name, encoder.dimension
        self._row = {text: row for row, text in enumerate(texts)}
        self._vectors = vectors

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False
    ) -> Matrix:
        """The cached vectors of these texts (every text must have been given)."""
        return self._vectors[[self._row[text] for text in texts]]


def corpus(data_dir: Path, *, seed: int, size: int) -> tuple[list[Item], list[str]]:
    """``size`` (id, text) items of the demo network, and the interests of its people.

    Non-person nodes come first (DPG and local initiatives, organisations, communities,
    councils, events, Wisdom Book entries), then people fill up to ``size``.
    """
    others: list[Item] = []
    people: list[Item] = []
    interests: list[str] = []
    for record in demo_records(data_dir, seed=seed, people=size):
        if isinstance(record, Edge) or not (text := node_text(record)):
            continue
        if isinstance(record, Person):
            if len(people) < size:
                people.append((record.id, text))
                interests.append("; ".join(record.interests))
        else:
            others.append((record.id, text))
    kept = max(0, size - len(others))
    return others[:size] + people[:kept], [i for i in interests[:kept] if i]


def texts_digest(items: Sequence[Item]) -> str:
    """A digest of the (id, text) items, stored with the cached vectors."""
    digest = hashlib.sha1(usedforsecurity=False)
    for item_id, text in items:
        digest.update(f"{item_id}\0{text}\0".encode())
    return digest.hexdigest()


def cached_vectors(
    encoder: Encoder, items: Sequence[Item], *, seed: int, folder: Path
) -> tuple[Matrix, dict[str, Any]]:
    """The items' vectors, from ``folder`` or encoded and saved there, and the cache's metadata."""
    model = encoder.name.replace("/", "_")
    stem = folder / f"vectors-{model}-seed{seed}-n{len(items)}"
    npy, meta_path = stem.with_suffix(".npy"), stem.with_suffix(".json")
    digest = texts_digest(items)
    if npy.is_file() and meta_path.is_file():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("digest") == digest:
            log.info("vectors from cache %s", npy)
            return np.load(npy), meta
    vectors, seconds = encode_all(encoder, [text for _, text in items])
    folder.mkdir(parents=True, exist_ok=True)
    np.save(npy, vectors, allow_pickle=False)
    meta = {
        "digest": digest,
        "model": encoder.name,
        "seed": seed,
        "items": len(items),
        "encode_seconds": round(seconds, 1),
        "texts_per_s": round(len(items) / seconds, 1),
        "mean_words": round(float(np.mean([len(t.split()) for _, t in items])), 1),
        "torch_threads": _torch_threads(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "date": datetime.now(UTC).date().isoformat(),
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return vectors, meta


def _torch_threads() -> int:
    import torch

    return int(torch.get_num_threads())


def encode_all(encoder: Encoder, texts: Sequence[str]) -> tuple[Matrix, float]:
    """Encode texts in chunks, logging progress; the vectors and the seconds it took."""
    started = time.perf_counter()
    parts = []
    for start in range(0, len(texts), CHUNK):
        parts.append(encoder.encode(texts[start : start + CHUNK]))
        done = start + len(parts[-1])
        rate = done / (time.perf_counter() - started)
        log.info("encoded %d / %d texts (%.0f texts/s)", done, len(texts), rate)
    return np.concatenate(parts), time.perf_counter() - started


def percentiles(samples_ms: Sequence[float]) -> dict[str, float]:
    """p50, p99 and mean of latencies in milliseconds."""
    values = np.asarray(samples_ms)
    return {
        "p50_ms": round(float(np.percentile(values, 50)), 2),
        "p99_ms": round(float(np.percentile(values, 99)), 2),
        "mean_ms": round(float(values.mean()), 2),
    }


def timed(call: Callable[[str], object], arguments: Sequence[str]) -> dict[str, float]:
    """Latency percentiles of one call per argument, after three warm-up calls."""
    for argument in arguments[:3]:
        call(argument)
    samples = []
    for argument in arguments:
        started = time.perf_counter()
        call(argument)
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples)


def searcher(index: SemanticIndex, mode: Mode) -> Callable[[str], object]:
    """A one-argument search call in this mode, k = 10 (every query encoded: no cache)."""
    index.query_cache = 0
    return lambda text: index.search(text, 10, mode=mode)


def rss_bytes() -> int:
    """This process's resident set size, after a garbage collection."""
    gc.collect()
    return int(psutil.Process().memory_info().rss)


def exact_top(matrix: Matrix, queries: Matrix, k: int) -> list[set[int]]:
    """The rows of the k highest inner products of each query (brute force)."""
    found = []
    for query in queries:
        scores = matrix @ query
        found.append(set(np.argpartition(-scores, k)[:k].tolist()))
    return found


def ann_recall(
    index: SemanticIndex, items: Sequence[Item], vectors: Matrix, queries: Matrix, k: int = 10
) -> dict[str, Any]:
    """Recall@k of the HNSW graph (the service's options) against exact search."""
    ids = [item_id for item_id, _ in items]
    graph = index.vectors
    built_here = not graph.uses_hnsw
    if built_here:  # the service answers exactly at this size; build a graph to measure it
        graph = VectorIndex(vectors.shape[1], **{**asdict(VectorOptions()), "exact_below": 0})
        graph.upsert(ids, vectors)
    truth = exact_top(vectors, queries, k)
    row_of = {item_id: row for row, item_id in enumerate(ids)}
    hits = 0
    for query, expected in zip(queries, truth, strict=True):
        hits += len({row_of[item_id] for item_id, _ in graph.search(query, k)} & expected)
    return {
        "recall_at_10": round(hits / (k * len(queries)), 4),
        "queries": len(queries),
        "service_uses_hnsw": not built_here,
        **{key: value for key, value in asdict(VectorOptions()).items() if key != "exact_below"},
    }


def folder_bytes(folder: Path) -> dict[str, int]:
    """Bytes of the saved index by part (vectors.npy, hnsw.faiss, lexical, the rest)."""
    parts = {"vectors": 0, "hnsw": 0, "lexical": 0, "other": 0}
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        size = path.stat().st_size
        if path.name == "vectors.npy":
            parts["vectors"] += size
        elif path.name == "hnsw.faiss":
            parts["hnsw"] += size
        elif path.parent.name == "lexical":
            parts["lexical"] += size
        else:
            parts["other"] += size
    return parts


def restart_probe(folder: str, query: str) -> dict[str, float]:
    """In this (fresh) process: load the model, the saved index, and answer one query."""
    started = time.perf_counter()
    single_threaded_blas()
    encoder = load_encoder()
    loaded_model = time.perf_counter()
    index = SemanticIndex.load(encoder, folder)
    loaded_index = time.perf_counter()
    index.search(query, 10, mode="hybrid")
    answered = time.perf_counter()
    return {
        "model_load_s": round(loaded_model - started, 2),
        "index_load_s": round(loaded_index - loaded_model, 2),
        "first_query_s": round(answered - loaded_index, 3),
        "load_plus_first_query_s": round(answered - loaded_model, 2),
        "total_s": round(answered - started, 2),
    }


def measure_restart(folder: Path, query: str) -> dict[str, float]:
    """Run :func:`restart_probe` in a new Python process (nothing warm but the page cache)."""
    done = subprocess.run(
        [sys.executable, __file__, "--restart-probe", str(folder), query],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def bench_size(
    encoder: Encoder, size: int, *, seed: int, queries: int, cache: Path, work: Path
) -> dict[str, Any]:
    """Every figure for one index size."""
    items, interests = corpus(REPO / "data", seed=seed, size=size)
    vectors, cache_meta = cached_vectors(encoder, items, seed=seed, folder=cache)
    rng = random.Random(seed)
    texts = rng.sample(interests, min(queries, len(interests)))
    similar_ids = [item_id for item_id, _ in rng.sample(items, min(queries, len(items)))]

    precomputed = Precomputed(encoder, [t for _, t in items], vectors)
    before = rss_bytes()
    started = time.perf_counter()
    index = SemanticIndex(precomputed, folder=work)
    index.upsert(items)
    build_s = time.perf_counter() - started
    rss_delta = rss_bytes() - before
    uses_hnsw = index.vectors.uses_hnsw
    index.encoder = encoder  # queries are encoded by the real model from here on

    latency: dict[str, dict[str, float]] = {m: timed(searcher(index, m), texts) for m in MODES}
    latency["similar"] = timed(lambda i: index.similar(i, 10), similar_ids)
    latency["encode"] = timed(lambda t: encoder.encode([t]), texts)
    recall = ann_recall(index, items, vectors, encoder.encode(texts))

    started = time.perf_counter()
    index.save()
    save_s = time.perf_counter() - started
    disk = folder_bytes(work)
    return {
        "items": len(items),
        "vector_cache": cache_meta,
        "build_s": round(build_s, 2),
        "uses_hnsw": uses_hnsw,
        "memory": {
            "rss_delta_mib": round(rss_delta / 2**20, 1),
            "rss_bytes_per_item": round(rss_delta / len(items)),
            "saved_bytes_per_item": {k: round(v / len(items)) for k, v in disk.items()},
            "saved_mib": round(sum(disk.values()) / 2**20, 1),
        },
        "latency": latency,
        "ann": recall,
        "save_s": round(save_s, 2),
        "restart": measure_restart(work, texts[0]),
    }


def encode_throughput(encoder: Encoder, texts: Sequence[str]) -> dict[str, float]:
    """Texts per second encoding short texts in batches of 64 (after a warm-up batch)."""
    encoder.encode(list(texts[:64]))
    started = time.perf_counter()
    encoder.encode(list(texts))
    seconds = time.perf_counter() - started
    return {
        "texts": len(texts),
        "mean_words": round(float(np.mean([len(t.split()) for t in texts])), 1),
        "texts_per_s": round(len(texts) / seconds, 1),
    }


def machine() -> dict[str, Any]:
    """Where the figures come from."""
    return {
        "nproc": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "torch_threads": _torch_threads(),
        "python": platform.python_version(),
    }


ROWS: list[tuple[str, Callable[[dict[str, Any]], object]]] = [
    ("items", lambda r: r["items"]),
    ("HNSW in the service", lambda r: "yes" if r["uses_hnsw"] else "no (exact)"),
    ("index build, s (no encoding)", lambda r: r["build_s"]),
    ("corpus encode at cache build, texts/s", lambda r: r["vector_cache"].get("texts_per_s")),
    *[
        (f"{mode} p50 / p99, ms", lambda r, m=mode: _p(r["latency"][m]))
        for mode in (*MODES, "similar", "encode")
    ],
    ("ANN recall@10 vs exact", lambda r: r["ann"]["recall_at_10"]),
    ("RSS delta per item, bytes", lambda r: r["memory"]["rss_bytes_per_item"]),
    ("saved index per item, bytes", lambda r: _bytes(r["memory"]["saved_bytes_per_item"])),
    ("save, s", lambda r: r["save_s"]),
    ("restart: index load + 1st query, s", lambda r: r["restart"]["load_plus_first_query_s"]),
    ("restart: incl. model load, s", lambda r: r["restart"]["total_s"]),
]


def _p(latency: dict[str, float]) -> str:
    return f"{latency['p50_ms']:.1f} / {latency['p99_ms']:.1f}"


def _bytes(parts: dict[str, int]) -> str:
    total = sum(parts.values())
    return f"{total} (vectors {parts['vectors']}, hnsw {parts['hnsw']}, bm25 {parts['lexical']})"


def markdown(report: dict[str, Any]) -> str:
    """The figures as a Markdown table, one column per size."""
    sizes = report["sizes"]
    lines = [
        "| | " + " | ".join(f"{int(n):,} items" for n in sizes) + " |",
        "|---|" + "---:|" * len(sizes),
    ]
    lines += [
        f"| {name} | " + " | ".join(str(get(r)) for r in sizes.values()) + " |"
        for name, get in ROWS
    ]
    short = report["encode_short"]
    lines.append("")
    lines.append(
        f"Encode throughput, short texts ({short['texts']} texts, "
        f"{short['mean_words']} words on average, batches of 64): {short['texts_per_s']} texts/s."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated index sizes")
    parser.add_argument("--queries", type=int, default=300, help="queries per latency figure")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cache", type=Path, default=Path("var/bench"))
    parser.add_argument("--json", type=Path, default=Path("var/bench/search.json"))
    parser.add_argument(
        "--encode-only", action="store_true", help="only the batch encoding throughput"
    )
    parser.add_argument("--restart-probe", nargs=2, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.restart_probe:
        print(json.dumps(restart_probe(*options.restart_probe)))
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    sizes = [int(size) for size in options.sizes.split(",")]
    single_threaded_blas()  # as the service does (embeddings/threads.py)
    if options.encode_only:
        _, interests = corpus(REPO / "data", seed=options.seed, size=min(sizes))
        figures = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "encode_short": encode_throughput(load_encoder(), interests[:2000]),
        }
        print(json.dumps(figures, indent=2))
        return
    encoder = load_encoder()
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "scripts/bench_search.py " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "model": encoder.name,
        "seed": options.seed,
        "sizes": {},
        "http": None,
        "http_note": HTTP_NOTE,
    }
    for size in sizes:
        log.info("size %d", size)
        with tempfile.TemporaryDirectory(prefix="cocreate-bench-search-") as tmp:
            report["sizes"][str(size)] = bench_size(
                encoder,
                size,
                seed=options.seed,
                queries=options.queries,
                cache=options.cache,
                work=Path(tmp) / "index",
            )
    _, interests = corpus(REPO / "data", seed=options.seed, size=min(sizes))
    report["encode_short"] = encode_throughput(encoder, interests[:2000])
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(markdown(report))
    print(f"\nWritten to {options.json}")


if __name__ == "__main__":
    main()
