"""Drafts on the editor desk: only editors keep them; a draft is nowhere in the graph (its
listings, search, counts, change log) until it is published; publishing writes the
entry and its tags, audited, with the draft's mark in one transaction; a draft of an
existing entry revises it; deleting an account deletes its drafts."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.auth import Role, read_audit
from api.drafts import drafts
from api.routes.drafts import ONLY_EDITORS
from api.services import Services
from graph.model import WisdomEntry
from tests.api.conftest import account_token

Headers = dict[str, dict[str, str]]
WORD = "zanzibarquokka"  # in no other text of the fixtures
DRAFT = {
    "title": f"Night walks with the {WORD} club",
    "body": f"Neighbours walk the streets at night with the {WORD} club, greeting people.",
    "sectors": ["sector:peace"],
    "goals": ["sdg:16", "sdg:11"],
}


def _problem_fields(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


def _start(client: TestClient, headers: dict[str, str], body: dict[str, Any] = DRAFT) -> Any:
    made = client.post("/v1/drafts", json=body, headers=headers)
    assert made.status_code == 201, made.text
    return made.json()


def _edges(services: Services, node_id: str) -> set[tuple[str, str]]:
    return {(e.kind, e.target) for e in services.store.edges_of(node_id) if e.source == node_id}


def test_only_editors_and_admins_keep_drafts(client: TestClient, keys: Headers) -> None:
    anonymous = client.post("/v1/drafts", json=DRAFT)
    assert anonymous.status_code == 401
    member = client.post("/v1/drafts", json=DRAFT, headers=keys["member"])
    assert member.status_code == 403
    assert member.json()["detail"] == ONLY_EDITORS
    assert client.get("/v1/drafts", headers=keys["member"]).status_code == 403
    mine = _start(client, keys["editor"])
    assert mine["mine"] is True and mine["published_at"] is None
    assert set(mine) == {"id", "title", "body", "sectors", "goals", "revises", "mine",
                         "created_at", "updated_at", "published_at", "published_node"}  # fmt: skip
    # editors work together: the admin sees the editor's draft, not as theirs
    listed = client.get("/v1/drafts", headers=keys["admin"]).json()["items"]
    assert [(d["id"], d["mine"]) for d in listed] == [(mine["id"], False)]
    read = client.get(f"/v1/drafts/{mine['id']}", headers=keys["member"])
    assert read.status_code == 403


def test_a_draft_is_nowhere_in_the_graph_until_published(
    client: TestClient, services: Services, keys: Headers
) -> None:
    seq, log = services.store.last_seq(), read_audit(services.store.engine, limit=500)
    stats = client.get("/v1/stats").json()
    draft = _start(client, keys["editor"])
    changed = client.put(f"/v1/drafts/{draft['id']}", json=DRAFT | {"body": f"{WORD} again."},
                         headers=keys["editor"])  # fmt: skip
    assert changed.status_code == 200 and changed.json()["body"] == f"{WORD} again."
    assert changed.json()["updated_at"] >= draft["updated_at"]
    services.catch_up()
    for role in ("anonymous", "editor", "admin"):
        listed = client.get("/v1/nodes?kind=wisdom_entry", headers=keys[role]).json()
        assert [n["id"] for n in listed["items"]] == ["wisdom_entry:circles"]
        found = client.get(f"/v1/search?q={WORD}", headers=keys[role]).json()["items"]
        assert all(WORD not in str(hit) for hit in found)
    assert client.get("/v1/stats").json() == stats
    assert services.store.last_seq() == seq, "nothing in the change log"
    assert read_audit(services.store.engine, limit=500) == log

    published = client.post(f"/v1/drafts/{draft['id']}/publish", headers=keys["editor"])
    assert published.status_code == 200, published.text
    node_id = published.json()["node"]["id"]
    assert node_id == f"wisdom_entry:night-walks-with-the-{WORD}-club"
    services.catch_up()
    listed = client.get("/v1/nodes?kind=wisdom_entry").json()["items"]
    assert node_id in [n["id"] for n in listed]
    found = client.get(f"/v1/search?q={WORD}").json()["items"]
    assert node_id in [hit["node"]["id"] for hit in found]
    assert client.get("/v1/stats").json() != stats
    assert [e["action"] for e in read_audit(services.store.engine, limit=500)[: -len(log) or None]
            ] == ["draft.publish"]  # fmt: skip


def test_publishing_writes_the_entry_and_its_tags_once(
    client: TestClient, services: Services, keys: Headers
) -> None:
    draft = _start(client, keys["editor"])
    seq = services.store.last_seq()
    answer = client.post(f"/v1/drafts/{draft['id']}/publish", headers=keys["editor"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    node_id = body["node"]["id"]
    assert body["node"]["name"] == DRAFT["title"] and body["node"]["body"] == DRAFT["body"]
    assert body["node"]["published"]  # today's date
    assert body["draft"]["published_node"] == node_id and body["draft"]["published_at"]
    assert _edges(services, node_id) == {
        ("in_sector", "sector:peace"), ("addresses", "sdg:16"), ("addresses", "sdg:11"),
    }  # fmt: skip
    entries = [e for e in read_audit(services.store.engine, limit=500) if e["ref"] == node_id]
    assert [(e["action"], e["first_seq"], e["last_seq"]) for e in entries] == [
        ("draft.publish", seq + 1, services.store.last_seq())
    ], "one audited write holds the node and its edges"
    # published drafts leave the list, cannot be published or saved again
    assert client.get("/v1/drafts", headers=keys["editor"]).json()["items"] == []
    again = client.post(f"/v1/drafts/{draft['id']}/publish", headers=keys["admin"])
    assert again.status_code == 409
    saved = client.put(f"/v1/drafts/{draft['id']}", json=DRAFT, headers=keys["editor"])
    assert saved.status_code == 409
    # a second draft with the same title would overwrite the entry: refused, said so
    twin = _start(client, keys["editor"])
    clash = client.post(f"/v1/drafts/{twin['id']}/publish", headers=keys["editor"])
    assert clash.status_code == 409 and _problem_fields(clash) == ["draft.title"]


def test_a_publish_that_loses_the_race_writes_nothing(
    client: TestClient, services: Services, keys: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    draft = _start(client, keys["editor"])
    seq, log = services.store.last_seq(), read_audit(services.store.engine, limit=500)
    # as if another request published the draft between the check and the write
    monkeypatch.setattr("api.routes.drafts.mark_published", lambda conn, d, n: None)
    answer = client.post(f"/v1/drafts/{draft['id']}/publish", headers=keys["editor"])
    assert answer.status_code == 409
    assert services.store.last_seq() == seq
    assert services.store.find_node(f"wisdom_entry:night-walks-with-the-{WORD}-club") is None
    assert read_audit(services.store.engine, limit=500) == log


def test_a_draft_of_an_existing_entry_revises_it(
    client: TestClient, services: Services, keys: Headers
) -> None:
    services.store.write([
        WisdomEntry(id="wisdom_entry:circles", name="Circles in schools", body="How we began.",
                    summary="Kept.", published="2025-03-01"),
    ])  # fmt: skip
    from graph.edges import Edge

    services.store.write([
        Edge(kind="in_sector", source="wisdom_entry:circles", target="sector:education"),
        Edge(kind="addresses", source="wisdom_entry:circles", target="sdg:4"),
        Edge(kind="addresses", source="wisdom_entry:circles", target="sdg_target:4.7"),
    ])  # fmt: skip
    opened = _start(client, keys["editor"],
                    {"title": "Circles in schools", "body": "How we began, and what changed.",
                     "revises": "wisdom_entry:circles"})  # fmt: skip
    assert opened["revises"] == "wisdom_entry:circles"
    assert (opened["sectors"], opened["goals"]) == (["sector:education"], ["sdg:4"])
    retagged = {"title": "Circles in our schools", "body": "How we began, and what changed.",
                "revises": "wisdom_entry:circles", "sectors": ["sector:peace"],
                "goals": ["sdg:4"]}  # fmt: skip
    assert client.put(f"/v1/drafts/{opened['id']}", json=retagged,
                      headers=keys["editor"]).status_code == 200  # fmt: skip
    published = client.post(f"/v1/drafts/{opened['id']}/publish", headers=keys["editor"])
    assert published.status_code == 200, published.text
    node = published.json()["node"]
    assert node["id"] == "wisdom_entry:circles" and node["name"] == "Circles in our schools"
    assert (node["summary"], node["published"]) == ("Kept.", "2025-03-01")
    assert _edges(services, "wisdom_entry:circles") == {
        ("in_sector", "sector:peace"),
        ("addresses", "sdg:4"),
        ("addresses", "sdg_target:4.7"),
    }, "the sector changed; the goal stays; its target tag is not the desk's to drop"
    # the entry's author stays its author
    assert ("authored", "wisdom_entry:circles") in {
        (e.kind, e.target) for e in services.store.edges_of("person:ahmed")
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (DRAFT | {"title": ""}, "body.title"),
        (DRAFT | {"title": "Two\nlines"}, "body.title"),
        (DRAFT | {"body": "x" * 20_001}, "body.body"),
        ({"title": "No body"}, "body.body"),
        (DRAFT | {"sectors": ["sdg:4"]}, "body.sectors.0"),
        (DRAFT | {"sectors": ["sector:no-such-sector"]}, "body.sectors.0"),
        (DRAFT | {"goals": ["sdg:16", "sdg:99"]}, "body.goals.1"),
        (DRAFT | {"revises": "initiative:hub"}, "body.revises"),
        (DRAFT | {"author": "someone"}, "body.author"),
    ],
)
def test_bad_drafts_are_refused_naming_the_field(
    client: TestClient, services: Services, keys: Headers, body: dict[str, Any], field: str
) -> None:
    answer = client.post("/v1/drafts", json=body, headers=keys["editor"])
    assert answer.status_code == 422, answer.text
    assert field in _problem_fields(answer)
    with services.store.engine.connect() as conn:
        assert conn.execute(select(drafts)).all() == []


def test_a_draft_of_a_missing_entry_is_a_missing_node(client: TestClient, keys: Headers) -> None:
    answer = client.post("/v1/drafts", json=DRAFT | {"revises": "wisdom_entry:nope"},
                         headers=keys["editor"])  # fmt: skip
    assert answer.status_code == 404
    assert answer.json()["errors"] == [
        {"field": "body.revises", "reason": "no node with id 'wisdom_entry:nope'"}
    ]
    for method in ("GET", "PUT", "DELETE"):
        unknown = client.request(method, "/v1/drafts/0123456789abcdef", headers=keys["editor"],
                                 json=DRAFT if method == "PUT" else None)  # fmt: skip
        assert unknown.status_code == 404, method


def test_deleting_a_draft(client: TestClient, keys: Headers) -> None:
    draft = _start(client, keys["editor"])
    assert client.delete(f"/v1/drafts/{draft['id']}", headers=keys["member"]).status_code == 403
    assert client.delete(f"/v1/drafts/{draft['id']}", headers=keys["editor"]).status_code == 204
    assert client.get(f"/v1/drafts/{draft['id']}", headers=keys["editor"]).status_code == 404


def _authors(services: Services) -> list[str | None]:
    with services.store.engine.connect() as conn:
        return [r.author_account_id for r in conn.execute(select(drafts)).all()]


def test_deleting_an_account_deletes_its_drafts(
    client: TestClient, services: Services, keys: Headers
) -> None:
    _, secret = account_token(services, Role.editor)
    leaving = {"Authorization": f"Bearer {secret}"}
    _start(client, leaving)
    other = _start(client, keys["editor"])
    email = client.get("/v1/account", headers=leaving).json()["account"]["email"]
    exported = client.get("/v1/me/export", headers=leaving).json()
    assert [d["title"] for d in exported["drafts"]] == [DRAFT["title"]]
    gone = client.request("DELETE", "/v1/me", json={"confirm": email}, headers=leaving)
    assert gone.status_code == 204, gone.text
    listed = client.get("/v1/drafts", headers=keys["editor"]).json()["items"]
    assert [d["id"] for d in listed] == [other["id"]]
    assert len(_authors(services)) == 1


def test_erasing_a_person_deletes_their_accounts_drafts(
    client: TestClient, services: Services, keys: Headers
) -> None:
    _, secret = account_token(services, Role.editor, "person:pub")
    _start(client, {"Authorization": f"Bearer {secret}"})
    assert len(_authors(services)) == 1
    erased = client.delete("/v1/nodes/person:pub", headers=keys["admin"])
    assert erased.status_code == 204
    assert _authors(services) == []
