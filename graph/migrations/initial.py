"""The schema when migrations began (revision 0001), frozen: the graph's tables and the
service's, as Cocreate made them with ``create_all`` until then.

Never edit these tables to change the schema: add a migration. They are also what a store
made before the migrations is brought up to before it is stamped 0001 (:func:`adopt`).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
)
from sqlalchemy import text as sql_text


def tables() -> MetaData:
    """A fresh copy of the initial schema."""
    metadata = MetaData()
    _graph(metadata)
    _keys(metadata)
    _accounts(metadata)
    _social(metadata)
    return metadata


def _graph(metadata: MetaData) -> None:
    Table(
        "schema_version", metadata,
        Column("version", Integer, primary_key=True, autoincrement=False),
    )  # fmt: skip
    Table(
        "nodes",
        metadata,
        Column("id", String(160), primary_key=True),
        Column("kind", String(32), nullable=False),
        Column("name", String(300), nullable=False),
        Column("data", Text, nullable=False),
        Column("seq", Integer, nullable=False),
        Column("country", String(2), nullable=True),
        Column("visibility", String(8), nullable=False),
        Column("discoverable", Boolean, nullable=False),
        Column("locality", String(8), nullable=True),
        Column("lat", Float, nullable=True),
        Column("lon", Float, nullable=True),
        Column("active", Boolean, nullable=False),
        Column("name_key", String(300), nullable=True),
        Index("ix_nodes_kind_id", "kind", "id"),
        Index("ix_nodes_country", "country"),
        Index("ix_nodes_country_kind_id", "country", "kind", "id"),
        Index("ix_nodes_name_key", "name_key"),
        Index("ix_nodes_kind_name_key", "kind", "name_key"),
        Index("ix_nodes_lat_lon", "lat", "lon"),
    )
    Table(
        "edges",
        metadata,
        Column("source", String(160), nullable=False),
        Column("kind", String(32), nullable=False),
        Column("target", String(160), nullable=False),
        Column("data", Text, nullable=False),
        Column("seq", Integer, nullable=False),
        PrimaryKeyConstraint("source", "kind", "target", name="pk_edges"),
        Index("ix_edges_target", "target"),
        Index("ix_edges_kind", "kind"),
    )
    Table(
        "changes",
        metadata,
        Column("seq", Integer, primary_key=True, autoincrement=True),
        Column("op", String(16), nullable=False),
        Column("entity", String(8), nullable=False),
        Column("ref", String(400), nullable=False),
        Column("at", Float, nullable=False),
        sqlite_autoincrement=True,
    )
    Table(
        "vectors",
        metadata,
        Column("node_id", String(160), nullable=False),
        Column("model", String(200), nullable=False),
        Column("digest", String(64), nullable=False),
        Column("vector", LargeBinary, nullable=False),
        PrimaryKeyConstraint("node_id", "model", name="pk_vectors"),
    )


def _keys(metadata: MetaData) -> None:
    Table(
        "api_keys",
        metadata,
        Column("id", String(32), primary_key=True),
        Column("hash", String(64), nullable=False, unique=True),
        Column("role", String(16), nullable=False),
        Column("person_id", String(160), nullable=True),
        Column("label", String(200), nullable=True),
        Column("created_at", Float, nullable=False),
        Column("revoked_at", Float, nullable=True),
        Column("kind", String(16), nullable=True),
        Column("account_id", String(32), nullable=True, index=True),
        Column("expires_at", Float, nullable=True),
    )
    Table(
        "audit_log",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("at", Float, nullable=False),
        Column("key_id", String(32), nullable=True),
        Column("role", String(16), nullable=False),
        Column("action", String(40), nullable=False),
        Column("ref", String(400), nullable=False),
        Column("first_seq", Integer, nullable=True),
        Column("last_seq", Integer, nullable=True),
        sqlite_autoincrement=True,
    )


def _accounts(metadata: MetaData) -> None:
    Table(
        "accounts",
        metadata,
        Column("id", String(32), primary_key=True),
        Column("email", String(320), nullable=False, unique=True),
        Column("name", String(200), nullable=False),
        Column("password_hash", String(200), nullable=False),
        Column("role", String(16), nullable=False),
        Column("person_id", String(160), nullable=True, unique=True),
        Column("created_at", Float, nullable=False),
        Column("verified_at", Float, nullable=True),
        Column("digest", Boolean, nullable=False, default=False),
        Column("disabled_at", Float, nullable=True),
    )
    Table(
        "one_time_tokens",
        metadata,
        Column("hash", String(64), primary_key=True),
        Column("purpose", String(16), nullable=False),
        Column("email", String(320), nullable=False, index=True),
        Column("account_id", String(32), nullable=True, index=True),
        Column("data", Text, nullable=True),
        Column("created_at", Float, nullable=False),
        Column("expires_at", Float, nullable=False),
        Column("used_at", Float, nullable=True),
    )
    Table(
        "auth_attempts",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("bucket", String(120), nullable=False, index=True),
        Column("at", Float, nullable=False),
    )
    Table(
        "digests_sent",
        metadata,
        Column("account_id", String(32), nullable=False),
        Column("week", String(8), nullable=False),
        Column("at", Float, nullable=False),
        UniqueConstraint("account_id", "week", name="uq_digests_sent"),
    )
    Table(
        "digest_secret",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("secret", String(64), nullable=False),
    )
    Table(
        "drafts",
        metadata,
        Column("id", String(32), primary_key=True),
        Column("title", String(300), nullable=False),
        Column("body", Text, nullable=False),
        Column("sectors", Text, nullable=False),
        Column("goals", Text, nullable=False),
        Column("revises", String(160), nullable=True),
        Column("author_account_id", String(32), nullable=True, index=True),
        Column("created_at", Float, nullable=False),
        Column("updated_at", Float, nullable=False, index=True),
        Column("published_at", Float, nullable=True),
        Column("published_node", String(160), nullable=True),
    )


def _social(metadata: MetaData) -> None:
    Table(
        "introductions",
        metadata,
        Column("id", String(32), primary_key=True),
        Column("sender", String(160), nullable=False, index=True),
        Column("recipient", String(160), nullable=False, index=True),
        Column("message", Text, nullable=False),
        Column("status", String(16), nullable=False),
        Column("created_at", Float, nullable=False),
        Column("answered_at", Float, nullable=True),
    )
    Table(
        "blocks",
        metadata,
        Column("blocker", String(160), nullable=False),
        Column("blocked", String(160), nullable=False, index=True),
        Column("created_at", Float, nullable=False),
        PrimaryKeyConstraint("blocker", "blocked"),
    )
    Table(
        "reports",
        metadata,
        Column("id", String(32), primary_key=True),
        Column("account_id", String(32), nullable=False, index=True),
        Column("reporter", String(160), nullable=True, index=True),
        Column("node", String(160), nullable=False, index=True),
        Column("reason", Text, nullable=False),
        Column("created_at", Float, nullable=False),
        Column("resolved_at", Float, nullable=True),
    )
    Table(
        "join_requests",
        metadata,
        Column("id", String(32), primary_key=True),
        Column("person", String(160), nullable=False, index=True),
        Column("target", String(160), nullable=False, index=True),
        Column("edge_kind", String(16), nullable=False),
        Column("message", Text, nullable=False),
        Column("status", String(16), nullable=False),
        Column("created_at", Float, nullable=False),
        Column("answered_at", Float, nullable=True),
    )
    Table(
        "marks",
        metadata,
        Column("person_id", String(160), nullable=False, index=True),
        Column("node_id", String(160), nullable=False),
        Column("kind", String(8), nullable=False),
        Column("at", Float, nullable=False),
        UniqueConstraint("person_id", "node_id", "kind", name="uq_marks"),
    )


def adopt(conn: Connection) -> None:
    """Bring a store made before the migrations to the initial schema, in place.

    Such a store may lack whole tables (made by a service it never ran), or columns and
    indexes added since it was made (all nullable, so they can be added to a table with
    rows): each is added, nothing else is touched.
    """
    metadata = tables()
    found = inspect(conn)
    preparer = conn.dialect.identifier_preparer
    for table in metadata.tables.values():
        if not found.has_table(table.name):
            continue
        present = {c["name"] for c in found.get_columns(table.name)}
        for column in table.columns:
            if column.name in present or not column.nullable:
                continue
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(
                sql_text(
                    f"ALTER TABLE {preparer.quote(table.name)} "
                    f"ADD COLUMN {preparer.quote(column.name)} {kind}"
                )
            )
    metadata.create_all(conn)  # the missing tables, with their indexes
    for table in metadata.tables.values():
        for index in table.indexes:
            index.create(conn, checkfirst=True)
