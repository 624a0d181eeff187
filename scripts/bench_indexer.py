#!/usr/bin/env python
"""Benchmark: the background indexer's steps alone, and where a step's time goes.

Copies a data folder whose store has texts without vectors (``--data-dir``: a store made
with ``cocreate demo``, never served) to a scratch folder, loads it as ``serve`` does
with the vectors left to the background (:meth:`api.services.Services.load` with
``defer_indexing``), then runs ``--calls`` steps of the encoding process by hand, each
timed in its parts: which waiting items come next, the stored vectors read, the rest
encoded (by :func:`embeddings.onnx.with_every_core`, as :mod:`api.indexing` does), stored
for the other workers, applied to the index under the feed's write lock.

It is the ceiling of ``scripts/bench_start.py``'s indexing rate: one process, nothing
else on the cores, no request served, every text encoded (a vector cache named by
``COCREATE_VECTOR_CACHE`` is left out).

    .venv/bin/python scripts/bench_indexer.py --data-dir DEMO100K --calls 60

Prints the texts a second and each part's seconds, and writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PARTS = ("next", "stored", "encode", "store", "apply")


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--calls", type=int, default=20, help="steps of the indexer")
    parser.add_argument("--json", type=Path, default=Path("var/bench/indexer.json"))
    options = parser.parse_args(argv)
    if options.calls < 1:
        parser.error("--calls: at least 1")
    if not (options.data_dir / "cocreate.db").is_file():
        parser.error(f"--data-dir: no cocreate.db in {options.data_dir}")
    return options


def run(options: argparse.Namespace) -> dict[str, Any]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # From scratch: no text's vector taken from a vector cache (COCREATE_VECTOR_CACHE).
    os.environ.pop("COCREATE_VECTOR_CACHE", None)
    from api.indexing import BATCH
    from api.services import Services
    from api.settings import Settings
    from api.vectors import known_vectors, share
    from embeddings.onnx import with_every_core
    from embeddings.threads import usable_cores

    scratch = Path(tempfile.mkdtemp(prefix="bench-indexer-"))
    try:
        folder = scratch / "data"
        shutil.copytree(options.data_dir, folder, ignore=shutil.ignore_patterns("index"))
        started = time.monotonic()
        services = Services.load(Settings(data_dir=folder), defer_indexing=True)
        loaded = time.monotonic() - started
        index = services.search.index
        index.wait_for_graph(True)  # as the service does while the backlog comes in
        waiting = index.pending
        bulk = with_every_core(index.encoder)
        spent = dict.fromkeys(PARTS, 0.0)
        texts = 0
        began = time.monotonic()
        for _ in range(options.calls):
            mark = time.monotonic()

            def lap(part: str) -> None:
                nonlocal mark
                now = time.monotonic()
                spent[part] += now - mark
                mark = now

            items = index.pending_items(BATCH)
            if not items:
                break
            lap("next")
            known = known_vectors(services.store, index.encoder, items)
            lap("stored")
            encoded = index.prepare(items, known=known, encoder=bulk)
            lap("encode")
            share(services.store, index.encoder, encoded)
            lap("store")
            with services.feed.lock.write():
                index.apply_pending(encoded)
            lap("apply")
            texts += len(items)
        elapsed = time.monotonic() - began
        searched_exactly = not index.vectors.uses_hnsw
        services.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {
        "data_dir": str(options.data_dir),
        "encoder": index.encoder.name,
        "waiting_at_start": waiting,
        "load_s": round(loaded, 1),
        "texts": texts,
        "seconds": round(elapsed, 2),
        "texts_per_s": round(texts / elapsed, 1) if elapsed else None,
        "parts_s": {part: round(value, 2) for part, value in spent.items()},
        "graph_waited": searched_exactly,
        "machine": {"cores": usable_cores(), "python": platform.python_version()},
    }


def main(argv: Sequence[str]) -> int:
    options = parse(argv)
    report = run(options)
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    parts = ", ".join(f"{part} {seconds} s" for part, seconds in report["parts_s"].items())
    print(f"{report['texts']} texts in {report['seconds']} s: {report['texts_per_s']} "
          f"texts/s with {report['encoder']} ({parts}); written to {options.json}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
