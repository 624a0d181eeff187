"""The change log may hold ``edit`` entries: no table changes.

A node written with only fields no filter reads changed (its kind, name, country,
visibility, discoverability, place and activity as they were) is logged as ``edit``
rather than ``upsert`` (:data:`graph.store.WRITES`), so that listings and the map keep
what such a write cannot alter. An earlier Cocreate would read an ``edit`` as a deletion
(its graph view removes a node whose entry is not an upsert); this revision makes it
refuse a store this one has opened rather than misread it.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Nothing to change: the ``op`` column already takes any name of 16 characters."""


def downgrade() -> None:
    """Nothing to change back (an ``edit`` entry left would be read as a deletion by the
    code of revision 0004: downgrade only a store without them)."""
