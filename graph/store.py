"""The store: the source of truth for nodes and edges, with a change log.

Every write is one transaction. A writer waits for the database's write lock at
most ``busy_timeout`` seconds; past that (or when the database cannot be reached,
or PostgreSQL gives up on a lock or a serializable transaction) the store raises
:class:`StoreBusy`, whichever path, SQLAlchemy or raw DB-API, ran the statement.
A write that upserts a node identical to the
stored one changes nothing (no row, no change-log entry), so importing the same
data twice is a no-op. A node written with only fields no filter column is derived
from changed (a bio, interests, contact details: its kind, name, country, visibility,
discoverability, place and activity as they were) is logged as ``edit`` rather than
``upsert``, so that a listing can tell it moved no one in or out of its filters
(:data:`WRITES`). Deleting a node deletes its edges. Derived indexes (the
networkx view, vector and lexical indexes) follow the change log by sequence
number, so they can catch up after a restart instead of rebuilding.

Deleting a person **erases** them: their node and edges go, every earlier change-log
entry naming them or one of their edges is removed, and one entry
``("erase", "node", ERASED)`` takes the sequence number, naming no one. A follower
that meets it cannot know whom it was about, so it drops the people it holds that the
store no longer has (and re-reads those written since, one of whom may be the erased
person created again): see :meth:`Store.person_versions`. Steps added with
:meth:`Store.add_erasure_step` run in the same transaction (the API revokes the
person's keys and rewrites their audit entries). SQLite connections run with
``secure_delete`` so that freed pages are zeroed, and the WAL is truncated after an
erasure so that no older page image keeps the erased rows.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import unicodedata
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from graph import migrations, schema
from graph.codec import edge_data, edge_from_row, node_data, node_from_row
from graph.edges import Edge
from graph.errors import (
    EdgeNotFound,
    MissingEndpoint,
    NodeNotFound,
    ReadOnlyStore,
    SchemaVersionError,
    StoreBusy,
    StoreNotMigrated,
)
from graph.geo import public_place
from graph.ids import kind_of
from graph.model import Node

log = logging.getLogger(__name__)

Op = Literal["upsert", "edit", "delete", "erase"]
WRITES: frozenset[str] = frozenset({"upsert", "edit"})
"""The ops of an entry after which its node or edge exists: ``edit`` is a node upsert
that changed none of the columns filters read (:data:`FILTER_COLUMNS`)."""
FILTER_COLUMNS = ("kind", "name", "country", "visibility", "discoverable", "locality",
                  "lat", "lon", "active")  # fmt: skip
"""What a node's row holds besides its fields, for filters, listings and the map: an
upsert that leaves every one as it was is logged as ``edit``."""
Entity = Literal["node", "edge"]
Listener = Callable[[int], None]
"""Called after each committed write with the store's new last sequence number."""
ErasureStep = Callable[[Connection, str], None]
"""Run inside the transaction that erases a person, with their id."""

_CHUNK = 500
_SIDE_TABLES_LOCK = 0x636F_6372_7369_6465  # "cocrside"
_MIGRATION_LOCK = 0x636F63726561  # "cocrea": the advisory lock of schema migrations
ERASED = "erased"
"""The ref of an erasure's change-log entry (and of audit entries that named the person)."""


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of the change log."""

    seq: int
    op: Op
    entity: Entity
    ref: str


@dataclass(frozen=True, slots=True)
class _Statement:
    """A SELECT compiled for the store's dialect; ``order`` names positional parameters."""

    sql: str
    order: tuple[str, ...] | None


@dataclass(slots=True)
class WriteResult:
    """What one write transaction did."""

    nodes_written: int = 0
    edges_written: int = 0
    nodes_deleted: int = 0
    edges_deleted: int = 0
    unchanged: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    erased: list[str] = field(default_factory=list)
    """The people this write erased (deleting a person erases them)."""

    @property
    def changed(self) -> bool:
        return self.last_seq is not None


@dataclass(frozen=True, slots=True)
class StoredVectors:
    """Text vectors to keep with the nodes a write upserts: (node id, text digest, bytes)."""

    model: str
    rows: Sequence[tuple[str, str, bytes]]


@dataclass(frozen=True, slots=True)
class Deletion:
    """A request to delete a node (``ref`` is its id) or an edge (``ref`` is source|kind|target)."""

    entity: Entity
    ref: str


Item = Node | Edge | Deletion


def edge_ref(source: str, kind: str, target: str) -> str:
    return f"{source}|{kind}|{target}"


def split_edge_ref(ref: str) -> tuple[str, str, str]:
    source, kind, target = ref.split("|")
    return source, kind, target


def names(ref: Any, node_id: str) -> Any:
    """A SQL condition: the ref column ``ref`` is this node or one of its edges."""
    return or_(
        ref == node_id,
        ref.startswith(f"{node_id}|", autoescape=True),
        ref.endswith(f"|{node_id}", autoescape=True),
    )


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


DEFAULT_BUSY_TIMEOUT = 10.0
"""Seconds a writer waits for the write lock unless told otherwise (the CLI's batch jobs)."""
READ_ONLY_SCHEMA_WAIT = 30.0
"""Seconds a read-only store (a standby) may take to show the schema this code writes."""

