"""Per-version structures carried over a write that did not touch what they read.

After each kind of write (a new bio, a link between two people, joining and leaving a
sector, going private, a new place, a board seat and leaving it, an initiative's
deletion, a person's erasure), every sector's council proposal, groups and bridges and
the recommender's caches, as the service holds them after the write (carried over or
computed again), equal those computed from nothing on the same version; and the quiet
writes carry most of them over instead of computing them.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from api.analytics import analytics
from api.auth import Caller, Role
from api.matching import MatchingService
from api.services import Services
from api.warmup import Warmer
from graph.analytics import SectorAnalytics, load_regions
from graph.analytics.councils import DEFAULT_SIZE, board_members
from graph.analytics.shared import SharedFigures
from graph.demo import demo_records
from graph.edges import Edge
from graph.feed import ChangeBatch
from graph.matching.cowork import CoWork
from graph.matching.features import summarise
from graph.model import Person
from graph.store import Change
from graph.touches import Touches, _sectors_of
from tests.api.conftest import _settings
from tests.conftest import DATA

AUDIENCE = "members"
CALLERS = {"public": Caller(), "members": Caller(role=Role.member), "all": Caller(role=Role.admin)}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, reference_index: Path) -> Iterator[Services]:
    data_dir = tmp_path_factory.mktemp("carry") / "var"
    shutil.copytree(reference_index, data_dir / "index")
    services = Services.start(_settings(data_dir), follow=False)
    services.store.write(demo_records(DATA, seed=5, people=200))
    services.catch_up()
    yield services
    services.close()


def sectors(services: Services) -> list[str]:
    return sorted(n for n, a in services.view.graph.nodes(data=True) if a["kind"] == "sector")


def people_in(services: Services, sector: str) -> list[str]:
    graph = services.view.graph
    return sorted(p for p in graph.predecessors(sector) if p.startswith("person:"))


def changed(services: Services, node_id: str, **fields: Any) -> Person:
    """A person's record with ``fields`` changed (validated as a new record is)."""
    found = services.store.get_nodes([node_id])[node_id]
    assert isinstance(found, Person)
    return Person.model_validate({**found.model_dump(), **fields})


def warm(services: Services) -> dict[str, int]:
    """What the warmer does after a write: every sector's proposal carried or computed;
    how many of each."""
    engine = analytics(services)
    carried, runs = engine.carried, engine.background_runs
    with services.feed.lock.read():
        for sector in sectors(services):
            engine.warm_proposal(AUDIENCE, services.similarity, sector)
    assert engine.settle(300)
    return {"carried": engine.carried - carried, "computed": engine.background_runs - runs}


def assert_as_if_from_nothing(services: Services, matching: MatchingService) -> None:
    """The held figures and caches equal those of a service that computes everything now."""
    engine = analytics(services)
    fresh = SectorAnalytics(services.store, services.view, load_regions(DATA))
    seq = services.view.seq
    # The board, carried from version to version, is the one every record says.
    assert engine._board(seq) == board_members(services.store)
    with services.feed.lock.read():
        for sector in sectors(services):
            held = engine._figures[("council", AUDIENCE, sector, DEFAULT_SIZE, ())]
            assert held.seq == seq, sector
            now = fresh.propose(AUDIENCE, services.similarity, sector).value
            assert held.value == now, sector
            for what in ("groups", "bridges"):
                part = engine._figures.get((what, AUDIENCE, sector))
                if part is not None and part.seq == seq:
                    again: Any = (
                        fresh.groups(AUDIENCE, services.similarity, sector)
                        if what == "groups"
                        else fresh.bridges(AUDIENCE, sector)
                    )
                    assert part.value == again.value, (what, sector)
        kept = matching._current()
        for audience in ("public", "members"):
            matching._people(kept, audience)
        matching._initiatives(kept)
        new = MatchingService(services)
        built = new._current()
        for audience in ("public", "members"):
            a, b = kept.people[audience], new._people(built, audience)
            assert a.ids == b.ids, audience
            assert dict(zip(a.placed, zip(a.lat, a.lon, strict=True), strict=True)) == dict(
                zip(b.placed, zip(b.lat, b.lon, strict=True), strict=True)
            )
        assert kept.initiatives == new._initiatives(built)
        with services.feed.lock.read():
            matching.warm()  # every node's degree: after a carry-over, the changed ones'
        assert kept.degrees._seen == {node: built.degrees(node) for node in services.view.graph}


