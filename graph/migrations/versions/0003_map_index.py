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

from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

COLUMNS = ["lat", "lon", "kind", "visibility", "discoverable", "locality", "id"]


def upgrade() -> None:
    op.create_index("ix_nodes_place", "nodes", COLUMNS)
    op.drop_index("ix_nodes_lat_lon", table_name="nodes")


def downgrade() -> None:
    op.create_index("ix_nodes_lat_lon", "nodes", ["lat", "lon"])
    op.drop_index("ix_nodes_place", table_name="nodes")
