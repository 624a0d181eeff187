"""Admins: an invitation mailed through a real SMTP server and accepted with its role;
role changes that take effect at once for existing tokens; the last admin; revoking any
token; appointing and dismissing coordinators (an audited graph write)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient

from api.auth import Role
from graph.edges import Edge
from graph.model import Community, Initiative, Person
from tests.api.conftest import PASSWORD, PUBLIC, account_token, join, served
from tests.mailbox import Mailbox

NEW_INITIATIVE = {"kind": "initiative", "id": "initiative:night-library", "name": "Night Library"}


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _admin(web: TestClient) -> tuple[str, dict[str, str]]:
    """A new admin's account id and headers."""
    _, secret = account_token(served(web), Role.admin)
    headers = _bearer(secret)
    return web.get("/v1/account", headers=headers).json()["account"]["id"], headers


def test_an_invitation_joins_with_its_role(web: TestClient, mailbox: Mailbox) -> None:
    _, admin = _admin(web)
    sent = web.post("/v1/admin/invitations",
                    json={"email": "Ed@Example.org", "role": "editor", "name": "Ed Itor"},
                    headers=admin)  # fmt: skip
    assert sent.status_code == 202, sent.text
    mail = mailbox.wait("ed@example.org")[-1]
    link = next(link for link in mail.links() if urlsplit(link).path == "/verify")
    assert link.startswith(PUBLIC)
    query = parse_qs(urlsplit(link).query)
    assert query["invite"] == ["1"]
    web.cookies.clear()
    joined = web.post("/v1/account/verify",
                      json={"token": query["token"][0], "password": PASSWORD})  # fmt: skip
    assert joined.status_code == 200, joined.text
    account = joined.json()["account"]
    assert (account["email"], account["name"], account["role"]) == (
        "ed@example.org", "Ed Itor", "editor"
    )  # fmt: skip
    made = web.post("/v1/nodes", json=NEW_INITIATIVE, headers=_bearer(joined.json()["token"]))
    assert made.status_code == 201, made.text
    # The link works once.
    again = web.post("/v1/account/verify", json={"token": query["token"][0], "password": PASSWORD})
    assert again.status_code == 422


def test_an_invitation_checks_the_address(web: TestClient) -> None:
    _, admin = _admin(web)
    bad = web.post("/v1/admin/invitations", json={"email": "nobody", "role": "member"},
                   headers=admin)  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "body.email"
    odd = web.post("/v1/admin/invitations", json={"email": "a@example.org", "role": "root"},
                   headers=admin)  # fmt: skip
    assert odd.status_code == 422
    assert odd.json()["errors"][0]["field"] == "body.role"


def test_a_role_change_takes_effect_at_once(web: TestClient, mailbox: Mailbox) -> None:
    _, admin = _admin(web)
    body = join(web, mailbox, "mo@example.org", "Mo Member")
    token = _bearer(body["token"])
    assert web.post("/v1/nodes", json=NEW_INITIATIVE, headers=token).status_code == 403
    found = web.get("/v1/admin/accounts", params={"q": "mo@"}, headers=admin).json()
    assert [item["email"] for item in found["items"]] == ["mo@example.org"]
    assert found["items"][0]["role"] == "member" and found["total"] == 1
    by_name = web.get("/v1/admin/accounts", params={"q": "member"}, headers=admin).json()
    assert [item["id"] for item in by_name["items"]] == [body["account"]["id"]]
    changed = web.patch(f"/v1/admin/accounts/{body['account']['id']}", json={"role": "editor"},
                        headers=admin)  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "editor"
    # The token made before the change now stands for an editor.
    assert web.post("/v1/nodes", json=NEW_INITIATIVE, headers=token).status_code == 201
    assert web.get("/v1/account").json()["account"]["role"] == "editor"  # the session too


