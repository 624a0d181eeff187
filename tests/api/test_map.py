"""The map's positions: nobody placed more precisely than they chose, hidden people absent."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.routes.map import ABOUT_CHARS, about
from api.services import Services
from graph.edges import Edge
from graph.geo import public_place
from graph.model import Initiative, LocationPrecision, Person, Place, Visibility
from tests.api.conftest import EXACT, SECRET_EMAIL

ROLES = ["anonymous", "member", "editor", "admin"]
PLACED_PEOPLE = {"person:pub", "person:city", "person:region", "person:maria"}
# Who each role may see on the map: the listing rules (the member key is person:mem's).
VISIBLE = {
    "anonymous": PLACED_PEOPLE,
    "member": PLACED_PEOPLE | {"person:mem"},
    "editor": PLACED_PEOPLE | {"person:mem"},
    "admin": PLACED_PEOPLE | {"person:mem", "person:priv", "person:shy"},
}
HIDDEN_NAMES = {"person:mem": "Mo Member", "person:priv": "Pri Private",
                "person:shy": "Shy Undiscoverable"}  # fmt: skip
WELL = Place(name="Kisumu", country="KE", region="Africa", lat=-0.0917, lon=34.768)


def map_of(client: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get("/v1/map", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["total"] == len(body["items"])
    return body


def stored_people(services: Services) -> dict[str, Person]:
    people = services.store.get_nodes(sorted(VISIBLE["admin"] | {"person:country"}))
    return {pid: node for pid, node in people.items() if isinstance(node, Person)}


@pytest.mark.parametrize("role", ROLES)
def test_people_appear_only_at_their_coarsened_place_and_only_if_listed(
    client: TestClient, services: Services, keys: dict[str, dict[str, str]], role: str
) -> None:
    response = client.get("/v1/map", params={"kind": "person"}, headers=keys[role])
    body = response.json()
    shown = {item["id"]: item for item in body["items"]}
    assert set(shown) == VISIBLE[role]
    stored = stored_people(services)
    for person_id, item in shown.items():
        person = stored[person_id]
        assert person.place is not None
        public = public_place(person.place, person.location_precision)
        # Exactly the coarsened position, for every role (admins included): the map is
        # never finer than what each person chose to share.
        assert (item["lat"], item["lon"]) == (public.lat, public.lon), person_id
        assert item["precision"] == person.location_precision.value
        assert item["kind"] == "person" and item["name"] == person.name
    # The country-only person has no position to show, and is counted as unplaced.
    assert "person:country" not in shown
    assert body["unplaced"] >= 1
    for hidden, name in HIDDEN_NAMES.items():
        if hidden not in VISIBLE[role]:
            assert hidden not in response.text and name not in response.text
    assert SECRET_EMAIL not in response.text
    # The stored coordinates appear once: for the one person who chose to share them.
    assert response.text.count(str(EXACT.lat)) == 1


def test_coarsened_positions_sit_on_their_grid(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    shown = {i["id"]: i for i in map_of(client, keys["admin"], kind="person")["items"]}
    city, region = shown["person:city"], shown["person:region"]
    assert (city["lat"], city["lon"]) == (38.55, -121.45)  # the centre of its 0.1° cell
    assert (region["lat"], region["lon"]) == (38.5, -121.5)  # the centre of its 1° cell
    assert (shown["person:pub"]["lat"], shown["person:pub"]["lon"]) == (EXACT.lat, EXACT.lon)
    for item in (city, region):
        assert (item["lat"], item["lon"]) != (EXACT.lat, EXACT.lon)


def test_filters_by_kind_sector_goal_and_country(
    client: TestClient, services: Services, keys: dict[str, dict[str, str]]
) -> None:
    services.store.write(
        [
            Initiative(id="initiative:wells", name="Village Wells", place=WELL),
            Initiative(id="initiative:tutors", name="Street Tutors", place=EXACT),
            Edge(kind="in_sector", source="initiative:wells", target="sector:environment"),
            # A target counts for its goal, as in listings.
            Edge(kind="addresses", source="initiative:wells", target="sdg_target:6.1"),
            Edge(kind="addresses", source="initiative:tutors", target="sdg:4"),
        ]
    )
    anonymous = keys["anonymous"]
    initiatives = map_of(client, anonymous, kind="initiative")
    assert {i["id"] for i in initiatives["items"]} == {"initiative:wells", "initiative:tutors"}
    assert initiatives["unplaced"] >= 3  # hub, safe-streets and green-lots have no place
    in_sector = map_of(client, anonymous, kind="initiative", sector="sector:environment")
    assert [i["id"] for i in in_sector["items"]] == ["initiative:wells"]
    water = map_of(client, anonymous, sdg="sdg:6")
    assert [i["id"] for i in water["items"]] == ["initiative:wells"]
    education = map_of(client, anonymous, sdg="sdg:4", kind="initiative")
    assert [i["id"] for i in education["items"]] == ["initiative:tutors"]
    kenya = map_of(client, anonymous, country="ke")
    assert [i["id"] for i in kenya["items"]] == ["initiative:wells"]
    everything = map_of(client, anonymous)
    ids = [i["id"] for i in everything["items"]]
    assert ids == sorted(ids)
    assert {"community:sacramento", "initiative:wells", "person:maria"} <= set(ids)
    assert not set(ids) & set(HIDDEN_NAMES)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "sdg"}, "query.kind.0"),
        ({"sector": "person:priv"}, "query.sector"),  # only sectors filter the map
        ({"sdg": "sdg_target:6.1"}, "query.sdg"),
        ({"country": "Atlantis"}, "query.country"),  # USA is understood (test_places.py)
    ],
)
def test_bad_filters_are_refused_naming_the_field(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    response = client.get("/v1/map", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in {e["field"] for e in response.json()["errors"]}


def test_an_unknown_sector_or_goal_shows_nothing(client: TestClient) -> None:
    assert client.get("/v1/map", params={"sector": "sector:nowhere"}).json()["items"] == []
    assert client.get("/v1/map", params={"sdg": "sdg:99"}).json()["items"] == []


def test_a_write_shows_on_the_map_at_once(client: TestClient, services: Services) -> None:
    moved = Person(id="person:newcomer", name="Nia Newcomer", place=WELL,
                   location_precision=LocationPrecision.region)  # fmt: skip
    services.store.write([moved])
    shown = {i["id"]: i for i in client.get("/v1/map?kind=person").json()["items"]}
    assert (shown["person:newcomer"]["lat"], shown["person:newcomer"]["lon"]) == (-0.5, 34.5)
    services.store.write([moved.model_copy(update={"visibility": Visibility.private})])
    assert "person:newcomer" not in client.get("/v1/map?kind=person").text


def test_each_item_says_in_one_line_what_it_is(client: TestClient, services: Services) -> None:
    long_bio = (
        "Runs a repair café on Saturdays where neighbours fix bikes, lamps and toasters "
        "together and learn from each other. Write to me at fixer@example.org."
    )
    services.store.write(
        [
            Person(id="person:fixer", name="Fay Fixer", place=WELL, bio=long_bio),
            Initiative(
                id="initiative:wells",
                name="Village Wells",
                place=WELL,
                description="Wells for three villages. Started in 2019.",
            ),
            Initiative(id="initiative:quiet", name="Quiet One", place=WELL),
        ]
    )
    shown = {i["id"]: i for i in client.get("/v1/map").json()["items"]}
    # The first sentence only, cut at a word to fit a line.
    assert shown["initiative:wells"]["about"] == "Wells for three villages."
    fixer = shown["person:fixer"]["about"]
    assert len(fixer) <= ABOUT_CHARS and fixer.endswith("…")
    assert long_bio.startswith(fixer[:-1]) and "fixer@example.org" not in fixer
    assert shown["initiative:quiet"]["about"] == ""
    assert about({"description": "  Two\n lines  "}) == "Two lines"
