"""The schema when migrations began: every table of the graph and of the service.

Revision ID: 0001
Revises: none
"""

from __future__ import annotations

from alembic import op

from graph.migrations.initial import tables

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    tables().create_all(op.get_bind())


def downgrade() -> None:
    tables().drop_all(op.get_bind())
