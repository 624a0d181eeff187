"""My profile: the signed-in person's own node, read and written through their account.

The first ``PATCH /v1/me`` creates the person node and links the account to it in the
same transaction; later ones change it. Sectors and goals are the person's
``interested_in`` edges, replaced as a whole when given. Fields that grant standing
(``board_member``) or state where a record came from (``fictional``, ``provenance``)
are not the person's to set.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, update

from api.accounts import Account, accounts
from api.auth import Caller, audit
from api.deps import CallerDep, ServicesDep
from api.errors import Conflict, Unprocessable
from api.routes.account import signed_in
from api.routes.nodes import merge_patch
from api.schemas import PROBLEMS
from api.services import Services
from graph.codec import node_record
from graph.edges import Edge
from graph.errors import InvalidRecord, Problem
from graph.geo import public_place
from graph.ids import kind_of, slugify
from graph.interchange import parse_record
from graph.model import LocationPrecision, Person, Place
from graph.store import Deletion, WriteResult, edge_ref
from graph.visibility import present

router = APIRouter(prefix="/v1/me", tags=["me"], responses=PROBLEMS)

NOT_MINE = ("id", "kind", "type", "board_member", "fictional", "provenance")
LINKS = {"sectors": "sector", "goals": "sdg"}
NEW_PROFILE = {"visibility": "members", "discoverable": True, "open_to_collaborate": True}
"""A new profile's choices unless the first write says otherwise: seen by members only."""

EXAMPLE = {
    "bio": "Teacher in Davis, runs reading circles for young people.",
    "interests": ["youth mentoring", "reading circles"],
    "offers": ["tutoring"],
    "needs": ["grant writing"],
    "sectors": ["sector:education"],
    "goals": ["sdg:4"],
    "place": {"name": "Davis", "country": "US", "lat": 38.54, "lon": -121.74},
    "location_precision": "city",
    "visibility": "members",
    "contact": {"email": "rosa@example.org"},
}


def as_owner(caller: Caller, account: Account) -> Caller:
    """The caller as the owner of the account's person (which may be new)."""
    return Caller(
        role=caller.role, person_id=account.person_id, key_id=caller.key_id,
        account_id=account.id,
    )  # fmt: skip


