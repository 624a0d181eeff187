#!/usr/bin/env python
"""Benchmark: drive the running HTTP service with wrk; requests/s and latency percentiles.

Builds a fresh store in a temporary folder (``cocreate demo --people N``), starts
``cocreate serve`` on a free loopback port with the rate limiter opened wide (it is
per client, and wrk is one client), waits until every worker is ready, then runs
wrk once per scenario with a Lua script that cycles through real URLs:

- ``reads``: ``GET /v1/nodes/{id}`` over a random sample of ids visible to anonymous
  callers (people, initiatives, communities, sectors, SDGs...);
- ``lists``: ``GET /v1/nodes?kind=person&country=XX&limit=20``, ``?sector=...``,
  ``?q=<prefix>`` and ``kind=initiative&sdg=...`` mixed;
- ``neighbors``: ``GET /v1/nodes/{id}/neighbors?depth=1&limit=20`` over the same ids;
- ``search``: ``GET /v1/search?q=...&limit=10``, people's interests as queries (every
  query encoded: the server's query cache is off); ``search-people``: the same with
  ``kind=person``; ``search-sector``: with ``sector=``, each of the twelve in turn;
  ``similar``: ``GET /v1/nodes/{id}/similar?limit=10``;
- ``map``: ``GET /v1/map?bbox=...&zoom=Z`` for the world at zoom 2 and views the size of
  a 1280x800 screen around placed nodes at zooms 4 to 11 (without ``If-None-Match``, so
  every request gets the whole answer); ``map-pan``: 30,000 such screens, each moved by
  up to half a screen, none asked for twice (a person panning: no answer is held yet);
- ``collaborators``: ``GET /v1/people/{id}/collaborators?limit=10`` over listed people,
  while a writer changes a bio or adds a ``knows`` edge through the API once a second
  (``--write-rate``, ``--writes-during``);
- ``proposal``: ``POST /v1/councils/propose`` for every sector, with a member's key.

Each run records the CPU used by the server, by wrk and by everything else; a run
during which other processes used more than ``--max-other-cpu`` % of a core is
repeated (``--attempts``), keeping the quietest. Prints a Markdown table and writes
the figures as JSON. The server is stopped at the end, also on an error, Ctrl-C or
SIGTERM. wrk comes from Debian (``apt-get install wrk``; installed here if missing).

``cocreate serve`` serves a store with no vectors at once, searching it by its words
while one worker encodes it (half an hour for 100,000 people on 2 cores); the scenarios
are meant for a served index, so ``--data-dir DIR`` keeps the store and the index in DIR
and reuses them on the next run (a folder kept by ``scripts/bench_start.py --keep`` may
be used once it holds ``bench-http.json`` naming its people and seed); ``--skip-index``
starts the same uvicorn app directly.

    .venv/bin/python scripts/bench_http.py                    # the demo network
    .venv/bin/python scripts/bench_http.py --people 100000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import psutil

COCREATE = str(Path(sys.executable).with_name("cocreate"))
SCENARIOS = (
    "reads", "lists", "neighbors", "search", "search-people", "search-sector", "similar", "map",
    "map-pan", "collaborators", "proposal",
)  # fmt: skip
PAN_VIEWS = 30_000
"""Views of the ``map-pan`` scenario: more than a run of 20 s asks for."""
MARKER = "BENCH_JSON "
PERCENTILES = (50, 90, 95, 99, 99.9)

LUA = r"""
-- Cycles through a fixed list of paths; each wrk thread starts at its own offset.
local paths = {
%(paths)s
}
local count = #paths
local index = 0
local threads = {}

