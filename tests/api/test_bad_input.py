"""Bad input: a 4xx problem naming the field and the reason, and the store unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.services import Services
from api.settings import Settings

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
        ("/v1/nodes?country=Atlantis", "query.country", "no country called 'Atlantis'"),
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


# -- the edges of input handling --------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"kind": "person", "id": "person:x", "name": "X", "weight": ' + b"7" * 5_000 + b"}",
         "too many digits"),
        (b'{"kind": "person", "id": "person:x", "name": "\xff\xfe"}', "not valid UTF-8"),
    ],
    ids=["nested", "digits", "utf-8"],
)  # fmt: skip
def test_bodies_that_cannot_be_parsed_name_the_body(
    client: TestClient, keys: Headers, services: Services, content: bytes, reason: str
) -> None:
    before = services.store.last_seq()
    headers = keys["admin"] | {"content-type": "application/json"}
    for url in ("/v1/nodes", "/v1/edges"):
        response = client.post(url, content=content, headers=headers)
        assert_problem(response, 400, "body", reason)
    patched = client.patch("/v1/nodes/person:pub", content=content, headers=headers)
    assert_problem(patched, 400, "body", reason)
    assert services.store.last_seq() == before


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/v1/nodes/initiative:hub/similar?like=../x", "query.like.0"),
        ("/v1/nodes/initiative:hub/similar?like=sdg:4&like=person:Bad", "query.like.1"),
        ("/v1/nodes/initiative:hub/similar?unlike=..%2Fx", "query.unlike.0"),
        ("/v1/edges?node=robot:r2d2", "query.node"),
        ("/v1/edges?node=person:-x", "query.node"),
        ("/v1/paths?source=../x&target=sdg:4", "query.source"),
        ("/v1/map?sector=sector:-", "query.sector"),
        ("/v1/nodes/person:Bad/neighbors", "path.node_id"),
        ("/v1/people/person:bad./collaborators", "path.person_id"),
    ],
)
def test_malformed_ids_are_refused_naming_the_parameter(
    client: TestClient, url: str, field: str
) -> None:
    assert_problem(client.get(url), 422, field, "should match pattern")


def test_a_malformed_id_in_a_body_list_is_named(client: TestClient, keys: Headers) -> None:
    response = client.post(
        "/v1/councils/propose",
        headers=keys["member"],
        json={"sector": "sector:peace", "exclude": ["person:ok", "../x"]},
    )
    assert_problem(response, 422, "body.exclude.1", "should match pattern")  # fmt: skip


INVISIBLE = [
    ("\x00", "control character U+0000"),
    ("\x1b[31m", "control character U+001B"),
    ("\u202e", "bidirectional control character U+202E"),
    ("\u2066", "bidirectional control character U+2066"),
    ("\u200f", "bidirectional control character U+200F"),
    ("\u2028", "line break (U+2028)"),
]


@pytest.mark.parametrize(("char", "reason"), INVISIBLE)
def test_names_and_other_single_lines_refuse_invisible_characters(
    client: TestClient, keys: Headers, services: Services, char: str, reason: str
) -> None:
    before = services.store.last_seq()
    admin = keys["admin"]
    for body, field, why in [
        (PERSON | {"name": f"Ann{char}a"}, "body.name", reason),
        (PERSON | {"interests": ["gardens", f"x{char}y"]}, "body.interests.1", reason),
        (PERSON | {"place": {"name": f"Da{char}vis"}}, "body.place.name", reason),
        (PERSON | {"contact": {"phone": f"555{char}1234"}}, "body.contact.phone", reason),
        # an address's own pattern may refuse it first (a line break is a space to it)
        (PERSON | {"contact": {"email": f"a{char}@example.org"}}, "body.contact.email", ""),
        (PERSON | {"provenance": f"im{char}port"}, "body.provenance", reason),
    ]:
        assert_problem(client.post("/v1/nodes", json=body, headers=admin), 422, field, why)
    patched = client.patch("/v1/nodes/person:pub", json={"name": f"P{char}ia"}, headers=admin)
    assert_problem(patched, 422, "body.name", reason)
    own = client.patch("/v1/nodes/person:mem", json={"name": f"M{char}o"}, headers=keys["member"])
    assert_problem(own, 422, "body.name", reason)
    edge = {"kind": "works_on", "source": "person:pub", "target": "initiative:hub",
            "role": f"le{char}ad"}  # fmt: skip
    assert_problem(client.post("/v1/edges", json=edge, headers=admin), 422, "body.role", reason)
    assert services.store.last_seq() == before


def test_free_text_keeps_lines_but_refuses_other_control_characters(
    client: TestClient, keys: Headers
) -> None:
    admin = keys["admin"]
    lines = client.patch("/v1/nodes/person:pub", json={"bio": "One.\n\tTwo."}, headers=admin)
    assert lines.status_code == 200 and lines.json()["bio"] == "One.\n\tTwo."
    rtl = client.patch("/v1/nodes/person:pub", json={"bio": "\u05e9\u05dc\u05d5\u05dd \u202b"
                                                     "abc\u202c"}, headers=admin)  # fmt: skip
    assert rtl.status_code == 200  # bidi formatting has its uses in running text
    nul = client.patch("/v1/nodes/person:pub", json={"bio": "One.\x00Two."}, headers=admin)
    assert_problem(nul, 422, "body.bio", "control character U+0000")


# -- who is the client, and how often may they guess a key ----------------------------


def test_repeated_bad_keys_are_limited_tighter_than_traffic(
    client: TestClient, keys: Headers
) -> None:
    """300 requests with bad keys all got 401 before; now the failures of one address
    are limited (10 at once, then 10 a minute by default) while its normal traffic is not."""
    statuses = [
        client.get("/v1/nodes/sdg:1", headers={"Authorization": f"Bearer guess-{i}"}).status_code
        for i in range(30)
    ]
    assert statuses[:10] == [401] * 10
    assert set(statuses[10:]) == {429}
    refused = client.get("/v1/nodes/sdg:1", headers=keys["admin"])
    # Once spent, a key from that address is not even looked up: a right guess and a
    # wrong one get the same answer until the budget refills.
    assert_problem(refused, 429, "header.authorization", "too many unknown keys")
    assert int(refused.headers["Retry-After"]) >= 1
    assert all(client.get("/v1/nodes/sdg:1").status_code == 200 for _ in range(50))
    elsewhere = TestClient(client.app, client=("192.0.2.7", 4000))
    assert elsewhere.get("/v1/nodes/sdg:1", headers=keys["admin"]).status_code == 200


def limited_app(services: Services, **settings: Any) -> Any:
    tight = services.settings.model_copy(
        update={"rate_limit_per_minute": 60, "rate_limit_burst": 3, **settings}
    )
    return create_app(tight, services=services)


def test_forwarded_addresses_are_not_believed_by_default(services: Services) -> None:
    app = limited_app(services)
    with TestClient(app, client=("127.0.0.1", 5000)) as local:
        statuses = [
            local.get("/v1/nodes/sdg:1", headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
            for i in range(6)
        ]
    assert statuses[:3] == [200] * 3
    assert statuses[-1] == 429, "rotating X-Forwarded-For lifted the limit"


def test_forwarded_addresses_are_believed_from_trusted_proxies_only(services: Services) -> None:
    app = limited_app(services, trusted_proxies="10.0.0.0/8, ::1")
    with TestClient(app, client=("10.1.2.3", 5000)) as proxy:
        rotated = [
            proxy.get("/v1/nodes/sdg:1", headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
            for i in range(6)
        ]
        assert rotated == [200] * 6  # six clients behind the proxy, one request each
        # The nearest address that is not a trusted proxy is the client: a client
        # cannot hide behind a forged first entry.
        forged = [
            proxy.get("/v1/nodes/sdg:1",
                      headers={"X-Forwarded-For": f"203.0.113.{i}, 198.51.100.200, 10.9.9.9"})
            .status_code
            for i in range(6)
        ]  # fmt: skip
        assert forged[:3] == [200] * 3 and forged[-1] == 429
    with TestClient(app, client=("192.0.2.9", 5000)) as stranger:
        statuses = [
            stranger.get(
                "/v1/nodes/sdg:1", headers={"X-Forwarded-For": f"198.51.100.{i}"}
            ).status_code
            for i in range(6)
        ]
        assert statuses[-1] == 429  # not a trusted proxy: its header counts for nothing


def test_trusted_proxies_must_be_addresses() -> None:
    with pytest.raises(ValueError, match=r"'proxy\.example' is not an IP address or network"):
        Settings(trusted_proxies="10.0.0.1, proxy.example")


def test_every_4xx_names_a_field(client: TestClient, keys: Headers) -> None:
    member = keys["member"]
    responses = [
        client.get("/v1/nowhere"),
        client.delete("/v1/search?q=x"),
        client.get("/v1/nodes/person:nobody"),
        client.get("/v1/nodes/initiative:hub/similar?like=person:nobody"),
        client.patch("/v1/nodes/person:pub", json={"bio": "x"}),
        client.patch("/v1/nodes/person:pub", json={"bio": "x"}, headers=member),
        client.get("/v1/audit", headers=member),
        client.delete("/v1/edges/person:mem/knows/person:lena", headers=member),
        client.post("/v1/edges", headers=member,
                    json={"kind": "works_on", "source": "person:mem", "target": "initiative:hub"}),
    ]  # fmt: skip
    for response in responses:
        assert 400 <= response.status_code < 500
        assert response.headers["content-type"].startswith("application/problem+json")
        errors = response.json()["errors"]
        assert errors and all(e["field"] and e["reason"] for e in errors), response.text
