"""Views of the map counted in memory (api.map_points) give the answer the store gives by
SQL, for every audience and filter they serve, and stay so as the feed applies writes."""

from __future__ import annotations

import json
import random
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from api.map_clusters import changed_since, clusters, read_items_ahead, view_of
from api.map_points import MapPoints
from api.routes.map import MAP_KINDS
from graph.demo import demo_records
from graph.feed import ChangeBatch
from graph.listing import NodeFilter
from graph.model import LocationPrecision, Person, Place, Visibility
from graph.reference import ensure_reference
from graph.store import Store
from graph.visibility import VISIBLE_TO, ListingAudience
from tests.conftest import DATA

KISUMU = Place(name="Kisumu", country="KE", region="Africa", lat=-0.0917, lon=34.768)
SUVA = Place(name="Suva", country="FJ", region="Oceania", lat=-18.1416, lon=178.4419)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store.open(tmp_path_factory.mktemp("map-points") / "demo.db")
    ensure_reference(store, DATA)
    store.write(list(demo_records(DATA, seed=11, people=800)))
    yield store
    store.close()


def views(
    store: Store, seed: int, count: int
) -> list[tuple[tuple[float, float, float, float], int]]:
    """Screens at every zoom around places where nodes are, one across the date line, and
    the world."""
    rng = random.Random(seed)
    placed = sorted(
        (node.place.lat, node.place.lon) for node in store.iter_nodes()
        if getattr(node, "place", None) is not None and node.place.lat is not None
    )  # fmt: skip
    found: list[tuple[tuple[float, float, float, float], int]] = [((-180, -85, 180, 85), 2)]
    found.append(((170, -50, -170, 10), 4))
    for lat, lon in rng.sample(placed, count):
        zoom = rng.randint(0, 14)
        half_w, half_h = 640 * 360 / (256 * 2**zoom), 400 * 360 / (256 * 2**zoom)
        west, east = lon - half_w, lon + half_w
        west = west + 360 if west < -180 else west
        east = east - 360 if east > 180 else east
        found.append(((west, max(-85, lat - half_h), east, min(85, lat + half_h)), zoom))
    return found


def audiences(store: Store) -> list[ListingAudience]:
    private = next(
        node.id for node in store.iter_nodes(kind="person")
        if node.visibility is not Visibility.public
    )  # fmt: skip
    return [
        ListingAudience(),
        ListingAudience(VISIBLE_TO["members"], own=frozenset({private})),
        ListingAudience(None, include_undiscoverable=True, respect_locality=False),
    ]


FILTERS = [
    NodeFilter(MAP_KINDS),
    NodeFilter(frozenset({"person"})),
    NodeFilter(frozenset({"initiative", "community"}), country="US"),
    NodeFilter(MAP_KINDS, country="ke"),
]


def same(in_memory: dict[str, Any], by_sql: dict[str, Any]) -> None:
    """Equal answers; a cluster's mean position may differ in its last digit, as sums
    taken in another order may."""
    assert {k: v for k, v in in_memory.items() if k != "clusters"} == {
        k: v for k, v in by_sql.items() if k != "clusters"
    }
    assert len(in_memory["clusters"]) == len(by_sql["clusters"])
    for ours, theirs in zip(in_memory["clusters"], by_sql["clusters"], strict=True):
        assert ours["lat"] == pytest.approx(theirs["lat"], abs=2e-5)
        assert ours["lon"] == pytest.approx(theirs["lon"], abs=2e-5)
        assert {k: v for k, v in ours.items() if k not in ("lat", "lon")} == {
            k: v for k, v in theirs.items() if k not in ("lat", "lon")
        }


def compare(store: Store, points: MapPoints, seed: int, count: int) -> int:
    """Every view, filter and audience both ways; how many clusters carried items."""
    with_items = 0
    for box, zoom in views(store, seed, count):
        view = view_of(*box, zoom)
        for audience in audiences(store):
            for flt in FILTERS:
                ours = clusters(store, flt, audience, view, points)
                same(ours, clusters(store, flt, audience, view))
                with_items += sum(1 for c in ours["clusters"] if c.get("items"))
    return with_items


def test_views_counted_in_memory_equal_those_counted_by_the_store(demo_store: Store) -> None:
    points = MapPoints.from_store(demo_store)
    assert compare(demo_store, points, seed=3, count=40) > 100  # items were compared too


