"""Listings that stay fast on a large network: a name prefix is a range of a folded,
indexed column, filters read indexes (checked in SQLite's query plans), and totals
beyond a threshold are reused as estimates, said so."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event, inspect, select

from graph import listing, schema
from graph.edges import Edge
from graph.feed import ChangeBatch
from graph.listing import HeldPages, NodeFilter, list_nodes
from graph.model import Initiative, Person, Place
from graph.store import Store, name_key, prefix_range
from graph.visibility import ListingAudience
from tests.postgres import sqlite_only

EVERYONE = ListingAudience(visibilities=None, include_undiscoverable=True)
PUBLIC = ListingAudience()
PEOPLE = frozenset({"person"})


def names(store: Store, prefix: str) -> list[str]:
    page = list_nodes(store, NodeFilter(kinds=PEOPLE, name_prefix=prefix), EVERYONE)
    return sorted(node.name for node in page.items)


def test_names_fold_accents_case_and_spaces_but_keep_every_script() -> None:
    assert name_key("  María  DE la Cruz ") == "maria de la cruz"
    assert name_key("Zoë Straße") == "zoe strasse"
    assert name_key("Юлия") == "юлия"
    assert name_key("王芳") == "王芳"
    assert prefix_range("MA") == ("ma", "mb")
    assert prefix_range("  ") is None


def test_a_prefix_finds_names_whatever_their_accents_or_case(store: Store) -> None:
    people = ["María López", "Marc Dubois", "Mbali Dlamini", "Zoë Adams", "Юлия Петрова",
              "Ma", "Lm Ma"]  # fmt: skip
    store.upsert(*(Person(id=f"person:p{i}", name=name) for i, name in enumerate(people)))
    assert names(store, "mar") == ["Marc Dubois", "María López"]
    assert names(store, "MÁR") == ["Marc Dubois", "María López"]
    assert names(store, "ma") == ["Ma", "Marc Dubois", "María López"]  # not Mbali
    assert names(store, "zoe") == ["Zoë Adams"]
    assert names(store, "юл") == ["Юлия Петрова"]
    assert names(store, "%") == []
    assert names(store, "m_") == []


def test_a_renamed_node_is_found_by_its_new_name_only(store: Store) -> None:
    store.upsert(Person(id="person:a", name="Amara"))
    store.upsert(Person(id="person:a", name="Beatriz"))
    assert names(store, "am") == []
    assert names(store, "bea") == ["Beatriz"]


def test_a_store_made_before_name_keys_gains_them_at_open(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    store = Store.open(path)
    store.upsert(Person(id="person:a", name="Élodie"), Person(id="person:b", name="Bo"))
    with store.engine.begin() as conn:  # as a store made before them and the migrations
        conn.exec_driver_sql("DROP INDEX ix_nodes_name_key")
        conn.exec_driver_sql("DROP INDEX ix_nodes_name_listed")
        conn.exec_driver_sql("ALTER TABLE nodes DROP COLUMN name_key")
        conn.exec_driver_sql("DROP TABLE alembic_version")
        conn.execute(schema.schema_version.update().values(version=1))
    store.close()
    for _ in range(2):  # and opening it again changes nothing
        store = Store.open(path)
        assert names(store, "elo") == ["Élodie"]
        with store.engine.connect() as conn:
            keys = conn.execute(select(schema.nodes.c.name_key).order_by("id")).scalars().all()
            indexes = {i["name"] for i in inspect(conn).get_indexes("nodes")}
        assert keys == ["elodie", "bo"]
        assert {"ix_nodes_name_key", "ix_nodes_name_listed"} <= indexes
        store.close()


def _plan(store: Store, sql: str) -> str:
    with store.engine.connect() as conn:
        return " | ".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))


def _listing_plan(store: Store, flt: NodeFilter, audience: ListingAudience) -> str:
    n = schema.nodes
    query = (
        select(n.c.id).where(*listing.filter_conditions(flt, audience)).order_by(n.c.id).limit(51)
    )
    sql = query.compile(dialect=store.engine.dialect, compile_kwargs={"literal_binds": True})
    return _plan(store, str(sql))


@pytest.mark.parametrize(
    ("flt", "index"),
    [
        (NodeFilter(name_prefix="mar"), "ix_nodes_name_key"),
        (NodeFilter(kinds=PEOPLE, name_prefix="mar"), "ix_nodes_name_listed"),
        (NodeFilter(kinds=PEOPLE | {"initiative"}, name_prefix="mar"), "ix_nodes_name_listed"),
        (NodeFilter(sector="sector:peace"), "ix_edges_target"),
        (NodeFilter(kinds=PEOPLE, sdg="sdg:16"), "ix_edges_target"),
        (NodeFilter(kinds=PEOPLE, community="community:capital-region"), "ix_edges_target"),
        (NodeFilter(kinds=PEOPLE, country="US"), "ix_nodes_country_listed"),
        (NodeFilter(kinds=PEOPLE), "ix_nodes_kind_listed"),
    ],
)
@pytest.mark.parametrize("audience", [PUBLIC, EVERYONE], ids=["anonymous", "admin"])
@sqlite_only  # SQLite's query planner (PostgreSQL's weighs table sizes, not just indexes)
def test_every_filter_reads_an_index_not_every_node(
    network: Store, flt: NodeFilter, index: str, audience: ListingAudience
) -> None:
    plan = _listing_plan(network, flt, audience)
    assert index in plan, plan
    assert "SCAN nodes" not in plan and "SCAN edges" not in plan, plan


def test_large_totals_are_reused_as_estimates_while_the_store_changes(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listing, "EXACT_UP_TO", 3)
    monkeypatch.setattr(listing, "ESTIMATE_ABOVE", 3)
    store.upsert(*(Person(id=f"person:p{i}", name=f"P {i}") for i in range(10)))
    people, few = NodeFilter(kinds=PEOPLE), NodeFilter(kinds=PEOPLE, name_prefix="p 1")

    def total(flt: NodeFilter) -> tuple[int, bool]:
        page = list_nodes(store, flt, PUBLIC, limit=2)
        return page.total, page.total_is_estimate

    assert total(people) == (10, False)  # counted once
    assert total(people) == (10, False)  # nothing changed since: still exact
    assert total(few) == (1, False)
    store.upsert(Person(id="person:p10", name="P 10"))
    assert total(people) == (10, True)  # a recent count, said to be one
    assert total(few) == (2, False)  # small totals are always exact
    monkeypatch.setattr(listing, "ESTIMATE_FOR", 0.0)
    assert total(people) == (11, False)


def test_a_page_is_given_again_only_at_the_version_it_was_read_at(store: Store) -> None:
    store.upsert(*(Person(id=f"person:p{i}", name=f"P {i}") for i in range(5)))
    people = NodeFilter(kinds=PEOPLE)
    read: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: read.append(args[2]))

    def page_ids(audience: ListingAudience = PUBLIC, **position: int) -> list[str]:
        return [node.id for node in list_nodes(store, people, audience, **position).items]

    first = list_nodes(store, people, PUBLIC, limit=3)
    read.clear()
    assert list_nodes(store, people, PUBLIC, limit=3) is first
    assert not [sql for sql in read if "FROM nodes" in sql], read  # only the version is read
    # Any write is a new version: the page is read again and shows it.
    store.upsert(Person(id="person:p1", name="P 1", visibility="private"))
    again = list_nodes(store, people, PUBLIC, limit=3)
    assert [n.id for n in again.items] == ["person:p0", "person:p2", "person:p3"]
    assert again.total == 4
    store.delete_node("person:p0")
    assert page_ids(limit=3) == ["person:p2", "person:p3", "person:p4"]
    store.upsert(Edge(kind="knows", source="person:p2", target="person:p3"))
    store.upsert(Person(id="person:p2", name="P 2", discoverable=False))
    assert page_ids(limit=3) == ["person:p3", "person:p4"]
    # Another audience, or another place in the listing, is a page of its own.
    assert page_ids(EVERYONE, limit=3) == ["person:p1", "person:p2", "person:p3"]
    assert page_ids(limit=1, offset=1) == ["person:p4"]
    assert page_ids(ListingAudience(own=frozenset({"person:p1"})), limit=3) == [
        "person:p1",
        "person:p3",
        "person:p4",
    ]


BERLIN = Place(name="Berlin", country="DE")
SECTOR, GOAL = NodeFilter(kinds=PEOPLE, sector="sector:arts"), NodeFilter(sdg="sdg:4")
COUNTRY, PLACED = NodeFilter(kinds=PEOPLE, country="DE"), NodeFilter(community="community:x")


@pytest.mark.parametrize(
    ("flt", "change", "touches"),
    [
        (COUNTRY, ("upsert", "node", "person:ana"), True),
        (COUNTRY, ("upsert", "node", "initiative:a"), False),
        (COUNTRY, ("upsert", "edge", "person:ana|knows|person:bo"), False),
        (COUNTRY, ("delete", "edge", "person:ana|interested_in|sector:arts"), False),
        (COUNTRY, ("delete", "node", "initiative:a"), True),  # its edges go with it
        (COUNTRY, ("erase", "node", "(erased)"), True),
        (SECTOR, ("upsert", "edge", "person:ana|knows|person:bo"), False),
        (SECTOR, ("upsert", "edge", "person:ana|interested_in|sector:arts"), True),
        (SECTOR, ("delete", "edge", "person:ana|interested_in|sector:arts"), True),
        (SECTOR, ("upsert", "edge", "person:ana|interested_in|sector:health"), False),
        (SECTOR, ("upsert", "node", "sector:arts"), False),
        (GOAL, ("upsert", "node", "sector:arts"), True),  # every kind is listed
        (GOAL, ("upsert", "edge", "initiative:a|addresses|sdg:4"), True),
        (GOAL, ("upsert", "edge", "person:ana|interested_in|sdg_target:9.1"), True),
        (GOAL, ("upsert", "edge", "sdg_target:4.7|part_of|sdg:4"), True),
        (GOAL, ("upsert", "edge", "initiative:a|addresses|sdg:5"), False),
        (PLACED, ("upsert", "edge", "person:ana|knows|person:bo"), True),
        (PLACED, ("upsert", "node", "initiative:a"), True),
        (COUNTRY, ("upsert", "node", "no-kind"), True),  # a reference not understood
        (COUNTRY, ("upsert", "edge", "a|b"), True),
        (COUNTRY, ("edit", "node", "person:ana"), False),  # her fields only, not on the page
        (SECTOR, ("edit", "node", "person:ana"), False),
        (PLACED, ("edit", "node", "person:ana"), True),
        (COUNTRY, ("edit", "node", "person:bo"), True),  # on the page (below)
        (COUNTRY, ("rename", "node", "person:ana"), True),  # an op not understood
    ],
)
def test_what_a_change_can_alter(
    flt: NodeFilter, change: tuple[str, str, str], touches: bool
) -> None:
    assert listing.alters(flt, *change, shown=frozenset({"person:bo"})) is touches
    if change[0] == "edit" and flt is not PLACED:  # a total shows no one's fields
        assert listing.alters(flt, *change) is False


def test_a_page_follows_the_fields_of_the_people_on_it_only(store: Store) -> None:
    store.upsert(*(Person(id=f"person:p{i}", name=f"P {i}", place=BERLIN) for i in range(6)))
    read: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: read.append(args[2]))
    first, second = (list_nodes(store, COUNTRY, PUBLIC, limit=3, offset=o) for o in (0, 3))
    # p4's bio is on the second page only: the first is given again, counted as it was.
    store.upsert(Person(id="person:p4", name="P 4", place=BERLIN, bio="Bakes bread."))
    read.clear()
    assert list_nodes(store, COUNTRY, PUBLIC, limit=3) is first
    assert not [sql for sql in read if "FROM nodes" in sql], read
    again = list_nodes(store, COUNTRY, PUBLIC, limit=3, offset=3)
    assert again is not second and again.total == 6 and not again.total_is_estimate
    assert [getattr(n, "bio", None) for n in again.items] == ["", "Bakes bread.", ""]
    # A field a filter reads moves her: both pages and the total follow at once.
    store.upsert(Person(id="person:p1", name="P 1", place=BERLIN, visibility="private"))
    assert [n.id for n in list_nodes(store, COUNTRY, PUBLIC, limit=3).items] == [
        "person:p0", "person:p2", "person:p3",
    ]  # fmt: skip
    moved = list_nodes(store, COUNTRY, PUBLIC, limit=3, offset=3)
    assert [n.id for n in moved.items] == ["person:p4", "person:p5"] and moved.total == 5


def test_a_page_outlives_the_writes_that_cannot_change_it(store: Store) -> None:
    store.upsert(Person(id="person:ana", name="Ana", place=BERLIN))
    store.upsert(Person(id="person:bo", name="Bo", place=BERLIN))
    store.upsert(Initiative(id="initiative:a", name="A"))
    in_sector = NodeFilter(kinds=PEOPLE, sector="sector:arts")
    store.upsert(Edge(kind="interested_in", source="person:ana", target="sector:arts"))
    country = list_nodes(store, COUNTRY, PUBLIC)
    sector = list_nodes(store, in_sector, PUBLIC)
    assert [n.id for n in sector.items] == ["person:ana"]
    store.upsert(Edge(kind="knows", source="person:ana", target="person:bo"))
    store.upsert(Initiative(id="initiative:a", name="A, renamed"))
    assert list_nodes(store, COUNTRY, PUBLIC) is country
    assert list_nodes(store, in_sector, PUBLIC) is sector
    # An edge at the sector changes its page, not the country's.
    store.upsert(Edge(kind="interested_in", source="person:bo", target="sector:arts"))
    assert list_nodes(store, COUNTRY, PUBLIC) is country
    sector = list_nodes(store, in_sector, PUBLIC)
    assert [n.id for n in sector.items] == ["person:ana", "person:bo"]
    # A person written changes both: here she leaves the listings.
    store.upsert(Person(id="person:ana", name="Ana", place=BERLIN, visibility="private"))
    assert [n.id for n in list_nodes(store, COUNTRY, PUBLIC).items] == ["person:bo"]
    assert [n.id for n in list_nodes(store, in_sector, PUBLIC).items] == ["person:bo"]
    assert list_nodes(store, in_sector, PUBLIC).total == 1


def test_a_page_is_read_again_past_the_changes_it_would_have_to_look_at(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listing, "CHANGES_READ", 2)
    store.upsert(Person(id="person:ana", name="Ana", place=BERLIN))
    store.upsert(Initiative(id="initiative:a", name="A"))
    page = list_nodes(store, COUNTRY, PUBLIC)
    store.upsert(Initiative(id="initiative:b", name="B"), Initiative(id="initiative:c", name="C"))
    assert list_nodes(store, COUNTRY, PUBLIC) is page  # two changes, neither of people
    store.upsert(*(Initiative(id=f"initiative:d{i}", name="D") for i in range(3)))
    again = list_nodes(store, COUNTRY, PUBLIC)
    assert again is not page
    assert [n.id for n in again.items] == ["person:ana"]


def test_pages_kept_are_the_last_asked_for(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page counts its nodes and one more towards what may be held."""
    monkeypatch.setattr(listing, "PAGES_HOLD", 7)
    store.upsert(*(Person(id=f"person:p{i}", name=f"P {i}") for i in range(8)))
    people = NodeFilter(kinds=PEOPLE)
    first = list_nodes(store, people, PUBLIC, limit=1)
    second = list_nodes(store, people, PUBLIC, limit=2)
    assert list_nodes(store, people, PUBLIC, limit=1) is first  # now the last asked for
    list_nodes(store, people, PUBLIC, limit=3)  # 2 + 3 + 4 > 7: the least recent page goes
    held = listing._PAGES[store]
    assert [len(page.items) for _, page in held.pages.values()] == [1, 3]
    assert held.held == 6
    assert list_nodes(store, people, PUBLIC, limit=1) is first
    assert list_nodes(store, people, PUBLIC, limit=2) is not second
    list_nodes(store, people, PUBLIC, limit=7)  # more than may be held: not kept
    assert [len(page.items) for _, page in held.pages.values()] == [1, 2]
    assert held.held == 5
    # Empty pages count too: asking for many names no one has does not grow what is held.
    for prefix in ("qa", "qb", "qc", "qd", "qe", "qf", "qg", "qh"):
        assert list_nodes(store, NodeFilter(kinds=PEOPLE, name_prefix=prefix), PUBLIC).total == 0
    assert len(held.pages) == 7
    assert held.held == 7


