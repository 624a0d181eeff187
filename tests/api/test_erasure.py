"""Erasure: a deleted person is gone from the store, the graph and every route."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.services import Services

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
    tombstones = [c for c in services.store.changes_since(0) if c.ref == "person:maria"]
    assert tombstones[-1].op == "delete"

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