# SQLite's primary result codes for "another connection holds the lock".
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
# PostgreSQL SQLSTATEs after which the same request may well succeed a moment later.
_PG_TRANSIENT = {
    "55P03": "lock timeout",
    "40001": "serialization failure",
    "40P01": "deadlock detected",
    "57014": "statement timeout",
    "57P01": "the database is restarting",  # admin_shutdown: a fast or smart stop
    "57P02": "the database is restarting",  # crash_shutdown: another backend crashed
    "57P03": "the database cannot accept connections yet",
    "53300": "too many connections",
    "08000": "connection failure",
    "08001": "cannot connect to the database",
    "08004": "the database refused the connection",
    "08006": "connection failure",
}
_TRANSIENT_TEXT = {
    "database is locked": "database is locked",
    "database table is locked": "database table is locked",
    "database is busy": "database is busy",
    "connection refused": "the database refused the connection",
    "could not connect to server": "cannot connect to the database",
    # What psycopg says when connecting to a server that is stopping or starting (a
    # refused connection carries no SQLSTATE), or when the server ended the connection.
    "the database system is shutting down": "the database is restarting",
    "the database system is starting up": "the database cannot accept connections yet",
    "the database system is in recovery mode": "the database cannot accept connections yet",
    "the database system is not yet accepting connections": (
        "the database cannot accept connections yet"
    ),
    "server closed the connection unexpectedly": "the database closed the connection",
    "connection reset by peer": "the database closed the connection",
    "broken pipe": "the database closed the connection",
    "no connection to the server": "the database closed the connection",
    "connection timeout expired": "cannot connect to the database",
    "terminating connection due to administrator command": "the database is restarting",
}


def busy_reason(exc: BaseException) -> str | None:
    """Why ``exc`` means "busy, try again soon" (a lock, a timeout, no connection), or None.

    ``exc`` is a DB-API error (sqlite3, psycopg) or SQLAlchemy's wrapper of one.
    """
    if isinstance(exc, PoolTimeout):
        return "no free database connection"
    orig: Any = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return "database is locked" if code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED) else None
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if isinstance(state, str) and state in _PG_TRANSIENT:
        return _PG_TRANSIENT[state]
    text = str(orig).lower()
    for needle, reason in _TRANSIENT_TEXT.items():
        if needle in text:
            return reason
    return None


def _store_busy(exc: BaseException, busy_timeout: float) -> StoreBusy | None:
    reason = busy_reason(exc)
    if reason is None:
        return None
    # A lock is usually free again well within the timeout the writer just waited.
    return StoreBusy(reason, retry_after=max(1, math.ceil(busy_timeout)))


def _translate_errors(engine: Engine, busy_timeout: float) -> None:
    """Every busy error of a statement run through ``engine`` becomes :class:`StoreBusy`."""

    @event.listens_for(engine, "handle_error")
    def _on_error(context: ExceptionContext) -> BaseException | None:
        busy = _store_busy(context.original_exception, busy_timeout)
        if busy is None and context.is_disconnect:  # the driver found the connection dead
            busy = StoreBusy("the database closed the connection",
                             retry_after=max(1, math.ceil(busy_timeout)))  # fmt: skip
        return busy


@dataclass(frozen=True)
class _WriteGate:
    """The writers of one SQLite store in this process, one at a time."""

    mutex: threading.RLock
    busy_timeout: float


_WRITE_GATES: weakref.WeakKeyDictionary[Engine, _WriteGate] = weakref.WeakKeyDictionary()


def _configure_sqlite(engine: Engine, busy_timeout: float) -> None:
    """WAL, foreign keys, and explicit BEGIN so that writers take the lock up front."""
    timeout_ms = max(0, round(busy_timeout * 1000))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={timeout_ms}")
        # Freed content is overwritten with zeros, so a deleted row (an erased person's
        # record, an older version of it) does not linger in free pages of the file.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        deadline = conn.get_execution_options().get("cocreate_write")
        if deadline:
            _begin_immediate(conn.connection.dbapi_connection, busy_timeout, deadline)
        else:
            conn.exec_driver_sql("BEGIN")

    _WRITE_GATES[engine] = _WriteGate(threading.RLock(), busy_timeout)


_POLL_MS = 1


def _begin_immediate(dbapi_connection: Any, busy_timeout: float, deadline: float) -> None:
    """BEGIN IMMEDIATE, trying again every millisecond or two until ``deadline`` (a
    :func:`time.monotonic` time).

    SQLite's own busy handler sleeps longer and longer between tries (up to 100 ms),
    so a writer waiting behind a series of short transactions (the chunks of an
    import) could keep missing the moments between them. Polling every millisecond
    catches the first one: the wait is at most about one chunk.
    """
    dbapi_connection.execute(f"PRAGMA busy_timeout={_POLL_MS}")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except Exception as exc:
                busy = _store_busy(exc, busy_timeout)
                if busy is None:
                    raise
                if time.monotonic() >= deadline:
                    raise busy from exc
            time.sleep(_POLL_MS / 1000)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={max(0, round(busy_timeout * 1000))}")


def _configure_postgresql(engine: Engine, busy_timeout: float, *, read_only: bool = False) -> None:
    """A statement waiting for a lock gives up after ``busy_timeout`` (SQLSTATE 55P03);
    with ``read_only`` every transaction is read-only (a write fails, SQLSTATE 25006)."""
    timeout_ms = max(1, round(busy_timeout * 1000))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET lock_timeout = {timeout_ms}")
        if read_only:
            cursor.execute("SET default_transaction_read_only = on")
        cursor.close()
        dbapi_connection.commit()
        if read_only:  # psycopg's own flag too: it never begins one as READ WRITE then
            dbapi_connection.read_only = True  # (a standby refuses that, whatever follows)