def recommend_some(services: Services, matching: MatchingService) -> None:
    """Collaborators for some people, as each audience: the hubs' members they read are
    kept for the version (and carried over to the next), with the candidates' summaries."""
    graph = services.view.graph
    people = sorted(n for n in graph if n.startswith("person:"))[:40:4]
    with services.feed.lock.read():
        for caller in CALLERS.values():
            for person in people:
                if person in graph:
                    matching.recommend(caller, person, "person")


def assert_shared_as_if_read_now(services: Services, matching: MatchingService) -> int:
    """The hubs' members, people's numbers of co-workers and candidates' summaries each
    audience's requests share equal those read now; how many were held."""
    held = 0
    with services.feed.lock.read():
        kept = matching._current()
        seed = next(n for n in services.view.graph if n.startswith("person:"))
        for key, shared in kept.shared.items():
            ctx, _ = MatchingService(services).context(CALLERS[key], seed)
            ctx.shared = None
            fresh = CoWork(ctx)
            for hub, members in shared.members.items():
                assert hub in services.view.graph, (key, hub)
                assert members == fresh.members(hub), (key, hub)
                held += 1
            for node, summary in shared.summaries.items():
                assert node in services.view.graph, (key, node)
                assert summary == summarise(ctx, node), (key, node)
                held += 1
            for person, (cap, degree) in shared.cowork_degrees.items():
                assert person in services.view.graph, (key, person)
                assert degree == len(fresh.collaborator_ids(person, hub_cap=cap)), (key, person)
                held += 1
    return held


def write(services: Services, *items: Any) -> None:
    done = services.store.write(list(items))
    assert done.last_seq is not None
    services.catch_up()
    assert services.view.seq >= done.last_seq


def test_every_kind_of_write_leaves_what_a_fresh_start_would_compute(demo: Services) -> None:
    matching = MatchingService(demo)
    with demo.feed.lock.read():
        matching._current()
    warm(demo)
    assert_as_if_from_nothing(demo, matching)
    carried_before = matching.carried
    all_sectors = sectors(demo)
    first, second = all_sectors[0], all_sectors[1]
    a, b = people_in(demo, first)[:2]
    c = people_in(demo, second)[0]
    outsider = next(p for p in people_in(demo, all_sectors[2]) if p not in people_in(demo, first))
    writes: list[tuple[str, list[Any]]] = [
        ("a new bio", [changed(demo, a, bio="Mends bicycles for free.")]),
        ("two people meet", [Edge(source=a, target=c, kind="knows")]),
        ("joining a sector", [Edge(source=outsider, target=first, kind="interested_in")]),
        ("a new place", [changed(demo, b, place={"country": "KE"})]),
        ("going private", [changed(demo, c, visibility="private")]),
        ("a board seat", [changed(demo, b, board_member=True)]),
        ("leaving the board", [changed(demo, b, board_member=False)]),
    ]
    counts = {}
    held = []
    for name, items in writes:
        recommend_some(demo, matching)
        initiatives = matching._current().initiatives
        assert initiatives is not None
        write(demo, *items)
        counts[name] = warm(demo)
        # None of these writes changes which initiatives are active: the same set object,
        # whose vectors the index holds by identity (embeddings.ranking.RowCache.held)
        assert matching._current().initiatives is initiatives, name
        assert_as_if_from_nothing(demo, matching), name
        held.append(assert_shared_as_if_read_now(demo, matching))
    assert min(held) > 0, held  # what was read was carried over each quiet write
    # Leaving a sector, and a deletion.
    recommend_some(demo, matching)
    demo.store.delete_edge(outsider, "interested_in", first)
    demo.catch_up()
    counts["leaving a sector"] = warm(demo)
    assert_as_if_from_nothing(demo, matching)
    assert assert_shared_as_if_read_now(demo, matching) > 0
    initiative = next(
        n for n in demo.view.graph.predecessors(second) if n.startswith("initiative:")
    )
    recommend_some(demo, matching)
    initiatives = matching._current().initiatives
    assert initiatives is not None and initiative in initiatives
    demo.store.delete_node(initiative)  # its links are deleted first, each in the log
    demo.catch_up()
    counts["an initiative's deletion"] = warm(demo)
    assert initiative not in (matching._current().initiatives or ())
    assert_as_if_from_nothing(demo, matching)
    assert assert_shared_as_if_read_now(demo, matching) > 0
    recommend_some(demo, matching)
    demo.store.delete_node(a)  # a person's deletion erases them: nothing is carried over
    demo.catch_up()
    counts["an erasure"] = warm(demo)
    assert_as_if_from_nothing(demo, matching)
    assert assert_shared_as_if_read_now(demo, matching) == 0  # nothing carried over an erasure
    assert counts["an erasure"] == {"carried": 0, "computed": len(all_sectors)}
    # A new bio touches its person's sectors only: the other councils are carried over.
    bio = counts["a new bio"]
    assert bio["carried"] >= len(all_sectors) - 4, counts
    assert bio["computed"] <= 4, counts
    # A board seat touches every proposal (the board is read wherever its members are).
    # (their groups and bridges, which do not read the board, are carried over)
    assert counts["a board seat"]["computed"] == len(all_sectors), counts
    # The recommender's caches were carried over every write but the erasure.
    assert matching.carried - carried_before == len(writes) + 2


