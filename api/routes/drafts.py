"""Drafts on the editor desk: kept out of the graph until an editor publishes them.

Editors and admins keep drafts together (every editor sees every unpublished draft);
members are told only editors can, anonymous callers to sign in. A draft is stored in
its own table (:mod:`api.drafts`), so until it is published it is in no listing, search,
recommendation, count or change log, and no visibility rule needs to know of it.
Publishing writes the ``wisdom_entry`` node and its ``in_sector`` and ``addresses``
edges, the audit row, and the draft's mark of publication in one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import Connection

from api.accounts import Account
from api.auth import Caller, Role, audit
from api.deps import CallerDep, ServicesDep
from api.drafts import Content, Draft, Drafts, authored, mark_published
from api.errors import Conflict, Forbidden, NotFound, Unauthorized, Unprocessable
from api.mydata import exporter
from api.routes.nodes import missing
from api.schemas import PROBLEMS, Problem
from api.services import Services
from graph.edges import Edge
from graph.ids import id_pattern, make_id
from graph.model import LongText, Node, ShortText, WisdomEntry
from graph.store import Deletion, Item, WriteResult, edge_ref
from graph.visibility import present

router = APIRouter(prefix="/v1/drafts", tags=["drafts"], responses=PROBLEMS)

ONLY_EDITORS = "only editors can keep drafts; ask an admin"
PUBLISHED: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "description": "The draft is published already"}
}
DraftId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", examples=["0123456789abcdef"])]
SectorId = Annotated[str, StringConstraints(pattern=id_pattern("sector"), max_length=160)]
GoalId = Annotated[str, StringConstraints(pattern=id_pattern("sdg"), max_length=160)]
EntryId = Annotated[str, StringConstraints(pattern=id_pattern("wisdom_entry"), max_length=160)]
TAGS = {"sectors": "in_sector", "goals": "addresses"}
"""The draft's lists and the edge each becomes on publication."""


class DraftBody(BaseModel):
    """A draft as the desk saves it: the entry's title and text, the sectors and goals
    chosen, and the entry it revises (if it was opened from one)."""

    model_config = ConfigDict(extra="forbid")

    title: ShortText = Field(examples=["Restorative circles in our schools"])
    body: LongText = Field(examples=["We began restorative circles in two schools."])
    sectors: Annotated[list[SectorId], Field(max_length=20)] | None = Field(
        default=None, description="Sector ids; left out: the revised entry's, or none"
    )
    goals: Annotated[list[GoalId], Field(max_length=17)] | None = Field(
        default=None, description="SDG ids; left out: the revised entry's, or none"
    )
    revises: EntryId | None = Field(default=None, description="The entry this draft revises")


def editor(caller: Caller) -> Caller:
    """The caller if they may keep drafts (editors and admins); 401 or 403 otherwise."""
    if caller.role is Role.anonymous:
        raise Unauthorized(
            "sign in as an editor to keep drafts",
            errors=[{"field": "header.authorization", "reason": "not signed in"}],
            headers={"WWW-Authenticate": "Bearer"},
        )
    if caller.role < Role.editor:
        raise Forbidden(
            ONLY_EDITORS, errors=[{"field": "header.authorization", "reason": ONLY_EDITORS}]
        )
    return caller


def draft_json(draft: Draft, caller: Caller) -> dict[str, Any]:
    """A draft as editors see it: never whose account started it, only whether it was
    the caller's."""
    return {
        "id": draft.id, "title": draft.title, "body": draft.body, "sectors": draft.sectors,
        "goals": draft.goals, "revises": draft.revises,
        "mine": draft.author_account_id is not None
        and draft.author_account_id == caller.account_id,
        "created_at": draft.created_at, "updated_at": draft.updated_at,
        "published_at": draft.published_at, "published_node": draft.published_node,
    }  # fmt: skip


def no_draft(draft_id: str) -> NotFound:
    detail = f"no draft with id '{draft_id}'"
    return NotFound(detail, errors=[{"field": "path.draft_id", "reason": detail}])


def _current_tags(services: Services, entry_id: str) -> dict[str, list[str]]:
    """The sectors and goals an entry is tagged with now (goals, not their targets)."""
    edges = services.store.edges_of(entry_id)
    return {
        "sectors": [e.target for e in edges if e.source == entry_id and e.kind == "in_sector"],
        "goals": [
            e.target
            for e in edges
            if e.source == entry_id and e.kind == "addresses" and e.target.startswith("sdg:")
        ],
    }


def content(services: Services, body: DraftBody) -> Content:
    """The draft's content, its tags checked against the graph (422 naming the first
    unknown one) and the revised entry found (404 as any missing node)."""
    lists = {"sectors": body.sectors, "goals": body.goals}
    if body.revises is not None:
        entry = services.store.find_node(body.revises)
        if not isinstance(entry, WisdomEntry):
            raise missing(body.revises, "body.revises")
        now = _current_tags(services, entry.id)
        lists = {name: now[name] if ids is None else ids for name, ids in lists.items()}
    chosen = {name: list(dict.fromkeys(ids or ())) for name, ids in lists.items()}
    known = services.store.get_nodes([i for ids in chosen.values() for i in ids])
    for name, ids in chosen.items():
        for position, node_id in enumerate(ids):
            if node_id not in known:
                reason = f"no {'sector' if name == 'sectors' else 'goal'} with id '{node_id}'"
                raise Unprocessable(
                    f"body.{name}.{position}: {reason}",
                    errors=[{"field": f"body.{name}.{position}", "reason": reason}],
                )
    return Content(body.title, body.body, chosen["sectors"], chosen["goals"], body.revises)


