#!/usr/bin/env python
"""Benchmark: memory of a worker by component, and of a 2-worker service (issue 14, item 2).

Two measurements of a prepared data folder (``--data-dir``: a store made with
``cocreate demo`` and indexed with ``cocreate reindex``), with the code of ``--repo``
(this checkout by default; another checkout gives the "before" figures):

- **components**: each part loaded alone in a fresh process, as a worker loads it, and
  used once (a search, so that its pages are touched): the vectors, the HNSW graph, the
  lexical postings; then a whole worker's services (``Services.start``) and, in turn, the
  tagger, the recommender's per-version caches and the councils' figures, each as the
  growth of that process's resident memory. Every figure is read from
  ``/proc/PID/smaps_rollup`` (Rss, Pss, Shared_Clean, Private) in MiB.
- **serve**: ``cocreate serve --workers N`` on a copy of the folder; once every worker
  says it is warmed and has answered searches and recommendations, the same figures of
  each worker process, and the resident memory of the index files each one maps
  (``/proc/PID/smaps``).

    .venv/bin/python scripts/bench_memory_index.py --data-dir DEMO/var --json var/bench/memory.json
    .venv/bin/python scripts/bench_memory_index.py --data-dir DEMO/var --repo OLD_CHECKOUT
    .venv/bin/python scripts/bench_memory_index.py --data-dir DEMO30K/var --random-vectors

``--random-vectors`` first gives a store with no index one whose vectors are random unit
vectors (seeded) instead of the model's: the bytes held are the same, and the texts, the
BM25 postings and the text digests are the real ones, so the service loads it without
encoding anything. Encoding 30,000 people's texts takes 10 to 100 minutes on this machine
(depending on its load); the memory does not depend on what the vectors say. Searches by
meaning are then meaningless, which this benchmark does not look at.

Run on a quiet machine; memory figures do not depend on the load, times are not taken.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent

MIB = 1024 * 1024
FIELDS = ("Rss", "Pss", "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty")


def rollup(pid: int | str = "self") -> dict[str, float]:
    """The process's memory (MiB) from /proc/PID/smaps_rollup; Private = clean + dirty."""
    found: dict[str, float] = {}
    with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as handle:
        for line in handle:
            name, _, rest = line.partition(":")
            if name in FIELDS:
                found[name] = int(rest.split()[0]) / 1024
    found["Private"] = found["Private_Clean"] + found["Private_Dirty"]
    return {k: round(v, 1) for k, v in found.items()}


def mapped_files(pid: int | str, under: str) -> dict[str, dict[str, float]]:
    """Rss and Pss (MiB) of each file mapped from a folder below ``under``, by file name."""
    files: dict[str, dict[str, float]] = {}
    current: dict[str, float] | None = None
    with open(f"/proc/{pid}/smaps", encoding="utf-8") as handle:
        for line in handle:
            head = line.split()
            if head and "-" in head[0] and len(head) >= 5 and ":" not in head[0]:
                path = head[5] if len(head) > 5 else ""
                current = None
                if under in path:
                    name = "/".join(Path(path).parts[-2:])
                    current = files.setdefault(name, {"Rss": 0.0, "Pss": 0.0})
            elif current is not None and head and head[0] in ("Rss:", "Pss:"):
                current[head[0][:-1]] += int(head[1]) / 1024
    return {k: {f: round(v, 1) for f, v in d.items()} for k, d in files.items()}


# -- one component alone, in a fresh process of the measured code -----------------------

_CHILD = r"""
import json, sys, numpy as np
sys.path.insert(0, {repo!r})
sys.path.append({here!r})
from bench_memory_index import rollup, mapped_files
part, snap = {part!r}, {snap!r}
from pathlib import Path
snap = Path(snap)
rng = np.random.default_rng(7)
from embeddings.vectors import VectorIndex
from embeddings.lexical import LexicalIndex
from embeddings import hnsw
before = rollup()
keep = []
if part == "vectors":
    index = VectorIndex.read_files(snap / "vectors")
    keep.append(index)
    query = rng.standard_normal(index.dimension).astype(np.float32)
    index.search(query, 10)
    index.scores(query, index.ids())  # every vector read once, as exact searches do
elif part == "hnsw":
    graph = hnsw.read_graph(snap / "vectors" / "hnsw.faiss")
    keep.append(graph)
    for _ in range(50):
        query = rng.standard_normal(graph.d).astype(np.float32)
        hnsw.search_graph(graph, query / np.linalg.norm(query), 10, ef_search=256)
elif part == "lexical":
    index = LexicalIndex.read_files(snap / "lexical")
    keep.append(index)
    for words in ("community garden", "youth mentoring", "clean water education"):
        index.search(words, 10)
after = rollup()
print(json.dumps({{"before": before, "after": after,
                  "files": mapped_files("self", str(snap))}}))
"""

_SERVICES = r"""
import json, sys, types
sys.path.insert(0, {repo!r})
sys.path.append({here!r})
from bench_memory_index import rollup, mapped_files
from api.settings import Settings
from api.services import Services
from api.matching import matching_of
from api.warmup import Warmer
figures = {{"imports": rollup()}}
services = Services.start(Settings(), follow=False)
figures["services"] = rollup()
from api.auth import ANONYMOUS
from graph.filters import SearchFilter
services.search.search(ANONYMOUS, "community garden", SearchFilter(), mode="hybrid",
                       limit=10, offset=0)
figures["first search"] = rollup()
services.tagger
figures["tagger"] = rollup()
holder = types.SimpleNamespace()
matching_of(services, holder).warm()
figures["recommender"] = rollup()
warmer = Warmer(services, holder, tagger=False)
warmer.warm()
figures["councils and the rest"] = rollup()
figures["files"] = mapped_files("self", {data!r})
services.close()
print(json.dumps(figures))
"""


