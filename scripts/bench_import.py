#!/usr/bin/env python
"""Benchmark: generate N fictional people, import them, import them again.

Each step runs as its own ``cocreate`` process so that wall time and peak memory
(max RSS, from ``wait4``) are those of the real command. Prints a Markdown table
and writes the figures as JSON.

    .venv/bin/python scripts/bench_import.py --people 100000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

COCREATE = str(Path(sys.executable).with_name("cocreate"))


def measure(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run one command; wall seconds, peak RSS in MiB and its last output line."""
    started = time.perf_counter()
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    assert process.stdout is not None
    assert process.stderr is not None
    out = process.stdout.read().decode().strip()
    err = process.stderr.read().decode().strip()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{out}\n{err}")
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),  # ru_maxrss is KiB on Linux
        "output": (out or err).splitlines()[-1] if (out or err) else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=Path("var/bench/import.json"))
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cocreate-bench-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "COCREATE_DATA_DIR": str(work / "var")}
        data = work / "people.jsonl"
        steps = {
            "generate": measure(
                [
                    COCREATE,
                    "generate",
                    "--people",
                    str(options.people),
                    "--seed",
                    str(options.seed),
                    str(data),
                ],
                env,
            ),
            "import (empty store)": measure([COCREATE, "import", str(data)], env),
            "import again (no-op)": measure([COCREATE, "import", str(data)], env),
        }
        stats = json.loads(
            subprocess.run(
                [COCREATE, "stats", "--json"], env=env, check=True, capture_output=True, text=True
            ).stdout
        )
        records = sum(1 for _ in data.open(encoding="utf-8"))
        file_mib = data.stat().st_size / 2**20
        db_mib = sum(p.stat().st_size for p in (work / "var").glob("cocreate.db*")) / 2**20

    result = {
        "people": options.people,
        "seed": options.seed,
        "records": records,
        "file_mib": round(file_mib, 1),
        "store_mib": round(db_mib, 1),
        "nodes": stats["total_nodes"],
        "edges": stats["total_edges"],
        "steps": steps,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
    }
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps(result, indent=2) + "\n")

    print(
        f"{options.people:,} people: {records:,} records ({file_mib:.0f} MiB JSONL), "
        f"store {db_mib:.0f} MiB, {stats['total_nodes']:,} nodes, {stats['total_edges']:,} edges"
    )
    print("| step | wall time (s) | records/s | peak RSS (MiB) |")
    print("|---|---:|---:|---:|")
    for name, step in steps.items():
        rate = records / step["seconds"] if step["seconds"] else 0
        print(f"| {name} | {step['seconds']:.1f} | {rate:,.0f} | {step['peak_rss_mib']:.0f} |")


if __name__ == "__main__":
    main()
