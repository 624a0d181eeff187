"""Bad input: a 4xx problem naming the field and the reason, and the store unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.services import Services

Headers = dict[str, dict[str, str]]


def assert_problem(response: Any, status: int, field: str, reason: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert set(body) == {"type", "title", "status", "detail", "errors"}
    assert body["status"] == status
    fields = {e["field"]: e["reason"] for e in body["errors"]}
    assert field in fields, body
    assert reason in fields[field], body


PERSON = {"kind": "person", "id": "person:new", "name": "New"}

BAD_BODIES = [
    (PERSON | {"place": {"lat": 95, "lon": 0}}, "body.place.lat", "less than or equal to 90"),
    (PERSON | {"place": {"lat": 10, "lon": "east"}}, "body.place.lon", "valid number"),
    (PERSON | {"interests": "gardening"}, "body.interests", "valid list"),
    (PERSON | {"interests": ["x"] * 101}, "body.interests", "at most 100"),
    (PERSON | {"name": "x" * 301}, "body.name", "at most 300"),
    (PERSON | {"visibility": "everyone"}, "body.visibility", "'public', 'members' or 'private'"),
    (PERSON | {"kind": "robot"}, "body", "does not match any of the expected tags"),
    ({"id": "person:new", "name": "New"}, "body", "Unable to extract tag"),
    (PERSON | {"id": "person:Not Valid"}, "body.id", "should match pattern"),
    (PERSON | {"shoe_size": 44}, "body.shoe_size", "Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("body", "field", "reason"), BAD_BODIES)
def test_bad_node_bodies(
    client: TestClient, keys: Headers, services: Services, body: dict[str, Any], field: str,
    reason: str,
) -> None:  # fmt: skip
    before = services.store.last_seq()
    response = client.post("/v1/nodes", json=body, headers=keys["admin"])
    assert_problem(response, 422, field, reason)
    assert services.store.last_seq() == before


def test_malformed_json_and_oversized_bodies(
    client: TestClient, keys: Headers, services: Services
) -> None:
    before = services.store.last_seq()
    admin = keys["admin"] | {"content-type": "application/json"}
    assert_problem(client.post("/v1/nodes", content=b'{"kind": "person",', headers=admin),
                   422, "body", "malformed JSON")  # fmt: skip
    huge = b'{"kind":"person","id":"person:x","name":"' + b"x" * 2_000_000 + b'"}'
    assert_problem(client.post("/v1/nodes", content=huge, headers=admin), 413, "body", "larger")
    assert services.store.last_seq() == before


@pytest.mark.parametrize(
    ("url", "field", "reason"),
    [
        ("/v1/nodes?limit=0", "query.limit", "greater than or equal to 1"),
        ("/v1/nodes?limit=100000", "query.limit", "less than or equal to 200"),
        ("/v1/nodes?offset=-1", "query.offset", "greater than or equal to 0"),
        ("/v1/nodes?limit=ten", "query.limit", "valid integer"),
        ("/v1/nodes?kind=robot", "query.kind.0", "Input should be 'person'"),
        ("/v1/nodes?country=USA", "query.country", "should match pattern"),
        ("/v1/nodes?cursor=person:a&offset=3", "query.cursor", "cannot be combined"),
        ("/v1/nodes/initiative:hub/neighbors?depth=9", "query.depth", "less than or equal to 3"),
        ("/v1/edges?node=initiative:hub&kind=likes", "query.kind.0", "Input should be 'works_on'"),
        ("/v1/paths?source=person:pub", "query.target", "Field required"),
        # A filter names a node of its own kind; a person as a "sector" would list the
        # nodes linked to that person, hidden or not.
        ("/v1/nodes?sector=person:priv", "query.sector", "should match pattern"),
        ("/v1/nodes?sdg=person:priv", "query.sdg", "should match pattern"),
        ("/v1/nodes?community=person:priv", "query.community", "should match pattern"),
        ("/v1/search?q=x&sector=person:priv", "query.sector", "should match pattern"),
        ("/v1/search?q=x&community=sector:health", "query.community", "should match pattern"),
    ],
)
def test_bad_queries(client: TestClient, url: str, field: str, reason: str) -> None:
    response = client.get(url)
    assert_problem(response, 422 if "cursor" not in url else 400, field, reason)


def test_unknown_ids_are_404_problems(client: TestClient, keys: Headers) -> None:
    response = client.get("/v1/nodes/person:nobody")
    assert response.status_code == 404
    assert response.json()["detail"] == "no node with id 'person:nobody'"
    assert client.get("/v1/nodes/not-an-id").status_code == 422
    assert (
        client.patch("/v1/nodes/person:nobody", json={}, headers=keys["admin"]).status_code == 404
    )
    gone = client.delete("/v1/edges/person:pub/knows/person:lena", headers=keys["admin"])
    assert gone.status_code == 404


def test_edges_to_missing_nodes_and_wrong_pairs(
    client: TestClient, keys: Headers, services: Services
) -> None:
    before = services.store.last_seq()
    admin = keys["admin"]
    wrong = client.post(
        "/v1/edges",
        headers=admin,
        json={"kind": "works_on", "source": "sector:arts", "target": "person:pub"},
    )
    assert_problem(wrong, 422, "body", "cannot go from a 'sector' to a 'person'")
    missing = client.post(
        "/v1/edges",
        headers=admin,
        json={"kind": "works_on", "source": "person:pub", "target": "initiative:ghost"},
    )
    assert missing.status_code == 404
    assert "initiative:ghost" in missing.json()["detail"]
    assert services.store.last_seq() == before


def test_patch_cannot_change_identity_or_break_fields(
    client: TestClient, keys: Headers, services: Services
) -> None:
    before = services.store.last_seq()
    admin = keys["admin"]
    assert_problem(client.patch("/v1/nodes/person:pub", json={"kind": "sector"}, headers=admin),
                   422, "body.kind", "cannot be changed")  # fmt: skip
    assert_problem(
        client.patch("/v1/nodes/person:pub", json={"place": {"lat": -91}}, headers=admin),
        422, "body.place.lat", "greater than or equal to -90",
    )  # fmt: skip
    assert services.store.last_seq() == before


def test_bad_keys_and_rate_limits(client: TestClient, services: Services) -> None:
    assert_problem(client.get("/v1/nodes/sdg:1", headers={"Authorization": "Bearer nope"}),
                   401, "header.authorization", "unknown or revoked")  # fmt: skip
    assert_problem(client.get("/v1/nodes/sdg:1", headers={"Authorization": "Basic abc"}),
                   401, "header.authorization", "not a bearer key")  # fmt: skip
    limited = TestClient(client.app)
    limiter = client.app.state.limiter  # type: ignore[attr-defined]
    limiter.capacity, limiter.rate = 2.0, 0.5
    statuses = [limited.get("/v1/nodes/sdg:1").status_code for _ in range(4)]
    assert statuses[:2] == [200, 200]
    assert statuses[-1] == 429
    response = limited.get("/v1/nodes/sdg:1")
    assert int(response.headers["Retry-After"]) >= 1


def test_guessing_keys_is_rate_limited_too(client: TestClient) -> None:
    limiter = client.app.state.limiter  # type: ignore[attr-defined]
    limiter.capacity, limiter.rate = 3.0, 0.5
    guesses = [
        client.get("/v1/nodes/sdg:1", headers={"Authorization": f"Bearer guess-{i}"}).status_code
        for i in range(6)
    ]
    assert guesses[:3] == [401, 401, 401]
    assert guesses[-1] == 429