def test_an_erasure_drops_every_page_held(store: Store) -> None:
    """No page is given after an erasure (it changes every listing); the feed's projection
    also drops them all, so that the erased person's record is not kept in memory."""
    store.upsert(Person(id="person:ana", name="Ana"), Person(id="person:bo", name="Bo"))
    pages = HeldPages(store)
    seq = store.last_seq()
    assert [n.id for n in list_nodes(store, NodeFilter(kinds=PEOPLE), EVERYONE).items] == [
        "person:ana",
        "person:bo",
    ]
    list_nodes(store, NodeFilter(kinds=frozenset({"initiative"})), PUBLIC)
    store.upsert(Initiative(id="initiative:a", name="A"))
    batch = ChangeBatch.read(store, seq, limit=100)
    assert batch is not None
    pages.apply(batch, pages.prepare(batch))  # no erasure: nothing dropped
    assert len(listing._PAGES[store].pages) == 2
    seq = store.last_seq()
    store.delete_node("person:ana")
    batch = ChangeBatch.read(store, seq, limit=100)
    assert batch is not None and batch.erasures
    pages.apply(batch, pages.prepare(batch))
    assert not listing._PAGES[store].pages
    assert listing._PAGES[store].held == 0
    assert [n.id for n in list_nodes(store, NodeFilter(kinds=PEOPLE), EVERYONE).items] == [
        "person:bo"
    ]