def child(code: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=3600
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def components(data: Path, env: dict[str, str], repo: Path) -> dict[str, Any]:
    index = data / "index"
    snap = index / (index / "CURRENT").read_text().strip()
    parts: dict[str, Any] = {}
    for part in ("vectors", "hnsw", "lexical"):
        if part == "hnsw" and not (snap / "vectors" / "hnsw.faiss").is_file():
            parts[part] = None  # below exact_below items the index has no graph
            continue
        found = child(_CHILD.format(repo=str(repo), here=str(HERE), part=part, snap=str(snap)), env)
        growth = {k: round(found["after"][k] - found["before"][k], 1) for k in found["after"]}
        parts[part] = {"growth": growth, "files": found["files"]}
    stages = child(_SERVICES.format(repo=str(repo), here=str(HERE), data=str(data)), env)
    files = stages.pop("files")
    growth, last = {}, None
    for name, figures in stages.items():
        growth[name] = {k: round(v - (last[k] if last else 0.0), 1) for k, v in figures.items()}
        last = figures
    parts["worker stages"] = {"growth": growth, "total": last, "files": files}
    return parts


# -- a served service ---------------------------------------------------------------------


def workers_of(pid: int) -> list[int]:
    """The processes below ``pid`` that hold the app (uvicorn's spawned workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid and "multiprocessing.spawn" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def serve(data: Path, env: dict[str, str], workers: int, scratch: Path) -> dict[str, Any]:
    from tests.api.server import create_key, serving

    admin = create_key(env, "admin")
    with serving(env, scratch / "logs", workers=workers, timeout=3600) as server:
        headers = {"Authorization": f"Bearer {admin}"}
        with httpx.Client(base_url=server.url, timeout=600) as client:
            warm_answers = 0
            deadline = time.monotonic() + 1800
            while warm_answers < 4 * workers and time.monotonic() < deadline:
                state = client.get("/v1/admin/state", headers=headers).json()
                found = state.get("warmed")
                ok = found is None or (found["once"] and found["seq"] >= state["seq"])
                warm_answers = warm_answers + 1 if ok else 0
                time.sleep(0.3)
            people = client.get("/v1/nodes", params={"kind": "person", "limit": 20}).json()
            for n, item in enumerate(people["items"]):  # each worker answers some
                client.get(f"/v1/people/{item['id']}/collaborators").raise_for_status()
                client.get("/v1/search", params={"q": f"food garden {n}"}).raise_for_status()
                client.get(f"/v1/nodes/{item['id']}/similar").raise_for_status()
        pids = workers_of(server.process.pid)
        return {
            "workers": {
                str(pid): {"rollup": rollup(pid), "index_files": mapped_files(pid, str(data))}
                for pid in pids
            },
            "total": {
                k: round(sum(rollup(pid)[k] for pid in pids), 1) for k in ("Rss", "Pss", "Private")
            },
        }


def random_vectors(data: Path, *, seed: int = 7) -> int:
    """Save an index of the store in ``data`` with random unit vectors; how many items."""
    import numpy as np

    from api.services import open_store
    from api.settings import Settings
    from embeddings.encoder import load_encoder
    from embeddings.search import SemanticIndex
    from graph.texts import node_text

    settings = Settings(data_dir=data)
    store = open_store(settings)
    encoder = load_encoder(settings.model)  # its name and dimension: nothing is encoded
    index = SemanticIndex(encoder, folder=settings.index_dir)
    items = [(node.id, node_text(node)) for node in store.iter_nodes()]
    matrix = np.random.default_rng(seed).standard_normal((len(items), encoder.dimension))
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    known = {
        item_id: row.astype(np.float32) for (item_id, _), row in zip(items, matrix, strict=True)
    }
    index.upsert(items, known=known)
    index.save(watermark=store.last_seq())
    store.close()
    return len(items)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--repo", type=Path, default=REPO, help="the code to measure")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip", choices=["components", "serve"], default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--random-vectors", action="store_true", help="index the store with random vectors first"
    )
    args = parser.parse_args()

    sys.path.insert(0, str(REPO))
    from tests.api.server import cocreate_env

    scratch = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    figures: dict[str, Any] = {"repo": str(args.repo), "data_dir": str(args.data_dir)}
    try:
        data = scratch / "var"
        shutil.copytree(args.data_dir, data, ignore=shutil.ignore_patterns(".lock", ".encoding"))
        if args.random_vectors and not (data / "index" / "CURRENT").is_file():
            figures["random_vectors"] = random_vectors(data)
        env = cocreate_env(data)
        env["PYTHONPATH"] = str(args.repo.resolve())
        env.setdefault("HF_HUB_OFFLINE", "1")
        env.setdefault("TRANSFORMERS_OFFLINE", "1")
        if args.skip != "components":
            figures["components"] = components(data, env, args.repo.resolve())
        if args.skip != "serve":
            figures["serve"] = serve(data, env, args.workers, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    text = json.dumps(figures, indent=2)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
