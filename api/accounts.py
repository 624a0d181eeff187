"""Accounts: email and password, one-time links, and limits on attempts.

An account is created only when the link mailed at sign-up is followed: until then
the sign-up is a one-time token holding the name and the password's hash, so a
sign-up nobody confirms leaves no account, and nobody can claim an address they cannot
read. Passwords are hashed with argon2id (:data:`HASHER`). One-time tokens (verify,
reset, invite) are stored as SHA-256 hashes and used at most once, before they expire.

Attempts (sign-ups, sign-ins, resets) are counted in the database, so that every worker
process shares the same limits. An account is linked to its person node once the
person writes their profile (``person_id``); erasing that person deletes the account
(:func:`forget_account`), and deleting an account deletes the drafts it started.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    select,
    update,
)

from api.auth import api_keys, secret_hash
from api.drafts import forget_author
from graph.store import transaction
from graph.visibility import Role

metadata = MetaData()

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("person_id", String(160), nullable=True, unique=True),
    Column("created_at", Float, nullable=False),
    Column("verified_at", Float, nullable=True),
    Column("digest", Boolean, nullable=False, default=False),
    Column("disabled_at", Float, nullable=True),
)

one_time_tokens = Table(
    "one_time_tokens",
    metadata,
    Column("hash", String(64), primary_key=True),
    Column("purpose", String(16), nullable=False),
    Column("email", String(320), nullable=False, index=True),
    Column("account_id", String(32), nullable=True, index=True),
    Column("data", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float, nullable=True),
)

attempts = Table(
    "auth_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bucket", String(120), nullable=False, index=True),
    Column("at", Float, nullable=False),
)

HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
"""argon2id with 19 MiB and two passes (the OWASP minimum), about 30 ms here."""

DUMMY_HASH = HASHER.hash("a password nobody has")
"""Checked against when an address is unknown, so a sign-in takes as long either way."""

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 200

LIFETIMES = {"signup": 2 * 86_400.0, "reset": 3_600.0, "invite": 14 * 86_400.0}
"""How long each kind of link works, in seconds."""


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    email: str
    name: str
    role: str
    person_id: str | None
    created_at: float
    verified_at: float | None
    digest: bool

    def public(self) -> dict[str, Any]:
        """The account as its owner sees it."""
        return {
            "id": self.id, "email": self.email, "name": self.name, "role": self.role,
            "person_id": self.person_id, "created_at": self.created_at, "digest": self.digest,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Redeemed:
    """A one-time token that was just used."""

    purpose: str
    email: str
    account_id: str | None
    data: dict[str, Any]


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_problem(email: str) -> str | None:
    """Why an address cannot be used, or None."""
    if len(email) > 320 or not EMAIL.match(email):
        return "not an email address"
    return None


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"at most {MAX_PASSWORD} characters"
    return None


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def _row_account(row: Any) -> Account:
    return Account(
        row.id, row.email, row.name, row.role, row.person_id, row.created_at, row.verified_at,
        bool(row.digest),
    )  # fmt: skip


class Accounts:
    """The account tables of one store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    # -- accounts ----------------------------------------------------------------

    def get(self, account_id: str) -> Account | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(accounts).where(
                    accounts.c.id == account_id, accounts.c.disabled_at.is_(None)
                )
            ).first()
        return _row_account(row) if row is not None else None

    def by_email(self, email: str) -> Account | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(accounts).where(accounts.c.email == normalise_email(email))
            ).first()
        return _row_account(row) if row is not None and row.disabled_at is None else None

    def by_email_in(self, conn: Connection, email: str) -> Account | None:
        """As :meth:`by_email`, in ``conn``'s transaction (disabled accounts count)."""
        row = conn.execute(
            select(accounts).where(accounts.c.email == normalise_email(email))
        ).first()
        return _row_account(row) if row is not None else None

    def by_person(self, person_id: str) -> Account | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(accounts).where(accounts.c.person_id == person_id)).first()
        return _row_account(row) if row is not None and row.disabled_at is None else None

    def standing(self, conn: Connection, account_id: str) -> tuple[str, str | None] | None:
        """(role, person id) of a live account: what its tokens and sessions stand for."""
        row = conn.execute(
            select(accounts.c.role, accounts.c.person_id).where(
                accounts.c.id == account_id, accounts.c.disabled_at.is_(None)
            )
        ).first()
        return (row.role, row.person_id) if row is not None else None

    def check_password(self, email: str, password: str) -> Account | None:
        """The account if the password is right; the same work is done for an unknown
        address (a hash is checked either way), so the time tells nothing."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(accounts).where(accounts.c.email == normalise_email(email))
            ).first()
        stored = row.password_hash if row is not None else DUMMY_HASH
        try:
            HASHER.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None or row.disabled_at is not None:
            return None
        if HASHER.check_needs_rehash(stored):
            self._set_hash(row.id, hash_password(password))
        return _row_account(row)

    def _set_hash(self, account_id: str, password_hash: str) -> None:
        with transaction(self.engine) as conn:
            conn.execute(
                update(accounts)
                .where(accounts.c.id == account_id)
                .values(password_hash=password_hash)
            )

    def create(
        self, conn: Connection, email: str, name: str, password_hash: str, role: str
    ) -> Account:
        """A new, verified account (its address was just proven), in ``conn``'s transaction."""
        row = {
            "id": secrets.token_hex(8), "email": normalise_email(email), "name": name,
            "password_hash": password_hash, "role": Role.parse(role).name, "person_id": None,
            "created_at": time.time(), "verified_at": time.time(), "digest": False,
            "disabled_at": None,
        }  # fmt: skip
        conn.execute(accounts.insert(), row)
        return _row_account(_Row(row))

    def update(self, account_id: str, **values: Any) -> None:
        allowed = {"name", "role", "person_id", "digest"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"cannot set {', '.join(sorted(unknown))} of an account")
        with transaction(self.engine) as conn:
            conn.execute(update(accounts).where(accounts.c.id == account_id).values(**values))

    def set_password(self, conn: Connection, account_id: str, password: str) -> None:
        conn.execute(
            update(accounts)
            .where(accounts.c.id == account_id)
            .values(password_hash=hash_password(password))
        )

    def page(self, *, limit: int = 200, offset: int = 0) -> list[Account]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(accounts)
                .where(accounts.c.disabled_at.is_(None))
                .order_by(accounts.c.created_at, accounts.c.id)
                .limit(limit)
                .offset(offset)
            ).all()
        return [_row_account(row) for row in rows]

    def digest_subscribers(self) -> list[Account]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(accounts).where(
                    accounts.c.digest.is_(True), accounts.c.disabled_at.is_(None)
                )
            ).all()
        return [_row_account(row) for row in rows]

    def delete(self, conn: Connection, account_id: str) -> None:
        """Delete the account, its links and its keys (in ``conn``'s transaction)."""
        delete_account(conn, account_id)

    # -- one-time tokens ---------------------------------------------------------

    def token(
        self,
        purpose: str,
        email: str,
        *,
        account_id: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> str:
        """A new one-time link token (the secret; only its hash is stored)."""
        secret = secrets.token_urlsafe(32)
        now = time.time()
        row = {
            "hash": secret_hash(secret), "purpose": purpose, "email": normalise_email(email),
            "account_id": account_id, "data": json.dumps(data) if data else None,
            "created_at": now, "expires_at": now + LIFETIMES[purpose], "used_at": None,
        }  # fmt: skip
        with transaction(self.engine) as conn:
            conn.execute(one_time_tokens.insert(), row)
        return secret

    def redeem(self, conn: Connection, secret: str, purposes: tuple[str, ...]) -> Redeemed | None:
        """Use a one-time token (at most once, before it expires), in ``conn``'s transaction."""
        digest = secret_hash(secret)
        now = time.time()
        used = conn.execute(
            update(one_time_tokens)
            .where(
                one_time_tokens.c.hash == digest,
                one_time_tokens.c.purpose.in_(purposes),
                one_time_tokens.c.used_at.is_(None),
                one_time_tokens.c.expires_at > now,
            )
            .values(used_at=now)
        ).rowcount
        if not used:
            return None
        row = conn.execute(select(one_time_tokens).where(one_time_tokens.c.hash == digest)).one()
        data = json.loads(row.data) if row.data else {}
        return Redeemed(row.purpose, row.email, row.account_id, data)

    def drop_tokens(self, conn: Connection, account_id: str, purpose: str) -> None:
        conn.execute(
            update(one_time_tokens)
            .where(
                one_time_tokens.c.account_id == account_id,
                one_time_tokens.c.purpose == purpose,
                one_time_tokens.c.used_at.is_(None),
            )
            .values(used_at=time.time())
        )

    # -- attempts ----------------------------------------------------------------

    def spent(self, buckets: dict[str, int], window: float) -> float:
        """Seconds until every bucket is under its limit again (0: none is spent)."""
        now = time.time()
        wait = 0.0
        with self.engine.connect() as conn:
            for bucket, limit in buckets.items():
                rows = conn.execute(
                    select(attempts.c.at)
                    .where(attempts.c.bucket == bucket, attempts.c.at > now - window)
                    .order_by(attempts.c.at.desc())
                    .limit(limit)
                ).all()
                if len(rows) >= limit:
                    wait = max(wait, rows[-1].at + window - now)
        return wait

    def count(self, *buckets: str) -> None:
        """Record one attempt in each bucket (and forget attempts older than a day)."""
        now = time.time()
        with transaction(self.engine) as conn:
            conn.execute(attempts.insert(), [{"bucket": b, "at": now} for b in buckets])
            conn.execute(delete(attempts).where(attempts.c.at < now - 86_400))

    def clear(self, *buckets: str) -> None:
        with transaction(self.engine) as conn:
            conn.execute(delete(attempts).where(attempts.c.bucket.in_(buckets)))


class _Row:
    """A dict seen through attributes (an inserted row read back without a query)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def forget_account(conn: Connection, person_id: str) -> None:
    """The erasure step of accounts: the erased person's account goes with them."""
    row = conn.execute(select(accounts.c.id).where(accounts.c.person_id == person_id)).first()
    if row is not None:
        delete_account(conn, row.id)


def delete_account(conn: Connection, account_id: str) -> None:
    """Delete an account, its links, its keys and its drafts (in ``conn``'s transaction)."""
    forget_author(conn, account_id)
    conn.execute(delete(one_time_tokens).where(one_time_tokens.c.account_id == account_id))
    conn.execute(
        update(api_keys)
        .where(api_keys.c.account_id == account_id)
        .values(revoked_at=func.coalesce(api_keys.c.revoked_at, time.time()), label=None)
    )
    conn.execute(delete(accounts).where(accounts.c.id == account_id))


def bucket(kind: str, value: str) -> str:
    """An attempts bucket; addresses are stored hashed."""
    return f"{kind}:{secret_hash(value)[:32]}"
