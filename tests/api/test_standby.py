"""Reading from a standby (``COCREATE_READ_DATABASE_URL``): a worker loads its graph and
follows the change log on a PostgreSQL streaming standby, writes to the primary, and
never answers a read that asks for a change before the standby has replayed it."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

import graph.store as store_module
from api.app import create_app
from api.auth import KeyRing, Role
from api.services import Services
from api.settings import Settings
from graph.errors import ReadOnlyStore, StoreNotMigrated
from graph.model import Person
from graph.store import Store
from tests.api.conftest import SHARED_CACHE
from tests.conftest import DATA
from tests.postgres import Cluster, enabled

DATABASE = "cocreate"
on_postgresql = pytest.mark.skipif(
    not enabled(),
    reason="a standby is PostgreSQL's: in the PostgreSQL pass (COCREATE_TEST_DATABASE=postgresql)",
)


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[Cluster, Cluster]]:
    """A PostgreSQL primary holding the migrated ``cocreate`` database, and a hot standby
    streaming from it, each a server of its own."""
    primary = Cluster()
    primary.start()
    try:
        primary.database(DATABASE)
        standby = primary.standby()
        try:
            yield primary, standby
        finally:
            standby.stop()
    finally:
        primary.stop()


def settings_for(data_dir: Path, primary: Cluster, standby: Cluster) -> Settings:
    return Settings(
        data_dir=data_dir, reference_dir=DATA, cache=SHARED_CACHE, rate_limit_per_minute=100_000,
        rate_limit_burst=10_000, read_wait=1.0, database_url=primary.url(DATABASE),
        read_database_url=standby.url(DATABASE),
    )  # fmt: skip


@on_postgresql
def test_a_worker_follows_the_standby_and_writes_to_the_primary(
    pair: tuple[Cluster, Cluster], tmp_path: Path, reference_index: Path
) -> None:
    primary, standby = pair
    settings = settings_for(tmp_path / "var", primary, standby)
    shutil.copytree(reference_index, settings.data_dir / "index")
    services = Services.start(settings)
    try:
        assert services.reader is not None and services.feed.store is services.reader
        assert services.reader.engine.url.port == standby.port
        assert services.store.engine.url.port == primary.port
        _, admin = KeyRing(services.store.engine).create(Role.admin)
        headers = {"Authorization": f"Bearer {admin}"}
        with TestClient(create_app(services=services)) as client:
            standby.execute("SELECT pg_wal_replay_pause()")
            try:
                done = services.write(
                    [Person(id="person:sam-standby", name="Sam Standby")], within=None
                )
                assert done.last_seq is not None
                seq = done.last_seq
                # In the primary at once; not in the view while the standby replays nothing.
                assert services.store.find_node("person:sam-standby") is not None
                assert not services.feed.wait_for(seq, 1.5)
                assert "person:sam-standby" not in services.view.graph
                waiting = client.get(
                    "/v1/admin/state", headers={**headers, "X-Cocreate-Min-Seq": str(seq)}
                )
                assert waiting.status_code == 503, waiting.text
                assert waiting.headers["retry-after"] == "1"
            finally:
                standby.execute("SELECT pg_wal_replay_resume()")
            assert services.feed.wait_for(seq, 10.0)
            state = client.get(
                "/v1/admin/state", headers={**headers, "X-Cocreate-Min-Seq": str(seq)}
            )
            assert state.status_code == 200, state.text
            assert state.json()["follows"] == "standby"
            assert state.json()["seq"] >= seq
            assert "person:sam-standby" in services.view.graph
            found = client.get("/v1/search", params={"q": "Sam Standby"}, headers=headers)
            assert "person:sam-standby" in [hit["node"]["id"] for hit in found.json()["items"]]
    finally:
        services.close()


@on_postgresql
def test_a_read_only_store_writes_nothing(pair: tuple[Cluster, Cluster]) -> None:
    primary, standby = pair
    reader = Store.open(standby.url(DATABASE), read_only=True)
    try:
        with pytest.raises(ReadOnlyStore, match="read-only"):
            reader.write([Person(id="person:never", name="Never Written")])
    finally:
        reader.close()
    # Pointed at a primary by mistake, a read-only store's transactions are still read-only.
    mistaken = Store.open(primary.url(DATABASE), read_only=True)
    try:
        with (
            pytest.raises(DBAPIError, match="read-only transaction"),
            mistaken.engine.begin() as conn,
        ):
            conn.exec_driver_sql("CREATE TABLE never_made (id integer)")
    finally:
        mistaken.close()
    assert primary.execute("SELECT to_regclass('never_made')") == [(None,)]


@on_postgresql
def test_a_standby_without_the_schema_is_refused_saying_why(
    pair: tuple[Cluster, Cluster], monkeypatch: pytest.MonkeyPatch
) -> None:
    primary, standby = pair
    primary.execute("CREATE DATABASE unmigrated")
    deadline = time.monotonic() + 30
    while standby.execute("SELECT 1 FROM pg_database WHERE datname = 'unmigrated'") == []:
        assert time.monotonic() < deadline, "the standby did not replay CREATE DATABASE"
        time.sleep(0.1)
    monkeypatch.setattr(store_module, "READ_ONLY_SCHEMA_WAIT", 0.5)
    for server in (standby, primary):
        url = server.url("unmigrated")
        with pytest.raises(StoreNotMigrated, match="cocreate migrate"):
            Store.open(url, read_only=True)
    assert primary.execute("SELECT count(*) FROM pg_database WHERE datname = 'unmigrated'") == [
        (1,)
    ]  # and opening it created nothing in it: still no tables
    with pytest.raises(StoreNotMigrated):
        Store.open(primary.url("unmigrated"), read_only=True)


def test_the_standby_setting_names_its_field_and_reason(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="read_database_url needs database_url"):
        Settings(data_dir=tmp_path, read_database_url="postgresql+psycopg://h/db")
    with pytest.raises(ValidationError, match="read_database_url") as raised:
        Settings(data_dir=tmp_path, database_url="postgresql+psycopg://h/db",
                 read_database_url="sqlite:///elsewhere.db")  # fmt: skip
    assert "must be a PostgreSQL URL" in str(raised.value)
    given = Settings(data_dir=tmp_path, database_url="postgresql+psycopg://h/db",
                     read_database_url=" ")  # fmt: skip
    assert given.read_database_url is None
