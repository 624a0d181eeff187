"""Search in people's own words, and "more like this", filtered before ranking and explained."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StringConstraints

from api.deps import CallerDep, ReadVersion, ServicesDep
from api.errors import NotFound, Unprocessable
from api.routes.nodes import (
    CommunityFilter,
    KindQuery,
    NodeIdPath,
    SdgFilter,
    SectorFilter,
    findable_node,
)
from api.schemas import PROBLEMS
from graph.filters import Near, SearchFilter
from graph.ids import ID_PATTERN
from graph.model import Node

router = APIRouter(prefix="/v1", tags=["search"], responses=PROBLEMS, dependencies=[ReadVersion])

NO_GOOD_MATCH = "no good match"
ExampleId = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=160)]


class Scores(BaseModel):
    score: float
    dense: float | None
    lexical: float | None
    dense_rank: int | None
    lexical_rank: int | None


class Passage(BaseModel):
    field: str
    text: str


class Explanation(BaseModel):
    """Why a node matched: the scores, the words and passage that matched, the filters."""

    mode: str
    scores: Scores
    matched_terms: list[str] = Field(description="Query words found in the node's text")
    fields: list[str] = Field(description="Fields where query words were found")
    passage: Passage | None = Field(description="The best-matching part of the node's text")
    filters: dict[str, object] = Field(description="Filters applied before ranking")
    distance_km: int | None = Field(
        default=None, description="From the given point, using coarsened places only"
    )
    distance_band: str | None = None


class SearchHit(BaseModel):
    node: Node
    score: float
    explanation: Explanation


class SearchPage(BaseModel):
    items: list[SearchHit]
    total: int | None = Field(description="Nodes passing the filters (null when unfiltered)")
    limit: int
    offset: int


class TextSearchPage(SearchPage):
    no_good_match: bool = Field(
        description="True when nothing clears the relevance floor: no node passing the "
        "filters matches the query (random letters, words no text uses); items is then empty"
    )
    message: str | None = Field(description='"no good match" when no_good_match is true, else null')


def search_filter(
    kind: Sequence[str] | None,
    sector: str | None,
    sdg: str | None,
    community: str | None,
    country: str | None,
    lat: float | None,
    lon: float | None,
    radius_km: float | None,
    active: bool | None,
) -> SearchFilter:
    """The filter of a request; a radius needs all of lat, lon and radius_km."""
    near = None
    given = {"lat": lat, "lon": lon, "radius_km": radius_km}
    if any(v is not None for v in given.values()):
        missing = [name for name, v in given.items() if v is None]
        if missing:
            reason = "lat, lon and radius_km go together"
            raise Unprocessable(reason, errors=[{"field": f"query.{m}", "reason": reason}
                                                for m in missing])  # fmt: skip
        assert lat is not None and lon is not None and radius_km is not None
        near = Near(lat, lon, radius_km)
    kinds = frozenset(kind) if kind else None
    return SearchFilter(kinds, sector, sdg, community, country, near, active)


@router.get("/search", response_model=TextSearchPage, summary="Search the network")
def search(
    services: ServicesDep,
    caller: CallerDep,
    q: Annotated[str, Query(min_length=1, max_length=500, examples=["youth mentoring"])],
    kind: KindQuery = None,
    sector: SectorFilter = None,
    sdg: SdgFilter = None,
    community: CommunityFilter = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius_km: Annotated[float | None, Query(gt=0, le=20_000)] = None,
    active: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    offset: Annotated[int, Query(ge=0, le=1_000)] = 0,
    mode: Literal["hybrid", "dense", "lexical"] = "hybrid",
) -> JSONResponse:
    """The best matches among the nodes that pass every filter, each explained."""
    flt = search_filter(kind, sector, sdg, community, country, lat, lon, radius_km, active)
    page = services.search.search(caller, q, flt, mode=mode, limit=limit, offset=offset)
    return JSONResponse(
        {
            "items": page.items,
            "total": page.total,
            "limit": limit,
            "offset": offset,
            "no_good_match": page.no_good_match,
            "message": NO_GOOD_MATCH if page.no_good_match else None,
        }
    )


@router.get(
    "/nodes/{node_id}/similar", response_model=SearchPage, summary="More like this",
    tags=["search"],
)  # fmt: skip
def similar(
    node_id: NodeIdPath,
    services: ServicesDep,
    caller: CallerDep,
    kind: KindQuery = None,
    sector: SectorFilter = None,
    sdg: SdgFilter = None,
    community: CommunityFilter = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
    like: Annotated[
        list[ExampleId] | None, Query(description="More like these too", max_length=20)
    ] = None,
    unlike: Annotated[
        list[ExampleId] | None, Query(description="Less like these", max_length=20)
    ] = None,
    diversity: Annotated[
        float | None, Query(ge=0, le=1, description="MMR: 0 = most similar, 1 = most diverse")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> JSONResponse:
    """Nodes whose text is closest to this node's (from stored vectors; nothing re-encoded)."""
    examples = [
        ("path.node_id", node_id),
        *((f"query.like.{i}", e) for i, e in enumerate(like or [])),
        *((f"query.unlike.{i}", e) for i, e in enumerate(unlike or [])),
    ]
    for field, example in examples:
        findable_node(services, caller, example, field=field)
    search = services.search
    for field, example in examples:
        if example not in search.index:
            detail = f"no indexed text for '{example}'"
            raise NotFound(detail, errors=[{"field": field, "reason": detail}])
    flt = search_filter(kind, sector, sdg, community, country, None, None, None, None)
    page = search.similar(
        caller, node_id, flt, limit=limit,
        mmr_lambda=None if diversity is None else 1 - diversity,
        positive=like or [], negative=unlike or [],
    )  # fmt: skip
    return JSONResponse({"items": page.items, "total": page.total, "limit": limit, "offset": 0})
