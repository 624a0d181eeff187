"""``scripts/bench_indexer.py`` end to end at a tiny size: a demo store never served, a few
of the indexer's steps timed in their parts, the folder it was given left as it was. No
figure is checked: speed is measured, never asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from api.cli import cli
from api.indexing import BATCH
from tests.postgres import sqlite_only

ROOT = Path(__file__).resolve().parents[2]
pytestmark = sqlite_only  # the benchmark copies a data folder's SQLite store


def test_the_indexer_benchmark_times_a_few_steps_of_a_store_never_served(
    tmp_path: Path,
) -> None:
    data = tmp_path / "var"
    made = CliRunner().invoke(
        cli, ["demo", "--people", "40", "--seed", "3"], env={"COCREATE_DATA_DIR": str(data)}
    )
    assert made.exit_code == 0, made.output
    before = sorted(p.name for p in data.iterdir())
    out = tmp_path / "indexer.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_indexer.py"), "--data-dir", str(data),
         "--calls", "2", "--json", str(out)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert report["texts"] == 2 * BATCH < report["waiting_at_start"]
    assert set(report["parts_s"]) == {"next", "stored", "encode", "store", "apply"}
    assert report["parts_s"]["encode"] > 0 and "texts/s" in done.stdout
    assert sorted(p.name for p in data.iterdir()) == before  # a copy was indexed, not it


def test_the_indexer_benchmark_names_a_folder_without_a_store(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_indexer.py"), "--data-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert f"--data-dir: no cocreate.db in {tmp_path}" in done.stderr
