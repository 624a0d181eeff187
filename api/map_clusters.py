"""Server-side clusters for one view of the map: what a viewport at a zoom shows.

The whole map of a large network is megabytes; a view needs at most a few hundred
clusters. Positions are those of the ``nodes`` table, which are the public ones (a
person's place coarsened to their precision, see :mod:`graph.geo`), and the rows
counted are those the viewer may list (:func:`graph.listing.visible_conditions`), so a
hidden person never changes a count. Cells are aligned on a grid that depends on the
zoom only, so that panning keeps clusters where they were and a view is cacheable.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from sqlalchemy import and_, case, func, literal, or_, select

from graph import schema
from graph.listing import NodeFilter, changes_between, filter_conditions
from graph.store import WRITES, Store
from graph.visibility import ListingAudience

if TYPE_CHECKING:
    from api.map_points import MapPoints

CELLS_PER_TILE = 4
"""Cells across one 256-pixel map tile: a cluster stands for about 64 pixels."""
MAX_CELLS_ACROSS = 28
"""At most this many cells either way, whatever the view asked: bounds the answer."""
ITEMS_UP_TO = 12
"""A cluster of at most this many carries its items (the list beside the map shows
them, and the page places them itself)."""
ITEMS_UP_TO_CLOSE = 100
"""The same once cells are finer than a region's (1°, from zoom 7, where the page draws
such people as the area they stand for): people placed to one region or town share one
position and never separate by zooming, so their cluster must say who they are."""
AREAS = (("region", 1.0), ("city", 0.1))
"""People placed to these precisions, grouped apart once the grid is finer than the area
they stand for (a region's 1° cell, a town's 0.1°)."""
ITEMS_UP_TO_AREA = 400
"""The same for such an area's group: zooming never splits it, so it names its people
(within :data:`BUDGET`, smallest groups first)."""
BUDGET = 95_000
"""Bytes of JSON an answer stays under; items are left out past it (zoom in for them)."""
DIGITS = 5
FETCH_RUN = 400
"""Items of small clusters are read from the store in runs of about this many."""


@dataclass(frozen=True, slots=True)
class View:
    """A viewport, snapped outward to the grid of its cell size (degrees)."""

    west: float
    south: float
    east: float
    north: float
    cell: float

    @property
    def wraps(self) -> bool:
        return self.west > self.east


def view_of(west: float, south: float, east: float, north: float, zoom: int) -> View:
    """The view asked for, on the grid of ``zoom`` (coarsened until it fits in
    :data:`MAX_CELLS_ACROSS` cells each way)."""
    width = east - west if east >= west else east + 360 - west
    height = max(north - south, 0.0)
    cell = 360 / (2**zoom * CELLS_PER_TILE)
    while width / cell > MAX_CELLS_ACROSS - 1 or height / cell > MAX_CELLS_ACROSS - 1:
        cell *= 2
    snap_w, snap_e = math.floor(west / cell) * cell, math.ceil(east / cell) * cell
    south, north = math.floor(south / cell) * cell, math.ceil(north / cell) * cell
    if width >= 360 - cell:
        snap_w, snap_e = -180.0, 180.0
    return View(snap_w, max(south, -90.0), snap_e, min(north, 90.0), cell)


def clusters(
    store: Store,
    flt: NodeFilter,
    audience: ListingAudience,
    view: View,
    points: MapPoints | None = None,
    changed: frozenset[str] | None = None,
) -> dict[str, Any]:
    """The clusters of the view, with how many nodes it shows and how many have no place.

    Shape: ``{"clusters": [{"lat", "lon", "count", "kinds": {kind: n}, "items"?: [...]}],
    "total": n, "unplaced": n, "bbox": [w, s, e, n], "cell": degrees}``; ``items`` (as
    :class:`api.routes.map.MapPoint`) only in clusters of at most :data:`ITEMS_UP_TO`
    (:data:`ITEMS_UP_TO_CLOSE` close up), smallest first, within :data:`BUDGET`.

    With ``points`` (the rows held in memory, :mod:`api.map_points`) the cells are counted
    there, unless the filter needs links the points do not hold; the same answer either way.
    ``changed``: the nodes the store changed since the points' version, when known
    (:func:`changed_since`); the items of the others may come from the points.
    """
    mask = points.listed(flt, audience) if points is not None else None
    if points is not None and mask is not None:
        cells, unplaced, members = _cells_in_memory(points, mask, view)
        fetch = _fetcher(store, flt, audience, points, members, changed)
    else:
        cells, unplaced, eager = _cells_by_sql(store, flt, audience, view)

        def fetch(wanted: list[Key]) -> dict[Key, list[MapItem]]:
            return {key: eager[key] for key in wanted if key in eager}

    keys = sorted(cells)
    found = []
    for key in keys:
        cell = cells[key]
        mean_lon = cell["lon"] / cell["count"]
        found.append(
            {"lat": round(cell["lat"] / cell["count"], DIGITS),
             "lon": round(mean_lon - 360 if mean_lon > 180 else mean_lon, DIGITS),
             "count": cell["count"], "kinds": dict(sorted(cell["kinds"].items()))}
        )  # fmt: skip
    answer = {
        "clusters": found,
        "total": sum(cell["count"] for cell in found),
        "unplaced": unplaced,
        "bbox": [view.west, view.south, view.east, view.north],
        "cell": view.cell,
    }
    size = len(encode(answer))  # in bytes, as sent; each cluster's items add theirs
    # Items of the smallest clusters first: those are the ones zooming cannot split.
    small = [
        index for index in sorted(range(len(found)), key=lambda i: (found[i]["count"], i))
        if _carries_items(keys[index], found[index]["count"], view)
    ]  # fmt: skip
    full, next_small = False, 0
    while next_small < len(small) and not full:
        # Read in runs of about FETCH_RUN items, in the order they are shown.
        run, counted = [], 0
        while next_small < len(small) and counted < FETCH_RUN:
            run.append(small[next_small])
            counted += found[run[-1]]["count"]
            next_small += 1
        read = fetch([keys[index] for index in run])
        for index in run:
            shown = read.get(keys[index])
            if not shown:
                continue
            more = len(_ITEMS_KEY) + sum(len(item.json) + 1 for item in shown)  # "]" last
            if size + more > BUDGET:
                full = True
                break
            found[index]["items"] = shown
            size += more
    return answer


class MapItem(NamedTuple):
    """One item of a cluster (:class:`api.routes.map.MapPoint`), encoded once as it is
    sent: an answer's size is known as it is made, and held items are not encoded again."""

    id: str
    json: bytes


