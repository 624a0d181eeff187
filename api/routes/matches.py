"""My marks, my matches and my digest; and the digest's one-click unsubscribe.

Marks (follow, save, not interested) and matches belong to the signed-in person: an
account without a profile is told to write it first (403). A node the caller may not
find in listings is missing (404), exactly as one that does not exist. Unsubscribing
needs no sign-in: the link's token is the proof (:mod:`api.digest`); its GET only
answers a page with a button, so that mail scanners following links change nothing.
"""

from __future__ import annotations

import html
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import update

from api.accounts import Account, accounts
from api.auth import Caller
from api.deps import CallerDep, KeyCallerDep, ReadVersion, ServicesDep
from api.digest import parse_week, this_week, token_account
from api.digest_job import content
from api.errors import Forbidden, Unprocessable
from api.marks import MARKABLE, WHAT, Mark, Marks
from api.matches import community_matches, person_matches
from api.matching import matching_of
from api.routes.account import signed_in
from api.routes.nodes import findable_node, missing
from api.schemas import PROBLEMS
from api.services import Services
from graph.ids import ID_PATTERN
from graph.model import Node
from graph.store import transaction
from graph.visibility import may_see_node

router = APIRouter(prefix="/v1/me", tags=["me"], responses=PROBLEMS)
unsubscribe_router = APIRouter(prefix="/v1/account", tags=["account"], responses=PROBLEMS)

KindPath = Annotated[Literal["follow", "save", "hide"], Path(description="The mark")]
NodePath = Annotated[str, Path(pattern=ID_PATTERN, max_length=160, examples=["initiative:hub"])]
MODES = ("similar", "complementary", "bridging")


def _me(services: Services, caller: Caller) -> tuple[Account, str]:
    """The account and its person; 401 signed out, 403 without a profile yet."""
    account = signed_in(services, caller)
    if account.person_id is None or services.store.find_node(account.person_id) is None:
        reason = "write your profile first"
        raise Forbidden(reason, errors=[{"field": "header.authorization", "reason": reason}])
    return account, account.person_id


def _ref(node: Node) -> dict[str, str]:
    return {"id": node.id, "kind": node.kind, "name": node.name}


def _mark_body(mark: Mark, node: Node) -> dict[str, Any]:
    return {"kind": mark.kind, "node": _ref(node), "at": mark.at}


@router.put("/marks/{kind}/{node_id}", summary="Follow, save, or say not interested")
def put_mark(
    kind: KindPath, node_id: NodePath, services: ServicesDep, caller: CallerDep
) -> JSONResponse:
    """Mark a node I may find: 201 when new, 200 when it was marked already. ``hide``
    ("not interested") keeps it out of my recommendations."""
    _, person_id = _me(services, caller)
    node = findable_node(services, caller, node_id, field="path.node_id")
    if node.kind not in MARKABLE[kind]:
        reason = f"only {WHAT[kind]} can be marked so"
        raise Unprocessable(reason, errors=[{"field": "path.node_id", "reason": reason}])
    if node.id == person_id:
        reason = "that is you"
        raise Unprocessable(reason, errors=[{"field": "path.node_id", "reason": reason}])
    mark, new = Marks(services.store.engine).put(person_id, kind, node.id)
    return JSONResponse(_mark_body(mark, node), status_code=201 if new else 200)


@router.delete("/marks/{kind}/{node_id}", status_code=204, response_class=Response,
               summary="Take a mark back")  # fmt: skip
def delete_mark(
    kind: KindPath, node_id: NodePath, services: ServicesDep, caller: CallerDep
) -> Response:
    """Unfollow, unsave, or show again in my recommendations (204 whether or not it was
    marked; 404 for a node I may not find that I had not marked)."""
    _, person_id = _me(services, caller)
    if not Marks(services.store.engine).remove(person_id, kind, node_id):
        findable_node(services, caller, node_id, field="path.node_id")
    return Response(status_code=204)


@router.get("/marks", summary="What I follow, saved, or am not interested in")
def list_marks(
    services: ServicesDep,
    caller: CallerDep,
    kind: Annotated[Literal["follow", "save", "hide"] | None, Query()] = None,
) -> JSONResponse:
    """My marks, newest first; a node I may no longer find is left out."""
    _, person_id = _me(services, caller)
    found = Marks(services.store.engine).of(person_id, kind)
    nodes = services.store.get_nodes({m.node_id for m in found})
    items = [
        _mark_body(mark, nodes[mark.node_id])
        for mark in found
        if mark.node_id in nodes and may_see_node(caller, nodes[mark.node_id], listing=True)
    ]
    return JSONResponse({"items": items})


