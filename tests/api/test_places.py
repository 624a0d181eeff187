"""Places by name: the gazetteer, near= and "near <place>" in search and recommendations,
country names wherever a country is accepted, and distances in words that tell no more
than each person's chosen precision."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.services import Services
from graph.edges import Edge
from graph.geo import public_place
from graph.model import Initiative, LocationPrecision, Place
from graph.places import distance_phrase, fold, gazetteer

SACRAMENTO = gazetteer().find("Sacramento")


def test_names_are_found_biggest_first_and_by_region_or_country() -> None:
    g = gazetteer()
    assert SACRAMENTO is not None and (SACRAMENTO.country, SACRAMENTO.admin) == ("US", "California")
    brazil = g.find("sacramento, BR")
    assert brazil is not None and brazil.country == "BR"
    assert g.find("Sacramento, Peru") is None
    assert g.find("Sacramento, California, United States") == SACRAMENTO
    assert g.find("Sacramento, Texas, United States") is None
    for suggested in g.suggest("Dav"):  # every label suggested finds its place again
        assert g.find(suggested.label) == suggested
    davis = g.find("Davis, CA")
    assert davis is not None and davis.admin == "California"
    assert g.find("São Paulo") == g.find("sao paulo")
    mexico = g.find("Mexico")
    assert mexico is not None and (mexico.kind, mexico.country) == ("country", "MX")
    assert g.find("Atlantis, US") is None
    assert fold("  Zürich-Stadt ") == "zurich stadt"


def test_country_names_and_codes() -> None:
    g = gazetteer()
    for text, code in [("US", "US"), ("usa", "US"), ("United States", "US"), ("México", "MX"),
                       ("united kingdom", "GB"), ("Germany", "DE"), ("kenya", "KE")]:  # fmt: skip
        assert g.country_code(text) == code, text
    assert g.country_code("Atlantis") is None


def test_query_ends_with_a_place() -> None:
    g = gazetteer()
    assert g.split_query("food bank near Sacramento") == ("food bank", SACRAMENTO)
    words, place = g.split_query("youth mentoring in Davis, California")
    assert words == "youth mentoring" and place is not None and place.name == "Davis"
    assert g.split_query("help in schools") == ("help in schools", None)
    assert g.split_query("near Sacramento") == ("", SACRAMENTO)


def test_suggestions_route(client: TestClient) -> None:
    response = client.get("/v1/places?q=Sacra")
    assert response.status_code == 200
    first = response.json()["items"][0]
    assert first["label"] == "Sacramento, California, United States"
    assert (first["country"], first["region"], first["kind"]) == ("US", "California", "town")
    assert abs(first["lat"] - 38.58) < 0.01 and abs(first["lon"] + 121.49) < 0.01
    mex = client.get("/v1/places?q=mexi").json()["items"]
    assert mex[0]["kind"] == "country" and mex[0]["country_name"] == "Mexico"
    assert client.get("/v1/places?q=").status_code == 422


@pytest.mark.parametrize(
    "url",
    ["/v1/nodes?country=Atlantis", "/v1/search?q=honey&country=Atlantis",
     "/v1/map?country=Atlantis", "/v1/nodes/initiative:hub/similar?country=Atlantis"],
)  # fmt: skip
def test_a_country_that_is_not_one_is_told_on_its_field(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {"field": "query.country", "reason": "no country called 'Atlantis'"} in (
        response.json()["errors"]
    )


def test_country_names_filter_like_codes(client: TestClient) -> None:
    by_code = client.get("/v1/nodes?kind=person&country=US&limit=200").json()
    for name in ("USA", "United States", "us"):
        by_name = client.get(f"/v1/nodes?kind=person&country={name}&limit=200").json()
        assert by_name["total"] == by_code["total"] > 0
    assert client.get("/v1/map?country=United+States").status_code == 200
    assert client.get("/v1/nodes?kind=person&country=Kenya").json()["total"] == 0


def test_near_a_place_named_in_search(client: TestClient) -> None:
    body = client.get("/v1/search?q=near+Sacramento&limit=100").json()
    assert body["words"] == ""
    assert body["near"]["label"] == "Sacramento, California, United States"
    assert body["near"]["radius_km"] == 100
    found = {i["node"]["id"]: i["explanation"]["distance"] for i in body["items"]}
    assert found["person:pub"] == "in Sacramento"
    assert found["person:city"] == "less than 10 km away"
    assert found["person:region"] == "in the same region"
    assert "person:country" not in found  # no position: not within any circle
    assert not {"person:mem", "person:priv", "person:shy"} & found.keys()  # anonymous
    # the same with near= and words
    words = client.get("/v1/search?q=Pia+Public&near=Sacramento").json()
    assert words["words"] == "Pia Public" and words["items"][0]["explanation"]["distance"]
    # far away, nothing within 100 km
    assert client.get("/v1/search?q=Pia&near=Nairobi").json()["items"] == []


def test_near_a_country_is_the_country_filter(client: TestClient) -> None:
    body = client.get("/v1/search?q=people+in+the+United+States&limit=100").json()
    assert body["near"]["kind"] == "country" and body["words"] == "people"
    found = {i["node"]["id"]: i["explanation"]["distance"] for i in body["items"]}
    assert found.get("person:country") in (None, "in United States")
    assert all(v == "in United States" for k, v in found.items() if k.startswith("person:"))


@pytest.mark.parametrize(
    ("url", "field"),
    [("/v1/search?q=honey&near=Atlantis+Undersea", "query.near"),
     ("/v1/search?q=honey&near=Sacramento&lat=1&lon=2", "query.near"),
     ("/v1/search?q=honey&near=Mexico&radius_km=20", "query.radius_km"),
     ("/v1/people/person:pub/collaborators?near=Atlantis+Undersea", "query.near")],
)  # fmt: skip
def test_bad_places_are_told_on_their_field(client: TestClient, url: str, field: str) -> None:
    response = client.get(url)
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}


def test_recommendations_near_a_place(client: TestClient) -> None:
    response = client.get("/v1/people/person:pub/collaborators?near=Davis&radius_km=50")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["scope"], body["near"]["name"], body["radius_km"]) == ("local", "Davis", 50)
    for item in body["items"]:
        assert item["explanation"]["distance"]
    far = client.get("/v1/people/person:pub/collaborators?near=Nairobi").json()
    assert far["items"] == []
    local = client.get("/v1/people/person:pub/collaborators?scope=local").json()
    for item in local["items"]:  # measured from the seed's public place
        assert item["explanation"]["distance"]


def _placed_initiatives(services: Services) -> None:
    """Three gardens like Lena's, in Davis, Nairobi and Mexico City."""
    places = {
        "davis": Place(name="Davis", country="US", lat=38.5449, lon=-121.7405),
        "nairobi": Place(name="Nairobi", country="KE", lat=-1.2864, lon=36.8172),
        "mexico": Place(name="Mexico City", country="MX", lat=19.4326, lon=-99.1332),
    }
    services.store.write([
        *(Initiative(id=f"initiative:{key}-gardens", name=f"{place.name} gardens",
                     description="Community gardens on vacant lots.", place=place)
          for key, place in places.items()),
        *(Edge(kind="in_sector", source=f"initiative:{key}-gardens", target="sector:environment")
          for key in places),
    ])  # fmt: skip
    services.catch_up()


