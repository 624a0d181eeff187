"""The HTTP service: ``create_app`` builds a FastAPI app from explicit settings and services."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.middleware.gzip import GZipMiddleware

from api.errors import install_error_handlers
from api.indexing import BackgroundIndexer
from api.middleware import BodyLimit, Metrics, MetricsMiddleware
from api.proxies import TrustedProxies, parse_networks
from api.ratelimit import RateLimiter
from api.routes import (
    account,
    admin,
    analytics,
    docs,
    drafts,
    edges,
    editors,
    matches,
    matching,
    me,
    mydata,
    nodes,
    paths,
    placenames,
    search,
    social,
    system,
    tags,
    web,
)
from api.routes import map as places
from api.schemas import Problem
from api.services import Services
from api.serving import exempt_from_collection
from api.settings import Settings
from api.versions import SeqHeader
from api.warmup import Warmer

log = logging.getLogger(__name__)

DESCRIPTION = """\
Cocreate connects those who care: a knowledge graph of people, initiatives,
organisations, compassionate communities, sectors, councils and the UN SDGs.

Send an API key as `Authorization: Bearer <key>`; without one you are anonymous and
see public data only. Every error is problem JSON naming the field and the reason.
"""


def create_app(
    settings: Settings | None = None,
    *,
    services: Services | None = None,
    warm: bool | None = None,
    forked: Services | None = None,
) -> FastAPI:
    """The app. Without ``services`` the lifespan opens them from ``settings`` (or the env).

    ``warm``: build the per-version structures in the background (:mod:`api.warmup`); by
    default when the lifespan opens the services (a served process), not for given ones.
    ``forked``: services the loader (api/preload.py) loaded before it forked this worker
    (:meth:`Services.part`): the lifespan resumes them with ``settings`` and owns them
    as if it had opened them."""
    settings = settings or (services.settings if services else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        if forked is not None:
            forked.resume(settings)
            forked.begin()
            app.state.services = forked
        else:
            app.state.services = services or Services.start(settings, defer_indexing=True)
        if owned:
            exempt_from_collection()  # what it loaded: the view, the index, ...
        log.info("ready: %s", settings.shown_store_url)
        warmer = None
        if warm if warm is not None else owned:
            warmer = app.state.warmer = Warmer(
                app.state.services,
                app.state,
                councils="follow" if settings.councils_followed else "here",
            )
        # Once every vector is in, what was warmed from a partial index is warmed again.
        indexer = app.state.indexer = BackgroundIndexer(
            app.state.services, on_complete=warmer.again if warmer is not None else None
        )
        indexer.start()  # if vectors are missing (a new or much changed store)
        if warmer is not None:
            warmer.start()
        try:
            yield
        finally:
            if warmer is not None:
                warmer.stop()
            indexer.stop()
            if owned:
                app.state.services.close()

    app = FastAPI(
        title="Cocreate",
        version="1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # /docs is api/routes/docs.py: Swagger UI from this service, not from a CDN.
        docs_url=None,
        redoc_url=None,
        openapi_tags=[
            {"name": "nodes", "description": "People, initiatives, communities and the rest"},
            {"name": "edges", "description": "Typed links between nodes"},
            {"name": "search", "description": "Search in your own words; more like this"},
            {
                "name": "matching",
                "description": "Collaborators, initiatives, helpers",
            },
            {
                "name": "councils",
                "description": "Sector overlap, synergies, gaps, councils",
            },
            {
                "name": "wisdom",
                "description": "Related wisdom; learning for communities",
            },
            {"name": "graph", "description": "Paths and statistics"},
            {"name": "account", "description": "Sign up, sign in, tokens"},
            {"name": "me", "description": "My profile, matches, introductions and data"},
            {"name": "system", "description": "Health, readiness and metrics"},
            {"name": "admin", "description": "Admin only"},
        ],
    )
    app.state.services = services
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute, burst=settings.rate_limit_burst)
    app.state.key_failures = RateLimiter(
        settings.key_failures_per_minute, burst=settings.key_failures_burst
    )
    app.state.trusted_proxies = TrustedProxies(parse_networks(settings.trusted_proxies))
    app.state.metrics = Metrics(settings.replica)
    install_error_handlers(app)
    # An unknown path answers the app's "Page not found" to a browser (problem JSON under /v1).
    app.add_exception_handler(404, web.unknown_path)
    # Nodes first: their reads and listings are the most frequent requests, and a request
    # is matched against the routes in this order (about a microsecond each: the 40
    # routes before a node read took 9% of its time). No other router's path is one of
    # theirs (a node's "similar" is search's, a path of its own).
    routers = (
        nodes,
        system,
        account,
        me,
        mydata,
        admin,
        matches,
        search,
        tags,
        edges,
        paths,
        places,
        placenames,
        matching,
        analytics,
        editors,
        drafts,
        social,
        docs,
        web,
    )
    # The routers' routes are added as they are, not through include_router: each module's
    # APIRoute objects are built once, when the module is imported (their prefixes, tags
    # and dependencies already applied), and hold no state of an app, whereas an included
    # router derives every route again for each app on its first request (about 0.4 s for
    # these 110 routes, paid by every app a test makes).
    for router in (*(module.router for module in routers), matches.unsubscribe_router):
        app.router.routes.extend(router.routes)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    # Compress what is worth it (the map's positions, search results, pages) for clients
    # that accept gzip. Files already gzipped (web/dist's .gz assets) say so in their
    # Content-Encoding, which the middleware leaves as it is: nothing is compressed twice.
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SeqHeader)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    return app


# Errors every /v1 operation can answer with, whatever its own ones: a bad key, a
# body over the limit, invalid parameters, the rate limit, a service still starting.
COMMON_ERRORS = {
    "401": "Unknown or revoked API key",
    "413": "Request body too large",
    "422": "Invalid input",
    "429": "Too many requests (see Retry-After)",
    "503": "Not ready, or the store is busy (see Retry-After)",
}


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with every error documented as problem JSON."""
    if app.openapi_schema:
        return app.openapi_schema
    spec = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes,
        tags=app.openapi_tags,
    )  # fmt: skip
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema()
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            responses = operation["responses"]
            if path.startswith("/v1/"):
                for status, description in COMMON_ERRORS.items():
                    responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    response["content"] = problem
    app.openapi_schema = spec
    return spec
