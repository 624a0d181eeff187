from __future__ import annotations

import pytest

from graph.listing import NodeFilter, list_nodes
from graph.model import Person
from graph.store import Store
from graph.visibility import ListingAudience as Audience

PUBLIC = Audience()
MEMBERS = Audience(visibilities=frozenset({"public", "members"}))
EVERYONE = Audience(visibilities=None, include_undiscoverable=True)


def ids(store: Store, flt: NodeFilter, audience: Audience = EVERYONE, **page: int) -> list[str]:
    return [node.id for node in list_nodes(store, flt, audience, **page).items]


def test_filters_by_kind_sector_sdg_community_country_and_name(network: Store) -> None:
    people = frozenset({"person"})
    assert ids(network, NodeFilter(kinds=people)) == ["person:ahmed", "person:lena", "person:maria"]
    assert ids(network, NodeFilter(sector="sector:peace")) == ["initiative:safe-streets"]
    content = frozenset({"initiative", "person"})
    assert ids(network, NodeFilter(kinds=content, sdg="sdg:16")) == ["initiative:safe-streets"]
    assert ids(network, NodeFilter(kinds=people, community="community:capital-region")) == [
        "person:maria"  # located in Sacramento, which is part of the region
    ]
    assert ids(network, NodeFilter(country="us", kinds=people)) == ["person:maria"]
    assert ids(network, NodeFilter(name_prefix="LEN")) == ["person:lena"]
    assert ids(network, NodeFilter(name_prefix="%")) == []


def test_a_goal_matches_what_addresses_its_targets(network: Store) -> None:
    network.upsert(Person(id="person:tess", name="Tess"))
    from graph.edges import Edge

    network.upsert(Edge(kind="interested_in", source="person:tess", target="sdg_target:4.1"))
    assert ids(network, NodeFilter(kinds=frozenset({"person"}), sdg="sdg:4")) == ["person:tess"]


def test_privacy_is_applied_before_paging(network: Store) -> None:
    network.upsert(Person(id="person:hidden", name="Hidden", discoverable=False))
    network.upsert(Person(id="person:secret", name="Secret", visibility="private"))
    people = NodeFilter(kinds=frozenset({"person"}))
    page = list_nodes(network, people, PUBLIC, limit=1)
    assert [n.id for n in page.items] == ["person:lena"]
    assert page.total == 2  # ahmed is members-only, hidden and secret are not listed
    assert ids(network, people, MEMBERS) == ["person:ahmed", "person:lena", "person:maria"]
    own = Audience(own=frozenset({"person:secret"}))
    assert "person:secret" in ids(network, people, own)
    assert len(ids(network, people, EVERYONE)) == 5


@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_offset_and_cursor_paging_agree(network: Store, size: int) -> None:
    flt = NodeFilter(kinds=frozenset({"person", "initiative", "community"}))
    everything = ids(network, flt, limit=100)
    by_offset: list[str] = []
    by_cursor: list[str] = []
    after = None
    while True:
        page = list_nodes(network, flt, EVERYONE, limit=size, after=after)
        by_cursor += [n.id for n in page.items]
        if page.next_after is None:
            break
        after = page.next_after
    for offset in range(0, len(everything), size):
        by_offset += ids(network, flt, limit=size, offset=offset)
    assert by_offset == by_cursor == everything
    assert list_nodes(network, flt, EVERYONE, limit=size).total == len(everything)


@pytest.mark.parametrize("audience", [PUBLIC, MEMBERS], ids=["public", "members"])
def test_a_viewer_s_own_profile_is_counted_beside_the_shared_total(
    network: Store, audience: Audience
) -> None:
    from graph.edges import Edge

    network.upsert(Person(id="person:secret", name="Secret", visibility="private"))
    network.upsert(Person(id="person:hidden", name="Hidden", discoverable=False))
    network.upsert(Person(id="person:open", name="Open"))
    for person in ("secret", "hidden", "open"):
        network.upsert(Edge(kind="interested_in", source=f"person:{person}",
                            target="sector:peace"))  # fmt: skip
    filters = [
        NodeFilter(kinds=frozenset({"person"})),
        NodeFilter(kinds=frozenset({"person"}), sector="sector:peace"),
        NodeFilter(sector="sector:peace"),
        NodeFilter(kinds=frozenset({"initiative"})),  # the viewer's own is not among them
        NodeFilter(name_prefix="se"),
        NodeFilter(country="US"),
    ]
    for own in ("person:secret", "person:hidden", "person:open", "person:maria"):
        viewer = Audience(audience.visibilities, own=frozenset({own}))
        for flt in filters:
            list_nodes(network, flt, audience)  # the shared count, as the warmer makes it
            page = list_nodes(network, flt, viewer, limit=200)
            assert page.total == len(page.items), (own, flt)  # the page applies the rule
            unshared = list_nodes(network, flt, audience, limit=200).items
            mine = {n.id for n in page.items} - {n.id for n in unshared}
            assert mine <= {own}, (own, flt)
    secret = Audience(audience.visibilities, own=frozenset({"person:secret"}))
    peace = NodeFilter(kinds=frozenset({"person"}), sector="sector:peace")
    shared = list_nodes(network, peace, audience).total
    assert list_nodes(network, peace, secret).total == shared + 1