def test_touches_name_the_sectors_of_whom_a_write_touched(demo: Services) -> None:
    touches = demo.touches
    assert isinstance(touches, Touches)
    first = sectors(demo)[3]
    someone = people_in(demo, first)[0]
    since = demo.view.seq
    write(demo, changed(demo, someone, bio="Teaches sign language."))
    touched = touches.between(since, demo.view.seq)
    assert touched is not None
    assert someone in touched.nodes
    graph = demo.view.graph
    kinds = graph.nodes(data="kind")
    own = {s for s in graph.successors(someone) if kinds[s] == "sector"}
    for council in (c for c in graph.successors(someone) if kinds[c] == "council"):
        own |= {s for s in graph.successors(council) if kinds[s] == "sector"}
    assert touched.sectors is not None and own <= touched.sectors
    # A bio is read by the person's own sectors' figures alone.
    assert touched.sectors == own
    # Nothing between a version and itself; nothing known before the records start.
    assert touches.between(demo.view.seq, demo.view.seq) == touches.between(0, 0)
    assert touches.between(-1, demo.view.seq) is None
    # A link to a community places and counts people two links away: every sector.
    community = next(n for n, k in graph.nodes(data="kind") if k == "community")
    since = demo.view.seq
    write(demo, Edge(source=someone, target=community, kind="member_of"))
    touched = touches.between(since, demo.view.seq)
    assert touched is not None and touched.sectors is None
    # What is older than the records kept is not known (not answered from what is left).
    short = Touches(demo.view, keep=2)
    demo.feed.projections.append(short)
    try:
        first = demo.view.seq
        for n in range(3):
            write(demo, changed(demo, someone, bio=f"Teaches sign language, year {n}."))
        assert short.between(first, demo.view.seq) is None
        last = short._records[-1]
        assert short.between(last.since, last.seq) is not None
    finally:
        demo.feed.projections.remove(short)


def test_a_proposal_request_after_a_quiet_write_is_current_at_once(demo: Services) -> None:
    """The request that comes after a write touching other sectors finds its sector's
    proposal of the new version, carried over, without waiting for a computation."""
    engine = analytics(demo)
    all_sectors = sectors(demo)
    warm(demo)
    target = all_sectors[-1]
    board = engine._board(demo.view.seq)
    elsewhere = next(
        p
        for s in all_sectors[:-1]
        for p in people_in(demo, s)
        if target not in _sectors_of(demo.view.graph, p) and p not in board
    )
    write(demo, changed(demo, elsewhere, bio="Plants street trees."))
    runs = engine.background_runs
    with demo.feed.lock.read():
        found = engine.propose(AUDIENCE, demo.similarity, target)
    assert found.current and found.seq == demo.view.seq
    assert engine.background_runs == runs


