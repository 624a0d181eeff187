"""Faults of the store: a busy store is a domain error; imports write in short transactions."""

from __future__ import annotations

import contextlib
import io
import json
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, make_url, select
from sqlalchemy.exc import OperationalError

from graph import schema
from graph.demo import demo_records
from graph.errors import GraphError, ImportIncomplete, ImportRejected, StoreBusy
from graph.importer import RecordSource, import_records, write_chunks
from graph.interchange import read_jsonl
from graph.model import Person
from graph.store import Store, WriteResult, busy_reason, transaction
from tests.conftest import DATA
from tests.postgres import database_url_for
from tests.postgres import enabled as postgres_pass


@pytest.fixture
def path(store: Store, tmp_path: Path) -> Path:
    return tmp_path / "store" / "cocreate.db"  # the conftest's store (on PostgreSQL too)


def hold_write_lock(path: Path) -> Any:
    """Another process's writer, as the database sees it: a connection holding the store's
    write lock (on SQLite BEGIN IMMEDIATE, on PostgreSQL the change log's EXCLUSIVE lock)."""
    url = database_url_for(path)
    if url is None:
        other: Any = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        return other
    import psycopg

    other = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    other.execute("LOCK TABLE changes IN EXCLUSIVE MODE")  # psycopg has begun a transaction
    return other


def test_a_write_to_a_locked_store_raises_store_busy_after_the_busy_timeout(path: Path) -> None:
    store = Store.open(path, busy_timeout=0.2)
    other = hold_write_lock(path)
    try:
        started = time.perf_counter()
        with pytest.raises(StoreBusy) as caught:
            store.upsert(Person(id="person:waits", name="Waits"))
        waited = time.perf_counter() - started
        assert 0.15 < waited < 2, waited
        assert isinstance(caught.value, GraphError)
        assert caught.value.retry_after >= 1
        assert "busy" in str(caught.value)
        # Reads go on while another writer holds the lock (WAL).
        assert store.find_node("sdg:4") is not None
        assert store.last_seq() > 0
    finally:
        other.rollback()
        other.close()
    assert store.upsert(Person(id="person:waits", name="Waits")).nodes_written == 1
    store.close()


def test_raw_engine_users_get_store_busy_too(path: Path) -> None:
    """Code that uses the engine itself (API keys, the audit log) gets the same error."""
    store = Store.open(path, busy_timeout=0.1)
    other = hold_write_lock(path)
    row = {"seq": 10**9, "op": "upsert", "entity": "node", "ref": "x", "at": 0.0}
    try:
        with pytest.raises(StoreBusy), store.engine.begin() as conn:
            conn.execute(schema.changes.insert(), row)
    finally:
        other.rollback()
        other.close()
    store.close()


def test_a_transaction_that_reads_then_writes_is_not_overtaken(path: Path) -> None:
    """:func:`transaction` takes the write lock at its start, so another process's write
    waits for its commit. (A deferred transaction that read first and wrote after that
    other commit would fail at once with "database is locked", whatever the timeout.)"""
    store = Store.open(path, busy_timeout=5)
    other = Store.open(path, busy_timeout=5)  # another process (another worker)
    read = threading.Event()
    other_committed: list[float] = []

    def write_meanwhile() -> None:
        read.wait(10)
        other.upsert(Person(id="person:meanwhile", name="Meanwhile"))
        other_committed.append(time.perf_counter())

    thread = threading.Thread(target=write_meanwhile)
    thread.start()
    try:
        with transaction(store.engine) as conn:
            seen = conn.execute(select(func.max(schema.changes.c.seq))).scalar()
            read.set()
            time.sleep(0.3)  # the other writer tries meanwhile
            row = {"seq": seen + 1_000, "op": "upsert", "entity": "node", "ref": "x", "at": 0.0}
            conn.execute(schema.changes.insert(), row)
        committed = time.perf_counter()
    finally:
        thread.join()
    assert other_committed, "the other writer failed"
    if database_url_for(path) is None:  # PostgreSQL serialises these two by other locks
        assert other_committed[0] >= committed
    assert other.find_node("person:meanwhile") is not None
    other.close()
    store.close()


