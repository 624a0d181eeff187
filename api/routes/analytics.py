"""For councils: sector overlap, synergies, bridges, groups, gaps and the council assistant.

Reads are public and show what the caller's audience may list (see :mod:`api.analytics`);
proposing a council needs a member key. How every figure is computed: docs/councils.md.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.analytics import (
    analytics,
    bridges_payload,
    gaps_payload,
    groups_payload,
    overlap_payload,
    proposal_payload,
    synergies_payload,
)
from api.auth import Role
from api.current_council import current_council_payload
from api.deps import CallerDep, ReadVersion, ServicesDep
from api.errors import Unprocessable
from api.permissions import require
from api.schemas import PROBLEMS
from api.services import Services
from graph.analytics.councils import DEFAULT_SIZE, MAX_SIZE, MIN_SIZE
from graph.analytics.synergies import MAX_PAIRS
from graph.ids import ID_PATTERN

router = APIRouter(prefix="/v1", tags=["councils"], responses=PROBLEMS, dependencies=[ReadVersion])

_SLUG = r"[a-z0-9](?:[a-z0-9._-]{0,118}[a-z0-9])?"  # as graph.ids.ID_PATTERN
SECTOR_ID = rf"^sector:{_SLUG}$"
SectorPath = Annotated[str, Path(pattern=SECTOR_ID, max_length=160, examples=["sector:education"])]


# -- response schemas (documentation; the routes build plain JSON) ---------------------


class Ref(BaseModel):
    id: str
    name: str


class Sdg(BaseModel):
    id: str
    number: int
    name: str


class Explanation(BaseModel):
    """Why: one sentence a person can read, and the figures behind it."""

    model_config = ConfigDict(extra="allow")
    summary: str = Field(description="One sentence a person can read")


class ScoredExplanation(Explanation):
    components: dict[str, float | None] = Field(description="The parts the score is made of")


class Summary(BaseModel):
    summary: str


class AsOf(BaseModel):
    """Which version of the network a figure is from (see docs/api.md, "Analytics versions")."""

    seq: int = Field(description="The change-log sequence number of the figure's version")
    current: bool = Field(
        description="Whether that is the version this worker reads now, complete; false "
        "while the figure of the current version is computed in the background (also when "
        "the figure is of the current version but was computed before the last text "
        "vectors of a new index came in)"
    )


AS_OF_HEADER = "X-Cocreate-As-Of"
"""The figure's version as a header: ``<seq>``, with ``; stale`` when not current."""


def _answer(payload: dict[str, Any]) -> JSONResponse:
    found = payload["as_of"]
    header = str(found["seq"]) + ("" if found["current"] else "; stale")
    return JSONResponse(payload, headers={AS_OF_HEADER: header})


class Range(BaseModel):
    min: float
    max: float


class CellExplanation(ScoredExplanation):
    shared_sdgs: list[Sdg]
    shared_people: int
    people: dict[str, int] = Field(description="People counted in each of the two sectors")
    content_similarity: float


class OverlapCell(BaseModel):
    a: Ref
    b: Ref
    score: float
    explanation: CellExplanation


class Overlap(BaseModel):
    """Every pair of sectors: combined score and its three components (12 x 12 each)."""

    sectors: list[Ref]
    matrix: list[list[float]] = Field(description="Combined score, 1 on the diagonal")
    components: dict[str, list[list[float]]] = Field(
        description="sdgs (cosine of goal profiles), people (Ochiai of shared people), "
        "content (cosine of centred content centroids), raw values"
    )
    weights: dict[str, float]
    ranges: dict[str, Range] = Field(
        description="Weakest and strongest pair of each component: the rescaling to [0, 1]"
    )
    shared_sdgs: list[list[list[int]]] = Field(description="Up to 3 goal numbers per cell")
    shared_people: list[list[int]]
    people: list[int] = Field(description="People counted per sector")
    audience: Literal["public", "members"]
    explanation: Summary
    as_of: AsOf
    detail: OverlapCell | None = None


class Pair(BaseModel):
    a: dict[str, Any] = Field(description="A node of the sector (as GET /v1/nodes/{id})")
    b: dict[str, Any] = Field(description="A node of another sector")
    score: float
    explanation: ScoredExplanation


