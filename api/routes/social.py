"""Introductions with consent, blocks, reports and join requests (docs/api.md, "People act").

Asking and answering need an account with a profile: a request is between people. The
person asked for must be one the asker may find (a hidden one is answered as an id that
does not exist) and open to collaborate. What the asker later sees never tells whether
the other declined, stayed silent or blocked them (:meth:`api.social.Request.shown_status`).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import Connection

from api.accounts import Account
from api.auth import Caller, Role, audit
from api.deps import CallerDep, ServicesDep
from api.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unprocessable
from api.mail import Mail
from api.ratelimit import retry_after
from api.routes.account import signed_in
from api.routes.nodes import missing
from api.schemas import PROBLEMS
from api.services import Services
from api.social import Request
from graph.edges import Edge
from graph.errors import EdgeNotFound
from graph.ids import ID_PATTERN
from graph.model import Node, Person, PlainText
from graph.store import WriteResult, edge_ref, transaction
from graph.visibility import may_see_node

log = logging.getLogger(__name__)

router = APIRouter(tags=["people act"], responses=PROBLEMS)

DAY = 86_400.0
REPORTS_PER_DAY = 20
JOIN_EDGES = {"initiative": "works_on", "community": "member_of"}
"""What a join request for each kind of target becomes once accepted."""

RequestId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", max_length=16)]
PersonIdPath = Annotated[str, Path(pattern=ID_PATTERN, max_length=160)]
Message = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1_000), PlainText
]
"""A request's message or a report's reason: plain text (lines, nothing else invisible)."""


class IntroductionAsk(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(max_length=160, examples=["person:maria"])
    message: Message = Field(examples=["I run reading circles too; could we talk?"])


class BlockAsk(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person: str = Field(max_length=160)


class ReportAsk(BaseModel):
    model_config = ConfigDict(extra="forbid")
    node: str = Field(max_length=160)
    reason: Message


class JoinAsk(BaseModel):
    model_config = ConfigDict(extra="forbid")
    target: str = Field(max_length=160, examples=["initiative:night-library"])
    message: Message


def _invalid(field: str, reason: str) -> Unprocessable:
    return Unprocessable(f"{field}: {reason}", errors=[{"field": field, "reason": reason}])


def _conflict(field: str, reason: str, detail: str) -> Conflict:
    return Conflict(detail, errors=[{"field": field, "reason": reason}])


def with_profile(services: Services, caller: Caller) -> tuple[Account, str]:
    """The caller's account and person: 401 when not signed in, 403 without a profile."""
    account = signed_in(services, caller)
    if account.person_id is None or services.store.find_node(account.person_id) is None:
        reason = "write your profile first"
        raise Forbidden(reason, errors=[{"field": "body", "reason": reason}])
    return account, account.person_id


def _brief(node: Node | None, node_id: str) -> dict[str, Any]:
    """Who or what a request is with: id, name and kind only."""
    if node is None:
        return {"id": node_id, "name": "someone who left", "kind": node_id.partition(":")[0]}
    return {"id": node.id, "name": node.name, "kind": node.kind}


def _limit(services: Services, bucket: str, per_day: int, field: str, what: str) -> None:
    wait = services.accounts.spent({bucket: per_day}, DAY)
    if wait:
        raise TooManyRequests(
            f"you asked for {per_day} {what} today; try again tomorrow",
            errors=[{"field": field, "reason": f"too many {what} today"}],
            headers={"Retry-After": retry_after(wait)},
        )


def _link(services: Services, node: Node) -> str:
    base = services.settings.base_url
    slug = node.id.partition(":")[2]
    if node.kind == "person":
        return f"{base}/people/{slug}"
    if node.kind == "initiative":
        return f"{base}/initiatives/{slug}"
    return f"{base}/nodes/{node.id}"