class FakePgError(Exception):
    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("orig", "busy"),
    [
        (sqlite3.OperationalError("database is locked"), True),
        (sqlite3.OperationalError("database table is locked"), True),
        (sqlite3.OperationalError("database is busy"), True),
        (sqlite3.OperationalError("no such table: nodes"), False),
        (sqlite3.IntegrityError("UNIQUE constraint failed"), False),
        (FakePgError("canceling statement due to lock timeout", "55P03"), True),
        (FakePgError("could not serialize access", "40001"), True),
        (FakePgError("deadlock detected", "40P01"), True),
        (FakePgError("the database system is starting up", "57P03"), True),
        (FakePgError("sorry, too many clients already", "53300"), True),
        (FakePgError('connection to server at "db" (10.0.0.1), port 5432 failed: '
                     "Connection refused"), True),
        # A restart of the server (pg_ctl restart -m fast), as psycopg reports it.
        (FakePgError("terminating connection due to administrator command", "57P01"), True),
        (FakePgError('connection failed: connection to server at "127.0.0.1", port 5432 '
                     "failed: FATAL:  the database system is shutting down"), True),
        (FakePgError('connection failed: connection to server at "127.0.0.1", port 5432 '
                     "failed: FATAL:  the database system is starting up"), True),
        (FakePgError('connection failed: connection to server at "127.0.0.1", port 5432 '
                     "failed: server closed the connection unexpectedly"), True),
        (FakePgError("consuming input failed: could not receive data from server: "
                     "Connection reset by peer"), True),
        (FakePgError("connection failed: connection timeout expired"), True),
        (FakePgError('connection failed: connection to server at "db", port 5432 failed: '
                     'FATAL:  password authentication failed for user "cocreate"'), False),
        (FakePgError('relation "nodes" does not exist', "42P01"), False),
    ],
)  # fmt: skip
def test_busy_errors_of_sqlite_and_postgresql_are_recognised(orig: Exception, busy: bool) -> None:
    wrapped = OperationalError("SELECT 1", {}, orig)
    assert (busy_reason(wrapped) is not None) is busy
    assert (busy_reason(orig) is not None) is busy


