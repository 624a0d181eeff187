"""Nodes: list with filters, read, create, replace, patch, delete; a node's neighbourhood."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import networkx as nx
from fastapi import APIRouter, Body, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse

from api.auth import Caller, audit
from api.deps import (
    CallerDep,
    ReadVersion,
    ServicesDep,
    get_caller,
    get_services,
    hold_version,
    read_store,
)
from api.errors import BadRequest, Conflict, NotFound, Unprocessable
from api.permissions import may_write_node, require, require_fields
from api.routes.placenames import CountryQuery, country_code
from api.schemas import PROBLEMS, Neighborhood, NodePage
from api.services import Services
from graph.codec import node_record
from graph.edges import Edge
from graph.errors import InvalidRecord, Problem
from graph.ids import ID_PATTERN, id_pattern, kind_of
from graph.interchange import parse_record
from graph.listing import NodeFilter, list_nodes
from graph.model import Node, NodeKind
from graph.queries import EdgeFilter, k_hop
from graph.queries import neighbors as links_of
from graph.store import Deletion
from graph.visibility import edge_filter, listing_audience, may_see_node, node_filter, present

router = APIRouter(prefix="/v1/nodes", tags=["nodes"], responses=PROBLEMS)

NodeIdPath = Annotated[str, Path(pattern=ID_PATTERN, max_length=160, examples=["sdg:4"])]
# A filter names a node of its own kind: `sector=person:…` would list a person's links.
SectorFilter = Annotated[
    str | None, Query(pattern=id_pattern("sector"), max_length=160, examples=["sector:health"])
]
SdgFilter = Annotated[
    str | None, Query(pattern=id_pattern("sdg"), max_length=160, examples=["sdg:4"])
]
CommunityFilter = Annotated[str | None, Query(pattern=id_pattern("community"), max_length=160)]
EXAMPLES: dict[str, Any] = {
    "initiative": {
        "summary": "An initiative (editors and admins)",
        "value": {
            "kind": "initiative", "id": "initiative:night-library", "name": "Night Library",
            "description": "The library stays open late for teenagers, with mentors.",
            "needs": ["volunteer mentors", "grant writing"],
        },
    },
    "person": {
        "summary": "A person (admins, or a member for their own profile via PUT)",
        "value": {
            "kind": "person", "id": "person:rosa-diaz", "name": "Rosa Diaz",
            "bio": "Teacher in Davis, runs reading circles for young people.",
            "interests": ["youth mentoring", "reading circles"], "offers": ["tutoring"],
            "needs": ["grant writing"], "languages": ["en", "es"],
            "place": {"name": "Davis", "country": "US", "lat": 38.54, "lon": -121.74},
            "location_precision": "city", "visibility": "members",
            "contact": {"email": "rosa@example.org"},
        },
    },
}  # fmt: skip
NodeBody = Annotated[Node, Body(discriminator="kind", openapi_examples=EXAMPLES)]
KindQuery = Annotated[list[NodeKind] | None, Query(description="Node kinds", max_length=10)]


def _kinds(kinds: list[NodeKind] | None) -> frozenset[str] | None:
    return frozenset(kinds) if kinds else None


def missing(node_id: str, field: str) -> NotFound:
    """The 404 for an id that names no node the caller may see (hidden or absent alike)."""
    detail = f"no node with id '{node_id}'"
    return NotFound(detail, errors=[{"field": field, "reason": detail}])


def visible_node(
    services: Services, caller: Caller, node_id: str, *, field: str = "path.node_id"
) -> Node:
    """The node if the caller may read its record (a direct link); a hidden node is
    reported exactly as a missing one, naming ``field``."""
    node = services.store.find_node(node_id)
    if node is None or not may_see_node(caller, node, listing=False):
        raise missing(node_id, field)
    return node


def findable_node(
    services: Services, caller: Caller, node_id: str, *, field: str = "path.node_id"
) -> Node:
    """The node if the caller may see what surrounds it: its edges, neighbourhood, paths,
    recommendations and what is like it. That needs a node the caller may find in
    listings: a person who is not discoverable only to themselves and admins (others may
    still read the record by its id, see :func:`visible_node`)."""
    node = services.store.find_node(node_id)
    if node is None or not may_see_node(caller, node, listing=True):
        raise missing(node_id, field)
    return node


@router.get(
    "",
    dependencies=[ReadVersion],
    response_model=NodePage,
    summary="List nodes with filters",
)
def list_(
    services: ServicesDep,
    caller: CallerDep,
    kind: KindQuery = None,
    sector: SectorFilter = None,
    sdg: SdgFilter = None,
    community: CommunityFilter = None,
    country: CountryQuery = None,
    q: Annotated[str | None, Query(max_length=100, description="Prefix of the name")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    cursor: Annotated[str | None, Query(pattern=ID_PATTERN, description="next_cursor")] = None,
) -> JSONResponse:
    """Nodes passing every filter given, ordered by id; `total` counts them over all pages."""
    if cursor is not None and offset:
        raise BadRequest(
            "use either offset or cursor",
            errors=[{"field": "query.cursor", "reason": "cannot be combined with offset"}],
        )
    flt = NodeFilter(_kinds(kind), sector, sdg, community, country_code(country), q or None)
    page = list_nodes(
        services.store, flt, listing_audience(caller), limit=limit, offset=offset, after=cursor
    )
    return JSONResponse(
        {
            "items": [present(node, caller) for node in page.items],
            "total": page.total,
            "total_is_estimate": page.total_is_estimate,
            "limit": limit,
            "offset": offset,
            "next_cursor": page.next_after,
        }
    )


# The most frequent request does without FastAPI's dependencies: it takes what
# `ReadVersion`, `ServicesDep` and `CallerDep` give, in their order, from the same
# functions. Solving them took a third of a node read's time (three of them, one a
# generator run in an exit stack), more than reading the node from the store.
@router.get("/{node_id}", response_model=Node, summary="Read a node")
async def read(node_id: NodeIdPath, request: Request) -> JSONResponse:
    services = await get_services(request)
    feed = await hold_version(request, services)
    try:
        caller = await get_caller(request)
        node = await read_store(services, visible_node, services, caller, node_id)
        return JSONResponse(present(node, caller))
    finally:
        feed.lock.release_read()


@router.post(
    "",
    response_model=Node,
    status_code=status.HTTP_201_CREATED,
    summary="Create",
    responses={409: {"description": "A node with this id exists"}},
)
def create(node: NodeBody, services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """Create a node; its id (`<kind>:<slug>`) must be new."""
    require(may_write_node(caller, node.id), caller, f"create {node.kind} nodes")
    if services.store.find_node(node.id) is not None:
        raise Conflict(
            f"node '{node.id}' already exists",
            errors=[{"field": "body.id", "reason": "already exists"}],
        )
    require_fields(caller, node, None)
    services.write([node], within=audit(caller, "node.create", node.id))
    return JSONResponse(present(node, caller), status_code=201)


@router.put("/{node_id}", response_model=Node, summary="Create or replace")
def replace(
    node_id: NodeIdPath,
    node: NodeBody,
    services: ServicesDep,
    caller: CallerDep,
) -> JSONResponse:
    """Replace the node with this id (or create it) with the record in the body."""
    if node.id != node_id:
        reason = f"'{node.id}' differs from the id in the path '{node_id}'"
        raise Unprocessable(reason, errors=[{"field": "body.id", "reason": reason}])
    require(may_write_node(caller, node_id), caller, f"write {node.kind} nodes")
    require_fields(caller, node, services.store.find_node(node_id))
    services.write([node], within=audit(caller, "node.replace", node_id))
    return JSONResponse(present(node, caller))


def merge_patch(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """JSON merge patch (RFC 7396): null removes a field, objects merge."""
    merged = dict(base)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_patch(merged[key], value)
        else:
            merged[key] = value
    return merged


@router.patch("/{node_id}", response_model=Node, summary="Change some fields")
def patch(
    node_id: NodeIdPath,
    changes: Annotated[dict[str, Any], Body(examples=[{"bio": "Gardener and teacher."}])],
    services: ServicesDep,
    caller: CallerDep,
) -> JSONResponse:
    """Apply a JSON merge patch; `id` and `kind` cannot change."""
    require(may_write_node(caller, node_id), caller, f"change {kind_of(node_id)} nodes")
    current = visible_node(services, caller, node_id)
    for fixed in ("id", "kind", "type"):
        if fixed in changes and changes[fixed] != node_record(current)[fixed]:
            errors = [{"field": f"body.{fixed}", "reason": "cannot be changed"}]
            raise Unprocessable(f"{fixed} cannot be changed", errors=errors)
    record, problems = parse_record(None, merge_patch(node_record(current), changes))
    if record is None or isinstance(record, Edge):
        raise InvalidRecord([Problem(None, _body_field(p.field), p.reason) for p in problems])
    require_fields(caller, record, current)
    services.write([record], within=audit(caller, "node.patch", node_id))
    return JSONResponse(present(record, caller))


def _body_field(field: str) -> str:
    return f"body.{field}" if field else "body"


@router.delete("/{node_id}", status_code=204, response_class=Response, summary="Delete")
def delete(node_id: NodeIdPath, services: ServicesDep, caller: CallerDep) -> Response:
    """Delete a node and its edges. Deleting a person erases them everywhere."""
    require(may_write_node(caller, node_id), caller, f"delete {kind_of(node_id)} nodes")
    visible_node(services, caller, node_id)
    done = services.write([Deletion("node", node_id)], within=audit(caller, "node.delete", node_id))
    if done.erased:
        services.after_erasure(done)
    return Response(status_code=204)


@router.get(
    "/{node_id}/neighbors",
    dependencies=[ReadVersion],
    response_model=Neighborhood,
    summary="Neighbourhood",
)
def neighbors(
    node_id: NodeIdPath,
    services: ServicesDep,
    caller: CallerDep,
    kind: KindQuery = None,
    depth: Annotated[int, Query(ge=1, le=3)] = 1,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    order: Annotated[
        Literal["id", "links"],
        Query(description="Within each distance: by id, or the most connected first"),
    ] = "id",
) -> JSONResponse:
    """Nodes within `depth` hops (edges in either direction), nearest first, then by id.

    With `order=links` each distance lists its most connected nodes first (a graph
    explorer shows a hub's 25 best-linked neighbours, not its first 25 by name), and every
    item carries `links`, its number of linked nodes, and at distance 1 `edges`, the
    edges joining it to `node`. Both count only what the caller may find, so a count
    never betrays a hidden person.
    """
    findable_node(services, caller, node_id)
    graph = services.view.graph
    if node_id not in graph:
        raise missing(node_id, "path.node_id")
    allow, allow_edge = node_filter(caller, graph), edge_filter(caller, graph)
    found = k_hop(
        graph,
        node_id,
        depth=depth,
        node_kinds=_kinds(kind),
        allow=allow,
        allow_edge=allow_edge,
    )
    links: dict[str, int] = {}
    if order == "links":
        links = {
            other: len(links_of(graph, other, allow=allow, allow_edge=allow_edge))
            for other in found
        }
    ordered = sorted(found.items(), key=lambda item: (item[1], -links.get(item[0], 0), item[0]))
    window = ordered[offset : offset + limit]
    nodes = services.store.get_nodes(node for node, _ in window)
    joining = _joining(graph, node_id, allow_edge) if order == "links" else {}
    items: list[dict[str, Any]] = []
    for other, distance in window:
        if other not in nodes:
            continue
        item: dict[str, Any] = {"distance": distance, "node": present(nodes[other], caller)}
        if order == "links":
            item["links"] = links[other]
            if distance == 1:
                item["edges"] = joining.get(other, [])
        items.append(item)
    return JSONResponse(
        {"node": node_id, "depth": depth, "items": items, "total": len(ordered),
         "limit": limit, "offset": offset}
    )  # fmt: skip


def _joining(
    graph: nx.MultiDiGraph, node_id: str, allow_edge: EdgeFilter
) -> dict[str, list[dict[str, str]]]:
    """The allowed edges between `node_id` and each neighbour, as {source, kind, target}."""
    joined: dict[str, list[dict[str, str]]] = {}
    for _, target, kind in graph.out_edges(node_id, keys=True):
        if allow_edge(node_id, kind, target):
            joined.setdefault(target, []).append(
                {"source": node_id, "kind": kind, "target": target}
            )
    for source, _, kind in graph.in_edges(node_id, keys=True):
        if allow_edge(source, kind, node_id):
            joined.setdefault(source, []).append(
                {"source": source, "kind": kind, "target": node_id}
            )
    return joined
