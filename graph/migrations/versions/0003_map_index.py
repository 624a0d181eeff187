"""The map's index covers what a view reads: place, kind, visibility and precision.

A view of the map groups the rows of a band of latitudes by cell, kind and precision,
counting only those the viewer may list (``api.map_clusters``). With the index on
``(lat, lon)`` alone every row in the view was read from the table (each with its JSON
data); this one holds every column the grouping and the visibility test read, so a view
reads the index only. It replaces ``ix_nodes_lat_lon``, of which it is an extension
(the unplaced, whose ``lat`` is null, are still one range of it).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

COLUMNS = ["lat", "lon", "kind", "visibility", "discoverable", "locality", "id"]


def upgrade() -> None:
    # Either may be there already or not: a store adopted into the migrations (made
    # before them, see graph.migrations.initial) has the indexes it was made with.
    have = _indexes()
    if "ix_nodes_place" not in have:
        op.create_index("ix_nodes_place", "nodes", COLUMNS)
    if "ix_nodes_lat_lon" in have:
        op.drop_index("ix_nodes_lat_lon", table_name="nodes")


def downgrade() -> None:
    have = _indexes()
    if "ix_nodes_lat_lon" not in have:
        op.create_index("ix_nodes_lat_lon", "nodes", ["lat", "lon"])
    if "ix_nodes_place" in have:
        op.drop_index("ix_nodes_place", table_name="nodes")


def _indexes() -> set[str]:
    found = sa.inspect(op.get_bind()).get_indexes("nodes")
    return {index["name"] for index in found if index["name"] is not None}
