"""Typed queries over the graph view: neighbours, k-hop neighbourhoods, paths.

Pure functions of a :class:`networkx.MultiDiGraph` whose nodes carry ``kind`` and
whose edge keys are edge kinds. Results are sorted so that they are stable.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Literal

import networkx as nx

from graph.errors import NodeNotFound, NoPath

Direction = Literal["out", "in", "both"]
EdgeFilter = Callable[[str, str, str], bool]
"""``allow_edge(source, kind, target)``: whether a walk may use this stored edge."""


@dataclass(frozen=True, slots=True)
class Step:
    """One hop of a path: from ``source`` to ``target`` over an edge of ``kind``.

    ``forward`` is True when the stored edge points from ``source`` to ``target``.
    """

    source: str
    kind: str
    target: str
    forward: bool


def _require(graph: nx.MultiDiGraph, *nodes: str) -> None:
    for node in nodes:
        if node not in graph:
            raise NodeNotFound(node)


def _incident(
    graph: nx.MultiDiGraph,
    node: str,
    direction: Direction,
    allow_edge: EdgeFilter | None = None,
) -> list[tuple[str, str, bool]]:
    """(neighbour, edge kind, forward) for every (allowed) edge at ``node``, sorted."""
    found: list[tuple[str, str, bool]] = []
    if direction in ("out", "both"):
        found.extend((t, k, True) for _, t, k in graph.out_edges(node, keys=True))
    if direction in ("in", "both"):
        found.extend((s, k, False) for s, _, k in graph.in_edges(node, keys=True))
    if allow_edge is not None:
        found = [
            (other, kind, forward)
            for other, kind, forward in found
            if (allow_edge(node, kind, other) if forward else allow_edge(other, kind, node))
        ]
    found.sort()
    return found


def neighbors(
    graph: nx.MultiDiGraph,
    node: str,
    *,
    node_kinds: Collection[str] | None = None,
    edge_kinds: Collection[str] | None = None,
    direction: Direction = "both",
    allow: Callable[[str], bool] | None = None,
    allow_edge: EdgeFilter | None = None,
) -> list[str]:
    """Distinct neighbours of ``node``, optionally only of some node and edge kinds."""
    _require(graph, node)
    kinds = graph.nodes
    seen = {
        other
        for other, kind, _ in _incident(graph, node, direction, allow_edge)
        if (edge_kinds is None or kind in edge_kinds)
        and (node_kinds is None or kinds[other]["kind"] in node_kinds)
        and (allow is None or allow(other))
    }
    return sorted(seen)


def k_hop(
    graph: nx.MultiDiGraph,
    node: str,
    *,
    depth: int = 2,
    node_kinds: Collection[str] | None = None,
    edge_kinds: Collection[str] | None = None,
    through_kinds: Collection[str] | None = None,
    allow: Callable[[str], bool] | None = None,
    allow_edge: EdgeFilter | None = None,
    limit: int | None = None,
) -> dict[str, int]:
    """Nodes within ``depth`` hops of ``node`` (edges in either direction) and their distance.

    ``node_kinds`` filters what is returned; ``through_kinds`` restricts which kinds a
    path may pass through (default: any); ``limit`` stops the search early once that
    many results were found, nearest first; ``allow`` (a node predicate) hides nodes
    entirely: they are neither returned nor passed through. ``node`` itself is not
    returned. ``allow_edge`` hides single edges (see :data:`EdgeFilter`).
    """
    _require(graph, node)
    if depth < 0:
        raise ValueError(f"depth must be >= 0, got {depth}")
    kinds = graph.nodes
    distance = {node: 0}
    queue: deque[str] = deque([node])
    found: dict[str, int] = {}
    while queue:
        current = queue.popleft()
        hops = distance[current]
        if hops == depth:
            continue
        for other, kind, _ in _incident(graph, current, "both", allow_edge):
            if other in distance or (edge_kinds is not None and kind not in edge_kinds):
                continue
            if allow is not None and not allow(other):
                continue
            distance[other] = hops + 1
            other_kind = kinds[other]["kind"]
            if node_kinds is None or other_kind in node_kinds:
                found[other] = hops + 1
                if limit is not None and len(found) >= limit:
                    return found
            if through_kinds is None or other_kind in through_kinds:
                queue.append(other)
    return found


def shortest_path(
    graph: nx.MultiDiGraph,
    source: str,
    target: str,
    *,
    max_depth: int | None = None,
    through_kinds: Collection[str] | None = None,
    allow: Callable[[str], bool] | None = None,
    allow_edge: EdgeFilter | None = None,
) -> list[Step]:
    """A shortest path from ``source`` to ``target``, following edges in either direction.

    Among equally short paths the lexicographically first (by neighbour id, then edge
    kind) is returned, so the answer is stable. Only nodes for which ``allow`` holds
    are passed through. Raises :class:`NoPath`.
    """
    _require(graph, source, target)
    if source == target:
        return []
    kinds = graph.nodes
    parent: dict[str, tuple[str, str, bool]] = {}
    distance = {source: 0}
    queue: deque[str] = deque([source])
    while queue:
        current = queue.popleft()
        if max_depth is not None and distance[current] >= max_depth:
            continue
        passable = through_kinds is None or kinds[current]["kind"] in through_kinds
        if current != source and not passable:
            continue
        for other, kind, forward in _incident(graph, current, "both", allow_edge):
            if other in distance or (allow is not None and other != target and not allow(other)):
                continue
            distance[other] = distance[current] + 1
            parent[other] = (current, kind, forward)
            if other == target:
                return _unwind(parent, target)
            queue.append(other)
    raise NoPath(source, target, max_depth)


def _unwind(parent: dict[str, tuple[str, str, bool]], target: str) -> list[Step]:
    steps: list[Step] = []
    node = target
    while node in parent:
        previous, kind, forward = parent[node]
        steps.append(Step(previous, kind, node, forward))
        node = previous
    steps.reverse()
    return steps
