"""``scripts/bench_digest.py`` end to end on the small network written this week: both
reads find its people and initiatives. No figure is checked: speed is measured, never
asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from graph.store import Store
from tests.postgres import database_url_for

ROOT = Path(__file__).resolve().parents[2]


def test_the_digest_benchmark_reads_this_weeks_nodes(network: Store, tmp_path: Path) -> None:
    folder = tmp_path / "store"  # the ``store`` fixture's (on PostgreSQL: its database's)
    url = database_url_for(folder / "cocreate.db")
    out = tmp_path / "digest.json"
    env = os.environ | {"PYTHONPATH": str(ROOT)} | ({"COCREATE_DATABASE_URL": url} if url else {})
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_digest.py"), "--data-dir",
         str(folder), "--repeat", "2", "--page", "2", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    figures = json.loads(out.read_text())
    # The small network's three people and two initiatives, all written this week.
    assert figures["job"]["nodes"] == 5 and len(figures["job"]["runs_s"]) == 2
    assert figures["page"]["nodes"] == 2