@contextmanager
def _write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that means to write: on SQLite it takes the write lock at its start
    (``BEGIN IMMEDIATE``, waiting up to the store's busy timeout), so a read in it can
    never be overtaken by another writer's commit: a deferred transaction that reads and
    then writes would fail at once with "database is locked", whatever the timeout."""
    gate = _WRITE_GATES.get(engine)
    if gate is None:  # PostgreSQL: the server queues the writers
        with engine.connect().execution_options(cocreate_write=True) as conn, conn.begin():
            yield conn
        return
    deadline = time.monotonic() + gate.busy_timeout
    # Threads of one process queue here, asleep, rather than each polling SQLite's lock
    # (and each waking for the GIL every millisecond, slowing the thread that holds it).
    if not gate.mutex.acquire(timeout=gate.busy_timeout):
        raise StoreBusy("database is locked", retry_after=max(1, math.ceil(gate.busy_timeout)))
    try:
        with engine.connect().execution_options(cocreate_write=deadline) as conn, conn.begin():
            yield conn
    finally:
        gate.mutex.release()


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """A write transaction of the service's own tables (accounts, keys, requests, marks,
    drafts), one at a time: a check followed by a write in it (an address not taken yet,
    a request not asked twice) still holds at its commit. On SQLite the write lock does
    that; on PostgreSQL a transaction-level advisory lock, waited for at most the busy
    timeout. Graph writes go through :class:`Store`, which also locks the change log."""
    with _write_transaction(engine) as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(_SIDE_TABLES_LOCK)))
        yield conn


@dataclass
class _Writer:
    """State of one write transaction."""

    conn: Connection
    seq: int
    result: WriteResult = field(default_factory=WriteResult)
    change_rows: list[dict[str, Any]] = field(default_factory=list)
    maybe_missing: set[str] = field(default_factory=set)
    erasures: dict[str, int] = field(default_factory=dict)  # person id -> seq of the erasure

    def log(self, op: Op, entity: Entity, ref: str) -> int:
        self.seq += 1
        if self.result.first_seq is None:
            self.result.first_seq = self.seq
        self.result.last_seq = self.seq
        self.change_rows.append(
            {"seq": self.seq, "op": op, "entity": entity, "ref": ref, "at": time.time()}
        )
        return self.seq

    def flush_log(self) -> None:
        if self.change_rows:
            self.conn.execute(schema.changes.insert(), self.change_rows)
            self.change_rows = []


class Store:
    """Nodes and edges in a SQL database (SQLite by default)."""

    def __init__(
        self,
        engine: Engine,
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        read_only: bool = False,
    ) -> None:
        self.engine = engine
        self.busy_timeout = busy_timeout
        self.read_only = read_only
        self._listeners: list[Listener] = []
        self._erasure_steps: list[ErasureStep] = []
        self._statements: dict[Any, _Statement] = {}
        self._wal_to_truncate = False  # an erasure's checkpoint was kept from truncating
        self.migrated_from: str | None = None
        """The schema revision the store was at when opened (None: a new or pre-migration
        store); it is at :func:`graph.migrations.head` once open."""
        if read_only:
            self._check_schema()
        else:
            self._prepare()

    @classmethod
    def open(
        cls,
        url: str | Path,
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        read_only: bool = False,
    ) -> Store:
        """Open (creating if needed) the store at a SQLAlchemy URL or a SQLite file path.

        A write waits at most ``busy_timeout`` seconds for another writer's lock, then
        raises :class:`StoreBusy`.

        ``read_only``: a PostgreSQL standby of a store that is opened for writing
        elsewhere: nothing is created or migrated, every transaction is read-only, and
        the schema must be the one this code writes (a standby lags the primary's
        migration by its replay: :data:`READ_ONLY_SCHEMA_WAIT` seconds are allowed).
        """
        if isinstance(url, Path) or "://" not in url:
            path = Path(url)
            path.parent.mkdir(parents=True, exist_ok=True)
            url = sqlite_url(path)
        # On PostgreSQL, a pooled connection is tested before use: after the server
        # restarted, requests get new connections instead of failing on dead ones.
        engine = create_engine(url, pool_pre_ping=make_url(url).get_backend_name() != "sqlite")
        if engine.dialect.name == "sqlite":
            _configure_sqlite(engine, busy_timeout)
        elif engine.dialect.name == "postgresql":
            _configure_postgresql(engine, busy_timeout, read_only=read_only)
        _translate_errors(engine, busy_timeout)
        try:
            return cls(engine, busy_timeout=busy_timeout, read_only=read_only)
        except BaseException:
            engine.dispose()  # a store refused (a newer schema) keeps no connection open
            raise

    def close(self) -> None:
        self.engine.dispose()

    def _check_schema(self) -> None:
        """A read-only store's schema is this code's (waiting for a standby's replay of
        the primary's migration for at most :data:`READ_ONLY_SCHEMA_WAIT` seconds)."""
        deadline = time.monotonic() + READ_ONLY_SCHEMA_WAIT
        while True:
            with self.engine.connect() as conn:
                revision = migrations.current(conn)
            if revision == migrations.head():
                self.migrated_from = revision
                return
            if time.monotonic() >= deadline:
                raise StoreNotMigrated(revision, migrations.head())
            time.sleep(0.2)

    def _prepare(self) -> None:
        """Create or upgrade the schema (:mod:`graph.migrations`), once for all processes."""
        with self._begin_write(lock_log=False) as conn:
            if self.engine.dialect.name == "postgresql":
                # Processes opening one database at once migrate it one after another.
                conn.execute(select(func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
            self.migrated_from = migrations.current(conn)
            if self.migrated_from != migrations.head():
                migrations.upgrade(conn)
            _fill_name_keys(conn)
            found = conn.execute(select(func.max(schema.schema_version.c.version))).scalar()
            if found is None:
                conn.execute(schema.schema_version.insert(), {"version": schema.SCHEMA_VERSION})
            elif found > schema.SCHEMA_VERSION:
                raise SchemaVersionError(found, schema.SCHEMA_VERSION)
            elif found < schema.SCHEMA_VERSION:
                conn.execute(schema.schema_version.update().values(version=schema.SCHEMA_VERSION))

    # -- listeners ---------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(last_seq)`` after every committed write."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def add_erasure_step(self, step: ErasureStep) -> None:
        """Run ``step(conn, person_id)`` in the transaction of every erasure (see the module)."""
        self._erasure_steps.append(step)

    # -- reads -------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def _begin_write(self, *, lock_log: bool = True) -> Iterator[Connection]:
        """A write transaction. It holds the store's write lock from its start to its commit,
        so change numbers are committed in the order they are allocated and a follower
        that has read up to change ``n`` can never later meet a smaller one.

        SQLite's ``BEGIN IMMEDIATE`` is that lock. On PostgreSQL it is an EXCLUSIVE lock
        on the change log (readers go on; other writers, and anything else inserting
        into the log, wait at most ``busy_timeout``: PostgreSQL's ``lock_timeout``).
        """
        if self.read_only:
            raise ReadOnlyStore("this store is read-only (a standby): write to the primary")
        with _write_transaction(self.engine) as conn:
            if lock_log and self.engine.dialect.name == "postgresql":
                conn.exec_driver_sql("LOCK TABLE changes IN EXCLUSIVE MODE")
            yield conn

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read-only transaction whose statements all see one committed state.

        SQLite's WAL gives a transaction one snapshot from its first read; PostgreSQL
        does so at REPEATABLE READ (its default, READ COMMITTED, lets each statement
        see the writes committed before it).
        """
        conn = self.engine.connect()
        if self.engine.dialect.name == "postgresql" and self.read_only:
            # Every transaction is read-only already; SQLAlchemy would reset the flag to
            # READ WRITE afterwards, which a standby refuses.
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        elif self.engine.dialect.name == "postgresql":
            conn = conn.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        with conn, conn.begin():
            yield conn

    @contextmanager
    def raw_rows(
        self, conn: Connection, query: Any, batch: int = 20_000
    ) -> Iterator[Iterator[tuple[Any, ...]]]:
        """The rows of a SELECT without parameters as the DB-API gives them, read on the
        DB-API connection of ``conn``'s transaction (so within its :meth:`snapshot`): for
        the million rows a graph view reads at start, SQLAlchemy's result layer costs as
        much again as the reading itself. The cursor is closed on leaving the block,
        however it is left; a busy store raises :class:`StoreBusy`, as on every path."""
        cursor = conn.connection.cursor()

        def rows() -> Iterator[tuple[Any, ...]]:
            try:
                cursor.execute(str(query.compile(dialect=conn.dialect)))
                while fetched := cursor.fetchmany(batch):
                    yield from fetched
            except Exception as exc:  # raw DB-API: SQLAlchemy's handle_error never sees it
                busy = _store_busy(exc, self.busy_timeout)
                if busy is not None:
                    raise busy from exc
                raise

        try:
            yield rows()
        finally:
            cursor.close()

    # The service's hot paths (a node read, a page of neighbours, the change-log head)
    # run one SELECT each. They skip SQLAlchemy's connection and result layers, which
    # cost four times the query itself: each statement is compiled once for the dialect
    # and run on a pooled DB-API connection. A single SELECT is atomic on its own, so
    # no explicit transaction (on SQLite, no BEGIN) is needed.

    def _statement(self, key: Any, build: Callable[[], Any]) -> _Statement:
        found = self._statements.get(key)
        if found is None:
            compiled = build().compile(dialect=self.engine.dialect)
            order = tuple(compiled.positiontup or ()) if self.engine.dialect.positional else None
            found = self._statements[key] = _Statement(str(compiled), order)
        return found

    def _fetch(self, statement: _Statement, params: dict[str, Any]) -> list[Any]:
        """The rows of one compiled SELECT, run on a pooled DB-API connection."""
        args: Any = params
        if statement.order is not None:
            args = tuple(params[name] for name in statement.order)
        # Raw DB-API, connecting included (a pooled connection found dead is replaced,
        # and the server may refuse the new one): SQLAlchemy's handle_error never sees it.
        try:
            raw = self.engine.raw_connection()
            try:
                cursor = raw.cursor()
                try:
                    cursor.execute(statement.sql, args)
                    return list(cursor.fetchall())
                finally:
                    cursor.close()
            finally:
                raw.close()  # back to the pool
        except Exception as exc:
            busy = _store_busy(exc, self.busy_timeout)
            if busy is not None:
                raise busy from exc
            raise

    def _node_rows(self, ids: Sequence[str]) -> list[Any]:
        """Rows (id, kind, name, data) of the nodes among ``ids`` (at most ``_CHUNK``)."""

        def build() -> Any:
            t = schema.nodes
            wanted: list[Any] = [bindparam(f"id{i}") for i in range(len(ids))]
            match = t.c.id == wanted[0] if len(wanted) == 1 else t.c.id.in_(wanted)
            return select(t.c.id, t.c.kind, t.c.name, t.c.data).where(match)

        statement = self._statement(("nodes", len(ids)), build)
        return self._fetch(statement, {f"id{i}": node_id for i, node_id in enumerate(ids)})

    def find_node(self, node_id: str) -> Node | None:
        """The node with this id, or None."""
        rows = self._node_rows([node_id])
        return node_from_row(*rows[0]) if rows else None

    def get_node(self, node_id: str) -> Node:
        """The node with this id; raises :class:`NodeNotFound`."""
        node = self.find_node(node_id)
        if node is None:
            raise NodeNotFound(node_id)
        return node

    def get_nodes(self, ids: Iterable[str]) -> dict[str, Node]:
        """The nodes among ``ids`` that exist, by id."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, Node] = {}
        if 0 < len(wanted) <= _CHUNK:  # one statement: the fast path
            for row in self._node_rows(wanted):
                found[row[0]] = node_from_row(*row)
            return found
        with self._read() as conn:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                t = schema.nodes
                query = select(t.c.id, t.c.kind, t.c.name, t.c.data).where(t.c.id.in_(chunk))
                for row in conn.execute(query):
                    found[row.id] = node_from_row(row.id, row.kind, row.name, row.data)
        return found

    def records(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """(name, canonical JSON of the other fields) of the nodes among ``ids`` that exist:
        for callers that need a field or two of many records, not whole models."""
        t = schema.nodes
        wanted = list(dict.fromkeys(ids))
        found: dict[str, tuple[str, str]] = {}
        with self._read() as conn:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                query = select(t.c.id, t.c.name, t.c.data).where(t.c.id.in_(chunk))
                found.update((row.id, (row.name, row.data)) for row in conn.execute(query))
        return found

    def ids_with_record_text(self, kind: str, fragment: str) -> list[str]:
        """Ids of the nodes of ``kind`` whose stored record (canonical JSON: sorted keys, no
        spaces) contains ``fragment`` verbatim, in id order: a scan that narrows a search
        the caller confirms on the parsed records."""
        t = schema.nodes
        query = (
            select(t.c.id)
            .where(t.c.kind == kind, t.c.data.contains(fragment, autoescape=True))
            .order_by(t.c.id)
        )
        with self._read() as conn:
            return list(conn.execute(query).scalars())

    def existing_ids(self, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` are nodes in the store."""
        wanted = list(dict.fromkeys(ids))
        with self._read() as conn:
            return _existing(conn, wanted)

    def iter_nodes(self, *, kind: str | None = None, batch_size: int = 2_000) -> Iterator[Node]:
        """All nodes (of one kind) in id order, read in batches."""
        for row in self.iter_records(kind=kind, batch_size=batch_size):
            yield node_from_row(*row)

    def iter_records(
        self, *, kind: str | None = None, batch_size: int = 2_000
    ) -> Iterator[tuple[str, str, str, str]]:
        """The stored columns (id, kind, name, canonical JSON of the other fields) of all
        nodes (of one kind) in id order, read in batches and not validated again: for
        projections that read a few fields of every node (:mod:`graph.codec`)."""
        t = schema.nodes
        after = ""
        while True:
            query = select(t.c.id, t.c.kind, t.c.name, t.c.data).where(t.c.id > after)
            if kind is not None:
                query = query.where(t.c.kind == kind)
            with self._read() as conn:
                rows = conn.execute(query.order_by(t.c.id).limit(batch_size)).all()
            if not rows:
                return
            for row in rows:
                yield row.id, row.kind, row.name, row.data
            after = rows[-1].id

    def iter_edges(self, *, kind: str | None = None, batch_size: int = 5_000) -> Iterator[Edge]:
        """All edges (of one kind) ordered by (source, kind, target), read in batches."""
        t = schema.edges
        after = ("", "", "")
        while True:
            key = tuple_(t.c.source, t.c.kind, t.c.target)
            query = select(t.c.source, t.c.kind, t.c.target, t.c.data).where(key > tuple_(*after))
            if kind is not None:
                query = query.where(t.c.kind == kind)
            order = (t.c.source, t.c.kind, t.c.target)
            with self._read() as conn:
                rows = conn.execute(query.order_by(*order).limit(batch_size)).all()
            if not rows:
                return
            for row in rows:
                yield edge_from_row(row.source, row.kind, row.target, row.data)
            after = (rows[-1].source, rows[-1].kind, rows[-1].target)

    def edges_of(self, node_id: str) -> list[Edge]:
        """Every edge into or out of ``node_id``, ordered by (source, kind, target)."""
        t = schema.edges
        query = (
            select(t.c.source, t.c.kind, t.c.target, t.c.data)
            .where(or_(t.c.source == node_id, t.c.target == node_id))
            .order_by(t.c.source, t.c.kind, t.c.target)
        )
        with self._read() as conn:
            return [edge_from_row(r.source, r.kind, r.target, r.data) for r in conn.execute(query)]

    def targets_of(self, sources: Iterable[str], kinds: Iterable[str]) -> dict[str, set[str]]:
        """The targets of the edges of ``kinds`` out of each of ``sources`` that has any:
        one statement per ``_CHUNK`` sources, for callers that would otherwise ask
        :meth:`edges_of` once per node."""
        t = schema.edges
        wanted, chosen = list(dict.fromkeys(sources)), sorted(set(kinds))
        found: dict[str, set[str]] = {}
        with self._read() as conn:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                query = select(t.c.source, t.c.target).where(
                    t.c.source.in_(chunk), t.c.kind.in_(chosen)
                )
                for source, target in conn.execute(query):
                    found.setdefault(source, set()).add(target)
        return found

    def get_edge(self, source: str, kind: str, target: str) -> Edge:
        """The edge (source, kind, target); raises :class:`EdgeNotFound`."""
        t = schema.edges
        query = select(t.c.data).where(t.c.source == source, t.c.kind == kind, t.c.target == target)
        with self._read() as conn:
            data = conn.execute(query).scalar()
        if data is None:
            raise EdgeNotFound(source, kind, target)
        return edge_from_row(source, kind, target, data)

    def node_counts(self) -> dict[str, int]:
        """Number of nodes per kind."""
        t = schema.nodes
        with self._read() as conn:
            rows = conn.execute(select(t.c.kind, func.count()).group_by(t.c.kind)).all()
        return dict(sorted(rows))

    def edge_counts(self) -> dict[str, int]:
        """Number of edges per kind."""
        t = schema.edges
        with self._read() as conn:
            rows = conn.execute(select(t.c.kind, func.count()).group_by(t.c.kind)).all()
        return dict(sorted(rows))

    def is_empty(self) -> bool:
        with self._read() as conn:
            return conn.execute(select(schema.nodes.c.id).limit(1)).first() is None

    def last_seq(self) -> int:
        """Sequence number of the newest change (0 for a new store)."""
        statement = self._statement("last_seq", lambda: select(func.max(schema.changes.c.seq)))
        return int(self._fetch(statement, {})[0][0] or 0)

    def person_versions(self) -> dict[str, int]:
        """Every person's id with the sequence number of their last write.

        A follower meeting an erasure entry drops the people it holds that are missing
        here, and re-reads those written after the entry.
        """
        t = schema.nodes
        query = select(t.c.id, t.c.seq).where(t.c.kind == "person")
        with self._read() as conn:
            return {row.id: row.seq for row in conn.execute(query)}

    def changes_since(self, seq: int, *, limit: int = 100_000) -> list[Change]:
        """Change-log entries after ``seq``, oldest first, at most ``limit``."""
        t = schema.changes
        query = (
            select(t.c.seq, t.c.op, t.c.entity, t.c.ref)
            .where(t.c.seq > seq)
            .order_by(t.c.seq)
            .limit(limit)
        )
        with self._read() as conn:
            return [Change(r.seq, r.op, r.entity, r.ref) for r in conn.execute(query)]

    def last_erasure(self, *, after: int = 0) -> int | None:
        """The sequence number of the last erasure after ``after``; None if none."""
        t = schema.changes
        query = select(func.max(t.c.seq)).where(t.c.seq > after, t.c.op == "erase")
        with self._read() as conn:
            found = conn.execute(query).scalar()
        return None if found is None else int(found)

    # -- writes ------------------------------------------------------------

    def write(
        self,
        items: Iterable[Item],
        *,
        within: Callable[[Connection, WriteResult], None] | None = None,
        vectors: StoredVectors | None = None,
    ) -> WriteResult:
        """Apply upserts and deletions in one transaction, in order.

        An edge must join nodes that exist once the write is complete (written
        earlier in the store or anywhere in ``items``); otherwise
        :class:`MissingEndpoint` is raised and nothing is written. ``within`` runs
        inside the same transaction once everything is written (e.g. to add an audit
        row); if it raises, nothing is written. ``vectors`` are kept for the nodes that
        exist at the end of the write, in the same transaction.
        """
        with self._begin_write() as conn:
            writer = _Writer(conn, last_seq_read(conn))
            nodes: list[Node] = []
            edges: list[Edge] = []
            for item in items:
                if isinstance(item, Deletion):
                    self._flush(writer, nodes, edges)
                    nodes, edges = [], []
                    self._delete(writer, item)
                    continue
                if isinstance(item, Edge):
                    edges.append(item)
                else:
                    nodes.append(item)
                if len(nodes) + len(edges) >= _CHUNK:
                    self._flush(writer, nodes, edges)
                    nodes, edges = [], []
            self._flush(writer, nodes, edges)
            missing = writer.maybe_missing - _existing(conn, list(writer.maybe_missing))
            if missing:
                raise MissingEndpoint(min(missing), role="endpoint")
            writer.flush_log()
            if vectors is not None and vectors.rows:
                self._put_vectors(conn, vectors)
            if within is not None:
                within(conn, writer.result)
            for person_id, seq in writer.erasures.items():
                self._forget(conn, person_id, seq)
        result = writer.result
        if result.last_seq is not None:
            for listener in list(self._listeners):
                listener(result.last_seq)
        if result.erased:
            self.checkpoint()
        elif self._wal_to_truncate:
            self._wal_to_truncate = not self._truncate_wal()
        return result

    def upsert(self, *items: Node | Edge) -> WriteResult:
        return self.write(items)

    def delete_node(self, node_id: str) -> WriteResult:
        """Delete a node and all its edges; raises :class:`NodeNotFound`."""
        return self.write([Deletion("node", node_id)])

    def checkpoint(self) -> None:
        """Copy the SQLite WAL into the database file and truncate it to zero bytes.

        After an erasure the WAL still holds the pages as they were before it: this
        leaves the erased rows nowhere. A truncating checkpoint holds the write lock
        while it waits for readers, so each try waits for no one (other writers go on
        between tries); it tries for up to the busy timeout, then after later writes.
        """
        if self.engine.dialect.name != "sqlite":
            return
        deadline = time.monotonic() + self.busy_timeout
        while not self._truncate_wal():
            if time.monotonic() >= deadline:
                self._wal_to_truncate = True
                log.warning("the WAL is not truncated yet after an erasure (readers kept it "
                            "busy): trying again after the next writes")  # fmt: skip
                return
            time.sleep(0.02)
        self._wal_to_truncate = False

    def _truncate_wal(self) -> bool:
        """One try of a truncating checkpoint that waits for no lock; whether it did it."""
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            try:
                cursor.execute("PRAGMA busy_timeout=0")
                busy = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            except Exception as exc:
                if busy_reason(exc) is None:
                    raise
                busy = 1
            finally:
                cursor.execute(f"PRAGMA busy_timeout={max(0, round(self.busy_timeout * 1000))}")
                cursor.close()
        finally:
            raw.close()
        return not busy

    def delete_edge(self, source: str, kind: str, target: str) -> WriteResult:
        """Delete one edge; raises :class:`EdgeNotFound`."""
        return self.write([Deletion("edge", edge_ref(source, kind, target))])

    def _flush(self, writer: _Writer, nodes: Sequence[Node], edges: Sequence[Edge]) -> None:
        if nodes:
            self._write_nodes(writer, nodes)
        if edges:
            self._write_edges(writer, edges)
        if len(writer.change_rows) >= _CHUNK:
            writer.flush_log()

    def _write_nodes(self, writer: _Writer, nodes: Sequence[Node]) -> None:
        t = schema.nodes
        latest = {node.id: node for node in nodes}
        rows = {nid: (n.kind, n.name, node_data(n)) for nid, n in latest.items()}
        derived = {nid: node_columns(n) for nid, n in latest.items()}
        query = select(t.c.id, t.c.data, *(t.c[c] for c in FILTER_COLUMNS)).where(
            t.c.id.in_(list(rows))
        )
        stored = {
            r.id: (r.kind, r.name, r.data, tuple(getattr(r, c) for c in FILTER_COLUMNS))
            for r in writer.conn.execute(query)
        }
        params = []
        for node_id, row in rows.items():
            known = stored.get(node_id)
            if known is not None and known[:3] == row:
                writer.result.unchanged += 1
                continue
            filtered = (row[0], row[1], *(derived[node_id][c] for c in FILTER_COLUMNS[2:]))
            op: Op = "edit" if known is not None and known[3] == filtered else "upsert"
            seq = writer.log(op, "node", node_id)
            params.append(
                {"id": node_id, "kind": row[0], "name": row[1], "data": row[2], "seq": seq}
                | derived[node_id]
                | {"name_key": name_key(row[1])}
            )
        if params:
            columns = [
                "kind", "name", "data", "seq", "country", "visibility", "discoverable",
                "locality", "lat", "lon", "active", "name_key",
            ]  # fmt: skip
            statement = self._upsert_statement(t, ["id"], columns)
            writer.conn.execute(statement, params)
            writer.result.nodes_written += len(params)

    def _write_edges(self, writer: _Writer, edges: Sequence[Edge]) -> None:
        t = schema.edges
        latest = {edge.key: edge for edge in edges}
        endpoints = {nid for key in latest for nid in (key[0], key[2])}
        writer.maybe_missing |= endpoints - _existing(writer.conn, list(endpoints))
        # Look edges up by source (a few dozen per node) and match in Python: much
        # cheaper than building one row-value expression per edge.
        sources = sorted({source for source, _, _ in latest})
        query = select(t.c.source, t.c.kind, t.c.target, t.c.data).where(t.c.source.in_(sources))
        stored = {
            key: row.data
            for row in writer.conn.execute(query)
            if (key := (row.source, row.kind, row.target)) in latest
        }
        params = []
        for edge_key, edge in latest.items():
            data = edge_data(edge)
            if stored.get(edge_key) == data:
                writer.result.unchanged += 1
                continue
            seq = writer.log("upsert", "edge", edge.ref)
            source, kind, target = edge_key
            params.append(
                {"source": source, "kind": kind, "target": target, "data": data, "seq": seq}
            )
        if params:
            statement = self._upsert_statement(t, ["source", "kind", "target"], ["data", "seq"])
            writer.conn.execute(statement, params)
            writer.result.edges_written += len(params)

    def _delete(self, writer: _Writer, deletion: Deletion) -> None:
        conn = writer.conn
        if deletion.entity == "edge":
            source, kind, target = split_edge_ref(deletion.ref)
            t = schema.edges
            gone = conn.execute(
                delete(t).where(t.c.source == source, t.c.kind == kind, t.c.target == target)
            ).rowcount
            if not gone:
                raise EdgeNotFound(source, kind, target)
            writer.log("delete", "edge", deletion.ref)
            writer.result.edges_deleted += 1
            return
        node_id = deletion.ref
        erasing = kind_of(node_id) == "person"
        t = schema.edges
        incident = conn.execute(
            select(t.c.source, t.c.kind, t.c.target)
            .where(or_(t.c.source == node_id, t.c.target == node_id))
            .order_by(t.c.source, t.c.kind, t.c.target)
        ).all()
        conn.execute(delete(t).where(or_(t.c.source == node_id, t.c.target == node_id)))
        if not erasing:
            for row in incident:
                writer.log("delete", "edge", edge_ref(row.source, row.kind, row.target))
        writer.result.edges_deleted += len(incident)
        nodes = schema.nodes
        if not conn.execute(delete(nodes).where(nodes.c.id == node_id)).rowcount:
            raise NodeNotFound(node_id)
        conn.execute(delete(schema.vectors).where(schema.vectors.c.node_id == node_id))
        if erasing:
            writer.erasures[node_id] = writer.log("erase", "node", ERASED)
            writer.result.erased.append(node_id)
        else:
            writer.log("delete", "node", node_id)
        writer.result.nodes_deleted += 1
        writer.maybe_missing.discard(node_id)

    def _forget(self, conn: Connection, person_id: str, seq: int) -> None:
        """Remove the change-log entries before ``seq`` naming the person or their edges."""
        t = schema.changes
        conn.execute(delete(t).where(t.c.seq < seq, names(t.c.ref, person_id)))
        for step in self._erasure_steps:
            step(conn, person_id)

    # -- text vectors ---------------------------------------------------------------

    def stored_vectors(self, model: str, ids: Iterable[str]) -> dict[str, tuple[str, bytes]]:
        """(text digest, vector bytes) kept for these nodes under ``model``."""
        t = schema.vectors
        wanted = list(dict.fromkeys(ids))
        found: dict[str, tuple[str, bytes]] = {}
        with self._read() as conn:
            for start in range(0, len(wanted), _CHUNK):
                query = select(t.c.node_id, t.c.digest, t.c.vector).where(
                    t.c.model == model, t.c.node_id.in_(wanted[start : start + _CHUNK])
                )
                found.update((r.node_id, (r.digest, bytes(r.vector))) for r in conn.execute(query))
        return found

    def holds_vectors_of(self, model: str) -> bool:
        """Whether any text vector is kept under ``model``."""
        t = schema.vectors
        with self._read() as conn:
            found = conn.execute(select(t.c.node_id).where(t.c.model == model).limit(1))
            return found.first() is not None

    def put_vectors(self, vectors: StoredVectors) -> None:
        """Keep text vectors computed outside a write (for nodes that still exist)."""
        if vectors.rows:
            with self._begin_write() as conn:
                self._put_vectors(conn, vectors)

    def _put_vectors(self, conn: Connection, vectors: StoredVectors) -> None:
        present = _existing(conn, [node_id for node_id, _, _ in vectors.rows])
        params = [
            {"node_id": node_id, "model": vectors.model, "digest": digest, "vector": data}
            for node_id, digest, data in vectors.rows
            if node_id in present
        ]
        if params:
            statement = self._upsert_statement(
                schema.vectors, ["node_id", "model"], ["digest", "vector"]
            )
            conn.execute(statement, params)

    def _upsert_statement(self, table: Table, keys: list[str], columns: list[str]) -> Any:
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(table)
        return statement.on_conflict_do_update(
            index_elements=keys, set_={c: statement.excluded[c] for c in columns}
        )


def node_columns(node: Node) -> dict[str, Any]:
    """The filter columns derived from a node's fields."""
    place = getattr(node, "place", None)
    return {
        "country": place.country if place is not None else None,
        "visibility": str(getattr(node, "visibility", "public")),
        "discoverable": bool(getattr(node, "discoverable", True)),
        "locality": locality(node),
        "active": bool(getattr(node, "active", True)),
        **public_coordinates(node),
    }


def public_coordinates(node: Node) -> dict[str, float | None]:
    """The node's coordinates as anyone may know them (see :mod:`graph.geo`)."""
    place = getattr(node, "place", None)
    if place is None:
        return {"lat": None, "lon": None}
    if node.kind == "person":
        place = public_place(place, node.location_precision)
    return {"lat": place.lat, "lon": place.lon}


COMMUNITY_LEVEL = {
    "neighbourhood": "exact", "city": "city", "county": "region", "region": "region",
    "country": "country",
}  # fmt: skip
LOCALITY_RANK = {"exact": 0, "city": 1, "region": 2, "country": 3}


def locality(node: Node) -> str | None:
    """A person's location precision, or the precision a community's scope amounts to."""
    if node.kind == "person":
        return str(node.location_precision)
    if node.kind == "community":
        return COMMUNITY_LEVEL[str(node.scope)]
    return None


def name_key(text: str) -> str:
    """``text`` folded for prefix search: accents dropped, case folded, spaces collapsed.

    Unlike :func:`graph.ids.slugify` it keeps every script (a name in Arabic or Chinese
    stays findable) and its punctuation, so that what someone types matches as a prefix.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def prefix_range(prefix: str) -> tuple[str, str] | None:
    """The ``[low, high)`` range of name keys starting with ``prefix`` (None: any name).

    SQLite compares text byte by byte in UTF-8, whose order is that of code points, so
    the keys starting with ``p`` are those from ``p`` up to ``p`` with its last character
    one code point higher.
    """
    low = name_key(prefix)
    if not low:
        return None
    last = ord(low[-1])
    if last >= 0x10FFFF:
        return (low, low[:-1] + chr(0x10FFFF) * 2)
    return (low, low[:-1] + chr(last + 1))


def _fill_name_keys(conn: Connection) -> None:
    """Fill the name keys a store made before them lacks (found by their index, so a
    store already filled costs one index probe at open)."""
    t = schema.nodes
    while True:
        rows = conn.execute(
            select(t.c.id, t.c.name).where(t.c.name_key.is_(None)).limit(_CHUNK)
        ).all()
        if not rows:
            return
        conn.execute(
            t.update().where(t.c.id == bindparam("key")).values(name_key=bindparam("folded")),
            [{"key": r.id, "folded": name_key(r.name)} for r in rows],
        )


def _existing(conn: Connection, ids: list[str]) -> set[str]:
    t = schema.nodes
    found: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        found.update(conn.execute(select(t.c.id).where(t.c.id.in_(chunk))).scalars())
    return found


def last_seq_read(conn: Connection) -> int:
    """The newest change's number as ``conn`` reads it (0 for a new store): the store's
    version within that connection's transaction."""
    value = conn.execute(select(func.max(schema.changes.c.seq))).scalar()
    return int(value or 0)
