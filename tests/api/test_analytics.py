"""The councils' endpoints on the demo network (400 people), with the real model and store."""

from __future__ import annotations

import random
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.analytics import analytics
from api.app import create_app
from api.auth import KeyRing, Role
from api.services import Services
from graph.analytics import SectorAnalytics, load_regions
from graph.analytics.phrases import INNER_WORDS, STOP_WORDS, node_texts
from graph.demo import demo_records
from graph.model import Person, Visibility
from tests.api.conftest import _settings
from tests.conftest import DATA

Headers = dict[str, str]
REGIONS = load_regions(DATA)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, reference_index: Path) -> Iterator[Services]:
    data_dir = tmp_path_factory.mktemp("analytics") / "var"
    shutil.copytree(reference_index, data_dir / "index")
    services = Services.start(_settings(data_dir))
    services.store.write(demo_records(DATA, seed=7, people=400))
    services.catch_up()
    yield services
    services.close()


@pytest.fixture(scope="module")
def http(demo: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=demo)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def member(demo: Services) -> Headers:
    _, secret = KeyRing(demo.store.engine).create(Role.member)
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture(scope="module")
def admin(demo: Services) -> Headers:
    _, secret = KeyRing(demo.store.engine).create(Role.admin)
    return {"Authorization": f"Bearer {secret}"}


def get(http: TestClient, url: str, headers: Headers | None = None) -> dict[str, Any]:
    response = http.get(url, headers=headers or {})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def sectors_of(demo: Services, node: str) -> set[str]:
    graph = demo.view.graph
    return {t for t in graph.successors(node) if graph.nodes[t]["kind"] == "sector"}


def assert_listable(demo: Services, node: dict[str, Any], audience: set[str]) -> None:
    """A node in a payload: someone the audience may list, shown without private fields."""
    assert "contact" not in node
    record = demo.store.get_node(node["id"])
    if isinstance(record, Person):
        assert record.discoverable and str(record.visibility) in audience, node["id"]
        place = node.get("place", {})
        if str(record.location_precision) in ("region", "country"):
            assert "name" not in place, node["id"]
        if str(record.location_precision) == "country":
            assert "lat" not in place and "lon" not in place, node["id"]


def sentence(text: str) -> None:
    assert re.fullmatch(r"[A-Z0-9].{20,}[.]", text, flags=re.S), text
    assert "None" not in text and "sdg:" not in text and "sector:" not in text, text


# -- overlap ----------------------------------------------------------------------------


def test_the_overlap_is_a_12_by_12_matrix_with_its_components(http: TestClient) -> None:
    body = get(http, "/v1/sectors/overlap")
    ids = [s["id"] for s in body["sectors"]]
    assert len(ids) == 12 and ids == sorted(ids) and body["sectors"][2]["name"] == "Education"
    matrix = body["matrix"]
    for i in range(12):
        assert matrix[i][i] == 1.0
        for j in range(12):
            assert matrix[i][j] == matrix[j][i] and 0.0 <= matrix[i][j] <= 1.0
    assert set(body["components"]) == {"sdgs", "people", "content"}
    assert all(len(m) == 12 and all(len(r) == 12 for r in m) for m in body["components"].values())
    assert sum(body["weights"].values()) == pytest.approx(1.0, abs=1e-3)
    assert body["audience"] == "public"
    sentence(body["explanation"]["summary"])


def test_sectors_a_person_would_call_close_overlap_more(http: TestClient) -> None:
    body = get(http, "/v1/sectors/overlap")
    at = [s["id"] for s in body["sectors"]].index
    m = body["matrix"]
    edu, rj, peace = at("sector:education"), at("sector:restorative-justice"), at("sector:peace")
    business, health, services = (
        at("sector:business"),
        at("sector:health"),
        at("sector:social-services"),
    )
    assert m[edu][rj] > m[edu][business]
    assert m[peace][rj] > m[peace][business]
    assert m[health][services] > m[health][at("sector:arts")]
    # Peace and Restorative Justice share all three of their goals.
    assert set(body["shared_sdgs"][peace][rj]) == {4, 10, 16}


def test_a_cell_of_the_overlap_is_explained(http: TestClient) -> None:
    cell = get(http, "/v1/sectors/overlap?detail=sector:peace,sector:restorative-justice")["detail"]
    assert cell["a"] == {"id": "sector:peace", "name": "Peace"}
    why = cell["explanation"]
    assert 16 in [s["number"] for s in why["shared_sdgs"]]
    assert set(why["components"]) == {"sdgs", "people", "content"}
    assert why["summary"].startswith("Peace and Restorative Justice overlap ")
    assert "SDG 16 Peace, justice and strong institutions" in why["summary"]
    sentence(why["summary"])