def _mail(services: Services, person_id: str, subject: str, text: str) -> None:
    """Mail the account of a person, if they have one (nobody else learns whether)."""
    account = services.accounts.by_person(person_id)
    if account is not None:
        services.mailer.send(Mail(account.email, subject, text))


# -- introductions -----------------------------------------------------------------


def _intro_item(services: Services, request: Request, me: str) -> dict[str, Any]:
    sent = request.sender == me
    other = request.recipient if sent else request.sender
    return {
        "id": request.id,
        "direction": "sent" if sent else "received",
        "other": _brief(services.store.find_node(other), other),
        "message": request.message,
        "status": request.shown_status(to_sender=sent),
        "created_at": request.created_at,
        # when the sender is told nothing, they are not told when either
        "answered_at": request.answered_at if not sent or request.status == "accepted" else None,
    }


@router.post("/v1/introductions", status_code=201, summary="Ask to be introduced to someone")
def ask_introduction(
    body: IntroductionAsk, services: ServicesDep, caller: CallerDep
) -> JSONResponse:
    """Ask a person I may find, who is open to collaborate, to be introduced, with a short
    message. They see it in their inbox and by mail; nothing about either is shared
    unless they accept."""
    account, me = with_profile(services, caller)
    if body.to == me:
        raise _invalid("body.to", "you cannot ask to be introduced to yourself")
    target = services.store.find_node(body.to)
    if not isinstance(target, Person) or not may_see_node(caller, target, listing=True):
        raise missing(body.to, "body.to")
    if not target.open_to_collaborate:
        raise _invalid("body.to", "this person is not open to new contacts right now")
    bucket = f"introductions:{me}"
    _limit(services, bucket, services.settings.introductions_per_day, "body.to", "introductions")
    with transaction(services.store.engine) as conn:
        for earlier in services.social.between(conn, me, target.id):
            if earlier.status == "accepted":
                raise _conflict("body.to", "already introduced", "you were already introduced")
            if not earlier.expired():
                raise _conflict("body.to", "you already asked", "you already asked this person")
        request = services.social.ask(conn, me, target.id, body.message)
        silenced = services.social.blocks(conn, target.id, me)
    services.accounts.count(bucket)
    if not silenced:
        sender = services.store.find_node(me)
        name = sender.name if sender is not None else account.name
        _mail(services, target.id, f"{name} would like to be introduced to you",
              f"{name} asked to be introduced to you on Cocreate, with this message:\n\n"
              f"{body.message}\n\nAccept or decline in your inbox: "
              f"{services.settings.base_url}/inbox\n\n"
              "Nothing about you is shared unless you accept. You may also leave it "
              "unanswered; they will not be told.\n")  # fmt: skip
    return JSONResponse(_intro_item(services, request, me), status_code=201)