_ITEMS_KEY = b',"items":['


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def encode(answer: dict[str, Any]) -> bytes:
    """The JSON of an answer of :func:`clusters`, as sent (compact, UTF-8)."""
    parts = []
    for cluster in answer["clusters"]:
        items: list[MapItem] | None = cluster.get("items")
        head = _dumps({key: value for key, value in cluster.items() if key != "items"})
        if items is not None:
            head = head[:-1] + _ITEMS_KEY + b",".join(item.json for item in items) + b"]}"
        parts.append(head)
    rest = _dumps({key: value for key, value in answer.items() if key != "clusters"})
    return b'{"clusters":[' + b",".join(parts) + b"]," + rest[1:]


Key = tuple[int, int, int]
"""A cell: its column and row in the view, and its band (0, or the area it stands for)."""


def _cells_by_sql(
    store: Store, flt: NodeFilter, audience: ListingAudience, view: View
) -> tuple[dict[Key, dict[str, Any]], int, dict[Key, list[MapItem]]]:
    """The view's cells counted by the store, the unplaced, and the small cells' items."""
    n = schema.nodes
    # The kinds as a plain test of each row (``kind || ''``), not through the index on
    # ``kind``: SQLite's planner would take that one (every person of the network) over
    # the view's band of latitudes in the map's index, which holds the kind too.
    conditions = filter_conditions(replace(flt, kinds=None), audience)
    if flt.kinds is not None:
        conditions.append((n.c.kind + literal("")).in_(sorted(flt.kinds)))
    lon = case((n.c.lon < view.west, n.c.lon + 360), else_=n.c.lon) if view.wraps else n.c.lon
    # Both offsets are at least 0 within the view, where truncating is flooring (SQLite
    # has floor() only when built with its math functions).
    column = schema.truncated((lon - view.west) / view.cell)
    row = schema.truncated((n.c.lat - view.south) / view.cell)
    # People placed only to a region (or a town) share one position, which the page draws
    # as the area it stands for once the area is big enough to see: they are grouped apart
    # from the pins around that position, so that their group stays small enough to say
    # who they are (a town's centre can hold hundreds of pins).
    band = case(
        *[(n.c.locality == precision, index + 1)
          for index, (precision, size) in enumerate(AREAS) if view.cell < size],
        else_=0,
    ) if any(view.cell < size for _, size in AREAS) else literal(0)  # fmt: skip
    within = [
        n.c.lat.is_not(None),
        n.c.lat >= view.south,
        n.c.lat <= view.north,
        or_(n.c.lon >= view.west, n.c.lon <= view.east)
        if view.wraps
        else and_(n.c.lon >= view.west, n.c.lon <= view.east),
    ]
    grouped = (
        select(column.label("x"), row.label("y"), band.label("band"), n.c.kind,
               func.count().label("count"), func.sum(n.c.lat).label("lat"),
               func.sum(lon).label("lon"))
        .where(*conditions, *within)
        .group_by(column, row, band, n.c.kind)
    )  # fmt: skip
    unplaced = select(func.count()).select_from(n).where(*conditions, n.c.lat.is_(None))
    cells: dict[Key, dict[str, Any]] = {}
    with store.engine.connect() as conn:
        for r in conn.execute(grouped):
            cell = cells.setdefault((r.x, r.y, r.band),
                                    {"count": 0, "kinds": {}, "lat": 0.0, "lon": 0.0})  # fmt: skip
            cell["count"] += r.count
            cell["kinds"][r.kind] = r.count
            cell["lat"] += r.lat
            cell["lon"] += r.lon
        small = sorted(
            key for key, cell in cells.items() if _carries_items(key, cell["count"], view)
        )
        items: dict[Key, list[MapItem]] = {}
        if small:
            code = (column * 100_000 + row) * 10 + band
            wanted = [(x * 100_000 + y) * 10 + b for x, y, b in small]
            rows = conn.execute(
                select(n.c.id, n.c.kind, n.c.name, n.c.data, n.c.lat, n.c.lon, n.c.locality,
                       column.label("x"), row.label("y"), band.label("band"))
                .where(*conditions, *within, code.in_(wanted))
                .order_by(n.c.id)
            ).all()  # fmt: skip
            for r in rows:
                items.setdefault((r.x, r.y, r.band), []).append(_item(r))
        unplaced_count = int(conn.execute(unplaced).scalar_one())
    return cells, unplaced_count, items


