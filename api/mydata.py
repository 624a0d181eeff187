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


def sections(conn: Connection, account: Account) -> dict[str, Any]:
    """Every registered section for ``account``, read in ``conn``'s transaction."""
    found: dict[str, Any] = {}
    for export in EXPORTERS:
        name, value = export(conn, account)
        if name in found:
            raise ValueError(f"two exporters give the section '{name}'")
        found[name] = value
    return found