@router.get("/matches", summary="People, initiatives and communities for me",
            dependencies=[ReadVersion])  # fmt: skip
def my_matches(
    request: Request,
    services: ServicesDep,
    caller: CallerDep,
    kind: Annotated[Literal["person", "initiative", "community"], Query()] = "person",
    mode: Annotated[Literal["similar", "complementary", "bridging"], Query()] = "similar",
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    offset: Annotated[int, Query(ge=0, le=200)] = 0,
) -> JSONResponse:
    """Recommended to me, each with ``reasons``: plain sentences phrased to me ("You both
    care about Quality education"), and the recommender's explanation. What I said I am
    not interested in is never among them. Communities are ranked by how close their
    text is to mine, the goals we share and how near they are (``mode`` does not apply)."""
    _, person_id = _me(services, caller)
    if person_id not in services.view.graph:
        raise missing(person_id, "header.authorization")
    if kind == "community":
        items = community_matches(services, caller, person_id, limit=limit, offset=offset)
    else:
        matching = matching_of(services, request.app.state)
        items = person_matches(matching, caller, person_id, kind, mode=mode, limit=limit,
                               offset=offset)  # fmt: skip
    return JSONResponse(
        {"kind": kind, "mode": mode, "items": items, "limit": limit, "offset": offset}
    )


@router.get("/digest", summary="My weekly digest", dependencies=[ReadVersion])
def my_digest(
    request: Request,
    services: ServicesDep,
    caller: CallerDep,
    week: Annotated[str | None, Query(max_length=8, examples=["2026-W49"])] = None,
) -> JSONResponse:
    """What the digest of a week says (this week so far by default): people and
    initiatives added that week near me or in my sectors and goals, and my top matches.
    ``digest`` says whether it is mailed to me."""
    account, _ = _me(services, caller)
    try:
        chosen = parse_week(week) if week is not None else this_week()
    except ValueError as error:
        reason = str(error)
        raise Unprocessable(reason, errors=[{"field": "query.week", "reason": reason}]) from None
    matching = matching_of(services, request.app.state)
    return JSONResponse(content(services, matching, account, chosen))


TokenQuery = Annotated[str, Query(min_length=1, max_length=120)]

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Cocreate: weekly digest</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Weekly digest</h1>{body}</main></body></html>
"""


def _page(body: str) -> HTMLResponse:
    headers = {
        "Cache-Control": "no-store",
        "Content-Security-Policy": "default-src 'none'; form-action 'self'; base-uri 'none'",
        "Referrer-Policy": "no-referrer",
    }
    return HTMLResponse(PAGE.format(body=body), headers=headers)


@unsubscribe_router.get("/unsubscribe", response_class=HTMLResponse,
                        summary="The unsubscribe link: a page with a button")  # fmt: skip
def unsubscribe_page(services: ServicesDep, caller: KeyCallerDep, token: TokenQuery) -> Response:
    """A page with one button that stops the digest; following the link changes nothing
    (mail scanners follow links)."""
    del caller  # asked only so that a bad key is refused
    if token_account(services.store.engine, token) is None:
        return _page("<p>This link does not work any more. Sign in and change the "
                     'choice on <a href="/digest">your digest page</a>.</p>')  # fmt: skip
    action = f"/v1/account/unsubscribe?token={html.escape(token)}"
    return _page(
        "<p>Stop receiving the weekly digest?</p>"
        f'<form method="post" action="{action}"><button type="submit">Stop the digest</button>'
        "</form>"
    )


@unsubscribe_router.post("/unsubscribe", summary="Stop the digest (one click, no sign-in)")
def unsubscribe(
    request: Request, services: ServicesDep, caller: KeyCallerDep, token: TokenQuery
) -> Response:
    """Turn the digest off for the account of the link (RFC 8058 one-click). A browser's
    form gets a page back, a mail client JSON."""
    del caller
    account_id = token_account(services.store.engine, token)
    if account_id is None:
        reason = "this link does not work any more"
        raise Unprocessable(reason, errors=[{"field": "query.token", "reason": reason}])
    with transaction(services.store.engine) as conn:
        conn.execute(update(accounts).where(accounts.c.id == account_id).values(digest=False))
    if "text/html" in request.headers.get("accept", ""):
        return _page("<p>Done: you will not receive the weekly digest any more.</p>")
    return JSONResponse({"digest": False})