def test_the_same_network_gives_the_same_figures(demo: Services, http: TestClient) -> None:
    def fresh() -> SectorAnalytics:
        return SectorAnalytics(demo.store, demo.view, REGIONS)

    one, two = fresh(), fresh()
    assert (one.overlap("public", demo.similarity).value.matrix
            == two.overlap("public", demo.similarity).value.matrix).all()  # fmt: skip
    for sector in ("sector:education", "sector:health"):
        assert (
            one.groups("members", demo.similarity, sector).value
            == two.groups("members", demo.similarity, sector).value
        )
        assert one.bridges("public", sector).value == two.bridges("public", sector).value
    assert get(http, "/v1/sectors/overlap") == get(http, "/v1/sectors/overlap")


# -- synergies ----------------------------------------------------------------------------


def test_synergies_pair_two_sectors_with_reasons(demo: Services, http: TestClient) -> None:
    url = "/v1/sectors/sector:education/synergies?with=sector:health&kind=initiative&limit=8"
    body = get(http, url)
    assert body["with"] == {"id": "sector:health", "name": "Health"} and body["total"] >= 8
    scores = [item["score"] for item in body["items"]]
    assert len(scores) == 8 and scores == sorted(scores, reverse=True)
    for item in body["items"]:
        a, b, why = item["a"], item["b"], item["explanation"]
        assert "sector:education" in sectors_of(demo, a["id"]) - sectors_of(demo, b["id"])
        assert "sector:health" in sectors_of(demo, b["id"]) - sectors_of(demo, a["id"])
        assert why["shared_sdgs"] or why["shared_communities"]
        assert set(why["components"]) == {"content", "sdgs", "communities"}
        assert why["summary"].startswith(f"{a['name']} (Education) and {b['name']} (Health) ")
        sentence(why["summary"])
    second = get(http, url.replace("limit=8", "limit=4&offset=4"))
    assert second["items"] == body["items"][4:]


def test_people_in_synergies_are_only_those_the_caller_may_list(
    demo: Services, http: TestClient, member: Headers
) -> None:
    for headers, audience in (({}, {"public"}), (member, {"public", "members"})):
        body = get(http, "/v1/sectors/sector:peace/synergies?kind=person&limit=50", headers)
        assert body["items"]
        for item in body["items"]:
            assert_listable(demo, item["a"], audience)
            assert_listable(demo, item["b"], audience)
            assert item["explanation"]["summary"].startswith(f"{item['a']['name']} (Peace) and")


# -- bridges ----------------------------------------------------------------------------------


def test_bridges_are_people_of_the_sector_with_a_reason(demo: Services, http: TestClient) -> None:
    body = get(http, "/v1/sectors/sector:education/bridges?limit=5")
    assert len(body["items"]) == 5 and body["network_size"] > 50
    scores = [item["score"] for item in body["items"]]
    assert scores[0] == 1.0 and scores == sorted(scores, reverse=True)
    for item in body["items"]:
        node = item["node"]
        assert node["kind"] == "person" and "sector:education" in sectors_of(demo, node["id"])
        assert_listable(demo, node, {"public"})
        assert item["explanation"]["summary"].startswith(f"{node['name']} links Education with ")
        assert item["explanation"]["sectors"]
    sentence(body["explanation"]["summary"])
    initiatives = get(http, "/v1/sectors/sector:education/bridges?kind=initiative&limit=3")
    assert {item["node"]["kind"] for item in initiatives["items"]} == {"initiative"}


# -- groups and gaps --------------------------------------------------------------------------


def test_groups_inside_a_sector_are_labelled(demo: Services, http: TestClient) -> None:
    body = get(http, "/v1/sectors/sector:health/groups?members=5")
    assert len(body["items"]) >= 3 and body["analysed"] == body["total"]
    sizes = [g["size"] for g in body["items"]]
    assert sizes == sorted(sizes, reverse=True) and min(sizes) >= 3
    for group in body["items"]:
        assert group["label"] and group["explanation"]["terms"]
        assert len(group["members"]) <= 5
        for node in group["members"]:
            assert_listable(demo, node, {"public"})
        sentence(group["explanation"]["summary"])
    labels = " ".join(g["label"] for g in body["items"])
    assert re.search(r"addiction|recovery|nutrition|palliative|health|care", labels)
    two = get(http, "/v1/sectors/sector:health/groups?members=5&limit=2")
    assert two["items"] == body["items"][:2] and two["groups"] == body["groups"]
    assert len(body["items"]) == min(20, body["groups"])


SECTORS = ["arts", "business", "education", "environment", "gender-partnerships", "health",
           "peace", "restorative-justice", "science-research", "social-justice",
           "social-services", "spirituality"]  # fmt: skip


