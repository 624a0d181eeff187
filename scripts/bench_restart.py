#!/usr/bin/env python
"""Benchmark: the memory of ``cocreate serve``'s processes, and a worker started again.

Serves ``--data-dir`` in place (a store with its search index, as ``bench_http.py``
leaves it) with ``--workers`` workers and the code of ``--repo``, and measures:

- once every worker has warmed the store's version and the councils process has no child
  (saving the profiles for the next start): each process's resident memory
  (RSS), its proportional share (PSS: a page shared by n processes counts 1/n in each)
  and what it alone holds (USS), from ``/proc/PID/smaps_rollup``;
- then one worker killed (SIGKILL): the seconds until a new worker answers
  ``/v1/admin/state``, and until it has warmed the store's version;
- the memory of every process again.

    .venv/bin/python scripts/bench_restart.py --data-dir IDX100K --workers 2 --json F
    .venv/bin/python scripts/bench_restart.py --data-dir IDX100K --repo OLD_CHECKOUT
    .venv/bin/python scripts/bench_restart.py --data-dir IDX1M --graph compact \
        --partial-index --no-kill

``cocreate serve`` gets none of the caller's ``COCREATE_*`` settings: the graph view is
``--graph`` (``COCREATE_GRAPH``), recorded in the figures.

Prints a Markdown table and the figures as JSON. Run on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.api.server import cocreate_env, create_key, serving  # noqa: E402

TIMEOUT = 900.0


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--repo", type=Path, default=REPO, help="the code to serve")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--no-kill", action="store_true", help="only the memory once the workers warmed"
    )
    parser.add_argument(
        "--partial-index", action="store_true",
        help="measure while vectors are still being computed (else wait for every one)",
    )  # fmt: skip
    parser.add_argument(
        "--graph", choices=("networkx", "compact"), default="compact",
        help="the graph view each process holds (COCREATE_GRAPH)",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.workers < 1:
        parser.error("--workers: at least 1")
    env = cocreate_env(args.data_dir.resolve(), rate_limit_per_minute="100000",
                       rate_limit_burst="100000", graph=args.graph)  # fmt: skip
    env["PYTHONPATH"] = str(args.repo.resolve())
    admin = create_key(env, "admin")
    logs = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-restart-{os.getpid()}"
    with serving(
        env, logs, workers=args.workers, timeout=TIMEOUT, indexed=not args.partial_index
    ) as server:
        started = time.monotonic()
        states = warmed(server.url, admin, args.workers)
        figures: dict[str, Any] = {
            "workers": args.workers, "graph": args.graph, "repo": str(args.repo.resolve())
        }  # fmt: skip
        figures["warmed_seconds"] = round(time.monotonic() - started, 1)
        serve = psutil.Process(server.process.pid)
        figures["councils_child_seconds"] = councils_child_ended(args.data_dir)
        figures["before"] = memory(serve, args.data_dir)
        if args.no_kill:
            print(table(figures))
            dump(figures, args.json)
            return
        killed = min(states)
        os.kill(killed, signal.SIGKILL)
        killed_at = time.monotonic()
        new = answered_by_another(server.url, admin, set(states))
        figures["answering_seconds"] = round(time.monotonic() - killed_at, 1)
        warmed(server.url, admin, args.workers, must_include=new)
        figures["warmed_again_seconds"] = round(time.monotonic() - killed_at, 1)
        figures["after"] = memory(serve, args.data_dir)
        figures["killed"], figures["new"] = killed, new
    print(table(figures))
    dump(figures, args.json)


def dump(figures: dict[str, Any], path: Path | None) -> None:
    """The figures as JSON, to ``path`` or else to the output."""
    text = json.dumps(figures, indent=2)
    if path is None:
        print(text)
    else:
        path.write_text(text + "\n")


def state(url: str, admin: str) -> dict[str, Any] | None:
    """``/v1/admin/state`` on a connection of its own (either worker may take it), without
    the digests of every id (at a million people they hold the worker's lock for
    seconds)."""
    address = urlsplit(url)
    connection = HTTPConnection(address.hostname or "", address.port, timeout=60)
    try:
        connection.request(
            "GET", "/v1/admin/state?digests=false", headers={"Authorization": f"Bearer {admin}"}
        )
        answer = connection.getresponse()
        body = answer.read()
        return json.loads(body) if answer.status == 200 else None
    except (ConnectionError, OSError):
        return None
    finally:
        connection.close()


def warmed(
    url: str, admin: str, workers: int, must_include: int | None = None
) -> dict[int, dict[str, Any]]:
    """Each worker's state, once every worker has warmed the version it holds."""
    deadline = time.monotonic() + TIMEOUT
    seen: dict[int, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        found = state(url, admin)
        if found is not None:
            seen[found["pid"]] = found
            seen = {pid: s for pid, s in seen.items() if psutil.pid_exists(pid)}
            ready = [s for s in seen.values()
                     if (s.get("warmed") or {}).get("seq") == s["seq"]]  # fmt: skip
            pids = {s["pid"] for s in ready}
            if len(ready) >= workers and (must_include is None or must_include in pids):
                return seen
        time.sleep(0.2)
    raise SystemExit(f"the workers did not warm within {TIMEOUT:.0f} s")


def answered_by_another(url: str, admin: str, before: set[int]) -> int:
    """The id of the first worker that answers and was not among ``before``."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        found = state(url, admin)
        if found is not None and found["pid"] not in before:
            return int(found["pid"])
        time.sleep(0.05)
    raise SystemExit(f"no new worker answered within {TIMEOUT:.0f} s")


def councils_child_ended(data_dir: Path) -> float:
    """Wait until the councils process has no child (the one saving the profiles and the
    graph view for the next start, for a minute or two at a million people, holds a
    large share of the memory meanwhile); the seconds waited."""
    started = time.monotonic()
    councils_file = data_dir / "figures" / "councils.pid"
    deadline = started + TIMEOUT
    while councils_file.exists() and time.monotonic() < deadline:
        try:
            if not psutil.Process(int(councils_file.read_text())).children():
                break
        except (ValueError, psutil.Error):
            break
        time.sleep(0.5)
    return round(time.monotonic() - started, 1)


def memory(serve: psutil.Process, data_dir: Path) -> list[dict[str, Any]]:
    """RSS, PSS and USS (MiB) of ``serve`` and each process under it, with its role."""
    councils_file = data_dir / "figures" / "councils.pid"
    councils = int(councils_file.read_text()) if councils_file.exists() else None
    found = []
    for process in [serve, *serve.children(recursive=True)]:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            rollup = smaps_rollup(process.pid)
            role = ("serve" if process.pid == serve.pid else "councils" if process.pid == councils
                    else "tracker" if "resource_tracker" in " ".join(process.cmdline())
                    else "councils' child" if process.ppid() == councils  # (saving profiles)
                    else "worker")  # fmt: skip
        except (OSError, KeyError, psutil.Error):  # ended meanwhile
            continue
        found.append({"pid": process.pid, "role": role, **rollup})
    return found


def smaps_rollup(pid: int) -> dict[str, float]:
    """RSS, PSS and USS (private clean and dirty) in MiB."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        fields[name] = int(rest.split()[0]) / 1024
    return {
        "rss_mib": round(fields["Rss"], 1),
        "pss_mib": round(fields["Pss"], 1),
        "uss_mib": round(fields["Private_Clean"] + fields["Private_Dirty"], 1),
    }


def table(figures: dict[str, Any]) -> str:
    lines = [
        f"warmed {figures['warmed_seconds']} s after ready (then "
        f"{figures['councils_child_seconds']} s until the councils process had no child)"
    ]
    if "after" in figures:
        lines[0] += (f"; a worker killed: another answered after "
                     f"{figures['answering_seconds']} s, warmed after "
                     f"{figures['warmed_again_seconds']} s")  # fmt: skip
    lines += [
        "",
        "| when | process | RSS MiB | PSS MiB | USS MiB |",
        "|---|---|---:|---:|---:|",
    ]
    for when in ("before", "after") if "after" in figures else ("before",):
        for p in figures[when]:
            role = p["role"] + (" (new)" if p["pid"] == figures.get("new") else "")
            lines.append(f"| {when} | {role} | {p['rss_mib']:,.0f} | {p['pss_mib']:,.0f} | "
                         f"{p['uss_mib']:,.0f} |")  # fmt: skip
        total = sum(p["pss_mib"] for p in figures[when])
        lines.append(f"| {when} | **all** | | **{total:,.0f}** | |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
