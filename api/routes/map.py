"""The Map of Co-creators: where people, initiatives and communities are, as anyone may know it.

One compact answer for the whole map (a marker needs an id, a kind, a name and a
position, not a whole record). Positions come from the graph view, whose ``lat`` and
``lon`` are the public ones: a person's place already coarsened to their
``location_precision`` (see :mod:`graph.geo`), for every caller, admins included. Who
appears follows the listing rules of :mod:`graph.visibility` (:func:`node_filter`), so a
private, members-only (to anonymous callers) or undiscoverable person is simply absent.
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import networkx as nx
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.deps import CallerDep, ReadVersion, ServicesDep
from api.errors import Unprocessable
from api.map_clusters import changed_since, clusters, encode, view_of
from api.routes.placenames import CountryQuery, country_code
from api.schemas import PROBLEMS
from graph.ids import id_pattern
from graph.listing import NodeFilter, alters, changes_between
from graph.store import Store
from graph.visibility import listing_audience, node_filter

router = APIRouter(prefix="/v1/map", tags=["graph"], responses=PROBLEMS, dependencies=[ReadVersion])

MapKind = Literal["person", "initiative", "organization", "community", "event"]
MAP_KINDS: frozenset[str] = frozenset({"person", "initiative", "organization", "community",
                                       "event"})  # fmt: skip
_CHUNK = 500
ABOUT_CHARS = 90
"""A popup or the list beside the map shows one line; the page links to the rest."""
_ABOUT_FIELDS = ("bio", "description", "summary")


class MapPoint(BaseModel):
    id: str
    kind: str
    name: str
    lat: float
    lon: float
    precision: str = Field(
        description="How precise the position is: exact, city (0.1° cell), region (1° cell)"
    )
    about: str = Field(
        description=f"The start of the bio or description, at most {ABOUT_CHARS} characters"
    )


class MapCluster(BaseModel):
    lat: float = Field(description="The mean of the public positions it gathers")
    lon: float
    count: int
    kinds: dict[str, int] = Field(description="How many of each kind")
    items: list[MapPoint] | None = Field(
        default=None, description="Its items, for a cluster small enough (by id)"
    )


class MapOut(BaseModel):
    items: list[MapPoint] | None = Field(
        default=None, description="Without bbox: every item, ordered by id"
    )
    clusters: list[MapCluster] | None = Field(
        default=None, description="With bbox and zoom: the view's clusters"
    )
    total: int = Field(description="Number of items (in the view, with bbox)")
    unplaced: int = Field(description="Nodes passing the filters that have no position to show")
    bbox: list[float] | None = Field(
        default=None, description="The view answered: west, south, east, north, on the grid"
    )
    cell: float | None = Field(default=None, description="Size of a grid cell, in degrees")


MAX_AGE = 30
"""Seconds a browser may reuse a view without asking; after that it asks with the
ETag and a 304 answers when nothing changed."""
_REMEMBERED = 512


@dataclass(frozen=True, slots=True)
class _Answer:
    tag: str
    body: bytes
    flt: NodeFilter
    shown: frozenset[str]  # the ids it names (with their names and first sentences)


class _Answers:
    """Recent answers of one store, each kept while no change since it was made can
    alter it (:func:`graph.listing.alters`: the map reads what a listing reads).

    They are checked together, once per version, by the first request after the store
    or the view moved: an answer a change could alter is dropped then, so that nobody
    made private or erased stays in memory here either, and the others keep their tag
    (a browser's copy stays good across writes elsewhere: a 304)."""

    def __init__(self, version: tuple[int, int]) -> None:
        self.version = version  # (the store's last change, the view's) they are good at
        self.held: OrderedDict[str, _Answer] = OrderedDict()

    def follow(self, store: Store, version: tuple[int, int]) -> None:
        """Keep the answers no change up to ``version`` alters; drop the others."""
        if version == self.version:
            return
        with store.engine.connect() as conn:
            changes = changes_between(conn, min(self.version), max(version))
        if changes is None:
            self.held.clear()
        else:
            # Whether a change alters a filter's rows is the same for all its answers
            # (few filters, up to 512 answers): asked once per filter. Only an edit
            # depends on the answer's items, so edits are asked per answer.
            edits = [change for change in changes if change[0] == "edit"]
            others = [change for change in changes if change[0] != "edit"]
            altered: dict[NodeFilter, bool] = {}
            for query, answer in list(self.held.items()):
                flt = answer.flt
                if flt not in altered:
                    altered[flt] = any(alters(flt, *change) for change in others)
                if altered[flt] or any(alters(flt, *c, shown=answer.shown) for c in edits):
                    del self.held[query]
        self.version = version

    def put(self, query: str, answer: _Answer) -> None:
        self.held[query] = answer
        while len(self.held) > _REMEMBERED:
            self.held.popitem(last=False)


_answers: weakref.WeakKeyDictionary[Store, _Answers] = weakref.WeakKeyDictionary()
_answers_lock = threading.Lock()


def _bbox(text: str) -> tuple[float, float, float, float]:
    """``west,south,east,north`` in degrees, or 422 naming ``query.bbox``."""
    try:
        west, south, east, north = (float(part) for part in text.split(","))
    except ValueError:
        raise _bad_bbox("give four numbers: west,south,east,north") from None
    if not all(-180 <= v <= 180 for v in (west, east)) or not all(
        -90 <= v <= 90 for v in (south, north)
    ):
        raise _bad_bbox("longitudes go from -180 to 180, latitudes from -90 to 90")
    if south >= north:
        raise _bad_bbox("south must be below north")
    return west, south, east, north


def _bad_bbox(reason: str) -> Unprocessable:
    return Unprocessable(f"bbox: {reason}", errors=[{"field": "query.bbox", "reason": reason}])


@router.get("", response_model=MapOut, summary="Positions for the map")
def map_points(
    request: Request,
    services: ServicesDep,
    caller: CallerDep,
    kind: Annotated[list[MapKind] | None, Query(max_length=5, description="Node kinds")] = None,
    sector: Annotated[str | None, Query(pattern=id_pattern("sector"), max_length=160)] = None,
    sdg: Annotated[str | None, Query(pattern=r"^sdg:\d{1,2}$")] = None,
    country: CountryQuery = None,
    bbox: Annotated[
        str | None,
        Query(max_length=120, description="The view: west,south,east,north in degrees"),
    ] = None,
    zoom: Annotated[int, Query(ge=0, le=20, description="The map's zoom, with bbox")] = 2,
) -> Response:
    """Every node the caller may see in listings, with its public position, filtered;
    with ``bbox``, the clusters of that view at ``zoom`` instead (at most about 100 kB).

    Answers carry an ETag (of the answer, the caller's audience and the query), and
    ``If-None-Match`` with it answers 304 while the answer is the same. An answer is
    held while no change since can alter it (a node of a kind shown, an edge at the
    sector or goal filtered on, the fields of a node it names, any deletion).
    """
    upper = country_code(country) if country is not None else None
    view = view_of(*_bbox(bbox), zoom) if bbox is not None else None
    audience = listing_audience(caller)
    shown = (view.west, view.south, view.east, view.north, view.cell) if view else None
    query = json.dumps(
        [sorted(kind or MAP_KINDS), sector, sdg, upper, shown,
         sorted(audience.visibilities or ["*"]), audience.include_undiscoverable,
         sorted(audience.own)]
    )  # fmt: skip
    # The store's version (clusters read it) and the view's (the whole map reads that).
    version = (services.store.last_seq(), services.view.seq)
    with _answers_lock:
        held = _answers.get(services.store)
        if held is None:
            held = _answers[services.store] = _Answers(version)
        held.follow(services.store, version)
        known = held.held.get(query)
        if known is not None:
            held.held.move_to_end(query)
    flt = NodeFilter(frozenset(kind) if kind else MAP_KINDS, sector, sdg, None, upper)
    if known is None:
        if view is not None:
            # The points are at the feed's version; the store may be ahead of it.
            changed = changed_since(services.store, services.feed.seq, version[0])
            answer: dict[str, Any] = clusters(
                services.store, flt, audience, view, services.map_points, changed
            )
            body = encode(answer)
        else:
            answer = _everything(services, caller, kind, sector, sdg, upper)
            body = json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode()
        # The tag is of what the answer says, to whom: it changes only when that does,
        # so it tells a viewer nothing of writes they cannot see.
        stamp = hashlib.sha256(query.encode() + b"\n" + body).hexdigest()[:32]
        known = _Answer(f'"{stamp}"', body, flt, _named(answer))
        with _answers_lock:
            if _answers.get(services.store) is held and held.version == version:
                held.put(query, known)
    headers = {
        "ETag": known.tag,
        "Cache-Control": f"private, max-age={MAX_AGE}",
        "Vary": "Authorization, Cookie",
    }
    if known.tag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(known.body, media_type="application/json", headers=headers)


def _named(answer: dict[str, Any]) -> frozenset[str]:
    """The ids of the nodes an answer names: its items, or those of its clusters."""
    clustered = (
        item.id for cluster in answer.get("clusters", ()) for item in cluster.get("items", ())
    )
    return frozenset((*(item["id"] for item in answer.get("items", ())), *clustered))


def _everything(
    services: ServicesDep,
    caller: CallerDep,
    kind: list[MapKind] | None,
    sector: str | None,
    sdg: str | None,
    upper: str | None,
) -> dict[str, Any]:
    """The whole map as one list (the answer without a view)."""
    graph = services.view.graph
    nodes = graph.nodes
    allowed = node_filter(caller, graph)
    kinds = frozenset(kind) if kind else MAP_KINDS
    candidates: Iterable[str] = (n for n, attrs in nodes.items() if attrs["kind"] in kinds)
    if sector is not None:
        candidates = _linked(graph, [sector]).intersection(candidates)
    if sdg is not None:
        # A goal also covers what is linked to one of its targets (as in listings).
        targets = [
            source
            for source, _, key in graph.in_edges(sdg, keys=True)
            if key == "part_of" and nodes[source]["kind"] == "sdg_target"
        ] if sdg in graph else []  # fmt: skip
        candidates = _linked(graph, [sdg, *targets]).intersection(candidates)
    if upper is not None:
        candidates = (n for n in candidates if nodes[n]["country"] == upper)
    visible = sorted(n for n in candidates if nodes[n]["kind"] in kinds and allowed(n))
    placed = [n for n in visible if nodes[n]["lat"] is not None and nodes[n]["lon"] is not None]
    names = _names(services.store, placed)
    items = [
        {"id": n, "kind": nodes[n]["kind"], "name": names[n][0], "lat": nodes[n]["lat"],
         "lon": nodes[n]["lon"], "precision": nodes[n]["locality"] or "exact",
         "about": names[n][1]}
        for n in placed
        if n in names
    ]  # fmt: skip
    return {"items": items, "total": len(items), "unplaced": len(visible) - len(placed)}


def _linked(graph: nx.MultiDiGraph, ends: list[str]) -> set[str]:
    """Ids joined by an edge, in either direction, to any of ``ends``."""
    found: set[str] = set()
    for end in ends:
        if end in graph:
            found.update(graph.predecessors(end))
            found.update(graph.successors(end))
    return found


def _names(store: Store, ids: list[str]) -> dict[str, tuple[str, str]]:
    """The names and one-line descriptions of these nodes."""
    return {i: (name, about(json.loads(data))) for i, (name, data) in store.records(ids).items()}


def about(data: dict[str, Any]) -> str:
    """The first sentence of a node's bio or description, cut at a word to fit one line.

    Bios and descriptions are public wherever the node is (contact details are not, and
    are never read here), so the map shows as much of them as a listing does.
    """
    text = next((str(data[f]) for f in _ABOUT_FIELDS if data.get(f)), "")
    text = " ".join(text.split())
    end = text.find(". ")
    if end != -1:
        text = text[: end + 1]
    if len(text) <= ABOUT_CHARS:
        return text
    cut = text[: ABOUT_CHARS - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"