class Synergies(BaseModel):
    sector: Ref
    with_: Ref | Literal["all"] = Field(alias="with")
    kind: str
    items: list[Pair]
    total: int = Field(description="Pairs ranked (pages are cut from them)")
    limit: int
    offset: int
    explanation: Summary
    as_of: AsOf


class Recommended(BaseModel):
    node: dict[str, Any]
    score: float
    explanation: ScoredExplanation


class Bridges(BaseModel):
    sector: Ref
    kind: str
    items: list[Recommended] = Field(description="Bridges, strongest first")
    single_points_of_failure: list[Recommended]
    linked_sectors: list[Ref]
    unlinked_sectors: list[Ref]
    network_size: int
    explanation: Summary
    as_of: AsOf


class GroupOut(BaseModel):
    id: str
    label: str
    size: int
    kinds: dict[str, int]
    members: list[dict[str, Any]] = Field(description="Most connected first")
    explanation: Explanation


class Groups(BaseModel):
    sector: Ref
    items: list[GroupOut]
    groups: int = Field(description="Groups found (items lists the largest)")
    analysed: int
    total: int
    ungrouped: int
    explanation: Summary
    as_of: AsOf


class Cell(BaseModel):
    count: int
    people: int
    content: int
    expected: float
    gap: bool


class Gap(BaseModel):
    sdg: Sdg
    region: str
    count: int
    people: int
    content: int
    expected: float
    explanation: ScoredExplanation


class Gaps(BaseModel):
    sector: Ref
    regions: list[str]
    sdgs: list[Sdg]
    cells: list[list[Cell]] = Field(description="One row per goal, one cell per region")
    key_sdgs: list[Sdg]
    network_share: dict[str, float]
    unplaced: int = Field(description="Units of activity without a region")
    gaps: list[Gap] = Field(description="Largest shortfall first")
    explanation: Summary
    as_of: AsOf


class CouncilMember(BaseModel):
    node: dict[str, Any] = Field(description="The person (as GET /v1/nodes/{id}, no contact)")
    board_member: bool
    since: str | None = Field(description="When their seat began (ISO date)")
    region: str | None = Field(description="Their world region")
    sectors: list[Ref] = Field(description="The sectors they care about, this one first")


class CouncilRef(BaseModel):
    id: str
    name: str
    description: str


class CurrentCouncil(BaseModel):
    """Who sits on the sector's global council today, as the caller may find them."""

    sector: Ref
    council: CouncilRef | None
    members: list[CouncilMember] = Field(description="The board member first, then by name")
    board_member: Ref | None
    explanation: Summary


class CouncilRequest(BaseModel):
    """The sector, how many seats (5-8) and anyone not to propose."""

    model_config = ConfigDict(extra="forbid")

    sector: Annotated[str, Field(pattern=SECTOR_ID, max_length=160, examples=["sector:health"])]
    size: Annotated[int, Field(ge=MIN_SIZE, le=MAX_SIZE, strict=True)] = DEFAULT_SIZE
    exclude: Annotated[
        list[Annotated[str, Field(pattern=ID_PATTERN, max_length=160)]], Field(max_length=200)
    ] = []


class GroupRef(BaseModel):
    id: str
    label: str


class Coverage(BaseModel):
    regions: list[str]
    sdgs: list[Sdg]
    groups: list[GroupRef]
    board_member: bool


class Uncovered(BaseModel):
    regions: list[str]
    sdgs: list[Sdg]
    groups: list[GroupRef]


class Council(BaseModel):
    sector: Ref
    members: list[Recommended]
    coverage: Coverage
    uncovered: Uncovered
    candidates: int = Field(
        description="People of the sector considered (the audience, minus exclusions), "
        "before their consent to collaborate is checked"
    )
    explanation: Summary
    as_of: AsOf


# -- routes ----------------------------------------------------------------------------


def _sector(services: Services, sector: str, field: str) -> str:
    """The sector id, or a 422 naming ``field`` when it names no sector."""
    graph = services.view.graph
    if sector not in graph or graph.nodes[sector]["kind"] != "sector":
        reason = f"no sector with id '{sector}'"
        raise Unprocessable(reason, errors=[{"field": field, "reason": reason}])
    return sector


