"""Sector analytics on small hand-built networks, where every figure can be worked out by hand."""

from __future__ import annotations

import json
from collections.abc import Iterable

import numpy as np
import pytest

from graph.analytics import SectorAnalytics, councils, gaps, groups, load_regions, synergies
from graph.analytics.bridges import explain_bridge, explain_failure_point, sector_bridges
from graph.analytics.councils import explain_proposal, explain_seat
from graph.analytics.gaps import explain_gap, sector_gaps
from graph.analytics.snapshot import build_places, build_snapshot
from graph.analytics.synergies import PER_NODE, explain_synergy, sector_synergies
from graph.edges import Edge
from graph.feed import ChangeFeed
from graph.model import Community, Council, Initiative, Node, Person, Place
from graph.similarity import VectorSimilarity
from graph.store import Store
from graph.view import GraphView
from tests.conftest import DATA

DAVIS = Place(name="Davis", country="US", region="Northern America", lat=38.54, lon=-121.74)
NAIROBI = Place(name="Nairobi", country="KE", region="Africa", lat=-1.29, lon=36.82)
DELHI = Place(name="Delhi", country="IN", region="Asia", lat=28.61, lon=77.21)
LIMA = Place(name="Lima", country="PE", region="Latin America and the Caribbean", lat=-12.05,
             lon=-77.04)  # fmt: skip
REGIONS = load_regions(DATA)
Record = Node | Edge


def person(
    slug: str,
    sectors: Iterable[str],
    sdgs: Iterable[int] = (),
    *,
    place: Place | None = DAVIS,
    knows: Iterable[str] = (),
    **fields: object,
) -> list[Record]:
    """A person with their interests (sectors and goals) and whom they know."""
    pid = f"person:{slug}"
    records: list[Record] = [Person(id=pid, name=slug.title(), place=place, **fields)]
    records += [Edge(kind="interested_in", source=pid, target=f"sector:{s}") for s in sectors]
    records += [Edge(kind="interested_in", source=pid, target=f"sdg:{g}") for g in sdgs]
    records += [Edge(kind="knows", source=pid, target=f"person:{o}") for o in knows]
    return records


def initiative(
    slug: str, sectors: Iterable[str], sdgs: Iterable[int], **fields: object
) -> list[Record]:
    iid = f"initiative:{slug}"
    records: list[Record] = [Initiative(id=iid, name=slug.replace("-", " ").title(), **fields)]
    records += [Edge(kind="in_sector", source=iid, target=f"sector:{s}") for s in sectors]
    records += [Edge(kind="addresses", source=iid, target=f"sdg:{g}") for g in sdgs]
    return records


def view_of(store: Store, *records: Record) -> GraphView:
    store.write(records)
    return GraphView.from_store(store)


def names_of(store: Store, ids: Iterable[str]) -> dict[str, str]:
    return {i: n.name for i, n in store.get_nodes(ids).items()}


# -- what counts ------------------------------------------------------------------


def test_the_snapshot_counts_only_people_the_audience_may_list(store: Store) -> None:
    view = view_of(
        store,
        *person("pia", ["education"], [4]),
        *person("mo", ["education"], [4], visibility="members"),
        *person("pri", ["education"], [4], visibility="private"),
        *person("shy", ["education"], [4], discoverable=False),
    )
    public = build_snapshot(view.graph, seq=view.seq, audience="public", regions=REGIONS)
    members = build_snapshot(view.graph, seq=view.seq, audience="members", regions=REGIONS)
    assert public.in_sector("sector:education", ["person"]) == ["person:pia"]
    assert members.in_sector("sector:education", ["person"]) == ["person:mo", "person:pia"]
    assert {"person:pri", "person:shy"} <= members.hidden
    assert public.sdgs_of("person:pia") == ["sdg:4"]
    assert "person:pri" not in members.sdg_mask and "person:pri" not in members.sector_mask


