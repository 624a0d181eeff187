"""My data: everything the service holds about one account, gathered for its owner.

People have a right to see what a network keeps about them. The export is assembled
from sections; each table that holds something about a person registers an exporter in
:data:`EXPORTERS`, so that a table added later (introductions, marks) cannot be forgotten
by the export: its module appends its exporter when it is imported. Every exporter reads
inside one transaction, so the sections agree with each other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, select

from api.accounts import Account
from api.auth import api_keys, audit_log
from api.digest import digests_sent
from api.marks import marks
from api.social import (
    blocks,
    introduction_of,
    introductions,
    join_request_of,
    join_requests,
    reports,
)

Exporter = Callable[[Connection, Account], tuple[str, Any]]
"""``(conn, account) -> (section name, JSON-able value)``."""

EXPORTERS: list[Exporter] = []
"""The sections of ``GET /v1/me/export`` beyond the account, the person and their edges."""


def exporter(function: Exporter) -> Exporter:
    """Register ``function`` as a section of the export (usable as a decorator)."""
    EXPORTERS.append(function)
    return function


def _key_ids(conn: Connection, account: Account) -> list[str]:
    rows = conn.execute(select(api_keys.c.id).where(api_keys.c.account_id == account.id))
    return [row.id for row in rows]


@exporter
def tokens(conn: Connection, account: Account) -> tuple[str, Any]:
    """The account's live tokens and sessions: when and why made, never their secrets."""
    rows = conn.execute(
        select(api_keys)
        .where(api_keys.c.account_id == account.id, api_keys.c.revoked_at.is_(None))
        .order_by(api_keys.c.created_at)
    ).all()
    items = [
        {"id": r.id, "kind": r.kind or "key", "label": r.label, "created_at": r.created_at,
         "expires_at": r.expires_at}
        for r in rows
    ]  # fmt: skip
    return "tokens", items


@exporter
def audit(conn: Connection, account: Account) -> tuple[str, Any]:
    """The audit entries of the writes made with the account's tokens and sessions."""
    ids = _key_ids(conn, account)
    if not ids:
        return "audit", []
    rows = conn.execute(
        select(audit_log).where(audit_log.c.key_id.in_(ids)).order_by(audit_log.c.id)
    ).all()
    return "audit", [dict(row._mapping) for row in rows]


def _request(request: Any, *, to_sender: bool, other: str) -> dict[str, Any]:
    """A request as its side sees it: the asker never learns of a decline, here either."""
    return {
        "id": request.id, "other": other, "message": request.message,
        "status": request.shown_status(to_sender=to_sender), "created_at": request.created_at,
        "answered_at": request.answered_at if request.status == "accepted" or not to_sender
        else None,
    }  # fmt: skip


@exporter
def my_introductions(conn: Connection, account: Account) -> tuple[str, Any]:
    """Introductions the person asked for and was asked for, with the messages."""
    me = account.person_id
    if me is None:
        return "introductions", {"sent": [], "received": []}
    rows = conn.execute(
        select(introductions)
        .where((introductions.c.sender == me) | (introductions.c.recipient == me))
        .order_by(introductions.c.created_at)
    ).all()
    found = [introduction_of(row) for row in rows]
    return "introductions", {
        "sent": [_request(r, to_sender=True, other=r.recipient) for r in found if r.sender == me],
        "received": [
            _request(r, to_sender=False, other=r.sender) for r in found if r.recipient == me
        ],
    }


@exporter
def my_join_requests(conn: Connection, account: Account) -> tuple[str, Any]:
    """Requests the person made to join initiatives and communities."""
    if account.person_id is None:
        return "join_requests", []
    rows = conn.execute(
        select(join_requests)
        .where(join_requests.c.person == account.person_id)
        .order_by(join_requests.c.created_at)
    ).all()
    return "join_requests", [
        _request(join_request_of(row), to_sender=True, other=row.target) for row in rows
    ]


@exporter
def my_blocks_and_reports(conn: Connection, account: Account) -> tuple[str, Any]:
    """Whom the person blocked, and what they reported (never reports about them, which
    are their reporters' to keep)."""
    blocked = []
    if account.person_id is not None:
        blocked = [
            {"person": row.blocked, "created_at": row.created_at}
            for row in conn.execute(select(blocks).where(blocks.c.blocker == account.person_id))
        ]
    made = [
        {"node": row.node, "reason": row.reason, "created_at": row.created_at,
         "resolved_at": row.resolved_at}
        for row in conn.execute(
            select(reports).where(reports.c.account_id == account.id).order_by(reports.c.created_at)
        )
    ]  # fmt: skip
    return "blocks_and_reports", {"blocked": blocked, "reported": made}


@exporter
def my_marks(conn: Connection, account: Account) -> tuple[str, Any]:
    """What the person follows, saved, and said they are not interested in."""
    if account.person_id is None:
        return "marks", []
    rows = conn.execute(
        select(marks).where(marks.c.person_id == account.person_id).order_by(marks.c.at)
    ).all()
    return "marks", [{"kind": r.kind, "node": r.node_id, "at": r.at} for r in rows]


@exporter
def my_digests(conn: Connection, account: Account) -> tuple[str, Any]:
    """The weeks a digest was mailed to the account."""
    rows = conn.execute(
        select(digests_sent.c.week, digests_sent.c.at)
        .where(digests_sent.c.account_id == account.id)
        .order_by(digests_sent.c.week)
    ).all()
    return "digests_sent", [{"week": r.week, "at": r.at} for r in rows]


def sections(conn: Connection, account: Account) -> dict[str, Any]:
    """Every registered section for ``account``, read in ``conn``'s transaction."""
    found: dict[str, Any] = {}
    for export in EXPORTERS:
        name, value = export(conn, account)
        if name in found:
            raise ValueError(f"two exporters give the section '{name}'")
        found[name] = value
    return found
