"""Recommendations through the app, on the demo network with the real model.

One store of ``PEOPLE`` demo people per module. Its search index is kept under
``var/test-cache`` between sessions (it holds only what the shipped data and the
generator give, and is checked against every node's text at the start: a text that
changed is encoded again), so the model encodes the demo's texts once per machine
rather than once per run.
"""

from __future__ import annotations

import math
import shutil
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

import api.matching
from api.app import create_app
from api.auth import ANONYMOUS, KeyRing, Role
from api.matching import matching_of
from api.services import Services, open_store
from api.settings import Settings
from graph.demo import demo_records
from graph.edges import Edge
from graph.geo import DISTANCE_BANDS_KM, public_place
from graph.matching.cowork import TEAM_SIZE
from graph.model import Initiative, Person
from tests.api.conftest import SHARED_CACHE
from tests.conftest import DATA

PEOPLE = 400
INDEX_CACHE = SHARED_CACHE / f"matching-demo-{PEOPLE}" / "index"
ROLES = ("anonymous", "member", "editor", "admin")
Headers = dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    data_dir = tmp_path_factory.mktemp("matching-demo") / "var"
    settings = Settings(data_dir=data_dir, reference_dir=DATA, rate_limit_per_minute=1_000_000,
                        rate_limit_burst=1_000_000, cache=SHARED_CACHE)  # fmt: skip
    store = open_store(settings)
    store.write(demo_records(DATA, seed=7, people=PEOPLE))
    store.close()
    if INDEX_CACHE.is_dir():
        shutil.copytree(INDEX_CACHE, settings.index_dir)
    services = Services.start(settings)
    # The cache may predate a change of the generator or of the node texts: compare every
    # node's text with what the index holds (only changed texts are encoded again).
    index = services.search.index
    before = {i: index.text_hash(i) for i in index.vectors.ids()}
    services.reindex()
    if not INDEX_CACHE.is_dir() or before != {i: index.text_hash(i) for i in index.vectors.ids()}:
        index.save(watermark=index.watermark)
        shutil.rmtree(INDEX_CACHE, ignore_errors=True)
        shutil.copytree(settings.index_dir, INDEX_CACHE)
    yield services
    services.close()


@pytest.fixture(scope="module")
def client(demo: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=demo)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def keys(demo: Services) -> Headers:
    ring = KeyRing(demo.store.engine)
    headers: Headers = {"anonymous": {}}
    for role in (Role.member, Role.editor, Role.admin):
        _, secret = ring.create(role)
        headers[role.name] = {"Authorization": f"Bearer {secret}"}
    return headers


@pytest.fixture(scope="module")
def people(demo: Services) -> dict[str, Person]:
    return {p.id: p for p in demo.store.iter_nodes(kind="person")}  # type: ignore[misc]


@pytest.fixture(scope="module")
def links(demo: Services) -> dict[str, set[tuple[str, str]]]:
    """Each node's (edge kind, other end), both directions."""
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for edge in demo.store.iter_edges():
        found[edge.source].add((edge.kind, edge.target))
        found[edge.target].add((edge.kind, edge.source))
    return found


def public(people: dict[str, Person], *, precision: str | None = None) -> list[str]:
    """Public, discoverable people (with this location precision), by id."""
    return sorted(
        p.id
        for p in people.values()
        if p.visibility == "public"
        and p.discoverable
        and (precision is None or p.location_precision == precision)
    )


def get(client: TestClient, url: str, headers: dict[str, str] | None = None,
        **params: Any) -> dict[str, Any]:  # fmt: skip
    response = client.get(url, params=params or None, headers=headers or {})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def education_initiative(demo: Services, links: dict[str, set[tuple[str, str]]]) -> str:
    """The active initiative in the education sector for SDG 4 with the most people on it."""
    wanted = {("in_sector", "sector:education"), ("addresses", "sdg:4")}
    found = [
        (sum(k == "works_on" for k, _ in links[node.id]), node.id)
        for node in demo.store.iter_nodes(kind="initiative")
        if wanted <= links[node.id] and getattr(node, "active", False)
    ]
    assert found, "the demo has an education initiative for SDG 4"
    return max(found)[1]