def test_a_council_seat_puts_a_person_in_the_councils_sector(store: Store) -> None:
    view = view_of(
        store,
        Council(id="council:health-global-council", name="Health Global Council"),
        Edge(kind="in_sector", source="council:health-global-council", target="sector:health"),
        *person("cora", ["education"]),
        Edge(kind="member_of", source="person:cora", target="council:health-global-council"),
    )
    snap = build_snapshot(view.graph, seq=view.seq, audience="public", regions=REGIONS)
    assert snap.sectors_of("person:cora") == ["sector:education", "sector:health"]


def test_community_links_never_place_a_person_finer_than_they_share(store: Store) -> None:
    view = view_of(
        store,
        Community(id="community:capital-region", name="Capital Region", scope="region"),
        Community(id="community:davis", name="Davis", scope="city", place=DAVIS),
        Edge(kind="part_of", source="community:davis", target="community:capital-region"),
        *person("cy", ["education"], place=None, location_precision="city"),
        *person("reg", ["education"], place=None, location_precision="region"),
        Edge(kind="located_in", source="person:cy", target="community:davis"),
        Edge(kind="located_in", source="person:reg", target="community:davis"),
    )
    snap = build_snapshot(view.graph, seq=view.seq, audience="public", regions=REGIONS)
    places = build_places(view.graph, snap)
    # A city-level link counts, with the region it is part of.
    assert places.communities["person:cy"] == {"community:davis", "community:capital-region"}
    assert places.region_of("person:cy", snap.region_names) == "Northern America"
    # A link to a city would place someone who shares only their region: not used at all.
    assert "person:reg" not in places.communities
    assert places.region_of("person:reg", snap.region_names) is None


def test_the_regions_file_agrees_with_the_places_of_the_demo() -> None:
    places = json.loads((DATA / "places.json").read_text(encoding="utf-8"))
    assert len(REGIONS.names) == 6
    for place in places:
        assert REGIONS.names[REGIONS.index(place["country"])] == place["region"], place["slug"]
    assert REGIONS.index("AQ") == -1 and REGIONS.index(None) == -1


# -- overlap --------------------------------------------------------------------------


def overlap_world(store: Store) -> tuple[GraphView, VectorSimilarity]:
    """Education shares goals, people and words with Restorative Justice, not with Business."""
    records: list[Record] = []
    records += initiative("circles-in-schools", ["education"], [4, 16])
    records += initiative("reading-club", ["education"], [4])
    records += initiative("restorative-conferences", ["restorative-justice"], [16, 4])
    records += initiative("micro-loans", ["business"], [8])
    records += initiative("coop-bakery", ["business"], [8, 9])
    records += person("ada", ["education", "restorative-justice"], [4, 16])
    records += person("ben", ["education", "restorative-justice"], [4])
    records += person("cy", ["education"], [4])
    records += person("dora", ["business"], [8])
    records += person("eli", ["business", "education"], [8])
    vectors = {
        "initiative:circles-in-schools": [1.0, 0.8, 0.0],
        "initiative:reading-club": [1.0, 0.2, 0.0],
        "initiative:restorative-conferences": [0.6, 1.0, 0.0],
        "initiative:micro-loans": [0.0, 0.0, 1.0],
        "initiative:coop-bakery": [0.1, 0.0, 1.0],
    }
    return view_of(store, *records), VectorSimilarity(vectors)


def test_education_overlaps_restorative_justice_more_than_business(store: Store) -> None:
    view, similarity = overlap_world(store)
    engine = SectorAnalytics(store, view, REGIONS)
    found = engine.overlap("public", similarity).value
    at = found.sectors.index
    edu, rj, biz = at("sector:education"), at("sector:restorative-justice"), at("sector:business")
    assert len(found.sectors) == 12 and found.matrix.shape == (12, 12)
    assert np.allclose(found.matrix, found.matrix.T) and np.allclose(np.diag(found.matrix), 1)
    assert ((found.matrix >= 0) & (found.matrix <= 1)).all()
    assert found.matrix[edu, rj] > found.matrix[edu, biz]
    for name in ("sdgs", "people", "content"):
        assert found.components[name][edu, rj] > found.components[name][edu, biz], name
    assert found.shared_people[edu, rj] == 2 and found.shared_people[edu, biz] == 1
    why = found.cell(edu, rj, engine.names(found.sectors + found.sdgs))["explanation"]
    assert [s["number"] for s in why["shared_sdgs"]][:2] == [4, 16]
    assert why["summary"].startswith("Education and Restorative Justice overlap")
    assert (
        "SDG 4 Quality education" in why["summary"] and "2 people belong to both" in why["summary"]
    )


