"""My marks and my matches: follow, save and "not interested" (which the recommender
respects, for me only); reasons phrased to me; hidden people missing as if absent."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.marks import marks
from api.services import Services
from graph.edges import Edge
from graph.model import Visibility

Headers = dict[str, dict[str, str]]
MODES = ("similar", "complementary", "bridging")


def matches(client: TestClient, headers: dict[str, str], query: str = "") -> list[str]:
    answer = client.get(f"/v1/me/matches?{query}", headers=headers)
    assert answer.status_code == 200, answer.text
    return [item["node"]["id"] for item in answer.json()["items"]]


def put(client: TestClient, headers: dict[str, str], kind: str, node: str) -> Any:
    return client.put(f"/v1/me/marks/{kind}/{node}", headers=headers)


def test_follow_save_and_take_back(client: TestClient, keys: Headers) -> None:
    member = keys["member"]
    first = put(client, member, "follow", "initiative:hub")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["kind"] == "follow"
    assert body["node"] == {"id": "initiative:hub", "kind": "initiative", "name": "Hub"}
    again = put(client, member, "follow", "initiative:hub")
    assert again.status_code == 200 and again.json()["at"] == body["at"]
    assert put(client, member, "follow", "sector:peace").status_code == 201
    assert put(client, member, "save", "wisdom_entry:circles").status_code == 201
    listed = client.get("/v1/me/marks", headers=member).json()["items"]
    assert {(m["kind"], m["node"]["id"]) for m in listed} == {
        ("follow", "initiative:hub"), ("follow", "sector:peace"),
        ("save", "wisdom_entry:circles"),
    }  # fmt: skip
    saved = client.get("/v1/me/marks?kind=save", headers=member).json()["items"]
    assert [m["node"]["id"] for m in saved] == ["wisdom_entry:circles"]
    gone = client.delete("/v1/me/marks/follow/initiative:hub", headers=member)
    assert gone.status_code == 204
    assert client.delete("/v1/me/marks/follow/initiative:hub", headers=member).status_code == 204
    follows = client.get("/v1/me/marks?kind=follow", headers=member).json()["items"]
    assert [m["node"]["id"] for m in follows] == ["sector:peace"]


def test_each_mark_applies_to_its_kinds(client: TestClient, keys: Headers) -> None:
    member = keys["member"]
    for kind, node in (("save", "sector:peace"), ("hide", "sdg:4"), ("follow", "person:mem"),
                       ("follow", "wisdom_entry:circles")):  # fmt: skip
        answer = put(client, member, kind, node)
        assert answer.status_code == 422, (kind, node, answer.text)
        assert answer.json()["errors"][0]["field"] == "path.node_id"
    bad = client.put("/v1/me/marks/like/initiative:hub", headers=member)
    assert bad.status_code == 422


def test_hidden_people_are_missing_like_absent_ones(client: TestClient, keys: Headers) -> None:
    member = keys["member"]
    for node in ("person:priv", "person:shy", "person:nobody"):
        for kind in ("follow", "save", "hide"):
            answer = put(client, member, kind, node)
            assert answer.status_code == 404, answer.text
            assert answer.json()["detail"] == f"no node with id '{node}'"
            assert answer.json()["errors"] == [
                {"field": "path.node_id", "reason": f"no node with id '{node}'"}
            ]
        gone = client.delete(f"/v1/me/marks/save/{node}", headers=member)
        assert gone.status_code == 404


def test_marks_need_an_account_with_a_profile(client: TestClient, keys: Headers) -> None:
    assert client.get("/v1/me/marks").status_code == 401
    assert client.get("/v1/me/matches").status_code == 401
    for url in ("/v1/me/marks", "/v1/me/matches", "/v1/me/digest"):
        refused = client.get(url, headers=keys["editor"])
        assert refused.status_code == 403
        assert refused.json()["detail"] == "write your profile first"
    assert put(client, keys["editor"], "follow", "initiative:hub").status_code == 403


def test_a_person_who_turns_private_leaves_my_list(
    client: TestClient, keys: Headers, services: Services
) -> None:
    assert put(client, keys["member"], "save", "person:pub").status_code == 201
    pub = services.store.find_node("person:pub")
    assert pub is not None
    services.store.write([pub.model_copy(update={"visibility": Visibility.private})])
    services.catch_up()
    assert client.get("/v1/me/marks", headers=keys["member"]).json()["items"] == []


def test_what_i_hide_is_never_recommended_to_me_again(client: TestClient, keys: Headers) -> None:
    member, admin = keys["member"], keys["admin"]
    people = matches(client, member, "kind=person")
    assert "person:maria" in people
    assert put(client, member, "hide", "person:maria").status_code == 201
    for mode in MODES:
        assert "person:maria" not in matches(client, member, f"kind=person&mode={mode}")
        mine = client.get(f"/v1/people/person:mem/collaborators?mode={mode}", headers=member)
        assert "person:maria" not in [i["node"]["id"] for i in mine.json()["items"]]
    # The page stays full: what was hidden is left out before ranking, not after.
    assert len(matches(client, member, "kind=person&limit=2")) == 2
    # My choice is mine: others asking about me still see her.
    theirs = client.get("/v1/people/person:mem/collaborators", headers=admin).json()["items"]
    assert "person:maria" in [i["node"]["id"] for i in theirs]
    for kind, node in (("initiative", "initiative:safe-streets"),
                       ("community", "community:sacramento")):  # fmt: skip
        assert node in matches(client, member, f"kind={kind}")
        assert put(client, member, "hide", node).status_code == 201
        assert node not in matches(client, member, f"kind={kind}")
    # Taken back: suggested again.
    assert client.delete("/v1/me/marks/hide/person:maria", headers=member).status_code == 204
    assert "person:maria" in matches(client, member, "kind=person")


def test_reasons_are_phrased_to_me(client: TestClient, keys: Headers, services: Services) -> None:
    services.store.write([
        Edge(kind="interested_in", source="person:mem", target="sdg:16"),
        Edge(kind="interested_in", source="person:maria", target="sdg:16"),
    ])  # fmt: skip
    services.catch_up()
    member = keys["member"]
    goal = services.store.find_node("sdg:16")
    assert goal is not None
    found: dict[str, list[str]] = {}
    for kind in ("person", "initiative", "community"):
        for mode in MODES:
            answer = client.get(f"/v1/me/matches?kind={kind}&mode={mode}", headers=member)
            body = answer.json()
            assert body["kind"] == kind and body["mode"] == mode
            for item in body["items"]:
                assert item["reasons"], item
                assert "summary" in item["explanation"]
                assert "contact" not in item["node"]
                found[f"{kind}:{mode}:{item['node']['id']}"] = item["reasons"]
                for reason in item["reasons"]:
                    assert reason[:1].isupper() and "_" not in reason, reason
                    # no numbers but distances
                    assert not re.search(r"\d", re.sub(r"\d+ km", "", reason)), reason
    assert f"You both care about {goal.name}" in found["person:similar:person:maria"]
    assert (f"It works on {goal.name}, which you care about"
            in found["initiative:similar:initiative:safe-streets"])  # fmt: skip
    assert "Within 10 km of you" in found["person:similar:person:maria"]
    assert any(r.startswith("They bring") for r in found["person:bridging:person:lena"])
    assert any(
        r.startswith("It brings") for r in found["initiative:bridging:initiative:green-lots"]
    )


def test_erasing_a_person_removes_their_marks_and_marks_on_them(
    client: TestClient, keys: Headers, services: Services
) -> None:
    member = keys["member"]
    assert put(client, member, "save", "person:maria").status_code == 201
    assert put(client, member, "follow", "initiative:hub").status_code == 201
    assert client.delete("/v1/nodes/person:maria", headers=keys["admin"]).status_code == 204
    with services.store.engine.connect() as conn:
        left = conn.execute(select(marks.c.person_id, marks.c.node_id)).all()
    assert [tuple(row) for row in left] == [("person:mem", "initiative:hub")]
    assert client.delete("/v1/nodes/person:mem", headers=member).status_code == 204
    with services.store.engine.connect() as conn:
        assert conn.execute(select(marks)).all() == []