def test_initiatives_to_join_near_a_place(client: TestClient, services: Services) -> None:
    _placed_initiatives(services)
    url = "/v1/people/person:lena/initiatives?limit=50"
    anywhere = client.get(url).json()
    assert anywhere["scope"] == "global" and "near" not in anywhere
    ids = {i["node"]["id"] for i in anywhere["items"]}
    assert {"initiative:davis-gardens", "initiative:nairobi-gardens"} <= ids
    assert not any("distance" in i["explanation"] for i in anywhere["items"])

    davis = client.get(f"{url}&near=Davis&radius_km=50").json()
    assert (davis["scope"], davis["near"]["name"], davis["radius_km"]) == ("local", "Davis", 50)
    found = {i["node"]["id"]: i["explanation"]["distance"] for i in davis["items"]}
    assert found == {"initiative:davis-gardens": "in Davis"}

    mexico = client.get(f"{url}&near=Mexico").json()  # a country: what is in it, no radius
    assert mexico["radius_km"] is None and mexico["near"]["kind"] == "country"
    assert [i["node"]["id"] for i in mexico["items"]] == ["initiative:mexico-gardens"]

    # Pia's public place is Sacramento: her local scope reaches Davis, not Nairobi
    local = client.get("/v1/people/person:pub/initiatives?scope=local&limit=50").json()
    near_pia = {i["node"]["id"]: i["explanation"]["distance"] for i in local["items"]}
    assert "initiative:davis-gardens" in near_pia and "initiative:nairobi-gardens" not in near_pia
    assert all(near_pia.values())


