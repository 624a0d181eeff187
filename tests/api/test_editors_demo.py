"""Related wisdom and community learning on the demo network, with the real model.

Results a person would agree with: a draft about school gardens finds the demo's
garden and food entries; a re-filed entry is flagged as a near-duplicate; an education
draft's practitioners include people working on SDG 4; a community asking about youth
violence gets violence-prevention and youth initiatives. Also: every item is explained
in a sentence, the same request gives the same answer, and people who did not consent
are never recommended, to anyone, however well they match.

The demo network (1,200 people: the smallest with community-garden entries in its
Wisdom Book) is loaded once for the module. Its search index is kept between runs in
``var/test-cache/editors-demo-index``: texts are re-encoded only when they changed
(``SearchService.rebuild`` compares text hashes), so the cache can never go stale.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import KeyRing, Role
from api.services import Services
from api.settings import Settings
from graph.demo import demo_records
from graph.demo.wisdom_text import REWORDINGS
from graph.edges import Edge
from graph.model import Person, Place, WisdomEntry
from tests.api.conftest import SHARED_CACHE
from tests.conftest import DATA

Headers = dict[str, dict[str, str]]
PEOPLE = 1_200
INDEX_CACHE = SHARED_CACHE / "editors-demo-index"
SACRAMENTO = Place(name="Sacramento", country="US", lat=38.58, lon=-121.49)
GARDENER = [
    "school gardens",
    "growing vegetables with children",
    "community garden",
    "youth violence prevention",
    "compassion curriculum for primary classrooms",
]
# Two people who match everything asked below, linked to everything found, but who did
# not consent: one private, one not discoverable.
REFUSED = [
    Person(id="person:private-gardener", name="Priya Private", interests=GARDENER,
           visibility="private", place=SACRAMENTO),
    Person(id="person:shy-gardener", name="Sam Shy", interests=GARDENER, discoverable=False,
           place=SACRAMENTO),
]  # fmt: skip


def refused_links(records: list[Any]) -> list[Edge]:
    """Links of the refusing people to every entry, initiative and community."""
    edges = []
    for person in REFUSED:
        edges += [Edge(kind="interested_in", source=person.id, target=t)
                  for t in ("sdg:2", "sdg:4", "sdg:16", "sector:education")]  # fmt: skip
        for record in records:
            if isinstance(record, WisdomEntry):
                edges.append(Edge(kind="authored", source=person.id, target=record.id))
            elif record.kind == "initiative" and not isinstance(record, Edge):
                edges.append(Edge(kind="works_on", source=person.id, target=record.id))
            elif record.kind == "community" and not isinstance(record, Edge):
                edges.append(Edge(kind="member_of", source=person.id, target=record.id))
    return edges


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, reference_index: Path) -> Iterator[Services]:
    data_dir = tmp_path_factory.mktemp("editors-demo") / "var"
    shutil.copytree(INDEX_CACHE if INDEX_CACHE.is_dir() else reference_index,
                    data_dir / "index")  # fmt: skip
    settings = Settings(data_dir=data_dir, reference_dir=DATA, rate_limit_per_minute=100_000,
                        rate_limit_burst=10_000, cache=SHARED_CACHE)  # fmt: skip
    services = Services.start(settings)
    records = list(demo_records(DATA, seed=7, people=PEOPLE))
    services.store.write([*records, *REFUSED, *refused_links(records)])
    services.reindex()
    services.catch_up()
    services.search.index.save(watermark=services.search.index.watermark)
    _keep(settings.index_dir)
    yield services
    services.close()


def _keep(index_dir: Path) -> None:
    """Replace the cached index with this one (written aside first, then swapped in)."""
    staging = INDEX_CACHE.with_name(INDEX_CACHE.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(index_dir, staging)
    shutil.rmtree(INDEX_CACHE, ignore_errors=True)
    staging.rename(INDEX_CACHE)


@pytest.fixture(scope="module")
def client(demo: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=demo)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def keys(demo: Services) -> Headers:
    ring = KeyRing(demo.store.engine)
    headers: Headers = {"anonymous": {}}
    for role in (Role.member, Role.admin):
        headers[role.name] = {"Authorization": f"Bearer {ring.create(role)[1]}"}
    return headers


def post(client: TestClient, url: str, body: dict[str, Any], headers: Any = None) -> Any:
    response = client.post(url, json=body, headers=headers or {})
    assert response.status_code == 200, response.text
    return response.json()


def node_ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["node"]["id"] for item in items]


def text_of(node: dict[str, Any]) -> str:
    return " ".join(str(node.get(k, "")) for k in ("name", "description", "body")).lower()


GARDEN_DRAFT = {
    "title": "A vegetable garden at our primary school",
    "body": "Parents and teachers turned a corner of the schoolyard into a vegetable garden. "
    "Each class looks after a bed, the children plant, water and harvest, and the school "
    "kitchen cooks what they grow. Lessons in science and nutrition now happen outdoors.",
}
EDUCATION_DRAFT = {
    "title": "Teaching compassion in primary classrooms",
    "body": "Our teachers built a compassion curriculum for primary school pupils: short "
    "daily lessons on kindness, listening and empathy, with stories and role play. Pupils "
    "now resolve more conflicts themselves and teachers report calmer classrooms.",
}
VIOLENCE_OR_YOUTH = ("violen", "youth", "young", "gang", "bully", "crime", "brutality",
                     "incarceration", "prison")  # fmt: skip
YOUTH_VIOLENCE = {"community": "community:sacramento",
                  "issues": "youth violence and gangs; young people drawn into crime"}  # fmt: skip


def test_a_school_garden_draft_finds_garden_and_food_entries(client: TestClient) -> None:
    found = post(client, "/v1/wisdom/related", {**GARDEN_DRAFT, "limit": 5})
    related = found["related"]
    top = [text_of(item["node"]) for item in related[:3]]
    assert all(("garden" in t or "food" in t or "meal" in t) for t in top[:2]), top
    assert any("community garden" in t for t in top), top
    best = related[0]["explanation"]
    assert best["summary"].startswith("Close in meaning to your draft")
    assert best["summary"].endswith(".")
    assert [p["from"] for p in best["passages"][:2]] == ["related", "query"]
    assert best["matched_terms"]
    scores = [item["score"] for item in related]
    assert scores == sorted(scores, reverse=True)
    assert found["near_duplicates"] == []
    sdgs = [s["id"] for s in found["tags"]["sdgs"][:3]]
    assert {"sdg:2", "sdg:4"} & set(sdgs), sdgs
    assert found == post(client, "/v1/wisdom/related", {**GARDEN_DRAFT, "limit": 5})


def test_a_refiled_entry_is_flagged_as_a_near_duplicate(client: TestClient, demo: Services) -> None:
    entry = next(n for n in demo.store.iter_nodes(kind="wisdom_entry"))
    assert isinstance(entry, WisdomEntry)
    body = entry.body
    for old, new in REWORDINGS[:6]:
        body = body.replace(old, new, 1)
    found = post(client, "/v1/wisdom/related", {"title": f"{entry.name} (revised)", "body": body})
    assert node_ids(found["near_duplicates"])[:1] == [entry.id]
    flagged = found["near_duplicates"][0]["explanation"]
    assert flagged["summary"].startswith("Nearly the same text as your draft: ")
    assert flagged["components"]["wording"] >= flagged["threshold"]
    assert entry.id not in node_ids(found["related"])
    by_id = post(client, "/v1/wisdom/related", {"id": entry.id})
    assert entry.id not in node_ids(by_id["related"] + by_id["near_duplicates"])


def test_practitioners_of_an_education_draft_work_on_sdg_4(
    client: TestClient, demo: Services
) -> None:
    found = post(client, "/v1/wisdom/related", {**EDUCATION_DRAFT, "limit": 10})
    practitioners = found["practitioners"]
    assert practitioners
    graph = demo.view.graph

    def on_sdg_4(person: str) -> bool:
        cares = graph.has_edge(person, "sdg:4", key="interested_in")
        works_on = [i for _, i, k in graph.out_edges(person, keys=True) if k == "works_on"]
        works = any(graph.has_edge(i, "sdg:4", key="addresses") for i in works_on)
        return cares or works

    with_sdg_4 = [p for p in node_ids(practitioners) if on_sdg_4(p)]
    assert len(with_sdg_4) >= len(practitioners) // 2, with_sdg_4
    for item in practitioners:
        why = item["explanation"]
        path = why["path"]
        assert path[0]["id"] == item["node"]["id"] and path[-1]["kind"] == "wisdom_entry"
        assert path[-1]["id"] in node_ids(found["related"] + found["near_duplicates"])
        assert why["summary"].endswith(".") and len(why["summary"]) > 30
        assert set(why["components"]) == {"text", "link", "topics"}


def test_a_community_asking_about_youth_violence_learns_from_violence_and_youth_work(
    client: TestClient, demo: Services
) -> None:
    found = post(client, "/v1/communities/learn", {**YOUTH_VIOLENCE, "limit": 8})
    initiatives = [text_of(item["node"]) for item in found["initiatives"]]
    on_topic = [t for t in initiatives if any(word in t for word in VIOLENCE_OR_YOUTH)]
    assert len(on_topic) >= 3 * len(initiatives) // 4, initiatives
    assert any(word in initiatives[0] for word in VIOLENCE_OR_YOUTH)
    communities = found["communities"]
    assert "community:sacramento" not in node_ids(communities)
    top_issues = " ".join(communities[0]["node"]["issues"])
    assert "violence" in top_issues or "youth" in top_issues, top_issues
    assert "sdg:16" in [g["id"] for g in found["goals"]]
    connectors = found["connectors"]
    assert connectors
    ranks = [_band_rank(c["explanation"]["distance_band"]) for c in connectors]
    assert ranks == sorted(ranks), "local first"
    assert connectors[0]["explanation"]["distance_band"] == "within 10 km"
    people = demo.store.get_nodes(node_ids(connectors))
    for person in people.values():
        assert isinstance(person, Person)
        assert person.discoverable and person.visibility == "public"
    assert found == post(client, "/v1/communities/learn", {**YOUTH_VIOLENCE, "limit": 8})


def test_similar_communities_show_what_they_did_linked(client: TestClient) -> None:
    found = post(client, "/v1/communities/learn", {**YOUTH_VIOLENCE, "limit": 8})
    did = [d for c in found["communities"] for d in c["explanation"]["did"]]
    assert {d["kind"] for d in did} == {"initiative", "wisdom_entry"}, did
    for community in found["communities"]:
        name = community["node"]["name"]
        for deed in community["explanation"]["did"]:
            assert deed["reason"].endswith(".") and name in deed["reason"], deed
            assert f'"{deed["name"]}"' in deed["reason"]
            page = {"initiative": "/initiatives/" + deed["id"].partition(":")[2],
                    "wisdom_entry": f"/nodes/{deed['id']}"}[deed["kind"]]  # fmt: skip
            assert deed["href"] == page
            linked = client.get(f"/v1/nodes/{deed['id']}")
            assert linked.status_code == 200 and linked.json()["name"] == deed["name"]
        if community["explanation"]["did"]:
            assert "what they did: " in community["explanation"]["summary"]
    entries = found["entries"]
    assert entries and {e["node"]["kind"] for e in entries} == {"wisdom_entry"}
    told = [text_of(e["node"]) for e in entries]
    assert sum(any(w in t for w in VIOLENCE_OR_YOUTH) for t in told) >= len(told) // 2, told
    for entry in entries:
        assert entry["explanation"]["summary"].startswith("Tells of work on issues like yours")


def _band_rank(band: str | None) -> int:
    order = ["within 10 km", "within 50 km", "within 200 km", "within 1000 km", "over 1000 km"]
    return order.index(band) if band else len(order)


@pytest.mark.parametrize("role", ["anonymous", "member", "admin"])
def test_every_item_is_explained_and_no_refusing_person_is_ever_recommended(
    client: TestClient, keys: Headers, role: str
) -> None:
    answers = [
        post(client, "/v1/wisdom/related", {**GARDEN_DRAFT, "limit": 20}, keys[role]),
        post(client, "/v1/wisdom/related", {**EDUCATION_DRAFT, "limit": 20}, keys[role]),
        post(client, "/v1/communities/learn", {**YOUTH_VIOLENCE, "limit": 20}, keys[role]),
    ]
    lists = [answer[name] for answer in answers for name in
             ("related", "near_duplicates", "practitioners", "communities", "initiatives",
              "entries", "connectors") if name in answer]  # fmt: skip
    items = [item for found in lists for item in found]
    assert len(items) > 60
    for item in items:
        why = item["explanation"]
        assert isinstance(why["summary"], str) and why["summary"].endswith("."), why
        assert "None" not in why["summary"] and "{" not in why["summary"]
        assert why["components"] and all(isinstance(v, float) for v in why["components"].values())
        assert "contact" not in item["node"]
    text = str(answers)
    for person in REFUSED:
        assert person.id not in text and person.name not in text
