from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph.codec import edge_record, node_record
from graph.edges import Edge
from graph.errors import ImportRejected, Problem
from graph.importer import RecordSource, import_records
from graph.interchange import export_jsonl, read_jsonl
from graph.reference import ensure_reference
from graph.store import Store
from tests.conftest import DATA, small_network

GOOD = [
    {"type": "node", "id": "person:ana", "kind": "person", "name": "Ana",
     "place": {"lat": 38.5, "lon": -121.5, "country": "US"}},
    {"type": "node", "id": "initiative:club", "kind": "initiative", "name": "Reading club"},
    {"type": "edge", "kind": "works_on", "source": "person:ana", "target": "initiative:club",
     "since": "2022-03-01"},
    {"type": "edge", "kind": "addresses", "source": "initiative:club", "target": "sdg:4"},
]  # fmt: skip


def lines_source(lines: list[str]) -> RecordSource:
    def source() -> Iterator[tuple[int, Any]]:
        yield from read_jsonl(io.StringIO("\n".join(lines) + "\n"))

    return source


def as_lines(records: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(r) for r in records]


def snapshot(store: Store) -> str:
    out = io.StringIO()
    export_jsonl(store, out)
    return out.getvalue()


BAD_CASES = [
    ('{"type": "node", "id": "robot:r2", "kind": "robot", "name": "R2"}', "kind",
     "unknown node kind"),
    ('{"type": "edge", "kind": "works_on", "source": "person:ana", "target": "initiative:ghost"}',
     "target", "neither in the file nor in the store"),
    ('{"type": "edge", "kind": "works_on", "source": "sector:arts", "target": "person:ana"}',
     "kind", "cannot go from a 'sector' to a 'person'"),
    ('{"type": "node", "id": "person:bo", "kind": "person", "name": "Bo"', "", "malformed JSON"),
    ('{"type": "node", "id": "person:bo", "kind": "person", "name": "Bo", '
     '"place": {"lat": 123.0, "lon": 10.0}}', "place.lat", "less than or equal to 90"),
    ('{"type": "node", "id": "person:bo", "kind": "person"}', "name", "Field required"),
    ('{"type": "node", "id": "person:ana", "kind": "person", "name": "Ana again"}', "id",
     "duplicate id 'person:ana'; first on line 1"),
    ('{"type": "vertex"}', "type", "'vertex' is not 'node' or 'edge'"),
    ('[1, 2]', "", "must be a JSON object"),
    ('{"type": "node", "id": "initiative:bo", "kind": "person", "name": "Bo"}', "id",
     "does not start with 'person:'"),
    ('{"type": "edge", "kind": "knows", "source": "person:ana", "target": "person:ana"}', "",
     "cannot join a node to itself"),
]  # fmt: skip


@pytest.mark.parametrize(("bad", "field", "reason"), BAD_CASES)
def test_one_bad_record_refuses_the_whole_file(
    store: Store, bad: str, field: str, reason: str
) -> None:
    before = snapshot(store)
    lines = as_lines(GOOD)
    lines.insert(2, bad)  # line 3 of the file
    with pytest.raises(ImportRejected) as caught:
        import_records(lines_source(lines), store)
    problems = caught.value.problems
    assert len(problems) == 1, problems
    assert (problems[0].line, problems[0].field) == (3, field)
    assert reason in problems[0].reason
    assert snapshot(store) == before


def test_every_problem_is_reported_with_its_line(store: Store) -> None:
    lines = [*as_lines(GOOD), BAD_CASES[0][0], "", BAD_CASES[4][0], BAD_CASES[1][0]]
    with pytest.raises(ImportRejected) as caught:
        import_records(lines_source(lines), store)
    assert [(p.line, p.field) for p in caught.value.problems] == [
        (5, "kind"),
        (7, "place.lat"),
        (8, "target"),
    ]
    assert str(caught.value.problems[1]).startswith("line 7, field 'place.lat': ")


def test_a_good_file_imports_and_a_second_import_changes_nothing(store: Store) -> None:
    source = lines_source(as_lines(GOOD))
    first = import_records(source, store)
    assert (first.write.nodes_written, first.write.edges_written) == (2, 2)
    seq, before = store.last_seq(), snapshot(store)
    second = import_records(source, store)
    assert not second.write.changed
    assert second.write.unchanged == 4
    assert store.last_seq() == seq
    assert snapshot(store) == before


def test_export_import_export_is_byte_identical(network: Store, tmp_path: Path) -> None:
    exported = snapshot(network)
    fresh = Store.open(tmp_path / "fresh.db")
    ensure_reference(fresh, DATA)
    import_records(lines_source(exported.splitlines()), fresh)
    assert snapshot(fresh) == exported
    fresh.close()


def test_records_keep_their_header_first(network: Store) -> None:
    line = snapshot(network).splitlines()[0]
    assert list(json.loads(line))[:4] == ["type", "id", "kind", "name"]
    edges = [n for n in small_network() if isinstance(n, Edge)]
    assert list(edge_record(edges[0]))[:4] == ["type", "kind", "source", "target"]
    assert node_record(network.get_node("person:maria"))["place"]["lat"] == 38.58


def test_problem_limit_keeps_the_count(store: Store) -> None:
    lines = [BAD_CASES[0][0]] * 30
    with pytest.raises(ImportRejected) as caught:
        import_records(lines_source(lines), store, max_problems=5)
    assert len(caught.value.problems) == 5
    assert caught.value.total == 30
    assert isinstance(caught.value.problems[0], Problem)
