"""The visibility rule on its own: viewers, records, places and links, without the service.

The routes' side of it (every route x viewer x visibility x discoverable) is in
``tests/api/test_visibility_matrix.py``.
"""

from __future__ import annotations

import networkx as nx
import pytest

from graph.model import Community, Contact, Initiative, Node, Person, Place
from graph.view import node_attributes
from graph.visibility import (
    AS_AUDIENCE,
    ListingAudience,
    Role,
    Viewer,
    edge_filter,
    listing_audience,
    may_see_node,
    node_filter,
    present,
    present_recommended,
)

EXACT = Place(name="Midtown", country="US", lat=38.57413, lon=-121.48317)
ANONYMOUS, MEMBER, EDITOR, ADMIN = (Viewer(role=role) for role in Role)
OWNER = Viewer(role=Role.member, person_id="person:p")


def graph_of(*nodes: Node) -> nx.MultiDiGraph:
    """A graph view's graph of these nodes (no edges: the rule reads node attributes)."""
    graph = nx.MultiDiGraph()
    for node in nodes:
        graph.add_node(node.id, **node_attributes(node))
    return graph


def person(visibility: str = "public", discoverable: bool = True) -> Person:
    return Person(id="person:p", name="P", visibility=visibility, discoverable=discoverable,
                  place=EXACT, location_precision="city",
                  contact=Contact(email="p@example.org"))  # fmt: skip


# (visibility, discoverable) -> who reads the record, who finds the person
CASES = [
    ("public", True, {ANONYMOUS, MEMBER, EDITOR, ADMIN, OWNER}, {ANONYMOUS, MEMBER, EDITOR,
                                                                 ADMIN, OWNER}),
    ("public", False, {ANONYMOUS, MEMBER, EDITOR, ADMIN, OWNER}, {ADMIN, OWNER}),
    ("members", True, {MEMBER, EDITOR, ADMIN, OWNER}, {MEMBER, EDITOR, ADMIN, OWNER}),
    ("members", False, {MEMBER, EDITOR, ADMIN, OWNER}, {ADMIN, OWNER}),
    ("private", True, {ADMIN, OWNER}, {ADMIN, OWNER}),
    ("private", False, {ADMIN, OWNER}, {ADMIN, OWNER}),
]  # fmt: skip


@pytest.mark.parametrize(("visibility", "discoverable", "readers", "finders"), CASES)
def test_who_reads_and_who_finds(
    visibility: str, discoverable: bool, readers: set[Viewer], finders: set[Viewer]
) -> None:
    node = person(visibility, discoverable)
    for viewer in (ANONYMOUS, MEMBER, EDITOR, ADMIN, OWNER):
        assert may_see_node(viewer, node, listing=False) is (viewer in readers), viewer
        assert may_see_node(viewer, node, listing=True) is (viewer in finders), viewer


def test_a_graph_walk_and_a_listing_agree_with_the_record_rule() -> None:
    graph = graph_of(person("members", True), Initiative(id="initiative:i", name="I"))
    for viewer in (ANONYMOUS, MEMBER, ADMIN, OWNER):
        allowed = node_filter(viewer, graph)
        assert allowed("person:p") is may_see_node(viewer, person("members"), listing=True)
        assert allowed("initiative:i")
    assert listing_audience(ADMIN) == ListingAudience(None, True, frozenset(), False)
    assert listing_audience(OWNER).own == frozenset({"person:p"})
    assert listing_audience(ANONYMOUS).visibilities == frozenset({"public"})
    assert listing_audience(EDITOR).visibilities == frozenset({"public", "members"})


def test_others_get_no_contact_and_a_coarse_place() -> None:
    node = person()
    for viewer in (ANONYMOUS, MEMBER, EDITOR, *AS_AUDIENCE.values()):
        shown = present(node, viewer)
        assert "contact" not in shown
        assert shown["place"]["lat"] != EXACT.lat and shown["place"]["lon"] != EXACT.lon
    for viewer in (OWNER, ADMIN):
        shown = present(node, viewer)
        assert shown["contact"] == {"email": "p@example.org"}
        assert (shown["place"]["lat"], shown["place"]["lon"]) == (EXACT.lat, EXACT.lon)
        assert "contact" not in present_recommended(node, viewer)


@pytest.mark.parametrize(
    ("scope", "precision", "shown"),
    [("neighbourhood", "city", False), ("city", "city", True), ("city", "region", False),
     ("region", "region", True), ("country", "exact", True), ("neighbourhood", "exact", True)],
)  # fmt: skip
def test_a_link_to_a_community_finer_than_shared_is_hidden_but_from_owner_and_admins(
    scope: str, precision: str, shown: bool
) -> None:
    member = Person.model_validate(person().model_dump() | {"location_precision": precision})
    graph = graph_of(member, Community(id="community:c", name="C", scope=scope))
    for viewer in (ANONYMOUS, MEMBER, EDITOR):
        assert edge_filter(viewer, graph)("person:p", "located_in", "community:c") is shown
        assert edge_filter(viewer, graph)("person:p", "works_on", "community:c")
    for viewer in (OWNER, ADMIN):
        assert edge_filter(viewer, graph)("person:p", "member_of", "community:c")