@router.get("/v1/introductions", summary="My introductions, received and sent")
def list_introductions(services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """Requests others made to me (but those of people I blocked) and those I made, newest
    first. A request I made shows ``waiting`` until it is accepted, whatever the other did,
    and ``no_answer`` after 30 days."""
    _, me = with_profile(services, caller)
    received, sent = services.social.introductions_of(me)
    return JSONResponse({
        "received": [_intro_item(services, r, me) for r in received],
        "sent": [_intro_item(services, r, me) for r in sent],
    })  # fmt: skip


def _received(services: Services, caller: Caller, intro_id: str) -> tuple[str, Request]:
    _, me = with_profile(services, caller)
    request = services.social.introduction(intro_id)
    hidden = request is None or request.recipient != me
    if request is None or hidden or _blocks(services, me, request.sender):
        detail = "no introduction with this id"
        raise NotFound(detail, errors=[{"field": "path.intro_id", "reason": detail}])
    if request.status != "waiting" or request.expired():
        reason = "already answered" if request.status != "waiting" else "too old to answer"
        raise Conflict(f"this request is {reason}",
                       errors=[{"field": "path.intro_id", "reason": reason}])  # fmt: skip
    return me, request


def _blocks(services: Services, blocker: str, blocked: str) -> bool:
    with services.store.engine.connect() as conn:
        return services.social.blocks(conn, blocker, blocked)


def _answered(services: Services, intro_id: str, status: str) -> Request:
    if not services.social.answer(intro_id, status):
        raise _conflict("path.intro_id", "already answered", "this request was already answered")
    answered = services.social.introduction(intro_id)
    assert answered is not None
    return answered


@router.post("/v1/introductions/{intro_id}/accept", summary="Accept an introduction")
def accept_introduction(
    intro_id: RequestId, services: ServicesDep, caller: CallerDep
) -> JSONResponse:
    """Accept a request made to me: from now on each of us sees the contact details the
    other chose to share (``share_contact``), and the one who asked is mailed."""
    me, request = _received(services, caller, intro_id)
    answered = _answered(services, intro_id, "accepted")
    mine = services.store.find_node(me)
    if mine is not None:
        _mail(services, request.sender, f"{mine.name} accepted your introduction",
              f"{mine.name} accepted to be introduced to you on Cocreate. You can now see "
              f"the contact details they chose to share on their page: {_link(services, mine)}"
              "\n")  # fmt: skip
    return JSONResponse(_intro_item(services, answered, me))


@router.post("/v1/introductions/{intro_id}/decline", summary="Decline an introduction")
def decline_introduction(
    intro_id: RequestId, services: ServicesDep, caller: CallerDep
) -> JSONResponse:
    """Decline a request made to me, silently: the one who asked keeps seeing it as
    waiting, and nothing about me is shared."""
    me, _ = _received(services, caller, intro_id)
    return JSONResponse(_intro_item(services, _answered(services, intro_id, "declined"), me))


# -- blocks ------------------------------------------------------------------------


@router.post("/v1/blocks", summary="Block someone")
def block(body: BlockAsk, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """Block a person: their requests to me are kept from me (they are not told), and no
    introduction between us shows contact details any more."""
    _, me = with_profile(services, caller)
    if body.person == me:
        raise _invalid("body.person", "you cannot block yourself")
    person = services.store.find_node(body.person)
    if not isinstance(person, Person) or not (
        may_see_node(caller, person, listing=False) or services.social.asked_by(me, person.id)
    ):
        raise missing(body.person, "body.person")
    created = services.social.block(me, person.id)
    return JSONResponse({"blocked": _brief(person, person.id)}, status_code=201 if created else 200)


@router.delete("/v1/blocks/{person_id}", status_code=204, summary="Unblock someone")
def unblock(person_id: PersonIdPath, services: ServicesDep, caller: CallerDep) -> Response:
    _, me = with_profile(services, caller)
    if not services.social.unblock(me, person_id):
        detail = "you have not blocked this person"
        raise NotFound(detail, errors=[{"field": "path.person_id", "reason": detail}])
    return Response(status_code=204)


@router.get("/v1/blocks", summary="The people I blocked")
def list_blocks(services: ServicesDep, caller: CallerDep) -> JSONResponse:
    _, me = with_profile(services, caller)
    found = [_brief(services.store.find_node(p), p) for p in services.social.blocked_by(me)]
    return JSONResponse({"items": found})


# -- reports -----------------------------------------------------------------------


@router.post("/v1/reports", status_code=201, summary="Report a profile or a record")
def report(body: ReportAsk, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """Tell the admins that something is wrong with a record I can see (any signed-in
    account may)."""
    account = signed_in(services, caller)
    node = services.store.find_node(body.node)
    if node is None or not may_see_node(caller, node, listing=False):
        raise missing(body.node, "body.node")
    bucket = f"reports:{account.id}"
    _limit(services, bucket, REPORTS_PER_DAY, "body.node", "reports")
    report_id = services.social.report(account.id, account.person_id, node.id, body.reason)
    services.accounts.count(bucket)
    return JSONResponse({"id": report_id, "status": "received"}, status_code=201)


def _admin(services: Services, caller: Caller) -> None:
    """401 for anonymous callers, 403 for all but admins."""
    if caller.role is Role.anonymous:
        signed_in(services, caller)
    if caller.role is not Role.admin:
        reason = "admins only"
        raise Forbidden(reason, errors=[{"field": "header.authorization", "reason": reason}])


def _report_item(services: Services, row: dict[str, Any]) -> dict[str, Any]:
    reporter = row["reporter"]
    return {
        "id": row["id"],
        "node": _brief(services.store.find_node(row["node"]), row["node"]),
        "reason": row["reason"],
        "reporter": _brief(services.store.find_node(reporter), reporter) if reporter else None,
        "created_at": row["created_at"],
        "resolved_at": row["resolved_at"],
    }


@router.get("/v1/admin/reports", summary="Reports (admins)")
def list_reports(services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """Every report, open ones first, newest first."""
    _admin(services, caller)
    return JSONResponse({"items": [_report_item(services, r) for r in services.social.reports()]})


@router.post("/v1/admin/reports/{report_id}/resolve", summary="Mark a report dealt with")
def resolve_report(report_id: RequestId, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    _admin(services, caller)
    row = services.social.resolve(report_id)
    if row is None:
        detail = "no report with this id"
        raise NotFound(detail, errors=[{"field": "path.report_id", "reason": detail}])
    return JSONResponse(_report_item(services, row))


# -- join requests -----------------------------------------------------------------


def coordinators(services: Services, target: Node) -> list[str]:
    """The people coordinating an initiative or community: a link to it whose ``role`` is
    "coordinator"."""
    kind = JOIN_EDGES.get(target.kind)
    return sorted(
        edge.source
        for edge in services.store.edges_of(target.id)
        if edge.target == target.id and edge.kind == kind
        and (edge.role or "").strip().lower() == "coordinator"
    )  # fmt: skip


def coordinated_by(services: Services, person_id: str) -> list[str]:
    """What a person coordinates (initiatives and communities)."""
    return sorted(
        edge.target
        for edge in services.store.edges_of(person_id)
        if edge.source == person_id and edge.kind in JOIN_EDGES.values()
        and (edge.role or "").strip().lower() == "coordinator"
    )  # fmt: skip


def _has_edge(services: Services, source: str, kind: str, target: str) -> bool:
    try:
        services.store.get_edge(source, kind, target)
    except EdgeNotFound:
        return False
    return True


def _join_item(services: Services, request: Request, *, sent: bool) -> dict[str, Any]:
    return {
        "id": request.id,
        "direction": "sent" if sent else "received",
        "person": _brief(services.store.find_node(request.sender), request.sender),
        "target": _brief(services.store.find_node(request.recipient), request.recipient),
        "message": request.message,
        "status": request.shown_status(to_sender=sent),
        "created_at": request.created_at,
        "answered_at": request.answered_at if not sent or request.status == "accepted" else None,
    }


@router.post("/v1/join-requests", status_code=201, summary="Ask to join an initiative or community")
def ask_to_join(body: JoinAsk, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """Ask the coordinators of an initiative (to work on it) or a community (to be a
    member), with a short message. Once one of them accepts, the link is made."""
    account, me = with_profile(services, caller)
    target = services.store.find_node(body.target)
    if target is None or not may_see_node(caller, target, listing=True):
        raise missing(body.target, "body.target")
    edge_kind = JOIN_EDGES.get(target.kind)
    if edge_kind is None:
        raise _invalid("body.target", "only initiatives and communities take join requests")
    if _has_edge(services, me, edge_kind, target.id):
        raise _conflict("body.target", "you already take part", "you already take part")
    answering = coordinators(services, target)
    if not answering:
        raise _invalid("body.target", "nobody coordinates this yet")
    bucket = f"joins:{me}"
    _limit(
        services, bucket, services.settings.introductions_per_day, "body.target", "join requests"
    )
    with transaction(services.store.engine) as conn:
        for earlier in services.social.joins_between(conn, me, target.id):
            if earlier.status == "waiting" and not earlier.expired():
                raise _conflict("body.target", "you already asked", "you already asked to join")
        request = services.social.ask_to_join(conn, me, target.id, edge_kind, body.message)
    services.accounts.count(bucket)
    person = services.store.find_node(me)
    name = person.name if person is not None else account.name
    for coordinator in answering:
        if not _blocks(services, coordinator, me):
            _mail(services, coordinator, f"{name} would like to join {target.name}",
                  f"{name} asked to join {target.name}, which you coordinate, with this "
                  f"message:\n\n{body.message}\n\nAccept or decline in your inbox: "
                  f"{services.settings.base_url}/inbox\n")  # fmt: skip
    return JSONResponse(_join_item(services, request, sent=True), status_code=201)


@router.get("/v1/join-requests", summary="Join requests I made, and those I may answer")
def list_join_requests(services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """``sent``: mine; ``received``: those for what I coordinate (every one, for admins)."""
    account = signed_in(services, caller)
    me = account.person_id
    sent = services.social.joins_sent(me) if me else []
    if caller.role is Role.admin:
        received = services.social.joins_received(None, me)
    else:
        targets = coordinated_by(services, me) if me else []
        received = services.social.joins_received(targets, me) if targets else []
    return JSONResponse({
        "sent": [_join_item(services, r, sent=True) for r in sent],
        "received": [_join_item(services, r, sent=False) for r in received],
    })  # fmt: skip


def _answerable(services: Services, caller: Caller, request_id: str) -> Request:
    account = signed_in(services, caller)
    request = services.social.join_request(request_id)
    me = account.person_id
    allowed = request is not None and (
        caller.role is Role.admin
        or (me is not None and request.recipient in coordinated_by(services, me)
            and not _blocks(services, me, request.sender))
    )  # fmt: skip
    if request is None or not allowed:
        detail = "no join request with this id"
        raise NotFound(detail, errors=[{"field": "path.request_id", "reason": detail}])
    if request.status != "waiting" or request.expired():
        raise _conflict(
            "path.request_id", "already answered", "this request was already answered or is too old"
        )
    return request


def _already_answered() -> Conflict:
    return _conflict("path.request_id", "already answered", "this request was already answered")


@router.post("/v1/join-requests/{request_id}/accept", summary="Accept a join request")
def accept_join(request_id: RequestId, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """Accept: the person now works on the initiative (or is a member of the community),
    written with the answer in one transaction, and they are mailed."""
    request = _answerable(services, caller, request_id)
    kind = request.edge_kind or JOIN_EDGES["initiative"]
    edge = Edge(kind=kind, source=request.sender, target=request.recipient)
    log_write = audit(caller, "join.accept", edge_ref(edge.source, kind, edge.target))

    def within(conn: Connection, result: WriteResult) -> None:
        if not services.social.answer_join(conn, request.id, "accepted"):
            raise _already_answered()
        log_write(conn, result)

    services.write([edge], within=within)
    target = services.store.find_node(request.recipient)
    if target is not None:
        link = _link(services, target)
        text = f"Your request to join {target.name} was accepted: {link}\n"
        _mail(services, request.sender, f"Welcome to {target.name}", text)
    answered = services.social.join_request(request.id)
    assert answered is not None
    return JSONResponse(_join_item(services, answered, sent=False))


@router.post("/v1/join-requests/{request_id}/decline", summary="Decline a join request")
def decline_join(request_id: RequestId, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """Decline, silently: the one who asked keeps seeing it as waiting."""
    request = _answerable(services, caller, request_id)
    with transaction(services.store.engine) as conn:
        if not services.social.answer_join(conn, request.id, "declined"):
            raise _already_answered()
    answered = services.social.join_request(request.id)
    assert answered is not None
    return JSONResponse(_join_item(services, answered, sent=False))
