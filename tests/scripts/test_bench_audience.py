"""``scripts/bench_audience.py`` end to end at a tiny size: it builds the network with the
command line, measures both approaches for every kind of caller, and a rerun reuses the
store it built. No figure is checked: speed is measured, never asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KINDS = {"anonymous", "member", "editor", "admin"}


def _run(bench: Path, out: Path) -> dict[str, object]:
    options = ["--sizes", "300", "--searches", "40", "--changes", "2",
               "--bench-dir", str(bench), "--json", str(out)]  # fmt: skip
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_audience.py"), *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "| 300 | audience index | anonymous |" in done.stdout
    report: dict[str, object] = json.loads(out.read_text())
    return report


def test_the_audience_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    report = _run(tmp_path / "bench", tmp_path / "audience.json")
    (size,) = report["sizes"]  # type: ignore[misc]
    assert size["people"] == 300
    assert size["hidden"]["public"] > size["hidden"]["members"] > 0
    callers = size["callers"]
    assert set(callers) == KINDS and sum(callers.values()) == 40
    for approach in ("audience index", "BASELINE: scan on switch"):
        for measure, by_kind in size["searches"][approach].items():
            assert {k: f["n"] for k, f in by_kind.items()} == callers, (approach, measure)
    changes = size["changes"]
    for what in ("visibility", "text"):  # 2 people, each changed and changed back
        assert changes[f"{what}: first anonymous search"]["check"]["n"] == 4
        assert changes[f"{what}: feed"]["audience index: prepare + apply"]["n"] == 4

    again = _run(tmp_path / "bench", tmp_path / "again.json")
    (rerun,) = again["sizes"]  # type: ignore[misc]
    assert rerun["built"] == size["built"]  # the store was reused, not generated again
    assert rerun["hidden"] == size["hidden"]  # and the changes were undone
