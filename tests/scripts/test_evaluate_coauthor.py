"""The co-authorship evaluation: affiliations read as institutions, the split's truth and
baselines on a tiny hand-made network, a clean skip without data, and a small run end
to end with the real model (the NeurIPS files are never read here)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from graph.similarity import VectorSimilarity
from tests.scripts.loading import load_script

coauthor = load_script("evaluate_coauthor")

# year, title, authors (name, affiliation); every name and title is made up
PAPERS = [
    (2000, "Sparse coding of natural images", [("Ann Alder", "Dept. of CS, Oak University"),
                                               ("Bo Birch", "Oak University")]),
    (2000, "Kernel methods for ranking", [("Bo Birch", "Oak University"),
                                          ("Cy Cedar", "Pine Labs, 12 Main St")]),
    (2001, "Ranking with sparse kernels", [("Cy Cedar", "Pine Labs"),
                                           ("Di Dogwood", "Elm Institute + Pine Labs")]),
    (2001, "Image priors for denoising", [("Ann Alder", "Oak University"),
                                          ("Ed Elm", "Elm Institute")]),
    (2002, "Sparse kernels for images", [("Ann Alder", "Oak University"),
                                         ("Cy Cedar", "Pine Labs"),
                                         ("Bo Birch", "Oak University")]),
    (2003, "Denoising by ranking", [("Ed Elm", "Elm Institute"), ("Di Dogwood", "Elm Institute"),
                                    ("Fay Fir", "Fir College")]),
]  # fmt: skip


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
            for position, (name, affiliation) in enumerate(authors):
                out.writerow([f"p{n}", year, position, name, affiliation])
    return folder


@pytest.mark.parametrize(
    ("affiliation", "expected"),
    [
        ("Machine Learning Department, School of CS, Carnegie Mellon University",
         ["Carnegie Mellon University"]),
        ("Google Research", ["Google Research"]),
        ("Neuristique, 28 rue des Ecoles, Paris + AT&T Bell Labs, Holmdel, NJ 07733",
         ["Neuristique", "AT&T Bell Labs"]),
        ("Computer Science & Engineering", ["Computer Science & Engineering"]),
        ("", []),
    ],
)  # fmt: skip
def test_an_affiliation_names_its_institutions(affiliation: str, expected: list[str]) -> None:
    assert coauthor.institutions(affiliation) == expected


def split_2001(tmp_path: Path) -> tuple[Any, dict[str, str]]:
    """The split of the corpus with the graph up to 2001 and the truth of 2002, and the
    person id of each name."""
    network = coauthor.load_network(write_corpus(tmp_path / "corpus"))
    ids = {n.name: i for i, n in network.nodes.items() if i.startswith("person:")}
    profiles = coauthor.ProfileIndex.from_nodes(network.nodes.values())
    split = coauthor.make_split(network, VectorSimilarity({}), profiles, name="t",
                                upto=2001, until=2002)  # fmt: skip
    return split, ids


def test_the_truth_holds_only_new_collaborators_seen_before(tmp_path: Path) -> None:
    split, ids = split_2001(tmp_path)
    ann, bo, cy = ids["Ann Alder"], ids["Bo Birch"], ids["Cy Cedar"]
    # 2002: Ann, Cy and Bo; Ann and Bo wrote together in 2000, Cy and Bo too
    assert dict(split.queries) == {ann: frozenset({cy}), cy: frozenset({ann})}
    assert bo in split.existing[ann]  # co-authors, and one small team (Oak University)
    assert ids["Fay Fir"] not in split.pool  # first seen in 2003


def test_cowork_baselines_count_shared_coauthors(tmp_path: Path) -> None:
    split, ids = split_2001(tmp_path)
    vectors = {i: np.ones(4, dtype=np.float32) for i in split.graph}
    baselines = coauthor.Baselines(split, vectors)
    aa, ra = baselines.cowork(ids["Ann Alder"])
    cy = baselines.position[ids["Cy Cedar"]]
    # Ann and Cy share one co-author, Bo, who has two co-authors
    assert ra[cy] == pytest.approx(1 / 2)
    assert aa[cy] == pytest.approx(1 / np.log(2))
    assert ra[baselines.position[ids["Di Dogwood"]]] == 0


def test_without_the_files_the_run_says_so_and_skips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert coauthor.run(["--data", str(tmp_path / "absent")]) == 0
    assert "skipped" in capsys.readouterr().out


def test_a_small_run_reports_every_system(tmp_path: Path) -> None:
    folder = write_corpus(tmp_path / "corpus")
    out = tmp_path / "report.json"
    code = coauthor.run(["--data", str(folder), "--validate", "2001", "--cut", "2001",
                         "--cache", str(tmp_path / "cache"), "--json", str(out)])  # fmt: skip
    assert code == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    for name in ("validation", "test"):
        entry = report["splits"][name]
        assert set(entry["systems"]) == set(coauthor.SYSTEMS)
        assert entry["queries"] == 2
    # Ann and Cy share Bo: every co-work system finds the other in its first ten
    assert report["splits"]["test"]["systems"]["recommender"]["hits@10"] == 1.0
    assert report["splits"]["test"]["systems"]["Adamic-Adar"]["hits@10"] == 1.0


def test_evaluate_py_hands_coauthor_its_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evaluate = load_script("evaluate")
    options = evaluate.parse(["coauthor", "--data", str(tmp_path), "--cut", "2015"])
    assert (options.command, options.arguments) == (
        "coauthor", ["--data", str(tmp_path), "--cut", "2015"]
    )  # fmt: skip
    assert evaluate.main(["coauthor", "--data", str(tmp_path / "absent")]) == 0
    assert "skipped" in capsys.readouterr().out
