"""Marks: what a person follows, saves, or is not interested in.

A mark belongs to a person (not an account), so that it goes with the person when they
are erased (:func:`forget_marks`) and applies whichever of their tokens they use. Marks
live beside the graph, not in it: they are nobody else's business and never show on a
node, and writing one adds nothing to the graph's change log.

``hide`` ("not interested") is read by the recommender: recommendations for a person's
own profile leave out the nodes they hid (:meth:`Marks.hidden`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    delete,
    select,
)
from sqlalchemy.exc import IntegrityError

from graph.store import transaction

metadata = MetaData()

marks = Table(
    "marks",
    metadata,
    Column("person_id", String(160), nullable=False, index=True),
    Column("node_id", String(160), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("at", Float, nullable=False),
    UniqueConstraint("person_id", "node_id", "kind", name="uq_marks"),
)

MarkKind = Literal["follow", "save", "hide"]

MARKABLE: dict[str, frozenset[str]] = {
    "follow": frozenset({"person", "initiative", "community", "sector", "sdg"}),
    "save": frozenset({"person", "initiative", "community", "wisdom_entry"}),
    "hide": frozenset({"person", "initiative", "community"}),
}
"""The node kinds each mark applies to (``hide``: the kinds that are recommended)."""

WHAT = {
    "follow": "people, initiatives, communities, sectors and goals",
    "save": "people, initiatives, communities and wisdom entries",
    "hide": "people, initiatives and communities",
}


@dataclass(frozen=True, slots=True)
class Mark:
    kind: str
    node_id: str
    at: float


def create_tables(engine: Engine) -> None:
    metadata.create_all(engine)


class Marks:
    """The marks table of one store (created by :func:`create_tables` at start)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def put(self, person_id: str, kind: str, node_id: str) -> tuple[Mark, bool]:
        """The mark, and whether it is new (putting it twice keeps the first time)."""
        now = time.time()
        with transaction(self.engine) as conn:
            found = _find(conn, person_id, kind, node_id)
            if found is not None:
                return found, False
            try:
                with conn.begin_nested():
                    conn.execute(
                        marks.insert(),
                        {"person_id": person_id, "node_id": node_id, "kind": kind, "at": now},
                    )
            except IntegrityError:  # the same mark put by a request meanwhile
                again = _find(conn, person_id, kind, node_id)
                assert again is not None
                return again, False
        return Mark(kind, node_id, now), True

    def remove(self, person_id: str, kind: str, node_id: str) -> bool:
        with transaction(self.engine) as conn:
            done = conn.execute(
                delete(marks).where(
                    marks.c.person_id == person_id,
                    marks.c.kind == kind,
                    marks.c.node_id == node_id,
                )
            ).rowcount
        return bool(done)

    def of(self, person_id: str, kind: str | None = None) -> list[Mark]:
        """The person's marks, newest first."""
        query = select(marks).where(marks.c.person_id == person_id)
        if kind is not None:
            query = query.where(marks.c.kind == kind)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(marks.c.at.desc(), marks.c.node_id)).all()
        return [Mark(row.kind, row.node_id, row.at) for row in rows]

    def hidden(self, person_id: str) -> frozenset[str]:
        """What the person said they are not interested in: never recommended to them."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(marks.c.node_id).where(
                    marks.c.person_id == person_id, marks.c.kind == "hide"
                )
            ).all()
        return frozenset(row.node_id for row in rows)


def _find(conn: Connection, person_id: str, kind: str, node_id: str) -> Mark | None:
    row = conn.execute(
        select(marks).where(
            marks.c.person_id == person_id, marks.c.kind == kind, marks.c.node_id == node_id
        )
    ).first()
    return Mark(row.kind, row.node_id, row.at) if row is not None else None


def forget_marks(conn: Connection, person_id: str) -> None:
    """The erasure step of marks: the erased person's own marks, and marks others put on
    them (a saved or followed person who is gone leaves nothing behind)."""
    conn.execute(delete(marks).where(marks.c.person_id == person_id))
    conn.execute(delete(marks).where(marks.c.node_id == person_id))