def _linked(services: Services, person_id: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {name: [] for name in LINKS}
    for edge in services.store.edges_of(person_id):
        if edge.source != person_id or edge.kind != "interested_in":
            continue
        for name, kind in LINKS.items():
            if kind_of(edge.target) == kind:
                found[name].append(edge.target)
    return {name: sorted(ids) for name, ids in found.items()}


def profile_body(services: Services, caller: Caller, account: Account) -> dict[str, Any]:
    """The account, the person as the owner sees it, and their place as others see it."""
    body: dict[str, Any] = {"account": account.public(), "person": None}
    person = services.store.find_node(account.person_id) if account.person_id else None
    if isinstance(person, Person):
        body["person"] = present(person, as_owner(caller, account))
        body.update(_linked(services, person.id))
        body["place_shown_to_others"] = _shown(person.place, person.location_precision)
    return body


def _shown(place: Place | None, precision: LocationPrecision) -> dict[str, Any] | None:
    if place is None:
        return None
    return public_place(place, precision).model_dump(mode="json", exclude_none=True)


@router.get("", summary="My profile")
def read_me(services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """The signed-in account and its person (null until the first ``PATCH``), with the
    sectors and goals they follow and their place as others see it."""
    account = signed_in(services, caller)
    return JSONResponse(profile_body(services, caller, account))


@router.patch("", summary="Create or change my profile")
def patch_me(
    changes: Annotated[dict[str, Any], Body(examples=[EXAMPLE])],
    services: ServicesDep,
    caller: CallerDep,
) -> JSONResponse:
    """A JSON merge patch of my person record, plus ``sectors`` and ``goals`` (lists of
    ids, replacing the ones I follow). The first one creates my profile, seen by members
    only unless it says otherwise. Nothing is written unless every field is valid."""
    account = signed_in(services, caller)
    changes = dict(changes)
    errors = [
        {"field": f"body.{name}", "reason": "cannot be set from your profile"}
        for name in NOT_MINE
        if name in changes
    ]
    links = {name: changes.pop(name) for name in LINKS if name in changes}
    targets = _link_targets(services, links, errors)
    if errors:
        raise Unprocessable("; ".join(f"{e['field']}: {e['reason']}" for e in errors),
                            errors=errors)  # fmt: skip
    current = services.store.find_node(account.person_id) if account.person_id else None
    if isinstance(current, Person):
        base = node_record(current)
    else:
        person_id = f"person:{slugify(account.name, max_length=60)}-{secrets.token_hex(3)}"
        base = {"type": "node", "kind": "person", "id": person_id, "name": account.name}
        base |= NEW_PROFILE
    record, problems = parse_record(None, merge_patch(base, changes))
    if not isinstance(record, Person):
        raise InvalidRecord([Problem(None, f"body.{p.field}" if p.field else "body", p.reason)
                             for p in problems])  # fmt: skip
    items: list[Any] = [record]
    for kind, wanted in targets.items():
        have = _linked(services, record.id)[_name(kind)] if current is not None else []
        items += [Edge(kind="interested_in", source=record.id, target=t)
                  for t in sorted(wanted - set(have))]  # fmt: skip
        items += [Deletion("edge", edge_ref(record.id, "interested_in", t))
                  for t in sorted(set(have) - wanted)]  # fmt: skip
    creating = current is None
    log_write = audit(caller, "me.create" if creating else "me.patch", record.id)

    def within(conn: Connection, result: WriteResult) -> None:
        if creating:
            _link_account(conn, account.id, record.id)
        log_write(conn, result)

    services.write(items, within=within)
    linked = services.accounts.get(account.id)
    assert linked is not None
    return JSONResponse(profile_body(services, caller, linked))


def _link_account(conn: Connection, account_id: str, person_id: str) -> None:
    done = conn.execute(
        update(accounts)
        .where(accounts.c.id == account_id, accounts.c.person_id.is_(None))
        .values(person_id=person_id)
    ).rowcount
    if not done:  # another request made the profile meanwhile: write nothing
        raise Conflict(
            "your profile was just created by another request; reload and try again",
            errors=[{"field": "body", "reason": "profile created meanwhile"}],
        )


def _name(kind: str) -> str:
    return next(name for name, linked in LINKS.items() if linked == kind)


def _link_targets(
    services: Services, links: dict[str, Any], errors: list[dict[str, str]]
) -> dict[str, set[str]]:
    """The sectors and goals named, by kind (only the kinds given); problems go to
    ``errors``."""
    targets: dict[str, set[str]] = {}
    for name, ids in links.items():
        kind = LINKS[name]
        targets[kind] = set()
        if not isinstance(ids, list) or len(ids) > 30:
            errors.append({"field": f"body.{name}", "reason": "must be a list of at most 30 ids"})
            continue
        for position, node_id in enumerate(ids):
            node = services.store.find_node(node_id) if isinstance(node_id, str) else None
            if node is None or node.kind != kind:
                what = "goal" if kind == "sdg" else kind
                errors.append({"field": f"body.{name}[{position}]",
                               "reason": f"no {what} with this id"})  # fmt: skip
            else:
                targets[kind].add(node_id)
    return targets


class PlacePreview(BaseModel):
    model_config = ConfigDict(extra="forbid")
    place: Place
    location_precision: LocationPrecision


@router.post("/place-preview", summary="What others would see of a place")
def place_preview(body: PlacePreview, caller: CallerDep) -> JSONResponse:
    """The place as others would see it at the chosen precision (nothing is stored)."""
    del caller  # asked only so that a bad key is refused
    return JSONResponse({"shown_to_others": _shown(body.place, body.location_precision)})
