"""What admins do with accounts: find them, change their role, see and revoke their keys.

A role lives on the account, and every token and session reads it when used
(:meth:`api.accounts.Accounts.standing`), so a change takes effect at once everywhere.
The network must always keep someone who can administer it: the last admin cannot be
demoted, checked in the same transaction as the change so two admins demoting each
other at once cannot both succeed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Engine, func, or_, select, update

from api.accounts import Account, _row_account, accounts
from graph.store import transaction
from graph.visibility import Role


class LastAdmin(Exception):
    """The change would leave the network without an admin."""


@dataclass(frozen=True, slots=True)
class AccountPage:
    items: list[Account]
    total: int


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find_accounts(engine: Engine, *, q: str | None, limit: int, offset: int) -> AccountPage:
    """Live accounts whose email starts with ``q`` or whose name contains it, oldest first."""
    where: list[ColumnElement[bool]] = [accounts.c.disabled_at.is_(None)]
    if q:
        pattern = _escape(q.strip().lower())
        where.append(
            or_(
                accounts.c.email.like(f"{pattern}%", escape="\\"),
                func.lower(accounts.c.name).like(f"%{pattern}%", escape="\\"),
            )
        )
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(accounts).where(*where)).scalar()
        rows = conn.execute(
            select(accounts)
            .where(*where)
            .order_by(accounts.c.created_at, accounts.c.id)
            .limit(limit)
            .offset(offset)
        ).all()
    return AccountPage([_row_account(row) for row in rows], int(total or 0))


def admin_view(account: Account) -> dict[str, Any]:
    """An account as the admin page lists it (no password, nothing else)."""
    return {
        "id": account.id, "email": account.email, "name": account.name, "role": account.role,
        "person_id": account.person_id, "created_at": account.created_at,
    }  # fmt: skip


def set_role(engine: Engine, account_id: str, role: Role) -> Account | None:
    """Give the account ``role``; None if there is no such live account.

    Raises :class:`LastAdmin` if it is the only admin and would stop being one.
    """
    with transaction(engine) as conn:
        row = conn.execute(
            select(accounts).where(accounts.c.id == account_id, accounts.c.disabled_at.is_(None))
        ).first()
        if row is None:
            return None
        if row.role == Role.admin.name and role is not Role.admin:
            admins = conn.execute(
                select(func.count())
                .select_from(accounts)
                .where(accounts.c.role == Role.admin.name, accounts.c.disabled_at.is_(None))
            ).scalar()
            if (admins or 0) <= 1:
                raise LastAdmin(account_id)
        conn.execute(update(accounts).where(accounts.c.id == account_id).values(role=role.name))
        changed = conn.execute(select(accounts).where(accounts.c.id == account_id)).one()
    return _row_account(changed)
