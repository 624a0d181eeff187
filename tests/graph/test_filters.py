from __future__ import annotations

import networkx as nx
import pytest

from graph.edges import Edge
from graph.filters import Near, SearchFilter, matching_ids
from graph.geo import distance_band, haversine_km, public_place
from graph.model import Initiative, LocationPrecision, Person, Place
from graph.store import Store
from graph.view import GraphView

SAC = Place(name="Sacramento", country="US", region="Northern America", lat=38.5816, lon=-121.4944)


@pytest.fixture
def graph(network: Store) -> nx.MultiDiGraph:
    network.write([
        Person(id="person:near", name="Near", place=SAC, location_precision="exact"),
        Person(id="person:far", name="Far", location_precision="exact",
               place=Place(country="JP", lat=35.68, lon=139.69)),
        Initiative(id="initiative:closed", name="Closed", active=False),
        Edge(kind="interested_in", source="person:near", target="sdg_target:16.1"),
    ])  # fmt: skip
    return GraphView.from_store(network).graph


def test_no_filter_means_everything(graph: nx.MultiDiGraph) -> None:
    assert matching_ids(graph, SearchFilter()) is None


def test_filters_combine(graph: nx.MultiDiGraph) -> None:
    people = frozenset({"person"})
    assert matching_ids(graph, SearchFilter(kinds=people, sdg="sdg:16")) == {"person:near"}
    found = matching_ids(graph, SearchFilter(kinds=frozenset({"initiative"}), sdg="sdg:16"))
    assert found == {"initiative:safe-streets"}
    assert matching_ids(graph, SearchFilter(sector="sector:peace")) == {"initiative:safe-streets"}
    assert matching_ids(graph, SearchFilter(kinds=people, country="jp")) == {"person:far"}
    closed = matching_ids(graph, SearchFilter(kinds=frozenset({"initiative"}), active=False))
    assert closed == {"initiative:closed"}
    local = matching_ids(graph, SearchFilter(kinds=people, community="community:capital-region"))
    assert local == {"person:maria"}


def test_radius_uses_public_coordinates(graph: nx.MultiDiGraph) -> None:
    near = Near(38.58, -121.49, 5)
    assert matching_ids(graph, SearchFilter(kinds=frozenset({"person"}), near=near)) == {
        "person:maria", "person:near",  # Maria shares her city: her cell centre is ~4 km away
    }  # fmt: skip
    # Across the antimeridian: Tokyo is 6,000+ km from Hawaii but within 8,000.
    hawaii = Near(21.3, -157.8, 8_000)
    assert "person:far" in matching_ids(graph, SearchFilter(near=hawaii))  # type: ignore[operator]


@pytest.mark.parametrize(
    ("precision", "expected"),
    [
        ("exact", (38.5816, -121.4944, "Sacramento")),
        ("city", (38.55, -121.45, "Sacramento")),
        ("region", (38.5, -121.5, None)),
        ("country", (None, None, None)),
    ],
)
def test_public_place(precision: str, expected: tuple[object, object, object]) -> None:
    shown = public_place(SAC, LocationPrecision(precision))
    assert (shown.lat, shown.lon, shown.name) == expected
    assert shown.country == "US"


def test_distances_and_bands() -> None:
    assert haversine_km(38.58, -121.49, 38.58, -121.49) == 0
    assert round(haversine_km(38.5816, -121.4944, 37.7749, -122.4194)) == 121  # to San Francisco
    assert distance_band(4) == "within 10 km"
    assert distance_band(121) == "within 200 km"
    assert distance_band(5000) == "over 1000 km"
