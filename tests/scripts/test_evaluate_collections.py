"""scripts/evaluate_collections.py: reading BEIR folders, the demo queries, skipping cleanly."""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.scripts.loading import SCRIPTS, load_script


def _load() -> ModuleType:
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))  # it imports its siblings evaluate.py and others
    return load_script("evaluate_collections", module="evaluate_collections")


collections = _load()
query_sets = importlib.import_module("collections_sets")  # its sibling, on the path now


def _write_beir(folder: Path) -> None:
    folder.mkdir(parents=True)
    docs = [
        {"_id": "d1", "title": "Wing flutter", "text": "Flutter of a thin wing at high speed."},
        {"_id": "d2", "title": "", "text": "Heat transfer in a slab."},
        {"_id": "d3", "title": "Boundary layers", "text": "Laminar boundary layers."},
    ]
    queries = [
        {"_id": "1", "text": "wing flutter at speed"},
        {"_id": "2", "text": "heat in slabs"},
        {"_id": "3", "text": "a query nobody judged"},
    ]
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    (folder / "queries.jsonl").write_text("\n".join(json.dumps(q) for q in queries) + "\n")
    (folder / "qrels.tsv").write_text(
        "query-id\tcorpus-id\tscore\n1\td1\t3\n1\td3\t1\n2\td2\t1\n2\td3\t0\n"
    )


def test_a_beir_folder_gives_title_and_text_and_graded_judgements(tmp_path: Path) -> None:
    _write_beir(tmp_path / "tiny")
    loaded = query_sets.load_beir(tmp_path / "tiny", "tiny")
    assert loaded.items == [
        ("d1", "Wing flutter Flutter of a thin wing at high speed."),
        ("d2", "Heat transfer in a slab."),
        ("d3", "Boundary layers Laminar boundary layers."),
    ]
    by_id = {q.id: q for q in loaded.queries}
    assert set(by_id) == {"tiny:1", "tiny:2"}  # unjudged queries are left out
    assert by_id["tiny:1"].relevance == {"d1": 3.0, "d3": 1.0}
    assert by_id["tiny:2"].relevance == {"d2": 1.0}  # a zero grade is not relevant
    assert by_id["tiny:1"].key == "tiny:1"


def test_missing_collections_are_skipped_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert collections.run(["--collections", str(tmp_path / "absent"), "--no-demo"]) == 0
    err = capsys.readouterr().err
    assert "cranfield skipped" in err and "cisi skipped" in err
    assert "nothing to evaluate" in err


def test_each_demo_query_finds_the_entries_of_its_practice() -> None:
    from graph.demo.practices import PRACTICES

    practice = PRACTICES["peace"][0]
    items = [
        ("wisdom_entry:a", f"Notes. {practice.steps[1].capitalize()}. It worked."),
        ("wisdom_entry:b", "Something else entirely."),
        ("person:c", f"I once heard that {practice.steps[1]}."),  # not an entry
    ]
    queries = {q.id: q for q in query_sets.demo_queries(items)}
    assert queries[f"demo:{practice.name}"].relevance == {"wisdom_entry:a": 1.0}
    assert queries[f"demo:{practice.name}"].text == query_sets.DEMO_QUERIES[practice.name]
    assert len(queries) == 1  # practices without an entry are left out


def test_every_demo_practice_has_a_query_in_other_words() -> None:
    from graph.demo.practices import PRACTICES

    names = {p.name for ps in PRACTICES.values() for p in ps}
    assert set(query_sets.DEMO_QUERIES) == names
    for name, query in query_sets.DEMO_QUERIES.items():
        assert query.casefold() != name.casefold()


def test_random_letters_are_stable_and_letters_only() -> None:
    first = collections.random_letters(50, seed=3)
    assert first == collections.random_letters(50, seed=3)
    assert first != collections.random_letters(50, seed=4)
    assert all(q.replace(" ", "").isalpha() and q.islower() for q in first)


def test_the_siblings_family_joins_only_when_asked(tmp_path: Path) -> None:
    from argparse import Namespace

    from tests.conftest import DATA

    options = Namespace(
        collections=tmp_path / "absent", no_demo=False, data=DATA, seed=7, people=20
    )
    plain = {s.name: s for s in query_sets.load_sets(options)}
    assert set(plain) == {"dpg", "demo"}
    both = {s.name: s for s in query_sets.load_sets(options, siblings=True)}
    assert set(both) == {"dpg", "demo", "siblings"}
    siblings = both["siblings"]
    assert siblings.items == both["dpg"].items  # the same index as the evidence queries
    assert siblings.queries
    for query in siblings.queries:
        assert query.exclude == (query.key,)  # never finds itself
        assert query.key not in query.relevance and query.relevance
