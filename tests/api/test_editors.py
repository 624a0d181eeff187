"""Related wisdom and community learning on the privacy fixture network, with the real model.

Here: bad input, nothing written or logged, who may be recommended to whom, and what
the explanations and nodes show of a person. Results a person would agree with, on
the demo network: ``test_editors_demo.py``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.services import Services
from tests.api.conftest import EXACT, SECRET_EMAIL

Headers = dict[str, dict[str, str]]

DRAFT = {
    "title": "Restorative circles in our schools",
    "body": "How we began circles in schools: students and teachers sit together after a "
    "conflict, listen to each other and agree how to repair the harm.",
}
LEARN = {"community": "community:sacramento", "issues": "gang violence; young people", "limit": 20}
NEVER = {"person:priv", "person:shy"}  # private, and not discoverable: recommended to nobody


def node_ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["node"]["id"] for item in items]


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/v1/wisdom/related", {}, "body"),
        ("/v1/wisdom/related", {"title": "Circles"}, "body"),
        ("/v1/wisdom/related", {**DRAFT, "id": "wisdom_entry:circles"}, "body"),
        ("/v1/wisdom/related", {"title": "?!", "body": "..."}, "body"),
        ("/v1/wisdom/related", {"id": "initiative:hub"}, "body.id"),
        ("/v1/wisdom/related", {**DRAFT, "limit": 21}, "body.limit"),
        ("/v1/wisdom/related", {**DRAFT, "title": ""}, "body.title"),
        ("/v1/wisdom/related", {**DRAFT, "author": "me"}, "body.author"),
        ("/v1/communities/learn", {"community": "initiative:hub", "issues": "x"}, "body.community"),
        ("/v1/communities/learn", {"community": "community:sacramento"}, "body.issues"),
        ("/v1/communities/learn", {"community": "community:sacramento", "issues": "?!"},
         "body.issues"),
        ("/v1/communities/learn", {**LEARN, "limit": 0}, "body.limit"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_naming_the_field(
    client: TestClient, url: str, body: dict[str, Any], field: str
) -> None:
    response = client.post(url, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]]


def test_unknown_ids_are_missing(client: TestClient) -> None:
    entry = client.post("/v1/wisdom/related", json={"id": "wisdom_entry:nowhere"})
    assert entry.status_code == 404
    community = client.post("/v1/communities/learn", json={**LEARN, "community": "community:x"})
    assert community.status_code == 404


def test_a_draft_is_neither_written_nor_logged(
    client: TestClient, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    marker = "Zanzibarquokka"
    seq = services.store.last_seq()
    with caplog.at_level(logging.DEBUG):
        response = client.post("/v1/wisdom/related",
                               json={**DRAFT, "body": f"{DRAFT['body']} {marker}"})  # fmt: skip
    assert response.status_code == 200, response.text
    assert services.store.last_seq() == seq
    assert marker not in caplog.text
    assert all(marker not in str(record.args) for record in caplog.records)


def test_an_entry_by_id_is_related_to_others_never_to_itself(client: TestClient) -> None:
    response = client.post("/v1/wisdom/related", json={"id": "wisdom_entry:circles"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"related", "near_duplicates", "tags", "practitioners"}
    assert "wisdom_entry:circles" not in node_ids(body["related"] + body["near_duplicates"])
    assert body["tags"]["sdgs"] and "held-out" in body["tags"]["confidence"]


@pytest.mark.parametrize("role", ["anonymous", "member", "editor", "admin"])
def test_only_consenting_people_are_recommended_and_shown_coarsened(
    client: TestClient, keys: Headers, role: str
) -> None:
    related = client.post("/v1/wisdom/related", json={**DRAFT, "limit": 20}, headers=keys[role])
    learned = client.post("/v1/communities/learn", json=LEARN, headers=keys[role])
    assert related.status_code == learned.status_code == 200
    practitioners = node_ids(related.json()["practitioners"])
    connectors = node_ids(learned.json()["connectors"])
    members_too = role != "anonymous"
    # Ahmed (members-only) wrote the related entry; he is shown to members and up only.
    assert ("person:ahmed" in practitioners) is members_too
    assert ("person:mem" in connectors) is (role in ("editor", "admin"))  # never to himself
    assert {"person:pub", "person:city", "person:country", "person:maria"} <= set(connectors)
    assert NEVER.isdisjoint(practitioners + connectors)
    for text in (related.text, learned.text):
        assert SECRET_EMAIL not in text
        assert "person:priv" not in text and "person:shy" not in text
    shown = {item["node"]["id"]: item for item in learned.json()["connectors"]}
    city = shown["person:city"]
    assert city["node"]["place"]["lat"] != EXACT.lat  # coarsened to its 0.1° cell
    assert city["explanation"]["distance_band"] == "within 10 km"
    assert "lat" not in shown["person:country"]["node"].get("place", {})
    assert shown["person:country"]["explanation"]["distance_band"] is None
    assert "km" not in json.dumps(shown["person:country"]["explanation"]["summary"])
