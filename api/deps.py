"""Dependencies shared by the routes, as ``Annotated`` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.auth import ANONYMOUS, Caller
from api.errors import NotReady, TooManyRequests, Unauthorized
from api.ratelimit import RateLimiter, retry_after
from api.services import Services


def get_services(request: Request) -> Services:
    services = getattr(request.app.state, "services", None)
    if services is None or not services.ready:
        raise NotReady("the service is starting or stopping")
    assert isinstance(services, Services)
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_caller(request: Request, services: ServicesDep) -> Caller:
    """The caller named by the bearer key (anonymous without one), rate-limited."""
    header = request.headers.get("authorization")
    caller = ANONYMOUS
    if header is not None:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthorized(
                "the Authorization header must be 'Bearer <key>'",
                errors=[{"field": "header.authorization", "reason": "not a bearer key"}],
                headers={"WWW-Authenticate": "Bearer"},
            )
        found = services.keys.resolve(secret.strip())
        if found is None:
            raise Unauthorized(
                "unknown or revoked API key",
                errors=[{"field": "header.authorization", "reason": "unknown or revoked key"}],
                headers={"WWW-Authenticate": "Bearer"},
            )
        caller = found
    limiter: RateLimiter = request.app.state.limiter
    client = f"key:{caller.key_id}" if caller.key_id else f"ip:{_address(request)}"
    wait = limiter.check(client)
    if wait:
        raise TooManyRequests(
            f"rate limit of {services.settings.rate_limit_per_minute} requests a minute reached",
            headers={"Retry-After": retry_after(wait)},
        )
    return caller


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


CallerDep = Annotated[Caller, Depends(get_caller)]
