"""Tables of the store, in SQLAlchemy Core, kept to what SQLite and PostgreSQL both accept.

The database is made and upgraded by the numbered migrations in :mod:`graph.migrations`;
these tables are what the newest migration leaves, and a test checks that they agree.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

SCHEMA_VERSION = 2
"""The number of the newest migration; kept in ``schema_version`` too, so that a version of
Cocreate from before the migrations (which knew version 1 only) refuses a newer store."""


def Key(length: int) -> String:  # noqa: N802 (a type, named like one)
    """Text compared code point by code point on every database.

    SQLite compares text as bytes (UTF-8, so by code point); PostgreSQL uses the database's
    locale unless told otherwise, which would order ids and names differently and break
    the name-prefix ranges (:func:`graph.store.prefix_range`). The "C" collation is
    SQLite's order.
    """
    return String(length).with_variant(String(length, collation="C"), "postgresql")


Seq = BigInteger().with_variant(Integer(), "sqlite")
"""A change number: 64-bit. On SQLite INTEGER is already 64-bit, and only an INTEGER
primary key is the rowid that ``AUTOINCREMENT`` needs."""


class truncated(FunctionElement[int]):  # noqa: N801 (an SQL function, named like one)
    """SQL: a number's integer part, toward zero, as an INTEGER on every database.

    ``CAST(x AS INTEGER)`` truncates on SQLite but rounds to the nearest on PostgreSQL,
    which would put a point 0.6 cells past a grid line into the next cell; ``trunc()``
    exists on PostgreSQL, and on SQLite only when built with its math functions.
    """

    type = Integer()
    name = "truncated"
    inherit_cache = True


@compiles(truncated)
def _truncated(element: truncated, compiler: SQLCompiler, **kw: object) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS INTEGER)"


@compiles(truncated, "postgresql")
def _truncated_postgresql(element: truncated, compiler: SQLCompiler, **kw: object) -> str:
    return f"CAST(trunc({compiler.process(element.clauses, **kw)}) AS INTEGER)"


metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
)

nodes = Table(
    "nodes",
    metadata,
    Column("id", Key(160), primary_key=True),
    Column("kind", Key(32), nullable=False),
    Column("name", Key(300), nullable=False),
    # The node's other fields as canonical JSON (sorted keys): compared byte for
    # byte to detect an unchanged upsert, so importing a file twice writes nothing.
    Column("data", Text, nullable=False),
    Column("seq", Seq, nullable=False),
    # Derived from the fields, so that listings filter (and count) in SQL before
    # paging: a filter never drops results after the page was cut.
    Column("country", String(2), nullable=True),
    Column("visibility", String(8), nullable=False),
    Column("discoverable", Boolean, nullable=False),
    # How precisely a node places someone: a person's location precision, or the
    # level of a community (a neighbourhood is "exact", a county a "region").
    Column("locality", String(8), nullable=True),
    # Coordinates as others may know them (a person's coarsened to their precision):
    # radius filters and distances use these, never the stored exact ones.
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("active", Boolean, nullable=False),
    # The name folded for search (see graph.store.name_key): a name prefix is a range
    # of this index, never a scan of every name. Nullable only so that a store made
    # before it can gain the column; the store fills it at open and on every write.
    Column("name_key", Key(300), nullable=True),
    # The indexes listings filter by hold what every listing tests, the viewer's right
    # to list a row (visibility, discoverable), so that a page and a count read them
    # only (migration 0004).
    Index("ix_nodes_kind_listed", "kind", "id", "visibility", "discoverable"),
    Index("ix_nodes_country", "country"),
    # A country listing of one kind, already in id order: a page reads its rows only.
    Index("ix_nodes_country_listed", "country", "kind", "id", "visibility", "discoverable"),
    Index("ix_nodes_name_key", "name_key"),
    # A name prefix among people (the usual search): equal kind and a range of names.
    Index("ix_nodes_name_listed", "kind", "name_key", "visibility", "discoverable", "id"),
    # The map's view: a band of latitudes (and the unplaced, whose lat is null), with
    # every column a view groups by or checks, so that it reads this index only.
    Index("ix_nodes_place", "lat", "lon", "kind", "visibility", "discoverable", "locality", "id"),
)

edges = Table(
    "edges",
    metadata,
    Column("source", Key(160), nullable=False),
    Column("kind", Key(32), nullable=False),
    Column("target", Key(160), nullable=False),
    Column("data", Text, nullable=False),
    Column("seq", Seq, nullable=False),
    PrimaryKeyConstraint("source", "kind", "target", name="pk_edges"),
    # Edges by target with their source: whether a node is linked to a sector, and who
    # is, read from the index alone (migration 0004).
    Index("ix_edges_target_source", "target", "source"),
    Index("ix_edges_kind", "kind"),
)

# One row per applied change. ``ref`` is a node id or an edge ref
# (source|kind|target); a deleted node leaves only this tombstone behind.
changes = Table(
    "changes",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("op", String(16), nullable=False),
    Column("entity", String(8), nullable=False),
    Column("ref", Key(400), nullable=False),
    Column("at", Float, nullable=False),
    sqlite_autoincrement=True,
)

# Text vectors of nodes, computed once for the whole deployment and read by every worker:
# one per node and model, with the digest of the text it was computed from (a vector whose
# digest is not that of the node's current text is stale). Deleted with the node.
vectors = Table(
    "vectors",
    metadata,
    Column("node_id", Key(160), nullable=False),
    Column("model", String(200), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("vector", LargeBinary, nullable=False),
    PrimaryKeyConstraint("node_id", "model", name="pk_vectors"),
)
