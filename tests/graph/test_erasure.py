"""Erasing a person in the store: no copy in the change log or the file, followers agree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event

from graph.edges import Edge
from graph.feed import ChangeFeed
from graph.matching.profiles import ProfileIndex
from graph.model import Contact, Person
from graph.store import ERASED, Store
from graph.view import GraphView
from graph.visibility import AudienceIndex
from tests.postgres import sqlite_only

EMAIL = "zephyrine.q@quillmail.example"
NEEDLES = ("quillmail", "zephyrin", "quillfeather", "glockenspiel", "kintsugi", "zq-7431")


def _structure(view: GraphView) -> tuple[set[str], set[tuple[str, str, str]]]:
    return set(view.graph.nodes), set(view.graph.edges(keys=True))


def _zephyrine(bio: str) -> Person:
    return Person(
        id="person:zq-7431",
        name="Zephyrine Quillfeather",
        bio=bio,
        contact=Contact(email=EMAIL),
    )


def _secure_delete_off(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA secure_delete=OFF")


def _database_bytes(store: Store) -> dict[str, bytes]:
    path = Path(str(store.engine.url.database))
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    return {f.name: f.read_bytes() for f in files if f.exists()}


def test_erasing_a_person_leaves_one_change_log_entry_that_names_no_one(network: Store) -> None:
    network.write([_zephyrine("Plays the glockenspiel."),
                   Edge(kind="knows", source="person:zq-7431", target="person:lena"),
                   Edge(kind="knows", source="person:maria", target="person:zq-7431"),
                   Edge(kind="member_of", source="person:zq-7431",
                        target="community:sacramento", role="seat")])  # fmt: skip
    network.write([_zephyrine("Teaches kintsugi.")])
    network.delete_edge("person:maria", "knows", "person:zq-7431")
    before = network.last_seq()

    result = network.delete_node("person:zq-7431")

    assert (result.nodes_deleted, result.edges_deleted) == (1, 2)
    assert result.erased == ["person:zq-7431"]
    log = network.changes_since(0)
    assert [c for c in log if "zq-7431" in c.ref] == []
    assert [(c.op, c.entity, c.ref) for c in network.changes_since(before)] == [
        ("erase", "node", ERASED)
    ]
    assert network.last_seq() == before + 1  # a later writer never reuses a number
    assert [c.ref for c in log if c.ref.startswith("person:lena")]  # others' entries stay


@sqlite_only
def test_an_erased_person_leaves_no_bytes_in_the_database_files(network: Store) -> None:
    # Many SQLite builds leave secure_delete off (this one may not): start every
    # connection from off, so that only the store's own setting can turn it on.
    event.listen(network.engine, "connect", _secure_delete_off, insert=True)
    network.engine.dispose()
    network.write([_zephyrine("Plays the glockenspiel."),
                   Edge(kind="knows", source="person:zq-7431", target="person:lena"),
                   Edge(kind="works_on", source="person:zq-7431",
                        target="initiative:safe-streets")])  # fmt: skip
    network.checkpoint()  # as SQLite does every 1,000 pages: the rows reach the main file
    for n in range(30):  # old versions of the row, in the WAL and in freed space
        network.write([_zephyrine(f"Teaches kintsugi, lesson {n}.")])
    network.checkpoint()
    assert any(EMAIL.encode() in data for data in _database_bytes(network).values())

    network.delete_node("person:zq-7431")

    for name, data in _database_bytes(network).items():
        for needle in NEEDLES:
            assert needle.encode() not in data.lower(), (name, needle)


def test_a_view_behind_an_erasure_ends_as_the_store(network: Store) -> None:
    view = GraphView.from_store(network)  # holds Ahmed and his edges
    audiences = AudienceIndex.from_graph(view.graph)
    feed = ChangeFeed(network, [view, audiences], seq=view.seq)
    other = Store.open(str(network.engine.url))  # another process
    other.write([Edge(kind="knows", source="person:lena", target="person:ahmed")])
    other.delete_node("person:ahmed")
    other.write([Person(id="person:kim", name="Kim")])
    feed.catch_up()
    assert "person:ahmed" not in view.graph
    assert "person:ahmed" not in audiences.hidden("public")  # a members-only profile
    assert _structure(view) == _structure(GraphView.from_store(network))
    other.close()


def test_a_person_erased_and_created_again_is_seen_afresh_by_a_view_behind(
    network: Store,
) -> None:
    view = GraphView.from_store(network)  # Ahmed works on Safe Streets, knows Lena
    feed = ChangeFeed(network, [view], seq=view.seq, batch_size=2)  # the erasure mid-batch
    other = Store.open(str(network.engine.url))
    other.delete_node("person:ahmed")
    other.write([Person(id="person:ahmed", name="Another Ahmed"),
                 Edge(kind="knows", source="person:ahmed", target="person:maria")])  # fmt: skip
    feed.catch_up()
    assert set(view.graph.edges("person:ahmed", keys=True)) == {
        ("person:ahmed", "person:maria", "knows")
    }
    assert _structure(view) == _structure(GraphView.from_store(network))
    other.close()


def test_a_profile_index_behind_an_erasure_forgets_the_person(network: Store) -> None:
    profiles = ProfileIndex.from_store(network)
    feed = ChangeFeed(network, [profiles], seq=profiles.seq)
    assert "person:ahmed" in profiles
    other = Store.open(str(network.engine.url))
    other.delete_node("person:ahmed")
    feed.catch_up()
    assert "person:ahmed" not in profiles
    assert "person:maria" in profiles
    other.close()


def test_a_view_behind_an_erasure_keeps_the_edges_of_people_changed_since(
    network: Store,
) -> None:
    view = GraphView.from_store(network)
    feed = ChangeFeed(network, [view], seq=view.seq)
    maria = network.get_node("person:maria")
    network.delete_node("person:ahmed")
    network.write([maria.model_copy(update={"bio": "Mentor, now also a coach."})])
    feed.catch_up()
    assert set(view.graph.out_edges("person:maria", keys=True))  # kept her links
    assert _structure(view) == _structure(GraphView.from_store(network))
