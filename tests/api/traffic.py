"""Client threads against a served app, each with a connection of its own: every answer is
counted per route, and a failure message names the server's exceptions and where they
were raised."""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Outcome:
    route: str
    status: int | None  # None: no response (a transport error)
    detail: str


@dataclass
class Tally:
    """Statuses and time per route, and the outcomes no correct service gives."""

    counts: Counter[tuple[str, int | None]] = field(default_factory=Counter)
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    unexpected: list[Outcome] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(
        self, route: str, status: int | None, expected: Iterable[int], detail: str, took: float
    ) -> None:
        with self._lock:
            self.counts[route, status] += 1
            self.seconds[route] += took
            if status is None or status not in expected:
                self.unexpected.append(Outcome(route, status, detail[:600]))

    def failed(self) -> list[Outcome]:
        """Server errors and dropped connections."""
        return [o for o in self.unexpected if o.status is None or o.status >= 500]

    def routes(self) -> set[str]:
        return {route for route, _ in self.counts}

    def table(self) -> str:
        routes: dict[str, Counter[int | None]] = defaultdict(Counter)
        for (route, status), count in self.counts.items():
            routes[route][status] += count
        width = max(map(len, routes), default=0)
        lines = [
            f"  {route:<{width}}  {self.seconds[route] / statuses.total():5.2f} s  "
            + ", ".join(f"{status or 'no response'}: {n}" for status, n in sorted(
                statuses.items(), key=lambda item: item[0] or 0))
            for route, statuses in sorted(routes.items())
        ]  # fmt: skip
        return "\n".join(lines)

    def total(self) -> int:
        return sum(self.counts.values())


class Session:
    """One thread's connection: every request is counted in the tally under its route."""

    def __init__(self, url: str, headers: dict[str, str], tally: Tally) -> None:
        self.client = httpx.Client(base_url=url, headers=headers, timeout=60)
        self.tally = tally

    def __call__(
        self, route: str, url: str, *, expected: Iterable[int] = (200,), **kwargs: Any
    ) -> httpx.Response | None:
        """Send ``route``'s method to ``url``; None when no response came."""
        method = route.split()[0]
        start = time.monotonic()
        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            took = time.monotonic() - start
            self.tally.add(route, None, expected, f"{method} {url}: {exc!r}", took)
            return None
        detail = f"{method} {url} -> {response.status_code}: {response.text}"
        self.tally.add(route, response.status_code, expected, detail, time.monotonic() - start)
        return response

    def close(self) -> None:
        self.client.close()


Job = Callable[[Session, random.Random, threading.Event], None]
"""One thread's work: requests through the session until the event is set."""


def run_threads(url: str, jobs: list[tuple[dict[str, str], Job]], duration: float) -> Tally:
    """Each job in a thread of its own, with its headers and a seeded ``random.Random``,
    for ``duration`` seconds; what every request got."""
    tally, stop = Tally(), threading.Event()
    crashed: list[BaseException] = []

    def run(index: int, headers: dict[str, str], job: Job) -> None:
        session = Session(url, headers, tally)
        try:
            job(session, random.Random(index), stop)
        except BaseException as exc:  # a bug of the test itself: report it, never hide it
            crashed.append(exc)
            stop.set()
        finally:
            session.close()

    threads = [
        threading.Thread(target=run, args=(i, headers, job), name=f"client-{i}")
        for i, (headers, job) in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    stop.wait(duration)
    stop.set()
    for thread in threads:
        thread.join(timeout=90)
    assert not [t.name for t in threads if t.is_alive()], "client threads still running"
    assert not crashed, crashed
    return tally


OUR_FRAME = re.compile(r'File ".*?/((?:api|graph|embeddings)/[^"]+)", line (\d+), in (\w+)')


def raised(log: str) -> Counter[str]:
    """Each exception in a server log, with the line of our code that raised it."""
    found: Counter[str] = Counter()
    for block in log.split("Traceback (most recent call last):")[1:]:
        lines = block.splitlines()
        ours = [line.strip() for line in lines if OUR_FRAME.search(line)]
        error = next((line for line in lines if line and not line[0].isspace()), "?")
        where = OUR_FRAME.search(ours[-1]) if ours else None
        at = f"{where.group(1)}:{where.group(2)} ({where.group(3)})" if where else "?"
        found[f"{error[:160]} at {at}"] += 1
    return found


def report(tally: Tally, log: str, outcomes: list[Outcome], what: str) -> str:
    """A failure message: the outcomes, statuses per route, the server's exceptions."""
    by_route = Counter((o.route, o.status) for o in outcomes)
    first = "\n".join(f"  {o.route} [{o.status}] {o.detail}" for o in outcomes[:5])
    counted = ", ".join(f"{route} [{status}] x{n}" for (route, status), n in by_route.items())
    top = "\n".join(f"  {n} x {error}" for error, n in raised(log).most_common(12))
    return (
        f"{len(outcomes)} {what} in {tally.total()} requests: {counted}\n"
        f"first ones:\n{first}\n"
        f"statuses and mean time per route:\n{tally.table()}\n"
        f"exceptions in the server log (a connection reset follows a 500: uvicorn closes "
        f"that connection):\n{top}\n"
        f"server log (last 2,000 characters):\n{log[-2000:]}"
    )


def made_up_word(n: int, start: str) -> str:
    """A word no text of the demo holds: ``start`` and six syllables spelling ``n`` (below
    65**6), so different for each ``n``, as a search for one expects. (Syllables drawn at
    random met now and then among the thousands of writes of a load run, and a search
    then found two nodes.) The tokenizer keeps them apart: only a final "e" is folded."""
    if not 0 <= n < 65**6:
        raise ValueError(f"made_up_word: {n} is out of range")
    syllables = []
    for _ in range(6):
        n, at = divmod(n, 65)
        syllables.append("bdfgklmnprtvz"[at // 5] + "aeiou"[at % 5])
    return start + "".join(syllables)
