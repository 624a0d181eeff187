"""People acting together: introductions asked with consent, blocks, reports, join requests.

These tables live beside the graph (like the accounts): an introduction or a join request
is a question between people, not a fact about the network, until it is accepted. An
accepted introduction only changes what each side may see of the other (their contact
details, as each chose to share them: :func:`graph.visibility.contact_shown`); an
accepted join request becomes a ``works_on`` or ``member_of`` edge, written through the
graph store in the transaction that records the answer.

What the asking side sees never tells a decline from silence: a declined request reads
as one still waiting, and after :data:`ANSWER_DAYS` both read as "no answer". A person
who blocked someone never sees nor is mailed their requests, and the sender cannot tell.
Erasing a person deletes every row naming them (:func:`forget_social`).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    and_,
    delete,
    exists,
    or_,
    select,
    update,
)

from graph.store import transaction

metadata = MetaData()

introductions = Table(
    "introductions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("sender", String(160), nullable=False, index=True),
    Column("recipient", String(160), nullable=False, index=True),
    Column("message", Text, nullable=False),
    Column("status", String(16), nullable=False),  # waiting | accepted | declined
    Column("created_at", Float, nullable=False),
    Column("answered_at", Float, nullable=True),
)

blocks = Table(
    "blocks",
    metadata,
    Column("blocker", String(160), nullable=False),
    Column("blocked", String(160), nullable=False, index=True),
    Column("created_at", Float, nullable=False),
    PrimaryKeyConstraint("blocker", "blocked"),
)

reports = Table(
    "reports",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("account_id", String(32), nullable=False, index=True),
    Column("reporter", String(160), nullable=True, index=True),  # their person, if any
    Column("node", String(160), nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("resolved_at", Float, nullable=True),
)

join_requests = Table(
    "join_requests",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("person", String(160), nullable=False, index=True),
    Column("target", String(160), nullable=False, index=True),
    Column("edge_kind", String(16), nullable=False),  # works_on | member_of
    Column("message", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("answered_at", Float, nullable=True),
)

ANSWER_DAYS = 30
"""After this many days a request nobody accepted shows as "no answer" and may be asked again."""
ANSWER_WINDOW = ANSWER_DAYS * 86_400.0

Status = Literal["waiting", "accepted", "declined", "no_answer"]


@dataclass(frozen=True, slots=True)
class Request:
    """An introduction or a join request: ``sender`` asks ``recipient`` (a person, or the
    initiative or community whose coordinators answer)."""

    id: str
    sender: str
    recipient: str
    message: str
    status: str
    created_at: float
    answered_at: float | None
    edge_kind: str | None = None

    def expired(self, now: float | None = None) -> bool:
        return (now or time.time()) - self.created_at > ANSWER_WINDOW

    def shown_status(self, *, to_sender: bool) -> Status:
        """The status as one side may see it: the sender never learns of a decline."""
        if self.status == "accepted":
            return "accepted"
        if self.status == "declined" and not to_sender:
            return "declined"
        return "no_answer" if self.expired() else "waiting"


def introduction_of(row: Any) -> Request:
    return Request(row.id, row.sender, row.recipient, row.message, row.status,
                   row.created_at, row.answered_at)  # fmt: skip


def join_request_of(row: Any) -> Request:
    return Request(row.id, row.person, row.target, row.message, row.status,
                   row.created_at, row.answered_at, row.edge_kind)  # fmt: skip


def new_id() -> str:
    return secrets.token_hex(8)


def _blocked_pair(a: Any, b: Any) -> Any:
    """SQL: either of two people blocked the other."""
    return exists().where(
        or_(
            and_(blocks.c.blocker == a, blocks.c.blocked == b),
            and_(blocks.c.blocker == b, blocks.c.blocked == a),
        )
    )


class Social:
    """The tables of introductions, blocks, reports and join requests of one store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    # -- introductions -------------------------------------------------------------

    def introduced(self, person_id: str) -> frozenset[str]:
        """The people ``person_id`` was introduced to (an accepted request either way),
        unless one of the two has blocked the other since."""
        t = introductions
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.sender, t.c.recipient).where(
                    t.c.status == "accepted",
                    or_(t.c.sender == person_id, t.c.recipient == person_id),
                    ~_blocked_pair(t.c.sender, t.c.recipient),
                )
            ).all()
        return frozenset(r.recipient if r.sender == person_id else r.sender for r in rows)

    def ask(self, conn: Connection, sender: str, recipient: str, message: str) -> Request:
        request = Request(new_id(), sender, recipient, message, "waiting", time.time(), None)
        conn.execute(introductions.insert(), {
            "id": request.id, "sender": sender, "recipient": recipient, "message": message,
            "status": request.status, "created_at": request.created_at, "answered_at": None,
        })  # fmt: skip
        return request

    def between(self, conn: Connection, sender: str, recipient: str) -> list[Request]:
        """The requests ``sender`` made to ``recipient``, newest first."""
        t = introductions
        rows = conn.execute(
            select(t)
            .where(t.c.sender == sender, t.c.recipient == recipient)
            .order_by(t.c.created_at.desc())
        ).all()
        return [introduction_of(row) for row in rows]

    def introduction(self, intro_id: str) -> Request | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(introductions).where(introductions.c.id == intro_id)).first()
        return introduction_of(row) if row is not None else None

    def introductions_of(self, person_id: str) -> tuple[list[Request], list[Request]]:
        """(received, sent) of a person, newest first; received leaves out the requests of
        people they blocked."""
        t = introductions
        with self.engine.connect() as conn:
            received = conn.execute(
                select(t)
                .where(
                    t.c.recipient == person_id,
                    ~exists().where(blocks.c.blocker == person_id, blocks.c.blocked == t.c.sender),
                )
                .order_by(t.c.created_at.desc())
            ).all()
            sent = conn.execute(
                select(t).where(t.c.sender == person_id).order_by(t.c.created_at.desc())
            ).all()
        return [introduction_of(r) for r in received], [introduction_of(r) for r in sent]

    def answer(self, intro_id: str, status: str) -> bool:
        """Answer a waiting request (once); whether it was still waiting."""
        with transaction(self.engine) as conn:
            done = conn.execute(
                update(introductions)
                .where(introductions.c.id == intro_id, introductions.c.status == "waiting")
                .values(status=status, answered_at=time.time())
            ).rowcount
        return bool(done)

    # -- blocks --------------------------------------------------------------------

    def block(self, blocker: str, blocked: str) -> bool:
        """Block someone; whether they were not blocked already."""
        with transaction(self.engine) as conn:
            if self.blocks(conn, blocker, blocked):
                return False
            conn.execute(
                blocks.insert(), {"blocker": blocker, "blocked": blocked, "created_at": time.time()}
            )
        return True

    def unblock(self, blocker: str, blocked: str) -> bool:
        with transaction(self.engine) as conn:
            done = conn.execute(
                delete(blocks).where(blocks.c.blocker == blocker, blocks.c.blocked == blocked)
            ).rowcount
        return bool(done)

    def blocks(self, conn: Connection, blocker: str, blocked: str) -> bool:
        found = conn.execute(
            select(blocks.c.blocker).where(blocks.c.blocker == blocker, blocks.c.blocked == blocked)
        ).first()
        return found is not None

    def blocked_by(self, blocker: str) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(blocks.c.blocked)
                .where(blocks.c.blocker == blocker)
                .order_by(blocks.c.created_at)
            ).all()
        return [row.blocked for row in rows]

    def asked_by(self, recipient: str, sender: str) -> bool:
        """Whether ``sender`` ever asked ``recipient`` for anything (so may be blocked by
        them even when their profile is hidden)."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(introductions.c.id).where(
                    introductions.c.sender == sender, introductions.c.recipient == recipient
                )
            ).first()
        return found is not None

    # -- reports -------------------------------------------------------------------

    def report(self, account_id: str, reporter: str | None, node: str, reason: str) -> str:
        report_id = new_id()
        with transaction(self.engine) as conn:
            conn.execute(reports.insert(), {
                "id": report_id, "account_id": account_id, "reporter": reporter, "node": node,
                "reason": reason, "created_at": time.time(), "resolved_at": None,
            })  # fmt: skip
        return report_id

    def reports(self, *, limit: int = 200) -> list[dict[str, Any]]:
        """Reports, open ones first, newest first."""
        t = reports
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t).order_by(t.c.resolved_at.is_not(None), t.c.created_at.desc()).limit(limit)
            ).all()
        return [dict(row._mapping) for row in rows]

    def resolve(self, report_id: str) -> dict[str, Any] | None:
        with transaction(self.engine) as conn:
            conn.execute(
                update(reports)
                .where(reports.c.id == report_id, reports.c.resolved_at.is_(None))
                .values(resolved_at=time.time())
            )
            row = conn.execute(select(reports).where(reports.c.id == report_id)).first()
        return dict(row._mapping) if row is not None else None

    # -- join requests -------------------------------------------------------------

    def ask_to_join(
        self, conn: Connection, person: str, target: str, edge_kind: str, message: str
    ) -> Request:
        row = {"id": new_id(), "person": person, "target": target, "edge_kind": edge_kind,
               "message": message, "status": "waiting", "created_at": time.time(),
               "answered_at": None}  # fmt: skip
        conn.execute(join_requests.insert(), row)
        return join_request_of(_Row(row))

    def joins_between(self, conn: Connection, person: str, target: str) -> list[Request]:
        t = join_requests
        rows = conn.execute(select(t).where(t.c.person == person, t.c.target == target)).all()
        return [join_request_of(row) for row in rows]

    def join_request(self, request_id: str) -> Request | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(join_requests).where(join_requests.c.id == request_id)
            ).first()
        return join_request_of(row) if row is not None else None

    def joins_sent(self, person: str) -> list[Request]:
        t = join_requests
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t).where(t.c.person == person).order_by(t.c.created_at.desc())
            ).all()
        return [join_request_of(row) for row in rows]

    def joins_received(self, targets: list[str] | None, blocker: str | None) -> list[Request]:
        """Requests to join these targets (None: every target, for admins), leaving out
        those of people ``blocker`` blocked."""
        t = join_requests
        query = select(t).order_by(t.c.created_at.desc()).limit(500)
        if targets is not None:
            query = query.where(t.c.target.in_(targets))
        if blocker is not None:
            query = query.where(
                ~exists().where(blocks.c.blocker == blocker, blocks.c.blocked == t.c.person)
            )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [join_request_of(row) for row in rows]

    @staticmethod
    def answer_join(conn: Connection, request_id: str, status: str) -> bool:
        """Answer a waiting join request in ``conn``'s transaction; whether it was waiting."""
        done = conn.execute(
            update(join_requests)
            .where(join_requests.c.id == request_id, join_requests.c.status == "waiting")
            .values(status=status, answered_at=time.time())
        ).rowcount
        return bool(done)


class _Row:
    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def forget_social(conn: Connection, person_id: str) -> None:
    """The erasure step: every introduction, block, report and join request naming the
    erased person goes in the erasing transaction."""
    conn.execute(
        delete(introductions).where(
            or_(introductions.c.sender == person_id, introductions.c.recipient == person_id)
        )
    )
    conn.execute(
        delete(blocks).where(or_(blocks.c.blocker == person_id, blocks.c.blocked == person_id))
    )
    conn.execute(delete(reports).where(or_(reports.c.reporter == person_id,
                                           reports.c.node == person_id)))  # fmt: skip
    conn.execute(delete(join_requests).where(join_requests.c.person == person_id))
