"""Tests on PostgreSQL: ``COCREATE_TEST_DATABASE=postgresql`` runs every test that makes a
store on a real PostgreSQL server instead of a SQLite file.

One temporary cluster is made for the session (``initdb`` in a temporary folder, started
with ``pg_ctl`` on 127.0.0.1 at a free port, stopped and removed at the end). Each SQLite
path a test opens a store at stands for one database of that cluster, named after the
path, made on first use from a template that already holds the migrated schema: a test
that reopens its store finds its data, two tests never share one. The databases standing
for files in a test's own ``tmp_path`` are dropped when it ends (about 8 MiB each: the
suite makes over 1,300), as pytest removes that folder (``tmp_path_retention_policy``).
Stores opened in this process go through :meth:`graph.store.Store.open`, which the
plugin wraps; processes a test starts get ``COCREATE_DATABASE_URL`` from
:func:`database_url_for` (see ``tests/api/server.py``).

The binaries come from Debian's ``postgresql`` package (scripts/setup installs it). As
root, the server runs as the ``postgres`` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ENV = "COCREATE_TEST_DATABASE"
BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
TEMPLATE = "cocreate_template"


def enabled() -> bool:
    return os.environ.get(ENV, "sqlite").lower() in {"postgresql", "postgres", "pg"}


sqlite_only = pytest.mark.skipif(
    enabled(), reason="about SQLite's own files or query planner (docs/deploy.md for PostgreSQL)"
)
"""For the few tests that inspect what only SQLite has (its file's bytes, its planner)."""


def _binary(name: str) -> str:
    for folder in BIN_DIRS:
        if (folder / name).exists():
            return str(folder / name)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found: install Debian's postgresql package")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """A PostgreSQL server of its own, in a temporary folder."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="cocreate-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self.user = "postgres" if os.geteuid() == 0 else None
        self.made: set[str] = set()
        self.paths: dict[str, Path] = {}  # database name: the SQLite path it stands for

    def _run(self, *args: str) -> None:
        command = list(args)
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        if self.user is not None:
            shutil.chown(self.folder, self.user)
        self._run(
            _binary("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        self._start_server()
        self._make_template()

    def _start_server(self) -> None:
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=400"
        )
        log = self.folder / "server.log"
        self._run(_binary("pg_ctl"), "-D", str(self.data), "-l", str(log), "-o", options,
                  "-w", "start")  # fmt: skip

    def standby(self) -> Cluster:
        """A hot standby of this server, streaming its WAL (``pg_basebackup -R``), started
        in a temporary folder of its own (stop it with :meth:`stop`)."""
        other = Cluster()
        if other.user is not None:
            shutil.chown(other.folder, other.user)
        self._run(
            _binary("pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
            "-D", str(other.data), "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip
        other._start_server()
        return other

    def execute(self, statement: str) -> list[tuple[Any, ...]]:
        """One statement run as the server's superuser (autocommit); the rows it returns."""
        with self._admin() as conn:
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def stop(self) -> None:
        try:
            self._run(_binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self) -> Any:
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
            autocommit=True,
        )  # fmt: skip

    def _make_template(self) -> None:
        from graph.store import Store

        with self._admin() as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        _ORIGINAL_OPEN(Store, self.url(TEMPLATE)).close()  # the migrated, empty schema

    def database(self, name: str) -> str:
        """The URL of database ``name``, made from the template if it is new."""
        if name not in self.made:
            with self._admin() as conn:
                exists = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
                ).fetchone()
                if exists is None:
                    conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")
            self.made.add(name)
        return self.url(name)

    def drop_under(self, folder: Path, keep: set[str]) -> None:
        """Drop the databases standing for files under ``folder`` but those in ``keep``
        and those someone is still connected to (a database is dropped only once idle)."""
        import psycopg

        folder = folder.resolve()
        names = [n for n, p in self.paths.items() if p.is_relative_to(folder) and n not in keep]
        if not names:
            return
        with self._admin() as conn:
            for name in names:
                try:
                    conn.execute(f"DROP DATABASE IF EXISTS {name}")
                except psycopg.errors.ObjectInUse:
                    continue
                self.made.discard(name)
                del self.paths[name]

    def copy(self, source: str, target: str) -> None:
        """Database ``target`` as a copy of ``source`` (nobody may be connected to it)."""
        with self._admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {target}")
            conn.execute(f"CREATE DATABASE {target} TEMPLATE {source} STRATEGY FILE_COPY")
        self.made.add(target)


_CLUSTER: Cluster | None = None
_OPENED: list[Any] = []
_ORIGINAL_OPEN: Any = None


def database_name(path: Path) -> str:
    resolved = path.resolve()
    name = "t_" + hashlib.sha1(str(resolved).encode()).hexdigest()[:20]
    if _CLUSTER is not None:
        _CLUSTER.paths[name] = resolved
    return name


def database_url_for(path: Path) -> str | None:
    """The PostgreSQL database standing for the SQLite file ``path`` (None: tests run on
    SQLite)."""
    if _CLUSTER is None:
        return None
    return _CLUSTER.database(database_name(path))


def copy_data_dir(source: Path, target: Path) -> None:
    """Copy a closed service's data folder (its store, index and other files): on
    PostgreSQL the database standing for its store file is copied too."""
    shutil.copytree(source, target, dirs_exist_ok=True)
    if _CLUSTER is not None:
        store = "cocreate.db"
        _CLUSTER.copy(database_name(source / store), database_name(target / store))


def _sqlite_path(url: Any) -> Path | None:
    if isinstance(url, Path):
        return url
    if isinstance(url, str) and "://" not in url:
        return Path(url)
    if isinstance(url, str) and url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///"))
    return None


@pytest.fixture(scope="session", autouse=True)
def postgres_cluster() -> Iterator[Cluster | None]:
    """The session's PostgreSQL server when tests run on PostgreSQL; every store opened
    at a SQLite path is a database of it."""
    global _CLUSTER, _ORIGINAL_OPEN
    if not enabled():
        yield None
        return
    from graph.store import Store

    _ORIGINAL_OPEN = Store.open.__func__  # type: ignore[attr-defined]
    cluster = Cluster()
    cluster.start()

    def open_on_postgresql(cls: type[Store], url: Any, **options: Any) -> Store:
        path = _sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            url = cluster.database(database_name(path))
        opened: Store = _ORIGINAL_OPEN(cls, url, **options)
        _OPENED.append(opened)
        return opened

    Store.open = classmethod(open_on_postgresql)  # type: ignore[method-assign,assignment]
    _CLUSTER = cluster
    try:
        yield cluster
    finally:
        Store.open = classmethod(_ORIGINAL_OPEN)  # type: ignore[method-assign,assignment]
        _CLUSTER = None
        cluster.stop()


@pytest.fixture(autouse=True)
def _close_connections(request: pytest.FixtureRequest) -> Iterator[None]:
    """Close the pooled connections of the stores a test opened once it ends.

    A test that drops a store without closing it would leave psycopg connections to the
    garbage collector, which warns (and warnings are errors); SQLite's do not. Disposing
    of an engine's pool leaves the engine usable, so a store a wider fixture shares
    simply connects again.

    A store whose pool has a connection out is in use by a thread that outlives the test
    (a wider fixture's service polling its change feed): disposing of the pool then
    leaves that connection, once given back, in a pool no one closes, for the garbage
    collector to warn about in whatever test runs then. Such a store is disposed of at
    the end of a later test, when none of its connections is out.
    """
    yield
    busy = []
    while _OPENED:
        store = _OPENED.pop()
        if store.engine.pool.checkedout():
            busy.append(store)
        else:
            store.engine.dispose()
    _OPENED.extend(busy)
    tmp_path = request.node.funcargs.get("tmp_path") if hasattr(request.node, "funcargs") else None
    if _CLUSTER is not None and isinstance(tmp_path, Path):
        _CLUSTER.drop_under(tmp_path, keep={str(s.engine.url.database) for s in busy})