def test_figures_are_cached_per_view_version_and_follow_writes(store: Store) -> None:
    view, similarity = overlap_world(store)
    feed = ChangeFeed(store, [view], seq=view.seq)
    engine = SectorAnalytics(store, view, REGIONS)
    first = engine.overlap("public", similarity).value
    assert engine.overlap("public", similarity).value is first
    store.write(person("fay", ["business", "restorative-justice"], [8]))
    assert engine.overlap("public", similarity).value is first  # until the feed applies the write
    feed.catch_up()
    again = engine.overlap("public", similarity).value
    assert again is not first
    at = again.sectors.index
    assert again.shared_people[at("sector:business"), at("sector:restorative-justice")] == 1


# -- synergies ---------------------------------------------------------------------------


def test_synergies_pair_sectors_that_share_a_goal_or_a_place(store: Store) -> None:
    records: list[Record] = [Community(id="community:davis", name="Compassionate Davis",
                                       place=DAVIS)]  # fmt: skip
    records += initiative("reading-club", ["education"], [4])
    records += initiative("school-garden", ["education"], [2])
    records += initiative("clinic-library", ["health"], [4])
    records += initiative("food-bank", ["health"], [1])
    records += initiative("both-ways", ["education", "health"], [4])
    records.append(Edge(kind="located_in", source="initiative:school-garden",
                        target="community:davis"))  # fmt: skip
    records.append(Edge(kind="located_in", source="initiative:food-bank",
                        target="community:davis"))  # fmt: skip
    view = view_of(store, *records)
    similarity = VectorSimilarity({
        "initiative:reading-club": [1.0, 0.1], "initiative:school-garden": [0.5, 0.5],
        "initiative:clinic-library": [0.9, 0.3], "initiative:food-bank": [0.2, 1.0],
        "initiative:both-ways": [1.0, 0.0],
    })  # fmt: skip
    snap = build_snapshot(view.graph, seq=view.seq, audience="public", regions=REGIONS)
    places = build_places(view.graph, snap)
    pairs = sector_synergies(view.graph, snap, places, similarity, "sector:education",
                             other="sector:health", kind="initiative")  # fmt: skip
    assert [(p.a, p.b) for p in pairs] == [
        ("initiative:reading-club", "initiative:clinic-library"),  # SDG 4, close texts
        ("initiative:school-garden", "initiative:food-bank"),  # both in Davis
    ]
    assert pairs[0].score > pairs[1].score
    names = names_of(store, [*snap.sectors, *snap.sdgs, "community:davis",
                             *(i for p in pairs for i in (p.a, p.b))])  # fmt: skip
    why = explain_synergy(pairs[1], "sector:education", names, people=False)
    assert why["summary"] == (
        "School Garden (Education) and Food Bank (Health) are both linked to Compassionate "
        "Davis and describe very similar work."
    )
    assert why["shared_communities"] == [{"id": "community:davis", "name": "Compassionate Davis"}]
    first = explain_synergy(pairs[0], "sector:education", names, people=False)
    assert first["shared_sdgs"] == [{"id": "sdg:4", "number": 4, "name": "Quality education"}]


