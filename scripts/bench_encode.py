#!/usr/bin/env python
"""Benchmark: texts per second of the ONNX encoder by precision, threads (of one session, or
sessions side by side), batch size and length bucketing, on a sample of the demo
network's texts.

The sample: ``--texts`` node texts (as ``graph.texts.node_text`` gives them, so mostly
people, as in a real network) drawn with ``--seed`` from ``demo_records(people=3000)``.
They are encoded the way the background indexer does it (``api.indexing``): calls of
``BATCH`` (512) texts, each call cut into model calls of at most ``batch_size`` x 128
padded tokens (``embeddings.onnx.ROW_TOKENS``), sorted by length first when bucketing is
on (so a call pads to similar lengths) and in their own order when it is off.
Every combination of ``--precisions`` x ``--threads`` x ``--batches`` x
bucketing is measured ``--rounds`` times, the rounds interleaved so that a change in the
machine's load touches every combination of one session alike (one session at a time:
a batch of 512 long texts takes ONNX Runtime's memory arena to gigabytes); the table gives
the best round (the least disturbed) and the JSON every round. Also: the median time to
encode one short query (``--queries`` of them, each alone), per precision and threads.

    .venv/bin/python scripts/bench_encode.py
    .venv/bin/python scripts/bench_encode.py --batches 64,128 --rounds 3 --json FILE

The machine's load average is recorded at the start and the end: on a shared machine the
wall-clock figures move with it; texts per second of the process's CPU time (user and
system, every thread) move much less, and say what a setting costs in work (padding,
arithmetic), though not what a second thread gains in wall-clock time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from api.indexing import BATCH  # noqa: E402
from embeddings.encoder import load_encoder  # noqa: E402
from embeddings.onnx import OnnxEncoder  # noqa: E402
from embeddings.quantize import PRECISIONS, Precision, parse_precision  # noqa: E402
from embeddings.threads import single_threaded_blas  # noqa: E402
from graph.demo import demo_records  # noqa: E402
from graph.edges import Edge  # noqa: E402
from graph.texts import node_text  # noqa: E402


def sample_texts(data_dir: Path, *, count: int, seed: int) -> list[str]:
    """``count`` node texts of the demo network (3,000 people), drawn with ``seed``."""
    texts = [
        text
        for record in demo_records(data_dir, seed=7, people=3000)
        if not isinstance(record, Edge) and (text := node_text(record))
    ]
    return random.Random(seed).sample(texts, min(count, len(texts)))


def session(precision: Precision, threads: str) -> OnnxEncoder:
    """An encoder of this precision: ``threads`` is ONNX Runtime's intra-op threads of one
    session (``2``), or sessions side by side and the threads of each (``2x1``)."""
    loaded = load_encoder(backend="onnx", precision=precision)
    assert isinstance(loaded, OnnxEncoder)
    sessions, _, each = threads.rpartition("x")
    return OnnxEncoder(
        loaded.path, loaded.onnx_path, name=loaded.name, threads=int(each),
        sessions=int(sessions or 1),
    )  # fmt: skip


def throughput(
    encoder: OnnxEncoder, texts: Sequence[str], *, batch: int, bucketing: bool
) -> tuple[float, float]:
    """Texts per second of wall-clock time and per second of this process's CPU time,
    encoding in calls of ``BATCH`` texts as the indexer does."""
    encoder.bucketing = bucketing
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(texts), BATCH):
        encoder.encode(texts[start : start + BATCH], batch_size=batch)
    return len(texts) / (time.perf_counter() - started), len(texts) / (time.process_time() - cpu)


def query_ms(encoder: OnnxEncoder, queries: Sequence[str]) -> float:
    """Median milliseconds to encode one short query alone."""
    times = []
    for query in queries:
        started = time.perf_counter()
        encoder.encode([query])
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run(options: argparse.Namespace) -> dict[str, Any]:
    single_threaded_blas()  # as the service does
    texts = sample_texts(options.data, count=options.texts, seed=options.seed)
    queries = [t[:60] for t in texts[: options.queries]]
    load_before = os.getloadavg()
    rounds: dict[str, list[float]] = {}
    per_cpu: dict[str, list[float]] = {}
    single: dict[str, float] = {}
    # One session at a time: a batch of 512 long texts takes ONNX Runtime's arena to
    # gigabytes, which four live sessions would each keep.
    for precision in options.precisions:
        for threads in options.threads:
            encoder = session(precision, threads)
            encoder.encode(texts[:64])  # warm-up: the first runs allocate
            for _ in range(options.rounds):
                for batch in options.batches:
                    for bucketing in (True, False):
                        key = f"{precision} threads={threads} batch={batch} bucketing={bucketing}"
                        rate, cpu = throughput(encoder, texts, batch=batch, bucketing=bucketing)
                        rounds.setdefault(key, []).append(round(rate, 1))
                        per_cpu.setdefault(key, []).append(round(cpu, 1))
                        print(f"{key}: {rate:.1f} texts/s, {cpu:.1f} per CPU s", file=sys.stderr)
            single[f"{precision} threads={threads}"] = round(query_ms(encoder, queries), 2)
            del encoder
    lengths = [len(t.split()) for t in texts]
    return {
        "command": "scripts/bench_encode.py " + " ".join(options.argv),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "nproc": os.cpu_count(),
            "cpu": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "load_average_1m_start": round(load_before[0], 2),
            "load_average_1m_end": round(os.getloadavg()[0], 2),
        },
        "sample": {
            "texts": len(texts),
            "words_median": statistics.median(lengths),
            "words_max": max(lengths),
            "call": BATCH,
        },
        "texts_per_s": {key: {"best": max(v), "rounds": v} for key, v in rounds.items()},
        "texts_per_cpu_s": {key: {"best": max(v), "rounds": v} for key, v in per_cpu.items()},
        "query_ms_median": single,
    }


def markdown(report: dict[str, Any], options: argparse.Namespace) -> str:
    """Rows: precision, threads, bucketing; columns: batch sizes (best round: texts per
    second of wall-clock time, in brackets per second of CPU time)."""
    head = "| precision | threads | bucketing | " + " | ".join(
        f"batch {b}" for b in options.batches
    )
    lines = [head + " |", "|---|---:|---|" + "---:|" * len(options.batches)]
    figures, cpu = report["texts_per_s"], report["texts_per_cpu_s"]
    for precision in options.precisions:
        for threads in options.threads:
            for bucketing in (True, False):
                keys = [f"{precision} threads={threads} batch={b} bucketing={bucketing}"
                        for b in options.batches]  # fmt: skip
                cells = [f"{figures[k]['best']:.0f} ({cpu[k]['best']:.0f})" for k in keys]
                on = "sorted by length" if bucketing else "off"
                lines.append(f"| {precision} | {threads} | {on} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "One short query alone, median ms: "
        + ", ".join(f"{k} {v}" for k, v in report["query_ms_median"].items())
    )
    return "\n".join(lines)


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",")]


def _layouts(text: str) -> list[str]:
    """``2,2x1``: one session of 2 threads; 2 sessions of 1 thread side by side."""
    layouts = [v.strip() for v in text.split(",")]
    for layout in layouts:
        if not all(part.isdigit() and int(part) > 0 for part in layout.split("x", 1)):
            raise argparse.ArgumentTypeError(f"{layout!r} is not THREADS or SESSIONSxTHREADS")
    return layouts


def _precisions(text: str) -> list[Precision]:
    return [parse_precision(v, name="--precisions") for v in text.split(",")]


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO / "data")
    parser.add_argument("--texts", type=int, default=1024, help="sampled node texts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--precisions", type=_precisions, default=list(PRECISIONS))
    parser.add_argument(
        "--threads", type=_layouts, default=["1", "2", "2x1"],
        help="THREADS of one session, or SESSIONSxTHREADS side by side",
    )  # fmt: skip
    parser.add_argument("--batches", type=_ints, default=[2, 4, 8, 16])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--queries", type=int, default=50, help="single queries timed")
    parser.add_argument("--json", type=Path, default=Path("var/bench/encode.json"))
    options = parser.parse_args(list(argv))
    options.argv = list(argv)
    return options


def main(argv: Sequence[str]) -> int:
    options = parse(argv)
    report = run(options)
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(markdown(report, options))
    load = report["machine"]
    print(f"\nload average {load['load_average_1m_start']} at the start, "
          f"{load['load_average_1m_end']} at the end; written to {options.json}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
