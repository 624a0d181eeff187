"""Admins: invite people, grant roles, revoke tokens, appoint coordinators.

Every route here is for admins only (401 without a key, 403 for other roles), checked
before anything is looked up. Account changes live beside the graph and are not in its
audit log; appointing a coordinator writes the graph and is audited like any write.
"""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.accounts import email_problem, normalise_email
from api.admin import LastAdmin, admin_view, find_accounts, set_role
from api.auth import Caller, Role, audit
from api.deps import CallerDep, ServicesDep
from api.errors import Conflict, NotFound, Unprocessable
from api.mail import Mail
from api.permissions import require
from api.routes.nodes import missing
from api.schemas import PROBLEMS, Problem
from api.services import Services
from graph.edges import Edge
from graph.errors import EdgeNotFound
from graph.ids import ID_PATTERN, kind_of
from graph.model import Person

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=PROBLEMS)

AccountId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")]
KeyId = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")]
GrantedRole = Literal["member", "editor", "admin"]
COORDINATED = {"initiative": "works_on", "community": "member_of"}
"""The edge by which a person coordinates each kind of node."""
COORDINATOR = "coordinator"


class Invitation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=320, examples=["rosa@example.org"])
    role: GrantedRole = "member"
    name: str | None = Field(default=None, min_length=1, max_length=200)


class RoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: GrantedRole


class Appointment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person: str = Field(pattern=ID_PATTERN, max_length=160, examples=["person:rosa-diaz"])
    node: str = Field(pattern=ID_PATTERN, max_length=160, examples=["initiative:night-library"])


def _admin(caller: Caller, what: str) -> None:
    require(caller.role is Role.admin, caller, what)


def _invalid(field: str, reason: str) -> Unprocessable:
    return Unprocessable(f"{field}: {reason}", errors=[{"field": field, "reason": reason}])


# -- invitations ---------------------------------------------------------------------


