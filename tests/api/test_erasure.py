"""Erasure: a deleted person is gone from the store, the graph, every route, the change log,
the audit log, their keys, the database file and the index folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.auth import KeyRing, Role, read_audit
from api.services import Services
from graph.store import ERASED
from tests.api.server import cocreate, cocreate_env, create_key, serving

Headers = dict[str, dict[str, str]]


def test_a_deleted_person_is_gone_from_every_route(
    client: TestClient, keys: Headers, services: Services
) -> None:
    admin = keys["admin"]
    assert client.get("/v1/nodes/person:maria", headers=admin).status_code == 200
    assert client.delete("/v1/nodes/person:maria", headers=admin).status_code == 204

    assert services.store.find_node("person:maria") is None
    assert "person:maria" not in services.view.graph
    assert not [e for e in services.store.iter_edges() if "person:maria" in (e.source, e.target)]
    assert not [c for c in services.store.changes_since(0) if "person:maria" in c.ref]
    assert services.store.changes_since(0)[-1].op == "erase"

    urls = [
        "/v1/nodes/person:maria",
        "/v1/nodes?kind=person&limit=200",
        "/v1/nodes?q=maria",
        "/v1/nodes?community=community:sacramento",
        "/v1/nodes/initiative:safe-streets/neighbors?depth=3&limit=200",
        "/v1/nodes/community:sacramento/neighbors",
        "/v1/edges?node=initiative:safe-streets",
        "/v1/paths?source=person:maria&target=person:lena",
        "/v1/paths?source=initiative:safe-streets&target=community:sacramento",
    ]
    for role, headers in keys.items():
        for url in urls:
            response = client.get(url, headers=headers)
            assert response.status_code in (200, 404), (role, url, response.text)
            if response.status_code == 404:  # a 404 names only the id that was asked for
                assert response.json()["detail"].startswith(("no node with id", "no path")), url
                continue
            assert "person:maria" not in response.text, (role, url)
            assert "Maria Lopez" not in response.text, (role, url)


def test_a_member_may_erase_themselves(client: TestClient, keys: Headers) -> None:
    assert client.delete("/v1/nodes/person:pub", headers=keys["member"]).status_code == 403
    assert client.delete("/v1/nodes/person:mem", headers=keys["member"]).status_code == 204
    assert client.get("/v1/nodes/person:mem", headers=keys["admin"]).status_code == 404


def test_an_erased_members_key_is_revoked_in_the_same_write(
    client: TestClient, keys: Headers, services: Services
) -> None:
    member = keys["member"]  # belongs to person:mem
    ring = KeyRing(services.store.engine)
    other, _ = ring.create(Role.member, person_id="person:mem", label="Mo's laptop")
    assert client.get("/v1/nodes/person:mem", headers=member).status_code == 200
    assert client.delete("/v1/nodes/person:mem", headers=member).status_code == 204

    unknown = {"Authorization": "Bearer cc_000000000000_unknown"}
    for headers in (member, unknown):
        read = client.get("/v1/nodes/person:pub", headers=headers)
        assert read.status_code == 401, read.text
        assert read.headers["content-type"].startswith("application/problem+json")
    record = {"kind": "person", "id": "person:mem", "name": "Mo Member"}
    put_back = client.put("/v1/nodes/person:mem", headers=member, json=record)
    assert put_back.status_code == 401, put_back.text
    assert services.store.find_node("person:mem") is None
    theirs = [k for k in ring.list() if k.role == "member"]
    assert {k.id for k in theirs} >= {other}
    assert all(k.revoked_at is not None for k in theirs)
    assert all(k.person_id is None and k.label is None for k in theirs)  # nothing names them


def test_the_change_log_and_the_audit_log_keep_no_id_of_an_erased_person(
    client: TestClient, keys: Headers, services: Services
) -> None:
    admin = keys["admin"]
    links = [
        {"kind": "knows", "source": "person:lena", "target": "person:maria"},
        {"kind": "member_of", "source": "person:maria", "target": "community:capital-region",
         "role": "seat"},
    ]  # fmt: skip
    for link in links:
        assert client.post("/v1/edges", headers=admin, json=link).status_code == 201
    assert client.patch("/v1/nodes/person:maria", headers=admin,
                        json={"bio": "Mentor."}).status_code == 200  # fmt: skip
    gone = client.delete("/v1/edges/person:lena/knows/person:maria", headers=admin)
    assert gone.status_code == 204, gone.text
    seq = services.store.last_seq()

    assert client.delete("/v1/nodes/person:maria", headers=admin).status_code == 204

    log = services.store.changes_since(0)
    assert [c for c in log if "person:maria" in c.ref] == []
    assert [(c.op, c.ref) for c in services.store.changes_since(seq)] == [("erase", ERASED)]
    assert any(c.ref == "person:lena" for c in log)  # others keep their history
    audit = read_audit(services.store.engine, limit=1_000)
    assert [a for a in audit if "person:maria" in a["ref"]] == []
    assert (audit[0]["action"], audit[0]["ref"]) == ("node.delete", ERASED)
    # two links, a patch, an unlinking, the erasure: what and when stay, not whom
    assert [a["action"] for a in audit if a["ref"] == ERASED] == [
        "node.delete",
        "edge.delete",
        "node.patch",
        "edge.create",
        "edge.create",
    ]
    listed = client.get("/v1/audit", headers=admin)
    assert "person:maria" not in listed.text


def test_an_erasure_rewrites_the_index_folder_at_once(
    client: TestClient, keys: Headers, services: Services
) -> None:
    index = services.search.index
    assert "person:maria" in index
    index.save(watermark=index.watermark)  # as a restart does: a snapshot holding Maria
    folder = services.settings.index_dir
    assert len(_snapshots(folder)) == 2

    assert client.delete("/v1/nodes/person:maria", headers=keys["admin"]).status_code == 204

    assert "person:maria" not in services.search.index
    assert len(_snapshots(folder)) == 1
    assert _holding(folder, ["Maria Lopez", "person:maria", "gang violence"]) == []


PERSON = "person:zq-7431"
EMAIL = "zephyrine.q@quillmail.example"
NAME = "Zephyrine Quillfeather"
# Every distinctive word, also as the lexical index folds it ("zephyrine" -> "zephyrin").
NEEDLES = [EMAIL, NAME, "quillmail", "zephyrin", "quillfeather", "glockenspiel", "kintsugi",
           "quokkalogist", "vibraslap", "zq-7431"]  # fmt: skip


def _network() -> list[dict[str, Any]]:
    node, edge = {"type": "node"}, {"type": "edge"}
    return [
        node | {"id": "community:lakeside", "kind": "community", "name": "Lakeside"},
        node | {"id": "council:education", "kind": "council", "name": "Education Council"},
        node | {"id": "initiative:night-school", "kind": "initiative", "name": "Night School",
                "description": "Evening classes for adults."},
        node | {"id": "person:friend", "kind": "person", "name": "Fran Friend"},
        node | {"id": PERSON, "kind": "person", "name": NAME,
                "bio": "Teaches glockenspiel and kintsugi to young quokkalogists.",
                "contact": {"email": EMAIL}},
        edge | {"kind": "member_of", "source": PERSON, "target": "community:lakeside"},
        edge | {"kind": "works_on", "source": PERSON, "target": "initiative:night-school"},
        edge | {"kind": "knows", "source": "person:friend", "target": PERSON},
    ]  # fmt: skip


@pytest.mark.slow
def test_after_an_erasure_no_file_of_the_service_holds_the_person(
    tmp_path: Path, reference_index: Path
) -> None:
    data_dir = tmp_path / "var"
    shutil.copytree(reference_index, data_dir / "index")  # reference texts already encoded
    # The start saves the index with the imported person (on PostgreSQL the data folder
    # holds no store: that snapshot is the file the check before the erasure finds).
    env = cocreate_env(
        data_dir, rate_limit_per_minute="100000", rate_limit_burst="10000", index_resave_after="0"
    )
    records = tmp_path / "network.jsonl"
    records.write_text("".join(json.dumps(r) + "\n" for r in _network()), encoding="utf-8")
    cocreate(env, "import", str(records))
    admin = {"Authorization": f"Bearer {create_key(env, 'admin', None)}"}
    member = {"Authorization": f"Bearer {create_key(env, 'member', PERSON)}"}
    export = tmp_path / "export.jsonl"

    with (
        serving(env, tmp_path / "logs") as server,
        httpx.Client(base_url=server.url, timeout=60) as http,
    ):
        # The person edits their profile and links themselves; an admin seats them.
        bio = {"bio": "Teaches glockenspiel, kintsugi and the vibraslap to quokkalogists."}
        assert http.patch(f"/v1/nodes/{PERSON}", headers=member, json=bio).status_code == 200
        knows = {"kind": "knows", "source": PERSON, "target": "person:friend"}
        assert http.post("/v1/edges", headers=member, json=knows).status_code == 201
        seat = {"kind": "member_of", "source": PERSON, "target": "council:education",
                "role": "seat"}  # fmt: skip
        assert http.post("/v1/edges", headers=admin, json=seat).status_code == 201
        query = {"q": "glockenspiel vibraslap", "mode": "lexical"}
        hits = http.get("/v1/search", params=query, headers=admin).json()["items"]
        assert [h["node"]["id"] for h in hits] == [PERSON]  # indexed
        assert _holding(data_dir, NEEDLES)  # the store and the start's index snapshot

        assert http.delete(f"/v1/nodes/{PERSON}", headers=admin).status_code == 204

        assert http.get("/v1/search", params=query, headers=admin).json()["items"] == []
        assert http.get(f"/v1/nodes/{PERSON}", headers=member).status_code == 401
        record = {"kind": "person", "id": PERSON, "name": NAME, "contact": {"email": EMAIL}}
        put_back = http.put(f"/v1/nodes/{PERSON}", headers=member, json=record)
        assert put_back.status_code == 401, put_back.text
        assert http.get(f"/v1/nodes/{PERSON}", headers=admin).status_code == 404
        cocreate(env, "export", str(export))
        # While the service runs: the database file with its -wal and -shm, every file of
        # the index folder, and the export.
        assert _holding(data_dir, NEEDLES) == []
        assert _holding(tmp_path, NEEDLES, only=[export]) == []
    assert _holding(data_dir, NEEDLES) == []  # and once it has stopped


def _snapshots(folder: Path) -> list[Path]:
    return sorted(folder.glob("snapshot-*"))


def _holding(
    folder: Path, needles: list[str], *, only: list[Path] | None = None
) -> list[tuple[str, str]]:
    """(file, needle) for each needle found, case-insensitively, in a file under ``folder``."""
    files = only if only is not None else [p for p in folder.rglob("*") if p.is_file()]
    found = []
    for path in sorted(files):
        data = path.read_bytes().lower()
        found += [(str(path), n) for n in needles if n.lower().encode() in data]
    return found
