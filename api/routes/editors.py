"""For editors and communities: related wisdom entries and what other communities learned.

Both routes are POSTs because a draft is too long for a query string; they write
nothing, and a draft's text is neither stored nor logged. Anyone may call them: the
entries, initiatives and communities returned are public, and people are recommended
only as :mod:`api.editors` allows.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.deps import CallerDep, ReadVersion, ServicesDep
from api.editors import Editorial
from api.errors import NotFound
from api.routes.nodes import visible_node
from api.routes.tags import suggestions_json
from api.schemas import PROBLEMS
from graph.editorial import Draft

router = APIRouter(prefix="/v1", tags=["wisdom"], responses=PROBLEMS, dependencies=[ReadVersion])

_SLUG = r"[a-z0-9](?:[a-z0-9._-]{0,118}[a-z0-9])?"  # as graph.ids.ID_PATTERN
ENTRY_ID = rf"^wisdom_entry:{_SLUG}$"
COMMUNITY_ID = rf"^community:{_SLUG}$"
Limit = Annotated[int, Field(ge=1, le=20, description="Items per list")]


class RelatedRequest(BaseModel):
    """A draft (``title`` and ``body``), or the ``id`` of an entry of the book."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str | None, Field(min_length=1, max_length=300)] = None
    body: Annotated[str | None, Field(min_length=1, max_length=20_000)] = None
    id: Annotated[str | None, Field(pattern=ENTRY_ID, max_length=160)] = None
    limit: Limit = 5

    @model_validator(mode="after")
    def _draft_or_entry(self) -> RelatedRequest:
        drafted = self.title is not None or self.body is not None
        if drafted == (self.id is not None):
            raise ValueError("give either a draft (title and body) or the id of an entry")
        if drafted and (self.title is None or self.body is None):
            raise ValueError("a draft needs both title and body")
        if drafted and not any(ch.isalnum() for ch in f"{self.title}{self.body}"):
            raise ValueError("a draft needs some words")
        return self


class LearnRequest(BaseModel):
    """A community and the issues it faces, in its own words."""

    model_config = ConfigDict(extra="forbid")

    community: Annotated[str, Field(pattern=COMMUNITY_ID, max_length=160)]
    issues: Annotated[str, Field(min_length=1, max_length=5_000)]
    limit: Limit = 5

    @field_validator("issues")
    @classmethod
    def _has_words(cls, issues: str) -> str:
        if not any(ch.isalnum() for ch in issues):
            raise ValueError("name the issues in words")
        return issues


class Explanation(BaseModel):
    summary: str = Field(description="One sentence a person can read")
    components: dict[str, float] = Field(description="The parts the score is made of")
    model_config = ConfigDict(extra="allow")


class Recommended(BaseModel):
    node: dict[str, Any]
    score: float
    explanation: Explanation


class RelatedResponse(BaseModel):
    related: list[Recommended]
    near_duplicates: list[Recommended]
    tags: dict[str, Any] = Field(description="As POST /v1/tags/suggest gives them")
    practitioners: list[Recommended]


class LearnResponse(BaseModel):
    communities: list[Recommended] = Field(
        description="Similar communities; each explanation's `did` links what they did"
    )
    initiatives: list[Recommended]
    entries: list[Recommended] = Field(
        description="Wisdom Book entries that tell of work on such issues"
    )
    connectors: list[Recommended]
    goals: list[dict[str, Any]] = Field(description="The goals the issues were read as")


@router.post(
    "/wisdom/related", response_model=RelatedResponse, summary="Related wisdom for a draft"
)
def related(request: RelatedRequest, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """Entries related to a draft or an entry (with the passages that match), its
    near-duplicates (see docs/editors.md for the threshold), suggested tags and
    practitioners to ask. Nothing is written; a draft's text is not kept."""
    node = None
    if request.id is not None:
        node = visible_node(services, caller, request.id, field="body.id")
        if request.id not in services.search.index:
            detail = f"no indexed text for '{request.id}'"
            raise NotFound(detail, errors=[{"field": "body.id", "reason": detail}])
        draft = Draft.filed(node)
    else:
        assert request.title is not None and request.body is not None
        draft = Draft.written(request.title, request.body)
    found = Editorial(services, caller).related(draft, node, limit=request.limit)
    found["tags"] = suggestions_json(found["tags"])
    return JSONResponse(found)


@router.post(
    "/communities/learn", response_model=LearnResponse, summary="Learn from other communities"
)
def learn(request: LearnRequest, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """Communities that faced similar issues and what they did (their initiatives and
    Wisdom Book entries, linked), initiatives and entries that addressed such issues, and
    connectors near the community (local first, by distance band). Nothing is written."""
    visible_node(services, caller, request.community, field="body.community")
    found = Editorial(services, caller).learn(
        request.community, request.issues, limit=request.limit
    )
    return JSONResponse(found)
