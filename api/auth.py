"""Roles, API keys, sign-in sessions and the audit log.

A key is shown once when created; only its SHA-256 hash is stored. Callers send it
as ``Authorization: Bearer <key>``. Three kinds of key share one table:

- ``key``: made by an admin on the command line, with its own role and owner;
- ``token``: a personal token of an account (made at sign-in or in the web app), with
  the account's role and person, whatever they are when it is used;
- ``session``: a web sign-in, sent as an HttpOnly cookie rather than a header; a
  request authenticated by it must also carry the session's CSRF token if it writes.

Tokens and sessions expire; all are revocable. Keys and the audit log live in the same
database as the graph, in tables of their own. Erasing a person revokes their keys and
takes their id out of the audit log in the erasing transaction (:func:`forget_person`).
"""

from __future__ import annotations

import hashlib
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
    func,
    select,
    update,
)

from graph.schema import Seq
from graph.store import ERASED, WriteResult, names, transaction
from graph.visibility import Role as Role  # re-exported: the roles keys carry
from graph.visibility import Viewer

metadata = MetaData()

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("person_id", String(160), nullable=True),
    Column("label", String(200), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
    Column("kind", String(16), nullable=True),  # None (older stores) reads as "key"
    Column("account_id", String(32), nullable=True, index=True),
    Column("expires_at", Float, nullable=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Seq, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("key_id", String(32), nullable=True),
    Column("role", String(16), nullable=False),
    Column("action", String(40), nullable=False),
    Column("ref", String(400), nullable=False),
    Column("first_seq", Seq, nullable=True),
    Column("last_seq", Seq, nullable=True),
    sqlite_autoincrement=True,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Caller(Viewer):
    """Who is asking (a :class:`~graph.visibility.Viewer`: a role and the person the key
    belongs to, if any), and the key used; every visibility question takes it as is."""

    key_id: str | None = None
    account_id: str | None = None


ANONYMOUS = Caller()


@dataclass(frozen=True, slots=True)
class Credential:
    """What a secret stands for: the caller and the kind of key."""

    caller: Caller
    kind: str


def csrf_token(session_secret: str) -> str:
    """The CSRF token of a session: derived from its secret, which only the session's own
    cookie carries, so a page on another site can neither read nor forge it."""
    return hashlib.sha256(f"csrf:{session_secret}".encode()).hexdigest()[:40]


@dataclass(frozen=True, slots=True)
class KeyInfo:
    id: str
    role: str
    person_id: str | None
    label: str | None
    created_at: float
    revoked_at: float | None
    kind: str = "key"
    expires_at: float | None = None


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


_hash = secret_hash

AccountLookup = Any
"""``(conn, account_id) -> (role name, person id) | None``: an account's standing now."""


class KeyRing:
    """API keys stored as hashes."""

    def __init__(self, engine: Engine, accounts: AccountLookup = None) -> None:
        self.engine = engine
        self.accounts = accounts
        metadata.create_all(engine)

    def create(
        self, role: Role, *, person_id: str | None = None, label: str | None = None
    ) -> tuple[str, str]:
        """A new key: returns (key id, secret). The secret is not stored."""
        if role is Role.anonymous:
            raise ValueError("anonymous callers need no key")
        key_id = secrets.token_hex(6)
        secret = f"cc_{key_id}_{secrets.token_urlsafe(24)}"
        row = {
            "id": key_id, "hash": _hash(secret), "role": role.name, "person_id": person_id,
            "label": label, "created_at": time.time(), "revoked_at": None,
        }  # fmt: skip
        with transaction(self.engine) as conn:
            conn.execute(api_keys.insert(), row)
        return key_id, secret

    def revoke(self, key_id: str) -> bool:
        """Revoke a key; False if there is no such active key."""
        with transaction(self.engine) as conn:
            done = conn.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=time.time())
            ).rowcount
        return bool(done)

    def issue(
        self, account_id: str, kind: str, *, label: str | None, lifetime: float | None
    ) -> tuple[str, str]:
        """A new token or session of an account: (key id, secret).

        The role column says ``account``: the account's role is read whenever the secret
        is used.
        """
        if kind not in ("token", "session"):
            raise ValueError(f"unknown kind of key '{kind}'")
        key_id = secrets.token_hex(6)
        secret = f"cc_{key_id}_{secrets.token_urlsafe(24)}"
        now = time.time()
        row = {
            "id": key_id, "hash": _hash(secret), "role": "account", "person_id": None,
            "label": label, "created_at": now, "revoked_at": None, "kind": kind,
            "account_id": account_id, "expires_at": now + lifetime if lifetime else None,
        }  # fmt: skip
        with transaction(self.engine) as conn:
            conn.execute(api_keys.insert(), row)
        return key_id, secret

    def revoke_account(
        self, conn: Connection, account_id: str, kinds: tuple[str, ...] = ("session", "token")
    ) -> int:
        """Revoke an account's sessions and tokens (of ``kinds``) in ``conn``'s transaction."""
        return conn.execute(
            update(api_keys)
            .where(
                api_keys.c.account_id == account_id,
                api_keys.c.kind.in_(kinds),
                api_keys.c.revoked_at.is_(None),
            )
            .values(revoked_at=time.time())
        ).rowcount

    def revoke_own(self, account_id: str, key_id: str) -> bool:
        """Revoke one of an account's own tokens or sessions; False if it has no such one."""
        with transaction(self.engine) as conn:
            done = conn.execute(
                update(api_keys)
                .where(
                    api_keys.c.id == key_id,
                    api_keys.c.account_id == account_id,
                    api_keys.c.revoked_at.is_(None),
                )
                .values(revoked_at=time.time())
            ).rowcount
        return bool(done)

    def resolve(self, secret: str) -> Caller | None:
        """The caller a secret sent as a bearer key stands for, or None if unknown, revoked
        or expired (a session's secret is no bearer key: it travels only in its cookie)."""
        found = self.credential(secret)
        if found is None or found.kind == "session":
            return None
        return found.caller

    def credential(self, secret: str) -> Credential | None:
        """What a secret stands for, or None if unknown, revoked, expired, or its account is
        gone or disabled."""
        query = select(
            api_keys.c.id, api_keys.c.role, api_keys.c.person_id, api_keys.c.kind,
            api_keys.c.account_id, api_keys.c.expires_at,
        ).where(api_keys.c.hash == _hash(secret), api_keys.c.revoked_at.is_(None))  # fmt: skip
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
            if row is None or (row.expires_at is not None and row.expires_at <= time.time()):
                return None
            if row.account_id is None:
                caller = Caller(role=Role[row.role], person_id=row.person_id, key_id=row.id)
                return Credential(caller, row.kind or "key")
            standing = self.accounts(conn, row.account_id) if self.accounts else None
        if standing is None:
            return None
        role, person_id = standing
        caller = Caller(
            role=Role[role], person_id=person_id, key_id=row.id, account_id=row.account_id
        )
        return Credential(caller, row.kind or "key")

    def list(self, account_id: str | None = None) -> list[KeyInfo]:
        """Every key (the command line), or one account's live tokens and sessions."""
        query = select(api_keys).order_by(api_keys.c.created_at)
        if account_id is not None:
            query = query.where(
                api_keys.c.account_id == account_id, api_keys.c.revoked_at.is_(None)
            )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        now = time.time()
        return [
            KeyInfo(
                r.id,
                r.role,
                r.person_id,
                r.label,
                r.created_at,
                r.revoked_at,
                r.kind or "key",
                r.expires_at,
            )
            for r in rows
            if account_id is None or r.expires_at is None or r.expires_at > now
        ]