def _cells_in_memory(
    points: MapPoints, mask: Any, view: View
) -> tuple[dict[Key, dict[str, Any]], int, dict[Key, list[int]]]:
    """The view's cells counted from the points, the unplaced, and each cell's rows."""
    found = points.cells(mask, view, AREAS)
    cells: dict[Key, dict[str, Any]] = {}
    if not found.rows.size:
        return cells, found.unplaced, {}
    across, bands, kinds = int(found.y.max()) + 1, len(AREAS) + 1, len(points.kinds.values)
    place = (found.x * across + found.y) * bands + found.band
    code = place * kinds + found.kind
    counts = np.bincount(code)
    lats = np.bincount(code, weights=found.lat)
    lons = np.bincount(code, weights=found.lon)
    for at in np.flatnonzero(counts).tolist():
        spot, kind = divmod(at, kinds)
        square, band = divmod(spot, bands)
        x, y = divmod(square, across)
        cell = cells.setdefault((x, y, band), {"count": 0, "kinds": {}, "lat": 0.0, "lon": 0.0})
        cell["count"] += int(counts[at])
        cell["kinds"][points.kind_of(kind)] = int(counts[at])
        cell["lat"] += float(lats[at])
        cell["lon"] += float(lons[at])
    # The rows of the cells small enough to carry their items, cell by cell.
    small = [
        (key[0] * across + key[1]) * bands + key[2]
        for key, cell in cells.items()
        if _carries_items(key, cell["count"], view)
    ]
    chosen = np.flatnonzero(np.isin(place, small))
    order = chosen[np.argsort(place[chosen], kind="stable")]
    ends = np.flatnonzero(np.diff(place[order])) + 1
    members: dict[Key, list[int]] = {}
    for group in np.split(order, ends) if order.size else []:
        square, band = divmod(int(place[group[0]]), bands)
        x, y = divmod(square, across)
        members[(x, y, band)] = found.rows[group].tolist()
    return cells, found.unplaced, members


def _item(row: Any) -> MapItem:
    """A map item (:class:`api.routes.map.MapPoint`) from a row of ``nodes``."""
    from api.routes.map import about  # the one-line description the whole map uses

    shown = {"id": row.id, "kind": row.kind, "name": row.name, "lat": row.lat,
             "lon": row.lon, "precision": row.locality or "exact",
             "about": about(json.loads(row.data))}  # fmt: skip
    return MapItem(row.id, _dumps(shown))


