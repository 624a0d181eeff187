#!/usr/bin/env python
"""Benchmark: reading a week's new people and initiatives for the weekly digest.

The digest job (``cocreate digest``) reads every node first written in the week once for
all its mails (:func:`api.digest_job.added_in`); the ``/digest`` page reads them newest
first until it has what it shows (:func:`api.digest_job.iter_added`). In the week a
network is imported, that is every node of it. This times both reads, ``--repeat`` times
each, in this process, on a store as it is: ``--data-dir``, a folder with
``cocreate.db`` (such as one ``cocreate demo`` made this week), or
``COCREATE_DATABASE_URL`` as for the service. The code is this checkout's, or another's
given first on ``PYTHONPATH`` (one without ``iter_added`` gives only the job's figure).

    .venv/bin/python scripts/bench_digest.py --data-dir /work/bench/idx100k
    PYTHONPATH=OLD_CHECKOUT .venv/bin/python scripts/bench_digest.py --data-dir DIR

Prints the figures as JSON (``--json`` also writes them to a file).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from typing import Any

import api.digest_job as digest_job
from api.digest import parse_week, this_week
from graph.store import Store


class _Services:
    """What the digest's reads use of the service: its store."""

    def __init__(self, store: Store) -> None:
        self.store = store


def timed(read: Callable[[], int], repeat: int) -> dict[str, Any]:
    seconds, found = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        found = read()
        seconds.append(time.perf_counter() - start)
    return {"nodes": found, "median_s": round(statistics.median(seconds), 3),
            "runs_s": [round(s, 3) for s in seconds]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--week", default=None, help="an ISO week (default: this week)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--page", type=int, default=50, help="nodes the page's read takes")
    parser.add_argument("--json", type=Path, default=None)
    options = parser.parse_args()
    week = parse_week(options.week) if options.week else this_week()
    url = os.environ.get("COCREATE_DATABASE_URL") or str(options.data_dir / "cocreate.db")
    store = Store.open(url)
    services: Any = _Services(store)
    try:
        figures: dict[str, Any] = {"week": week, "data_dir": str(options.data_dir)}
        figures["job"] = timed(lambda: len(digest_job.added_in(services, week)), options.repeat)
        lazily = getattr(digest_job, "iter_added", None)
        if lazily is not None:
            figures["page"] = timed(
                lambda: sum(1 for _ in islice(lazily(services, week), options.page)),
                options.repeat,
            )
    finally:
        store.close()
    text = json.dumps(figures, indent=2)
    print(text)
    if options.json is not None:
        options.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