def test_touched_councils_are_brought_up_to_date_at_their_pace(demo: Services) -> None:
    """The warmer brings the councils a write touched up to date at most once per
    ``councils_every``, not once per write: meanwhile the version before is answered,
    marked as older, and the untouched sectors' proposals are current at once."""
    engine = analytics(demo)
    warmer = Warmer(demo, SimpleNamespace(), tagger=False, councils_every=3600)
    warmer.warm()
    assert engine.settle(300)
    assert warmer.warmed.councils_seq == demo.view.seq
    board = engine._board(demo.view.seq)
    target = sectors(demo)[2]
    someone = next(p for p in people_in(demo, target) if p not in board)
    before = demo.view.seq
    write(demo, changed(demo, someone, bio="Repairs fishing nets with the harbour youth."))
    warmer.warm()
    assert warmer.warmed.seq == demo.view.seq
    assert warmer.warmed.councils_seq == before  # not due yet
    with demo.feed.lock.read():
        touched = demo.touches.between(before, demo.view.seq)
        assert touched is not None and touched.sectors is not None
        for sector in sectors(demo):
            found = engine.propose(AUDIENCE, demo.similarity, sector)
            if sector in touched.sectors:
                assert not found.current and found.seq == before, sector
            else:
                assert found.current, sector
    assert engine.settle(300)
    warmer.councils_every = 0
    warmer._councils_when_due()
    assert warmer.warmed.councils_seq == demo.view.seq
    assert_as_if_from_nothing(demo, MatchingService(demo))


def test_a_figure_is_computed_once_for_the_processes_of_a_data_folder(
    demo: Services, tmp_path: Path
) -> None:
    """Two engines (two worker processes of one data folder) over one folder of figures:
    the second reads what the first computed; an erasure empties the folder and no figure
    of a version before it is written again."""
    regions = load_regions(DATA)
    first = SharedFigures(tmp_path / "figures")
    second = SharedFigures(tmp_path / "figures")
    one = SectorAnalytics(demo.store, demo.view, regions, shared=first)
    two = SectorAnalytics(demo.store, demo.view, regions, shared=second)
    sector = sectors(demo)[4]
    with demo.feed.lock.read():
        mine = one.propose(AUDIENCE, demo.similarity, sector).value
        theirs = two.propose(AUDIENCE, demo.similarity, sector).value
        alone = SectorAnalytics(demo.store, demo.view, regions).propose(
            AUDIENCE, demo.similarity, sector
        )
    assert mine == theirs == alone.value
    # The proposal and the groups and bridges it is made of: computed once, read once.
    assert first.computed == 3 and first.read == 0
    assert second.computed == 0 and second.read == 1
    assert len(list((tmp_path / "figures").glob("*.figure"))) == 3
    seq = demo.view.seq
    erasure = ChangeBatch((Change(seq + 1, "erase", "node", ""),), {}, {})
    first.apply(erasure, first.prepare(erasure))
    assert list((tmp_path / "figures").glob("*.figure")) == []
    # A process that had not applied the erasure yet computes, and keeps nothing on disk.
    assert second.get(("council", "members", sector), seq, "", lambda: mine) == (mine, False)
    assert second.computed == 1
    assert list((tmp_path / "figures").glob("*.figure")) == []


def test_a_partial_figure_is_not_written_beside_a_complete_one_of_its_version(
    tmp_path: Path,
) -> None:
    """A figure computed while vectors were missing is kept apart until the complete one
    of its version (or a later one) is written, which removes it; once that is there, a
    partial one of that version or an earlier one is not written again beside it."""
    figures = SharedFigures(tmp_path / "figures")
    key = ("council", "members", "sector:peace")
    assert figures.put(key, 7, "made", "partial", partial=True)
    assert figures.latest(key, 7, partial=True) is not None
    assert figures.put(key, 7, "made", "complete")
    assert figures.latest(key, 7, partial=True) is None  # removed by the complete one
    assert not figures.put(key, 7, "made", "partial again", partial=True)
    assert not figures.put(key, 6, "made", "an older one", partial=True)
    assert figures.latest(key, 7, partial=True) is None
    assert figures.put(key, 8, "made", "of a later version", partial=True)
    assert [path.name.partition("-")[0] for path in sorted(figures.folder.glob("*.figure"))] == [
        "7", "8"
    ]  # fmt: skip
