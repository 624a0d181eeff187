"""Tag suggestions: SDGs (with their closest targets) and sectors, with calibrated confidence."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, model_validator

from api.deps import CallerDep, ReadVersion, ServicesDep
from api.editors import existing_tags
from api.errors import NotFound
from api.routes.nodes import visible_node
from api.schemas import PROBLEMS
from embeddings.tagging_results import NO_TAGS, Suggestions
from graph.editorial.explain import topics_of
from graph.ids import ID_PATTERN
from graph.texts import node_text
from graph.visibility import may_see_node

router = APIRouter(
    prefix="/v1/tags", tags=["search"], responses=PROBLEMS, dependencies=[ReadVersion]
)

CONFIDENCE = (
    "Calibrated on held-out initiatives: of the suggestions given confidence c, about a "
    "share c carried that tag. `suggested` marks the ones above the threshold chosen on "
    "the training data (the top one always is, unless the node already has a tag of "
    "that kind). Tags the node already has are marked `existing` and never `suggested`."
)


class SuggestRequest(BaseModel):
    """A draft text, or the id of a node whose stored text and vector are used."""

    text: Annotated[str | None, Field(min_length=1, max_length=20_000)] = None
    id: Annotated[str | None, Field(pattern=ID_PATTERN, max_length=160)] = None
    top: Annotated[int, Field(ge=1, le=17)] = 5

    @model_validator(mode="after")
    def _one_of(self) -> SuggestRequest:
        if (self.text is None) == (self.id is None):
            raise ValueError("give either text or id")
        return self


class TargetOut(BaseModel):
    id: str
    code: str
    title: str
    score: float


class SdgOut(BaseModel):
    id: str
    goal: int
    confidence: float
    suggested: bool
    existing: bool = Field(description="The node already has this goal")
    targets: list[TargetOut] = Field(description="Only under a goal suggested or existing")
    evidence: list[str]


class SectorOut(BaseModel):
    id: str
    confidence: float
    suggested: bool
    existing: bool = Field(description="The node already is in this sector")
    evidence: list[str]


class SuggestResponse(BaseModel):
    sdgs: list[SdgOut]
    sectors: list[SectorOut]
    confidence: str = Field(description="What the confidences mean")


def suggestions_json(found: Suggestions) -> dict[str, Any]:
    return {
        "sdgs": [
            {
                "id": f"sdg:{s.goal}", "goal": s.goal, "confidence": round(s.confidence, 4),
                "suggested": s.suggested, "existing": s.existing,
                "targets": [
                    {"id": f"sdg_target:{t.code}", "code": t.code, "title": t.title,
                     "score": round(t.score, 4)}
                    for t in s.targets
                ],
                "evidence": s.evidence,
            }
            for s in found.sdgs
        ],
        "sectors": [
            {"id": f"sector:{s.slug}", "confidence": round(s.confidence, 4),
             "suggested": s.suggested, "existing": s.existing, "evidence": s.evidence}
            for s in found.sectors
        ],
        "confidence": CONFIDENCE,
    }  # fmt: skip


@router.post("/suggest", response_model=SuggestResponse, summary="Suggest SDGs and sectors")
def suggest(request: SuggestRequest, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """Ranked SDGs (each with its best-matching targets) and sectors for a text or a node."""
    tagger = services.tagger
    if request.text is not None:
        return JSONResponse(suggestions_json(tagger.suggest(request.text, top=request.top)))
    assert request.id is not None
    node = visible_node(services, caller, request.id, field="body.id")
    index = services.search.index
    if request.id not in index:
        detail = f"no indexed text for '{request.id}'"
        raise NotFound(detail, errors=[{"field": "body.id", "reason": detail}])
    # Its tags are its edges: read only when the caller may see what surrounds the node.
    tags = NO_TAGS
    if may_see_node(caller, node, listing=True):
        tags = existing_tags(topics_of(services.view.graph, node.id))
    text = node_text(node)
    found = tagger.suggest_reusing(text, index.vector(request.id), index.encoder,
                                   top=request.top, existing=tags)  # fmt: skip
    return JSONResponse(suggestions_json(found))