def test_one_node_appears_in_a_few_pairs_at_most(store: Store) -> None:
    records = initiative("hub", ["education"], [4])
    vectors = {"initiative:hub": [1.0, 0.0]}
    for n in range(6):
        records += initiative(f"clinic-{n}", ["health"], [4])
        vectors[f"initiative:clinic-{n}"] = [1.0, 0.1 * n]
    view = view_of(store, *records)
    snap = build_snapshot(view.graph, seq=view.seq, audience="public", regions=REGIONS)
    pairs = sector_synergies(view.graph, snap, build_places(view.graph, snap),
                             VectorSimilarity(vectors), "sector:education", other=None,
                             kind="initiative")  # fmt: skip
    assert len(pairs) == PER_NODE
    assert [p.b for p in pairs] == ["initiative:clinic-0", "initiative:clinic-1",
                                    "initiative:clinic-2"]  # fmt: skip


# -- bridges -------------------------------------------------------------------------------


def bridge_world(store: Store) -> GraphView:
    """Education's people: a triangle (ada, ben, fay), cai hanging on ben, gus on ada.

    cai also cares about Health; gus knows Pia, who is in Peace. Hid (private) would be a
    second link to Health, but nobody may list them.
    """
    return view_of(
        store,
        *person("ada", ["education"], knows=[]),
        *person("ben", ["education"], knows=["ada"]),
        *person("fay", ["education"], knows=["ada", "ben"]),
        *person("cai", ["education", "health"], knows=["ben"]),
        *person("pia", ["peace"]),
        *person("gus", ["education"], knows=["ada", "pia"]),
        *person("hid", ["education", "health"], knows=["fay"], visibility="private"),
    )


def test_bridges_and_single_points_of_failure(store: Store) -> None:
    view = bridge_world(store)
    snap = build_snapshot(view.graph, seq=view.seq, audience="members", regions=REGIONS)
    found = sector_bridges(view.graph, snap, "sector:education")
    # Worked out by hand: from Health (entered at cai) ada passes 1 path on, ben 3, cai 4;
    # from Peace (entered at gus) ben 1, ada 3, gus 4. fay is nobody's way in.
    paths = {b.node: (b.paths, dict(b.by_sector)) for b in found.bridges}
    assert paths == {
        "person:ada": (4.0, {"sector:peace": 3.0, "sector:health": 1.0}),
        "person:ben": (4.0, {"sector:health": 3.0, "sector:peace": 1.0}),
        "person:cai": (4.0, {"sector:health": 4.0}),
        "person:gus": (4.0, {"sector:peace": 4.0}),
    }
    assert [b.node for b in found.bridges] == ["person:ada", "person:ben", "person:cai",
                                               "person:gus"]  # fmt: skip
    points = {p.node: p.sectors for p in found.failure_points}
    assert points == {
        "person:ada": ("sector:peace",), "person:gus": ("sector:peace",),
        "person:ben": ("sector:health",), "person:cai": ("sector:health",),
    }  # fmt: skip
    assert set(found.linked) == {"sector:health", "sector:peace"}
    assert "sector:arts" in found.unlinked
    names = names_of(store, [*snap.sectors, "person:cai"])
    cai = next(b for b in found.bridges if b.node == "person:cai")
    assert explain_bridge(cai, "sector:education", names, person=True)["summary"] == (
        "Cai links Education with Health: more of the shortest routes from those sectors "
        "into Education pass through them than through anyone else; they belong to Health "
        "as well."
    )
    point = next(p for p in found.failure_points if p.node == "person:cai")
    assert explain_failure_point(point, "sector:education", names)["summary"] == (
        "Without Cai, Health would lose its last link to the core of Education: every path "
        "between them passes through Cai."
    )


def test_a_hidden_person_is_no_bridge_and_opens_no_path(store: Store) -> None:
    view = bridge_world(store)
    for audience in ("public", "members"):
        snap = build_snapshot(view.graph, seq=view.seq, audience=audience, regions=REGIONS)
        found = sector_bridges(view.graph, snap, "sector:education")
        named = {b.node for b in found.bridges} | {p.node for p in found.failure_points}
        assert "person:hid" not in named
        assert found.size == 5  # ada, ben, cai, fay, gus


# -- gaps ---------------------------------------------------------------------------------