def test_the_last_admin_cannot_be_demoted(web: TestClient) -> None:
    first_id, first = _admin(web)
    refused = web.patch(f"/v1/admin/accounts/{first_id}", json={"role": "member"}, headers=first)
    assert refused.status_code == 409, refused.text
    assert refused.json()["errors"][0]["field"] == "body.role"
    assert web.get("/v1/admin/accounts", headers=first).status_code == 200  # still admin
    second_id, second = _admin(web)
    done = web.patch(f"/v1/admin/accounts/{first_id}", json={"role": "member"}, headers=second)
    assert done.status_code == 200, done.text
    assert web.get("/v1/admin/accounts", headers=first).status_code == 403
    # Now the second is the last one.
    alone = web.patch(f"/v1/admin/accounts/{second_id}", json={"role": "editor"}, headers=second)
    assert alone.status_code == 409


def test_admins_revoke_any_token(web: TestClient, mailbox: Mailbox) -> None:
    _, admin = _admin(web)
    body = join(web, mailbox, "tok@example.org")
    listed = web.get(f"/v1/admin/accounts/{body['account']['id']}/tokens", headers=admin)
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert {item["kind"] for item in items} == {"session", "token"}
    assert all("token" not in item and "hash" not in item for item in items)
    assert body["token_id"] in {item["id"] for item in items}
    gone = web.delete(f"/v1/admin/tokens/{body['token_id']}", headers=admin)
    assert gone.status_code == 204
    assert web.get("/v1/account", headers=_bearer(body["token"])).status_code == 401
    assert web.delete(f"/v1/admin/tokens/{body['token_id']}", headers=admin).status_code == 404
    session = next(item["id"] for item in items if item["kind"] == "session")
    assert web.delete(f"/v1/admin/tokens/{session}", headers=admin).status_code == 204
    assert web.get("/v1/account").status_code == 401  # signed out
    # A key made on the command line too.
    key_id, secret = served(web).keys.create(Role.editor, label="cli")
    assert web.delete(f"/v1/admin/tokens/{key_id}", headers=admin).status_code == 204
    assert web.get("/v1/account", headers=_bearer(secret)).status_code == 401


def test_coordinators_are_appointed_and_dismissed(web: TestClient) -> None:
    services = served(web)
    services.store.write([
        Person(id="person:cora", name="Cora", visibility="private"),
        Initiative(id="initiative:garden", name="Garden"),
        Community(id="community:davis", name="Davis"),
        Edge(kind="member_of", source="person:cora", target="community:davis", since="2020-01-01"),
    ])  # fmt: skip
    _, admin = _admin(web)
    new = {"person": "person:cora", "node": "initiative:garden"}
    made = web.put("/v1/admin/coordinators", json=new, headers=admin)
    assert made.status_code == 200, made.text
    assert made.json() == new | {"edge": "works_on", "role": "coordinator"}
    assert services.store.get_edge("person:cora", "works_on", "initiative:garden").role == (
        "coordinator"
    )
    old = {"person": "person:cora", "node": "community:davis"}
    assert web.put("/v1/admin/coordinators", json=old, headers=admin).status_code == 200
    edge = services.store.get_edge("person:cora", "member_of", "community:davis")
    assert (edge.role, str(edge.since)) == ("coordinator", "2020-01-01")  # the rest is kept
    log = web.get("/v1/audit", headers=admin).json()["items"]
    assert [e["action"] for e in log[:2]] == ["coordinator.appoint"] * 2
    gone = web.request("DELETE", "/v1/admin/coordinators", json=old, headers=admin)
    assert gone.status_code == 204
    edge = services.store.get_edge("person:cora", "member_of", "community:davis")
    assert edge.role is None  # still a member, no longer the coordinator
    again = web.request("DELETE", "/v1/admin/coordinators", json=old, headers=admin)
    assert again.status_code == 404


def test_coordinator_input_names_the_field(web: TestClient) -> None:
    _, admin = _admin(web)
    seq = served(web).store.last_seq()
    cases = [
        ({"person": "person:nobody", "node": "sdg:4"}, 422, "body.node"),
        ({"person": "person:nobody", "node": "initiative:nowhere"}, 404, "body.person"),
        ({"person": "sdg:4", "node": "initiative:nowhere"}, 422, "body.person"),
        ({"person": "person:x"}, 422, "body.node"),
    ]
    for body, status, field in cases:
        answer = web.put("/v1/admin/coordinators", json=body, headers=admin)
        assert answer.status_code == status, (body, answer.text)
        assert answer.json()["errors"][0]["field"] == field
    assert served(web).store.last_seq() == seq
