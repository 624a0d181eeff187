"""Drafts of Wisdom Book entries: kept beside the graph until an editor publishes them.

A draft is not a node. Until it is published nothing of it reaches the graph, its
change log, the search index, recommendations or counts, so no visibility rule has to
know about drafts: only editors and admins read this table, through
:mod:`api.routes.drafts`. Publishing writes the entry (and its sector and goal tags)
through the store and marks the draft published in the same transaction
(:func:`mark_published` runs in the write's ``within`` hook).

A draft holds the id of the account that started it; deleting that account deletes its
drafts (:func:`forget_author`, called by :func:`api.accounts.delete_account`, which the
erasure of a person reaches through ``forget_account``).
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    MetaData,
    String,
    Table,
    Text,
    delete,
    select,
    update,
)

from graph.store import transaction

metadata = MetaData()

drafts = Table(
    "drafts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("sectors", Text, nullable=False),  # JSON list of sector ids
    Column("goals", Text, nullable=False),  # JSON list of sdg ids
    Column("revises", String(160), nullable=True),
    Column("author_account_id", String(32), nullable=True, index=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False, index=True),
    Column("published_at", Float, nullable=True),
    Column("published_node", String(160), nullable=True),
)

LIST_LIMIT = 500
"""At most this many unpublished drafts are listed (newest first)."""


@dataclass(frozen=True, slots=True)
class Draft:
    id: str
    title: str
    body: str
    sectors: list[str]
    goals: list[str]
    revises: str | None
    author_account_id: str | None
    created_at: float
    updated_at: float
    published_at: float | None
    published_node: str | None

    @property
    def published(self) -> bool:
        return self.published_at is not None


@dataclass(frozen=True, slots=True)
class Content:
    """What an editor writes into a draft."""

    title: str
    body: str
    sectors: list[str]
    goals: list[str]
    revises: str | None


def create_tables(engine: Engine) -> None:
    metadata.create_all(engine)


def _row_draft(row: Any) -> Draft:
    return Draft(
        row.id, row.title, row.body, json.loads(row.sectors), json.loads(row.goals),
        row.revises, row.author_account_id, row.created_at, row.updated_at,
        row.published_at, row.published_node,
    )  # fmt: skip


def _values(content: Content) -> dict[str, Any]:
    return {
        "title": content.title, "body": content.body, "sectors": json.dumps(content.sectors),
        "goals": json.dumps(content.goals), "revises": content.revises,
    }  # fmt: skip


class Drafts:
    """The drafts table of one store (created by :func:`create_tables` in ``open_store``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, content: Content, author_account_id: str | None) -> Draft:
        now = time.time()
        row = {
            "id": secrets.token_hex(8), **_values(content), "author_account_id": author_account_id,
            "created_at": now, "updated_at": now, "published_at": None, "published_node": None,
        }  # fmt: skip
        with transaction(self.engine) as conn:
            conn.execute(drafts.insert(), row)
        return _row_draft(_Row(row))

    def get(self, draft_id: str) -> Draft | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(drafts).where(drafts.c.id == draft_id)).first()
        return _row_draft(row) if row is not None else None

    def unpublished(self) -> list[Draft]:
        """Every unpublished draft, last saved first: editors work on them together."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(drafts)
                .where(drafts.c.published_at.is_(None))
                .order_by(drafts.c.updated_at.desc(), drafts.c.id)
                .limit(LIST_LIMIT)
            ).all()
        return [_row_draft(row) for row in rows]

    def update(self, draft_id: str, content: Content) -> Draft | None:
        """The draft with its new content, or None if it is missing or already published
        (checked in the same statement, so a publish meanwhile is not overwritten)."""
        with transaction(self.engine) as conn:
            done = conn.execute(
                update(drafts)
                .where(drafts.c.id == draft_id, drafts.c.published_at.is_(None))
                .values(**_values(content), updated_at=time.time())
            ).rowcount
            if not done:
                return None
            row = conn.execute(select(drafts).where(drafts.c.id == draft_id)).one()
        return _row_draft(row)

    def delete(self, draft_id: str) -> bool:
        with transaction(self.engine) as conn:
            return bool(conn.execute(delete(drafts).where(drafts.c.id == draft_id)).rowcount)


def mark_published(conn: Connection, draft_id: str, node_id: str) -> Draft | None:
    """Mark the draft published as ``node_id`` in ``conn``'s transaction (the write of
    the entry); None if it was published meanwhile, so that the caller can undo the write."""
    now = time.time()
    done = conn.execute(
        update(drafts)
        .where(drafts.c.id == draft_id, drafts.c.published_at.is_(None))
        .values(published_at=now, published_node=node_id, updated_at=now)
    ).rowcount
    if not done:
        return None
    return _row_draft(conn.execute(select(drafts).where(drafts.c.id == draft_id)).one())


def authored(conn: Connection, account_id: str) -> list[Draft]:
    """The drafts an account started (for its data export)."""
    rows = conn.execute(
        select(drafts)
        .where(drafts.c.author_account_id == account_id)
        .order_by(drafts.c.created_at, drafts.c.id)
    ).all()
    return [_row_draft(row) for row in rows]


def forget_author(conn: Connection, account_id: str) -> None:
    """When an account is deleted: the drafts it started go with it (a published one
    lives on as its entry in the graph; the draft only said who wrote it)."""
    conn.execute(delete(drafts).where(drafts.c.author_account_id == account_id))


class _Row:
    """A dict seen through attributes (an inserted row read back without a query)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)
