"""Benchmark: one replica on SQLite against two replicas on PostgreSQL, on this machine.

    scripts/bench_replicas.py [--people 10000] [--duration 30] [--json FILE]

Both set-ups hold the same demo network (the same size and seed) and get the same wrk
load: node reads, listings, search, and writes (``POST /v1/edges``, a ``knows`` link
between two people drawn at random, from every connection). Each has two uvicorn
workers in all, so that they have the machine's two cores alike:

- **SQLite**: one ``cocreate serve --workers 2`` on a SQLite store;
- **PostgreSQL**: ``scripts/cluster up --replicas 2 --workers 1``, a PostgreSQL primary
  and its streaming standby, two ``cocreate serve`` replicas on the primary and HAProxy in
  front of them; wrk drives the load balancer.

The figures (requests/s, latency percentiles, answers other than 2xx, the CPU share of
each part: the service, PostgreSQL, HAProxy, wrk) go to ``--json``, and a table to
stdout. Text vectors are kept in ``--vector-cache`` (``COCREATE_VECTOR_CACHE``), so only
the first run encodes the network's texts. Needs wrk, PostgreSQL's binaries and HAProxy
(``scripts/setup`` installs them). Everything binds 127.0.0.1 and is stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_http as http  # a sibling script

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = ("reads", "lists", "search", "writes")
WRITES_LUA = r"""
-- A "knows" link between two people drawn at random; each wrk thread has its own draw.
local people = {
%(people)s
}
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + (id or 0))  -- each run draws pairs of its own
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = [[Bearer %(key)s]]
end

statuses = {}  -- a global: done() reads each thread's
function response(status, headers, body)
  if status >= 300 then statuses[status] = (statuses[status] or 0) + 1 end
end

