#!/usr/bin/env python
"""Benchmark: how soon a write is seen across workers, and what a big import does to requests.

Starts ``cocreate serve --workers 2`` on a free loopback port over a demo network (kept
in ``--data-dir`` and reused, with its search index), then measures:

1. **Propagation.** An editor creates an initiative with a made-up word through one
   worker; a reader pinned to the other worker searches for the word every few
   milliseconds, without a header, until it is found: the delay from the write's answer.
   Also the delay of the same read sending ``X-Cocreate-Min-Seq`` (read-your-writes).
2. **An import while serving.** Reader threads (search, node reads, collaborators,
   neighbourhoods) and one API writer run before, during and after ``cocreate import``
   of a file of ``--import-people`` generated people with their links; the latency of
   every request is recorded: percentiles and the slowest, before and during, how many
   took over a second, any 5xx, and how long until both workers applied the import.

    .venv/bin/python scripts/bench_feed.py                      # 1,000 people, import 10,000
    .venv/bin/python scripts/bench_feed.py --people 3000 --writes 200

Figures go to ``var/bench/feed.json`` and a Markdown table is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

COCREATE = str(Path(sys.executable).with_name("cocreate"))
REPO = Path(__file__).resolve().parents[1]


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000, help="people in the served network")
    parser.add_argument("--import-people", type=int, default=10_000, help="people imported")
    parser.add_argument("--writes", type=int, default=100, help="writes timed for propagation")
    parser.add_argument("--readers", type=int, default=4, help="reader threads during import")
    parser.add_argument("--data-dir", type=Path, default=None, help="var/bench/feed-<people>")
    parser.add_argument("--json", type=Path, default=REPO / "var" / "bench" / "feed.json")
    return parser.parse_args()


def env_for(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCREATE_")}
    env.update(
        COCREATE_DATA_DIR=str(data), COCREATE_RATE_LIMIT_PER_MINUTE="100000000",
        COCREATE_RATE_LIMIT_BURST="10000000", HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1",
    )  # fmt: skip
    return env


def run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([COCREATE, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"cocreate {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def key(env: dict[str, str], role: str) -> str:
    return run(env, "keys", "create", "--role", role).strip()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    with log.open("wb") as out:
        server = subprocess.Popen(
            [COCREATE, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 1_800
        while True:
            if server.poll() is not None:
                raise SystemExit(f"cocreate serve exited:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("cocreate serve did not get ready")
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


def pinned(url: str, headers: dict[str, str], admin: dict[str, str]) -> dict[int, httpx.Client]:
    """One client (one connection) per worker, told apart by the admin state route."""
    found: dict[int, httpx.Client] = {}
    for _ in range(200):
        client = httpx.Client(base_url=url, headers=headers, timeout=60)
        pid = int(client.get("/v1/admin/state", headers=admin).json()["pid"])
        if pid in found:
            client.close()
        else:
            found[pid] = client
        if len(found) == 2:
            return found
    raise SystemExit("could not reach two workers")


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    data = np.array(values) * 1000.0
    figures = {f"p{p}": float(np.percentile(data, p)) for p in (50, 90, 99)}
    figures["max"] = float(data.max())
    figures["count"] = len(values)
    return {k: round(v, 1) for k, v in figures.items()}


def propagation(url: str, editor: dict[str, str], admin: dict[str, str], writes: int) -> Any:
    writers = pinned(url, editor, admin)
    readers = pinned(url, {}, admin)
    (a, writer), (b, _) = sorted(writers.items())
    reader = readers[b]
    plain: list[float] = []
    asked: list[float] = []
    for n in range(writes):
        word = f"zq{n:05d}x{random.randrange(10**6):06d}"
        node = {"kind": "initiative", "id": f"initiative:bench-{word}", "name": f"Bench {word}",
                "description": f"A bench initiative about {word}."}  # fmt: skip
        created = writer.post("/v1/nodes", json=node)
        created.raise_for_status()
        written = time.monotonic()
        seq = created.headers["X-Cocreate-Seq"]
        if n % 2:  # every other write: the reader asks for the write's sequence number
            found = reader.get("/v1/search", params={"q": word, "mode": "lexical"},
                               headers={"X-Cocreate-Min-Seq": seq})  # fmt: skip
            found.raise_for_status()
            assert [h["node"]["id"] for h in found.json()["items"]] == [node["id"]]
            asked.append(time.monotonic() - written)
            continue
        while True:
            found = reader.get("/v1/search", params={"q": word, "mode": "lexical"})
            found.raise_for_status()
            if found.json()["items"]:
                plain.append(time.monotonic() - written)
                break
            time.sleep(0.005)
    for client in [*writers.values(), *readers.values()]:
        client.close()
    return {"writer_pid": a, "reader_pid": b, "without_header": percentiles(plain),
            "with_min_seq": percentiles(asked)}  # fmt: skip


@dataclass
class Recorder:
    """Latencies of requests by (phase, route), with their statuses."""

    phase: str = "before"
    latencies: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, route: str, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies.setdefault((self.phase, route), []).append(seconds)
            key = f"{status // 100}xx"
            self.statuses[key] = self.statuses.get(key, 0) + 1


def reader_loop(url: str, ids: dict[str, list[str]], rec: Recorder, stop: threading.Event,
                seed: int) -> None:  # fmt: skip
    rng = random.Random(seed)
    words = ["youth mentoring", "community gardens", "clean water", "restorative circles",
             "elder care", "refugee support", "climate", "literacy"]  # fmt: skip
    calls: list[tuple[str, Callable[[], str]]] = [
        ("search", lambda: f"/v1/search?q={rng.choice(words)}&limit=10"),
        ("node", lambda: f"/v1/nodes/{rng.choice(ids['any'])}"),
        ("neighbors", lambda: f"/v1/nodes/{rng.choice(ids['any'])}/neighbors?limit=20"),
        ("collaborators", lambda: f"/v1/people/{rng.choice(ids['person'])}/collaborators"),
    ]
    with httpx.Client(base_url=url, timeout=120) as client:
        while not stop.is_set():
            route, path = rng.choice(calls)
            started = time.monotonic()
            try:
                status = client.get(path()).status_code
            except httpx.HTTPError:
                status = 599
            rec.record(route, time.monotonic() - started, status)


def writer_loop(url: str, editor: dict[str, str], rec: Recorder, stop: threading.Event) -> None:
    n = 0
    with httpx.Client(base_url=url, headers=editor, timeout=120) as client:
        while not stop.is_set():
            n += 1
            node = {"kind": "initiative", "id": f"initiative:during-{n}-{os.getpid()}",
                    "name": f"During {n}", "description": "Written while importing."}  # fmt: skip
            started = time.monotonic()
            try:
                status = client.post("/v1/nodes", json=node).status_code
            except httpx.HTTPError:
                status = 599
            rec.record("write", time.monotonic() - started, status)
            time.sleep(0.2)


def sample_ids(url: str) -> dict[str, list[str]]:
    with httpx.Client(base_url=url, timeout=60) as client:
        people = client.get("/v1/nodes?kind=person&limit=200").json()["items"]
        other = client.get("/v1/nodes?kind=initiative&limit=200").json()["items"]
    people_ids = [p["id"] for p in people]
    return {"person": people_ids, "any": people_ids + [o["id"] for o in other]}


def import_while_serving(url: str, env: dict[str, str], editor: dict[str, str],
                         admin: dict[str, str], options: argparse.Namespace,
                         work: Path) -> Any:  # fmt: skip
    file = work / "import.jsonl"
    run(env, "generate", "--people", str(options.import_people), "--seed", "11", str(file))
    lines = sum(1 for _ in file.open(encoding="utf-8"))
    rec = Recorder()
    stop = threading.Event()
    ids = sample_ids(url)
    threads = [threading.Thread(target=reader_loop, args=(url, ids, rec, stop, i))
               for i in range(options.readers)]  # fmt: skip
    threads.append(threading.Thread(target=writer_loop, args=(url, editor, rec, stop)))
    for thread in threads:
        thread.daemon = True  # never outlive a failed run
        thread.start()
    try:
        return _import_phase(url, env, admin, file, lines, rec)
    finally:
        stop.set()
        for thread in threads:
            thread.join(120)


def _import_phase(url: str, env: dict[str, str], admin: dict[str, str], file: Path,
                  lines: int, rec: Recorder) -> Any:  # fmt: skip
    time.sleep(10)
    rec.phase = "during"
    started = time.monotonic()
    done = subprocess.run([COCREATE, "import", str(file)], env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip
    imported = time.monotonic() - started
    with httpx.Client(base_url=url, headers=admin, timeout=60) as client:
        marker = {"kind": "initiative", "id": "initiative:import-marker", "name": "Marker"}
        last = int(client.post("/v1/nodes", json=marker).headers["X-Cocreate-Seq"])
    caught_up = {}
    for pid, client in pinned(url, {}, admin).items():
        while int(client.get("/ready").headers.get("X-Cocreate-Seq", "0")) < last:
            time.sleep(0.05)
        caught_up[pid] = round(time.monotonic() - started, 1)
        client.close()
    rec.phase = "after"
    time.sleep(5)
    with rec.lock:
        recorded = {key: list(values) for key, values in rec.latencies.items()}
    phases: dict[str, dict[str, Any]] = {}
    for (phase, route), values in sorted(recorded.items()):
        phases.setdefault(phase, {})[route] = percentiles(values)
        phases[phase][route]["over_1s"] = sum(1 for v in values if v > 1.0)
    return {"lines": lines, "import_exit": done.returncode, "import_seconds": round(imported, 1),
            "workers_caught_up_after_s": caught_up, "statuses": rec.statuses,
            "latency_ms": phases, "import_stderr": done.stderr[-500:]}  # fmt: skip


def main() -> None:
    options = parse()
    data = options.data_dir or REPO / "var" / "bench" / f"feed-{options.people}"
    env = env_for(data)
    if not (data / "cocreate.db").exists():
        print(f"building the demo network of {options.people} people in {data}", flush=True)
        run(env, "demo", "--people", str(options.people))
    # A fresh copy for each run, so the import always adds the same amount of work.
    work = Path(tempfile.mkdtemp(prefix="bench-feed-"))
    run_env = env_for(work / "var")
    subprocess.run(["cp", "-r", str(data), str(work / "var")], check=True)
    editor = {
        "Authorization": f"Bearer {run(run_env, 'keys', 'create', '--role', 'editor').strip()}"
    }
    admin = {"Authorization": f"Bearer {run(run_env, 'keys', 'create', '--role', 'admin').strip()}"}
    with serving(run_env, work / "serve.log") as url:
        # The first start builds the index: keep it with the kept network for next time.
        subprocess.run(["rm", "-rf", str(data / "index")], check=True)
        subprocess.run(["cp", "-r", str(work / "var" / "index"), str(data / "index")], check=True)
        print("propagation across workers", flush=True)
        spread = propagation(url, editor, admin, options.writes)
        print("an import while serving", flush=True)
        loaded = import_while_serving(url, run_env, editor, admin, options, work)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": os.getloadavg(),
        "people": options.people,
        "propagation": spread,
        "import": loaded,
    }
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