@router.post("/invitations", status_code=202, summary="Invite someone by mail")
def invite(body: Invitation, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """Mails a link to join with the given role (valid two weeks). Answers 202 whether or
    not the address already has an account; such a person is told to sign in instead."""
    _admin(caller, "invite people")
    email = normalise_email(body.email)
    problem = email_problem(email)
    if problem:
        raise _invalid("body.email", problem)
    name = body.name.strip() if body.name else None
    services.jobs.submit(_invite_job, services, email, body.role, name)
    return JSONResponse({"status": "accepted", "detail": "the invitation is on its way"},
                        status_code=202)  # fmt: skip


def _invite_job(services: Services, email: str, role: str, name: str | None) -> None:
    try:
        base = services.settings.base_url
        if services.accounts.by_email(email) is not None:
            services.mailer.send(
                Mail(
                    email,
                    "You are invited to Cocreate",
                    f"Hello,\n\nYou were invited to Cocreate, and this address already has an "
                    f"account: sign in at {base}/signin.\n",
                )
            )
            return
        data = {"role": role, "name": name} if name else {"role": role}
        token = services.accounts.token("invite", email, data=data)
        greeting = f"Hello {name}" if name else "Hello"
        services.mailer.send(
            Mail(
                email,
                "You are invited to join Cocreate",
                f"{greeting},\n\nAn admin of Cocreate, a network of people who care, invites "
                f"you to join. To accept, open this link within two weeks and choose a "
                f"password:\n\n{base}/verify?token={token}&invite=1\n\n"
                "If you do not want to join, ignore this mail: nothing happens without you.\n",
            )
        )
    except Exception:  # a background job has nobody to answer to but the log
        log.exception("invitation job failed")


# -- accounts and their keys -----------------------------------------------------------


@router.get("/accounts", summary="Accounts, with their roles")
def list_accounts(
    services: ServicesDep,
    caller: CallerDep,
    q: Annotated[str | None, Query(max_length=100, description="Email prefix or name")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> JSONResponse:
    _admin(caller, "list accounts")
    page = find_accounts(services.store.engine, q=q or None, limit=limit, offset=offset)
    return JSONResponse({"items": [admin_view(a) for a in page.items], "total": page.total,
                         "limit": limit, "offset": offset})  # fmt: skip


def _no_account(account_id: str) -> NotFound:
    reason = f"no account '{account_id}'"
    return NotFound(reason, errors=[{"field": "path.account_id", "reason": reason}])


@router.patch(
    "/accounts/{account_id}",
    summary="Change an account's role",
    responses={409: {"model": Problem, "description": "The last admin cannot be demoted"}},
)
def change_role(
    account_id: AccountId, body: RoleChange, services: ServicesDep, caller: CallerDep
) -> JSONResponse:
    """Takes effect at once for every token and session of the account. The last admin
    cannot be demoted (409)."""
    _admin(caller, "change roles")
    try:
        changed = set_role(services.store.engine, account_id, Role[body.role])
    except LastAdmin:
        reason = "the network would have no admin left: make someone else admin first"
        raise Conflict(reason, errors=[{"field": "body.role", "reason": reason}]) from None
    if changed is None:
        raise _no_account(account_id)
    return JSONResponse(admin_view(changed))


@router.get("/accounts/{account_id}/tokens", summary="An account's tokens and sessions")
def account_tokens(account_id: AccountId, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    _admin(caller, "list tokens")
    if services.accounts.get(account_id) is None:
        raise _no_account(account_id)
    items = [
        {"id": key.id, "kind": key.kind, "label": key.label, "created_at": key.created_at,
         "expires_at": key.expires_at}
        for key in services.keys.list(account_id)
    ]  # fmt: skip
    return JSONResponse({"items": items})


@router.delete("/tokens/{key_id}", status_code=204, response_class=Response,
               summary="Revoke any token, session or key")  # fmt: skip
def revoke(key_id: KeyId, services: ServicesDep, caller: CallerDep) -> Response:
    _admin(caller, "revoke tokens")
    if not services.keys.revoke(key_id):
        reason = f"no live token '{key_id}'"
        raise NotFound(reason, errors=[{"field": "path.key_id", "reason": reason}])
    return Response(status_code=204)


# -- coordinators ----------------------------------------------------------------------


def _appointment(services: Services, body: Appointment) -> tuple[str, str]:
    """The edge kind and the checked ids of an appointment (422/404 naming the field)."""
    edge_kind = COORDINATED.get(kind_of(body.node))
    if edge_kind is None:
        raise _invalid("body.node", "must be an initiative or a community")
    if kind_of(body.person) != "person":
        raise _invalid("body.person", "must be a person")
    if not isinstance(services.store.find_node(body.person), Person):
        raise missing(body.person, "body.person")
    if services.store.find_node(body.node) is None:
        raise missing(body.node, "body.node")
    return edge_kind, body.node


@router.put("/coordinators", summary="Make someone a coordinator")
def appoint(body: Appointment, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """Sets role "coordinator" on the person's ``works_on`` edge to the initiative (or
    ``member_of`` edge to the community), creating the edge if there is none."""
    _admin(caller, "appoint coordinators")
    edge_kind, node_id = _appointment(services, body)
    try:
        current = services.store.get_edge(body.person, edge_kind, node_id)
        edge = current.model_copy(update={"role": COORDINATOR})
    except EdgeNotFound:
        edge = Edge(kind=edge_kind, source=body.person, target=node_id, role=COORDINATOR)
    services.write([edge], within=audit(caller, "coordinator.appoint", edge.ref))
    return JSONResponse({"person": body.person, "node": node_id, "edge": edge_kind,
                         "role": COORDINATOR})  # fmt: skip


@router.delete("/coordinators", status_code=204, response_class=Response,
               summary="Stop someone being a coordinator")  # fmt: skip
def dismiss(body: Appointment, services: ServicesDep, caller: CallerDep) -> Response:
    """Clears the coordinator role of the edge (the person stays linked); 404 if they are
    not a coordinator of that node."""
    _admin(caller, "dismiss coordinators")
    edge_kind, node_id = _appointment(services, body)
    current: Edge | None
    try:
        current = services.store.get_edge(body.person, edge_kind, node_id)
    except EdgeNotFound:
        current = None
    if current is None or current.role != COORDINATOR:
        reason = "is not a coordinator of this node"
        raise NotFound(f"{body.person} {reason}",
                       errors=[{"field": "body.person", "reason": reason}])  # fmt: skip
    edge = current.model_copy(update={"role": None})
    services.write([edge], within=audit(caller, "coordinator.dismiss", edge.ref))
    return Response(status_code=204)
