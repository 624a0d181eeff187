"""Listings read their indexes only: the indexes they filter by hold what they test.

A listing tests each candidate row for what the viewer may list (``visibility`` and
``discoverable``) and, for a sector or goal, for an edge joining it there
(``graph.listing``). With indexes on ``(kind, id)``, ``(kind, name_key)``,
``(country, kind, id)`` and edges' ``target`` alone, each test read the row from the
table (a node's with its JSON data, an edge's for its source). Measured at 100,000
people: the count of the people whose names begin with "ma" took 9.7 ms, and 0.4 ms
from an index holding the visibility; the people of a country (the largest) 60 ms, and
2.8 ms; passing over the 3,214 initiatives for their links to a goal (each has about
45 edges pointing at it) 186 ms, and 18 ms with the edges' sources in the index.

Each new index extends the one it replaces, which is dropped.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

LISTED = ["visibility", "discoverable"]
# (table, old index, its columns, new index, its columns)
CHANGES = [
    ("edges", "ix_edges_target", ["target"], "ix_edges_target_source", ["target", "source"]),
    ("nodes", "ix_nodes_kind_id", ["kind", "id"], "ix_nodes_kind_listed", ["kind", "id", *LISTED]),
    ("nodes", "ix_nodes_kind_name_key", ["kind", "name_key"],
     "ix_nodes_name_listed", ["kind", "name_key", *LISTED, "id"]),
    ("nodes", "ix_nodes_country_kind_id", ["country", "kind", "id"],
     "ix_nodes_country_listed", ["country", "kind", "id", *LISTED]),
]  # fmt: skip


def upgrade() -> None:
    # Either may be there already or not: a store adopted into the migrations (made
    # before them, see graph.migrations.initial) has the indexes it was made with.
    for table, old, _, new, columns in CHANGES:
        have = _indexes(table)
        if new not in have:
            op.create_index(new, table, columns)
        if old in have:
            op.drop_index(old, table_name=table)


def downgrade() -> None:
    for table, old, columns, new, _ in CHANGES:
        have = _indexes(table)
        if old not in have:
            op.create_index(old, table, columns)
        if new in have:
            op.drop_index(new, table_name=table)


def _indexes(table: str) -> set[str]:
    found = sa.inspect(op.get_bind()).get_indexes(table)
    return {index["name"] for index in found if index["name"] is not None}