def test_a_filter_on_links_is_left_to_the_store(demo_store: Store) -> None:
    points = MapPoints.from_store(demo_store)
    assert points.listed(NodeFilter(MAP_KINDS, sector="sector:health"), ListingAudience()) is None
    view = view_of(-180, -85, 180, 85, 2)
    flt = NodeFilter(MAP_KINDS, sector="sector:health")
    answer = clusters(demo_store, flt, ListingAudience(), view, points)
    assert answer == clusters(demo_store, flt, ListingAudience(), view)
    assert answer["total"] > 0


def test_the_points_follow_the_feed(demo_store: Store) -> None:
    points = MapPoints.from_store(demo_store)
    before = points.listed(NodeFilter(MAP_KINDS), ListingAudience())  # held until a change
    assert before is points.listed(NodeFilter(MAP_KINDS), ListingAudience())
    seq = demo_store.last_seq()
    people = list(demo_store.iter_nodes(kind="person"))[:40]
    demo_store.write(
        [
            Person(id="person:pts-new", name="New Pin", place=KISUMU),
            Person(id="person:pts-far", name="Far Pin", place=SUVA,
                   location_precision=LocationPrecision.city),
            # moved, made private, made undiscoverable, coarsened, unplaced
            people[0].model_copy(update={"place": SUVA}),
            people[1].model_copy(update={"visibility": Visibility.private}),
            people[2].model_copy(update={"discoverable": False}),
            people[3].model_copy(update={"location_precision": LocationPrecision.region}),
            people[4].model_copy(update={"place": None}),
        ]
    )  # fmt: skip
    demo_store.delete_node(people[5].id)  # a person's deletion is an erasure
    demo_store.delete_node(people[6].id)
    while (batch := ChangeBatch.read(demo_store, seq, limit=3)) is not None:
        points.apply(batch, points.prepare(batch))
        seq = batch.last_seq
    assert len(points) == len(MapPoints.from_store(demo_store))
    assert compare(demo_store, points, seed=5, count=25) > 50
    anonymous = points.listed(NodeFilter(MAP_KINDS), ListingAudience())
    assert anonymous is not None
    listed = {points.id_of(row) for row in anonymous.nonzero()[0].tolist()}
    assert "person:pts-new" in listed and people[0].id in listed
    assert not {people[1].id, people[2].id, people[5].id, people[6].id} & listed


HOBART = Place(name="Hobart", country="AU", region="Oceania", lat=-42.8821, lon=147.3272)