function request()
  local a = people[math.random(#people)]
  local b = people[math.random(#people)]
  while b == a do b = people[math.random(#people)] end
  return wrk.format(nil, "/v1/edges", nil,
    '{"kind": "knows", "source": "' .. a .. '", "target": "' .. b .. '"}')
end

function done(summary, latency, requests)
  report(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses") or {}) do
      counts[status] = (counts[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do table.insert(parts, string.format('"%%d":%%d', status, n)) end
  io.write('%(marker)s{"statuses": {' .. table.concat(parts, ",") .. "}}\n")
end
"""


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000, help="people in the network")
    parser.add_argument("--duration", type=int, default=30, help="seconds per scenario")
    parser.add_argument("--warmup", type=int, default=3, help="unreported seconds before each")
    parser.add_argument("--connections", type=int, default=8, help="concurrent wrk connections")
    parser.add_argument("--sample", type=int, default=2_000, help="node ids to cycle through")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help=f"comma-separated, any of {', '.join(SCENARIOS)}")  # fmt: skip
    parser.add_argument("--setups", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql")  # fmt: skip
    parser.add_argument("--vector-cache", type=Path, default=REPO / "var" / "bench" / "vectors",
                        help="text vectors kept between runs (COCREATE_VECTOR_CACHE)")  # fmt: skip
    parser.add_argument("--visibility-writes", type=int, default=30,
                        help="writes through the load balancer whose arrival on each replica "
                        "is timed (PostgreSQL; 0: none)")  # fmt: skip
    parser.add_argument("--json", type=Path, default=None,
                        help="default var/bench/replicas-<people>.json")  # fmt: skip
    options = parser.parse_args()
    options.scenarios = tuple(s for s in options.scenarios.split(",") if s)
    options.setups = tuple(s for s in options.setups.split(",") if s)
    unknown = set(options.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"--scenarios: unknown {', '.join(sorted(unknown))}")
    if set(options.setups) - {"sqlite", "postgresql"}:
        parser.error("--setups: sqlite and/or postgresql")
    if options.json is None:
        options.json = REPO / "var" / "bench" / f"replicas-{options.people}.json"
    return options


def environment(options: argparse.Namespace, data: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        COCREATE_DATA_DIR=str(data),
        COCREATE_VECTOR_CACHE=str(options.vector_cache),
        # wrk's connections come from one address: no rate limit should be what is measured
        COCREATE_RATE_LIMIT_PER_MINUTE="100000000",
        COCREATE_RATE_LIMIT_BURST="100000000",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p),
    )
    env.pop("COCREATE_DATABASE_URL", None)
    return env


def run(command: list[str], env: dict[str, str], timeout: float = 3600) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def scripts(work: Path, db: Path, options: argparse.Namespace, key: str) -> dict[str, Path]:
    """One wrk script per scenario, drawn from the SQLite store (the same network)."""
    paths, _ = http.scenario_paths(db, 7, options.sample)
    # wrk's report at the end, as bench_http.py writes it
    report = ("function report" + http.LUA.split("function done", 1)[1]) % {
        "percentiles": ", ".join(str(p) for p in http.PERCENTILES),
        "marker": http.MARKER,
    }
    found: dict[str, Path] = {}
    for name in options.scenarios:
        target = work / f"{name}.lua"
        if name == "writes":
            with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
                people = [row[0] for row in conn.execute(
                    "SELECT id FROM nodes WHERE kind = 'person' ORDER BY id")]  # fmt: skip
            drawn = random.Random(7).sample(people, min(len(people), options.sample))
            listed = ",\n".join(f'  "{p}"' for p in drawn if re.fullmatch(r"[\w:.-]+", p))
            target.write_text(
                report + WRITES_LUA % {"people": listed, "key": key, "marker": http.MARKER}
            )
        else:
            http.write_lua(paths[name], target, {"Authorization": f"Bearer {key}"})
        found[name] = target
    return found


def measure(
    name: str, wrk: str, url: str, script: Path, options: argparse.Namespace,
    processes: dict[str, list[psutil.Process]],
) -> dict[str, Any]:  # fmt: skip
    """Warm-up, then the measured run, with each part's share of the CPU."""
    settings = http.Options(
        people=options.people, seed=7, duration=options.duration, warmup=options.warmup,
        connections=options.connections, threads=1, workers=2, sample=options.sample,
        scenarios=options.scenarios, json=options.json, ready_timeout=0, attempts=1,
        max_other_cpu=100, settle_timeout=0, data_dir=None, skip_index=False,
        vector_cache=None, writes_during=(), write_rate=0,
    )  # fmt: skip
    everything = [p for group in processes.values() for p in group]
    if options.warmup:
        http.run_wrk(wrk, url, script, replace(settings, duration=options.warmup),
                     options.warmup, everything)  # fmt: skip
    before = {part: http.cpu_by_process(group) for part, group in processes.items()}
    started = time.perf_counter()
    result = http.summarise(http.run_wrk(wrk, url, script, settings, options.duration, everything))
    wall = time.perf_counter() - started
    shares = {}
    for part, group in processes.items():
        after = http.cpu_by_process(group)
        spent = sum(s for s, _ in after.values()) - sum(
            before[part].get(pid, (0.0, 0))[0] for pid in after
        )
        shares[part] = round(100 * spent / wall, 1)
    result["cpu_percent_by_part"] = shares
    result["statuses"] = result.pop("raw").get("statuses", {})  # other than 2xx
    statuses = f" {result['statuses']}" if result["statuses"] else ""
    print(f"  {name}: {result['requests_per_second']:,.0f} req/s, p50 {result['p50_ms']} ms, "
          f"p99 {result['p99_ms']} ms, non-2xx {result['non_2xx']}{statuses}, CPU {shares}",
          flush=True)  # fmt: skip
    return result


@contextlib.contextmanager
def sqlite_setup(work: Path, options: argparse.Namespace) -> Iterator[tuple[str, dict[str, Any]]]:
    data = work / "sqlite"
    env = environment(options, data)
    cocreate = http.COCREATE
    started = time.perf_counter()
    run([cocreate, "demo", "--people", str(options.people)], env)
    run([cocreate, "reindex"], env)
    loaded = time.perf_counter() - started
    port = http.free_port()
    log = work / "sqlite-serve.log"
    command = [cocreate, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    with http.running_server(command, env, log) as pid:
        url = f"http://127.0.0.1:{port}"
        server = psutil.Process(pid)
        http.wait_ready(url, server, 1800, log)
        yield url, {"env": env, "db": data / "cocreate.db", "loaded_seconds": round(loaded, 1),
                    "processes": {"service": [server]}}  # fmt: skip


@contextlib.contextmanager
def cluster_setup(work: Path, options: argparse.Namespace) -> Iterator[tuple[str, dict[str, Any]]]:
    folder = work / "cluster"
    env = environment(options, work / "unused")
    cluster = [sys.executable, str(REPO / "scripts" / "cluster")]
    started = time.perf_counter()
    try:
        line = run([*cluster, "up", "--replicas", "2", "--workers", "1", "--demo-people",
                    str(options.people), "--folder", str(folder)], env)  # fmt: skip
        loaded = time.perf_counter() - started
        up = json.loads(line.strip().splitlines()[-1])
        state = json.loads((folder / "cluster.json").read_text())
        postgres = []
        for data in state.get("postgres", []):
            pid = int((Path(data) / "postmaster.pid").read_text().split()[0])
            postgres.append(psutil.Process(pid))
        processes = {
            "service": [psutil.Process(r["pid"]) for r in up["replicas"]],
            "postgresql": postgres,
            "haproxy": [psutil.Process(state["haproxy_pid"])],
        }
        env = {**env, "COCREATE_DATABASE_URL": up["database_url"]}
        quiet(processes["service"], 1800)  # the replicas warm up after /ready answers
        yield up["url"], {"env": env, "loaded_seconds": round(loaded, 1), "processes": processes,
                          "replicas": [r["url"] for r in up["replicas"]]}  # fmt: skip
    finally:
        subprocess.run([*cluster, "down", "--folder", str(folder)], env=env, check=False,
                       capture_output=True)  # fmt: skip


def arrival(replica: str, word: str, written: float, arrived: list[float]) -> None:
    """Poll ``replica``'s lexical search for ``word`` every 10 ms (30 s at most); append the
    seconds since ``written`` when it is found."""
    query = f"{replica}/v1/search?q={word}&mode=lexical"
    while time.monotonic() - written < 30:
        with urllib.request.urlopen(query, timeout=30) as answer:
            if word in answer.read().decode():
                arrived.append(time.monotonic() - written)
                return
        time.sleep(0.01)


def visibility(
    url: str, replicas: list[str], key: str, options: argparse.Namespace,
    load: tuple[str, Path] | None = None, found: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Seconds from a write's acknowledgement by the load balancer until each replica,
    asked directly and without a sequence number, finds the new node by its word
    (lexical search): each replica polled by a thread of its own every 10 ms. With
    ``load``, wrk sends that script's requests through the load balancer meanwhile."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    lags: list[float] = []
    background = None
    if load is not None:
        wrk, script = load
        seconds = options.visibility_writes * 2 + 30
        background = subprocess.Popen(
            [wrk, "-t1", f"-c{options.connections}", f"-d{seconds}s", "-s", str(script), url],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(3)
    try:
        for n in range(options.visibility_writes):
            word = f"vis{time.time_ns() % 10**12:012d}x{n}"
            body = {"kind": "initiative", "id": f"initiative:{word}", "name": f"Circle {word}",
                    "description": f"The {word} circle mends bicycles."}  # fmt: skip
            request = urllib.request.Request(f"{url}/v1/nodes", data=json.dumps(body).encode(),
                                             headers=headers, method="POST")  # fmt: skip
            with urllib.request.urlopen(request, timeout=30) as answer:
                answer.read()
            written = time.monotonic()
            arrived: list[float] = []

            threads = [threading.Thread(target=arrival, args=(r, word, written, arrived))
                       for r in replicas]  # fmt: skip
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if len(arrived) < len(replicas):
                raise RuntimeError(f"initiative:{word} not on every replica within 30 s")
            lags += arrived
            time.sleep(0.5)
    finally:
        if background is not None:
            background.terminate()
            background.wait(timeout=30)
    lags.sort()
    figures = {
        "reads": len(lags),
        "median_s": round(lags[len(lags) // 2], 3),
        "p90_s": round(lags[len(lags) * 9 // 10], 3),
        "max_s": round(lags[-1], 3),
        "within_1s_percent": round(100 * sum(lag <= 1.0 for lag in lags) / len(lags), 1),
    }
    print(f"  visibility{' under reads' if load else ''}: {figures}", flush=True)
    return figures


def quiet(processes: list[psutil.Process], timeout: float) -> None:
    """Wait until ``processes`` and their children spend under 5% of a core for 2 s
    (a replica builds its per-version structures after answering /ready)."""
    deadline = time.monotonic() + timeout
    last = sum(s for s, _ in http.cpu_by_process(processes).values())
    while time.monotonic() < deadline:
        time.sleep(2.0)
        now = sum(s for s, _ in http.cpu_by_process(processes).values())
        if now - last < 0.1:
            return
        last = now
    raise RuntimeError(f"the replicas were still busy after {timeout:.0f} s")


def main() -> None:
    options = parse()
    wrk = http.ensure_wrk()
    options.vector_cache.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "people": options.people,
        "duration_seconds": options.duration,
        "connections": options.connections,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "setups": {},
    }
    with tempfile.TemporaryDirectory(prefix="cocreate-bench-replicas-") as tmp:
        work = Path(tmp)
        lua: dict[str, Path] | None = None
        for setup in ("sqlite", "postgresql"):
            if setup not in options.setups and not (setup == "sqlite" and lua is None):
                continue
            opened = sqlite_setup if setup == "sqlite" else cluster_setup
            print(f"{setup}: loading {options.people:,} people ...", flush=True)
            with opened(work, options) as (url, found):
                key = run([http.COCREATE, "keys", "create", "--role", "admin"],
                          found["env"]).strip()  # fmt: skip
                if lua is None:  # the SQLite store names the nodes of both
                    lua = scripts(work, found["db"], options, "KEY")
                keyed = {}
                for name, path in lua.items():
                    target = work / f"{setup}-{name}.lua"
                    target.write_text(path.read_text().replace("Bearer KEY", f"Bearer {key}"))
                    keyed[name] = target
                if setup not in options.setups:
                    continue
                print(f"{setup}: ready at {url} ({found['loaded_seconds']} s to load)", flush=True)
                figures = {
                    name: measure(name, wrk, url, keyed[name], options, found["processes"])
                    for name in options.scenarios
                }
                results["setups"][setup] = {"load_seconds": found["loaded_seconds"],
                                            "scenarios": figures}  # fmt: skip
                if setup == "postgresql" and options.visibility_writes:
                    results["setups"][setup]["visibility"] = {
                        "quiet": visibility(url, found["replicas"], key, options),
                        "under_reads": visibility(url, found["replicas"], key, options,
                                                  load=(wrk, keyed["reads"]), found=found),
                    }  # fmt: skip
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"written to {options.json}")


def table(results: dict[str, Any]) -> str:
    lines = ["| scenario | setup | req/s | p50 ms | p99 ms | non-2xx | CPU % by part |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for name in SCENARIOS:
        for setup, found in results["setups"].items():
            r = found["scenarios"].get(name)
            if r is None:
                continue
            parts = ", ".join(f"{k} {v:.0f}" for k, v in r["cpu_percent_by_part"].items())
            lines.append(f"| {name} | {setup} | {r['requests_per_second']:,.0f} | {r['p50_ms']} "
                         f"| {r['p99_ms']} | {r['non_2xx']} | {parts} |")  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    if shutil.which("wrk") is None and not Path(http.COCREATE).exists():
        sys.exit("run scripts/setup first")
    main()
