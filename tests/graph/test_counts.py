"""The counts kept per audience by the change feed equal graph.listing's SQL counts."""

from __future__ import annotations

import pytest

from graph.counts import AUDIENCES, CountAudience, VisibleCounts
from graph.demo import demo_records
from graph.edges import Edge
from graph.feed import ChangeFeed
from graph.listing import count_edges, count_nodes
from graph.model import Community, LocationPrecision, Person, Visibility
from graph.store import Store
from graph.view import GraphView
from graph.visibility import ListingAudience
from tests.conftest import DATA

SQL_AUDIENCE: dict[CountAudience, ListingAudience] = {
    "public": ListingAudience(visibilities=frozenset({"public"})),
    "members": ListingAudience(visibilities=frozenset({"public", "members"})),
    "all": ListingAudience(visibilities=None, include_undiscoverable=True, respect_locality=False),
}


def sql_counts(store: Store, audience: CountAudience) -> dict[str, dict[str, int]]:
    seen = SQL_AUDIENCE[audience]
    return {"nodes": count_nodes(store, seen), "edges": count_edges(store, seen)}


@pytest.fixture
def demo(store: Store) -> Store:
    store.write(list(demo_records(DATA, seed=3, people=150)))
    return store


def follow(store: Store) -> tuple[VisibleCounts, ChangeFeed]:
    view = GraphView.from_store(store)
    counts = VisibleCounts(view)
    return counts, ChangeFeed(store, [view, counts], seq=view.seq)


def assert_same(store: Store, counts: VisibleCounts) -> None:
    for audience in AUDIENCES:
        assert counts.counts(audience) == sql_counts(store, audience), audience


def people(store: Store) -> list[Person]:
    return [n for n in store.iter_nodes() if isinstance(n, Person)]


def test_the_demo_network_has_every_kind_of_hidden_person(demo: Store) -> None:
    found = people(demo)
    assert {str(p.visibility) for p in found} == {"public", "members", "private"}
    assert any(not p.discoverable for p in found)
    assert {str(p.location_precision) for p in found} >= {"exact", "city", "region", "country"}


def test_counts_equal_the_sql_counts_for_every_audience(demo: Store) -> None:
    counts, _ = follow(demo)
    assert_same(demo, counts)
    public, everyone = counts.counts("public"), counts.counts("all")
    assert public["nodes"]["person"] < everyone["nodes"]["person"]
    assert sum(public["edges"].values()) < sum(everyone["edges"].values())


def test_counts_follow_writes_that_change_who_is_seen(demo: Store) -> None:
    counts, feed = follow(demo)
    counts.counts("public")  # kept from here on, moved by each batch
    listed = sorted(
        (p for p in people(demo) if p.discoverable and str(p.visibility) == "public"),
        key=lambda p: p.id,
    )
    hidden = next(p for p in people(demo) if str(p.visibility) == "private")
    first, second, third = listed[:3]
    place = next(n for n in demo.iter_nodes() if isinstance(n, Community))
    writes = [
        lambda: demo.write([first.model_copy(update={"visibility": Visibility.members})]),
        lambda: demo.write([second.model_copy(update={"discoverable": False})]),
        lambda: demo.write([hidden.model_copy(update={"visibility": Visibility.public})]),
        lambda: demo.write(
            [third.model_copy(update={"location_precision": LocationPrecision.country})]
        ),
        lambda: demo.write(
            [
                Person(id="person:new-one", name="New One", location_precision="country"),
                Edge(kind="located_in", source="person:new-one", target=place.id),
                Edge(kind="knows", source="person:new-one", target=first.id),
            ]
        ),
        lambda: demo.delete_edge("person:new-one", "knows", first.id),
        lambda: demo.write(
            [third.model_copy(update={"location_precision": LocationPrecision.exact})]
        ),
        lambda: demo.delete_node(second.id),  # an erasure
        lambda: demo.write([Person(id="person:late", name="Late", visibility="members")]),
    ]
    for write in writes:
        write()
        feed.catch_up()
        assert_same(demo, counts)


def test_a_batch_that_moves_totals_built_meanwhile_is_not_lost(demo: Store) -> None:
    """Totals first built between a batch's prepare and apply are built again."""
    counts, feed = follow(demo)
    demo.write([Person(id="person:quick", name="Quick")])
    feed.step()  # not kept yet: nothing to move
    counts.counts("all")
    demo.write([Person(id="person:quicker", name="Quicker")])
    feed.catch_up()
    assert_same(demo, counts)
