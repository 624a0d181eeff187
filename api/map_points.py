"""Every node's public position and the columns the map filters on, held in arrays.

A view of the map (:func:`api.map_clusters.clusters`) read the store: a ``GROUP BY`` over
the rows in the view, which at 100,000 people took tens of milliseconds for a small
screen and hundreds for the world (and seconds at a million). Here the same columns as
the store's (:func:`graph.store.node_columns`: the public position, a person's precision,
visibility, discoverability, country) are held per row in numpy arrays, built from the
``nodes`` table at start and kept by the change feed (a projection, :mod:`graph.feed`);
a view is then a few masks and one :func:`numpy.bincount` over its cells. The items of
the small clusters need each node's name and the first sentence of its text: each
placed node's item is read from the store once (ahead, by the warmer after a start, or
by the first view showing it) and held with its row, as sent, until a change to the
node comes (panning shows the same nodes again and again). Links to
a sector, goal or community are not held: a view filtered by one is still read by SQL.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select

from graph import schema
from graph.feed import ChangeBatch
from graph.listing import NodeFilter
from graph.model import Node
from graph.store import Store, node_columns
from graph.visibility import ListingAudience

log = logging.getLogger(__name__)

Floats = npt.NDArray[np.float64]
Codes = npt.NDArray[np.int16]
Mask = npt.NDArray[np.bool_]
_MASKS_HELD = 16
"""Masks of listed rows held (one per filter and audience, a byte a row each)."""
_READ_AT_ONCE = 20_000
"""Rows read from the store at a time while the points are built (not a million at once)."""
Row = tuple[str, str, float | None, float | None, str | None, str, bool, str | None]
"""id, kind, lat, lon, locality, visibility, discoverable, country: as the table has them."""


@dataclass(frozen=True, slots=True)
class Cells:
    """The rows a view shows, each with the cell (column, row, area band) it falls in."""

    rows: npt.NDArray[np.intp]
    x: npt.NDArray[np.int64]
    y: npt.NDArray[np.int64]
    band: npt.NDArray[np.int64]
    kind: Codes
    lat: Floats
    lon: Floats
    """Longitudes shifted by 360 east of the date line in a view across it."""
    unplaced: int


class _Codes:
    """Small integers for the values of one column (0 is None)."""

    def __init__(self) -> None:
        self.values: list[str | None] = [None]
        self.codes: dict[str | None, int] = {None: 0}

    def code(self, value: str | None) -> int:
        found = self.codes.get(value)
        if found is None:
            found = self.codes[value] = len(self.values)
            self.values.append(value)
        return found

    def among(self, values: Iterable[str]) -> list[int]:
        """The codes of those of ``values`` seen so far."""
        return [self.codes[v] for v in values if v in self.codes]


class MapPoints:
    """What the map reads of every node, one row each; a projection of the change feed.

    Rows are never moved: a deleted node's row is marked dead and a new node takes a
    new row, so that an index held during a request stays valid. Requests read under the
    feed's shared lock and :meth:`apply` runs under its exclusive one.
    """

    def __init__(self) -> None:
        self._rows: dict[str, int] = {}
        self._ids: list[str] = []
        self.kinds, self.visibilities, self.localities, self.countries = (
            _Codes(), _Codes(), _Codes(), _Codes()
        )  # fmt: skip
        self._size = 0
        self._lat: Floats = np.zeros(0)
        self._lon: Floats = np.zeros(0)
        self._kind: Codes = np.zeros(0, np.int16)
        self._visibility: Codes = np.zeros(0, np.int16)
        self._locality: Codes = np.zeros(0, np.int16)
        self._country: Codes = np.zeros(0, np.int16)
        self._discoverable: Mask = np.zeros(0, bool)
        self._live: Mask = np.zeros(0, bool)
        self._items: list[bytes | None] = []  # each row's map item, once read
        self._changes = 0  # batches applied: a mask of listed rows holds until the next
        self._masks: dict[tuple[NodeFilter, ListingAudience], tuple[int, Mask]] = {}
        self._masks_lock = threading.Lock()  # requests of one version share the masks

    @classmethod
    def from_store(cls, store: Store) -> MapPoints:
        """Every node of the store as its table has it now (changes written meanwhile are
        set again, idempotently, by the feed)."""
        n = schema.nodes
        query = select(n.c.id, n.c.kind, n.c.lat, n.c.lon, n.c.locality, n.c.visibility,
                       n.c.discoverable, n.c.country)  # fmt: skip
        points = cls()
        with store.engine.connect() as conn:
            found = conn.execution_options(stream_results=True, yield_per=_READ_AT_ONCE)
            for part in found.execute(query).partitions():
                points._set([tuple(row) for row in part])
        log.info("map points: %d nodes", len(points))
        return points

    def __len__(self) -> int:
        return len(self._rows)

    # -- a projection of the change feed (graph.feed) ---------------------------

    def prepare(self, batch: ChangeBatch) -> tuple[set[str], list[Row]]:
        """(ids gone, rows to set) for the nodes the batch touched."""
        touched = set(batch.touched_nodes) | batch.erased(self._rows)
        current = [_row(node) for i in sorted(touched) if (node := batch.nodes.get(i))]
        return touched - {row[0] for row in current}, current

    def apply(self, batch: ChangeBatch, prepared: tuple[set[str], list[Row]]) -> None:
        gone, current = prepared
        for node_id in gone:
            row = self._rows.pop(node_id, None)
            if row is not None:
                self._live[row] = False
                self._items[row] = None  # an erased person's name is not kept
        self._set(current)

    def _set(self, rows: list[Row]) -> None:
        self._changes += 1
        new = [row for row in rows if row[0] not in self._rows]
        self._grow(self._size + len(new))
        for node_id, *_ in new:
            self._rows[node_id] = self._size
            self._ids.append(node_id)
            self._items.append(None)
            self._size += 1
        for node_id, kind, lat, lon, locality, visibility, discoverable, country in rows:
            at = self._rows[node_id]
            self._lat[at] = math.nan if lat is None else lat
            self._lon[at] = math.nan if lon is None else lon
            self._kind[at] = self.kinds.code(kind)
            self._visibility[at] = self.visibilities.code(visibility)
            self._locality[at] = self.localities.code(locality)
            self._country[at] = self.countries.code(country)
            self._discoverable[at] = bool(discoverable)
            self._live[at] = True
            self._items[at] = None  # its name or text may have changed

    def _grow(self, size: int) -> None:
        if size <= self._live.size:
            return
        capacity = max(size, int(self._live.size * 1.5), 1024)
        for name in ("_lat", "_lon", "_kind", "_visibility", "_locality", "_country",
                     "_discoverable", "_live"):  # fmt: skip
            old = getattr(self, name)
            grown = np.zeros(capacity, old.dtype)
            grown[: old.size] = old
            setattr(self, name, grown)

    # -- reading -------------------------------------------------------------------

    def id_of(self, row: int) -> str:
        return self._ids[row]

    def kind_of(self, code: int) -> str:
        return str(self.kinds.values[code])

    def held_item(self, row: int) -> bytes | None:
        """The map item of ``row`` as sent (:class:`api.map_clusters.MapItem`), if held."""
        return self._items[row]

    def hold_item(self, row: int, text: bytes) -> None:
        """Hold the item of ``row`` as the store has it at the points' version (the
        caller's to know: the item of a node changed since must not be held here)."""
        self._items[row] = text

    def items_held(self) -> int:
        return sum(text is not None for text in self._items)

    def rows_without_items(self, kinds: Iterable[str], size: int) -> list[list[int]]:
        """The live, placed rows of these kinds holding no item yet, in parts of at most
        ``size``."""
        end = self._size
        live = self._live[:end] & ~np.isnan(self._lat[:end])
        live &= _among(self._kind[:end], self.kinds, kinds)
        rows = [row for row in np.flatnonzero(live).tolist() if self._items[row] is None]
        return [rows[start : start + size] for start in range(0, len(rows), size)]

    def listed(self, flt: NodeFilter, audience: ListingAudience) -> Mask | None:
        """The rows passing ``flt`` that ``audience`` may list; None if the filter needs
        links (sector, goal, community) or names, which are not held here."""
        if flt.sector or flt.sdg or flt.community or flt.name_prefix:
            return None
        key = (flt, audience)
        found = self._masks.get(key)
        if found is None or found[0] != self._changes:
            mask = self._listed(flt, audience)
            mask.flags.writeable = False  # shared by the requests until the next change
            found = (self._changes, mask)
            with self._masks_lock:  # two requests may hold and drop masks at once
                self._masks[key] = found
                while len(self._masks) > _MASKS_HELD:
                    self._masks.pop(next(iter(self._masks)))
        return found[1]

    def _listed(self, flt: NodeFilter, audience: ListingAudience) -> Mask:
        size = self._size
        mask = self._live[:size].copy()
        if flt.kinds is not None:
            mask &= _among(self._kind[:size], self.kinds, flt.kinds)
        if flt.country is not None:
            mask &= self._country[:size] == self.countries.codes.get(flt.country.upper(), -1)
        visible: Mask | None = None
        if audience.visibilities is not None:
            visible = _among(self._visibility[:size], self.visibilities, audience.visibilities)
        if not audience.include_undiscoverable:
            shown = self._discoverable[:size]
            visible = shown.copy() if visible is None else visible & shown
        if visible is not None:
            for own in audience.own:
                row = self._rows.get(own)
                if row is not None:
                    visible[row] = True
            mask &= visible
        return mask

    def cells(self, mask: Mask, view: Any, bands: tuple[tuple[str, float], ...]) -> Cells:
        """The rows of ``mask`` within ``view`` (an :class:`api.map_clusters.View`), each
        with its cell; ``bands`` are the precisions grouped apart (code 1, 2, ...) when the
        view's cells are finer than the area they stand for."""
        size = self._size
        lat, lon = self._lat[:size], self._lon[:size]
        placed = ~np.isnan(lat)
        unplaced = int(np.count_nonzero(mask & ~placed))
        with np.errstate(invalid="ignore"):  # NaN compares false: unplaced rows drop out
            inside = mask & (lat >= view.south) & (lat <= view.north)
            if view.wraps:
                inside &= (lon >= view.west) | (lon <= view.east)
            else:
                inside &= (lon >= view.west) & (lon <= view.east)
        rows = np.flatnonzero(inside)
        shown_lat, shown_lon = lat[rows], lon[rows]
        if view.wraps:
            shown_lon = np.where(shown_lon < view.west, shown_lon + 360, shown_lon)
        band = np.zeros(rows.size, np.int64)
        localities = self._locality[rows]
        for index, (precision, area) in enumerate(bands):
            code = self.localities.codes.get(precision)
            if view.cell < area and code is not None:
                band[localities == code] = index + 1
        return Cells(
            rows=rows,
            x=((shown_lon - view.west) / view.cell).astype(np.int64),
            y=((shown_lat - view.south) / view.cell).astype(np.int64),
            band=band,
            kind=self._kind[rows],
            lat=shown_lat,
            lon=shown_lon,
            unplaced=unplaced,
        )


def _among(column: Codes, codes: _Codes, values: Iterable[str]) -> Mask:
    """The rows of ``column`` holding one of ``values``: a look-up of each row's code in
    a table of the few codes there are (a tenth of the time of :func:`numpy.isin`)."""
    table = np.zeros(len(codes.values), bool)
    table[codes.among(values)] = True
    return table[column]


def _row(node: Node) -> Row:
    columns = node_columns(node)
    return (node.id, node.kind, columns["lat"], columns["lon"], columns["locality"],
            columns["visibility"], columns["discoverable"], columns["country"])  # fmt: skip
