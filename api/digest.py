"""The weekly digest's storage: which weeks were sent to whom, and unsubscribe links.

``digests_sent`` holds one row per account and ISO week; the job inserts it in the
transaction that decides to send (:func:`claim`), so a second run for the same week,
or two runs at once, send nothing more. Unsubscribe links carry an HMAC of the account
id under a secret made once and kept in the database (every worker and the job read
the same one): they work without signing in, for as long as the account lives, and
say nothing but the account id.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    delete,
    select,
)
from sqlalchemy.exc import IntegrityError

from api.accounts import accounts
from graph.store import transaction

metadata = MetaData()

digests_sent = Table(
    "digests_sent",
    metadata,
    Column("account_id", String(32), nullable=False),
    Column("week", String(8), nullable=False),
    Column("at", Float, nullable=False),
    UniqueConstraint("account_id", "week", name="uq_digests_sent"),
)

digest_secret = Table(
    "digest_secret",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("secret", String(64), nullable=False),
)

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def create_tables(engine: Engine) -> None:
    metadata.create_all(engine)


def parse_week(text: str) -> str:
    """A canonical ISO week ("2026-W49"); ValueError for anything else."""
    found = WEEK.match(text.strip())
    if found is None:
        raise ValueError("an ISO week like 2026-W49")
    year, number = int(found[1]), int(found[2])
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError:
        raise ValueError(f"{year} has no week {number}") from None
    return f"{year:04d}-W{number:02d}"


def week_of(day: date) -> str:
    year, number, _ = day.isocalendar()
    return f"{year:04d}-W{number:02d}"


def this_week(now: float | None = None) -> str:
    return week_of(datetime.fromtimestamp(now if now is not None else time.time(), UTC).date())


def last_week(now: float | None = None) -> str:
    """The last complete week (what a Monday morning's run sends)."""
    today = datetime.fromtimestamp(now if now is not None else time.time(), UTC).date()
    return week_of(today - timedelta(days=7))


def week_bounds(week: str) -> tuple[float, float]:
    """Monday 00:00 UTC of the week and of the next one, as timestamps."""
    year, number = int(week[:4]), int(week[6:])
    monday = datetime.combine(date.fromisocalendar(year, number, 1), datetime.min.time(), UTC)
    return monday.timestamp(), (monday + timedelta(days=7)).timestamp()


def claim(conn: Connection, account_id: str, week: str) -> bool:
    """Record that the account's digest for ``week`` is sent, in ``conn``'s transaction;
    False when it already was (by this run, an earlier one, or one running meanwhile)."""
    try:
        with conn.begin_nested():
            conn.execute(
                digests_sent.insert(),
                {"account_id": account_id, "week": week, "at": time.time()},
            )
    except IntegrityError:
        return False
    return True


def was_sent(engine: Engine, account_id: str, week: str) -> bool:
    with engine.connect() as conn:
        row = conn.execute(
            select(digests_sent.c.at).where(
                digests_sent.c.account_id == account_id, digests_sent.c.week == week
            )
        ).first()
    return row is not None


def _secret(engine: Engine) -> bytes:
    with transaction(engine) as conn:
        row = conn.execute(select(digest_secret.c.secret).where(digest_secret.c.id == 1)).first()
        if row is None:
            try:
                with conn.begin_nested():
                    conn.execute(digest_secret.insert(), {"id": 1, "secret": secrets.token_hex(32)})
            except IntegrityError:
                pass  # made by another process meanwhile: use theirs
            row = conn.execute(select(digest_secret.c.secret)).one()
    return bytes.fromhex(row.secret)


def _mac(key: bytes, account_id: str) -> str:
    return hmac.new(key, f"unsubscribe:{account_id}".encode(), hashlib.sha256).hexdigest()[:40]


def unsubscribe_token(engine: Engine, account_id: str) -> str:
    """The token of the account's unsubscribe link (the same every week)."""
    return f"{account_id}.{_mac(_secret(engine), account_id)}"


def token_account(engine: Engine, token: str) -> str | None:
    """The live account an unsubscribe token stands for, or None."""
    account_id, _, mac = token.partition(".")
    if not account_id or not mac or len(token) > 120:
        return None
    if not hmac.compare_digest(mac, _mac(_secret(engine), account_id)):
        return None
    with engine.connect() as conn:
        row = conn.execute(
            select(accounts.c.id).where(
                accounts.c.id == account_id, accounts.c.disabled_at.is_(None)
            )
        ).first()
    return account_id if row is not None else None


def forget_digests(conn: Connection, person_id: str) -> None:
    """The erasure step of digests: the record of what was sent to the erased person's
    account (run before the account itself is deleted, which finds it by the person)."""
    row = conn.execute(select(accounts.c.id).where(accounts.c.person_id == person_id)).first()
    if row is not None:
        conn.execute(delete(digests_sent).where(digests_sent.c.account_id == row.id))
