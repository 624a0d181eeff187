"""Numbered schema migrations (Alembic), run by the store when it opens.

Every table of the database is made by these migrations, the graph's and the service's
alike (the keys, accounts, introductions...): ``versions/0001_initial.py`` is the schema
as it was when migrations began, each later file one step from there. Opening a store runs
whatever steps it lacks inside the store's first write transaction, so that several
processes opening one database at once migrate it once (SQLite's write lock, a
PostgreSQL advisory lock). ``cocreate migrate`` does the same from the command line.

A store made before the migrations (it has the tables but no ``alembic_version``) is
first brought to the initial schema the way the store used to do it (missing tables,
nullable columns and indexes added) and stamped with revision 0001; the later steps then
run on it like on any other.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from graph.errors import SchemaVersionError
from graph.migrations.initial import adopt

FOLDER = Path(__file__).parent
INITIAL = "0001"


def _config(conn: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(FOLDER))
    config.attributes["connection"] = conn
    return config


def head() -> str:
    """The newest revision this code knows."""
    found = ScriptDirectory(str(FOLDER)).get_current_head()
    assert found is not None
    return found


def current(conn: Connection) -> str | None:
    """The revision the database is at (None: no migration has run on it)."""
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(conn: Connection, revision: str = "head") -> None:
    """Bring the database on ``conn`` (inside a transaction) to ``revision``.

    Raises :class:`SchemaVersionError` for a database migrated by a newer Cocreate.
    """
    script = ScriptDirectory(str(FOLDER))
    found = current(conn)
    if found is not None and found not in {s.revision for s in script.walk_revisions()}:
        raise SchemaVersionError(_number(found), _number(head()))
    if found is None and inspect(conn).has_table("nodes"):
        adopt(conn)
        command.stamp(_config(conn), INITIAL)
    command.upgrade(_config(conn), revision)


def _number(revision: str) -> int:
    digits = revision.split("_")[0]
    return int(digits) if digits.isdigit() else 0
