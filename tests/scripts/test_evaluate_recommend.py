"""The recommender evaluation: its metrics, splits and baselines on known cases, and a
small run of ``scripts/evaluate.py recommend`` end to end with the real model."""

from __future__ import annotations

import json
import math
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from graph.edges import Edge
from graph.model import Initiative, Organization, Person
from graph.similarity import VectorSimilarity
from tests.api.conftest import SHARED_CACHE
from tests.scripts.loading import load_script

recommend = load_script("evaluate_recommend")
evaluate = load_script("evaluate")


def test_figures_of_one_ranking() -> None:
    truth = frozenset({"b", "z"})
    assert recommend.figures(["a", "b", "c"], truth) == {
        "hits@10": 1.0, "recall@10": 0.5, "mrr@10": 0.5,
    }  # fmt: skip
    assert recommend.figures([f"x{i}" for i in range(10)] + ["b"], truth)["hits@10"] == 0.0
    assert recommend.figures([], truth) == {"hits@10": 0.0, "recall@10": 0.0, "mrr@10": 0.0}


def test_halves_are_stable_and_fair() -> None:
    keys = [f"person:p-{i}" for i in range(400)]
    halves = [recommend.half_of(k) for k in keys]
    assert halves == [recommend.half_of(k) for k in keys]
    assert 150 < halves.count("validation") < 250


def _network() -> object:
    network = recommend.Network()
    nodes = [
        Person(id="person:a", name="A"), Person(id="person:b", name="B"),
        Person(id="person:c", name="C"), Person(id="person:d", name="D", discoverable=False),
        Initiative(id="initiative:x", name="X"), Initiative(id="initiative:y", name="Y"),
    ]  # fmt: skip
    network.nodes = {n.id: n for n in nodes}
    old, new = date(2020, 1, 1), date(2024, 1, 1)
    network.edges = [
        Edge(kind="knows", source="person:a", target="person:b", since=old),
        Edge(kind="works_on", source="person:a", target="initiative:x", since=old),
        Edge(kind="knows", source="person:b", target="person:c", since=new),  # new tie
        Edge(kind="knows", source="person:a", target="person:d", since=new),  # D: no consent
        Edge(kind="works_on", source="person:c", target="initiative:x", since=new),
        Edge(kind="works_on", source="person:a", target="initiative:y"),  # undated: known
    ]
    return network


def test_the_time_split_predicts_only_new_links_to_recommendable_nodes() -> None:
    collaborators, initiatives, people = recommend.time_split(_network(), date(2023, 1, 1))
    assert set(collaborators.graph.edges(keys=True)) == {
        ("person:a", "person:b", "knows"), ("person:a", "initiative:x", "works_on"),
        ("person:a", "initiative:y", "works_on"),
    }  # fmt: skip
    truth = {q.seed: q.truth for q in collaborators.queries}
    # D may be recommended people (A), but is never recommended to anyone
    assert truth == {"person:b": {"person:c"}, "person:c": {"person:b"}, "person:d": {"person:a"}}
    assert {q.seed: q.truth for q in initiatives.queries} == {"person:c": {"initiative:x"}}
    assert {q.seed: q.truth for q in people.queries} == {"initiative:x": {"person:c"}}


def test_adamic_adar_and_its_bipartite_form() -> None:
    orgs = [Organization(id=f"organization:{o}", name=o) for o in "pq"]
    work = [Initiative(id=f"initiative:{i}", name=i) for i in "uvw"]
    nodes = {n.id: n for n in [*orgs, *work]}
    edges = [
        Edge(kind="partners_with", source=f"organization:{o}", target=f"initiative:{i}")
        for o, i in [("p", "u"), ("p", "v"), ("q", "v"), ("q", "w")]
    ]
    graph = recommend.build_graph(nodes, edges)
    pool = frozenset(n.id for n in work)
    vectors = {n: np.ones(2, dtype=np.float32) for n in nodes}
    plain = recommend.Baselines(
        recommend.Task("t", graph, "initiative", pool, [], recommend.PARTNERS), vectors
    )
    aa = plain.adamic_adar("initiative:u")
    # u and v share p (degree 2); u and w share nothing
    assert aa[plain.position["initiative:v"]] == pytest.approx(1 / math.log(2))
    assert aa[plain.position["initiative:w"]] == 0
    task = recommend.Task("t", graph, "initiative", pool, [], recommend.PARTNERS, bipartite=True)
    bipartite = recommend.Baselines(task, vectors)
    # p -> v -> q -> w: one path of length three through q (degree 2)
    three = bipartite.adamic_adar("organization:p")
    assert three[bipartite.position["initiative:w"]] == pytest.approx(1 / math.log(2))
    graph.remove_edge("organization:q", "initiative:w", "partners_with")  # held out
    assert bipartite.adamic_adar("organization:p")[bipartite.position["initiative:w"]] == 0


def test_exact_similarity_answers_like_the_reference_one() -> None:
    rng = np.random.default_rng(3)
    vectors = {f"person:n{i:03d}": rng.normal(size=8) for i in range(300)}
    vectors.update({f"person:t{i}": np.ones(8) for i in range(5)})  # ties
    fast, slow = recommend.ExactSimilarity(vectors), VectorSimilarity(vectors)
    among = frozenset(list(vectors)[::2])
    for node in ("person:n001", "person:t0"):
        for kwargs in ({}, {"among": among}, {"exclude": {"person:t3"}}):
            expected = slow.nearest(node, 12, **kwargs)
            found = fast.nearest(node, 12, **kwargs)
            assert [i for i, _ in found] == [i for i, _ in expected]
            assert np.allclose([s for _, s in found], [s for _, s in expected], atol=1e-5)


def test_a_small_run_reports_every_task_and_system(tmp_path: Path) -> None:
    """``scripts/evaluate.py recommend`` on 80 people: it runs, and says what it measured."""
    cache = SHARED_CACHE / "recommend"
    seeded = Path("var/eval/recommend-vectors-all-MiniLM-L6-v2.npz")
    if not cache.is_dir() and seeded.is_file():  # reuse vectors a full run encoded
        cache.mkdir(parents=True)
        shutil.copy(seeded, cache / seeded.name)
    target = tmp_path / "recommend.json"
    code = evaluate.main(["recommend", "--people", "80", "--cache", str(cache),
                          "--json", str(target)])  # fmt: skip
    assert code == 0
    report = json.loads(target.read_text(encoding="utf-8"))
    assert set(report["tasks"]) == {"collaborators", "initiatives", "people", "dpg leave-one-out"}
    for name, task in report["tasks"].items():
        assert task["queries"]["test"] > 0 or name == "people", name
        for half in ("validation", "test"):
            for system in ("Adamic-Adar", "text", "recommender"):
                figures = task[half][system]
                if figures:
                    assert set(figures) == {"hits@10", "recall@10", "mrr@10"}
                    assert all(0.0 <= v <= 1.0 for v in figures.values())
    assert report["tasks"]["dpg leave-one-out"]["queries"] == {"validation": 149, "test": 139}
    assert set(report["tuning"]) == {"people", "helpers", "initiatives", "partners"}
