"""Dependencies shared by the routes, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from api.auth import ANONYMOUS, Caller
from api.errors import NotReady, TooManyRequests, Unauthorized
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

    A request with a bad key counts against its client address before it is refused,
    so guessing keys is rate-limited like anything else.
    """
    limiter: RateLimiter = request.app.state.limiter
    address = f"ip:{_address(request)}"
    header = request.headers.get("authorization")
    if header is None:
        _limit(limiter, address, services)
        return ANONYMOUS
    scheme, _, secret = header.partition(" ")
    found = None
    if scheme.lower() == "bearer":
        found = await run_in_threadpool(services.keys.resolve, secret.strip())
    if found is None:
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


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


CallerDep = Annotated[Caller, Depends(get_caller)]