def test_an_estimate_never_mixes_audiences(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing, "EXACT_UP_TO", 1)
    monkeypatch.setattr(listing, "ESTIMATE_ABOVE", 1)
    store.upsert(*(Person(id=f"person:p{i}", name="P") for i in range(4)))
    store.upsert(*(Person(id=f"person:h{i}", name="H", discoverable=False) for i in range(3)))
    people = NodeFilter(kinds=PEOPLE)
    assert list_nodes(store, people, EVERYONE).total == 7
    assert list_nodes(store, people, PUBLIC).total == 4
    store.upsert(Edge(kind="knows", source="person:p0", target="person:p1"))
    assert (list_nodes(store, people, PUBLIC).total, list_nodes(store, people, EVERYONE).total) == (
        4,
        7,
    )


@pytest.mark.parametrize("audience", [PUBLIC, EVERYONE], ids=["anonymous", "admin"])
def test_pages_of_few_and_of_many_matches_agree_whichever_way_links_are_read(
    store: Store, monkeypatch: pytest.MonkeyPatch, audience: ListingAudience
) -> None:
    # 300 people, every tenth in a sector and every third caring about a goal; some
    # private or not discoverable: the pages must be those of a plain filter in Python.
    people = [
        Person(
            id=f"person:p{i:03}",
            name=f"P {i}",
            visibility="private" if i % 7 == 0 else "public",
            discoverable=i % 11 != 0,
        )
        for i in range(300)
    ]
    links = [Edge(kind="interested_in", source=p.id, target="sector:peace")
             for i, p in enumerate(people) if i % 10 == 0]  # fmt: skip
    links += [Edge(kind="interested_in", source=p.id, target="sdg:16")
              for i, p in enumerate(people) if i % 3 == 0]  # fmt: skip
    store.write([*people, *links])
    seen = {p.id for p in people if audience is EVERYONE or (p.visibility == "public" and
                                                               p.discoverable)}  # fmt: skip
    wanted = {
        NodeFilter(kinds=PEOPLE, sector="sector:peace"): sorted(
            p.id for i, p in enumerate(people) if i % 10 == 0 and p.id in seen),
        NodeFilter(kinds=PEOPLE, sdg="sdg:16"): sorted(
            p.id for i, p in enumerate(people) if i % 3 == 0 and p.id in seen),
    }  # fmt: skip
    for per_row in (True, False):  # every filter read row by row, then every one as a set
        monkeypatch.setattr(listing, "_row_by_row", lambda *_, per_row=per_row: per_row)
        for flt, ids in wanted.items():
            got: list[str] = []
            after = None
            while True:
                page = list_nodes(store, flt, audience, limit=7, after=after)
                assert page.total == len(ids)
                got += [node.id for node in page.items]
                if page.next_after is None:
                    break
                after = page.next_after
            assert got == ids, (per_row, flt)
            offset = list_nodes(store, flt, audience, limit=5, offset=10)
            assert [node.id for node in offset.items] == ids[10:15]