@pytest.mark.parametrize("sector", SECTORS)
def test_group_labels_are_key_phrases_as_written_and_tell_groups_apart(
    demo: Services, http: TestClient, sector: str
) -> None:
    found = (
        SectorAnalytics(demo.store, demo.view, REGIONS)
        .groups("public", demo.similarity, f"sector:{sector}")
        .value
    )
    body = get(http, f"/v1/sectors/sector:{sector}/groups?members=0&limit=20")
    assert [g["label"] for g in body["items"]] == [g.label for g in found.groups[:20]]
    labels = [g.label for g in found.groups]
    assert len(set(labels)) == len(labels), labels
    for group in found.groups:
        records = demo.store.get_nodes(group.members)
        texts = [" ".join(t.split()) for n in records.values() for t in node_texts(n)]
        stems: list[str] = []
        for phrase, _ in group.terms:
            words = phrase.split()
            assert words[0].casefold() not in STOP_WORDS, (phrase, labels)
            assert words[-1].casefold() not in STOP_WORDS, (phrase, labels)
            inner = [w for w in words[1:-1] if w.casefold() in STOP_WORDS]
            assert len(inner) <= 1 and set(inner) <= INNER_WORDS, phrase
            # As written: not inside a longer word ("workers" in "workers' rights" is).
            written = re.compile(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])")
            assert sum(1 for t in texts if written.search(t)) >= 1, (phrase, group.id)
            stems += [w.casefold().removesuffix("s") for w in re.split(r"[\s-]+", phrase)
                      if w.casefold() not in STOP_WORDS]  # fmt: skip
        assert len(stems) == len(set(stems)), group.terms


def test_gaps_are_goal_by_region_cells_and_each_is_explained(http: TestClient) -> None:
    body = get(http, "/v1/sectors/sector:education/gaps")
    assert len(body["sdgs"]) == 17 and len(body["regions"]) == 6
    assert len(body["cells"]) == 17 and all(len(row) == 6 for row in body["cells"])
    assert {4, 5} <= {s["number"] for s in body["key_sdgs"]}
    flagged = {(g, r) for g, row in enumerate(body["cells"]) for r, c in enumerate(row) if c["gap"]}
    listed = {
        (gap["sdg"]["number"] - 1, body["regions"].index(gap["region"])) for gap in body["gaps"]
    }
    assert flagged == listed and flagged
    for gap in body["gaps"]:
        cell = body["cells"][gap["sdg"]["number"] - 1][body["regions"].index(gap["region"])]
        assert cell["count"] < 0.5 * cell["expected"]
        sentence(gap["explanation"]["summary"])
    sentence(body["explanation"]["summary"])


# -- the council assistant -----------------------------------------------------------------------


def region_of(person: object) -> str:
    """The region of a person's country ("" when unknown)."""
    assert isinstance(person, Person)
    index = REGIONS.index(person.place.country if person.place else None)
    return REGIONS.names[index] if index >= 0 else ""


def test_a_proposed_council_has_a_board_member_and_beats_a_random_pick(
    demo: Services, http: TestClient, member: Headers
) -> None:
    response = http.post("/v1/councils/propose", json={"sector": "sector:education"},
                         headers=member)  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    members = body["members"]
    assert len(members) == 7 and body["coverage"]["board_member"]
    assert sum(m["explanation"]["board_member"] for m in members) >= 1
    people = [demo.store.get_node(m["node"]["id"]) for m in members]
    for person in people:
        assert isinstance(person, Person)
        assert person.discoverable and person.open_to_collaborate and person.visibility != "private"
    regions = {region_of(p) for p in people} - {""}
    assert sorted(regions) == sorted(body["coverage"]["regions"])
    # A random pick of seven from the same people covers fewer regions.
    pool = [
        p for p in demo.store.get_nodes(
            n for n in demo.view.graph.predecessors("sector:education")
            if n.startswith("person:")
        ).values()
        if isinstance(p, Person) and p.discoverable and p.visibility != "private"
        and p.open_to_collaborate
    ]  # fmt: skip
    picks = [len({region_of(p) for p in random.Random(s).sample(pool, 7)} - {""})
             for s in range(20)]  # fmt: skip
    assert len(regions) >= max(picks) and len(regions) > sum(picks) / len(picks)
    first = members[0]["explanation"]
    assert first["board_member"] and first["summary"].startswith(
        f"{members[0]['node']['name']} (board member) brings "
    )
    sentence(first["summary"])
    sentence(body["explanation"]["summary"])
    assert body["explanation"]["summary"].startswith(
        "7 people for the Education council with a board member"
    )


