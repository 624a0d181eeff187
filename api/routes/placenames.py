"""Places by name: suggestions for a place box, and the names routes accept for places.

People type "Sacramento" or "Mexico", not coordinates or ISO codes. ``GET /v1/places``
suggests towns and countries from the shipped gazetteer (:mod:`graph.places`); it knows
nothing about the network, so it is the same for everyone. :func:`country_code` and
:func:`near_place` read the ``country=`` and ``near=`` parameters of the other routes, so
a name that is no place is told beside the field that holds it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.deps import CallerDep
from api.errors import Unprocessable
from api.schemas import PROBLEMS
from graph.places import Found, gazetteer

router = APIRouter(prefix="/v1", tags=["places"], responses=PROBLEMS)

CountryQuery = Annotated[
    str | None,
    Query(min_length=2, max_length=60, description="A country: its name or ISO code",
          examples=["US", "Mexico"]),
]  # fmt: skip
NearQuery = Annotated[
    str | None,
    Query(min_length=2, max_length=120, description='A town or country by name: "Sacramento", '
          '"Davis, California", "Mexico"', examples=["Sacramento"]),
]  # fmt: skip


class PlaceSuggestion(BaseModel):
    kind: str = Field(description='"town" or "country"')
    name: str
    region: str | None = Field(description="The state or province, where known")
    country: str = Field(description="ISO 3166-1 alpha-2 code")
    country_name: str
    lat: float | None = Field(description="Null for a whole country")
    lon: float | None
    label: str = Field(description='As written for people: "Sacramento, California, United States"')


class PlacesOut(BaseModel):
    items: list[PlaceSuggestion]


def country_code(value: str | None, field: str = "query.country") -> str | None:
    """The ISO code of the country a parameter names, or 422 naming the field."""
    if value is None:
        return None
    code = gazetteer().country_code(value)
    if code is None:
        reason = f"no country called '{value}'"
        raise Unprocessable(reason, errors=[{"field": field, "reason": reason}])
    return code


def near_place(value: str | None, field: str = "query.near") -> Found | None:
    """The town or country a ``near=`` parameter names, or 422 naming the field."""
    if value is None:
        return None
    found = gazetteer().find(value)
    if found is None:
        reason = f"no town or country called '{value}'"
        raise Unprocessable(reason, errors=[{"field": field, "reason": reason}])
    return found


@router.get("/places", response_model=PlacesOut, summary="Towns and countries by name")
def places(
    caller: CallerDep,
    q: Annotated[str, Query(min_length=1, max_length=120, examples=["Sacra"])],
    limit: Annotated[int, Query(ge=1, le=20)] = 8,
) -> JSONResponse:
    """Towns (of at least 15,000 people) and countries whose name starts with ``q``,
    countries and the biggest towns first; "Davis, Cal" narrows to a state or country.
    The same for everyone, but a key that is not valid is refused, as everywhere."""
    del caller
    return JSONResponse({"items": [p.as_json() for p in gazetteer().suggest(q, limit)]})
