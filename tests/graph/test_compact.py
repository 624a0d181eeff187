"""The compact graph answers exactly as the networkx graph it stands for, after any edits."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from graph.compact import (
    ATTRIBUTES,
    CompactGraph,
    attribute_reader,
    kind_reader,
    nodes_where,
)
from graph.compact_files import GraphFiles, build_arrays

KINDS = ["person", "initiative", "community", "sector"]
EDGE_KINDS = ["knows", "works_on", "member_of", "part_of"]


def _attrs(rng: random.Random) -> dict[str, Any]:
    return {
        "kind": rng.choice(KINDS),
        "visibility": rng.choice(["public", "members", "private"]),
        "discoverable": rng.choice([True, False]),
        "locality": rng.choice([None, "exact", "city", "region", "country"]),
        "country": rng.choice([None, "US", "KE", "IN"]),
        "lat": rng.choice([None, round(rng.uniform(-80, 80), 3)]),
        "lon": rng.choice([None, round(rng.uniform(-170, 170), 3)]),
        "active": rng.choice([True, False]),
    }


def _random_graph(rng: random.Random, nodes: int, edges: int) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    names = [f"{rng.choice(KINDS)}:n{i}" for i in range(nodes)]
    graph.add_nodes_from((name, _attrs(rng)) for name in names)
    for _ in range(edges):
        graph.add_edge(rng.choice(names), rng.choice(names), key=rng.choice(EDGE_KINDS))
    return graph


def _compact(graph: nx.MultiDiGraph, seq: int = 5) -> CompactGraph:
    rows = [(n, *a.values()) for n, a in graph.nodes(data=True)]
    return CompactGraph(build_arrays(seq, rows, list(graph.edges(keys=True))))


def _plain(row: Any) -> dict[str, dict[str, dict[str, Any]]]:
    return {other: {k: dict(d) for k, d in keys.items()} for other, keys in row.items()}


def _same(compact: nx.MultiDiGraph, graph: nx.MultiDiGraph, rng: random.Random) -> None:
    assert set(compact) == set(graph)
    assert len(compact) == compact.number_of_nodes() == graph.number_of_nodes()
    assert compact.number_of_edges() == graph.number_of_edges()
    assert dict(compact.nodes(data=True)) == dict(graph.nodes(data=True))
    assert dict(compact.nodes(data="kind")) == dict(graph.nodes(data="kind"))
    for kinds in (set(), {"person"}, {"person", "initiative"}, {"sector", "nothing"}):
        for country in (None, "US", "FR"):
            expected = {node for node, attrs in graph.nodes(data=True) if attrs["kind"] in kinds
                        and (country is None or attrs["country"] == country)}  # fmt: skip
            found = nodes_where(compact, kinds=kinds, country=country)
            assert found == nodes_where(graph, kinds=kinds, country=country) == expected
    assert set(compact.edges(keys=True)) == set(graph.edges(keys=True))
    # What the recommender reads alone of a node, read from the delta or the arrays.
    readers = [(kind_reader(compact), kind_reader(graph), lambda node: graph.nodes[node]["kind"])]
    readers += [
        (attribute_reader(compact, name), attribute_reader(graph, name),
         lambda node, name=name: graph.nodes[node][name])
        for name in ATTRIBUTES
    ]  # fmt: skip
    for node in graph:
        for compact_reads, graph_reads, expected in readers:
            assert compact_reads(node) == graph_reads(node) == expected(node)
    for node in graph:
        assert node in compact and compact.has_node(node)
        assert compact.nodes[node] == graph.nodes[node]
        assert _plain(compact._succ[node]) == _plain(graph._succ[node])
        assert _plain(compact._pred[node]) == _plain(graph._pred[node])
        assert len(compact._succ[node]) == len(graph._succ[node])
        assert list(compact._succ[node]) == list(compact._succ[node])
        assert sorted(compact.out_edges(node, keys=True)) == sorted(
            graph.out_edges(node, keys=True)
        )
        assert sorted(compact.in_edges(node, keys=True)) == sorted(graph.in_edges(node, keys=True))
        assert set(compact.successors(node)) == set(graph.successors(node))
        assert set(compact.predecessors(node)) == set(graph.predecessors(node))
    names = [*graph, "person:gone", "nobody"]
    for _ in range(200):
        u, v, k = rng.choice(names), rng.choice(names), rng.choice(EDGE_KINDS)
        assert compact.has_edge(u, v) == graph.has_edge(u, v)
        assert compact.has_edge(u, v, key=k) == graph.has_edge(u, v, key=k)
        if u in graph:
            assert (v in compact._succ[u]) == (v in graph._succ[u])
            assert compact._succ[u].get(v) == graph._succ[u].get(v)
            assert compact._pred[u].get(v, "none") == graph._pred[u].get(v, "none")
    for name in ("person:gone", "nobody"):
        if name not in graph:
            assert name not in compact
            with pytest.raises(KeyError):
                compact.nodes[name]
            with pytest.raises(KeyError):
                compact._succ[name]
            for compact_reads, graph_reads, _ in readers:
                with pytest.raises(KeyError):
                    compact_reads(name)
                with pytest.raises(KeyError):
                    graph_reads(name)
    some = rng.sample(list(graph), min(len(graph), 10))
    sub, expected = compact.subgraph_nx(some), graph.subgraph(some)
    assert dict(sub.nodes(data=True)) == dict(expected.nodes(data=True))
    assert set(sub.edges(keys=True)) == set(expected.edges(keys=True))


def _edit(compact: nx.MultiDiGraph, graph: nx.MultiDiGraph, rng: random.Random, fresh: int) -> None:
    """One random edit, made to both graphs the way the view makes it."""
    names = list(graph)
    action = rng.randrange(7)
    if action == 0 or not names:  # a new node
        name = f"{rng.choice(KINDS)}:new{fresh}"
        attrs = _attrs(rng)
        compact.add_node(name, **attrs)
        graph.add_node(name, **attrs)
    elif action == 1:  # new attributes for a node
        name, attrs = rng.choice(names), _attrs(rng)
        compact.add_node(name, **attrs)
        graph.add_node(name, **attrs)
    elif action == 2:
        name = rng.choice(names)
        compact.remove_node(name)
        graph.remove_node(name)
    elif action == 3:  # an erasure: several people at once
        gone = [n for n in names if n.startswith("person:")][:3]
        compact.remove_nodes_from([*gone, "nobody"])
        graph.remove_nodes_from([*gone, "nobody"])
    elif action in (4, 5):
        u, v, k = rng.choice(names), rng.choice(names), rng.choice(EDGE_KINDS)
        compact.add_edge(u, v, key=k)
        graph.add_edge(u, v, key=k)
    else:
        edges = list(graph.edges(keys=True))
        if edges:
            u, v, k = rng.choice(edges)
            compact.remove_edge(u, v, key=k)
            graph.remove_edge(u, v, key=k)
        stale = [(u, v, k) for u, v, k in rng.sample(edges, min(3, len(edges)))]
        stale.append(("nobody", "person:gone", "knows"))
        compact.remove_edges_from(stale)
        graph.remove_edges_from(stale)


def test_the_compact_view_reads_no_attribute_it_does_not_hold() -> None:
    compact = _compact(_random_graph(random.Random(1), nodes=5, edges=5))
    with pytest.raises(ValueError, match="name"):
        attribute_reader(compact, "name")


@pytest.mark.parametrize("seed", range(6))
def test_after_random_edits_the_compact_graph_answers_as_networkx(seed: int) -> None:
    rng = random.Random(seed)
    graph = _random_graph(rng, nodes=rng.choice([0, 1, 30, 80]), edges=rng.choice([0, 60, 400]))
    compact = _compact(graph)
    _same(compact, graph, rng)
    for step in range(120):
        _edit(compact, graph, rng, step)
        if step % 10 == 0:
            _same(compact, graph, rng)
    _same(compact, graph, rng)


def test_files_are_mapped_read_only_and_answer_as_the_arrays(tmp_path: Path) -> None:
    rng = random.Random(11)
    graph = _random_graph(rng, nodes=60, edges=300)
    compact = _compact(graph, seq=9)
    files = GraphFiles(tmp_path / "graph")
    with files.locked():
        name = files.write(compact.arrays)
    assert files.current() == name and files.current_seq() == 9
    mapped = files.load()
    assert mapped is not None
    assert not mapped.out_targets.flags.writeable
    _same(CompactGraph(mapped), graph, rng)
    with files.locked():
        newer = files.write(compact.arrays)
    assert [p.name for p in (tmp_path / "graph").iterdir() if p.is_dir()] == [newer]
