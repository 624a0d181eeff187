"""Search filters evaluated on the graph view, before any ranking.

:func:`matching_ids` returns the exact set of nodes that pass every filter given,
so a ranker that only looks among them returns the best k that pass, never fewer
when more exist. Coordinates are the public ones (see :mod:`graph.geo`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import networkx as nx

from graph.errors import NodeNotFound
from graph.geo import EARTH_RADIUS_KM, haversine_km
from graph.queries import EdgeFilter, neighbors


@dataclass(frozen=True, slots=True)
class Near:
    """A circle on the map: ``radius_km`` around (``lat``, ``lon``)."""

    lat: float
    lon: float
    radius_km: float

    def distance_km(self, lat: float, lon: float) -> float:
        return haversine_km(self.lat, self.lon, lat, lon)


@dataclass(frozen=True, slots=True)
class SearchFilter:
    """Filters of a search; every one given must hold."""

    kinds: frozenset[str] | None = None
    sector: str | None = None
    sdg: str | None = None
    community: str | None = None
    country: str | None = None
    near: Near | None = None
    active: bool | None = None

    def given(self) -> dict[str, object]:
        """The filters that are set, by name (for explanations)."""
        found: dict[str, object] = {}
        for name in ("kinds", "sector", "sdg", "community", "country", "near", "active"):
            value = getattr(self, name)
            if value is not None:
                found[name] = sorted(value) if isinstance(value, frozenset) else value
        return found


def _linked(graph: nx.MultiDiGraph, targets: list[str], allow_edge: EdgeFilter | None) -> set[str]:
    found: set[str] = set()
    for target in targets:
        if target not in graph:
            raise NodeNotFound(target)
        found.update(neighbors(graph, target, allow_edge=allow_edge))
    return found


def matching_ids(
    graph: nx.MultiDiGraph,
    flt: SearchFilter,
    *,
    allow_edge: EdgeFilter | None = None,
) -> set[str] | None:
    """The ids passing every filter, or None when no filter is given (everything passes).

    ``sector``: linked to the sector by any edge. ``sdg``: linked to the goal or one of
    its targets. ``community``: linked to it or to a community that is part of it.
    ``allow_edge`` hides links the caller may not see (a person's community link finer
    than their chosen precision).
    """
    sets: list[set[str]] = []
    if flt.sector is not None:
        sets.append(_linked(graph, [flt.sector], allow_edge))
    if flt.sdg is not None:
        targets = [flt.sdg, *neighbors(graph, flt.sdg, edge_kinds={"part_of"}, direction="in")]
        sets.append(_linked(graph, targets, allow_edge))
    if flt.community is not None:
        parts = neighbors(graph, flt.community, edge_kinds={"part_of"}, direction="in")
        sets.append(_linked(graph, [flt.community, *parts], allow_edge))
    checks = _attribute_checks(flt)
    if not sets and not checks:
        return None
    nodes = graph.nodes
    pool = set.intersection(*sets) if sets else set(graph.nodes)
    return {node for node in pool if all(check(nodes[node]) for check in checks)}


def by_attributes(flt: SearchFilter) -> bool:
    """Whether ``flt`` reads the nodes' own attributes alone (no links to a sector, goal
    or community): then whether a node passes changes only when the node does."""
    return flt.sector is None and flt.sdg is None and flt.community is None


def matching_among(graph: nx.MultiDiGraph, flt: SearchFilter, nodes: Iterable[str]) -> set[str]:
    """Those of ``nodes`` the graph holds that pass ``flt``'s attribute filters (for a
    filter :func:`by_attributes`, as :func:`matching_ids` would find them)."""
    checks = _attribute_checks(flt)
    attributes = graph._node
    return {n for n in nodes if n in attributes and all(c(attributes[n]) for c in checks)}


def _attribute_checks(flt: SearchFilter) -> list[Callable[[dict[str, object]], bool]]:
    checks: list[Callable[[dict[str, object]], bool]] = []
    if flt.kinds is not None:
        kinds = flt.kinds
        checks.append(lambda a: a["kind"] in kinds)
    if flt.country is not None:
        country = flt.country.upper()
        checks.append(lambda a: a.get("country") == country)
    if flt.active is not None:
        active = flt.active
        checks.append(lambda a: a.get("active", True) is active)
    if flt.near is not None:
        checks.append(_within(flt.near))
    return checks


def _within(near: Near) -> Callable[[dict[str, object]], bool]:
    # A cheap bounding box first; the exact great-circle test only inside it.
    dlat = math.degrees(near.radius_km / EARTH_RADIUS_KM)
    coslat = max(math.cos(math.radians(near.lat)), 1e-6)
    dlon = min(180.0, dlat / coslat)

    def inside(attrs: dict[str, object]) -> bool:
        lat, lon = attrs.get("lat"), attrs.get("lon")
        if not isinstance(lat, float) or not isinstance(lon, float):
            return False
        if abs(lat - near.lat) > dlat:
            return False
        if dlon < 180.0 and abs((lon - near.lon + 180.0) % 360.0 - 180.0) > dlon:
            return False
        return near.distance_km(lat, lon) <= near.radius_km

    return inside
