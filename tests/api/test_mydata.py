"""My data: the export holds everything about me and nothing about anyone else; deleting
my account (with my email as confirmation) erases me everywhere and lets the address
join again; a wrong confirmation deletes nothing."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from api.auth import Role
from api.deps import SESSION_COOKIE
from graph.edges import Edge
from graph.model import Person
from graph.store import ERASED
from tests.api.conftest import PASSWORD, account_token, join, served, token_from
from tests.mailbox import Mailbox

PROFILE = {
    "bio": "Zythophile gardener who teaches composting.",
    "visibility": "public",
    "contact": {"email": "rosa@example.org", "phone": "+1 555 0100"},
    "goals": ["sdg:4"],
}


def _admin(web: TestClient) -> dict[str, str]:
    _, secret = account_token(served(web), Role.admin)
    return {"Authorization": f"Bearer {secret}"}


def _profile(web: TestClient, mailbox: Mailbox, email: str, name: str) -> dict[str, Any]:
    body = join(web, mailbox, email, name)
    csrf = {"X-CSRF-Token": body["csrf_token"]}
    made = web.patch("/v1/me", json=PROFILE, headers=csrf)
    assert made.status_code == 200, made.text
    return {"csrf": csrf, "person": made.json()["person"]["id"], "token": body["token"]}


def test_the_export_holds_my_data_and_nobody_elses(web: TestClient, mailbox: Mailbox) -> None:
    other = _profile(web, mailbox, "bob@example.org", "Bob Other")
    web.cookies.clear()
    mine = _profile(web, mailbox, "rosa@example.org", "Rosa Diaz")
    services = served(web)
    # A private person claims to know me, a public one too: only the second is mine to see.
    services.store.write([
        Person(id="person:hidden-fan", name="Hidden Fan", visibility="private"),
        Person(id="person:open-fan", name="Open Fan"),
        Edge(kind="knows", source="person:hidden-fan", target=mine["person"]),
        Edge(kind="knows", source="person:open-fan", target=mine["person"]),
    ])  # fmt: skip
    answer = web.get("/v1/me/export")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"] == 'attachment; filename="cocreate-me.json"'
    data = answer.json()
    assert set(data) >= {"exported_at", "account", "person", "edges", "tokens", "audit"}
    assert data["account"]["email"] == "rosa@example.org"
    assert data["person"]["id"] == mine["person"]
    assert data["person"]["contact"] == PROFILE["contact"]  # my own contact details
    pairs = {(e["source"], e["kind"], e["target"]) for e in data["edges"]}
    assert (mine["person"], "interested_in", "sdg:4") in pairs
    assert ("person:open-fan", "knows", mine["person"]) in pairs
    assert not any("hidden-fan" in ref for pair in pairs for ref in pair)
    assert {t["kind"] for t in data["tokens"]} == {"session", "token"}
    assert [e["action"] for e in data["audit"]] == ["me.create"]
    assert {e["ref"] for e in data["audit"]} == {mine["person"]}
    text = json.dumps(data)
    assert mine["token"] not in text  # no secret
    assert "bob" not in text.lower() and other["person"] not in text
    assert "Hidden Fan" not in text


def test_the_export_needs_a_sign_in(web: TestClient) -> None:
    assert web.get("/v1/me/export").status_code == 401


def test_deleting_my_account_erases_me(web: TestClient, mailbox: Mailbox) -> None:
    admin = _admin(web)
    mine = _profile(web, mailbox, "rosa@example.org", "Rosa Diaz")
    person = mine["person"]
    found = web.get("/v1/search", params={"q": "zythophile composting"}).json()["items"]
    assert person in {hit["node"]["id"] for hit in found}
    gone = web.request("DELETE", "/v1/me", json={"confirm": " Rosa@Example.org "},
                       headers=mine["csrf"])  # fmt: skip
    assert gone.status_code == 204, gone.text
    assert f'{SESSION_COOKIE}=""' in gone.headers["set-cookie"]
    assert web.get(f"/v1/nodes/{person}", headers=admin).status_code == 404
    found = web.get("/v1/search", params={"q": "zythophile composting"}, headers=admin)
    assert person not in found.text
    bearer = {"Authorization": f"Bearer {mine['token']}"}
    assert web.get("/v1/account", headers=bearer).status_code == 401
    log = web.get("/v1/audit", params={"limit": 200}, headers=admin).json()["items"]
    assert "me.delete" in {entry["action"] for entry in log}
    assert {e["ref"] for e in log if e["action"] in ("me.create", "me.delete")} == {ERASED}
    assert person not in json.dumps(log)
    # The address is free again.
    web.cookies.clear()
    signup = {"email": "rosa@example.org", "password": PASSWORD, "name": "Rosa Again"}
    assert web.post("/v1/account/signup", json=signup).status_code == 202
    token = token_from(mailbox, "rosa@example.org", "verify", count=2)
    again = web.post("/v1/account/verify", json={"token": token})
    assert again.status_code == 200, again.text
    assert again.json()["account"]["person_id"] is None


def test_deleting_an_account_without_a_profile(web: TestClient, mailbox: Mailbox) -> None:
    body = join(web, mailbox, "nia@example.org", "Nia")
    gone = web.request("DELETE", "/v1/me", json={"confirm": "nia@example.org"},
                       headers={"X-CSRF-Token": body["csrf_token"]})  # fmt: skip
    assert gone.status_code == 204, gone.text
    assert served(web).accounts.by_email("nia@example.org") is None


def test_a_wrong_confirmation_deletes_nothing(web: TestClient, mailbox: Mailbox) -> None:
    mine = _profile(web, mailbox, "rosa@example.org", "Rosa Diaz")
    seq = served(web).store.last_seq()
    for wrong in ({"confirm": "someone@example.org"}, {"confirm": ""}):
        answer = web.request("DELETE", "/v1/me", json=wrong, headers=mine["csrf"])
        assert answer.status_code == 422, answer.text
        assert answer.json()["errors"] == [
            {"field": "body.confirm", "reason": "type your email address to confirm"}
        ]
    missing = web.request("DELETE", "/v1/me", json={}, headers=mine["csrf"])
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "body.confirm"
    assert served(web).store.last_seq() == seq
    assert web.get("/v1/me").json()["person"]["id"] == mine["person"]