def test_every_result_of_every_endpoint_is_explained(
    client: TestClient, demo: Services, people: dict[str, Person],
    links: dict[str, set[tuple[str, str]]],
) -> None:  # fmt: skip
    seeds = public(people)[:3]
    initiative = education_initiative(demo, links)
    urls = [f"/v1/people/{s}/collaborators?mode={m}" for s in seeds
            for m in ("similar", "complementary", "bridging")]  # fmt: skip
    urls += [f"/v1/people/{s}/initiatives" for s in seeds]
    urls += [f"/v1/initiatives/{initiative}/people?mode={m}" for m in ("similar", "bridging")]
    for url in urls:
        seed = url.split("/")[3]
        items = get(client, url)["items"]
        assert items, url
        for item in items:
            why = item["explanation"]
            assert why["summary"].startswith(f"{item['node']['name']}: ")
            assert why["summary"].endswith(".") and len(why["summary"].split()) >= 5
            assert math.isclose(sum(why["components"].values()), item["score"], abs_tol=1e-3)
            path = why["path"]
            if path:
                assert path[0]["id"] == seed and path[-1]["id"] == item["node"]["id"]
                assert all("edge" in step for step in path[1::2])
                assert all("name" in step for step in path[0::2])
            for goal in why["shared_sdgs"]:
                assert goal["id"] == f"sdg:{goal['number']}" and goal["name"]
            assert set(why["phrases"]) == {"yours", "theirs"}


def test_a_person_reads_why_someone_was_recommended(
    client: TestClient, people: dict[str, Person]
) -> None:
    seed = public(people, precision="city")[0]
    items = get(client, f"/v1/people/{seed}/collaborators")["items"]
    for item in items:
        why = item["explanation"]
        name = item["node"]["name"]
        # e.g. "Kofi Iyer: You both care about SDG 4 Quality education; linked through ..."
        if why["shared_sdgs"]:
            assert why["summary"].startswith(f"{name}: You both care about SDG ")
        assert ("linked through" in why["summary"].lower()) == (len(why["path"]) > 3)
        for goal in why["shared_sdgs"][:3]:
            assert f"SDG {goal['number']} {goal['name']}" in why["summary"]
        for pair in why["offer_need"][:2]:
            assert f'"{pair["offer"]}" meets' in why["summary"]
    assert any(item["explanation"]["shared_sdgs"] for item in items)


def test_an_education_initiative_asks_people_who_work_on_sdg_4(
    client: TestClient, demo: Services, people: dict[str, Person],
    links: dict[str, set[tuple[str, str]]],
) -> None:  # fmt: skip
    """An established initiative (its people come from many sectors): the people to ask
    care about SDG 4 far more often than people at large, and share its goals or sectors."""
    initiative = education_initiative(demo, links)
    topics = {o for k, o in links[initiative] if k in ("addresses", "in_sector")}
    items = get(client, f"/v1/initiatives/{initiative}/people")["items"]
    assert len(items) == 10
    caring = [i for i in items if ("interested_in", "sdg:4") in links[i["node"]["id"]]]
    base = sum(("interested_in", "sdg:4") in links[p] for p in people) / len(people)
    assert len(caring) / len(items) >= 2 * base, [i["explanation"]["summary"] for i in items]
    sharing = [i for i in items if topics & {o for _, o in links[i["node"]["id"]]}]
    assert len(sharing) >= 8
    for item in caring:
        assert {"id": "sdg:4", "number": 4, "name": "Quality education"} in item["explanation"][
            "shared_sdgs"
        ]
    workers = {other for kind, other in links[initiative] if kind == "works_on"}
    assert not workers & {i["node"]["id"] for i in items}


def test_collaborators_share_a_goal_or_a_sector_with_the_person(
    client: TestClient, people: dict[str, Person], links: dict[str, set[tuple[str, str]]]
) -> None:
    for seed in public(people)[:5]:
        topics = {o for k, o in links[seed] if k == "interested_in"}
        items = get(client, f"/v1/people/{seed}/collaborators")["items"]
        sharing = [i for i in items if topics & {o for _, o in links[i["node"]["id"]]}]
        # new collaborators only: many who share the most already work with the person
        assert len(sharing) >= 7, seed