@pytest.mark.parametrize(
    ("query", "field"),
    [("near=Atlantis+Undersea", "query.near"), ("near=Mexico&radius_km=20", "query.radius_km"),
     ("radius_km=20", "query.radius_km")],
)  # fmt: skip
def test_initiatives_to_join_bad_places(client: TestClient, query: str, field: str) -> None:
    response = client.get(f"/v1/people/person:pub/initiatives?{query}")
    assert response.status_code == 422, response.text
    assert field in {e["field"] for e in response.json()["errors"]}


def test_initiatives_nearby_need_a_public_place(client: TestClient) -> None:
    response = client.get("/v1/people/person:country/initiatives?scope=local")
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "query.scope"


# -- privacy: the words never say more than the precision --------------------------


def _cell(lat: float, lon: float) -> Place:
    return Place(name="Somewhere", country="US", lat=lat, lon=lon)


@pytest.mark.parametrize("origin", ["Sacramento", "Davis", "Elk Grove", "Reno", "Los Angeles"])
def test_a_region_precision_distance_is_the_same_anywhere_in_its_cell(origin: str) -> None:
    place = gazetteer().find(origin)
    assert place is not None
    region = LocationPrecision.region
    # two people far apart inside one 1° cell: nothing told may tell them apart
    phrases = {
        distance_phrase(public_place(_cell(lat, lon), region), "region", place)
        for lat, lon in [(38.01, -121.99), (38.99, -121.01), (38.5741, -121.4831)]
    }
    assert len(phrases) == 1
    (phrase,) = phrases
    assert phrase is not None
    assert phrase == "in the same region" or phrase.endswith("00 km away")


def test_country_precision_says_only_the_country() -> None:
    assert SACRAMENTO is not None
    shown = public_place(_cell(38.57, -121.48), LocationPrecision.country)
    assert distance_phrase(shown, "country", SACRAMENTO) == "in the same country"
    paris = gazetteer().find("Paris")
    assert paris is not None
    assert distance_phrase(shown, "country", paris) == "in United States"


def test_search_words_distances_from_public_places_only(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    # even the admin, who may read the exact place, gets the coarse distance
    body = client.get("/v1/search?q=near+Davis&limit=100", headers=keys["admin"]).json()
    found = {i["node"]["id"]: i["explanation"]["distance"] for i in body["items"]}
    davis = gazetteer().find("Davis")
    assert davis is not None
    expected = distance_phrase(
        public_place(_cell(38.5741, -121.4831), LocationPrecision.region), "region", davis
    )
    assert found["person:region"] == expected == "in the same region"
    assert found["person:priv"] == found["person:city"]  # city precision, even to the admin
