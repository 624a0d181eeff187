#!/usr/bin/env python
"""Measure whether the account routes' timing tells a registered address from another.

Starts ``cocreate serve`` on a free loopback port over a fresh store (reference data
only), with a real SMTP server on 127.0.0.1 that keeps the mails, and the attempt
limits opened wide (they would otherwise answer 429 after a few tries). Joins one
account through the mailed link, then sends, in a shuffled order, ``--rounds`` pairs
of requests that differ only in whether the address is registered:

- sign-in with a wrong password: registered address vs unknown address;
- sign-up: registered address vs new address;
- password reset: registered address vs unknown address.

For each pair of cases it reports the median time of each, the difference of the
medians with a 95% bootstrap interval, and whether the answers (status and body) were
identical. Writes JSON with ``--json``. The server and the SMTP server are stopped at
the end.

    .venv/bin/python scripts/bench_accounts.py --rounds 200
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_http import free_port, running_server, server_command, wait_ready

PASSWORD = "a long enough passphrase"
KNOWN = "known@example.org"


def _mailbox() -> Any:
    """A local SMTP server keeping every message (aiosmtpd, a dev dependency)."""
    from aiosmtpd.controller import Controller

    class Keep:
        def __init__(self) -> None:
            self.messages: list[tuple[list[str], bytes]] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            self.messages.append((list(envelope.rcpt_tos), envelope.content))
            return "250 OK"

    keep = Keep()
    controller = Controller(keep, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, keep


def _wait_link(keep: Any, address: str, page: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for to, content in keep.messages:
            if address in to:
                message = email.message_from_bytes(content, policy=email.policy.default)
                body = message.get_body(preferencelist=("plain",))
                text = str(body.get_content()) if body is not None else ""
                for word in text.split():
                    if f"/{page}?token=" in word:
                        return str(parse_qs(urlsplit(word).query)["token"][0])
        time.sleep(0.1)
    raise RuntimeError(f"no {page} link mailed to {address}")


def _timed(client: httpx.Client, path: str, body: dict[str, Any]) -> tuple[float, int, str]:
    started = time.perf_counter()
    answer = client.post(path, json=body)
    return time.perf_counter() - started, answer.status_code, answer.text


def _interval(a: list[float], b: list[float], rng: random.Random) -> tuple[float, float]:
    """95% bootstrap interval of median(a) - median(b)."""
    diffs = sorted(
        statistics.median(rng.choices(a, k=len(a))) - statistics.median(rng.choices(b, k=len(b)))
        for _ in range(2000)
    )
    return diffs[49], diffs[1949]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200, help="requests per case")
    parser.add_argument("--json", type=Path, default=None)
    options = parser.parse_args()
    controller, keep = _mailbox()
    smtp = f"smtp://127.0.0.1:{controller.port}"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="cocreate-bench-accounts-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COCREATE_")}
        env.update(
            COCREATE_DATA_DIR=str(Path(tmp) / "var"),
            COCREATE_SMTP_URL=smtp,
            COCREATE_PUBLIC_URL=url,
            COCREATE_SIGNUPS_PER_HOUR="1000000",
            COCREATE_LOGINS_PER_QUARTER_HOUR="1000000",
            COCREATE_RATE_LIMIT_PER_MINUTE="1000000",
            COCREATE_RATE_LIMIT_BURST="100000",
            HF_HUB_OFFLINE="1",
        )
        log = Path(tmp) / "server.log"
        command = server_command(port, 1, skip_index=False)
        try:
            with running_server(command, env, log) as pid, httpx.Client(base_url=url) as client:
                wait_ready(url, psutil.Process(pid), 600, log)
                client.post(
                    "/v1/account/signup",
                    json={"email": KNOWN, "password": PASSWORD, "name": "Known"},
                )
                token = _wait_link(keep, KNOWN, "verify")
                assert client.post("/v1/account/verify", json={"token": token}).status_code == 200
                client.cookies.clear()
                results = _measure(client, options.rounds)
        finally:
            controller.stop()
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "rounds": options.rounds,
        "cases": results,
    }
    print(_markdown(results))
    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps(report, indent=2))


def _measure(client: httpx.Client, rounds: int) -> list[dict[str, Any]]:
    rng = random.Random(0)
    counter = iter(range(10**9))
    cases: dict[str, tuple[str, Callable[[], dict[str, Any]], Callable[[], dict[str, Any]]]] = {
        "sign-in, wrong password": (
            "/v1/account/login",
            lambda: {"email": KNOWN, "password": "wrong password here"},
            lambda: {"email": "unknown@example.org", "password": "wrong password here"},
        ),
        "sign-up": (
            "/v1/account/signup",
            lambda: {"email": KNOWN, "password": PASSWORD, "name": "Again"},
            lambda: {
                "email": f"new{next(counter)}@example.org",
                "password": PASSWORD,
                "name": "New",
            },
        ),
        "password reset": (
            "/v1/account/reset",
            lambda: {"email": KNOWN},
            lambda: {"email": "unknown@example.org"},
        ),
    }
    plan = [(name, side) for name in cases for side in (0, 1) for _ in range(rounds)]
    rng.shuffle(plan)
    times: dict[tuple[str, int], list[float]] = {
        key: [] for key in ((n, s) for n in cases for s in (0, 1))
    }
    answers: dict[tuple[str, int], set[tuple[int, str]]] = {key: set() for key in times}
    for _ in range(20):  # warm up: the first requests load the code paths
        _timed(client, "/v1/account/login", {"email": KNOWN, "password": "warm up please"})
    for name, side in plan:
        path, known, other = cases[name]
        elapsed, status, text = _timed(client, path, (known, other)[side]())
        times[(name, side)].append(elapsed)
        answers[(name, side)].add((status, text))
        if status == 202:
            time.sleep(0.01)  # let the background job run, as it would between real requests
    out = []
    for name in cases:
        a, b = times[(name, 0)], times[(name, 1)]
        low, high = _interval(a, b, rng)
        out.append(
            {
                "case": name,
                "registered_median_ms": round(statistics.median(a) * 1000, 2),
                "unknown_median_ms": round(statistics.median(b) * 1000, 2),
                "difference_ms": round((statistics.median(a) - statistics.median(b)) * 1000, 2),
                "interval_ms": [round(low * 1000, 2), round(high * 1000, 2)],
                "same_answers": answers[(name, 0)] == answers[(name, 1)],
                "answers": sorted(
                    {status for status, _ in answers[(name, 0)] | answers[(name, 1)]}
                ),
            }
        )
    return out


def _markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| case | registered (median ms) | unknown (median ms) | difference (95% interval) "
        "| same status and body |",
        "|---|---:|---:|---:|---|",
    ]
    for row in results:
        low, high = row["interval_ms"]
        lines.append(
            f"| {row['case']} | {row['registered_median_ms']:.1f} | {row['unknown_median_ms']:.1f} "
            f"| {row['difference_ms']:+.1f} ({low:+.1f} to {high:+.1f}) "
            f"| {'yes' if row['same_answers'] else 'NO'} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
