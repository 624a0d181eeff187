"""Shortest paths between two nodes, through nodes the caller may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.deps import CallerDep, ReadVersion, ServicesDep
from api.routes.nodes import findable_node
from api.schemas import PROBLEMS, PathOut
from graph.errors import NoPath
from graph.ids import ID_PATTERN
from graph.queries import shortest_path
from graph.visibility import edge_filter, node_filter, present

router = APIRouter(
    prefix="/v1/paths", tags=["graph"], responses=PROBLEMS, dependencies=[ReadVersion]
)

IdQuery = Annotated[str, Query(pattern=ID_PATTERN, max_length=160)]


@router.get("", response_model=PathOut, summary="Shortest path")
def path(
    source: IdQuery,
    target: IdQuery,
    services: ServicesDep,
    caller: CallerDep,
    max_depth: Annotated[int, Query(ge=1, le=8)] = 6,
) -> JSONResponse:
    """A shortest path (edges in either direction); ties are broken by id, so it is stable."""
    findable_node(services, caller, source, field="query.source")
    findable_node(services, caller, target, field="query.target")
    graph = services.view.graph
    steps = shortest_path(
        graph,
        source,
        target,
        max_depth=max_depth,
        allow=node_filter(caller, graph),
        allow_edge=edge_filter(caller, graph),
    )
    ids = [source, *(step.target for step in steps)]
    nodes = services.store.get_nodes(ids)
    if any(i not in nodes for i in ids):
        # A node of the path was deleted after the graph view (which follows the store's
        # writes a moment later) found it: the path no longer holds.
        findable_node(services, caller, source, field="query.source")
        findable_node(services, caller, target, field="query.target")
        raise NoPath(source, target, max_depth)
    return JSONResponse(
        {
            "source": source,
            "target": target,
            "length": len(steps),
            "steps": [
                {"source": s.source, "kind": s.kind, "target": s.target, "forward": s.forward}
                for s in steps
            ],
            "nodes": [present(nodes[i], caller) for i in ids],
        }
    )