function setup(thread)
  thread:set("offset", #threads * 7919)
  table.insert(threads, thread)
end

function init(args)
  index = (offset or 0) %% count
%(headers)s
end

function request()
  index = index %% count + 1
  local entry = paths[index]
  if type(entry) == "table" then
    return wrk.format(entry[1], entry[2], nil, entry[3])
  end
  return wrk.format("GET", entry)
end

function done(summary, latency, requests)
  local e = summary.errors
  local parts = {}
  for _, p in ipairs({%(percentiles)s}) do
    table.insert(parts, string.format('"%%s":%%d', tostring(p), latency:percentile(p)))
  end
  io.write(string.format(
    '%(marker)s{"requests":%%d,"duration_us":%%d,"bytes":%%d,' ..
    '"errors":{"connect":%%d,"read":%%d,"write":%%d,"status":%%d,"timeout":%%d},' ..
    '"latency_us":{"mean":%%.1f,"stdev":%%.1f,"min":%%d,"max":%%d,' ..
    '"percentiles":{%%s}}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency.min, latency.max, table.concat(parts, ",")))
end
"""


@dataclass(frozen=True)
class Options:
    people: int
    seed: int
    duration: int
    warmup: int
    connections: int
    threads: int
    workers: int
    sample: int
    scenarios: tuple[str, ...]
    json: Path
    ready_timeout: float
    attempts: int
    max_other_cpu: float
    settle_timeout: float
    data_dir: Path | None
    skip_index: bool
    vector_cache: Path | None
    writes_during: tuple[str, ...]
    write_rate: float


def parse_options() -> Options:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--people", type=int, default=3_000, help="people in the network")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--duration", type=int, default=20, help="seconds per scenario")
    parser.add_argument("--warmup", type=int, default=3, help="unreported seconds before each")
    parser.add_argument("--connections", type=int, default=8, help="concurrent wrk connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--sample", type=int, default=2_000, help="node ids to cycle through")
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated, any of {', '.join(SCENARIOS)}",
    )
    parser.add_argument("--json", type=Path, default=None, help="var/bench/http-<people>.json")
    parser.add_argument(
        "--vector-cache",
        type=Path,
        default=None,
        help="build the search index before serving, taking the vectors of texts already "
        "encoded by scripts/bench_search.py from this folder (e.g. var/bench)",
    )
    parser.add_argument(
        "--skip-index",
        action="store_true",
        help="start uvicorn as `cocreate serve` does, without building the search index first",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="keep the store and search index here and reuse them on the next run "
        "(default: a fresh temporary folder)",
    )
    parser.add_argument(
        "--ready-timeout",
        type=float,
        default=1800.0,
        help="seconds (includes the search index build)",
    )
    parser.add_argument(
        "--max-other-cpu",
        type=float,
        default=25.0,
        help="%% of a core other processes may use during a run before it is repeated",
    )
    parser.add_argument("--attempts", type=int, default=3, help="runs per scenario at most")
    parser.add_argument(
        "--writes-during",
        default="collaborators",
        help="scenarios during which writes are made through the API (comma-separated)",
    )
    parser.add_argument("--write-rate", type=float, default=1.0, help="writes per second")
    parser.add_argument(
        "--settle-timeout", type=float, default=60.0, help="seconds to wait for a quiet machine"
    )
    args = parser.parse_args()
    scenarios = tuple(s.strip() for s in args.scenarios.split(",") if s.strip())
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown or not scenarios:
        parser.error(f"unknown scenario {unknown[0] if unknown else '(none)'}")
    if min(args.duration, args.connections, args.threads, args.workers, args.sample) < 1:
        parser.error("--duration, --connections, --threads, --workers, --sample must be >= 1")
    if args.threads > args.connections:
        parser.error("--threads cannot exceed --connections")
    return Options(
        people=args.people,
        seed=args.seed,
        duration=args.duration,
        warmup=max(0, args.warmup),
        connections=args.connections,
        threads=args.threads,
        workers=args.workers,
        sample=args.sample,
        scenarios=scenarios,
        json=args.json or Path(f"var/bench/http-{args.people}.json"),
        ready_timeout=args.ready_timeout,
        attempts=max(1, args.attempts),
        max_other_cpu=args.max_other_cpu,
        settle_timeout=args.settle_timeout,
        data_dir=args.data_dir.resolve() if args.data_dir else None,
        skip_index=args.skip_index,
        vector_cache=args.vector_cache,
        writes_during=tuple(w.strip() for w in args.writes_during.split(",") if w.strip()),
        write_rate=args.write_rate,
    )


# -- wrk -----------------------------------------------------------------------


def ensure_wrk() -> str:
    """The path of wrk, installing the Debian package if it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is not installed; installing the Debian package: apt-get install -y wrk", flush=True)
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        raise SystemExit(
            "error: wrk is missing and cannot be installed here "
            "(needs apt-get and root); install it with: sudo apt-get install -y wrk"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for attempt in ([apt, "install", "-y", "wrk"], [apt, "update"], [apt, "install", "-y", "wrk"]):
        done = subprocess.run(attempt, env=env, capture_output=True, text=True, check=False)
        if attempt[1] == "install" and done.returncode == 0:
            break
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("error: apt-get could not install wrk; install it by hand and rerun")
    return found


def wrk_version(wrk: str) -> str:
    done = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
    first = (done.stdout or done.stderr).strip().splitlines()
    return first[0] if first else "wrk"


def write_lua(requests: list[str], target: Path, headers: dict[str, str] | None = None) -> None:
    """A wrk script cycling through ``requests``: a path (GET) or ``"POST <path> <json>"``."""
    entries = []
    for request in requests:
        method, path, body = ("GET", request, "") if " " not in request else request.split(" ", 2)
        if not re.fullmatch(r"[A-Za-z0-9/?&=%:.,_~+-]+", path) or "]]" in body:
            raise ValueError(f"unsafe request for the Lua script: {request!r}")
        entries.append(
            f'  "{path}"' if method == "GET" else f'  {{"{method}", "{path}", [[{body}]]}}'
        )
    header_lines = [f'  wrk.headers["{k}"] = [[{v}]]' for k, v in (headers or {}).items()]
    target.write_text(
        LUA
        % {
            "paths": ",\n".join(entries),
            "headers": "\n".join(header_lines),
            "percentiles": ", ".join(str(p) for p in PERCENTILES),
            "marker": MARKER,
        },
        encoding="utf-8",
    )


def run_wrk(
    wrk: str,
    url: str,
    script: Path,
    options: Options,
    seconds: int,
    server: psutil.Process | list[psutil.Process],
) -> dict[str, Any]:
    """One wrk run; its done() figures plus the server's CPU use over the run."""
    args = [
        wrk,
        f"-t{options.threads}",
        f"-c{options.connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        str(script),
        url,
    ]
    each_before, busy_before = cpu_by_process(server), busy_cpu_seconds()
    before = sum(seconds for seconds, _ in each_before.values())
    client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60, check=False)
    wall = time.perf_counter() - started
    each_after = cpu_by_process(server)
    cpu = sum(seconds for seconds, _ in each_after.values()) - before
    client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client = (client_after.ru_utime + client_after.ru_stime) - (
        client_before.ru_utime + client_before.ru_stime
    )
    busy = busy_cpu_seconds() - busy_before
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    if not lines:
        raise RuntimeError(f"wrk printed no figures:\n{done.stdout}\n{done.stderr}")
    figures: dict[str, Any] = {}
    for line in lines:  # done()'s figures, and whatever else a script reports
        figures.update(json.loads(line[len(MARKER) :]))
    figures["server_cpu_percent"] = round(100 * cpu / wall, 1)
    # Each process's share: the workers (wrk's connections may not reach them evenly)
    # and, at a lower priority (a higher nice), the councils process.
    figures["process_cpu_percent"] = [
        {"nice": nice, "cpu_percent": round(100 * (seconds - each_before.get(pid, (0.0, 0))[0])
                                            / wall, 1)}
        for pid, (seconds, nice) in sorted(each_after.items())
    ]  # fmt: skip
    figures["wrk_cpu_percent"] = round(100 * client / wall, 1)
    # Whatever else ran on the machine meanwhile (other jobs skew the figures).
    figures["other_cpu_percent"] = round(max(0.0, 100 * (busy - cpu - client) / wall), 1)
    return figures


# -- the data and the URLs -------------------------------------------------------


def build_store(env: dict[str, str], people: int, seed: int) -> float:
    """Load the demo network with ``people`` people; returns the seconds it took."""
    started = time.perf_counter()
    done = subprocess.run(
        [COCREATE, "demo", "--people", str(people), "--seed", str(seed)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"cocreate demo failed:\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - started


def create_key(env: dict[str, str], role: str) -> str:
    """A new API key of ``role`` (``cocreate keys create``; the secret is its only line)."""
    done = subprocess.run(
        [COCREATE, "keys", "create", "--role", role], env=env, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"cocreate keys create failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout.strip()


def prepare_data(data: Path, env: dict[str, str], options: Options) -> float | None:
    """Load the network into ``data`` unless a kept folder already holds the same one.

    Returns the seconds the load took, or None when a kept folder was reused.
    """
    marker = data / "bench-http.json"
    wanted = {"people": options.people, "seed": options.seed}
    if options.data_dir is not None and marker.exists():
        found = json.loads(marker.read_text(encoding="utf-8"))
        if found != wanted:
            raise SystemExit(f"error: {data} holds a network of {found}, not {wanted}")
        print(f"reusing the network in {data} ({options.people:,} people)", flush=True)
        return None
    if options.data_dir is not None and data.exists() and any(data.iterdir()):
        raise SystemExit(f"error: {data} is not empty and was not made by this script")
    print(f"loading the demo network with {options.people:,} people ...", flush=True)
    seconds = build_store(env, options.people, options.seed)
    print(f"  loaded in {seconds:.1f} s", flush=True)
    if options.data_dir is not None:
        marker.write_text(json.dumps(wanted) + "\n", encoding="utf-8")
    return seconds


def prebuild_index(data: Path, options: Options) -> float | None:
    """Build and save the search index of the store in ``data`` with cached vectors.

    Texts that ``scripts/bench_search.py`` encoded for the same seed and size (kept in
    ``--vector-cache``) are not encoded again; the others are. Returns the seconds it took,
    or None if a saved index is already in step with the store.
    """
    import numpy as np
    from bench_search import cached_vectors, corpus

    from api.services import open_encoder, open_store
    from api.settings import Settings
    from embeddings.search import SemanticIndex
    from graph.texts import node_text

    assert options.vector_cache is not None
    settings = Settings(data_dir=data)
    store = open_store(settings)
    encoder = open_encoder(settings, store)  # the precision the service would choose
    started = time.perf_counter()
    saved = SemanticIndex.open(encoder, settings.index_dir)
    if len(saved) and saved.watermark == store.last_seq():
        print(f"reusing the search index in {settings.index_dir}", flush=True)
        return None
    items, _ = corpus(Path(__file__).resolve().parents[1] / "data", seed=options.seed,
                      size=options.people)  # fmt: skip
    vectors, _ = cached_vectors(encoder, items, seed=options.seed, folder=options.vector_cache)
    known = {text: row for row, (_, text) in enumerate(items)}

    class CachedFirst:
        name, dimension = encoder.name, encoder.dimension

        def encode(self, texts: Any, *, batch_size: int = 64, progress: bool = False) -> Any:
            out = np.zeros((len(texts), self.dimension), dtype=np.float32)
            missing = [row for row, text in enumerate(texts) if text not in known]
            for row, text in enumerate(texts):
                if text in known:
                    out[row] = vectors[known[text]]
            if missing:
                out[missing] = encoder.encode([texts[row] for row in missing], progress=True)
            return out

    index = SemanticIndex(CachedFirst(), folder=settings.index_dir)
    seq = store.last_seq()
    batch: list[tuple[str, str]] = []
    for node in store.iter_nodes():
        batch.append((node.id, node_text(node)))
        if len(batch) >= 20_000:
            index.upsert(batch)
            batch = []
    index.upsert(batch)
    index.save(watermark=seq)
    seconds = time.perf_counter() - started
    print(f"  search index of {len(index):,} items built in {seconds:.1f} s", flush=True)
    return seconds


def _q(value: str) -> str:
    return quote(value, safe=":")


def network_size(db: Path) -> dict[str, int]:
    """How many nodes and edges the store holds (``/ready`` does not say)."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return {
            table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("nodes", "edges")
        }


def scenario_paths(db: Path, seed: int, sample: int) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """The URL paths of each scenario, drawn from the store, and what they contain."""
    rng = random.Random(seed)
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        # What an anonymous caller may read directly: every non-person node, public people.
        visible = conn.execute(
            "SELECT id, kind, kind != 'person' OR discoverable FROM nodes"
            " WHERE kind != 'person' OR visibility = 'public' ORDER BY id"
        ).fetchall()
        listed = "kind = 'person' AND visibility = 'public' AND discoverable"
        countries = [
            row[0]
            for row in conn.execute(
                f"SELECT DISTINCT country FROM nodes WHERE {listed} AND country IS NOT NULL "
                "ORDER BY country"
            )
        ]
        names = [row[0] for row in conn.execute(f"SELECT name FROM nodes WHERE {listed}")]
        sectors = [r[0] for r in conn.execute("SELECT id FROM nodes WHERE kind = 'sector'")]
        sdgs = [r[0] for r in conn.execute("SELECT id FROM nodes WHERE kind = 'sdg' ORDER BY id")]
        placed = conn.execute(
            f"SELECT lat, lon FROM nodes WHERE {listed} AND lat IS NOT NULL ORDER BY id"
        ).fetchall()
        listed_people = conn.execute(f"SELECT id FROM nodes WHERE {listed} ORDER BY id").fetchall()
        # Search queries are people's interests, as someone would type them.
        interests = [
            "; ".join(json.loads(row[0]).get("interests", [])[:2])
            for row in conn.execute(
                f"SELECT data FROM nodes WHERE {listed} ORDER BY id LIMIT ?", (sample * 20,)
            )
        ]
    if not visible:
        raise RuntimeError("the store has no visible nodes")
    chosen = rng.sample(visible, min(sample, len(visible)))
    reads = [f"/v1/nodes/{_q(node_id)}" for node_id, _, _ in chosen]
    # A public person who is not discoverable can be read, but is in no one's
    # neighbourhood or similar list, and has none (404).
    found = [node_id for node_id, _, discoverable in chosen if discoverable]
    neighbors = [f"/v1/nodes/{_q(node_id)}/neighbors?depth=1&limit=20" for node_id in found]

    prefixes = sorted({name[:2].lower() for name in names if len(name) >= 2 and name.isascii()})
    lists: list[str] = []
    for _ in range(max(200, sample // 4)):
        shape = rng.randrange(4)
        if shape == 0 and countries:
            query = {"kind": "person", "country": rng.choice(countries), "limit": "20"}
        elif shape == 1 and sectors:
            query = {"kind": "person", "sector": rng.choice(sectors), "limit": "20"}
        elif shape == 2 and prefixes:
            query = {"kind": "person", "q": rng.choice(prefixes), "limit": "20"}
        elif sdgs:
            query = {"kind": "initiative", "sdg": rng.choice(sdgs), "limit": "20"}
        else:
            query = {"kind": "person", "limit": "20"}
        lists.append("/v1/nodes?" + urlencode(query, safe=":"))
    views = ["/v1/map?" + urlencode({"bbox": "-180,-85,180,85", "zoom": "2"}, safe=",")]
    for lat, lon in rng.sample(placed, min(len(placed), max(100, sample // 4))):
        zoom = rng.randint(4, 11)
        half_w, half_h = 640 * 360 / (256 * 2**zoom), 400 * 360 / (256 * 2**zoom)
        box = (max(-180, lon - half_w), max(-85, lat - half_h), min(180, lon + half_w),
               min(85, lat + half_h))  # fmt: skip
        bbox = ",".join(f"{v:.3f}" for v in box)
        views.append("/v1/map?" + urlencode({"bbox": bbox, "zoom": str(zoom)}, safe=","))
    # Panning: screens at zooms 4 to 11 that no request asks for twice (each around a
    # placed node, moved by up to half a screen), so that every answer is made anew.
    pan: list[str] = []
    for lat, lon in rng.choices(placed, k=PAN_VIEWS) if placed else []:
        zoom = rng.randint(4, 11)
        half_w, half_h = 640 * 360 / (256 * 2**zoom), 400 * 360 / (256 * 2**zoom)
        lon += rng.uniform(-half_w, half_w)
        lat += rng.uniform(-half_h, half_h)
        box = (max(-180, lon - half_w), max(-85, lat - half_h), min(180, lon + half_w),
               min(85, lat + half_h))  # fmt: skip
        if box[0] < box[2] and box[1] < box[3]:
            bbox = ",".join(f"{v:.4f}" for v in box)
            pan.append("/v1/map?" + urlencode({"bbox": bbox, "zoom": str(zoom)}, safe=","))
    people = [row[0] for row in listed_people]
    collaborators = [
        f"/v1/people/{_q(person)}/collaborators?limit=10"
        for person in rng.sample(people, min(sample, len(people)))
    ]
    proposals = [
        f'POST /v1/councils/propose {{"sector": "{sector}"}}' for sector in sorted(sectors)
    ]
    queries = rng.sample([i for i in interests if i], min(sample, sum(1 for i in interests if i)))
    search = [f"/v1/search?q={quote(text)}&limit=10" for text in queries]
    # The same queries among people only (the web app's search of people).
    search_people = [f"{path}&kind=person" for path in search]
    # And within one sector, the sectors in turn (a council's or a sector page's search).
    ordered = sorted(sectors)
    search_sector = [f"{path}&sector={_q(ordered[i % len(ordered)])}"
                     for i, path in enumerate(search)] if ordered else []  # fmt: skip
    similar = [f"/v1/nodes/{_q(node_id)}/similar?limit=10" for node_id in found]
    mix = Counter(kind for _, kind, _ in chosen)
    described = {
        "visible_nodes": len(visible),
        "read_sample": len(reads),
        "read_sample_kinds": dict(mix.most_common()),
        "list_urls": len(lists),
        "list_shapes": dict(Counter(p.split("?")[1].split("&")[1].split("=")[0] for p in lists)),
        "search_queries": len(search),
        "map_views": len(views),
        "map_pan_views": len(set(pan)),
    }
    paths = {"reads": reads, "lists": lists, "neighbors": neighbors, "map": views, "map-pan": pan}
    described["collaborator_seeds"] = len(collaborators)
    described["proposal_sectors"] = len(proposals)
    extra = {"collaborators": collaborators, "proposal": proposals}
    searches = {"search": search, "search-people": search_people, "search-sector": search_sector}
    return {**paths, **searches, "similar": similar, **extra}, described


# -- the server ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores)."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def server_cpu_seconds(server: psutil.Process) -> float:
    """User + system CPU seconds of the server process and its workers."""
    return sum(seconds for seconds, _ in cpu_by_process(server).values())


def cpu_by_process(server: psutil.Process | list[psutil.Process]) -> dict[int, tuple[float, int]]:
    """(user + system CPU seconds, nice) of the server process and each of its children
    (the workers, and at a higher nice the councils process); of each, for a list."""
    found: dict[int, tuple[float, int]] = {}
    for root in server if isinstance(server, list) else [server]:
        with contextlib.suppress(psutil.Error):
            for process in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    times = process.cpu_times()
                    found[process.pid] = (times.user + times.system, process.nice())
    return found


def server_command(port: int, workers: int, *, skip_index: bool) -> list[str]:
    """``cocreate serve``, or (``skip_index``) the very uvicorn call it ends with."""
    where = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    if not skip_index:
        return [COCREATE, "serve", *where]
    # What `cocreate serve` runs once it has built the search index, which takes over an
    # hour for 100,000 people on 2 cores and is not used by these scenarios.
    app = ["uvicorn", "api.app:create_app", "--factory"]
    quiet = ["--log-level", "warning", "--no-access-log", "--no-proxy-headers"]
    return [sys.executable, "-m", *app, *where, *quiet]


@contextlib.contextmanager
def running_server(command: list[str], env: dict[str, str], log: Path) -> Iterator[int]:
    """The server on 127.0.0.1 in its own process group; stopped on exit."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process.pid
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group, SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def read_ready(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/ready", timeout=30) as response:
        return dict(json.loads(response.read()))


def wait_ready(url: str, server: psutil.Process, timeout: float, log: Path) -> float:
    """Wait for /ready, then until every process of the service is quiet (the workers'
    loading and first warming, the councils' figures); the seconds until /ready answered."""
    started = time.monotonic()
    deadline = started + timeout
    ready: dict[str, Any] | None = None
    while ready is None:
        if not server.is_running() or server.status() == psutil.STATUS_ZOMBIE:
            raise RuntimeError(f"the server exited:\n{log.read_text(errors='replace')}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server was not ready after {timeout:.0f} s")
        try:
            with urllib.request.urlopen(f"{url}/ready", timeout=2) as response:
                ready = json.loads(response.read())
        except (OSError, urllib.error.URLError):
            time.sleep(0.2)
    answered = time.monotonic() - started
    if ready.get("indexing"):
        # Served while its vectors are computed (hours for a million people): the
        # processes are not quiet before that, and the scenarios run beside it.
        print(f"  /ready says indexing: {ready['indexing']}", flush=True)
        return answered
    # A worker still building its graph view does not accept connections yet, so /ready
    # can answer before all of them are up; wait until no process is busy.
    last = server_cpu_seconds(server)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = server_cpu_seconds(server)
        if now - last < 0.05:
            return answered
        last = now
    raise RuntimeError(f"the server workers were still busy after {timeout:.0f} s")


def settle(server: psutil.Process, limit: float, timeout: float) -> float:
    """Wait (at most ``timeout`` s) until other processes use under ``limit`` % of a core."""
    deadline = time.monotonic() + timeout
    while True:
        busy, own = busy_cpu_seconds(), server_cpu_seconds(server)
        time.sleep(2.0)
        other = 100 * ((busy_cpu_seconds() - busy) - (server_cpu_seconds(server) - own)) / 2.0
        if other <= limit or time.monotonic() >= deadline:
            return max(0.0, other)


def run_scenario(
    name: str, wrk: str, url: str, script: Path, options: Options, server: psutil.Process
) -> dict[str, Any]:
    """Warm-up, then the measured run; repeated (up to ``attempts``) while other jobs
    on the machine took more than ``max_other_cpu`` % of a core, keeping the cleanest."""
    best: dict[str, Any] | None = None
    for attempt in range(1, options.attempts + 1):
        other = settle(server, options.max_other_cpu, options.settle_timeout)
        if other > options.max_other_cpu:
            print(f"  note: other processes use {other:.0f}% of a core", flush=True)
        if options.warmup:
            run_wrk(wrk, url, script, options, options.warmup, server)
        print(f"  {name}: {options.duration} s (attempt {attempt}) ...", flush=True)
        result = summarise(run_wrk(wrk, url, script, options, options.duration, server))
        result["attempt"] = attempt
        print(
            f"    {result['requests_per_second']:,.0f} req/s, p50 {result['p50_ms']} ms, "
            f"p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms, "
            f"non-2xx {result['non_2xx']}, other CPU {result['other_cpu_percent']:.0f}%",
            flush=True,
        )
        if best is None or result["other_cpu_percent"] < best["other_cpu_percent"]:
            best = result
        if result["other_cpu_percent"] <= options.max_other_cpu:
            break
    assert best is not None
    return best


class Writer:
    """Writes through the API at ``rate`` per second while the block runs, alternating a
    changed person's bio (a text to encode again) and a new ``knows`` edge between two
    people (a new version of the graph); records each write's status and latency."""

    def __init__(self, url: str, key: str, people: list[str], rate: float, seed: int) -> None:
        self.url, self.key, self.people, self.rate = url, key, people, rate
        # Each run writes what no earlier run on the same folder wrote (the same bio or
        # an existing link would be an unchanged write: no new version at all).
        self.run = time.time_ns()
        self.rng = random.Random(f"{seed}-{self.run}")
        self.latencies: list[float] = []
        self.failures: Counter[int] = Counter()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.warmed: dict[str, Any] | None = None
        self.seq_before: int | None = None
        self.seq_after: int | None = None

    def __enter__(self) -> Writer:
        if self.rate > 0 and len(self.people) >= 2:
            self.seq_before = self.worker_state().get("seq")
            self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(timeout=30)
            state = self.worker_state()
            self.warmed = state.get("warmed")
            self.seq_after = state.get("seq")

    def worker_state(self) -> dict[str, Any]:
        """``/v1/admin/state`` of the worker that answers: how long its warmer's last run
        took, part by part (the per-version structures each write makes it build again)."""
        request = urllib.request.Request(
            self.url + "/v1/admin/state?digests=false",
            headers={"Authorization": f"Bearer {self.key}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                found: dict[str, Any] = json.loads(response.read())
                return found
        except (OSError, ValueError):
            return {}

    def loop(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        count = 0
        while not self.stopping.wait(1.0 / self.rate):
            count += 1
            one, other = self.rng.sample(self.people, 2)
            if count % 2:
                method, path = "PATCH", f"/v1/nodes/{_q(one)}"
                body = {"bio": f"Neighbourhood organiser, note {count} of run {self.run}."}
            else:
                method, path = "POST", "/v1/edges"
                body = {"kind": "knows", "source": one, "target": other}
            request = urllib.request.Request(
                self.url + path, data=json.dumps(body).encode(), headers=headers, method=method
            )
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    response.read()
                self.latencies.append(time.perf_counter() - started)
            except urllib.error.HTTPError as error:
                if error.code != 409:  # the two already know each other: not a failure
                    self.failures[error.code] += 1
            except OSError:
                self.failures[0] += 1

    def summary(self) -> dict[str, Any] | None:
        if not self.latencies and not self.failures:
            return None
        ordered = sorted(self.latencies)
        return {
            "writes": len(ordered),
            "rate_per_second": self.rate,
            "p50_ms": round(1000 * ordered[len(ordered) // 2], 1) if ordered else None,
            "max_ms": round(1000 * ordered[-1], 1) if ordered else None,
            "failures": {str(code): n for code, n in self.failures.items()},
            # Change-log entries the writes made (an unchanged write makes none).
            "changes": None
            if self.seq_before is None or self.seq_after is None
            else self.seq_after - self.seq_before,
            "last_warming": self.warmed,
        }


# -- the report ------------------------------------------------------------------


def summarise(figures: dict[str, Any]) -> dict[str, Any]:
    seconds = figures["duration_us"] / 1e6
    latency = figures["latency_us"]
    pct = latency["percentiles"]
    errors = figures["errors"]
    return {
        "requests": figures["requests"],
        "seconds": round(seconds, 2),
        "requests_per_second": round(figures["requests"] / seconds, 1),
        "p50_ms": round(pct["50"] / 1000, 2),
        "p90_ms": round(pct["90"] / 1000, 2),
        "p95_ms": round(pct["95"] / 1000, 2),
        "p99_ms": round(pct["99"] / 1000, 2),
        "p99_9_ms": round(pct["99.9"] / 1000, 2),
        "max_ms": round(latency["max"] / 1000, 2),
        "mean_ms": round(latency["mean"] / 1000, 2),
        "non_2xx": errors["status"],
        "socket_errors": errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        "server_cpu_percent": figures["server_cpu_percent"],
        "wrk_cpu_percent": figures["wrk_cpu_percent"],
        "other_cpu_percent": figures["other_cpu_percent"],
        "raw": figures,
    }


def pss_mib(server: psutil.Process) -> float:
    """The PSS of ``serve`` and every process under it, MiB (0 where the system has no PSS)."""
    total = 0
    for process in [server, *server.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += getattr(process.memory_full_info(), "pss", 0)
    return round(total / 2**20, 1)


def markdown(results: dict[str, dict[str, Any]], people: int) -> str:
    lines = [
        "| people | scenario | requests | req/s | p50 ms | p95 ms | p99 ms | max ms "
        "| non-2xx | server CPU | wrk CPU | other CPU | PSS after, MiB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {people:,} | {name} | {r['requests']:,} | {r['requests_per_second']:,.0f} "
            f"| {r['p50_ms']:.2f} | {r['p95_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.1f} "
            f"| {r['non_2xx'] + r['socket_errors']} | {r['server_cpu_percent']:.0f}% "
            f"| {r['wrk_cpu_percent']:.0f}% | {r['other_cpu_percent']:.0f}% "
            f"| {r.get('pss_after_mib', 0):,.0f} |"
        )
    return "\n".join(lines)


def installed(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def last_change(db: Path) -> int:
    """The sequence number of the last change written to the store."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0])


def wait_warmed(
    url: str, admin: str, workers: int, timeout: float, *, councils: bool = True, seq: int = 0
) -> float:
    """Seconds until every worker's warmer has warmed its current version, councils
    included unless ``councils`` is false (while vectors are computed the councils'
    figures are not published), that version holding change ``seq`` at least (a worker
    that has not read the last writes yet is not settled); ``/v1/admin/state`` answers
    for whichever worker takes the request."""
    started = time.perf_counter()
    probe = Writer(url, admin, [], 0.0, 0)
    warmed: set[int] = set()
    while time.perf_counter() - started < timeout:
        state = probe.worker_state()
        done = state.get("warmed") or {}
        now = state.get("seq", -1)
        if (
            done.get("once")
            and now >= seq
            and done.get("seq", -1) >= now
            and (not councils or done.get("councils_seq", -1) >= now)
        ):
            warmed.add(int(state.get("pid", 0)))
            if len(warmed) >= max(1, workers):
                return time.perf_counter() - started
        time.sleep(2.0)  # the state's digests read the whole view: not too often
    raise RuntimeError(f"the workers were not warmed within {timeout:.0f} s")


def processor_has_vnni() -> bool:
    """Whether this processor has VNNI, where ``auto`` encodes a search's text in int8."""
    from embeddings.quantize import has_vnni

    return has_vnni()


def main() -> None:
    options = parse_options()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="cocreate-bench-http-") as tmp:
        work = Path(tmp)
        data = options.data_dir or work / "var"
        env = {
            **os.environ,
            "COCREATE_DATA_DIR": str(data),
            "COCREATE_RATE_LIMIT_PER_MINUTE": str(10**12),
            "COCREATE_RATE_LIMIT_BURST": str(10**12),
            # wrk cycles through its URLs: every search must encode its query.
            "COCREATE_QUERY_CACHE": "0",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
        env.pop("COCREATE_DATABASE_URL", None)  # always the SQLite store in the data dir
        env.pop("COCREATE_CACHE", None)
        load_seconds = prepare_data(data, env, options)
        index_seconds = None if options.vector_cache is None else prebuild_index(data, options)
        database = data / "cocreate.db"
        paths, described = scenario_paths(database, options.seed, options.sample)
        member, admin = (create_key(env, role) for role in ("member", "admin"))
        headers = {"Authorization": f"Bearer {member}", "Content-Type": "application/json"}

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = work / "server.log"
        results: dict[str, dict[str, Any]] = {}
        command = server_command(port, options.workers, skip_index=options.skip_index)
        with running_server(command, env, log) as pid:
            server = psutil.Process(pid)
            started = time.perf_counter()
            answered = wait_ready(url, server, options.ready_timeout, log)
            ready_seconds = time.perf_counter() - started
            ready = network_size(database)
            workers = len(server.children(recursive=False))
            print(
                f"serving {ready['nodes']:,} nodes, {ready['edges']:,} edges at {url} "
                f"({options.workers} workers: /ready answered after {answered:.1f} s, "
                f"every process quiet after {ready_seconds:.1f} s)",
                flush=True,
            )
            # The scenarios measure the steady state: each worker's warmer has built the
            # per-version structures of the start (how long that took is reported).
            indexing = bool(read_ready(url).get("indexing"))
            warmed_seconds = wait_warmed(
                url, admin, options.workers, options.ready_timeout, councils=not indexing
            )
            print(f"every worker warmed {warmed_seconds:.1f} s after ready", flush=True)
            for name in options.scenarios:
                # Each scenario starts from a settled service: what an earlier one's writes
                # left to warm is done first (how long that took is reported with it).
                settled = wait_warmed(
                    url, admin, options.workers, options.ready_timeout, councils=not indexing,
                    seq=last_change(database),
                )  # fmt: skip
                script = work / f"{name}.lua"
                write_lua(paths[name], script, headers if name == "proposal" else None)
                rate = options.write_rate if name in options.writes_during else 0.0
                people = [p.split("/")[3].replace("%3A", ":") for p in paths["collaborators"]]
                try:
                    with Writer(url, admin, people, rate, options.seed) as writer:
                        results[name] = run_scenario(name, wrk, url, script, options, server)
                    results[name]["writes"] = writer.summary()
                    results[name]["settled_before_seconds"] = round(settled, 1)
                    # What the service holds once this scenario is over: how each kind of
                    # request grows it (each process's PSS, every process of serve).
                    results[name]["pss_after_mib"] = pss_mib(server)
                except RuntimeError:
                    tail = log.read_text(errors="replace").replace("\r", "\n")[-3000:]
                    print(f"the server's output ended with:\n{tail}", file=sys.stderr)
                    raise
            # Pages shared between the workers (mapped files, what the loader loaded before it
            # forked them) count once in the PSS total; USS is what a process alone holds.
            # (A short-lived child, such as the one that saves files for the next start,
            # may end while it is read: it is left out.)
            memory = []
            for process in [server, *server.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    memory.append((process, process.memory_full_info(), process.cmdline()))
            server_rss = sum(m.rss for _, m, _ in memory)
            server_pss = sum(getattr(m, "pss", 0) for _, m, _ in memory)
            councils_file = data / "figures" / "councils.pid"
            councils = int(councils_file.read_text()) if councils_file.exists() else None
            roles = {server.pid: "serve", councils: "councils"}
            per_process = [
                {"pid": p.pid, "role": roles.get(p.pid, "tracker" if "resource_tracker"
                                                  in " ".join(command) else "worker"),
                 "rss_mib": round(m.rss / 2**20, 1),
                 "pss_mib": round(getattr(m, "pss", 0) / 2**20, 1),
                 "uss_mib": round(getattr(m, "uss", 0) / 2**20, 1)}
                for p, m, command in memory
            ]  # fmt: skip
            # What the server said of failed requests (a non-2xx answer is explained here).
            server_said = [
                line
                for line in log.read_text(errors="replace").splitlines()
                if any(word in line for word in ("ERROR", "WARNING", "Traceback", "Error:"))
            ][-20:]
    table = markdown(results, options.people)
    print()
    print(table)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "people": options.people,
        "seed": options.seed,
        "nodes": ready["nodes"],
        "edges": ready["edges"],
        "load_seconds": None if load_seconds is None else round(load_seconds, 1),
        "index_seconds": None if index_seconds is None else round(index_seconds, 1),
        "ready_seconds": round(ready_seconds, 1),
        "answered_seconds": round(answered, 1),
        "warmed_seconds": round(warmed_seconds, 1),
        "server": {
            "command": " ".join(
                Path(part).name if part in (COCREATE, sys.executable) else part for part in command
            ),
            "search_index_built": not options.skip_index,
            "workers": options.workers,
            "worker_processes_seen": workers,
            "rss_mib": round(server_rss / 2**20, 1),
            "pss_mib": round(server_pss / 2**20, 1),
            "processes": per_process,
            "graph": env.get("COCREATE_GRAPH", "compact"),
            # what a search's text is encoded in: auto is int8 on a processor with VNNI
            "query_precision": env.get("COCREATE_QUERY_PRECISION", "").strip() or "auto",
            "processor_has_vnni": processor_has_vnni(),
            "uvicorn": installed("uvicorn"),
            "uvloop": installed("uvloop"),
            "httptools": installed("httptools"),
            "orjson": installed("orjson"),
            "rate_limit_per_minute": env["COCREATE_RATE_LIMIT_PER_MINUTE"],
        },
        "client": {
            "tool": wrk_version(wrk),
            "threads": options.threads,
            "connections": options.connections,
            "duration_seconds": options.duration,
            "warmup_seconds": options.warmup,
            "max_other_cpu_percent": options.max_other_cpu,
            "attempts": options.attempts,
        },
        "urls": described,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}",
        "results": results,
        "server_warnings": server_said,
        "markdown": table,
    }
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {options.json}")


if __name__ == "__main__":
    main()
