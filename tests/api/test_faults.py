"""Faults on the request path: a busy store is 503 with Retry-After; a bug is problem JSON 500."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import KeyRing, Role
from api.services import Services
from api.settings import Settings
from tests.conftest import small_network
from tests.graph.test_faults import hold_write_lock

PERSON = {"kind": "person", "id": "person:new", "name": "New"}


@pytest.fixture
def quick(settings: Settings) -> Iterator[tuple[Services, TestClient, dict[str, str]]]:
    services = Services.start(settings.model_copy(update={"busy_timeout": 0.2}))
    services.store.write(small_network())
    _, secret = KeyRing(services.store.engine).create(Role.admin)
    app = create_app(services=services)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield services, client, {"Authorization": f"Bearer {secret}"}
    services.close()


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert set(body) == {"type", "title", "status", "detail", "errors"}
    assert body["status"] == status
    return dict(body)


def test_a_write_to_a_busy_store_is_503_with_retry_after(
    quick: tuple[Services, TestClient, dict[str, str]],
) -> None:
    services, client, admin = quick
    assert services.settings.busy_timeout == 0.2
    # e.g. a long import elsewhere (on PostgreSQL, the database standing for this path)
    other = hold_write_lock(services.settings.data_dir / "cocreate.db")
    try:
        started = time.perf_counter()
        response = client.post("/v1/nodes", json=PERSON, headers=admin)
        waited = time.perf_counter() - started
        body = assert_problem(response, 503)
        assert int(response.headers["retry-after"]) >= 1
        assert "busy" in str(body["detail"])
        assert waited < 2, waited  # the service's busy timeout, not the default 10 s
        # Reads are served meanwhile.
        assert client.get("/v1/nodes/person:maria").status_code == 200
    finally:
        other.rollback()
        other.close()
    assert client.post("/v1/nodes", json=PERSON, headers=admin).status_code == 201


def test_an_unexpected_error_in_a_route_is_problem_json_500(
    quick: tuple[Services, TestClient, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    services, client, _ = quick

    def broken(_node_id: str) -> None:
        raise RuntimeError("a bug with a secret detail")

    monkeypatch.setattr(services.store, "find_node", broken)
    response = client.get("/v1/nodes/person:maria")
    body = assert_problem(response, 500)
    assert "secret" not in response.text  # the cause goes to the log, not to the caller
    assert body["title"] == "Internal server error"


class RefusedConnection(Exception):
    """What psycopg raises when the server refuses a connection (it restarts)."""


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("database is locked"),
        RefusedConnection(
            'connection failed: connection to server at "127.0.0.1", port 5432 '
            "failed: Connection refused"
        ),
    ],
)
def test_a_busy_database_error_no_path_translated_is_503_not_500(
    quick: tuple[Services, TestClient, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
) -> None:
    """A database's "busy" error that reached the service by a path that does not make it
    :class:`StoreBusy` (a raw DB-API call) still tells the caller to come back later."""
    services, client, _ = quick

    def busy(_node_id: str) -> None:
        raise error

    monkeypatch.setattr(services.store, "find_node", busy)
    response = client.get("/v1/nodes/person:maria")
    body = assert_problem(response, 503)
    assert int(response.headers["retry-after"]) >= 1
    assert "busy" in str(body["detail"])


def test_the_busy_timeout_is_a_documented_setting() -> None:
    """A request's write waits seconds at most, never the CLI's 10 s, and the README says so."""
    assert Settings().busy_timeout <= 5
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert "`COCREATE_BUSY_TIMEOUT`" in readme
