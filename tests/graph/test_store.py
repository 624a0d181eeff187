from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import update

from graph import schema
from graph.edges import Edge
from graph.errors import EdgeNotFound, MissingEndpoint, NodeNotFound, SchemaVersionError
from graph.model import Contact, Initiative, Person, Place
from graph.store import Deletion, Store


def test_nodes_and_edges_round_trip(network: Store) -> None:
    maria = network.get_node("person:maria")
    assert isinstance(maria, Person)
    assert maria.interests == ["youth mentoring", "gang violence prevention"]
    assert maria.place is not None and maria.place.lat == 38.58
    edge = network.get_edge("organization:youth-works", "partners_with", "initiative:safe-streets")
    assert edge.role == "owner"
    assert network.edge_counts()["works_on"] == 3


def test_targets_of_many_sources_in_one_call(network: Store) -> None:
    kinds = {"in_sector", "addresses", "interested_in"}
    sources = ["initiative:safe-streets", "person:lena", "person:maria", "person:nobody"]
    found = network.targets_of(sources, kinds)
    assert found == {
        "initiative:safe-streets": {"sdg:16", "sector:peace"},
        "person:lena": {"sdg:15"},
    }
    # The same as asking edges_of node by node, also across more than one chunk.
    many = [f"person:nobody-{i}" for i in range(1_200)] + sources
    expected = {}
    for source in sources:
        if targets := {e.target for e in network.edges_of(source)
                       if e.source == source and e.kind in kinds}:  # fmt: skip
            expected[source] = targets
    assert network.targets_of(many, kinds) == expected
    assert network.targets_of([], kinds) == {}


def test_the_store_is_durable_across_reopen(network: Store) -> None:
    url = network.engine.url
    network.close()
    reopened = Store.open(str(url))
    assert reopened.get_node("initiative:safe-streets").name == "Safe Streets"


def test_an_identical_upsert_writes_nothing(network: Store) -> None:
    before = network.last_seq()
    result = network.upsert(network.get_node("person:maria"))
    assert not result.changed
    assert result.unchanged == 1
    assert network.last_seq() == before


def test_an_update_is_logged_once(network: Store) -> None:
    before = network.last_seq()
    lena = network.get_node("person:lena")
    result = network.upsert(lena.model_copy(update={"bio": "Gardener."}))
    assert result.nodes_written == 1
    assert [c.ref for c in network.changes_since(before)] == ["person:lena"]
    assert network.get_node("person:lena").bio == "Gardener."  # type: ignore[union-attr]


def test_a_write_that_changes_no_filter_column_is_logged_as_an_edit(network: Store) -> None:
    lena = network.get_node("person:lena")
    assert isinstance(lena, Person)
    writes = {
        "bio": {"bio": "Gardener and teacher."},
        "interests": {"interests": ["composting"]},
        "contact": {"contact": Contact(email="lena@example.org")},
        "name": {"name": "Lena B."},
        "visibility": {"visibility": "members"},
        "discoverable": {"discoverable": False},
        "precision": {"location_precision": "country"},
        "place": {"place": Place(name="Lyon", country="FR", lat=45.76, lon=4.84)},
    }
    logged = {}
    for what, fields in writes.items():
        before = network.last_seq()
        network.upsert(Person.model_validate({**lena.model_dump(), **fields}))
        logged[what] = [c.op for c in network.changes_since(before)]
        network.upsert(lena)  # as it was, for the next
    assert logged == {
        "bio": ["edit"], "interests": ["edit"], "contact": ["edit"],
        "name": ["upsert"], "visibility": ["upsert"], "discoverable": ["upsert"],
        "precision": ["upsert"], "place": ["upsert"],
    }  # fmt: skip
    before = network.last_seq()
    network.upsert(Person(id="person:new", name="New"))
    assert [c.op for c in network.changes_since(before)] == ["upsert"]  # a new node


def test_deleting_a_node_deletes_its_edges_and_leaves_tombstones(network: Store) -> None:
    before = network.last_seq()  # (a person is erased instead: see test_erasure.py)
    result = network.delete_node("initiative:safe-streets")
    assert (result.nodes_deleted, result.edges_deleted) == (1, 5)
    assert network.find_node("initiative:safe-streets") is None
    assert all("initiative:safe-streets" not in (e.source, e.target) for e in network.iter_edges())
    log = network.changes_since(before)
    assert [c.op for c in log] == ["delete"] * 6
    assert log[-1].entity == "node" and log[-1].ref == "initiative:safe-streets"