def test_people_already_known_and_own_initiatives_are_left_out(
    client: TestClient, people: dict[str, Person], links: dict[str, set[tuple[str, str]]]
) -> None:
    for seed in public(people)[:5]:
        known = {o for k, o in links[seed] if k == "knows"}
        found = [i["node"]["id"] for i in get(client, f"/v1/people/{seed}/collaborators",
                                              limit=50)["items"]]  # fmt: skip
        assert seed not in found and not known & set(found)
        own = {o for k, o in links[seed] if k == "works_on"}
        joined = [i["node"]["id"] for i in get(client, f"/v1/people/{seed}/initiatives")["items"]]
        assert joined and not own & set(joined)


@pytest.mark.parametrize("role", ROLES)
def test_only_consenting_people_are_ever_recommended(
    client: TestClient, keys: Headers, people: dict[str, Person],
    demo: Services, links: dict[str, set[tuple[str, str]]], role: str,
) -> None:  # fmt: skip
    urls = [f"/v1/people/{s}/collaborators?limit=50&mode={m}" for s in public(people)[:4]
            for m in ("similar", "bridging")]  # fmt: skip
    urls.append(f"/v1/initiatives/{education_initiative(demo, links)}/people?limit=50")
    seen = 0
    for url in urls:
        for item in get(client, url, keys[role])["items"]:
            person = people[item["node"]["id"]]
            assert person.discoverable and person.open_to_collaborate, person.id
            assert person.visibility != "private", person.id
            if role == "anonymous":
                assert person.visibility == "public", person.id
            seen += 1
    assert seen > 100


def test_no_explanation_reveals_contact_or_a_finer_place(
    client: TestClient, people: dict[str, Person]
) -> None:
    for seed in public(people)[:4]:
        for item in get(client, f"/v1/people/{seed}/collaborators", limit=50)["items"]:
            node = item["node"]
            person = people[node["id"]]
            assert "contact" not in node
            shown = public_place(person.place, person.location_precision) if person.place else None
            expected = shown.model_dump(mode="json", exclude_none=True) if shown else None
            assert node.get("place") == expected
            text = str(item["explanation"])
            if person.place is not None and person.location_precision != "exact":
                assert str(person.place.lat) not in text and str(person.place.lon) not in text
            assert set(item["explanation"]) <= {
                "summary", "components", "shared_sectors", "shared_sdgs", "path", "phrases",
                "offer_need", "bridges", "distance_band",
            }  # fmt: skip


def test_no_distance_band_when_a_place_is_not_public(
    client: TestClient, people: dict[str, Person]
) -> None:
    seed = public(people, precision="country")[0]
    items = get(client, f"/v1/people/{seed}/collaborators")["items"]
    assert items and all("distance_band" not in i["explanation"] for i in items)
    seed = public(people, precision="city")[0]
    items = get(client, f"/v1/people/{seed}/collaborators", limit=30)["items"]
    for item in items:
        person = people[item["node"]["id"]]
        has_place = person.place is not None and person.location_precision != "country"
        assert ("distance_band" in item["explanation"]) == has_place