@router.get("/sectors/overlap", response_model=Overlap, summary="Overlap of the 12 sectors")
def overlap(
    services: ServicesDep,
    caller: CallerDep,
    detail: Annotated[
        str | None,
        Query(
            pattern=rf"^sector:{_SLUG},sector:{_SLUG}$",
            max_length=330,
            description="Two sector ids, comma-separated: the reasons behind that cell",
            examples=["sector:education,sector:peace"],
        ),
    ] = None,
) -> JSONResponse:
    """A 12 x 12 matrix of how much sectors overlap (shared goals, shared people, content
    similarity, each reported), with the top shared goals of every cell."""
    pair = None
    if detail is not None:
        a, _, b = detail.partition(",")
        pair = (_sector(services, a, "query.detail"), _sector(services, b, "query.detail"))
    return _answer(overlap_payload(services, caller, pair))


@router.get(
    "/sectors/{sector_id}/synergies", response_model=Synergies, summary="Cross-sector synergies"
)
def synergies(
    sector_id: SectorPath,
    services: ServicesDep,
    caller: CallerDep,
    with_: Annotated[
        str,
        Query(
            alias="with",
            pattern=rf"^(all|sector:{_SLUG})$",
            max_length=160,
            description="Another sector's id, or `all`",
        ),
    ] = "all",
    kind: Literal["initiative", "person", "wisdom_entry"] = "initiative",
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    offset: Annotated[int, Query(ge=0, le=MAX_PAIRS)] = 0,
) -> JSONResponse:
    """Pairs from this sector and another that share a goal or a community and whose texts
    are close, best first, each with its reasons."""
    analytics(services).require_sector(sector_id)
    other = None if with_ == "all" else _sector(services, with_, "query.with")
    if other == sector_id:
        reason = "must differ from the sector in the path"
        raise Unprocessable(reason, errors=[{"field": "query.with", "reason": reason}])
    payload = synergies_payload(
        services, caller, sector_id, other=other, kind=kind, limit=limit, offset=offset
    )
    return _answer(payload)


@router.get(
    "/sectors/{sector_id}/bridges", response_model=Bridges, summary="Bridges to other sectors"
)
def bridges(
    sector_id: SectorPath,
    services: ServicesDep,
    caller: CallerDep,
    kind: Literal["person", "initiative", "council"] = "person",
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> JSONResponse:
    """Who links this sector with the others (betweenness from the other sectors), and the
    single points of failure: whose removal would cut a sector off from this one's core."""
    analytics(services).require_sector(sector_id)
    return _answer(bridges_payload(services, caller, sector_id, kind=kind, limit=limit))


@router.get("/sectors/{sector_id}/groups", response_model=Groups, summary="Sub-sector groups")
def groups(
    sector_id: SectorPath,
    services: ServicesDep,
    caller: CallerDep,
    members: Annotated[int, Query(ge=0, le=50, description="Members listed per group")] = 5,
    limit: Annotated[int, Query(ge=1, le=100, description="Groups listed, largest first")] = 20,
) -> JSONResponse:
    """Groups inside the sector (Louvain, fixed seed), each labelled by its distinguishing
    terms, with the goals and regions its members share."""
    analytics(services).require_sector(sector_id)
    payload = groups_payload(services, caller, sector_id, members=members, limit=limit)
    return _answer(payload)


@router.get("/sectors/{sector_id}/gaps", response_model=Gaps, summary="Goal x region gaps")
def gaps(sector_id: SectorPath, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """The sector's activity per goal and world region, against what the network's spread
    would lead one to expect; cells with much less than that on the sector's key goals are
    gaps."""
    analytics(services).require_sector(sector_id)
    return _answer(gaps_payload(services, caller, sector_id))


@router.get(
    "/sectors/{sector_id}/council", response_model=CurrentCouncil, summary="Current council"
)
def current_council(
    sector_id: SectorPath, services: ServicesDep, caller: CallerDep
) -> JSONResponse:
    """The sector's current global council and its board member: the people on it whom
    the caller may find (others are neither listed nor counted), without contact details."""
    analytics(services).require_sector(sector_id)
    return JSONResponse(current_council_payload(services, caller, sector_id))


@router.post("/councils/propose", response_model=Council, summary="Propose a sector council")
def propose(request: CouncilRequest, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """Five to eight candidates for a sector council: a board member, then whoever adds
    the most regions, key goals and groups, with reach in the network. Members and up;
    nothing is written."""
    require(caller.at_least(Role.member), caller, "propose councils")
    sector = _sector(services, request.sector, "body.sector")
    payload = proposal_payload(
        services, caller, sector, size=request.size, exclude=list(request.exclude)
    )
    return _answer(payload)
