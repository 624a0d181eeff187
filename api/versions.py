"""Which version of the network a response reflects, and read-your-writes across workers.

Every write answers with ``X-Cocreate-Seq``: the change-log sequence number of its last
change. Every read of the derived structures answers with the sequence number of the
version it read. A read may send ``X-Cocreate-Min-Seq: N`` to see at least change ``N``:
the worker waits (at most ``COCREATE_READ_WAIT`` seconds) for its change feed to apply
it, and answers 503 with ``Retry-After`` if it could not. Without the header, a read
still waits for the writes made through its own worker.
"""

from __future__ import annotations

import asyncio
import time
from contextvars import ContextVar
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SEQ_HEADER = "X-Cocreate-Seq"
MIN_SEQ_HEADER = "X-Cocreate-Min-Seq"
_MAX_SEQ = 2**63 - 1
_POLL_SECONDS = (0.001, 0.002, 0.005, 0.01)


@dataclass
class _Seen:
    seq: int | None = None


_seen: ContextVar[_Seen | None] = ContextVar("cocreate_seen_seq", default=None)


def note_seq(seq: int) -> None:
    """Record, for the current request's response header, a sequence number it reflects."""
    seen = _seen.get()
    if seen is not None:
        seen.seq = seq if seen.seq is None else max(seen.seq, seq)


def parse_min_seq(value: str | None) -> int | None:
    """The ``X-Cocreate-Min-Seq`` header's number; ValueError naming the reason."""
    if value is None:
        return None
    text = value.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19 or int(text) > _MAX_SEQ:
        raise ValueError("must be a change sequence number (a whole number from 0)")
    return int(text)


async def wait_until(reached: object, seq: int, timeout: float) -> bool:
    """Poll ``reached.seq`` (without blocking the event loop) until it is ``seq`` or more."""
    deadline = time.monotonic() + timeout
    step = 0
    while getattr(reached, "seq") < seq:  # noqa: B009 - any object with a seq
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(_POLL_SECONDS[min(step, len(_POLL_SECONDS) - 1)])
        step += 1
    return True


class SeqHeader:
    """Adds ``X-Cocreate-Seq`` to responses whose request read or wrote a version."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        seen = _Seen()
        token = _seen.set(seen)

        async def send_with_seq(message: Message) -> None:
            if message["type"] == "http.response.start" and seen.seq is not None:
                headers = list(message.get("headers", []))
                headers.append((SEQ_HEADER.lower().encode(), str(seen.seq).encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_seq)
        finally:
            _seen.reset(token)
