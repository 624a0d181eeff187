"""The graph explorer's neighbourhood order: the most connected first, counted privately.

``GET /v1/nodes/{id}/neighbors?order=links`` ranks each distance by how many nodes the
caller may find linked to each neighbour, so a sector's view opens on its best-linked
initiatives instead of the first 25 by name. The counts must never count a hidden person:
a link to a private profile would otherwise show as "2 links" where one is visible.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

HUB = "initiative:hub"


def around(
    client: TestClient, node: str, headers: dict[str, str] | None = None, **params: Any
) -> dict[str, Any]:
    response = client.get(f"/v1/nodes/{node}/neighbors", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def linked(client: TestClient, node: str, headers: dict[str, str]) -> set[str]:
    """The distinct nodes linked to `node` that `/v1/edges` shows the same caller."""
    edges = client.get("/v1/edges", params={"node": node, "limit": 200}, headers=headers)
    assert edges.status_code == 200, edges.text
    return {e["target"] if e["source"] == node else e["source"] for e in edges.json()["items"]}


def test_the_most_connected_come_first_and_counts_match_the_edges(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    admin = keys["admin"]
    body = around(client, HUB, admin, order="links", limit=200)
    items = body["items"]
    assert items and body["total"] == len(items)
    counts = [item["links"] for item in items]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] > counts[-1], "the fixture has neighbours of different degrees"
    # person:priv knows two people, person:pub one: they lead; ties keep the order by id.
    assert [i["node"]["id"] for i in items[:2]] == ["person:priv", "person:pub"]
    assert counts[:3] == [3, 2, 1]
    for item in items:
        node = item["node"]["id"]
        assert item["links"] == len(linked(client, node, admin))
        assert item["edges"] == [{"source": node, "kind": "works_on", "target": HUB}]


def test_the_default_order_stays_by_id_without_counts(client: TestClient) -> None:
    items = around(client, HUB, limit=200)["items"]
    ids = [item["node"]["id"] for item in items]
    assert ids == sorted(ids)
    assert all("links" not in item and "edges" not in item for item in items)


def test_counts_leave_out_hidden_people(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    anonymous = around(client, HUB, order="links", limit=200)
    shown = {item["node"]["id"]: item["links"] for item in anonymous["items"]}
    assert not {"person:mem", "person:priv", "person:shy"} & set(shown)
    assert anonymous["total"] == len(shown) == 4
    # Only the hub is linked to person:pub for an anonymous caller; an admin also sees
    # the private person it knows.
    assert shown["person:pub"] == 1
    admin = around(client, HUB, keys["admin"], order="links", limit=200)
    assert {i["node"]["id"]: i["links"] for i in admin["items"]}["person:pub"] == 2


def test_paging_follows_the_order_by_links(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    admin = keys["admin"]
    whole = [i["node"]["id"] for i in around(client, HUB, admin, order="links")["items"]]
    pages = [
        i["node"]["id"]
        for offset in range(0, len(whole), 2)
        for i in around(client, HUB, admin, order="links", limit=2, offset=offset)["items"]
    ]
    assert pages == whole


def test_deeper_rings_come_after_nearer_ones_each_by_links(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    items = around(client, "person:pub", keys["admin"], order="links", depth=2, limit=200)["items"]
    keys_seen = [(item["distance"], -item["links"]) for item in items]
    assert keys_seen == sorted(keys_seen)
    assert {item["distance"] for item in items} == {1, 2}
    assert all(("edges" in item) == (item["distance"] == 1) for item in items)


def test_an_unknown_order_is_refused_naming_the_field(client: TestClient) -> None:
    response = client.get(f"/v1/nodes/{HUB}/neighbors", params={"order": "name"})
    assert response.status_code == 422
    assert "query.order" in response.text
