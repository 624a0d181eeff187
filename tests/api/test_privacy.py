"""Privacy, per leak path and per role: listings, reads, neighbourhoods, edges, paths."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.auth import KeyRing, Role
from api.services import Services
from graph.edges import Edge
from graph.geo import public_place
from graph.model import Contact, Initiative, LocationPrecision, Person
from graph.visibility import Viewer, may_see, present, present_recommended
from tests.api.conftest import EXACT, HIDDEN_FROM_ANONYMOUS, SECRET_EMAIL

ROLES = ["anonymous", "member", "editor", "admin"]
# Who each role sees of the privacy people (direct reads).
READABLE = {
    "anonymous": {"person:pub", "person:city", "person:region", "person:country", "person:shy"},
    "member": {"person:pub", "person:city", "person:region", "person:country", "person:shy",
               "person:mem"},
    "editor": {"person:pub", "person:city", "person:region", "person:country", "person:shy",
               "person:mem"},
    "admin": {"person:pub", "person:city", "person:region", "person:country", "person:shy",
              "person:mem", "person:priv"},
}  # fmt: skip
PRIVACY_PEOPLE = READABLE["admin"]


def listed(client: TestClient, headers: dict[str, str], url: str) -> set[str]:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    items = body["items"]
    return {item["node"]["id"] if "node" in item else item["id"] for item in items}


@pytest.mark.parametrize("role", ROLES)
def test_direct_reads_follow_visibility(
    client: TestClient, keys: dict[str, dict[str, str]], role: str
) -> None:
    for person in PRIVACY_PEOPLE:
        response = client.get(f"/v1/nodes/{person}", headers=keys[role])
        expected = 200 if person in READABLE[role] else 404
        assert response.status_code == expected, (role, person)


@pytest.mark.parametrize("role", ROLES)
def test_listings_hide_private_members_only_and_undiscoverable(
    client: TestClient, keys: dict[str, dict[str, str]], role: str
) -> None:
    seen = listed(client, keys[role], "/v1/nodes?kind=person&limit=200")
    expected = READABLE[role] - ({"person:shy"} if role != "admin" else set())
    if role == "member":
        expected = expected | {"person:mem"}  # the member key's own profile
    assert seen & PRIVACY_PEOPLE == expected
    total = client.get("/v1/nodes?kind=person&limit=1", headers=keys[role]).json()["total"]
    assert total == len(seen)  # the count reveals no hidden profile either


@pytest.mark.parametrize("role", ROLES)
def test_neighbourhoods_and_edges_hide_what_listings_hide(
    client: TestClient, keys: dict[str, dict[str, str]], role: str
) -> None:
    hidden = PRIVACY_PEOPLE - READABLE[role] | ({"person:shy"} if role != "admin" else set())
    around = listed(client, keys[role], "/v1/nodes/initiative:hub/neighbors?depth=2&limit=200")
    assert not around & hidden
    edges = client.get("/v1/edges?node=initiative:hub&limit=200", headers=keys[role]).json()
    assert not {e["source"] for e in edges["items"]} & hidden
    assert edges["total"] == len(edges["items"])


@pytest.mark.parametrize("role", ["anonymous", "member", "editor"])
def test_paths_do_not_pass_through_hidden_people(
    client: TestClient, keys: dict[str, dict[str, str]], role: str
) -> None:
    # person:pub knows person:priv who knows person:lena; the only other way is longer.
    response = client.get("/v1/paths?source=person:pub&target=person:lena", headers=keys[role])
    if response.status_code == 200:
        assert "person:priv" not in {node["id"] for node in response.json()["nodes"]}
    else:
        assert response.status_code == 404
    admin = client.get("/v1/paths?source=person:pub&target=person:lena", headers=keys["admin"])
    assert "person:priv" in {node["id"] for node in admin.json()["nodes"]}


def people_in(value: Any) -> list[dict[str, Any]]:
    """Every person record anywhere inside a JSON response."""
    if isinstance(value, list):
        return [p for item in value for p in people_in(item)]
    if not isinstance(value, dict):
        return []
    found = [value] if value.get("kind") == "person" else []
    return found + [p for item in value.values() for p in people_in(item)]


@pytest.mark.parametrize("role", ["anonymous", "member", "editor"])
def test_contact_details_and_exact_places_never_reach_others(
    client: TestClient, keys: dict[str, dict[str, str]], role: str
) -> None:
    urls = [
        "/v1/nodes?kind=person&limit=200",
        "/v1/nodes/initiative:hub/neighbors?limit=200",
        "/v1/paths?source=person:city&target=person:region",
        *[f"/v1/nodes/{p}" for p in READABLE[role]],
    ]
    checked = 0
    for url in urls:
        response = client.get(url, headers=keys[role])
        if role != "member":  # the member's own record rightly carries their contact
            assert SECRET_EMAIL not in response.text, url
        for person in people_in(response.json()):
            if person["id"] == "person:mem" and role == "member":
                continue  # the key's owner
            assert "contact" not in person
            if "place" in person and person["id"] in PRIVACY_PEOPLE:
                precision = LocationPrecision(person.get("location_precision", "city"))
                expected = public_place(EXACT, precision).model_dump(mode="json", exclude_none=True)
                assert person["place"] == expected, (url, person["id"])
                checked += 1
    assert checked >= 10


def test_places_are_coarsened_to_the_chosen_precision(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    def place(person: str, role: str = "anonymous") -> dict[str, object]:
        return dict(client.get(f"/v1/nodes/{person}", headers=keys[role]).json()["place"])

    assert place("person:pub") == json.loads(EXACT.model_dump_json(exclude_none=True))
    city = place("person:city")
    assert city["name"] == EXACT.name
    assert (city["lat"], city["lon"]) == (38.55, -121.45)  # the centre of its 0.1° cell
    region = place("person:region")
    assert "name" not in region
    assert (region["lat"], region["lon"]) == (38.5, -121.5)
    assert place("person:country") == {"country": "US", "region": "Northern America"}
    assert place("person:country", "admin")["lat"] == EXACT.lat  # admins see it all
    assert client.get("/v1/nodes/person:mem", headers=keys["member"]).json()["contact"] == {
        "email": SECRET_EMAIL  # the owner sees their own contact details
    }


def test_anonymous_sees_no_hidden_profile_anywhere(client: TestClient) -> None:
    pages = [
        "/v1/nodes?limit=200",
        "/v1/nodes?kind=person&q=pri",
        "/v1/nodes/initiative:hub/neighbors?depth=3&limit=200",
        "/v1/edges?node=initiative:hub&limit=200",
        "/v1/edges?node=person:pub",
    ]
    for url in pages:
        text = client.get(url).text
        for hidden in HIDDEN_FROM_ANONYMOUS:
            assert hidden not in text, (url, hidden)


@pytest.mark.parametrize("role", ["anonymous", "member", "editor"])
def test_community_links_never_place_people_more_precisely_than_they_chose(
    client: TestClient, keys: dict[str, dict[str, str]], services: Services, role: str
) -> None:
    # Everyone of the privacy people lives in the Sacramento community (a city) which is
    # part of the region; a region or country precision must not be revealed by the link.
    services.store.write([
        Edge(kind="located_in", source=p, target="community:sacramento")
        for p in ("person:pub", "person:city", "person:region", "person:country")
    ])  # fmt: skip
    headers = keys[role]
    city_only = {"person:pub", "person:city"}
    too_precise = {"person:region", "person:country"}
    for url in [
        "/v1/nodes?kind=person&community=community:sacramento&limit=200",
        "/v1/nodes?kind=person&community=community:capital-region&limit=200",
        "/v1/nodes/community:sacramento/neighbors?limit=200",
    ]:
        seen = listed(client, headers, url)
        assert city_only <= seen, url
        assert not seen & too_precise, url
    edges = client.get("/v1/edges?node=community:sacramento&limit=200", headers=headers).json()
    assert not {e["source"] for e in edges["items"]} & too_precise
    path = client.get("/v1/paths?source=person:country&target=community:sacramento",
                      headers=headers)  # fmt: skip
    if path.status_code == 200:
        assert path.json()["length"] > 1  # not the direct link
    admin = listed(client, keys["admin"], "/v1/nodes/community:sacramento/neighbors?limit=200")
    assert too_precise <= admin


def test_word_statistics_reveal_no_hidden_profile(
    client: TestClient, services: Services, keys: dict[str, dict[str, str]]
) -> None:
    """A member compares the score of a visible match before and after hidden profiles
    that hold the word are added: the score must not move."""

    def score() -> float:
        found = client.get(
            "/v1/search", params={"q": "beekeeping", "mode": "lexical"}, headers=keys["member"]
        )
        assert found.status_code == 200, found.text
        items = {hit["node"]["id"]: hit["score"] for hit in found.json()["items"]}
        assert set(items) == {"initiative:hives"}
        return float(items["initiative:hives"])

    services.store.write([Initiative(id="initiative:hives", name="Hives",
                                     description="Beekeeping on school roofs.")])  # fmt: skip
    before = score()
    services.store.write([
        Person(id=f"person:keeper-{n}", name=f"Keeper {n}", bio="Beekeeping, beekeeping.",
               visibility=visibility, discoverable=visibility != "public")
        for n, visibility in enumerate(["private", "public", "private"])
    ])  # fmt: skip
    assert score() == pytest.approx(before)


# -- naming an undiscoverable person ---------------------------------------------------

# What surrounds a person: shown only for people the caller may find in listings.
SURROUNDINGS = (
    "/v1/nodes/{id}/neighbors",
    "/v1/edges?node={id}",
    "/v1/paths?source={id}&target=initiative:hub",
    "/v1/paths?source=initiative:hub&target={id}",
    "/v1/nodes/{id}/similar",
    "/v1/nodes/initiative:hub/similar?like={id}",
    "/v1/nodes/initiative:hub/similar?unlike={id}",
    "/v1/people/{id}/collaborators",
    "/v1/people/{id}/collaborators?mode=bridging",
    "/v1/people/{id}/initiatives",
)


def shy_owner(services: Services) -> dict[str, str]:
    """A member key that belongs to person:shy, who is not discoverable."""
    _, secret = KeyRing(services.store.engine).create(Role.member, person_id="person:shy")
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize("role", [*ROLES, "owner"])
def test_naming_an_undiscoverable_person_shows_their_record_and_nothing_around_it(
    client: TestClient, keys: dict[str, dict[str, str]], services: Services, role: str
) -> None:
    """person:shy (public, not discoverable) knows person:pub and works on initiative:hub.

    A direct link shows the record as its visibility allows; their edges, neighbourhood,
    paths, recommendations from them and what is like them are missing (404, as for an
    id that does not exist) to everyone but themselves and admins."""
    services.store.write([Edge(kind="knows", source="person:shy", target="person:pub")])
    headers = shy_owner(services) if role == "owner" else keys[role]
    record = client.get("/v1/nodes/person:shy", headers=headers)
    assert record.status_code == 200
    assert ("contact" in record.json()) is (role in ("owner", "admin"))
    for url in SURROUNDINGS:
        response = client.get(url.format(id="person:shy"), headers=headers)
        if role in ("owner", "admin"):
            assert response.status_code == 200, (url, response.text)
            continue
        assert response.status_code == 404, (url, response.text)
        problem = response.json()
        assert problem["detail"] == "no node with id 'person:shy'"
        assert problem["errors"][0]["field"] in ("path.node_id", "path.person_id", "query.node",
                                                 "query.source", "query.target", "query.like.0",
                                                 "query.unlike.0")  # fmt: skip


@pytest.mark.parametrize("role", [*ROLES, "owner"])
def test_an_undiscoverable_person_is_in_no_listing_but_their_own_and_the_admins(
    client: TestClient, keys: dict[str, dict[str, str]], services: Services, role: str
) -> None:
    services.store.write([Edge(kind="knows", source="person:shy", target="person:pub")])
    headers = shy_owner(services) if role == "owner" else keys[role]
    urls = [
        "/v1/nodes?kind=person&limit=200",
        "/v1/nodes?kind=person&q=shy",
        "/v1/nodes/initiative:hub/neighbors?limit=200",
        "/v1/nodes/person:pub/neighbors?limit=200",
        "/v1/edges?node=initiative:hub&limit=200",
        "/v1/edges?node=person:pub&limit=200",
        "/v1/paths?source=person:pub&target=initiative:hub",
        "/v1/search?q=Shy+Undiscoverable&limit=100",
        "/v1/map?kind=person",
    ]
    for url in urls:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.text)
        if role not in ("owner", "admin"):
            assert "person:shy" not in response.text, url
    around = client.get("/v1/nodes/person:pub/neighbors?limit=200", headers=headers).text
    assert ("person:shy" in around) is (role in ("owner", "admin"))


# -- counts ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_counts_tell_nothing_of_hidden_people(
    client: TestClient, keys: dict[str, dict[str, str]], services: Services, role: str
) -> None:
    """/v1/stats counts people as the caller may list them, and only the links between
    what they may list; /ready, a probe that asks nobody who calls, tells no counts."""
    headers = keys[role]
    before = client.get("/v1/stats", headers=headers).json()
    listed = client.get("/v1/nodes?kind=person&limit=1", headers=headers).json()["total"]
    assert before["nodes"]["person"] == listed
    work = sum(
        client.get(f"/v1/edges?node={i}&kind=works_on&limit=200", headers=headers).json()["total"]
        for i in ("initiative:hub", "initiative:safe-streets", "initiative:green-lots")
    )
    assert before["edges"]["works_on"] == work  # as the edge lists show them
    assert set(client.get("/ready", headers=headers).json()) == {"status", "seq"}
    services.store.write([
        Person(id="person:hidden", name="Hidden", visibility="private"),
        Person(id="person:unlisted", name="Unlisted", discoverable=False),
        Edge(kind="knows", source="person:pub", target="person:hidden"),
        Edge(kind="works_on", source="person:hidden", target="initiative:hub"),
        Edge(kind="works_on", source="person:unlisted", target="initiative:hub"),
        Edge(kind="knows", source="person:unlisted", target="person:pub"),
    ])  # fmt: skip
    after = client.get("/v1/stats", headers=headers).json()
    if role != "admin":
        assert after == before
        return
    assert after["nodes"]["person"] == before["nodes"]["person"] + 2
    assert after["edges"]["knows"] == before["edges"]["knows"] + 2
    assert after["edges"]["works_on"] == before["edges"]["works_on"] + 2


SHARING_VIEWERS = {
    "anonymous": Viewer(),
    "member": Viewer(role=Role.member, person_id="person:other"),
    "introduced": Viewer(
        role=Role.member, person_id="person:met", introduced=frozenset({"person:s"})
    ),
    "owner": Viewer(role=Role.member, person_id="person:s"),
    "admin": Viewer(role=Role.admin),
}
SHOWN_TO = {
    "nobody": {"owner", "admin"},
    "introduced": {"owner", "admin", "introduced"},
    "members": {"owner", "admin", "introduced", "member"},
}


@pytest.mark.parametrize("share", sorted(SHOWN_TO))
@pytest.mark.parametrize("viewer", sorted(SHARING_VIEWERS))
def test_contact_is_shared_as_the_person_chose(share: str, viewer: str) -> None:
    """Contact details: the owner and admins always; others as ``share_contact`` says; and
    never in a recommendation, whoever asks."""
    person = Person(id="person:s", name="S", share_contact=share,  # type: ignore[arg-type]
                    contact=Contact(email=SECRET_EMAIL))  # fmt: skip
    who = SHARING_VIEWERS[viewer]
    assert ("contact" in present(person, who)) is (viewer in SHOWN_TO[share])
    assert "contact" not in present_recommended(person, who)


def test_an_introduction_opens_a_private_record_by_its_link_only() -> None:
    met = Viewer(role=Role.member, person_id="person:met", introduced=frozenset({"person:s"}))
    assert may_see(met, "person:s", "private", True, listing=False)
    assert not may_see(met, "person:s", "private", True, listing=True)
    assert not may_see(Viewer(role=Role.member), "person:s", "private", True, listing=False)