def test_local_scope_keeps_to_the_radius_and_needs_a_public_place(
    client: TestClient, people: dict[str, Person]
) -> None:
    seed = public(people, precision="city")[0]
    body = get(client, f"/v1/people/{seed}/collaborators", scope="local", radius_km=50)
    assert body["scope"] == "local" and body["radius_km"] == 50
    allowed = {f"within {km} km" for km in DISTANCE_BANDS_KM if km <= 50}
    assert body["items"]
    assert {i["explanation"]["distance_band"] for i in body["items"]} <= allowed
    nowhere = public(people, precision="country")[0]
    response = client.get(f"/v1/people/{nowhere}/collaborators", params={"scope": "local"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.scope"
    response = client.get(f"/v1/people/{seed}/collaborators", params={"radius_km": 10})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.radius_km"


def test_complementary_collaborators_meet_a_need(
    client: TestClient, people: dict[str, Person]
) -> None:
    for seed in public(people)[:3]:
        items = get(client, f"/v1/people/{seed}/collaborators", mode="complementary")["items"]
        assert items
        for item in items:
            pairs = item["explanation"]["offer_need"]
            assert pairs
            for pair in pairs:
                mine = people[seed]
                theirs = people[item["node"]["id"]]
                if pair["direction"] == "theirs_meets_yours":
                    assert pair["need"] in mine.needs and pair["offer"] in theirs.offers
                else:
                    assert pair["offer"] in mine.offers and pair["need"] in theirs.needs


def test_bridging_reaches_into_other_sectors(
    client: TestClient, people: dict[str, Person], links: dict[str, set[tuple[str, str]]]
) -> None:
    def other_sector(seed: str, other: str) -> bool:
        mine = {o for k, o in links[seed] if o.startswith("sector:")}
        theirs = {o for k, o in links[other] if o.startswith("sector:")}
        return bool(theirs - mine)

    counts = {"similar": 0, "bridging": 0}
    for seed in public(people)[:5]:
        for mode in counts:
            items = get(client, f"/v1/people/{seed}/collaborators", mode=mode)["items"]
            counts[mode] += sum(other_sector(seed, i["node"]["id"]) for i in items)
    assert counts["bridging"] > counts["similar"]


def existing_collaborators(links: dict[str, set[tuple[str, str]]], seed: str) -> set[str]:
    """Whom the person knows or shares an initiative, a council or a team with (an
    organisation of at most TEAM_SIZE members in all, so at most that many visible)."""
    found = {o for k, o in links[seed] if k == "knows"}
    for kind, hub in links[seed]:
        members = {o for k, o in links[hub] if o.startswith("person:") and k == kind}
        team = hub.startswith(("initiative:", "council:")) or (
            hub.startswith("organization:") and len(members) <= TEAM_SIZE
        )
        if kind in ("works_on", "member_of") and team:
            found |= members
    return found - {seed}


@pytest.mark.parametrize("mode", ["similar", "complementary", "bridging"])
def test_no_recommended_collaborator_is_an_existing_collaborator(
    client: TestClient, keys: Headers, people: dict[str, Person],
    links: dict[str, set[tuple[str, str]]], mode: str,
) -> None:  # fmt: skip
    checked = 0
    for seed in public(people)[:8]:
        existing = existing_collaborators(links, seed)
        body = get(client, f"/v1/people/{seed}/collaborators", keys["member"], limit=50,
                   mode=mode)  # fmt: skip
        assert body["relation"] == "new"
        found = {i["node"]["id"] for i in body["items"]}
        assert not found & existing, seed
        checked += len(existing)
    assert checked > 20, "the demo people work with others"


def test_existing_collaborators_are_listed_apart(
    client: TestClient, keys: Headers, people: dict[str, Person],
    links: dict[str, set[tuple[str, str]]],
) -> None:  # fmt: skip
    seed = max(public(people)[:20], key=lambda s: len(existing_collaborators(links, s)))
    body = get(client, f"/v1/people/{seed}/collaborators", keys["member"], limit=50,
               relation="existing")  # fmt: skip
    found = {i["node"]["id"] for i in body["items"]}
    assert found and found <= existing_collaborators(links, seed)
    for item in body["items"]:
        assert item["explanation"]["path"], "the link to an existing collaborator is shown"


def test_bridging_results_name_the_other_sector(
    client: TestClient, people: dict[str, Person], links: dict[str, set[tuple[str, str]]]
) -> None:
    named = 0
    for seed in public(people)[:5]:
        mine = {o for k, o in links[seed] if o.startswith("sector:")}
        for item in get(client, f"/v1/people/{seed}/collaborators", mode="bridging")["items"]:
            bridges = item["explanation"]["bridges"]
            theirs = [s["name"] for s in bridges["theirs"]]
            assert {s["id"] for s in bridges["yours"]} <= mine or not mine
            assert theirs and not {s["id"] for s in bridges["theirs"]} & mine
            summary = item["explanation"]["summary"]
            assert theirs[0] in summary.split(";")[0], summary
            assert ": Bridges " in summary or ": Brings " in summary, summary
            named += 1
    assert named >= 40


def test_same_request_same_answer_and_pages_follow(
    client: TestClient, people: dict[str, Person]
) -> None:
    seed = public(people)[1]
    url = f"/v1/people/{seed}/collaborators"
    first = get(client, url, limit=20)
    assert get(client, url, limit=20) == first
    page = get(client, url, limit=10, offset=10)
    assert [i["node"]["id"] for i in page["items"]] == [
        i["node"]["id"] for i in first["items"][10:]
    ]


def test_a_hidden_profile_is_missing_and_only_people_ids_are_taken(
    client: TestClient, keys: Headers, people: dict[str, Person]
) -> None:
    hidden = sorted(p.id for p in people.values() if p.visibility == "members")[0]
    url = f"/v1/people/{hidden}/collaborators"
    assert client.get(url).status_code == 404
    assert client.get(url, headers=keys["member"]).status_code == 200
    response = client.get("/v1/people/initiative:x/collaborators")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "path.person_id"
    assert client.get("/v1/initiatives/initiative:nothing-here/people").status_code == 404


def test_a_new_education_initiative_asks_people_who_work_on_sdg_4(
    client: TestClient, demo: Services, links: dict[str, set[tuple[str, str]]]
) -> None:
    """Nobody works on it yet: its text, needs and goals have to find the people."""
    demo.store.write([
        Initiative(id="initiative:reading-circles-test", name="Reading circles",
                   description="After-school reading circles and peer tutoring for children "
                   "who fall behind at school.", needs=["tutoring", "curriculum design"]),
        Edge(kind="addresses", source="initiative:reading-circles-test", target="sdg:4"),
        Edge(kind="in_sector", source="initiative:reading-circles-test",
             target="sector:education"),
    ])  # fmt: skip
    items = get(client, "/v1/initiatives/initiative:reading-circles-test/people")["items"]
    assert len(items) == 10
    wanted = {("interested_in", "sdg:4"), ("interested_in", "sector:education")}
    for_sdg_4 = [i for i in items if ("interested_in", "sdg:4") in links[i["node"]["id"]]]
    for_education = [i for i in items if wanted & links[i["node"]["id"]]]
    summaries = [i["explanation"]["summary"] for i in items]
    assert len(for_sdg_4) >= 4, summaries  # one person in five cares about SDG 4
    assert len(for_education) >= 7, summaries
    first = items[0]["explanation"]
    assert "SDG 4 Quality education" in first["summary"] or first["offer_need"]


def test_a_seed_deleted_since_the_view_was_read_gets_an_empty_page(demo: Services) -> None:
    """A request reads one version of the view, but the records it shows come from the
    store: an initiative deleted by another worker meanwhile gets no recommendations,
    not a server error (found by the concurrency test)."""
    seed = Initiative(
        id="initiative:gone-soon",
        name="After-school mentoring circles",
        description="Volunteers mentor teenagers after school in restorative circles.",
    )
    demo.write([seed, Edge(kind="in_sector", source=seed.id, target="sector:education")],
               within=None)  # fmt: skip
    demo.catch_up()
    matching = matching_of(demo, SimpleNamespace())
    assert matching.recommend(ANONYMOUS, seed.id, "person")  # people are found for it
    with demo.feed.reading():  # this version still holds it...
        demo.store.delete_node(seed.id)  # ...while the store no longer does
        assert matching.recommend(ANONYMOUS, seed.id, "person") == []
    demo.catch_up()


def test_a_worker_computes_one_recommendation_at_a_time(
    demo: Services, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests of one worker take turns at the recommender (api/matching.py): threads
    interleaving it on one core each took a quarter more time than alone. Each answer
    is the one it gets alone."""
    seeds = public(people)[:6]
    matching = matching_of(demo, SimpleNamespace())
    with demo.feed.reading():
        alone = {seed: matching.recommend(ANONYMOUS, seed, "person") for seed in seeds}
    inside, most = 0, 0
    count = threading.Lock()
    computing = api.matching.recommend

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal inside, most
        with count:
            inside += 1
            most = max(most, inside)
        try:
            time.sleep(0.02)  # (long enough for the others to arrive)
            return computing(*args, **kwargs)
        finally:
            with count:
                inside -= 1

    monkeypatch.setattr(api.matching, "recommend", counted)

    def ask(seed: str) -> list[dict[str, Any]]:
        with demo.feed.reading():
            return matching.recommend(ANONYMOUS, seed, "person")

    with ThreadPoolExecutor(len(seeds)) as pool:
        together = dict(zip(seeds, pool.map(ask, seeds), strict=True))
    assert most == 1
    assert together == alone
