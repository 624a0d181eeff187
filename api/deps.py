"""Dependencies shared by the routes, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from api.auth import ANONYMOUS, Caller
from api.errors import NotReady, TooManyRequests, Unauthorized
from api.proxies import TrustedProxies
from api.ratelimit import RateLimiter, retry_after
from api.services import Services

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


async def get_caller(request: Request, services: ServicesDep) -> Caller:
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
