"""Search in people's own words, and "more like this", filtered before ranking and explained."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
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
from api.routes.placenames import CountryQuery, NearQuery, country_code, near_place
from api.schemas import PROBLEMS
from graph.filters import Near, SearchFilter
from graph.ids import ID_PATTERN
from graph.model import Node
from graph.places import Found, gazetteer

router = APIRouter(prefix="/v1", tags=["search"], responses=PROBLEMS, dependencies=[ReadVersion])

NO_GOOD_MATCH = "no good match"
DEFAULT_NEAR_KM = 100.0
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
    distance: str | None = Field(
        default=None,
        description='With a place named (near=, "near Sacramento"): how far in words, from '
        "the public place and no finer than the person's precision",
    )


class SearchHit(BaseModel):
    node: Node
    score: float
    explanation: Explanation


class SearchPage(BaseModel):
    items: list[SearchHit]
    total: int | None = Field(description="Nodes passing the filters (null when unfiltered)")
    limit: int
    offset: int
    partial_index: bool = Field(
        default=False,
        description="True while the service is still computing the meaning of some texts "
        "(a new or much changed network): those are found by their words only, so results "
        "may be incomplete",
    )


class TextSearchPage(SearchPage):
    no_good_match: bool = Field(
        description="True when nothing clears the relevance floor: no node passing the "
        "filters matches the query (random letters, words no text uses); items is then empty"
    )
    message: str | None = Field(description='"no good match" when no_good_match is true, else null')
    words: str = Field(description="The words searched: q without the place named at its end")
    near: dict[str, object] | None = Field(
        default=None,
        description="The place searched near (as GET /v1/places gives it, with radius_km)",
    )


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
    country: CountryQuery = None,
    near: NearQuery = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    radius_km: Annotated[float | None, Query(gt=0, le=20_000)] = None,
    active: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    offset: Annotated[int, Query(ge=0, le=1_000)] = 0,
    mode: Literal["hybrid", "dense", "lexical"] = "hybrid",
) -> JSONResponse:
    """The best matches among the nodes that pass every filter, each explained.

    A place can be named with ``near=`` or at the end of ``q`` ("food bank near
    Sacramento", "youth in Davis, CA"): it is taken out of the words searched and keeps
    results within ``radius_km`` (default 100) of a town, or in a country; each result
    then says how far it is in words. ``q`` that is only a place lists what is nearest."""
    code = country_code(country)
    origin = near_place(near)
    words = q.strip()
    if origin is None:
        words, origin = gazetteer().split_query(words)
    radius = None
    if origin is not None:
        code, radius = _place_filter(origin, code, lat, lon, radius_km)
        radius_km = None  # the circle is the place's, below
    flt = search_filter(kind, sector, sdg, community, code, lat, lon, radius_km, active)
    if origin is not None and origin.lat is not None and origin.lon is not None and radius:
        flt = replace(flt, near=Near(origin.lat, origin.lon, radius))
    if words:
        page = services.search.search(
            caller, words, flt, mode=mode, limit=limit, offset=offset, origin=origin
        )
    else:
        assert origin is not None  # q has at least one character: words or a place
        page = services.search.nearby(caller, flt, origin, limit=limit, offset=offset)
    shown = None if origin is None else origin.as_json() | {"radius_km": radius}
    return JSONResponse(
        {
            "items": page.items,
            "total": page.total,
            "limit": limit,
            "offset": offset,
            "no_good_match": page.no_good_match,
            "message": NO_GOOD_MATCH if page.no_good_match else None,
            "words": words,
            "near": shown,
            "partial_index": services.search.index.pending > 0,
        }
    )


def _place_filter(
    origin: Found, code: str | None, lat: float | None, lon: float | None, radius_km: float | None
) -> tuple[str | None, float | None]:
    """(country, radius) for a named place: a town is a circle, a country is
    the country filter. Coordinates given as well are a contradiction, told on near."""
    if lat is not None or lon is not None:
        reason = "give a place by name or by lat and lon, not both"
        raise Unprocessable(reason, errors=[{"field": "query.near", "reason": reason}])
    if origin.kind == "country":
        if radius_km is not None:
            reason = "radius_km needs a town, not a whole country"
            raise Unprocessable(reason, errors=[{"field": "query.radius_km", "reason": reason}])
        if code is not None and code != origin.country:
            reason = f"{origin.name} is not in the country given"
            raise Unprocessable(reason, errors=[{"field": "query.country", "reason": reason}])
        return origin.country, None
    return code, DEFAULT_NEAR_KM if radius_km is None else radius_km


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
    country: CountryQuery = None,
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
    flt = search_filter(kind, sector, sdg, community, country_code(country), None, None, None, None)
    page = search.similar(
        caller, node_id, flt, limit=limit,
        mmr_lambda=None if diversity is None else 1 - diversity,
        positive=like or [], negative=unlike or [],
    )  # fmt: skip
    return JSONResponse({"items": page.items, "total": page.total, "limit": limit, "offset": 0,
                         "partial_index": services.search.index.pending > 0})  # fmt: skip
