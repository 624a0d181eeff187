"""The map by viewport and zoom: server-side clusters that count only what the viewer may
list, small answers for any view, and ETags that spare unchanged views."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.map_clusters import BUDGET, MAX_CELLS_ACROSS, clusters, encode, view_of
from api.routes import map as map_route
from api.routes.map import MAP_KINDS
from api.services import Services
from graph.demo import demo_records
from graph.edges import Edge
from graph.listing import NodeFilter
from graph.model import (
    Initiative,
    LocationPrecision,
    Person,
    Place,
    Visibility,
    WisdomEntry,
)
from graph.reference import ensure_reference
from graph.store import Store
from graph.visibility import ListingAudience
from tests.conftest import DATA

WORLD = "-180,-85,180,85"
KISUMU = Place(name="Kisumu", country="KE", region="Africa", lat=-0.0917, lon=34.768)


def view(client: TestClient, headers: dict[str, str] | None = None, **params: Any) -> Any:
    response = client.get("/v1/map", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return response


def items_of(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["id"]: i for c in body["clusters"] for i in c.get("items") or []}


@pytest.mark.parametrize("role", ["anonymous", "member", "admin"])
def test_a_world_view_counts_what_the_whole_map_lists(
    client: TestClient, keys: dict[str, dict[str, str]], role: str
) -> None:
    whole = view(client, keys[role]).json()
    world = view(client, keys[role], bbox=WORLD, zoom=1).json()
    assert world["total"] == whole["total"] == sum(c["count"] for c in world["clusters"])
    assert world["unplaced"] == whole["unplaced"]
    assert sum(sum(c["kinds"].values()) for c in world["clusters"]) == world["total"]
    # Small clusters carry their items, at their public positions (as the whole map).
    shown = items_of(world)
    assert shown and set(shown) <= {i["id"] for i in whole["items"]}
    for item in whole["items"]:
        if item["id"] in shown:
            assert shown[item["id"]] == item


def test_a_hidden_person_never_changes_what_an_anonymous_viewer_sees(
    client: TestClient, services: Services
) -> None:
    params = {"bbox": "30,-5,40,5", "zoom": 6}
    before = view(client, **params)
    services.store.write(
        [
            Person(id="person:k-private", name="Kay Private", place=KISUMU,
                   visibility=Visibility.private),
            Person(id="person:k-members", name="Kay Members", place=KISUMU,
                   visibility=Visibility.members),
            Person(id="person:k-shy", name="Kay Shy", place=KISUMU, discoverable=False),
        ]
    )  # fmt: skip
    after = view(client, **params)
    assert after.json() == before.json()
    assert after.headers["etag"] == before.headers["etag"]  # not a sign of the writes
    for everything in (view(client), view(client, bbox=WORLD, zoom=0)):
        assert "Kay" not in everything.text
    services.store.write([Person(id="person:k-open", name="Kay Open", place=KISUMU)])
    seen = view(client, **params).json()
    assert seen["total"] == before.json()["total"] + 1
    assert "person:k-open" in items_of(seen)


def test_people_cluster_at_their_coarsened_place_only(
    client: TestClient, services: Services
) -> None:
    services.store.write(
        [Person(id="person:k-region", name="Rae Region", place=KISUMU,
                location_precision=LocationPrecision.region)]
    )  # fmt: skip
    body = view(client, bbox="33,-2,36,1", zoom=12).json()
    found = items_of(body)["person:k-region"]
    assert (found["lat"], found["lon"], found["precision"]) == (-0.5, 34.5, "region")
    assert str(KISUMU.lat) not in json.dumps(body)


def test_a_view_across_the_date_line_wraps(client: TestClient, services: Services) -> None:
    east = Place(name="Suva", country="FJ", region="Oceania", lat=-18.14, lon=178.44)
    west = Place(name="Apia", country="WS", region="Oceania", lat=-13.83, lon=-171.76)
    services.store.write(
        [Initiative(id="initiative:suva", name="Suva Reefs", place=east),
         Initiative(id="initiative:apia", name="Apia Gardens", place=west)]
    )  # fmt: skip
    body = view(client, bbox="170,-25,-165,-5", zoom=4).json()
    assert {"initiative:suva", "initiative:apia"} <= set(items_of(body))
    assert all(-180 <= c["lon"] <= 180 for c in body["clusters"])
    assert body["bbox"][0] > body["bbox"][2]


def test_a_cluster_is_what_lies_in_one_cell_of_the_grid(
    client: TestClient, services: Services
) -> None:
    """Two places 0.3 and 0.7 cells east of one grid line share that cell: the cell a
    place falls in is its offset's integer part (a cast that rounds, as PostgreSQL's
    does, would put the second in the next cell)."""
    grid = view_of(30, -5, 40, 5, 6)
    lat = grid.south + 3.5 * grid.cell
    near, far = (grid.west + share * grid.cell for share in (0.3, 0.7))
    services.store.write(
        [Initiative(id="initiative:near", name="Near", place=KISUMU.model_copy(
            update={"lat": lat, "lon": near})),
         Initiative(id="initiative:far", name="Far", place=KISUMU.model_copy(
            update={"lat": lat, "lon": far}))]
    )  # fmt: skip
    body = view(client, bbox="30,-5,40,5", zoom=6).json()
    both = {"initiative:near", "initiative:far"}
    holding = [c for c in body["clusters"] if both & set(items_of({"clusters": [c]}))]
    assert len(holding) == 1, holding
    assert both <= set(items_of({"clusters": holding}))


def test_an_unchanged_view_answers_304_and_audiences_get_their_own_tags(
    client: TestClient, services: Services, keys: dict[str, dict[str, str]]
) -> None:
    first = view(client, bbox=WORLD, zoom=2)
    tag = first.headers["etag"]
    assert first.headers["cache-control"].startswith("private, max-age=")
    again = client.get("/v1/map", params={"bbox": WORLD, "zoom": 2},
                       headers={"If-None-Match": tag})  # fmt: skip
    assert again.status_code == 304 and again.content == b""
    assert view(client, keys["admin"], bbox=WORLD, zoom=2).headers["etag"] != tag
    # A world view is capped to one grid: a closer zoom of it is the same answer...
    assert view(client, bbox=WORLD, zoom=3).headers["etag"] == tag
    # ... while a smaller view's zooms are not.
    europe = [view(client, bbox="-10,35,30,60", zoom=z).headers["etag"] for z in (4, 5)]
    assert len({tag, *europe}) == 3
    whole = view(client)
    assert (
        client.get("/v1/map", headers={"If-None-Match": whole.headers["etag"]}).status_code == 304
    )
    services.store.write([Initiative(id="initiative:new", name="New", place=KISUMU)])
    changed = client.get("/v1/map", params={"bbox": WORLD, "zoom": 2},
                         headers={"If-None-Match": tag})  # fmt: skip
    assert changed.status_code == 200 and changed.headers["etag"] != tag


@pytest.mark.parametrize(
    ("bbox", "reason"),
    [
        ("1,2,3", "four numbers"),
        ("a,b,c,d", "four numbers"),
        ("-200,0,10,10", "from -180 to 180"),
        ("0,10,10,5", "south must be below north"),
    ],
)
def test_a_bad_view_is_refused_naming_the_field(client: TestClient, bbox: str, reason: str) -> None:
    response = client.get("/v1/map", params={"bbox": bbox, "zoom": 3})
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["query.bbox"] and reason in errors[0]["reason"]
    assert client.get("/v1/map", params={"bbox": WORLD, "zoom": 21}).status_code == 422


def test_the_grid_stays_small_whatever_the_view_asks() -> None:
    for zoom in range(21):
        for box in [(-180, -85, 180, 85), (-1, -1, 1, 1), (100, -80, 90, 80)]:
            grid = view_of(*box, zoom)
            width = (grid.east - grid.west) % 360 or 360
            assert width / grid.cell <= MAX_CELLS_ACROSS + 1
            assert (grid.north - grid.south) / grid.cell <= MAX_CELLS_ACROSS + 1


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store.open(tmp_path_factory.mktemp("map-demo") / "demo.db")
    ensure_reference(store, DATA)
    store.write(list(demo_records(DATA, seed=7, people=1500)))
    yield store
    store.close()  # on PostgreSQL, the connections the module's later tests opened


@pytest.mark.parametrize(
    "audience",
    [ListingAudience(), ListingAudience(None, include_undiscoverable=True, respect_locality=False)],
    ids=["anonymous", "admin"],
)
def test_every_view_of_the_demo_network_is_under_100_kb(
    demo_store: Store, audience: ListingAudience
) -> None:
    flt, worst = NodeFilter(MAP_KINDS), 0
    boxes = [(-180, -85, 180, 85), (-125, 30, -115, 42), (-10, 35, 30, 60), (170, -50, -170, -30)]
    for zoom in range(0, 19, 2):
        for box in boxes:
            answer = clusters(demo_store, flt, audience, view_of(*box, zoom))
            size = len(encode(answer))
            worst = max(worst, size)
            assert size < BUDGET
            assert len(answer["clusters"]) <= (MAX_CELLS_ACROSS + 1) ** 2
    assert worst > 1_000  # the views did show something


def test_an_answer_outlives_the_writes_that_cannot_change_it(
    client: TestClient, services: Services
) -> None:
    lyon = Place(name="Lyon", country="FR", lat=45.76, lon=4.84)
    services.store.write(
        [Person(id="person:k-kim", name="Kim", place=KISUMU, bio="Plants trees. Often."),
         Person(id="person:k-lee", name="Lee", place=KISUMU),
         Person(id="person:far", name="Far", place=lyon)]
    )  # fmt: skip
    near = {"bbox": "30,-5,40,5", "zoom": 6}
    first = view(client, **near)
    assert items_of(first.json())["person:k-kim"]["about"] == "Plants trees."
    in_sector = view(client, sector="sector:health", **near)
    assert "person:k-lee" not in items_of(in_sector.json())

    def unchanged(response: Any, **params: Any) -> bool:
        again = client.get("/v1/map", params=params,
                           headers={"If-None-Match": response.headers["etag"]})  # fmt: skip
        return bool(again.status_code == 304)

    # A link between two people, the bio of someone it does not name, a wisdom entry.
    services.store.write([Edge(kind="knows", source="person:k-kim", target="person:k-lee")])
    services.store.write([Person(id="person:far", name="Far", place=lyon, bio="Elsewhere.")])
    services.store.write([WisdomEntry(id="wisdom_entry:k", name="K", summary="Listen.")])
    assert unchanged(first, **near) and unchanged(in_sector, sector="sector:health", **near)
    # An edge at the sector filtered on changes that view only.
    health = Edge(kind="interested_in", source="person:k-lee", target="sector:health")
    services.store.write([health])
    assert unchanged(first, **near) and not unchanged(in_sector, sector="sector:health", **near)
    assert "person:k-lee" in items_of(view(client, sector="sector:health", **near).json())
    # The bio of someone it names: made again, with her new first sentence.
    services.store.write([Person(id="person:k-kim", name="Kim", place=KISUMU, bio="Cooks.")])
    assert not unchanged(first, **near)
    assert items_of(view(client, **near).json())["person:k-kim"]["about"] == "Cooks."


def test_answers_remembered_never_outlive_a_change(client: TestClient, services: Services) -> None:
    services.store.write([Person(id="person:k-soon", name="Soon Private", place=KISUMU)])
    assert "Soon Private" in view(client, bbox="30,-5,40,5", zoom=6).text
    services.store.write(
        [Person(id="person:k-soon", name="Soon Private", place=KISUMU,
                visibility=Visibility.private)]
    )  # fmt: skip
    assert "Soon Private" not in view(client, bbox="30,-5,40,5", zoom=6).text
    held = map_route._answers[services.store].held
    assert held and not any(b"Soon Private" in answer.body for answer in held.values())
