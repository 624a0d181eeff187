"""Recommendations: collaborators for a person, initiatives to join, people to help; explained."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.auth import Caller
from api.deps import CallerDep, ReadVersion, ServicesDep
from api.errors import Unprocessable
from api.matching import MatchingService, NoPublicPlace, Scope, matching_of
from api.routes.nodes import findable_node, missing
from api.routes.placenames import NearQuery, near_place
from api.schemas import PROBLEMS
from api.services import Services
from graph.ids import ID_PATTERN
from graph.model import Node
from graph.places import Found

router = APIRouter(prefix="/v1", tags=["matching"], responses=PROBLEMS, dependencies=[ReadVersion])

_SLUG = ID_PATTERN.partition("):")[2]
PersonPath = Annotated[
    str, Path(pattern=f"^person:{_SLUG}", max_length=160, examples=["person:maria-lopez"])
]
InitiativePath = Annotated[
    str,
    Path(pattern=f"^initiative:{_SLUG}", max_length=160, examples=["initiative:safe-streets"]),
]
ModeQuery = Annotated[
    Literal["similar", "complementary", "bridging"],
    Query(description="similar: alike and close in the graph; complementary: offers meet "
          "needs; bridging: relevant people in other sectors and other parts of the network"),
]  # fmt: skip
ScopeQuery = Annotated[
    Literal["global", "local"],
    Query(description="local: only within radius_km of the public (coarsened) place"),
]
RadiusQuery = Annotated[
    float | None, Query(gt=0, le=20_000, description="With scope=local (default 100 km)")
]
RelationQuery = Annotated[
    Literal["new", "existing"],
    Query(description="new: people the person does not work with yet (never anyone they "
          "know or share an initiative, council or small organisation with); existing: "
          "only those they do"),
]  # fmt: skip
LimitQuery = Annotated[int, Query(ge=1, le=50)]
OffsetQuery = Annotated[int, Query(ge=0, le=200)]
DEFAULT_RADIUS_KM = 100.0


class SdgRef(BaseModel):
    id: str
    number: int | None
    name: str


class SectorRef(BaseModel):
    id: str
    name: str


class PathNode(BaseModel):
    id: str
    kind: str
    name: str


class PathEdge(BaseModel):
    edge: str
    direction: Literal["out", "in"]


class Phrases(BaseModel):
    yours: list[str] = Field(description="Phrases of the person asked about (or initiative)")
    theirs: list[str] = Field(description="Phrases of the recommended node")


class OfferNeed(BaseModel):
    offer: str
    need: str
    direction: Literal["theirs_meets_yours", "yours_meets_theirs"]


class Bridges(BaseModel):
    yours: list[SectorRef] = Field(description="The sectors of the person asked about")
    theirs: list[SectorRef] = Field(description="Sectors they bring that you have not")


class MatchExplanation(BaseModel):
    """Why this was recommended, in a sentence and in parts."""

    summary: str = Field(description="One plain sentence")
    components: dict[str, float] = Field(description="The parts of the score; they add up to it")
    shared_sectors: list[SectorRef]
    shared_sdgs: list[SdgRef]
    path: list[PathNode | PathEdge] = Field(
        description="A short path in the graph: nodes interleaved with edge steps"
    )
    phrases: Phrases
    offer_need: list[OfferNeed]
    bridges: Bridges
    distance_band: str | None = Field(
        default=None, description="From coarsened places; absent when either is unknown"
    )
    distance: str | None = Field(
        default=None,
        description='Local or near a place named: how far in words ("about 50 km away", '
        '"in the same region"), from public places, no finer than the person\'s precision',
    )


class Match(BaseModel):
    node: Node
    score: float
    explanation: MatchExplanation


class CollaboratorsPage(BaseModel):
    person: str
    mode: str
    relation: str
    scope: str
    radius_km: float | None = None
    near: dict[str, object] | None = Field(default=None, description="The place named, if any")
    items: list[Match]
    limit: int
    offset: int


class InitiativesPage(BaseModel):
    person: str
    scope: str
    radius_km: float | None = None
    near: dict[str, object] | None = Field(default=None, description="The place named, if any")
    items: list[Match]
    limit: int
    offset: int


class PeoplePage(BaseModel):
    initiative: str
    mode: str
    scope: str
    radius_km: float | None = None
    near: dict[str, object] | None = Field(default=None, description="The place named, if any")
    items: list[Match]
    limit: int
    offset: int


def _service(request: Request, services: Services) -> MatchingService:
    return matching_of(services, request.app.state)


def _check_scope(scope: Scope, radius_km: float | None) -> float:
    if radius_km is not None and scope != "local":
        reason = "radius_km needs scope=local"
        raise Unprocessable(reason, errors=[{"field": "query.radius_km", "reason": reason}])
    return DEFAULT_RADIUS_KM if radius_km is None else radius_km


def _seed(services: Services, caller: Caller, node_id: str, field: str) -> None:
    """404 unless the caller may find the node in listings and the graph view holds it.

    Recommendations from a person show their surroundings (the path that links them,
    their phrases), so the seed is the caller themselves or someone they may find: a
    person who is not discoverable is missing here to others, though their record is not.
    """
    findable_node(services, caller, node_id, field=field)
    if node_id not in services.view.graph:
        raise missing(node_id, field)


def _no_place(node_id: str) -> Unprocessable:
    reason = f"scope=local needs a public place for '{node_id}', which has none"
    return Unprocessable(reason, errors=[{"field": "query.scope", "reason": reason}])


def _where(
    near: str | None, scope: ScopeQuery, radius_km: float | None
) -> tuple[Found | None, Scope, float]:
    """(place named, scope, radius): a place named with ``near`` makes the scope local
    around it; a whole country takes no radius."""
    origin = near_place(near)
    if origin is not None:
        scope = "local"
    if origin is not None and origin.kind == "country" and radius_km is not None:
        reason = "radius_km needs a town, not a whole country"
        raise Unprocessable(reason, errors=[{"field": "query.radius_km", "reason": reason}])
    return origin, scope, _check_scope(scope, radius_km)


def _local(origin: Found | None, radius: float) -> dict[str, object]:
    """What a local page says of where it looked: the radius (none for a country) and
    the place named, if any."""
    body: dict[str, object] = {
        "radius_km": None if origin is not None and origin.kind == "country" else radius
    }
    if origin is not None:
        body["near"] = origin.as_json()
    return body


def _people_for(
    request: Request,
    services: Services,
    caller: Caller,
    seed: tuple[str, str],
    mode: ModeQuery,
    scope: ScopeQuery,
    radius_km: float | None,
    limit: int,
    offset: int,
    relation: Literal["new", "existing"] | None = None,
    near: str | None = None,
) -> JSONResponse:
    """People recommended for a person or an initiative (``seed``: its key and id).
    A place named with ``near`` makes the scope local around it."""
    key, seed_id = seed
    origin, scope, radius = _where(near, scope, radius_km)
    _seed(services, caller, seed_id, f"path.{key}_id")
    try:
        items = _service(request, services).recommend(
            caller, seed_id, "person", mode=mode, scope=scope, radius_km=radius,
            limit=limit, offset=offset, relation=relation or "new", origin=origin,
        )  # fmt: skip
    except NoPublicPlace as exc:
        raise _no_place(exc.node_id) from None
    body: dict[str, object] = {key: seed_id, "mode": mode}
    if relation is not None:
        body["relation"] = relation
    body |= {"scope": scope, "items": items, "limit": limit, "offset": offset}
    if scope == "local":
        body |= _local(origin, radius)
    return JSONResponse(body)


@router.get(
    "/people/{person_id}/collaborators", response_model=CollaboratorsPage,
    summary="Collaborators for a person",
)  # fmt: skip
def collaborators(
    person_id: PersonPath,
    request: Request,
    services: ServicesDep,
    caller: CallerDep,
    mode: ModeQuery = "similar",
    scope: ScopeQuery = "global",
    radius_km: RadiusQuery = None,
    limit: LimitQuery = 10,
    offset: OffsetQuery = 0,
    relation: RelationQuery = "new",
    near: NearQuery = None,
) -> JSONResponse:
    """People to work with, each explained: shared goals and sectors, the path that links
    you, matching phrases, offers that meet needs, the sectors they bridge, the distance
    band. People already known or worked with (same initiative, council or small
    organisation) are left out unless ``relation=existing`` lists only them; only
    discoverable people open to collaborate are recommended."""
    return _people_for(
        request, services, caller, ("person", person_id), mode, scope, radius_km, limit, offset,
        relation, near,
    )  # fmt: skip


@router.get(
    "/people/{person_id}/initiatives", response_model=InitiativesPage,
    summary="Initiatives a person could join",
)  # fmt: skip
def initiatives(
    person_id: PersonPath,
    request: Request,
    services: ServicesDep,
    caller: CallerDep,
    limit: LimitQuery = 10,
    offset: OffsetQuery = 0,
    scope: ScopeQuery = "global",
    radius_km: RadiusQuery = None,
    near: NearQuery = None,
) -> JSONResponse:
    """Active initiatives to join, each explained; the person's own are left out. Local
    ones (around the person's public place, or near a town or country named) say how far
    they are in words, so that a volunteer can pick work they can reach."""
    origin, scope, radius = _where(near, scope, radius_km)
    _seed(services, caller, person_id, "path.person_id")
    try:
        items = _service(request, services).recommend(
            caller, person_id, "initiative", scope=scope, radius_km=radius,
            limit=limit, offset=offset, origin=origin,
        )  # fmt: skip
    except NoPublicPlace as exc:
        raise _no_place(exc.node_id) from None
    body: dict[str, object] = {"person": person_id, "scope": scope, "items": items}
    body |= {"limit": limit, "offset": offset}
    if scope == "local":
        body |= _local(origin, radius)
    return JSONResponse(body)


@router.get(
    "/initiatives/{initiative_id}/people", response_model=PeoplePage,
    summary="People who could join or help an initiative",
)  # fmt: skip
def people(
    initiative_id: InitiativePath,
    request: Request,
    services: ServicesDep,
    caller: CallerDep,
    mode: ModeQuery = "similar",
    scope: ScopeQuery = "global",
    radius_km: RadiusQuery = None,
    limit: LimitQuery = 10,
    offset: OffsetQuery = 0,
    near: NearQuery = None,
) -> JSONResponse:
    """People whose offers meet the initiative's needs, who care about its goals, or who
    are close to the people on it; each explained. Its own people are left out."""
    return _people_for(
        request, services, caller, ("initiative", initiative_id), mode, scope, radius_km,
        limit, offset, None, near,
    )  # fmt: skip
