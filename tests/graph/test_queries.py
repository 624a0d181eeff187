from __future__ import annotations

import networkx as nx
import pytest

from graph.errors import NodeNotFound, NoPath
from graph.queries import Step, k_hop, neighbors, shortest_path
from graph.store import Store
from graph.view import GraphView


@pytest.fixture
def graph(network: Store) -> nx.MultiDiGraph:
    return GraphView.from_store(network).graph


def test_neighbors_by_kind_and_direction(graph: nx.MultiDiGraph) -> None:
    assert neighbors(graph, "initiative:safe-streets", node_kinds={"person"}) == [
        "person:ahmed",
        "person:maria",
    ]
    assert neighbors(graph, "person:ahmed", edge_kinds={"knows"}, direction="in") == []
    assert neighbors(graph, "person:lena", edge_kinds={"knows"}, direction="in") == ["person:ahmed"]


def test_k_hop_reports_distances(graph: nx.MultiDiGraph) -> None:
    near = k_hop(graph, "person:maria", depth=2, node_kinds={"person"})
    assert near == {"person:ahmed": 2}
    assert k_hop(graph, "person:maria", depth=3, node_kinds={"person"}) == {
        "person:ahmed": 2,
        "person:lena": 3,
    }
    # Hubs such as goals can be excluded from what a path may pass through.
    through = k_hop(graph, "sdg:16", depth=2, through_kinds={"initiative"}, node_kinds={"person"})
    assert through == {"person:ahmed": 2, "person:maria": 2}


def test_shortest_path_is_stable_and_directed_steps_are_marked(graph: nx.MultiDiGraph) -> None:
    path = shortest_path(graph, "person:maria", "person:lena")
    assert path == [
        Step("person:maria", "works_on", "initiative:safe-streets", True),
        Step("initiative:safe-streets", "works_on", "person:ahmed", False),
        Step("person:ahmed", "knows", "person:lena", True),
    ]
    assert shortest_path(graph, "person:maria", "person:maria") == []


def test_no_path_and_unknown_nodes(graph: nx.MultiDiGraph) -> None:
    with pytest.raises(NoPath, match="within 2 hops"):
        shortest_path(graph, "person:maria", "person:lena", max_depth=2)
    with pytest.raises(NoPath):
        shortest_path(graph, "person:maria", "sdg:1")
    with pytest.raises(NodeNotFound, match="person:ghost"):
        neighbors(graph, "person:ghost")