class Gateway:
    """A TCP relay on loopback between a store and its PostgreSQL server, that can be shut:
    the server as a store sees it while it restarts (every connection is cut, new ones are
    refused), without stopping the server the other tests share."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self.listener: socket.socket | None = None
        self.links: list[socket.socket] = []
        self.lock = threading.Lock()

    def open(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port, self.listener = listener.getsockname()[1], listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def shut(self) -> None:
        """Cut every connection and refuse new ones, until :meth:`open` again."""
        assert self.listener is not None
        with contextlib.suppress(OSError):  # wakes the accepting thread, stops listening
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        with self.lock:
            links, self.links = self.links, []
        for link in links:
            with contextlib.suppress(OSError):
                link.shutdown(socket.SHUT_RDWR)
            link.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                near, _ = listener.accept()
            except OSError:
                return  # shut
            far = socket.create_connection(self.target)
            with self.lock:
                self.links += [near, far]
            for a, b in ((near, far), (far, near)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@pytest.mark.skipif(not postgres_pass(), reason="about a database server (the PostgreSQL pass)")
def test_every_path_of_a_store_whose_server_is_down_raises_store_busy(path: Path) -> None:
    """While the server cannot be reached (a restart), reads and writes raise
    :class:`StoreBusy` whichever way they reach it: the hot paths' pooled DB-API
    connections (a node read) as well as SQLAlchemy's (a write, a listing); once it is back,
    they succeed."""
    url = make_url(database_url_for(path))
    gateway = Gateway((url.host or "127.0.0.1", url.port or 5432))
    gateway.open()
    store = Store.open(url.set(port=gateway.port).render_as_string(hide_password=False))
    try:
        assert store.find_node("sdg:4") is not None  # a pooled connection, through the gateway
        with store.engine.connect() as conn:
            conn.execute(select(func.count()).select_from(schema.nodes))
            gateway.shut()  # cut within a transaction
            with pytest.raises(StoreBusy):
                conn.execute(select(func.count()).select_from(schema.edges))
        with pytest.raises(StoreBusy):
            store.find_node("sdg:4")  # the pooled connections are dead, a new one refused
        with pytest.raises(StoreBusy):
            store.get_nodes(["sdg:4", "sdg:5"])
        with pytest.raises(StoreBusy):
            store.upsert(Person(id="person:while-down", name="While down"))
        with pytest.raises(StoreBusy):
            store.last_seq()
        gateway.open()
        assert store.find_node("sdg:4") is not None
        store.upsert(Person(id="person:when-back", name="When back"))
        assert store.find_node("person:when-back") is not None
        assert store.find_node("person:while-down") is None
    finally:
        store.close()
        gateway.shut()


# -- imports in short transactions ------------------------------------------------


def people_lines(count: int, *, edges: bool = True) -> list[str]:
    lines = [
        json.dumps({"type": "node", "id": f"person:p{i}", "kind": "person", "name": f"P {i}"})
        for i in range(count)
    ]
    if edges:
        lines += [
            json.dumps({"type": "edge", "kind": "knows", "source": f"person:p{i}",
                        "target": f"person:p{i - 1}"})
            for i in range(1, count)
        ]  # fmt: skip
    return lines


def lines_source(lines: list[str]) -> RecordSource:
    def source() -> Iterator[tuple[int, Any]]:
        yield from read_jsonl(io.StringIO("\n".join(lines) + "\n"))

    return source


def test_an_import_writes_in_short_transactions_that_let_other_writers_in(path: Path) -> None:
    store = Store.open(path)
    other = Store.open(path, busy_timeout=0.05)  # another process (the service) writing
    seen: list[tuple[int, int]] = []

    def between_chunks(_seq: int) -> None:
        # Runs after each committed chunk: the import holds no lock now, so a write of
        # another process goes through at once.
        persons = store.node_counts().get("person", 0)
        other.upsert(Person(id=f"person:other-{len(seen)}", name="Someone else"))
        seen.append((persons, len(seen)))

    store.subscribe(between_chunks)
    # Edges come first in the file: every node is still written before any edge.
    lines = people_lines(100)
    lines = lines[100:] + lines[:100]
    report = import_records(lines_source(lines), store, chunk_size=30, chunk_seconds=None)
    store.unsubscribe(between_chunks)
    assert report.write.nodes_written == 100
    assert report.write.edges_written == 99
    assert len(seen) >= 7  # 100 nodes and 99 edges in chunks of at most 30
    persons = [count for count, _ in seen]
    assert persons[0] == 30  # the first chunk, committed on its own
    assert persons == sorted(persons)
    assert store.node_counts()["person"] == 100 + len(seen)
    other.close()
    store.close()


def test_a_bad_record_anywhere_still_writes_nothing(store: Store) -> None:
    before = store.last_seq()
    lines = [*people_lines(100), '{"type": "node", "id": "person:bad", "kind": "person"}']
    with pytest.raises(ImportRejected):
        import_records(lines_source(lines), store, chunk_size=10)
    assert store.last_seq() == before


def test_an_interrupted_import_leaves_whole_records_and_finishes_when_run_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = people_lines(50)
    write = store.write
    calls = 0

    def fail_on_fifth_chunk(items: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 5:  # 3 chunks of nodes (20, 20, 10), one of edges, then this one
            raise StoreBusy("the store is busy (test)")
        return write(items, **kwargs)

    monkeypatch.setattr(store, "write", fail_on_fifth_chunk)
    with pytest.raises(ImportIncomplete) as caught:
        import_records(lines_source(lines), store, chunk_size=20, chunk_seconds=None)
    monkeypatch.undo()
    assert caught.value.written == 50 + 20
    assert isinstance(caught.value.cause, StoreBusy)
    assert "run the import again" in str(caught.value)
    edges = list(store.iter_edges(kind="knows"))
    assert len(edges) == 20
    ends = {e.source for e in edges} | {e.target for e in edges}
    assert store.existing_ids(ends) == ends  # no edge without its nodes
    again = import_records(lines_source(lines), store, chunk_size=20)
    assert again.write.nodes_written == 0
    assert again.write.edges_written == 49 - 20
    assert again.write.unchanged == 50 + 20


def test_the_demo_loads_in_short_transactions(store: Store) -> None:
    commits: list[int] = []
    store.subscribe(commits.append)
    records = demo_records(DATA, seed=3, people=40)
    result = write_chunks(store, records, chunk_size=400, chunk_seconds=None)
    store.unsubscribe(commits.append)
    count = result.nodes_written + result.edges_written + result.unchanged
    assert len(commits) == -(-count // 400)  # one commit per chunk
    assert store.node_counts()["person"] == 40
    again = write_chunks(store, demo_records(DATA, seed=3, people=40), chunk_size=400)
    assert not again.changed  # loading it again (to finish a stopped load) writes nothing


def test_a_slow_chunk_makes_the_next_ones_smaller() -> None:
    sizes: list[int] = []

    class SlowFirstWrite:
        def write(self, items: list[Any], **options: Any) -> WriteResult:
            sizes.append(len(items))
            if len(sizes) == 1:
                time.sleep(0.25)  # the machine is busy: the first chunk took too long
            return WriteResult(nodes_written=len(items))

    nodes = [Person(id=f"person:s{i}", name="S") for i in range(400)]
    store: Any = SlowFirstWrite()
    result = write_chunks(store, nodes, chunk_size=100, chunk_seconds=0.2)
    assert result.nodes_written == 400
    assert sizes[:3] == [100, 50, 100]  # halved after the slow one, back up after a quick one
