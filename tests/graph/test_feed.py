"""The change feed, its lock and the audience index: one version for every reader."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from graph.edges import Edge
from graph.feed import ChangeBatch, ChangeFeed
from graph.model import Initiative, Person
from graph.rwlock import ReadWriteLock
from graph.store import Store
from graph.view import GraphView
from graph.visibility import AudienceIndex


def test_a_waiting_writer_goes_before_new_readers() -> None:
    lock = ReadWriteLock()
    lock.acquire_read()
    order: list[str] = []
    writer = threading.Thread(target=lambda: (lock.acquire_write(), order.append("writer"),
                                              lock.release_write()))  # fmt: skip
    writer.start()
    while not lock._writers_waiting:  # the writer is queued behind the first reader
        time.sleep(0.001)
    assert not lock.try_acquire_read()  # a new reader may not slip in before it
    reader = threading.Thread(target=lambda: (lock.acquire_read(), order.append("reader"),
                                              lock.release_read()))  # fmt: skip
    reader.start()
    lock.release_read()  # released from another thread than the one that will wait
    writer.join(5)
    reader.join(5)
    assert order == ["writer", "reader"]


def test_releasing_what_is_not_held_is_an_error() -> None:
    lock = ReadWriteLock()
    with pytest.raises(RuntimeError, match="release_read"):
        lock.release_read()
    with pytest.raises(RuntimeError, match="release_write"):
        lock.release_write()


class Recorder:
    """A projection that records what it was given, and checks the lock is held."""

    def __init__(self, feed: list[ChangeFeed]) -> None:
        self.feed = feed
        self.applied: list[tuple[int, list[str]]] = []

    def prepare(self, batch: ChangeBatch) -> list[str]:
        assert self.feed[0].lock.try_acquire_read()  # no lock is held while preparing
        self.feed[0].lock.release_read()
        return sorted(batch.nodes)

    def apply(self, batch: ChangeBatch, prepared: Any) -> None:
        assert not self.feed[0].lock.try_acquire_read()  # readers are kept out
        self.applied.append((batch.last_seq, prepared))


def test_each_batch_is_prepared_outside_the_lock_and_applied_under_it(network: Store) -> None:
    holder: list[ChangeFeed] = []
    recorder = Recorder(holder)
    base = network.last_seq()
    feed = ChangeFeed(network, [recorder], seq=base, batch_size=2)
    holder.append(feed)
    network.write([
        Person(id="person:zoe", name="Zoe"),
        Initiative(id="initiative:kite", name="Kite"),
        Edge(kind="works_on", source="person:zoe", target="initiative:kite"),
    ])  # fmt: skip
    network.delete_node("initiative:kite")
    assert feed.catch_up() == 3 + 2  # three upserts; the edge and the node deleted
    assert [seq for seq, _ in recorder.applied] == [base + 2, base + 4, base + 5]
    # A batch carries the nodes as they are now: the kite is gone, so only Zoe is given.
    assert recorder.applied[0][1] == ["person:zoe"]
    assert feed.seq == network.last_seq()


def test_the_follower_applies_writes_from_this_and_other_processes(network: Store) -> None:
    view = GraphView.from_store(network)
    feed = ChangeFeed(network, [view], seq=view.seq, poll_seconds=0.05)
    feed.start()
    try:
        written = network.write([Person(id="person:zoe", name="Zoe")]).last_seq
        assert written is not None and feed.wait_for(written, timeout=10)
        assert "person:zoe" in view.graph
        other = Store.open(str(network.engine.url))  # no listener: found by polling
        seq = other.write([Person(id="person:kim", name="Kim")]).last_seq
        other.close()
        assert seq is not None and feed.wait_for(seq, timeout=10)
        assert "person:kim" in view.graph
    finally:
        feed.stop()


def test_a_reader_keeps_its_version_while_the_follower_waits(network: Store) -> None:
    view = GraphView.from_store(network)
    feed = ChangeFeed(network, [view], seq=view.seq, poll_seconds=0.05)
    feed.start()
    try:
        with feed.reading() as seq:
            written = network.write([Person(id="person:zoe", name="Zoe")]).last_seq
            assert written is not None and not feed.wait_for(written, timeout=0.3)
            assert "person:zoe" not in view.graph and feed.seq == seq
        assert feed.wait_for(written, timeout=10)
        assert "person:zoe" in view.graph
    finally:
        feed.stop()


def test_the_follower_survives_a_failing_projection(network: Store) -> None:
    class Flaky:
        def __init__(self) -> None:
            self.failures = 1

        def prepare(self, batch: ChangeBatch) -> None:
            if self.failures:
                self.failures -= 1
                raise OSError("the disk hiccuped")

        def apply(self, batch: ChangeBatch, prepared: None) -> None:
            return None

    view = GraphView.from_store(network)
    feed = ChangeFeed(network, [Flaky(), view], seq=view.seq, poll_seconds=0.05)
    feed.start()
    try:
        written = network.write([Person(id="person:zoe", name="Zoe")]).last_seq
        assert written is not None and feed.wait_for(written, timeout=10)
        assert feed.errors == 1 and "person:zoe" in view.graph
    finally:
        feed.stop()


def test_the_audience_index_follows_each_persons_settings(network: Store) -> None:
    view = GraphView.from_store(network)
    audiences = AudienceIndex.from_graph(view.graph)
    feed = ChangeFeed(network, [view, audiences], seq=view.seq)
    # The network's members-only person is hidden from the public only.
    assert audiences.hidden("public") == {"person:ahmed"}
    assert audiences.hidden("members") == frozenset()
    before = audiences.hidden("public")
    assert audiences.hidden("public") is before  # the same object until a change
    network.write([
        Person(id="person:shy", name="Shy", discoverable=False),
        Person(id="person:priv", name="Priv", visibility="private"),
    ])  # fmt: skip
    feed.catch_up()
    assert audiences.hidden("public") == {"person:ahmed", "person:shy", "person:priv"}
    assert audiences.hidden("members") == {"person:shy", "person:priv"}
    network.write([Person(id="person:shy", name="Shy")])
    network.delete_node("person:priv")
    feed.catch_up()
    assert audiences.hidden("members") == frozenset()
    assert audiences.hidden("public") == {"person:ahmed"}
    rebuilt = AudienceIndex.from_graph(view.graph)
    assert all(rebuilt.hidden(a) == audiences.hidden(a) for a in ("public", "members"))


def test_someone_hidden_from_their_audience_gets_one_remembered_set_less_themselves(
    network: Store,
) -> None:
    """A person always finds themselves: their audience's hidden set less them, the same
    object search after search (the indexes remember its rows by identity) until a change."""
    view = GraphView.from_store(network)
    audiences = AudienceIndex.from_graph(view.graph)
    feed = ChangeFeed(network, [view, audiences], seq=view.seq)
    network.write([
        Person(id="person:priv", name="Priv", visibility="private"),
        Person(id="person:shy", name="Shy", discoverable=False),
    ])  # fmt: skip
    feed.catch_up()
    theirs = audiences.hidden("members", but="person:priv")
    assert theirs == {"person:shy"}
    assert audiences.hidden("members", but="person:priv") is theirs
    assert audiences.hidden("public", but="person:priv") == {"person:ahmed", "person:shy"}
    # Someone the audience may list takes nothing out: the audience's own set.
    assert audiences.hidden("members", but="person:zoe") is audiences.hidden("members")
    network.write([Person(id="person:shy", name="Shy")])
    feed.catch_up()
    assert audiences.hidden("members", but="person:priv") == frozenset()