def test_a_gap_is_a_key_goal_missing_where_the_network_is(store: Store) -> None:
    records: list[Record] = []
    for n in range(4):  # Education works on SDG 4 in Davis only
        records += person(f"us{n}", ["education"], [4], place=DAVIS)
    records += person("ke0", ["education"], [4, 1], place=NAIROBI)
    for n in range(4):  # half the network lives in Nairobi
        records += person(f"ke{n + 1}", ["health"], [3], place=NAIROBI)
    records += person("in0", ["health"], [3], place=DELHI)
    view = view_of(store, *records)
    snap = build_snapshot(view.graph, seq=view.seq, audience="public", regions=REGIONS)
    gaps = sector_gaps(snap, build_places(view.graph, snap), "sector:education")
    g4, africa = gaps.sdgs.index("sdg:4"), gaps.regions.index("Africa")
    america = gaps.regions.index("Northern America")
    assert gaps.counts[g4, america] == 4 and gaps.counts[g4, africa] == 1
    assert gaps.key_sdgs == ("sdg:4", "sdg:1")
    # 5 units of SDG 4, Africa holds 5 of the 10 people: 2.5 expected, 1 found.
    assert gaps.expected[g4, africa] == pytest.approx(2.5)
    assert gaps.gaps()[0] == (g4, africa)
    assert not gaps.is_gap(g4, america)
    names = names_of(store, [*snap.sectors, *snap.sdgs])
    why = explain_gap(gaps, g4, africa, names)["explanation"]
    assert why["summary"].startswith("SDG 4 Quality education in Africa: Education has 1 person")
    assert "Africa holds 50% of the network but 20% of Education's work" in why["summary"]


# -- groups (their labels: test_labels.py) ------------------------------------------------


def group_world(store: Store) -> tuple[GraphView, VectorSimilarity]:
    """Two circles of Education people: restorative practice in Africa, coding in Asia."""
    records: list[Record] = []
    vectors: dict[str, list[float]] = {}
    for n in range(5):
        circle, coding = [f"rj{(n + 1) % 5}"], [f"code{(n + 1) % 5}"]
        records += person(f"rj{n}", ["education"], [16], place=NAIROBI, knows=circle,
                          interests=["restorative circles"])  # fmt: skip
        records += person(f"code{n}", ["education"], [4, 9], place=DELHI, knows=coding,
                          interests=["coding clubs"])  # fmt: skip
        vectors[f"person:rj{n}"] = [1.0, 0.05 * n]
        vectors[f"person:code{n}"] = [0.05 * n, 1.0]
    return view_of(store, *records), VectorSimilarity(vectors)


def test_groups_are_labelled_stable_and_say_where_they_are(store: Store) -> None:
    view, similarity = group_world(store)
    engine = SectorAnalytics(store, view, REGIONS)
    found = engine.groups("public", similarity, "sector:education").value
    again = (
        SectorAnalytics(store, view, REGIONS).groups("public", similarity, "sector:education").value
    )
    assert found == again
    assert [sorted(g.members) for g in found.groups] == [
        [f"person:code{n}" for n in range(5)],
        [f"person:rj{n}" for n in range(5)],
    ]
    coding, circles = found.groups
    assert coding.terms[0][0] == "coding clubs" and circles.terms[0][0] == "restorative circles"
    assert coding.regions == (("Asia", 1.0),) and circles.sdgs == (("sdg:16", 1.0),)


# -- councils -------------------------------------------------------------------------------


def council_world(store: Store) -> list[Record]:
    records: list[Record] = []
    for region, place in (("us", DAVIS), ("ke", NAIROBI), ("in", DELHI), ("pe", LIMA)):
        for n in range(3):
            records += person(f"{region}{n}", ["education"], [4 if n else 10], place=place,
                              knows=[f"{region}{(n + 1) % 3}"])  # fmt: skip
    records += person("boss", ["education"], [4], place=DAVIS, board_member=True,
                      knows=["us0"])  # fmt: skip
    records += person("shy-boss", ["education"], [4], place=LIMA, board_member=True,
                      discoverable=False)  # fmt: skip
    records += person("busy", ["education"], [5], place=LIMA, open_to_collaborate=False)
    return records


