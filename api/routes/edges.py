"""Edges: list a node's edges, create, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from fastapi.responses import JSONResponse

from api.auth import audit
from api.deps import CallerDep, ReadVersion, ServicesDep
from api.errors import Conflict, NotFound
from api.permissions import may_write_edge, require
from api.routes.nodes import NodeIdPath, findable_node
from api.schemas import PROBLEMS, EdgePage
from graph.codec import edge_record
from graph.edges import Edge, EdgeKind
from graph.errors import EdgeNotFound
from graph.ids import ID_PATTERN
from graph.store import Deletion, edge_ref
from graph.visibility import edge_filter, node_filter

router = APIRouter(prefix="/v1/edges", tags=["edges"], responses=PROBLEMS)

EdgeKindPath = Annotated[EdgeKind, Path(description="The edge kind")]


def _json(edge: Edge) -> dict[str, object]:
    record = edge_record(edge)
    del record["type"]
    return record


@router.get("", dependencies=[ReadVersion], response_model=EdgePage, summary="A node's edges")
def list_(
    services: ServicesDep,
    caller: CallerDep,
    node: Annotated[str, Query(pattern=ID_PATTERN, max_length=160)],
    kind: Annotated[list[EdgeKind] | None, Query(max_length=12)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> JSONResponse:
    """Edges into or out of `node` whose other end the caller may see."""
    findable_node(services, caller, node, field="query.node")
    allowed = node_filter(caller, services.view.graph)
    allowed_edge = edge_filter(caller, services.view.graph)
    edges = [
        edge
        for edge in services.store.edges_of(node)
        if (not kind or edge.kind in kind)
        and all(end == node or allowed(end) for end in (edge.source, edge.target))
        and allowed_edge(edge.source, edge.kind, edge.target)
    ]
    window = edges[offset : offset + limit]
    return JSONResponse(
        {"items": [_json(e) for e in window], "total": len(edges), "limit": limit,
         "offset": offset}
    )  # fmt: skip


@router.post(
    "",
    response_model=Edge,
    status_code=status.HTTP_201_CREATED,
    summary="Create",
    responses={409: {"description": "This edge exists"}},
)
def create(edge: Edge, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """Create an edge between two existing nodes; the pair of kinds must be allowed."""
    allowed = may_write_edge(caller, edge.source, edge.kind, edge.target)
    require(allowed, caller, f"create '{edge.kind}' edges")
    for end in ("source", "target"):
        findable_node(services, caller, getattr(edge, end), field=f"body.{end}")
    try:
        services.store.get_edge(*edge.key)
    except EdgeNotFound:
        services.write([edge], within=audit(caller, "edge.create", edge.ref))
        return JSONResponse(_json(edge), status_code=201)
    raise Conflict(
        f"edge {edge.ref} already exists", errors=[{"field": "body", "reason": "already exists"}]
    )


@router.delete(
    "/{source}/{kind}/{target}", status_code=204, response_class=Response, summary="Delete"
)
def delete(
    source: NodeIdPath,
    kind: EdgeKindPath,
    target: NodeIdPath,
    services: ServicesDep,
    caller: CallerDep,
) -> Response:
    """Delete an edge. Who may is decided from the ids alone (401, 403); then an edge
    with an end the caller may not find is answered as a missing one (404)."""
    allowed = may_write_edge(caller, source, kind, target, deleting=True)
    require(allowed, caller, f"delete '{kind}' edges")
    findable_node(services, caller, source, field="path.source")
    findable_node(services, caller, target, field="path.target")
    try:
        services.store.get_edge(source, kind, target)
    except EdgeNotFound as exc:
        detail = str(exc)
        raise NotFound(detail, errors=[{"field": "path", "reason": detail}]) from None
    ref = edge_ref(source, kind, target)
    services.write([Deletion("edge", ref)], within=audit(caller, "edge.delete", ref))
    return Response(status_code=204)
