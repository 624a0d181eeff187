"""Dependencies shared by the routes, as ``Annotated`` aliases."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from api.auth import ANONYMOUS, Caller, csrf_token
from api.errors import Forbidden, NotReady, TooManyRequests, Unauthorized, Unprocessable
from api.proxies import TrustedProxies
from api.ratelimit import RateLimiter, retry_after
from api.services import Services
from api.versions import MIN_SEQ_HEADER, note_seq, parse_min_seq, wait_until

if TYPE_CHECKING:
    from graph.feed import ChangeFeed as Feed

log = logging.getLogger(__name__)
T = TypeVar("T")

# Both dependencies are ``async`` so that they run on the event loop: a plain ``def``
# dependency costs a round trip through the thread pool on every request. Only the key
# lookup (a database read) goes to the thread pool, and only when a key is sent.


async def get_services(request: Request) -> Services:
    services = getattr(request.app.state, "services", None)
    if services is None or not services.ready:
        raise NotReady("the service is starting or stopping")
    assert isinstance(services, Services)
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


# The dependencies below take the request alone and find the services themselves rather
# than through ``ServicesDep``: each dependency of a dependency is one more round of
# FastAPI's solving on every request (a fifth of a node read's time went there).


async def get_caller(request: Request) -> Caller:
    """The caller of a bearer key or, without one, of the session cookie (see
    :func:`caller_of`)."""
    return await caller_of(request, await get_services(request), cookies=True)


async def get_key_caller(request: Request) -> Caller:
    """The caller of a bearer key, ignoring any session cookie: for the routes that come
    before signing in (sign up, sign in, reset), which a signed-in browser may call too."""
    return await caller_of(request, await get_services(request), cookies=False)


async def caller_of(request: Request, services: Services, *, cookies: bool) -> Caller:
    """The caller (see :func:`_caller_of`) with, for a person, the people they were
    introduced to (whose contact details they may see, as each chose to share them)."""
    caller = await _caller_of(request, services, cookies=cookies)
    if caller.person_id is None:
        return caller
    met = await run_in_threadpool(services.social.introduced, caller.person_id)
    return replace(caller, introduced=met) if met else caller


async def _caller_of(request: Request, services: Services, *, cookies: bool) -> Caller:
    """The caller named by the bearer key (anonymous without one), rate-limited.

    Requests are limited per key, or per client address without one. Failed key
    attempts also count against a much tighter budget per client address
    (``COCREATE_KEY_FAILURES_PER_MINUTE``); once it is spent, every request from that
    address that sends a key is refused with 429 **before** the key is looked up, so
    guessing cannot go on at the normal pace, nor tell a right guess from a wrong one.
    """
    state = request.app.state
    limiter: RateLimiter = state.limiter
    address = f"ip:{client_address(request)}"
    header = request.headers.get("authorization")
    if header is None:
        session = request.cookies.get(SESSION_COOKIE) if cookies else None
        if session:
            return await _session_caller(request, services, session, address)
        _limit(limiter, address, services)
        return ANONYMOUS
    failures: RateLimiter = state.key_failures
    wait = failures.wait(address)
    if wait:
        raise TooManyRequests(
            "too many requests with an unknown key from this address",
            errors=[{"field": "header.authorization", "reason": "too many unknown keys"}],
            headers={"Retry-After": retry_after(wait)},
        )
    scheme, _, secret = header.partition(" ")
    found = None
    if scheme.lower() == "bearer":
        found = await run_in_threadpool(services.keys.resolve, secret.strip())
    if found is None:
        failures.check(address)
        _limit(limiter, address, services)
        bearer = scheme.lower() == "bearer" and secret.strip()
        reason = "unknown or revoked key" if bearer else "not a bearer key"
        raise Unauthorized(
            "unknown or revoked API key"
            if bearer
            else "the Authorization header must be 'Bearer <key>'",
            errors=[{"field": "header.authorization", "reason": reason}],
            headers={"WWW-Authenticate": "Bearer"},
        )
    _limit(limiter, f"key:{found.key_id}", services)
    return found


SESSION_COOKIE = "cocreate_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _session_caller(
    request: Request, services: Services, secret: str, address: str
) -> Caller:
    """The signed-in caller of a session cookie; a write must also prove it comes from
    this site's own pages: the session's CSRF token in ``X-CSRF-Token``, and an
    ``Origin`` (when the browser sends one) naming this site.

    A cookie that names no live session (signed out elsewhere, expired) counts as no
    cookie: the visitor is anonymous, and the pages say they are signed out.
    """
    found = await run_in_threadpool(services.keys.credential, secret)
    if found is None or found.kind != "session":
        _limit(request.app.state.limiter, address, services)
        return ANONYMOUS
    if request.method not in SAFE_METHODS:
        origin = request.headers.get("origin")
        host = request.headers.get("host", "")
        if origin is not None and origin.split("://", 1)[-1] != host:
            reason = "the request comes from another site"
            raise Forbidden(reason, errors=[{"field": "header.origin", "reason": reason}])
        sent = request.headers.get(CSRF_HEADER)
        if sent is None or not secrets.compare_digest(sent, csrf_token(secret)):
            reason = "missing or wrong CSRF token (reload the page)"
            field = f"header.{CSRF_HEADER.lower()}"
            raise Forbidden(reason, errors=[{"field": field, "reason": reason}])
    _limit(request.app.state.limiter, f"key:{found.caller.key_id}", services)
    return found.caller


def _limit(limiter: RateLimiter, client: str, services: Services) -> None:
    wait = limiter.check(client)
    if wait:
        raise TooManyRequests(
            f"rate limit of {services.settings.rate_limit_per_minute} requests a minute reached",
            headers={"Retry-After": retry_after(wait)},
        )


def client_address(request: Request) -> str:
    """The client's address: the peer's, or the one a trusted proxy forwarded."""
    peer = request.client.host if request.client else "unknown"
    proxies: TrustedProxies = request.app.state.trusted_proxies
    if not proxies:
        return peer
    return proxies.client(peer, request.headers.getlist("x-forwarded-for"))


CallerDep = Annotated[Caller, Depends(get_caller)]
KeyCallerDep = Annotated[Caller, Depends(get_key_caller)]


OWN_WRITES_READ_WAIT = 1.0
"""How long a read without ``X-Cocreate-Min-Seq`` waits for this worker's own earlier writes.
They apply in milliseconds, unless the feed is working through a large import first: then
the read goes on with the version before rather than wait longer."""


async def read_version(request: Request) -> AsyncIterator[int]:
    """Hold one version of the graph view and the indexes for the whole request (see
    :func:`hold_version`)."""
    feed = await hold_version(request, await get_services(request))
    try:
        yield feed.seq
    finally:
        feed.lock.release_read()


async def hold_version(request: Request, services: Services) -> Feed:
    """Take the shared side of the feed's lock for a request; the caller releases it.

    First waits for the changes the request must see: those named by
    ``X-Cocreate-Min-Seq`` (503 if they do not arrive in time) and, for at most a second,
    those written through this process. The lock is taken by polling on the event loop,
    so a cancelled request can never leave it taken.
    """
    feed = services.feed
    try:
        wanted = parse_min_seq(request.headers.get(MIN_SEQ_HEADER))
    except ValueError as error:
        field = f"header.{MIN_SEQ_HEADER.lower()}"
        raise Unprocessable(
            f"{MIN_SEQ_HEADER} {error}", errors=[{"field": field, "reason": str(error)}]
        ) from None
    patience = services.settings.read_wait
    if wanted is not None and not await wait_until(feed, wanted, patience):
        raise NotReady(
            f"this worker has applied the changes up to {feed.seq}, not yet {wanted}",
            headers={"Retry-After": "1"},
        )
    if services.written_seq > feed.seq and not await wait_until(
        feed, services.written_seq, OWN_WRITES_READ_WAIT
    ):
        log.warning("serving change %d before this worker's own write %d", feed.seq,
                    services.written_seq)  # fmt: skip
    delay = 0.0005
    while not feed.lock.try_acquire_read():
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.01)
    note_seq(feed.seq)
    return feed


ReadVersion = Depends(read_version)
"""Add to a route's or router's ``dependencies`` when it reads the view or the indexes."""


async def read_store(services: Services, read: Callable[..., T], *args: Any) -> T:
    """A short read of the store (a node by its key): on the event loop when the store
    is a SQLite file, where it takes tens of microseconds and the hand-over to a thread
    of the pool and back cost more than the read (a node read spent a fifth of its time
    there); in the pool otherwise, where the read waits on a database server. Listings
    stay in the pool: a filter's first count can take 50 ms, which would hold up every
    other request of the worker."""
    if services.store.engine.dialect.name == "sqlite":
        return read(*args)
    return await run_in_threadpool(read, *args)
