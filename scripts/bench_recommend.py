#!/usr/bin/env python
"""Benchmark: recommendations and council analytics, request by request, in-process.

The service is started in this process on a data folder (the store and its saved
search index) and driven through its ASGI app, one request at a time, so each figure
is what a caller waits for minus the network: routing, privacy, the graph work, text
similarity and the JSON of the answer. Per endpoint it reports p50/p99/mean over a
sample of real ids, and for the analytics that are computed once per version of the
graph (the sector overlap and what builds on it) the first, cold answer separately.

    .venv/bin/python scripts/bench_recommend.py                       # demo network, 3,000 people
    .venv/bin/python scripts/bench_recommend.py --data-dir var/bench/http-100k --people 100000

Without ``--data-dir`` the demo network is loaded into a temporary folder first (and
its texts encoded). A kept folder, such as the one ``scripts/bench_http.py
--data-dir var/bench/http-100k --vector-cache var/bench`` prepares, is used as it is.
Writes ``var/bench/recommend-<people>.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

REPO = Path(__file__).resolve().parents[1]
COCREATE = str(Path(sys.executable).with_name("cocreate"))


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    values = np.asarray(samples_ms)
    return {
        "n": len(samples_ms),
        "p50_ms": round(float(np.percentile(values, 50)), 2),
        "p99_ms": round(float(np.percentile(values, 99)), 2),
        "mean_ms": round(float(values.mean()), 2),
        "max_ms": round(float(values.max()), 2),
    }


def sample_ids(db: Path, seed: int, count: int) -> dict[str, list[str]]:
    """Ids an anonymous caller may ask about: public, discoverable people; initiatives;
    sectors; communities; Wisdom Book entries."""
    rng = random.Random(seed)
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:

        def ids(where: str) -> list[str]:
            return [r[0] for r in conn.execute(f"SELECT id FROM nodes WHERE {where} ORDER BY id")]

        people = ids("kind = 'person' AND visibility = 'public' AND discoverable")
        chosen = {
            "person": people,
            "initiative": ids("kind = 'initiative'"),
            "sector": ids("kind = 'sector'"),
            "community": ids("kind = 'community'"),
            "wisdom_entry": ids("kind = 'wisdom_entry'"),
        }
    return {kind: rng.sample(found, min(count, len(found))) for kind, found in chosen.items()}


Call = tuple[str, str, dict[str, Any] | None]  # method, url, json body
ISSUES = "youth violence, loneliness of older neighbours, and food waste"


def scenarios(ids: dict[str, list[str]], count: int) -> dict[str, list[Call]]:
    """The requests of each scenario, ``count`` of each at most."""
    people, sectors = ids["person"][:count], ids["sector"]
    out: dict[str, list[Call]] = {}
    for mode in ("similar", "complementary", "bridging"):
        out[f"collaborators {mode}"] = [
            ("GET", f"/v1/people/{quote(p, safe=':')}/collaborators?mode={mode}&limit=10", None)
            for p in people
        ]
    out["initiatives for a person"] = [
        ("GET", f"/v1/people/{quote(p, safe=':')}/initiatives?limit=10", None) for p in people
    ]
    out["people for an initiative"] = [
        ("GET", f"/v1/initiatives/{quote(i, safe=':')}/people?limit=10", None)
        for i in ids["initiative"][:count]
    ]
    out["sector overlap"] = [("GET", "/v1/sectors/overlap", None)] * min(count, 50)
    out["synergies"] = [
        ("GET", f"/v1/sectors/{quote(sectors[n % len(sectors)], safe=':')}/synergies"
                "?with=all&limit=10", None)
        for n in range(min(count, 60))
    ]  # fmt: skip
    out["council proposal"] = [
        ("POST", "/v1/councils/propose", {"sector": sectors[n % len(sectors)]})
        for n in range(min(count, 24))
    ]
    out["related wisdom"] = [
        ("POST", "/v1/wisdom/related", {"id": w}) for w in ids["wisdom_entry"][: min(count, 60)]
    ]
    out["community learning"] = [
        (
            "POST",
            "/v1/communities/learn",
            {"community": c, "issues": "youth violence and isolation"},
        )
        for c in ids["community"][: min(count, 60)]
    ]
    return out


def measure(send: Callable[[Call], int], calls: list[Call]) -> dict[str, Any]:
    """The cold first call, then every call timed one by one (the first included again)."""
    if not calls:
        return {"error": "nothing to ask"}
    started = time.perf_counter()
    status = send(calls[0])
    cold_ms = (time.perf_counter() - started) * 1000
    if status >= 400:
        return {"error": f"HTTP {status} for {calls[0][0]} {calls[0][1]}"}
    samples, failures = [], 0
    for call in calls:
        started = time.perf_counter()
        status = send(call)
        samples.append((time.perf_counter() - started) * 1000)
        failures += status >= 400
    return {"cold_ms": round(cold_ms, 1), **percentiles(samples), "failures": failures}


@contextlib.contextmanager
def data_folder(options: argparse.Namespace) -> Iterator[Path]:
    """The kept folder given, or a temporary one with the demo network loaded."""
    if options.data_dir is not None:
        yield options.data_dir
        return
    with tempfile.TemporaryDirectory(prefix="cocreate-bench-recommend-") as tmp:
        data = Path(tmp) / "var"
        env = {**os.environ, "COCREATE_DATA_DIR": str(data)}
        print(f"loading the demo network with {options.people:,} people ...", flush=True)
        demo = ["demo", "--people", str(options.people), "--seed", str(options.seed)]
        for command in (demo, ["reindex"]):
            subprocess.run([COCREATE, *command], env=env, check=True)
        yield data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="a kept data folder")
    parser.add_argument("--people", type=int, default=3000, help="people in the network")
    parser.add_argument("--sample", type=int, default=200, help="requests per scenario at most")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None)
    options = parser.parse_args()
    os.environ.update(
        COCREATE_RATE_LIMIT_PER_MINUTE=str(10**12), COCREATE_RATE_LIMIT_BURST=str(10**12)
    )
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.auth import KeyRing, Role
    from api.settings import Settings

    with data_folder(options) as data:
        settings = Settings(data_dir=data)
        ids = sample_ids(data / "cocreate.db", options.seed, options.sample)
        started = time.perf_counter()
        with TestClient(create_app(settings)) as client:
            ready_s = time.perf_counter() - started

            # The council assistant is for members: a member key, bound to a sampled person.
            services = client.app.state.services  # type: ignore[attr-defined]
            _, secret = KeyRing(services.store.engine).create(
                Role.member, person_id=ids["person"][0], label="bench_recommend"
            )
            member = {"Authorization": f"Bearer {secret}"}

            def send(call: Call) -> int:
                method, url, body = call
                headers = member if url.startswith("/v1/councils") else None
                return client.request(method, url, json=body, headers=headers).status_code

            results = {}
            for name, calls in scenarios(ids, options.sample).items():
                results[name] = measure(send, calls)
                shown = results[name].get("p99_ms", results[name].get("error"))
                print(f"  {name}: p99 {shown}", flush=True)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "scripts/bench_recommend.py " + " ".join(sys.argv[1:]),
        "people": options.people,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "nproc": os.cpu_count(),
        "service_start_s": round(ready_s, 1),
        "scenarios": results,
    }
    target = options.json or REPO / "var" / "bench" / f"recommend-{options.people}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print()
    print(markdown(report))
    print(f"\nwritten to {target}")


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "| people | request | n | cold ms | p50 ms | p99 ms | mean ms | failures |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in report["scenarios"].items():
        if "error" in r:
            lines.append(f"| {report['people']:,} | {name} | - | - | - | - | - | {r['error']} |")
            continue
        lines.append(
            f"| {report['people']:,} | {name} | {r['n']} | {r['cold_ms']:.0f} | {r['p50_ms']:.1f} "
            f"| {r['p99_ms']:.1f} | {r['mean_ms']:.1f} | {r['failures']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
