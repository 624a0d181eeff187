"""Change numbers in 64 bits, and ids and names compared by code point on PostgreSQL.

On SQLite both are so already (an INTEGER holds 64 bits; text compares as UTF-8 bytes),
so this step changes nothing there. On PostgreSQL the sequence columns become BIGINT and
the key columns take the "C" collation (see ``graph.schema.Key``), which rebuilds their
indexes.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

WIDE = [
    ("nodes", "seq"), ("edges", "seq"), ("changes", "seq"),
    ("audit_log", "id"), ("audit_log", "first_seq"), ("audit_log", "last_seq"),
]  # fmt: skip
COUNTERS = ["changes_seq_seq", "audit_log_id_seq"]
KEYS = [
    ("nodes", "id", 160), ("nodes", "kind", 32), ("nodes", "name", 300),
    ("nodes", "name_key", 300), ("edges", "source", 160), ("edges", "kind", 32),
    ("edges", "target", 160), ("changes", "ref", 400), ("vectors", "node_id", 160),
]  # fmt: skip


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in WIDE:
        op.alter_column(table, column, type_=sa.BigInteger(), existing_type=sa.Integer())
    for counter in COUNTERS:
        op.execute(f"ALTER SEQUENCE IF EXISTS {counter} AS BIGINT")
    for table, column, length in KEYS:
        op.alter_column(
            table, column, type_=sa.String(length, collation="C"), existing_type=sa.String(length)
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, length in KEYS:
        op.alter_column(
            table, column, type_=sa.String(length), existing_type=sa.String(length, collation="C")
        )
    for table, column in WIDE:
        op.alter_column(table, column, type_=sa.Integer(), existing_type=sa.BigInteger())
