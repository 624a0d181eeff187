"""The ``cocreate`` command line, run in-process and as a real process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from api.accounts import Accounts, hash_password
from api.auth import KeyRing, Role
from api.cli import cli, mail_notice
from api.settings import Settings
from api.vectors import model_key
from embeddings.encoder import load_encoder
from graph.interchange import record_schema
from graph.store import Store
from tests.conftest import REPO
from tests.postgres import database_url_for

COCREATE = Path(sys.executable).with_name("cocreate")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("COCREATE_DATA_DIR", str(tmp_path / "var"))
    # A process runs this checkout's code (the virtualenv may be shared with another).
    env = {**os.environ, "COCREATE_DATA_DIR": str(tmp_path / "var"), "PYTHONPATH": str(REPO)}
    on_postgresql = database_url_for(tmp_path / "var" / "cocreate.db")  # tests/postgres.py
    return env if on_postgresql is None else env | {"COCREATE_DATABASE_URL": on_postgresql}


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def stats() -> dict[str, Any]:
    result = run("stats", "--json")
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


def write_lines(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.mark.usefixtures("env")
def test_demo_network_has_the_reference_data_and_the_dpg_initiatives() -> None:
    result = run("demo", "--people", "300")
    assert result.exit_code == 0, result.output
    counts = stats()["nodes"]
    assert counts["sector"] == 12
    assert counts["sdg"] == 17
    assert counts["sdg_target"] == 169
    assert counts["initiative"] >= 700
    assert counts["person"] == 300
    again = run("demo", "--if-empty")
    assert "nothing loaded" in again.output
    assert stats()["nodes"] == counts


@pytest.mark.usefixtures("env")
def test_a_bad_file_is_refused_with_line_and_field(tmp_path: Path) -> None:
    before = stats()
    path = write_lines(tmp_path / "bad.jsonl", [
        {"type": "node", "id": "person:ana", "kind": "person", "name": "Ana"},
        {"type": "node", "id": "person:bo", "kind": "person", "name": "Bo",
         "place": {"lat": 10, "lon": 500}},
        {"type": "edge", "kind": "knows", "source": "person:ana", "target": "person:cy"},
    ])  # fmt: skip
    result = run("import", str(path))
    assert result.exit_code != 0
    assert f"{path}:line 2, field 'place.lon'" in result.output
    assert f"{path}:line 3, field 'target': node 'person:cy'" in result.output
    assert "nothing was written" in result.output
    assert stats() == before


@pytest.mark.usefixtures("env")
def test_import_refuses_invisible_characters_in_names(tmp_path: Path) -> None:
    """The import reads records with the same model as the API: a name with NUL or a
    bidi override is refused, line and field named."""
    before = stats()
    path = write_lines(tmp_path / "names.jsonl", [
        {"type": "node", "id": "person:ana", "kind": "person", "name": "Ana\u0000"},
        {"type": "node", "id": "person:bo", "kind": "person", "name": "Bo \u202egnp.exe"},
        {"type": "node", "id": "person:cy", "kind": "person", "name": "Cy",
         "interests": ["gardens\nand more"], "bio": "Fine:\nlines are kept."},
        {"type": "edge", "kind": "knows", "source": "person:cy", "target": "person:ana",
         "role": "friend\u2066"},
    ])  # fmt: skip
    result = run("import", str(path))
    assert result.exit_code != 0
    assert f"{path}:line 1, field 'name': must not contain the control character U+0000" in (
        result.output
    )
    assert f"{path}:line 2, field 'name': must not contain the bidirectional control " in (
        result.output
    )
    assert f"{path}:line 3, field 'interests.0': must not contain a line break" in result.output
    assert f"{path}:line 4, field 'role'" in result.output
    assert "line 3, field 'bio'" not in result.output
    assert stats() == before


@pytest.mark.usefixtures("env")
def test_export_import_export_gives_the_same_bytes(tmp_path: Path, env: dict[str, str]) -> None:
    assert run("demo", "--people", "200").exit_code == 0
    first = tmp_path / "first.jsonl"
    assert run("export", str(first)).exit_code == 0
    os.environ["COCREATE_DATA_DIR"] = str(tmp_path / "other")  # an empty store
    imported = run("import", str(first))
    assert imported.exit_code == 0, imported.output
    second = tmp_path / "second.jsonl"
    assert run("export", str(second)).exit_code == 0
    assert first.read_bytes() == second.read_bytes()
    seq = stats()["last_seq"]
    again = run("import", str(first))
    assert "0 nodes and 0 edges written" in again.output
    assert stats()["last_seq"] == seq


@pytest.mark.usefixtures("env")
def test_csv_import_from_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("name,sectors,lat,lon\nAna Lima,Health,-23.55,-46.63\nBo,Arts,91,0\n")
    refused = run("import", "--csv", "people", str(path))
    assert refused.exit_code != 0
    assert "line 3, field 'lat'" in refused.output
    path.write_text("name,sectors,lat,lon\nAna Lima,Health,-23.55,-46.63\n")
    assert run("import", "--csv", "people", str(path)).exit_code == 0
    assert stats()["nodes"]["person"] == 1


def test_an_import_keeps_the_vectors_of_its_texts_for_every_worker(
    tmp_path: Path, env: dict[str, str]
) -> None:
    path = tmp_path / "people.csv"
    path.write_text("name,sectors\nAna Lima,Health\nBo Chen,Arts\n")
    assert run("import", "--csv", "people", str(path)).exit_code == 0
    store = Store.open(tmp_path / "var" / "cocreate.db")
    people = [node.id for node in store.iter_nodes(kind="person")]
    kept = store.stored_vectors(model_key(load_encoder(None)), people)
    store.close()
    assert len(people) == 2 and kept.keys() == set(people)


def test_the_documented_schema_is_the_generated_one() -> None:
    documented = json.loads((REPO / "docs" / "interchange.schema.json").read_text())
    assert documented == record_schema()
    assert run("schema").output.strip() == json.dumps(record_schema(), indent=2, ensure_ascii=False)


def _people_file(path: Path, count: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            out.write(
                json.dumps(
                    {
                        "type": "node",
                        "id": f"person:p{i}",
                        "kind": "person",
                        "name": f"Person {i}",
                        "interests": ["gardening", "poetry"],
                        "bio": "A fictional person used to test imports. " * 4,
                    }
                )
                + "\n"
            )
        for i in range(1, count):
            out.write(
                json.dumps(
                    {
                        "type": "edge",
                        "kind": "knows",
                        "source": f"person:p{i}",
                        "target": f"person:p{i // 2}",
                    }
                )
                + "\n"
            )
    return path


def test_a_killed_import_leaves_whole_records_and_finishes_when_run_again(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """Kill -9 the import while it writes: whole records, no edge without its nodes; rerun."""
    big = _people_file(tmp_path / "big.jsonl", 40_000)
    subprocess.run([COCREATE, "stats"], env=env, check=True, capture_output=True)
    wal = tmp_path / "var" / "cocreate.db-wal"
    process = subprocess.Popen(
        [COCREATE, "-v", "import", "--no-vectors", str(big)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    for line in process.stderr:  # the log says when the writing starts
        if line.startswith("writing"):
            break
    base = wal.stat().st_size if wal.exists() else 0
    on_postgresql = database_url_for(tmp_path / "var" / "cocreate.db") is not None
    watcher = Store.open(tmp_path / "var" / "cocreate.db") if on_postgresql else None

    def under_way() -> bool:
        """SQLite: 2 MB more in its write-ahead log; PostgreSQL (whose WAL is the
        server's): a first chunk of people committed."""
        if watcher is None:
            return (wal.stat().st_size if wal.exists() else 0) >= base + 2_000_000
        return watcher.node_counts().get("person", 0) > 0

    deadline = time.monotonic() + 60
    while not under_way():
        assert process.poll() is None, "the import finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    if watcher is not None:
        watcher.close()
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    process.stderr.close()
    store = Store.open(tmp_path / "var" / "cocreate.db")
    persons = store.node_counts().get("person", 0)
    edges = list(store.iter_edges(kind="knows"))
    assert 0 < persons < 40_000 or (persons == 40_000 and len(edges) < 39_999)
    assert edges == [] or persons == 40_000  # every node is written before any edge
    for person in store.iter_nodes(kind="person"):
        assert person.bio == ("A fictional person used to test imports. " * 4).strip()
    store.close()
    again = subprocess.run(
        [COCREATE, "import", "--no-vectors", str(big)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    assert f"{persons:,} unchanged" in again.stdout or persons == 40_000
    counts = json.loads(
        subprocess.run(
            [COCREATE, "stats", "--json"], env=env, check=True, capture_output=True, text=True
        ).stdout
    )
    assert counts["nodes"]["person"] == 40_000
    assert counts["edges"]["knows"] == 39_999
    third = subprocess.run(
        [COCREATE, "import", "--no-vectors", str(big)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    assert "0 nodes and 0 edges written" in third.stdout


def test_the_documented_edge_table_is_true() -> None:
    from graph.edges import EDGE_RULES, allowed_pairs

    text = (REPO / "docs" / "interchange.md").read_text()
    for kind in EDGE_RULES:
        assert f"| `{kind}` | {allowed_pairs(kind)} |" in text


@pytest.mark.usefixtures("env")
def test_exported_lines_follow_the_documented_schema(tmp_path: Path) -> None:
    from jsonschema import Draft202012Validator

    assert run("demo", "--people", "60").exit_code == 0
    path = tmp_path / "all.jsonl"
    assert run("export", str(path)).exit_code == 0
    validator = Draft202012Validator(
        json.loads((REPO / "docs" / "interchange.schema.json").read_text())
    )
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len({(line["type"], line["kind"]) for line in lines}) >= 20
    one_per_kind = {(line["type"], line["kind"]): line for line in lines}
    for line in [*lines[::5], *one_per_kind.values()]:
        validator.validate(line)
    bad = dict(lines[0], name="")
    assert not validator.is_valid(bad)


def test_serve_says_where_mail_goes_and_never_the_mail_password() -> None:
    logged = mail_notice(Settings(smtp_url=None))
    assert "no COCREATE_SMTP_URL" in logged and "written to this log" in logged
    sent = mail_notice(Settings(smtp_url="smtp://bot:s3cret@mail.example.org:587"))
    assert sent == "mail: sent through smtp://mail.example.org:587"
    assert "s3cret" not in sent


@pytest.mark.usefixtures("env")
def test_the_first_admin_and_a_script_token_from_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    store = Store.open(f"sqlite:///{tmp_path / 'var' / 'cocreate.db'}")
    try:
        with store.engine.begin() as conn:
            Accounts(store.engine).create(conn, "Ada@Example.org", "Ada", hash_password("x" * 12),
                                          "member")  # fmt: skip
    finally:
        store.close()
    missing = CliRunner().invoke(cli, ["accounts", "role", "nobody@example.org", "admin"])
    assert missing.exit_code != 0 and "no account with the address" in missing.output
    assert "is now admin" in run("accounts", "role", "ada@example.org", "admin").output
    listed = run("accounts", "list").output
    assert listed.startswith("ada@example.org\tadmin\t-\tAda")
    secret = run("accounts", "token", "ada@example.org", "--label", "import").output.strip()
    store = Store.open(f"sqlite:///{tmp_path / 'var' / 'cocreate.db'}")
    try:
        ring = KeyRing(store.engine, accounts=Accounts(store.engine).standing)
        caller = ring.resolve(secret.splitlines()[-1])
    finally:
        store.close()
    assert caller is not None and caller.role is Role.admin and caller.account_id
