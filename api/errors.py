"""HTTP errors: one problem-JSON shape, and one table from error classes to statuses.

Core packages raise their own errors and know nothing of HTTP; this module is
where they become responses. Every 4xx names the field (when there is one) and
the reason. A busy store is 503 with ``Retry-After`` (a database's own "busy" error
too, should a path let one through untranslated: it is logged as well); any other
exception is a problem-JSON 500 whose cause goes to the log, never to the caller.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from graph.errors import (
    EdgeNotFound,
    GraphError,
    InvalidEdge,
    InvalidRecord,
    MissingEndpoint,
    NodeNotFound,
    NoPath,
    StoreBusy,
)
from graph.store import busy_reason

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class ApiError(Exception):
    """An error the service reports to the caller as problem JSON."""

    status = 400
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


class BadRequest(ApiError):
    pass


class Unauthorized(ApiError):
    status = 401
    title = "Unauthorized"


class Forbidden(ApiError):
    status = 403
    title = "Forbidden"


class NotFound(ApiError):
    status = 404
    title = "Not found"


class Conflict(ApiError):
    status = 409
    title = "Conflict"


class PayloadTooLarge(ApiError):
    status = 413
    title = "Payload too large"


class Unprocessable(ApiError):
    status = 422
    title = "Invalid input"


class TooManyRequests(ApiError):
    status = 429
    title = "Too many requests"


class NotReady(ApiError):
    status = 503
    title = "Not ready"


# Errors of the core packages and the status each becomes. Order matters: the
# first class an error is an instance of wins.
STATUS_OF: list[tuple[type[Exception], int, str]] = [
    (StoreBusy, 503, "Service unavailable"),
    (NodeNotFound, 404, "Not found"),
    (EdgeNotFound, 404, "Not found"),
    (NoPath, 404, "No path"),
    (InvalidEdge, 422, "Invalid input"),
    (MissingEndpoint, 422, "Invalid input"),
    (InvalidRecord, 422, "Invalid input"),
    (GraphError, 400, "Bad request"),
]

_STATUS_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    body["detail"] = detail
    body["errors"] = errors or []
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _graph_error_fields(exc: GraphError) -> list[dict[str, str]]:
    if isinstance(exc, InvalidRecord):
        return [{"field": p.field, "reason": p.reason} for p in exc.problems]
    if isinstance(exc, MissingEndpoint):
        return [{"field": exc.role, "reason": str(exc)}]
    if isinstance(exc, InvalidEdge):
        return [{"field": "kind", "reason": str(exc)}]
    return []


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    # Drop the discriminator tag pydantic adds for tagged unions (e.g. body.person.name).
    if len(parts) > 2 and parts[0] == "body" and parts[1] in _NODE_TAGS:
        parts.pop(1)
    return ".".join(parts)


_NODE_TAGS = {
    "person", "initiative", "organization", "community", "council", "sector", "sdg",
    "sdg_target", "wisdom_entry", "event",
}  # fmt: skip


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through the one problem-JSON shape."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, errors=exc.errors, headers=exc.headers)

    @app.exception_handler(GraphError)
    async def _graph_error(request: Request, exc: GraphError) -> JSONResponse:
        for cls, status, title in STATUS_OF:
            if isinstance(exc, cls):
                errors = _graph_error_fields(exc)
                detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
                if not isinstance(exc, InvalidRecord) or not detail:
                    detail = str(exc)
                headers = None
                if isinstance(exc, StoreBusy):
                    headers = {"Retry-After": str(exc.retry_after)}
                    log.warning("store busy: %s %s: %s", request.method, request.url.path, exc)
                return problem(status, title, detail, errors=errors, headers=headers)
        raise exc  # pragma: no cover - GraphError is in the table

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for error in exc.errors():
            reason = str(error.get("msg", "invalid")).removeprefix("Value error, ")
            field = _location(tuple(error.get("loc", ())))
            if error.get("type") == "json_invalid":
                position = error["loc"][-1] if error.get("loc") else "?"
                reason = f"malformed JSON at character {position}: {error['ctx']['error']}"
                field = "body"
            errors.append({"field": field, "reason": reason})
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors) or "invalid request"
        return problem(422, "Invalid input", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return http_problem(exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette's outermost middleware calls this for anything no other handler
        # took, then re-raises it for the server to log: the caller gets problem JSON
        # (so the traceback is logged once, by the server).
        log.error("unexpected %s: %s %s", type(exc).__name__, request.method, request.url.path)
        # A database error that means "busy, try again" and reached here by a path that
        # does not translate it (logged all the same, to be found): the caller is told
        # to come back, as on every other path, rather than that the service is broken.
        reason = busy_reason(exc)
        if reason is not None:
            services = getattr(request.app.state, "services", None)
            timeout = services.settings.busy_timeout if services is not None else 1
            busy = StoreBusy(reason, retry_after=max(1, math.ceil(timeout)))
            return problem(503, "Service unavailable", str(busy),
                           headers={"Retry-After": str(busy.retry_after)})  # fmt: skip
        return problem(500, "Internal server error", "an unexpected error occurred; it is logged")


def http_problem(exc: StarletteHTTPException) -> JSONResponse:
    """An error the framework raised (no such route, method not allowed) as problem JSON."""
    title = _STATUS_TITLES.get(exc.status_code, "Error")
    headers = dict(exc.headers) if exc.headers else None
    detail, errors = str(exc.detail), _framework_errors(exc)
    if errors:
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
    return problem(exc.status_code, title, detail, errors=errors, headers=headers)


def _framework_errors(exc: StarletteHTTPException) -> list[dict[str, str]]:
    """The field and reason of an error the framework raised before any route ran."""
    status = exc.status_code
    if status == 400:  # the body could not be parsed (FastAPI keeps the cause)
        return [{"field": "body", "reason": _unparsable(exc.__cause__)}]
    if status == 404:
        return [{"field": "path", "reason": "no such route"}]
    if status == 405:
        return [{"field": "method", "reason": "not allowed on this route"}]
    if 400 <= status < 500:
        return [{"field": "request", "reason": str(exc.detail)}]
    return []


def _unparsable(cause: BaseException | None) -> str:
    if isinstance(cause, RecursionError):
        return "nested too deeply"
    if isinstance(cause, UnicodeDecodeError):
        return f"not valid UTF-8 at byte {cause.start}"
    if isinstance(cause, ValueError) and "digits" in str(cause):
        return "a number has too many digits"
    return "could not be parsed as JSON"
