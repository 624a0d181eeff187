"""My data: download everything about me, and delete my account.

The export is the account, the person's full record (contact details included: they
are the owner's own), every edge of the person whose other end they may see, and the
sections registered in :data:`api.mydata.EXPORTERS`. Deleting the account erases the
person through the same path as ``DELETE /v1/nodes/{id}`` (every table's erasure step
runs in the erasing transaction); without a profile, the account alone is deleted.
"""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from api.accounts import Account, normalise_email
from api.auth import Caller, audit
from api.deps import SESSION_COOKIE, CallerDep, ServicesDep
from api.errors import Unprocessable
from api.mydata import sections
from api.routes.account import signed_in
from api.routes.me import as_owner
from api.schemas import PROBLEMS
from api.services import Services
from graph.codec import edge_record, node_record
from graph.model import Person
from graph.store import Deletion, transaction
from graph.visibility import may_see_node

router = APIRouter(prefix="/v1/me", tags=["me"], responses=PROBLEMS)

CONFIRM_REASON = "type your email address to confirm"


class Farewell(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirm: str = Field(max_length=320, description="The account's email address")


def _edges(services: Services, owner: Caller, person_id: str) -> list[dict[str, Any]]:
    """The person's edges, but those whose other end the owner may not find (a private
    person who claims to know them is not theirs to learn about)."""
    edges = services.store.edges_of(person_id)
    others = services.store.get_nodes(e.target if e.source == person_id else e.source
                                      for e in edges)  # fmt: skip
    found = []
    for edge in edges:
        other = others.get(edge.target if edge.source == person_id else edge.source)
        if other is not None and may_see_node(owner, other, listing=True):
            found.append(edge_record(edge))
    return found


def export_body(services: Services, caller: Caller, account: Account) -> dict[str, Any]:
    """The whole export of ``account`` (see the module's docstring)."""
    owner = as_owner(caller, account)
    person = services.store.find_node(account.person_id) if account.person_id else None
    body: dict[str, Any] = {
        "exported_at": time.time(),
        "account": account.public(),
        "person": node_record(person) if isinstance(person, Person) else None,
        "edges": _edges(services, owner, person.id) if isinstance(person, Person) else [],
    }
    with services.store.engine.connect() as conn:
        body.update(sections(conn, account))
    return body


@router.get("/export", summary="Download everything about me (JSON)")
def export(services: ServicesDep, caller: CallerDep) -> Response:
    """A JSON file: my account, my person's full record, my edges, my tokens and sessions
    (never their secrets), the audit entries of my writes, and what other parts hold."""
    account = signed_in(services, caller)
    text = json.dumps(export_body(services, caller, account), indent=2, ensure_ascii=False)
    return Response(
        text,
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="cocreate-me.json"',
            "Cache-Control": "no-store",
        },
    )


@router.delete("", status_code=204, response_class=Response, summary="Delete my account")
def delete_me(body: Farewell, services: ServicesDep, caller: CallerDep) -> Response:
    """Erase my person everywhere (with my account), or delete my account alone if I have
    no profile. The body must repeat my email address, so that no stray click can do it.
    Signs out."""
    account = signed_in(services, caller)
    if normalise_email(body.confirm) != account.email:
        raise Unprocessable(
            f"body.confirm: {CONFIRM_REASON}",
            errors=[{"field": "body.confirm", "reason": CONFIRM_REASON}],
        )
    person = services.store.find_node(account.person_id) if account.person_id else None
    if isinstance(person, Person):
        # forget_account (an erasure step) deletes the account in the same transaction.
        done = services.write([Deletion("node", person.id)],
                              within=audit(caller, "me.delete", person.id))  # fmt: skip
        if done.erased:
            services.after_erasure(done)
    else:
        with transaction(services.store.engine) as conn:
            services.accounts.delete(conn, account.id)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True,
                           samesite="strict")  # fmt: skip
    return response