def items_of(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The items of an answer's clusters, by id, as the page reads them."""
    return {
        item.id: json.loads(item.json)
        for cluster in answer["clusters"]
        for item in cluster.get("items", ())
    }


def follow(store: Store, points: MapPoints, seq: int) -> int:
    """Apply the store's changes after ``seq`` to the points, as the feed does."""
    while (batch := ChangeBatch.read(store, seq, limit=50)) is not None:
        points.apply(batch, points.prepare(batch))
        seq = batch.last_seq
    return seq


def test_items_held_by_the_points_are_what_the_store_gives(demo_store: Store) -> None:
    """Items read once are held by the points and given again, equal to the store's."""
    points = MapPoints.from_store(demo_store)
    held = 0
    for box, zoom in views(demo_store, seed=9, count=25):
        view = view_of(*box, zoom)
        for audience in audiences(demo_store):
            for flt in FILTERS:
                by_sql = clusters(demo_store, flt, audience, view)
                first = clusters(demo_store, flt, audience, view, points, frozenset())
                again = clusters(demo_store, flt, audience, view, points, frozenset())
                same(first, by_sql)
                same(again, by_sql)
                held += len(items_of(again))
    assert held > 200
    assert sum(text is not None for text in points._items) > 100


def test_a_node_changed_after_the_points_is_read_again_and_not_held(demo_store: Store) -> None:
    """The store may be ahead of the points (the feed applies a change a moment after
    it is written): the nodes changed since are read again, rights included, and a held
    item is dropped when the feed brings its node's change."""
    people = [
        Person(id=f"person:hobart-{i}", name=f"Hobart {i}", place=HOBART, bio=f"Grows food {i}.")
        for i in range(4)
    ]
    demo_store.write(people)
    seq = demo_store.last_seq()
    points = MapPoints.from_store(demo_store)
    view = view_of(147.2, -43.0, 147.5, -42.8, 12)
    flt, anyone = NodeFilter(MAP_KINDS), ListingAudience()
    first = items_of(clusters(demo_store, flt, anyone, view, points, frozenset()))
    assert {p.id for p in people} <= set(first)
    assert first["person:hobart-1"]["name"] == "Hobart 1"

    demo_store.write(
        [
            people[0].model_copy(update={"visibility": Visibility.private}),
            people[1].model_copy(update={"name": "Hobart Renamed"}),
            people[2].model_copy(update={"bio": "Mends bicycles. Then more."}),
        ]
    )
    changed = changed_since(demo_store, seq, demo_store.last_seq())
    assert changed == {"person:hobart-0", "person:hobart-1", "person:hobart-2"}
    ahead = items_of(clusters(demo_store, flt, anyone, view, points, changed))
    assert "person:hobart-0" not in ahead  # private now: its rights read again
    assert ahead["person:hobart-1"]["name"] == "Hobart Renamed"
    assert ahead["person:hobart-2"]["about"] == "Mends bicycles."
    assert ahead["person:hobart-3"] == first["person:hobart-3"]  # unchanged, from the points
    # Without knowing what changed, every item is read from the store.
    assert items_of(clusters(demo_store, flt, anyone, view, points, None)) == ahead

    # Once the feed brings the changes, the points' own items are the new ones.
    follow(demo_store, points, seq)
    after = items_of(clusters(demo_store, flt, anyone, view, points, frozenset()))
    assert after == ahead
    assert after == items_of(clusters(demo_store, flt, anyone, view))


def test_what_changed_is_not_known_past_an_erasure_or_many_changes(demo_store: Store) -> None:
    seq = demo_store.last_seq()
    assert changed_since(demo_store, seq, seq) == frozenset()
    demo_store.write([Person(id="person:hobart-gone", name="Gone", place=HOBART)])
    assert changed_since(demo_store, seq, demo_store.last_seq()) == {"person:hobart-gone"}
    demo_store.delete_node("person:hobart-gone")  # a person's deletion is an erasure
    assert changed_since(demo_store, seq, demo_store.last_seq()) is None
    seq = demo_store.last_seq()
    demo_store.write(
        [Person(id=f"person:hobart-many-{i}", name=f"Many {i}", place=HOBART) for i in range(70)]
    )
    assert changed_since(demo_store, seq, demo_store.last_seq()) is None


def test_items_are_read_ahead_but_those_changed_since(demo_store: Store) -> None:
    """At start every placed node's item is read ahead, a part at a time, except those
    the store changed after the points' version; views then give the store's items."""
    points = MapPoints.from_store(demo_store)
    seq = demo_store.last_seq()
    person = next(node for node in demo_store.iter_nodes(kind="person") if node.place)
    demo_store.write([person.model_copy(update={"name": "Renamed Ahead"})])

    @contextmanager
    def reading() -> Iterator[int]:
        yield seq  # the points' version: the rename is after it

    held = read_items_ahead(demo_store, points, reading, MAP_KINDS)
    left = [row for part in points.rows_without_items(MAP_KINDS, 10**9) for row in part]
    assert held > 500
    assert [points.id_of(row) for row in left] == [person.id]  # the one changed since
    follow(demo_store, points, seq)
    for box, zoom in views(demo_store, seed=13, count=10):
        view = view_of(*box, zoom)
        for audience in audiences(demo_store):
            flt = NodeFilter(MAP_KINDS)
            ours = clusters(demo_store, flt, audience, view, points, frozenset())
            same(ours, clusters(demo_store, flt, audience, view))


def test_masks_asked_for_by_many_requests_at_once_are_each_their_own(demo_store: Store) -> None:
    """Requests of one version share the masks held (at most 16): eight threads asking for
    24 filters and audiences at once, so that masks are held and dropped meanwhile, each
    get the mask of their own filter, and none fails."""
    points = MapPoints.from_store(demo_store)
    kinds = [frozenset({"person"}), frozenset({"initiative"}), MAP_KINDS]
    countries = [None, "US", "KE", "IN"]
    audiences = [ListingAudience(), ListingAudience(VISIBLE_TO["members"])]
    asks = [(NodeFilter(k, None, None, None, c), a) for k in kinds for c in countries
            for a in audiences]  # fmt: skip
    expected = {ask: points._listed(*ask) for ask in asks}
    wrong: list[str] = []

    def ask_all(offset: int) -> None:
        for turn in range(300):
            flt, audience = asks[(offset + turn * 7) % len(asks)]
            try:
                mask = points.listed(flt, audience)
            except Exception as error:  # a thread's failure is the finding
                wrong.append(repr(error))
                continue
            if mask is None or not (mask == expected[flt, audience]).all():
                wrong.append(f"{flt} {audience}")

    switching = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads taking turns as often as they can
    try:
        threads = [threading.Thread(target=ask_all, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switching)
    assert wrong == []
    assert len(points._masks) <= 16
