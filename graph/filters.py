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

from graph.compact import nodes_where
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


def _linked(
    graph: nx.MultiDiGraph, targets: Iterable[str], allow_edge: EdgeFilter | None
) -> set[str]:
    """The nodes linked to any of ``targets`` by an edge either way (one ``allow_edge``
    lets), in no order: a sector's members are tens of thousands."""
    found: set[str] = set()
    for target in targets:
        if target not in graph:
            raise NodeNotFound(target)
        if allow_edge is None:
            found.update(graph._succ[target])
            found.update(graph._pred[target])
            continue
        for other, keys in graph._succ[target].items():
            if any(allow_edge(target, kind, other) for kind in keys):
                found.add(other)
        for other, keys in graph._pred[target].items():
            if any(allow_edge(other, kind, target) for kind in keys):
                found.add(other)
    return found


def _links_to(
    graph: nx.MultiDiGraph, node: str, targets: frozenset[str], allow_edge: EdgeFilter | None
) -> bool:
    """Whether ``node`` is linked to one of ``targets`` (as :func:`_linked` finds it)."""
    for other, keys in graph._succ[node].items():
        if other in targets and (
            allow_edge is None or any(allow_edge(node, kind, other) for kind in keys)
        ):
            return True
    for other, keys in graph._pred[node].items():
        if other in targets and (
            allow_edge is None or any(allow_edge(other, kind, node) for kind in keys)
        ):
            return True
    return False


def link_targets(graph: nx.MultiDiGraph, flt: SearchFilter) -> tuple[frozenset[str], ...] | None:
    """For each filter of ``flt`` by links (a sector; a goal), the nodes of which a node
    must be linked to one (the sector; the goal and its targets), as the graph holds them
    now; None for a filter by a community (whose links depend on who asks) or by a node
    the graph does not hold."""
    if flt.community is not None:
        return None
    found: list[frozenset[str]] = []
    if flt.sector is not None:
        if flt.sector not in graph:
            return None
        found.append(frozenset([flt.sector]))
    if flt.sdg is not None:
        if flt.sdg not in graph:
            return None
        parts = neighbors(graph, flt.sdg, edge_kinds={"part_of"}, direction="in")
        found.append(frozenset([flt.sdg, *parts]))
    return tuple(found)


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
    if sets:
        pool = set.intersection(*sets)
    elif flt.kinds is not None:  # (the columns of kinds and countries, in the compact view)
        pool = nodes_where(graph, kinds=flt.kinds, country=_country(flt))
        checks = _attribute_checks(flt, columns=False)
    else:
        pool = set(graph.nodes)
    if not checks:
        return pool
    return {node for node in pool if all(check(nodes[node]) for check in checks)}


def matching_among(
    graph: nx.MultiDiGraph,
    flt: SearchFilter,
    nodes: Iterable[str],
    *,
    targets: tuple[frozenset[str], ...] = (),
    allow_edge: EdgeFilter | None = None,
) -> set[str]:
    """Those of ``nodes`` the graph holds that pass ``flt``'s attribute filters and are
    linked to one node of each of ``targets`` (:func:`link_targets`): as
    :func:`matching_ids` would find them, for a filter by no community.

    Whether a node passes such a filter changes only when the node does, or an edge at
    it: with ``targets`` unchanged, a set found for one version is brought to the next
    through the nodes the changes touched (both ends of every edge)."""
    checks = _attribute_checks(flt)
    attributes = graph._node
    return {
        n
        for n in nodes
        if n in attributes
        and all(c(attributes[n]) for c in checks)
        and all(_links_to(graph, n, linked, allow_edge) for linked in targets)
    }


def _attribute_checks(
    flt: SearchFilter, *, columns: bool = True
) -> list[Callable[[dict[str, object]], bool]]:
    """The checks of ``flt``'s attributes on a node's; ``columns`` False: but those of its
    kinds and country (:func:`graph.compact.nodes_where`)."""
    checks: list[Callable[[dict[str, object]], bool]] = []
    if columns and flt.kinds is not None:
        kinds = flt.kinds
        checks.append(lambda a: a["kind"] in kinds)
    if columns and (country := _country(flt)) is not None:
        checks.append(lambda a: a.get("country") == country)
    if flt.active is not None:
        active = flt.active
        checks.append(lambda a: a.get("active", True) is active)
    if flt.near is not None:
        checks.append(_within(flt.near))
    return checks


def _country(flt: SearchFilter) -> str | None:
    return None if flt.country is None else flt.country.upper()


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
