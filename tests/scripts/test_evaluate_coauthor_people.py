"""People for an initiative on co-authorship: the queries (coordinator and truth), the
baselines' pure logic and a run of every system on a tiny hand-made network (the NeurIPS
files are never read here)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from graph.similarity import VectorSimilarity
from tests.scripts.loading import load_script

people = load_script("evaluate_coauthor_people")

# year, title, authors; every name and title is made up
PAPERS = [
    (2000, "Sparse coding of natural images", ["Ann Alder", "Bo Birch"]),
    (2000, "Kernel methods for ranking", ["Bo Birch", "Cy Cedar"]),
    (2001, "Ranking with sparse kernels", ["Cy Cedar", "Di Dogwood"]),
    (2001, "Image priors for denoising", ["Ann Alder", "Ed Elm"]),
    (2002, "Sparse kernels for images", ["Ann Alder", "Bo Birch", "Cy Cedar", "Gil Gum"]),
    (2002, "A paper alone", ["Fay Fir"]),
    (2003, "Denoising by ranking", ["Ed Elm", "Di Dogwood", "Fay Fir"]),
    (2003, "Newcomers only", ["Hal Hazel", "Ivy Ilex"]),
    (2003, "One known author", ["Ann Alder", "Hal Hazel"]),
]


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "papers.csv").open("w", newline="", encoding="utf-8") as stream:
        out = csv.writer(stream)
        out.writerow(["paper_id", "year", "title", "n_authors"])
        for n, (year, title, authors) in enumerate(PAPERS):
            out.writerow([f"p{n}", year, title, len(authors)])
    with (folder / "authorships.csv").open("w", newline="", encoding="utf-8") as stream:
        out = csv.writer(stream)
        out.writerow(["paper_id", "year", "position", "author", "affiliation"])
        for n, (year, _, authors) in enumerate(PAPERS):
            for position, name in enumerate(authors):
                out.writerow([f"p{n}", year, position, name, f"{name.split()[1]} University"])
    return folder


def split_2001(tmp_path: Path) -> tuple[Any, Any, dict[str, str], list[Any], dict[str, Any]]:
    """The network, the split with the graph up to 2001, each name's id, the queries about
    the papers of 2002-2003, and hand-made vectors (one axis per theme, one for names)."""
    network = people.collaborators.load_network(write_corpus(tmp_path / "corpus"))
    ids = {n.name: i for i, n in network.nodes.items() if i.startswith("person:")}
    axes = {"sparse": 0, "kernel": 1, "ranking": 1, "image": 2, "denoising": 2}
    vectors = {}
    for node_id, node in sorted(network.nodes.items()):
        found = np.full(4, 0.01, dtype=np.float32)
        for word, axis in axes.items():
            found[axis] += word in node.name.lower()
        found[3] += node_id.startswith("person:")  # a name says nothing about the work
        vectors[node_id] = found
    profiles = people.ProfileIndex.from_nodes(network.nodes.values())
    split = people.collaborators.make_split(network, VectorSimilarity(vectors), profiles,
                                            name="t", upto=2001, until=2003)  # fmt: skip
    queries = people.paper_queries(network, split, upto=2001, until=2003)
    return network, split, ids, queries, vectors


def test_the_coordinator_has_the_most_papers_ties_by_id() -> None:
    papers = {"person:c": 2, "person:a": 1, "person:b": 1}
    assert people.coordinator_of(["person:b", "person:a", "person:c"], papers) == "person:c"
    assert people.coordinator_of(["person:b", "person:a"], {}) == "person:a"


def test_a_query_is_a_new_paper_with_a_known_coordinator_and_known_co_authors(
    tmp_path: Path,
) -> None:
    network, split, ids, queries, _ = split_2001(tmp_path)
    ann, bo, cy, di, ed = (ids[n] for n in ("Ann Alder", "Bo Birch", "Cy Cedar", "Di Dogwood",
                                            "Ed Elm"))  # fmt: skip
    # 2002: Ann, Bo and Cy have two papers each (Ann first by id), Gil is unknown; a paper
    # alone is no query. 2003: Ed and Di one each (Di first by id), Fay is unknown; the
    # newcomers' paper has no known author, and Ann's with Hal nobody else to find.
    assert [(q.coordinator, q.truth, q.new) for q in queries] == [
        (ann, frozenset({bo, cy}), frozenset({cy})),  # Ann wrote with Bo, never with Cy
        (di, frozenset({ed}), frozenset({ed})),
    ]
    assert [network.year[q.paper] for q in queries] == [2002, 2003]
    assert all(q.paper not in split.graph for q in queries)  # not in the graph yet


def test_past_co_authors_come_first_by_papers_shared_then_by_adamic_adar() -> None:
    position = {"person:a": 0, "person:b": 1, "person:c": 2, "person:d": 3}
    aa = np.array([0.0, 3.0, 0.5, 9.0])
    scores = people.past_first({"person:a": 2, "person:c": 1}, aa, position)
    assert list(np.argsort(-scores)) == [0, 2, 3, 1]


def test_fusion_adds_reciprocal_ranks_where_a_system_scores() -> None:
    a = np.array([3.0, 2.0, 0.0, 0.0])
    b = np.array([0.0, 1.0, 2.0, 0.0])
    fused = people.fuse(a, b, k=1)
    assert fused == pytest.approx([1 / 2, 1 / 3 + 1 / 3, 1 / 2, 0.0])


def test_every_system_runs_and_the_graph_is_left_as_it_was(tmp_path: Path) -> None:
    network, split, _, queries, vectors = split_2001(tmp_path)
    before = (split.graph.number_of_nodes(), split.graph.number_of_edges())
    baselines = people.collaborators.Baselines(split, vectors)
    found = people.run_split(split, network, queries, baselines, vectors, people.HELPERS)
    assert (split.graph.number_of_nodes(), split.graph.number_of_edges()) == before
    assert set(found) == set(people.SYSTEMS)
    assert all(len(rows) == len(queries) for rows in found.values())
    # Bo wrote with Ann (as did Ed, later by id): the past co-authors put him first
    assert found["past co-authors"][0]["mrr@10"] == 1.0
    assert found["recommender"][0]["hits@10"] == 1.0
    assert "hits_new@10" in found["recommender"][0]  # Cy is new to Ann
    summary = people.summarise(found)
    assert summary["queries"] == 2 and summary["queries_with_new"] == 2
    assert set(summary["paired"]) == {f"recommender - {s}" for s in people.BASELINES} | {
        f"{people.UNDIVERSE} - recommender"
    }
    text = people.markdown({"splits": {"t": summary | {
        "graph_up_to": 2001, "truth_years": [2002, 2003], "people_in_graph": len(split.pool),
        "papers_in_graph": len(split.papers), "truth_people": 3, "truth_new": 2}}})  # fmt: skip
    assert "| recommender |" in text and "past co-authors" in text


def test_without_the_files_the_run_says_so_and_skips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert people.run(["--data", str(tmp_path / "absent")]) == 0
    assert "skipped" in capsys.readouterr().out


def test_evaluate_py_hands_people_its_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evaluate = load_script("evaluate")
    options = evaluate.parse(["people", "--data", str(tmp_path), "--cut", "2015"])
    assert (options.command, options.arguments) == (
        "people", ["--data", str(tmp_path), "--cut", "2015"]
    )  # fmt: skip
    assert evaluate.main(["people", "--data", str(tmp_path / "absent")]) == 0
    assert "skipped" in capsys.readouterr().out


def test_a_small_run_writes_its_report(tmp_path: Path) -> None:
    folder = write_corpus(tmp_path / "corpus")
    out = tmp_path / "report.json"
    code = people.run(["--data", str(folder), "--validate", "2001", "--cut", "2001",
                       "--cache", str(tmp_path / "cache"), "--json", str(out)])  # fmt: skip
    assert code == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["splits"]["validation"]["queries"] == 1  # 2002 only
    assert report["splits"]["test"]["queries"] == 2
