"""The HTTP routes through the app: reads, writes, graph queries, system endpoints, audit."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable

import pytest
from fastapi.testclient import TestClient

from api.services import Services
from graph.model import Node

Headers = dict[str, dict[str, str]]


def test_health_ready_metrics_and_docs(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready").json()
    assert ready["status"] == "ready"
    assert isinstance(ready["seq"], int) and ready["seq"] > 0
    assert set(ready) == {"status", "seq"}  # counts are for /v1/stats, as the caller may see
    assert sum(client.get("/v1/stats").json()["nodes"].values()) > 200
    client.get("/v1/nodes/sdg:4")
    metrics = client.get("/metrics").text
    # Labelled with the replica (the host's name by default) and the worker process.
    series = (
        f'cocreate_http_requests_total{{method="GET",replica="{socket.gethostname()}",'
        f'route="/v1/nodes/{{node_id}}",status="200",worker="{os.getpid()}"}}'
    )
    assert series in metrics
    spec = client.get("/openapi.json").json()
    assert "/v1/nodes/{node_id}/neighbors" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_read_and_list_with_filters(client: TestClient) -> None:
    goal = client.get("/v1/nodes/sdg:4").json()
    assert goal["title"].startswith("Ensure inclusive and equitable quality education")
    page = client.get("/v1/nodes", params={"kind": "sdg_target", "sdg": "sdg:4", "limit": 3})
    body = page.json()
    assert [n["id"] for n in body["items"]] == [
        "sdg_target:4.1",
        "sdg_target:4.2",
        "sdg_target:4.3",
    ]
    assert body["total"] == 10
    second = client.get("/v1/nodes", params={"kind": "sdg_target", "sdg": "sdg:4", "limit": 3,
                                             "cursor": body["next_cursor"]}).json()  # fmt: skip
    assert second["items"][0]["id"] == "sdg_target:4.4"
    found = client.get("/v1/nodes", params={"q": "safe", "kind": "initiative"}).json()
    assert [n["id"] for n in found["items"]] == ["initiative:safe-streets"]
    local = client.get("/v1/nodes", params={"community": "community:capital-region",
                                            "kind": "person"}).json()  # fmt: skip
    assert [n["id"] for n in local["items"]] == ["person:maria"]


def test_neighbors_and_paths(client: TestClient, keys: Headers) -> None:
    member = keys["member"]
    url = "/v1/nodes/person:maria/neighbors"
    around = client.get(url, params={"depth": 2}, headers=member).json()
    by_id = {item["node"]["id"]: item["distance"] for item in around["items"]}
    assert by_id["initiative:safe-streets"] == 1
    assert by_id["person:ahmed"] == 2  # members-only: not shown to anonymous callers
    assert "person:ahmed" not in client.get(url, params={"depth": 2}).text
    distances = [item["distance"] for item in around["items"]]
    assert distances == sorted(distances)
    ends = {"source": "person:maria", "target": "person:lena"}
    body = client.get("/v1/paths", params=ends, headers=member).json()
    assert body["length"] == 3
    assert [s["kind"] for s in body["steps"]] == ["works_on", "works_on", "knows"]
    assert next(n["id"] for n in body["nodes"]) == "person:maria"
    assert client.get("/v1/paths", params=ends).status_code == 404  # only via Ahmed


def test_a_path_through_a_node_deleted_since_the_view_found_it_is_no_path(
    client: TestClient, keys: Headers, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The view applies the store's writes a moment after them: a path it finds may pass
    through a node deleted meanwhile. The answer is "no path" (404), not a server error."""
    ends = {"source": "person:maria", "target": "person:lena"}
    member = keys["member"]
    assert client.get("/v1/paths", params=ends, headers=member).status_code == 200
    store_nodes = services.store.get_nodes

    def deleted_meanwhile(ids: Iterable[str]) -> dict[str, Node]:
        found = store_nodes(ids)
        found.pop("initiative:safe-streets", None)  # on the path found above
        return found

    monkeypatch.setattr(services.store, "get_nodes", deleted_meanwhile)
    answer = client.get("/v1/paths", params=ends, headers=member)
    assert answer.status_code == 404, answer.text
    assert answer.json()["title"] == "No path"


