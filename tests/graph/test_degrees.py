"""Degrees kept per version of the graph, carried over from one version to the next."""

from __future__ import annotations

import random

import networkx as nx

from graph.matching.context import Degrees


def _graph(rng: random.Random) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(f"n{i}" for i in range(60))
    for _ in range(200):
        graph.add_edge(f"n{rng.randrange(60)}", f"n{rng.randrange(60)}", key="knows")
    return graph


def _every(degrees: Degrees, graph: nx.MultiDiGraph) -> dict[str, int]:
    return {node: degrees(node) for node in graph}


def test_versions_carried_without_a_fill_between_fill_only_what_changed() -> None:
    rng = random.Random(3)
    graph = _graph(rng)
    first = Degrees(graph)
    first.fill()
    changed: list[str] = []
    older = first
    for step in range(4):  # writes faster than the warmer: no version between is filled
        a, b = f"n{rng.randrange(60)}", f"new{step}"
        graph.add_edge(a, b, key="knows")
        changed += [a, b]
        version = Degrees(graph)
        version.carry(older, [a, b])
        older = version
    assert older._missing is not None and set(older._missing) == set(changed)
    older.fill()
    assert older._missing == []
    assert _every(older, graph) == _every(Degrees(graph), graph)


def test_a_version_carried_from_one_never_filled_fills_every_node() -> None:
    rng = random.Random(4)
    graph = _graph(rng)
    unfilled = Degrees(graph)
    unfilled("n1")
    graph.add_edge("n1", "n2", key="knows")
    version = Degrees(graph)
    version.carry(unfilled, ["n1", "n2"])
    assert version._missing is None
    version.fill()
    assert _every(version, graph) == _every(Degrees(graph), graph)


def test_a_version_carried_from_gives_up_what_it_held_and_still_answers() -> None:
    """Carrying takes the older version's degrees rather than copying them: the older
    one holds none after, and computes any it is asked for from its graph."""
    rng = random.Random(5)
    graph = _graph(rng)
    older = Degrees(graph)
    older.fill()
    graph.add_edge("n1", "n2", key="knows")
    version = Degrees(graph)
    version.carry(older, ["n1", "n2"])
    assert older._seen == {} and older._missing is None
    assert older._seen is not version._seen
    assert _every(older, graph) == _every(Degrees(graph), graph)
    version.fill()
    assert _every(version, graph) == _every(Degrees(graph), graph)