def audit(caller: Caller, action: str, ref: str) -> Any:
    """A ``within`` hook for :meth:`graph.store.Store.write` that logs the write."""

    def record(conn: Connection, result: WriteResult) -> None:
        conn.execute(
            audit_log.insert(),
            {
                "at": time.time(), "key_id": caller.key_id, "role": caller.role.name,
                "action": action, "ref": ref, "first_seq": result.first_seq,
                "last_seq": result.last_seq,
            },
        )  # fmt: skip

    return record


def forget_person(conn: Connection, person_id: str) -> None:
    """The erasure step of the keys and the audit log (see ``Store.add_erasure_step``).

    The person's keys are revoked (a revoked key is refused like an unknown one) and
    keep no owner or label; audit entries naming them or one of their edges keep the
    action, the time and the key, with :data:`graph.store.ERASED` as their ref.
    """
    conn.execute(
        update(api_keys)
        .where(api_keys.c.person_id == person_id)
        .values(
            revoked_at=func.coalesce(api_keys.c.revoked_at, time.time()),
            person_id=None,
            label=None,
        )
    )
    conn.execute(update(audit_log).where(names(audit_log.c.ref, person_id)).values(ref=ERASED))


def read_audit(engine: Engine, *, limit: int, before: int | None = None) -> list[dict[str, Any]]:
    """The newest audit entries first."""
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if before is not None:
        query = query.where(audit_log.c.id < before)
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]
