"""Any bytes given to ``cocreate import`` end in ``FILE:line N`` messages, never a traceback.

The command's body (:func:`api.cli.import_file`) runs in-process on one store; every
refused file leaves the store exactly as it was.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from api.cli import cli, import_file
from graph.interchange import MAX_LINE_BYTES
from graph.reference import ensure_reference
from graph.spreadsheet import Table
from graph.store import Store
from tests.conftest import DATA, REPO

COCREATE = Path(sys.executable).with_name("cocreate")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    opened = Store.open(tmp_path_factory.mktemp("bytes") / "cocreate.db")
    ensure_reference(opened, DATA)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("files")


def state(store: Store) -> tuple[int, dict[str, int], dict[str, int]]:
    return store.last_seq(), store.node_counts(), store.edge_counts()


def message_pattern(path: Path) -> re.Pattern[str]:
    """``FILE:line N: reason``, ``FILE:line N, field 'F': reason``, or ``FILE: reason``."""
    return re.compile(re.escape(str(path)) + r"(:line [1-9][0-9]*(, field '[^\n]*')?)?: [^\n]+")


def check_refused(store: Store, path: Path, data: bytes, table: Table | None = None) -> list[str]:
    path.write_bytes(data)
    before = state(store)
    outcome = import_file(store, path, table=table)
    pattern = message_pattern(path)
    for message in outcome.messages:
        assert pattern.fullmatch(message), message
        assert len(message) < len(str(path)) + 2_000, message[:300]
    if outcome.ok:  # a valid file is possible, if unlikely: it is imported
        assert not outcome.messages
    else:
        assert outcome.messages
        assert "nothing was written" in outcome.summary
        assert state(store) == before
    return outcome.messages


VALID = json.dumps({"type": "node", "id": "person:valid", "kind": "person", "name": "Valid"})
NASTY_LINES = [
    b"[" * 100_000,
    b'{"a":' * 100_000,
    ('{"type": "node", "id": "person:big", "kind": "person", "name": "Big", "born": '
     + "9" * 5_000 + "}").encode(),
    ('{"type": "node", "id": "person:big", "kind": "person", "name": "' + "9" * 5_000
     + '", "bio": ' + "1" * 4_301 + "}").encode(),
    b'{"type": "node", "id": "person:nul", "kind": "person", "name": "N\x00L"}',
    b'{"type": "node", "id": "person:nul", "kind": "person", "name": "N\\u0000L", "x": 1}',
    b'{"type": "node", "id": "person:sur", "kind": "person", "name": "\\ud800"}',
    b'{"type": "node", "id": "person:nan", "kind": "person", "name": "N", "place": '
    b'{"lat": NaN, "lon": Infinity}}',
    b"\xef\xbb\xbf" + VALID.encode()[:-1] + b', "extra": 1}',
    b"\xff\xfe\x00{\x00}",
    b'{"type": "node", "id": "person:bad\xc3\x28", "kind": "person", "name": "x"}',
    b'{"type": "node", "kind": ' + b"[" * 900 + b"]" * 900 + b"}",
    b'{"type": "node", "kind": "person", "id": ' + b"[" * 900 + b"]" * 900 + b"}",
    b'{"type": "edge", "kind": "knows", "source": {"a": ' + b"[" * 900 + b"]" * 900
    + b'}, "target": "person:x"}',
    b'{"type": "node", "kind": "person\\n\\u001b[31mred", "id": "person:x", "name": "x"}',
    b'{"type": "' + b"x" * 10_000 + b'"}',
    b"\x00" * 100,
    b"\x85\xe2\x80\xa8\r",
]  # fmt: skip


@pytest.mark.parametrize("line", NASTY_LINES, ids=range(len(NASTY_LINES)))
def test_each_nasty_line_is_reported_with_its_line(store: Store, folder: Path, line: bytes) -> None:
    path = folder / "nasty.jsonl"
    messages = check_refused(store, path, VALID.encode() + b"\n" + line + b"\n")
    assert messages
    assert all(m.startswith(f"{path}:line 2") for m in messages), messages


def test_a_line_over_the_limit_is_reported_without_reading_it_whole(
    store: Store, folder: Path
) -> None:
    path = folder / "long.jsonl"
    long = (
        b'{"type": "node", "id": "person:long", "kind": "person", "name": "'
        + b"a" * (MAX_LINE_BYTES + 10)
        + b'"}'
    )
    messages = check_refused(store, path, VALID.encode() + b"\n" + long + b"\n" + VALID.encode())
    assert any(m.startswith(f"{path}:line 2: longer than") for m in messages), messages
    assert any("line 3" in m and "duplicate id" in m for m in messages), messages


@pytest.mark.parametrize("data", [b"", b"\n\n  \n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\n"])
def test_an_empty_file_is_refused_as_a_whole(store: Store, folder: Path, data: bytes) -> None:
    path = folder / "empty.jsonl"
    assert check_refused(store, path, data) == [f"{path}: the file holds no records"]


def test_a_bom_before_valid_records_is_accepted(store: Store, folder: Path) -> None:
    path = folder / "bom.jsonl"
    record = {"type": "node", "id": "person:bom", "kind": "person", "name": "Bom"}
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(record).encode() + b"\r\n")
    outcome = import_file(store, path)
    assert outcome.ok, outcome.messages
    assert store.find_node("person:bom") is not None


CSV_NASTY = [
    b"name,lat\nAna,\xff\n",
    b"name,lat\nAna," + b"9" * 5_000 + b"\n",
    b"name,bio\nAna,\x00\x00\n",
    b'name,bio\nAna,"' + b"a" * 200_000 + b'"\n',
    b'name,bio\nAna,"unterminated\n',
    b"name," + b"x" * 300 + b"\nAna,1\n",
    b"\xef\xbb\xbfname,lat\nAna,91\n",
    b"\x00\x01\x02\x03",
    b"name\n\n\n",
    b"name\n" + b"[" * 100_000 + b"\n",
    b"name,sectors\nAna,\x1b[31m;\\ud800\n",
]


@pytest.mark.parametrize("data", CSV_NASTY, ids=range(len(CSV_NASTY)))
def test_nasty_csv_files_are_reported_with_their_line(
    store: Store, folder: Path, data: bytes
) -> None:
    check_refused(store, folder / "nasty.csv", data, table="people")


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"name,bio\n"])
def test_an_empty_csv_file_is_refused(store: Store, folder: Path, data: bytes) -> None:
    path = folder / "empty.csv"
    messages = check_refused(store, path, data, table="people")
    assert messages == [f"{path}: the file holds no records"]


PIECES = st.sampled_from(
    [VALID.encode(), b"{", b"}", b"[", b"]", b'"', b"\\", b"\\u", b"\\ud800", b":", b",",
     b"\xef\xbb\xbf", b"\x00", b"\xff", b"\xc3", b"\r", b"\n", b"\r\n", b"NaN", b"1e999",
     b"9" * 4_400, b"[" * 3_000, b'"type"', b'"node"', b'"edge"', b'"kind"', b'"person"',
     b'"id"', b'"person:a"', b'"name"', b'"source"', b'"target"', b'"knows"', b'"place"',
     b'"lat"', b"null", b"true", b"-0", b"1.5"]
)  # fmt: skip
BYTES = st.binary(max_size=300) | st.lists(PIECES | st.binary(max_size=20), max_size=40).map(
    b"".join
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=BYTES)
@example(data=b"\xef\xbb\xbf" + VALID.encode() + b"\n{")
@example(data=b"{}" * 3)
def test_any_bytes_as_json_lines(store: Store, folder: Path, data: bytes) -> None:
    check_refused(store, folder / "any.jsonl", data)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=BYTES, table=st.sampled_from(["people", "initiatives"]))
@example(data=b"name\n\xff", table="people")
def test_any_bytes_as_csv(store: Store, folder: Path, data: bytes, table: Any) -> None:
    check_refused(store, folder / "any.csv", data, table=table)


def test_the_command_exits_non_zero_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COCREATE_DATA_DIR", str(tmp_path / "var"))
    path = tmp_path / "bad.jsonl"
    path.write_bytes(VALID.encode() + b"\n\xff\xfe\n" + b"[" * 100_000 + b"\n")
    result = CliRunner().invoke(cli, ["import", str(path)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"{path}:line 2: " in result.output
    assert f"{path}:line 3: " in result.output
    assert "nothing was written" in result.output


def test_a_real_process_prints_no_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "COCREATE_DATA_DIR": str(tmp_path / "var"), "PYTHONPATH": str(REPO)}
    path = tmp_path / "deep.jsonl"
    path.write_bytes(b"[" * 100_000 + b"\n" + b'{"n": ' + b"7" * 5_000 + b"}\n\xc3\n")
    done = subprocess.run(
        [COCREATE, "import", str(path)], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert [line.split(":")[1] for line in lines[:-1]] == ["line 1", "line 2", "line 3"], lines
    assert all(line.startswith(f"{path}:line ") for line in lines[:-1]), lines
    assert lines[-1] == "Error: import refused: 3 problem(s); nothing was written"