def test_links_are_read_the_cheaper_way_for_the_rows_a_read_needs(store: Store) -> None:
    # A goal with 90 people's interests and 3 of 10 initiatives: the initiatives are
    # found by passing over the 10 rather than collecting 93 links; a page of two of the
    # goal's people stops after about 10 rows, but counting them all reads fewer entries
    # as the set of 93 links than by passing over all 300 people.
    people = [Person(id=f"person:p{i:03}", name=f"P {i}") for i in range(300)]
    initiatives = [Initiative(id=f"initiative:i{i}", name=f"I {i}") for i in range(10)]
    links = [Edge(kind="interested_in", source=p.id, target="sdg:16") for p in people[:90]]
    links += [Edge(kind="addresses", source=f"initiative:i{i}", target="sdg:16")
              for i in range(3)]  # fmt: skip
    store.write([*people, *initiatives, *links])
    goal = NodeFilter(kinds=frozenset({"initiative"}), sdg="sdg:16")
    goal_people = NodeFilter(kinds=PEOPLE, sdg="sdg:16")
    with store.engine.connect() as conn:
        assert listing._row_by_row(conn, store, goal, 1.0)
        assert not listing._row_by_row(conn, store, goal_people, 1.0)
        assert listing._row_by_row(conn, store, goal_people, 3 / 90)
        assert not listing._row_by_row(conn, store, NodeFilter(kinds=PEOPLE), 1.0)
    page = list_nodes(store, goal, PUBLIC, limit=2)
    assert ([n.id for n in page.items], page.total) == (["initiative:i0", "initiative:i1"], 3)