def test_an_edge_to_a_missing_node_writes_nothing(network: Store) -> None:
    before = network.last_seq()
    new = Initiative(id="initiative:new", name="New")
    bad = Edge(kind="works_on", source="person:nobody", target="initiative:new")
    with pytest.raises(MissingEndpoint, match="person:nobody"):
        network.write([new, bad])
    assert network.find_node("initiative:new") is None
    assert network.last_seq() == before


def test_an_edge_may_come_before_its_node_in_one_write(store: Store) -> None:
    store.write(
        [
            Edge(kind="works_on", source="person:a", target="initiative:b"),
            Person(id="person:a", name="A"),
            Initiative(id="initiative:b", name="B"),
        ]
    )
    assert store.get_edge("person:a", "works_on", "initiative:b")


def test_deleting_what_does_not_exist_is_an_error(network: Store) -> None:
    before = network.last_seq()
    with pytest.raises(NodeNotFound):
        network.write([Deletion("edge", "person:lena|works_on|initiative:green-lots"),
                       Deletion("node", "person:ghost")])  # fmt: skip
    with pytest.raises(EdgeNotFound):
        network.delete_edge("person:lena", "knows", "person:maria")
    assert network.last_seq() == before
    assert network.get_edge("person:lena", "works_on", "initiative:green-lots")


def test_the_change_log_is_monotonic_and_filterable(network: Store) -> None:
    log = network.changes_since(0)
    seqs = [c.seq for c in log]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert seqs[-1] == network.last_seq()
    assert [c.seq for c in network.changes_since(seqs[-3])] == seqs[-2:]


def test_iteration_is_ordered_and_filtered(network: Store) -> None:
    people = [node.id for node in network.iter_nodes(kind="person", batch_size=2)]
    assert people == ["person:ahmed", "person:lena", "person:maria"]
    keys = [edge.key for edge in network.iter_edges(batch_size=3)]
    assert keys == sorted(keys)
    assert network.node_counts()["sdg_target"] == 169


def test_listeners_hear_each_commit(network: Store) -> None:
    heard: list[int] = []
    network.subscribe(heard.append)
    network.upsert(Person(id="person:zoe", name="Zoe"))
    network.upsert(Person(id="person:zoe", name="Zoe"))  # unchanged: no notification
    assert heard == [network.last_seq()]


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = Store.open(path)
    with store.engine.begin() as conn:
        conn.execute(update(schema.schema_version).values(version=schema.SCHEMA_VERSION + 1))
    store.close()
    with pytest.raises(SchemaVersionError, match=f"schema version {schema.SCHEMA_VERSION + 1}"):
        Store.open(path)


def test_concurrent_writers_never_let_a_follower_skip_a_change(tmp_path: Path) -> None:
    """Writers in several threads (separate connections, like separate processes) while a
    follower reads the log the way a change feed does: every change it meets is newer than
    the last it met, and at the end it has met every change, none skipped."""
    path = tmp_path / "busy.db"
    writers = [Store.open(path) for _ in range(4)]
    follower = Store.open(path)
    done = threading.Event()
    seen: list[int] = []

    def follow() -> None:
        last = 0
        while True:
            finished = done.is_set()  # read before the log, so the last pass sees all
            for change in follower.changes_since(last):
                seen.append(change.seq)
                last = change.seq
            if finished:
                return

    def write(n: int, store: Store) -> None:
        for i in range(25):
            store.upsert(Person(id=f"person:w{n}-{i}", name=f"Writer {n} #{i}"))

    reader = threading.Thread(target=follow)
    reader.start()
    threads = [threading.Thread(target=write, args=(n, s)) for n, s in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    reader.join()
    assert seen == sorted(set(seen))  # in order, never twice
    assert seen == list(range(1, follower.last_seq() + 1))  # nothing skipped
    assert len(seen) == 100
    for store in [*writers, follower]:
        store.close()
