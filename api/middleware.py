"""Pure ASGI middleware: request-body size limit and Prometheus metrics."""

from __future__ import annotations

import os
import socket
import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem


class BodyLimit:
    """Refuse bodies larger than ``max_bytes`` with 413 before the route reads them.

    A body with a Content-Length is judged by it; a streamed (chunked) body is read
    here, up to the limit, and handed on only if it stays within it.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        if b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem(
            413, "Payload too large", f"the request body is over {self.max_bytes} bytes",
            errors=[{"field": "body", "reason": f"larger than {self.max_bytes} bytes"}],
        )  # fmt: skip
        await response(scope, receive, send)


class Metrics:
    """Request counts and latencies by method, route template and status, labelled with
    the replica and the worker process that counted them.

    Each worker process keeps its own figures, and a scrape of ``/metrics`` reaches one of
    them: the ``replica`` (``COCREATE_REPLICA``, default the host's name) and ``worker``
    (its process id) labels keep the series of different processes apart, to be summed
    by the monitoring system rather than mistaken for one counter going up and down.
    """

    def __init__(self, replica: str | None = None) -> None:
        self.replica = replica or socket.gethostname()
        self.worker = str(os.getpid())
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "cocreate_http_requests_total", "HTTP requests",
            ["method", "route", "status", "replica", "worker"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "cocreate_http_request_seconds", "HTTP request latency",
            ["method", "route", "replica", "worker"], registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )  # fmt: skip

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """One request answered."""
        self.requests.labels(method, route, str(status), self.replica, self.worker).inc()
        self.latency.labels(method, route, self.replica, self.worker).observe(seconds)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            # The router records the matched route in the scope; its template keeps the
            # label set small (no ids in labels).
            matched = scope.get("route")
            route = str(getattr(matched, "path", "unmatched"))
            method = scope["method"]
            self.metrics.observe(method, route, status, time.perf_counter() - started)