def test_a_council_leaves_out_whom_it_is_told_to(http: TestClient, member: Headers) -> None:
    first = http.post("/v1/councils/propose", json={"sector": "sector:health", "size": 5},
                      headers=member).json()  # fmt: skip
    left_out = [m["node"]["id"] for m in first["members"][:2]]
    again = http.post("/v1/councils/propose",
                      json={"sector": "sector:health", "size": 5, "exclude": left_out},
                      headers=member).json()  # fmt: skip
    assert len(again["members"]) == 5
    assert not {m["node"]["id"] for m in again["members"]} & set(left_out)


def test_the_council_assistant_needs_a_key(http: TestClient) -> None:
    response = http.post("/v1/councils/propose", json={"sector": "sector:health"})
    assert response.status_code == 401


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "field"),
    [
        ("POST", "/v1/councils/propose", {"sector": "sector:health", "size": 9}, 422, "body.size"),
        ("POST", "/v1/councils/propose", {"sector": "sector:health", "size": 4}, 422, "body.size"),
        ("POST", "/v1/councils/propose", {"sector": "sector:nowhere"}, 422, "body.sector"),
        ("POST", "/v1/councils/propose", {"sector": "sdg:4"}, 422, "body.sector"),
        ("POST", "/v1/councils/propose", {"sector": "sector:health", "extra": 1}, 422,
         "body.extra"),
        ("POST", "/v1/councils/propose", {"sector": "sector:health", "exclude": ["Bob"]}, 422,
         "body.exclude.0"),
        ("GET", "/v1/sectors/sector:health/synergies?with=sector:nowhere", None, 422,
         "query.with"),
        ("GET", "/v1/sectors/sector:health/synergies?with=sector:health", None, 422,
         "query.with"),
        ("GET", "/v1/sectors/sector:health/synergies?kind=event", None, 422, "query.kind"),
        ("GET", "/v1/sectors/overlap?detail=sector:health", None, 422, "query.detail"),
        ("GET", "/v1/sectors/overlap?detail=sector:health,sector:nowhere", None, 422,
         "query.detail"),
        ("GET", "/v1/sectors/sector:nowhere/gaps", None, 404, None),
        ("GET", "/v1/sectors/sdg:4/bridges", None, 422, "path.sector_id"),
    ],
)  # fmt: skip
def test_bad_input_is_named(
    http: TestClient, member: Headers, method: str, url: str, body: Any, status: int,
    field: str | None,
) -> None:  # fmt: skip
    response = http.request(method, url, json=body, headers=member)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if field is not None:
        assert field in [e["field"] for e in response.json()["errors"]], response.text


# -- versions: these change the network ---------------------------------------------------


def test_after_a_write_a_figure_says_it_is_from_the_version_before(
    demo: Services, http: TestClient
) -> None:
    url = "/v1/sectors/sector:education/gaps"
    first = http.get(url)
    assert first.json()["as_of"] == {"seq": demo.view.seq, "current": True}
    assert first.headers["X-Cocreate-As-Of"] == str(demo.view.seq)
    demo.store.write([Person(id="person:newcomer", name="New Comer")])
    stale = http.get(url)
    assert stale.json()["as_of"] == {"seq": first.json()["as_of"]["seq"], "current": False}
    assert stale.headers["X-Cocreate-As-Of"].endswith("; stale")
    assert int(stale.headers["X-Cocreate-Seq"]) > stale.json()["as_of"]["seq"]
    assert stale.json()["cells"] == first.json()["cells"]
    assert analytics(demo).settle()
    fresh = http.get(url)
    assert fresh.json()["as_of"] == {"seq": int(fresh.headers["X-Cocreate-Seq"]), "current": True}


# -- privacy, last: it changes the network -----------------------------------------------


def test_someone_who_turns_private_disappears_from_every_figure(
    demo: Services, http: TestClient, member: Headers, admin: Headers
) -> None:
    bridges = get(http, "/v1/sectors/sector:education/bridges?limit=3")
    council = http.post("/v1/councils/propose", json={"sector": "sector:education"},
                        headers=member).json()  # fmt: skip
    chosen = {bridges["items"][0]["node"]["id"], council["members"][1]["node"]["id"]}
    for node_id in chosen:
        person = demo.store.get_node(node_id)
        demo.store.write([person.model_copy(update={"visibility": Visibility.private})])
    urls = [
        "/v1/sectors/sector:education/bridges?limit=100",
        "/v1/sectors/sector:education/synergies?kind=person&limit=100",
        "/v1/sectors/sector:education/groups?members=50",
    ]
    for headers in ({}, member, admin):
        for url in urls:
            assert not chosen & set(re.findall(r"person:[a-z0-9-]+", str(get(http, url, headers))))
        again = http.post("/v1/councils/propose", json={"sector": "sector:education"},
                          headers=headers or member).json()  # fmt: skip
        assert not chosen & {m["node"]["id"] for m in again["members"]}