def _carries_items(key: Key, count: int, view: View) -> bool:
    """Whether a cluster of ``count`` in cell ``key`` is small enough to name its items."""
    most = ITEMS_UP_TO_CLOSE if view.cell < 1 else ITEMS_UP_TO
    return count <= (ITEMS_UP_TO_AREA if key[2] else most)


def _fetcher(
    store: Store,
    flt: NodeFilter,
    audience: ListingAudience,
    points: MapPoints,
    members: dict[Key, list[int]],
    changed: frozenset[str] | None,
) -> Callable[[list[Key]], dict[Key, list[MapItem]]]:
    """The items of a cell when asked: from the names and descriptions the points hold,
    and for the others from the store, where their rights are checked again.

    ``changed`` names the nodes the store changed since the points' version (None: not
    known, then every item is read from the store). A node not among them is listed as
    the points say, and what the store has of it is what the points may hold; a node
    among them is read again (one made private since is left out) and not held.
    """
    conditions = filter_conditions(replace(flt, kinds=None), audience)

    def items(keys: list[Key]) -> dict[Key, list[MapItem]]:
        wanted = {
            key: sorted((points.id_of(row), row) for row in members.get(key, ())) for key in keys
        }
        held: dict[str, MapItem] = {}
        unknown: dict[str, int] = {}
        for pairs in wanted.values():
            for node_id, row in pairs:
                text = None if changed is None or node_id in changed else points.held_item(row)
                if text is None:
                    unknown[node_id] = row
                else:
                    held[node_id] = MapItem(node_id, text)
        if unknown:
            held.update(read_items(store, points, unknown, changed, conditions))
        shown: dict[Key, list[MapItem]] = {}
        for key, pairs in wanted.items():
            for node_id, _ in pairs:
                if (found := held.get(node_id)) is not None:
                    shown.setdefault(key, []).append(found)
        return shown

    return items


def read_items(
    store: Store,
    points: MapPoints,
    rows: dict[str, int],
    changed: frozenset[str] | None,
    conditions: list[Any] | tuple[Any, ...] = (),
) -> dict[str, MapItem]:
    """The items of these nodes (id: the points' row) read from the store, those placed
    and passing ``conditions``; each is held by the points unless its node is among
    ``changed`` (or that is not known): see :func:`_fetcher`."""
    n = schema.nodes
    query = select(n.c.id, n.c.kind, n.c.name, n.c.data, n.c.lat, n.c.lon, n.c.locality)
    found: dict[str, MapItem] = {}
    with store.engine.connect() as conn:
        for r in conn.execute(query.where(n.c.id.in_(list(rows)), *conditions)):
            if r.lat is None:
                continue
            item = found[r.id] = _item(r)
            if changed is not None and r.id not in changed:
                points.hold_item(rows[r.id], item.json)
    return found


ITEMS_READ_AT_ONCE = 2_000
"""Items read ahead in one statement, under one hold of the feed's shared lock."""


def read_items_ahead(
    store: Store,
    points: MapPoints,
    reading: Callable[[], AbstractContextManager[int]],
    kinds: Iterable[str],
) -> int:
    """Read and hold the item of every placed node of ``kinds`` the points hold none
    for, a part at a time, each within ``reading()`` (the feed's shared lock: the points
    stay at one version, whose number it gives), so that the first views after a start
    need not read them; how many items are held then."""
    for part in points.rows_without_items(kinds, ITEMS_READ_AT_ONCE):
        with reading() as seq:
            changed = changed_since(store, seq, store.last_seq())
            if changed is None:  # many writes going on: the views read what they show
                break
            read_items(store, points, {points.id_of(row): row for row in part}, changed)
    return points.items_held()


def changed_since(store: Store, since: int, seq: int) -> frozenset[str] | None:
    """The nodes the store changed after version ``since`` up to ``seq``; None when that
    is not known (too many changes, a gap in the log, an erasure)."""
    if seq <= since:
        return frozenset()
    with store.engine.connect() as conn:
        changes = changes_between(conn, since, seq)
    if changes is None or any(op not in (*WRITES, "delete") for op, _, _ in changes):
        return None
    return frozenset(ref for _, entity, ref in changes if entity == "node")
