#!/usr/bin/env python
"""Benchmark: time from ``cocreate serve`` to ready, and the first request of each kind.

Copies a prepared data folder (``--data-dir``: a store made with ``cocreate demo``, with
or without its search index) to a scratch folder, starts ``cocreate serve`` there with
the code of ``--repo`` (this checkout by default; another checkout gives the "before"
figures), and measures:

- seconds until ``/ready`` answers 200 (and, if it says ``indexing``, until it no longer
  does: every vector in; the progress every 10 s; and until the encoding process has
  saved the whole index, its HNSW graph built, which the other processes then map);
- with ``--writes-before N``, the copied folder is served first and N people's bios are
  edited through the API, then it is stopped once the councils process has recorded
  them: the councils' figures saved in the folder are older than the store (a restart
  shortly after writes, see :func:`write_before`);
- after ``--settle`` seconds, the first request of each kind (collaborators of a person,
  a council proposal for every sector, tag suggestions, a search), then the median of
  ``--repeat`` more of the same kind (the steady state), and their ratio.

    .venv/bin/python scripts/bench_start.py --data-dir /tmp/demo3k/var
    .venv/bin/python scripts/bench_start.py --data-dir DEMO/var --repo OLD_CHECKOUT
    .venv/bin/python scripts/bench_start.py --data-dir /tmp/demo3k/var --no-index

Prints a Markdown table and the figures as JSON. Run on a quiet machine: figures are
wall-clock times of one process pair, not of a load test.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.api.server import cocreate_env, create_key, serving  # noqa: E402


def timed(call: Callable[[], httpx.Response], seen: list[dict[str, Any]] | None = None) -> float:
    """Seconds the call took; with ``seen``, the call's milliseconds and the version its
    figures are of (``X-Cocreate-As-Of``: ``<seq>``, ``; stale`` when older than the
    current one) are added to it."""
    started = time.perf_counter()
    response = call()
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:200]}")
    if seen is not None:
        seen.append({"ms": round(elapsed * 1000, 1),
                     "as_of": response.headers.get("x-cocreate-as-of")})  # fmt: skip
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--repo", type=Path, default=REPO, help="the code to serve")
    parser.add_argument("--no-index", action="store_true", help="start without the saved index")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--settle", type=float, default=5.0, help="seconds to wait where warming is not told"
    )
    parser.add_argument(
        "--graph", choices=("networkx", "compact"), default=None,
        help="COCREATE_GRAPH for the service (default: the service's own)",
    )  # fmt: skip
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--writes-before", type=int, default=0,
        help="bios edited through a first serve of the copy (figures on disk older)",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--keep", type=Path, default=None, help="move the served data folder here at the end"
    )
    args = parser.parse_args()
    if args.keep and args.keep.exists():
        parser.error(f"--keep: {args.keep} exists already")
    if not 0 <= args.writes_before <= 200:
        parser.error("--writes-before: from 0 to 200 (the people of one page of the listing)")

    scratch = Path(tempfile.mkdtemp(prefix="bench-start-"))
    try:
        data = scratch / "var"
        shutil.copytree(args.data_dir, data, ignore=shutil.ignore_patterns(".lock", ".encoding"))
        if args.no_index:
            shutil.rmtree(data / "index", ignore_errors=True)
        env = cocreate_env(data, rate_limit_per_minute="100000", rate_limit_burst="100000")
        env["PYTHONPATH"] = str(args.repo.resolve())
        if args.graph:
            env["COCREATE_GRAPH"] = args.graph
        member, admin = create_key(env, "member"), create_key(env, "admin")
        before = write_before(env, data, scratch, admin, args) if args.writes_before else None
        figures = run(env, scratch, member, admin, args)
        figures["before"] = before
        if args.keep:  # with the index the service made, for the benchmarks that follow
            shutil.move(data, args.keep)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(table(figures))
    text = json.dumps(figures, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    else:
        print(text)


def write_before(
    env: dict[str, str], data: Path, scratch: Path, admin: str, args: Any
) -> dict[str, Any]:
    """Serve the copied folder, edit ``args.writes_before`` bios through the API (one
    every half second), and stop once the councils process has recorded them
    (``figures/withdrawals.json`` through the last write): a restart shortly after
    writes, with the councils' figures on disk of a version before them."""
    record = data / "figures" / "withdrawals.json"
    auth = {"Authorization": f"Bearer {admin}"}
    before = serving(env, scratch / "logs-before", workers=args.workers, timeout=7200,
                     indexed=False)  # fmt: skip
    with before as server, httpx.Client(base_url=server.url, timeout=60) as client:
        page = {"kind": "person", "limit": args.writes_before}
        listed = client.get("/v1/nodes", params=page).json()
        last = 0
        for n, item in enumerate(listed["items"][: args.writes_before]):
            body = {"bio": f"Edited before a restart, {time.time_ns()} ({n})."}
            response = client.patch(f"/v1/nodes/{item['id']}", json=body, headers=auth)
            response.raise_for_status()
            last = max(last, int(response.headers.get("x-cocreate-seq", 0)))
            time.sleep(0.5)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            through = json.loads(record.read_text()).get("through", 0) if record.is_file() else 0
            if through >= last:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"the councils process did not record change {last}")
    published = data / "figures" / "published"
    return {
        "last_write": last,
        "record_through": through,
        "figures_published": published.read_text().strip() if published.is_file() else None,
    }


def current_snapshot(folder: Path) -> str | None:
    """The name of the index folder's current snapshot (None: none yet)."""
    try:
        return (folder / "CURRENT").read_text().strip() or None
    except OSError:
        return None