def test_a_proposed_council_has_a_board_member_and_covers_the_regions(store: Store) -> None:
    view = view_of(store, *council_world(store))
    similarity = VectorSimilarity({})
    engine = SectorAnalytics(store, view, REGIONS)
    proposal = engine.propose("public", similarity, "sector:education", size=5).value
    seated = [s.candidate.node for s in proposal.seats]
    assert len(seated) == 5 and seated[0] == "person:boss" and proposal.board_member
    assert "person:shy-boss" not in seated and "person:busy" not in seated
    assert proposal.covered["regions"] == list(proposal.regions)
    assert set(proposal.regions) == {"Northern America", "Africa", "Asia",
                                     "Latin America and the Caribbean"}  # fmt: skip
    # Only Busy works on SDG 5, and Busy is not open to collaborate: it stays uncovered.
    assert proposal.uncovered["sdgs"] == ["sdg:5"] and proposal.uncovered["regions"] == []
    assert engine.propose("public", similarity, "sector:education", size=5).value == proposal
    names = names_of(store, [*view.graph.nodes])
    assert explain_seat(proposal.seats[0], proposal, names)["summary"].startswith(
        "Boss (board member) brings Northern America"
    )
    assert explain_proposal(proposal, names).startswith(
        "5 people for the Education council with a board member, covering 4 of 4 regions"
    )
    # Excluding the board member leaves nobody for the board seat, and says so.
    without = engine.propose("public", similarity, "sector:education", size=5,
                             exclude=["person:boss"]).value  # fmt: skip
    assert not without.board_member and "person:boss" not in [
        s.candidate.node for s in without.seats
    ]
    assert "no board member" in explain_proposal(without, names)
    with pytest.raises(ValueError, match="size must be 5 to 8"):
        engine.propose("public", similarity, "sector:education", size=9)


def test_an_empty_sector_gives_empty_figures_not_errors(store: Store) -> None:
    view = view_of(store, *person("ada", ["education"], [4]))
    engine = SectorAnalytics(store, view, REGIONS)
    similarity = VectorSimilarity({"person:ada": [1.0, 0.0]})
    for kind in ("initiative", "person", "wisdom_entry"):
        assert (
            engine.synergies("public", similarity, "sector:arts", other=None, kind=kind).value == []
        )
    assert engine.bridges("public", "sector:arts").value.bridges == ()
    assert engine.groups("public", similarity, "sector:arts").value.groups == ()
    assert not engine.gaps("public", "sector:arts").value.gaps()
    proposal = engine.propose("public", similarity, "sector:arts", size=5).value
    assert proposal.seats == () and not proposal.board_member


def test_the_councils_doc_states_the_constants_the_code_uses() -> None:
    doc = (DATA.parent / "docs" / "councils.md").read_text(encoding="utf-8")
    w, g = synergies.WEIGHTS, councils.GAINS
    stated = [
        f"{w['content']} * content + {w['sdgs']} * sdgs + {w['communities']} * communities",
        f"{synergies.SIDE_CAP[0]:,}\nmost connected nodes of the sector's side and "
        f"{synergies.SIDE_CAP[1]:,} of the other side",
        f"at most {synergies.PER_NODE} pairs",
        f"the {synergies.MAX_PAIRS} best pairs",
        f"{g['region']} x new region + {g['sdgs']} x new key goals (at most 2) + "
        f"{g['group']} x new group + {g['reach']} x reach",
        f"than {groups.NODE_CAP:,} nodes",
        f"cosine at least {groups.MIN_SIMILARITY}",
        f"least {gaps.KEY_SHARE:.0%} of its placed activity",
    ]
    flat = " ".join(doc.split())
    for phrase in stated:
        assert " ".join(phrase.split()) in flat, phrase
