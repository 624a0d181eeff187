"""Consent and privacy in recommendations, on the fixture network of every privacy setting.

``person:pub`` knows ``person:priv`` (private), who knows ``person:lena``; everyone of the
privacy fixture works on ``initiative:hub``; ``person:shy`` is not discoverable and
``person:mem`` is members-only; the member key belongs to ``person:mem``.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.services import Services
from graph.model import Person
from tests.api.conftest import EXACT, HIDDEN_FROM_ANONYMOUS, SECRET_EMAIL

Headers = dict[str, dict[str, str]]
ROLES = ("anonymous", "member", "editor", "admin")
NEVER = {"person:priv", "person:shy"}  # private, not discoverable: for every role
URLS = (
    "/v1/people/person:pub/collaborators?limit=50",
    "/v1/people/person:pub/collaborators?limit=50&mode=bridging",
    "/v1/people/person:pub/collaborators?limit=50&mode=complementary",
    "/v1/people/person:pub/collaborators?limit=50&relation=existing",
    "/v1/people/person:lena/collaborators?limit=50&relation=existing",
    "/v1/people/person:lena/collaborators?limit=50",
    "/v1/people/person:maria/collaborators?limit=50&scope=local&radius_km=100",
    "/v1/initiatives/initiative:safe-streets/people?limit=50",
    "/v1/initiatives/initiative:green-lots/people?limit=50&mode=bridging",
)


def items(client: TestClient, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


@pytest.mark.parametrize("role", ROLES)
def test_private_and_undiscoverable_people_are_never_recommended(
    client: TestClient, keys: Headers, role: str
) -> None:
    seen: set[str] = set()
    for url in URLS:
        seen |= {item["node"]["id"] for item in items(client, url, keys[role])}
    assert seen, "there is someone to recommend"
    assert not seen & NEVER
    if role == "anonymous":
        assert not seen & set(HIDDEN_FROM_ANONYMOUS)
    else:
        assert "person:mem" in seen or role == "member"  # a member is not their own match


@pytest.mark.parametrize("role", ["anonymous", "member", "editor"])
def test_no_path_or_explanation_passes_through_a_hidden_person(
    client: TestClient, keys: Headers, role: str
) -> None:
    """Lena is linked to Pia only through Pri, who is private: the link is never shown."""
    hidden = set(HIDDEN_FROM_ANONYMOUS) if role == "anonymous" else NEVER
    for url in URLS:
        for item in items(client, url, keys[role]):
            why = item["explanation"]
            on_path = {step["id"] for step in why["path"] if "id" in step}
            assert not on_path & hidden, (url, why["path"])
            assert not any(h in why["summary"] for h in ("Pri Private", "Shy Undiscoverable"))


def test_no_contact_detail_or_exact_place_leaves_the_service(
    client: TestClient, keys: Headers, services: Services
) -> None:
    for role in ROLES:
        for url in URLS:
            for item in items(client, url, keys[role]):
                text = str(item)
                assert SECRET_EMAIL not in text
                node = services.store.get_node(item["node"]["id"])
                assert isinstance(node, Person)
                privileged = role == "admin" or (role == "member" and node.id == "person:mem")
                if node.location_precision != "exact" and not privileged:
                    assert str(EXACT.lat) not in text and str(EXACT.lon) not in text
                assert "distance_km" not in item["explanation"]


def test_distance_bands_come_from_coarsened_places(client: TestClient) -> None:
    """Everyone of the privacy fixture lives at one exact spot; only the band is told.
    (They all work on one initiative: they are one another's existing collaborators.)"""
    url = "/v1/people/person:pub/collaborators?limit=50&relation=existing"
    found = {item["node"]["id"]: item["explanation"].get("distance_band")
             for item in items(client, url, {})}  # fmt: skip
    assert found["person:city"] == "within 10 km"  # the centre of its 0.1° cell is near
    assert found["person:region"] in ("within 10 km", "within 50 km", "within 200 km")
    assert found["person:country"] is None  # no coordinates to measure from


def test_local_scope_without_a_public_place_names_the_parameter(client: TestClient) -> None:
    response = client.get("/v1/people/person:country/collaborators", params={"scope": "local"})
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"] == [{"field": "query.scope", "reason": problem["detail"]}]
    assert "person:country" in problem["detail"]


def test_an_owner_may_ask_for_their_own_hidden_profile(client: TestClient, keys: Headers) -> None:
    assert client.get("/v1/people/person:mem/collaborators").status_code == 404
    found = items(client, "/v1/people/person:mem/collaborators?limit=50", keys["member"])
    ids = {item["node"]["id"] for item in found}
    assert "person:mem" not in ids and not ids & NEVER


def test_a_private_acquaintance_is_never_listed_among_existing_collaborators(
    client: TestClient, keys: Headers
) -> None:
    """Pia knows Pri (private): Pri is listed to nobody, not even as someone she knows."""
    for role in ROLES:
        url = "/v1/people/person:pub/collaborators?limit=50&relation=existing"
        found = {item["node"]["id"] for item in items(client, url, keys[role])}
        assert found, "everyone here works on one initiative"
        assert not found & NEVER


def test_people_on_the_initiative_are_not_asked_to_join_it(client: TestClient) -> None:
    url = "/v1/initiatives/initiative:safe-streets/people?limit=50"
    found = {item["node"]["id"] for item in items(client, url, {})}
    assert found and not found & {"person:maria", "person:ahmed"}