def saved_since(
    folder: Path, before: str | None, started: float, timeout: float = 3600
) -> dict[str, Any]:
    """The seconds until the index folder holds a snapshot other than ``before`` (the
    encoding process saves the whole index, its HNSW graph built, once every vector is
    in), with how many items it holds and whether it has a graph."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        name = current_snapshot(folder)
        if name is not None and name != before:
            try:
                meta = json.loads((folder / name / "semantic.json").read_text())
            except (OSError, ValueError):
                meta = None  # (being published: read again)
            if meta is not None:
                graph = folder / name / "vectors" / "hnsw.faiss"
                return {"index_saved_s": round(time.monotonic() - started, 2),
                        "index_saved_items": int(meta.get("items", 0)),
                        "index_saved_graph": graph.is_file()}  # fmt: skip
        time.sleep(0.5)
    return {"index_saved_s": None}


def run(
    env: dict[str, str], scratch: Path, member: str, admin: str, args: argparse.Namespace
) -> dict[str, Any]:
    started = time.monotonic()
    figures: dict[str, Any] = {"repo": str(args.repo), "no_index": args.no_index,
                               "graph": env.get("COCREATE_GRAPH", "compact"),
                               "writes_before": args.writes_before}  # fmt: skip
    with serving(
        env, scratch / "logs", workers=args.workers, timeout=7200, indexed=False
    ) as server:
        figures["ready_s"] = round(time.monotonic() - started, 2)
        index_folder = Path(env["COCREATE_DATA_DIR"]) / "index"
        at_ready = current_snapshot(index_folder)
        with httpx.Client(base_url=server.url, timeout=600) as client:
            progress: list[tuple[float, int]] = []  # (seconds, vectors in), every 10 s
            while "indexing" in (ready := client.get("/ready").json()):
                seconds = round(time.monotonic() - started, 1)
                if not progress or seconds - progress[-1][0] >= 10:
                    progress.append((seconds, int((ready["indexing"] or {}).get("done", 0))))
                time.sleep(0.5)
            figures["all_vectors_s"] = round(time.monotonic() - started, 2)
            figures["indexing_progress"] = progress
            if progress:  # the index saved whole (its graph built) by the encoding process
                figures.update(saved_since(index_folder, at_ready, started))
            figures["ready"] = ready
            figures["warmed_s"] = warmed(client, admin, started, args.settle)
            auth = {"Authorization": f"Bearer {member}"}
            people = client.get("/v1/nodes", params={"kind": "person", "limit": 50}).json()
            seeds = [item["id"] for item in people["items"]]
            listed = client.get("/v1/nodes", params={"kind": "sector", "limit": 50}).json()
            sectors = [item["id"] for item in listed["items"]]
            get, post = partial(client.get), partial(client.post, headers=auth)
            repeat = range(args.repeat + 1)
            kinds: dict[str, list[Callable[[], httpx.Response]]] = {
                "collaborators": [partial(get, f"/v1/people/{s}/collaborators") for s in seeds],
                "council proposal": [
                    partial(post, "/v1/councils/propose", json={"sector": s}) for s in sectors
                ],
                "tags/suggest": [
                    partial(post, "/v1/tags/suggest", json={"text": f"clean water for {n} towns"})
                    for n in repeat
                ],
                "search": [
                    partial(get, "/v1/search", params={"q": f"food garden {n}"}) for n in repeat
                ],
            }
            results = {}
            seen: list[dict[str, Any]] = []
            for kind, calls in kinds.items():
                first = timed(calls[0], seen if kind == "council proposal" else None)
                firsts = [first]
                if kind == "council proposal":  # the first of every sector
                    firsts += [timed(call, seen) for call in calls[1:]]
                steady = [timed(calls[1 + n % (len(calls) - 1)]) for n in range(args.repeat)]
                p50 = statistics.median(steady)
                results[kind] = {"first_ms": round(max(firsts) * 1000, 1),
                                 "steady_p50_ms": round(p50 * 1000, 1),
                                 "ratio": round(max(firsts) / p50, 1)}  # fmt: skip
            figures["requests"] = results
            figures["first_proposals"] = seen
            figures["first_answers_of_an_older_version"] = sum(
                1 for found in seen if "stale" in (found["as_of"] or "")
            )
    return figures


def warmed(client: httpx.Client, admin: str, started: float, settle: float) -> float | None:
    """Seconds from start until the answering worker says it is warmed (this code's
    /v1/admin/state); None, after waiting ``settle`` seconds, where it does not say."""
    headers = {"Authorization": f"Bearer {admin}"}
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        state = client.get("/v1/admin/state", headers=headers).json()
        found = state.get("warmed")
        if found is None:
            time.sleep(settle)
            return None
        if found["once"] and found["seq"] >= state["seq"]:
            return round(time.monotonic() - started, 2)
        time.sleep(0.2)
    raise RuntimeError("not warmed in 10 minutes")


def table(figures: dict[str, Any]) -> str:
    lines = [
        f"ready in {figures['ready_s']} s; every vector in at {figures['all_vectors_s']} s; "
        f"the index saved whole at {figures.get('index_saved_s')} s "
        f"(graph: {figures.get('index_saved_graph')}); "
        f"warmed at {figures['warmed_s']} s; first answers of an older version: "
        f"{figures.get('first_answers_of_an_older_version', 0)}",
        "",
        "| request | first (ms) | steady p50 (ms) | first / p50 |",
        "|---|---|---|---|",
    ]
    for kind, found in figures["requests"].items():
        lines.append(f"| {kind} | {found['first_ms']} | {found['steady_p50_ms']} | "
                     f"{found['ratio']} |")  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    main()