@router.get("", summary="Unpublished drafts (editors)")
def list_drafts(services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """Every unpublished draft, last saved first: editors work on them together."""
    editor(caller)
    items = [draft_json(d, caller) for d in Drafts(services.store.engine).unpublished()]
    return JSONResponse({"items": items})


@router.post("", status_code=201, summary="Start a draft (editors)")
def create(body: DraftBody, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """A new draft; with ``revises``, a draft of an existing entry (its sectors and goals
    taken from the entry unless given)."""
    editor(caller)
    draft = Drafts(services.store.engine).create(content(services, body), caller.account_id)
    return JSONResponse(draft_json(draft, caller), status_code=201)


@router.get("/{draft_id}", summary="Read a draft (editors)")
def read(draft_id: DraftId, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    editor(caller)
    draft = Drafts(services.store.engine).get(draft_id)
    if draft is None:
        raise no_draft(draft_id)
    return JSONResponse(draft_json(draft, caller))


def _published() -> Conflict:
    reason = "this draft is published already; open the entry to revise it"
    return Conflict(reason, errors=[{"field": "path.draft_id", "reason": reason}])


@router.put("/{draft_id}", summary="Save a draft (editors)", responses=PUBLISHED)
def save(
    draft_id: DraftId, body: DraftBody, services: ServicesDep, caller: CallerDep
) -> JSONResponse:
    """Replace the draft's content; 409 once it is published."""
    editor(caller)
    store = Drafts(services.store.engine)
    found = store.get(draft_id)
    if found is None:
        raise no_draft(draft_id)
    if found.published:
        raise _published()
    saved = store.update(draft_id, content(services, body))
    if saved is None:  # published (or deleted) meanwhile
        raise _published() if store.get(draft_id) is not None else no_draft(draft_id)
    return JSONResponse(draft_json(saved, caller))


@router.delete("/{draft_id}", status_code=204, response_class=Response, summary="Delete a draft")
def remove(draft_id: DraftId, services: ServicesDep, caller: CallerDep) -> Response:
    """Delete a draft (a published one's entry stays in the graph)."""
    editor(caller)
    if not Drafts(services.store.engine).delete(draft_id):
        raise no_draft(draft_id)
    return Response(status_code=204)


def _entry(services: Services, draft: Draft) -> tuple[WisdomEntry, list[Item]]:
    """The entry the draft becomes, and what to write with it: the tags chosen, less the
    revised entry's sector and goal tags no longer chosen (its target tags stay)."""
    if draft.revises is not None:
        old = services.store.find_node(draft.revises)
        if not isinstance(old, WisdomEntry):
            reason = "the entry this draft revises was deleted; start a new draft"
            raise Conflict(reason, errors=[{"field": "draft.revises", "reason": reason}])
        published = old.published or datetime.now(UTC).date()
        entry = WisdomEntry.model_validate(
            old.model_dump() | {"name": draft.title, "body": draft.body, "published": published}
        )
        now = _current_tags(services, old.id)
    else:
        entry = WisdomEntry(id=make_id("wisdom_entry", draft.title), name=draft.title,
                            body=draft.body, published=datetime.now(UTC).date())  # fmt: skip
        if services.store.find_node(entry.id) is not None:
            reason = "an entry with this title exists already: open it to revise it, or retitle"
            raise Conflict(reason, errors=[{"field": "draft.title", "reason": reason}])
        now = {"sectors": [], "goals": []}
    wanted = {"sectors": draft.sectors, "goals": draft.goals}
    items: list[Item] = [entry]
    for name, kind in TAGS.items():
        items += [Edge(kind=kind, source=entry.id, target=t)
                  for t in wanted[name] if t not in now[name]]  # fmt: skip
        items += [Deletion("edge", edge_ref(entry.id, kind, t))
                  for t in now[name] if t not in wanted[name]]  # fmt: skip
    return entry, items


@router.post(
    "/{draft_id}/publish",
    summary="Publish a draft as a Wisdom Book entry",
    responses={409: {"model": Problem, "description": "Published already, or the title is taken"}},
)
def publish(draft_id: DraftId, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """Write the entry (a new one, its id from the title, or the revised one) and its
    sector and goal tags, audited, and mark the draft published, in one transaction;
    409 if it was published already (also by a request meanwhile)."""
    editor(caller)
    store = Drafts(services.store.engine)
    draft = store.get(draft_id)
    if draft is None:
        raise no_draft(draft_id)
    if draft.published:
        raise _published()
    entry, items = _entry(services, draft)
    done: list[Draft] = []

    def within(conn: Connection, result: WriteResult) -> None:
        audit(caller, "draft.publish", entry.id)(conn, result)
        marked = mark_published(conn, draft_id, entry.id)
        if marked is None:
            raise _published()  # undoes the write
        done.append(marked)

    services.write(items, within=within)
    node: Node = entry
    return JSONResponse({"node": present(node, caller), "draft": draft_json(done[0], caller)})


@exporter
def export_drafts(conn: Connection, account: Account) -> tuple[str, Any]:
    """The drafts the account started, published or not (a person's own writing)."""
    items = [
        {"title": d.title, "body": d.body, "sectors": d.sectors, "goals": d.goals,
         "revises": d.revises, "created_at": d.created_at, "updated_at": d.updated_at,
         "published_at": d.published_at, "published_node": d.published_node}
        for d in authored(conn, account.id)
    ]  # fmt: skip
    return "drafts", items