def test_editor_writes_content_and_every_write_is_audited(
    client: TestClient, keys: Headers
) -> None:
    editor = keys["editor"]
    created = client.post(
        "/v1/nodes",
        headers=editor,
        json={"kind": "initiative", "id": "initiative:night-library", "name": "Night Library"},
    )
    assert created.status_code == 201, created.text
    tagged = client.post(
        "/v1/edges",
        headers=editor,
        json={"kind": "addresses", "source": "initiative:night-library", "target": "sdg:4"},
    )
    assert tagged.status_code == 201, tagged.text
    patched = client.patch(
        "/v1/nodes/initiative:night-library",
        headers=editor,
        json={"description": "Open late for teenagers."},
    )
    assert patched.json()["description"] == "Open late for teenagers."
    assert (
        client.post(
            "/v1/nodes",
            headers=editor,
            json={"kind": "initiative", "id": "initiative:night-library", "name": "Again"},
        ).status_code
        == 409
    )
    audit = client.get("/v1/audit", headers=keys["admin"]).json()["items"]
    assert [(a["action"], a["role"]) for a in audit[:3]] == [
        ("node.patch", "editor"),
        ("edge.create", "editor"),
        ("node.create", "editor"),
    ]
    assert audit[0]["ref"] == "initiative:night-library"
    assert audit[0]["first_seq"] is not None
    assert client.get("/v1/audit", headers=editor).status_code == 403
    assert client.get("/v1/audit").status_code == 401


def test_members_edit_only_their_own_profile(client: TestClient, keys: Headers) -> None:
    member = keys["member"]
    own = client.patch("/v1/nodes/person:mem", headers=member, json={"bio": "Hello."})
    assert own.status_code == 200
    assert own.json()["bio"] == "Hello."
    other = client.patch("/v1/nodes/person:pub", headers=member, json={"bio": "Hacked."})
    assert other.status_code == 403
    assert client.get("/v1/nodes/person:pub").json().get("bio", "") == ""
    link = client.post(
        "/v1/edges",
        headers=member,
        json={"kind": "interested_in", "source": "person:mem", "target": "sdg:4"},
    )
    assert link.status_code == 201
    assert client.post("/v1/nodes", json={"kind": "sector", "id": "sector:x",
                                          "name": "X"}).status_code == 401  # fmt: skip


def test_views_follow_writes(client: TestClient, keys: Headers, services: Services) -> None:
    client.post(
        "/v1/edges",
        headers=keys["admin"],
        json={"kind": "knows", "source": "person:maria", "target": "person:lena"},
    )
    path = client.get("/v1/paths", params={"source": "person:maria", "target": "person:lena"})
    assert path.json()["length"] == 1
    assert services.view.graph.has_edge("person:maria", "person:lena", key="knows")


def test_members_link_their_profile_but_cannot_claim_roles_or_authorship(
    client: TestClient, keys: Headers
) -> None:
    member, admin = keys["member"], keys["admin"]
    claims = [
        {"kind": "authored", "source": "person:mem", "target": "wisdom_entry:circles"},
        {"kind": "member_of", "source": "person:mem", "target": "council:none"},
    ]
    assert client.post("/v1/edges", headers=member, json=claims[0]).status_code == 403
    assert client.post("/v1/edges", headers=member, json=claims[1]).status_code in (403, 404)
    # A connection someone else claimed to me is mine to remove.
    knows = {"kind": "knows", "source": "person:pub", "target": "person:mem"}
    assert client.post("/v1/edges", headers=admin, json=knows).status_code == 201
    gone = client.delete("/v1/edges/person:pub/knows/person:mem", headers=member)
    assert gone.status_code == 204


def test_only_admins_seat_board_members(
    client: TestClient, keys: Headers, services: Services
) -> None:
    """A member could set board_member on their own profile, and the council assistant
    then seated them as the board member. Fields that grant standing are the admins'."""
    member, admin = keys["member"], keys["admin"]
    seq = services.store.last_seq()
    for response in (
        client.patch("/v1/nodes/person:mem", headers=member, json={"board_member": True}),
        client.put("/v1/nodes/person:mem", headers=member,
                   json={"kind": "person", "id": "person:mem", "name": "Mo Member",
                         "visibility": "members", "board_member": True}),
        client.patch("/v1/nodes/person:mem", headers=member,
                     json={"bio": "Hello.", "provenance": "Verified by the board"}),
    ):  # fmt: skip
        assert response.status_code == 403, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        fields = {e["field"] for e in response.json()["errors"]}
        assert fields & {"body.board_member", "body.provenance"}, response.json()
    assert services.store.last_seq() == seq
    assert client.get("/v1/nodes/person:mem", headers=member).json().get("board_member") is None
    # An admin seats them; their own writes that leave it as it is still pass.
    seated = client.patch("/v1/nodes/person:mem", headers=admin, json={"board_member": True})
    assert seated.status_code == 200
    assert client.patch("/v1/nodes/person:mem", headers=member,
                        json={"bio": "Still me."}).status_code == 200  # fmt: skip
    record = client.get("/v1/nodes/person:mem", headers=member).json()
    assert record["board_member"] is True
    assert client.put("/v1/nodes/person:mem", headers=member, json=record).status_code == 200
    record.pop("board_member")  # a PUT without it would unseat them: theirs to ask an admin
    refused = client.put("/v1/nodes/person:mem", headers=member, json=record)
    assert refused.status_code == 403
    assert refused.json()["errors"] == [{"field": "body.board_member",
                                         "reason": "set by admins only"}]  # fmt: skip
