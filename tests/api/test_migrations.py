"""Schema migrations: a new store is made by them, an old one is upgraded in place, and
what they make is what the code declares."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, inspect, select, text, update

from api import accounts, auth, digest, drafts, marks, social
from api.auth import KeyRing, Role
from graph import migrations, schema
from graph.errors import SchemaVersionError
from graph.store import Store


def declared() -> MetaData:
    """Every table the code reads and writes, in one MetaData."""
    combined = MetaData()
    for metadata in (schema.metadata, auth.metadata, accounts.metadata, digest.metadata,
                     social.metadata, marks.metadata, drafts.metadata):  # fmt: skip
        for table in metadata.tables.values():
            table.to_metadata(combined)
    return combined


def test_a_new_store_is_at_the_newest_revision_with_the_declared_tables(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "s.db")
    with store.engine.connect() as conn:
        assert migrations.current(conn) == migrations.head()
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, declared())
    store.close()
    assert differences == []


def _as_before_migrations(store: Store) -> None:
    """Turn a store into one made before the migrations: the initial schema, version 1,
    no record of any revision."""
    with store.engine.begin() as conn:
        config = migrations._config(conn)
        command.downgrade(config, migrations.INITIAL)
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(update(schema.schema_version).values(version=1))


def test_a_store_made_before_the_migrations_is_upgraded_in_place(
    tmp_path: Path, network: Store
) -> None:
    path, store = tmp_path / "store" / "cocreate.db", network  # the conftest's store
    key_id, secret = KeyRing(store.engine).create(Role.editor, label="old key")
    nodes, seq = store.node_counts(), store.last_seq()
    _as_before_migrations(store)
    with store.engine.connect() as conn:
        assert not inspect(conn).has_table("alembic_version")
    store.close()

    reopened = Store.open(path)
    assert reopened.migrated_from is None
    assert reopened.node_counts() == nodes and reopened.last_seq() == seq
    assert reopened.get_node("person:maria").name == "Maria Lopez"
    caller = KeyRing(reopened.engine).resolve(secret)
    assert caller is not None and caller.key_id == key_id
    written = reopened.upsert(reopened.get_node("person:maria").model_copy(update={"name": "M"}))
    assert written.last_seq == seq + 1
    with reopened.engine.connect() as conn:
        assert migrations.current(conn) == migrations.head()
        version = conn.execute(select(schema.schema_version.c.version)).scalar_one()
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, declared()) == []
    assert version == schema.SCHEMA_VERSION
    reopened.close()


def test_an_older_store_gains_the_columns_it_lacks(tmp_path: Path, network: Store) -> None:
    """A store from before the name keys (and a table added since) is brought up too."""
    path, store = tmp_path / "store" / "cocreate.db", network
    _as_before_migrations(store)
    with store.engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_nodes_name_key"))
        conn.execute(text("DROP INDEX ix_nodes_kind_name_key"))
        conn.execute(text("ALTER TABLE nodes DROP COLUMN name_key"))
        conn.execute(text("DROP TABLE drafts"))
    store.close()

    reopened = Store.open(path)
    with reopened.engine.connect() as conn:
        keys = dict(conn.execute(select(schema.nodes.c.id, schema.nodes.c.name_key)).all())
        assert inspect(conn).has_table("drafts")
    assert keys["person:maria"] == "maria lopez"
    reopened.close()


def test_a_store_migrated_by_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    Store.open(path).close()
    store = Store.open(path)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    store.close()
    with pytest.raises(SchemaVersionError, match="schema version 99"):
        Store.open(path)


def test_migrate_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from api.cli import cli

    monkeypatch.setenv("COCREATE_DATA_DIR", str(tmp_path / "var"))
    head = migrations.head()
    first = CliRunner().invoke(cli, ["migrate"], catch_exceptions=False)
    again = CliRunner().invoke(cli, ["migrate"], catch_exceptions=False)
    # A new SQLite file starts from none; on PostgreSQL the test's database comes from a
    # template that is migrated already.
    assert first.output.strip().endswith((f"to {head}", f"revision {head}, the newest"))
    assert again.output.strip() == f"the schema is at revision {head}, the newest"
