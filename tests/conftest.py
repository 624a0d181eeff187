"""Shared fixtures: a fresh store with the real reference data, and a small hand-built network."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from graph.edges import Edge
from graph.model import Community, Initiative, Organization, Person, Place, WisdomEntry
from graph.reference import ensure_reference
from graph.store import Store
from graph.view import GraphView
from tests.postgres import _close_connections as _close_connections
from tests.postgres import enabled as postgres_pass
from tests.postgres import postgres_cluster as postgres_cluster  # the session's server, if any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"

# CI runs the suite twice side by side, on SQLite (the README's command) and on PostgreSQL
# (COCREATE_TEST_DATABASE=postgresql). These run in the SQLite pass only, since the second
# would run the very same code again, and both passes must fit CI's time on two cores:
STORE_FREE = ("tests/embeddings/", "tests/test_data_files.py")
"""Tests that open no store at all (the encoder, tagging, the search index's files, the
shipped data): checked in the SQLite pass, where opening one fails the test."""
PRESENTATION = tuple(
    f"tests/web/test_{name}.py"
    for name in ("loose_ends", "pages", "map_places", "plain_words", "graph_explorer",
                 "routes", "person_phone", "sector_page", "places_search")
)  # fmt: skip
"""Browser tests of how the pages read and behave (layout, phone screens, accessibility,
plain words, the map's drawing): the server's answers they show are checked on
PostgreSQL by ``tests/api``, and the browser tests that write, sign in or guard private
data (accounts, journey, matches, privacy, profile, social) run in both passes."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not postgres_pass():
        return
    once = pytest.mark.skip(reason="runs in the SQLite pass only (tests/conftest.py, STORE_FREE "
                            "and PRESENTATION): the same code, whatever the store")  # fmt: skip
    for item in items:
        if item.nodeid.startswith(STORE_FREE + PRESENTATION):
            item.add_marker(once)


@pytest.fixture(autouse=True)
def store_free_opens_none(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test listed in :data:`STORE_FREE` that opens a store fails, saying to take it off
    the list (so that it runs on PostgreSQL too)."""
    nodeid = request.node.nodeid
    if not nodeid.startswith(STORE_FREE):
        return

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError(f"{nodeid} opens a store: take it off STORE_FREE in "
                             "tests/conftest.py so that it runs on PostgreSQL too")  # fmt: skip

    monkeypatch.setattr(Store, "__init__", refuse)


@pytest.fixture(autouse=True)
def graph_backend(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """With ``COCREATE_GRAPH=compact`` (as the service reads it), every view a test builds
    with :meth:`GraphView.from_store` is the compact one, its files beside a SQLite file,
    or for a store without a file (PostgreSQL) in a folder of the session's named after
    its database (never the working directory: it holds the ``graph`` package)."""
    if os.environ.get("COCREATE_GRAPH") != "compact":
        return

    def compact(cls: type[GraphView], store: Store) -> GraphView:
        database = store.engine.url.database
        if store.engine.dialect.name == "sqlite" and database and database != ":memory:":
            folder = Path(database).parent / "graph"
        else:
            folder = tmp_path_factory.getbasetemp() / "graph-files" / str(database)
        return cls.open_compact(store, folder)

    monkeypatch.setattr(GraphView, "from_store", classmethod(compact))


@pytest.fixture(scope="session", autouse=True)
def vector_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path | None]:
    """One vector cache for the whole session (``COCREATE_VECTOR_CACHE``, see
    :mod:`embeddings.vector_cache`): the demo network's texts, which many fixtures load
    each into a store of its own, are encoded once per session, by this process or by the
    ``cocreate`` processes the tests start (:func:`tests.api.server.cocreate_env` passes
    the setting on). Tests of the indexing itself turn it off (:func:`no_vector_cache`).
    A ``COCREATE_VECTOR_CACHE`` set by the caller is kept (empty: none at all)."""
    if "COCREATE_VECTOR_CACHE" in os.environ:
        given = os.environ["COCREATE_VECTOR_CACHE"].strip()
        yield Path(given) if given else None
        return
    folder = tmp_path_factory.mktemp("vector-cache")
    os.environ["COCREATE_VECTOR_CACHE"] = str(folder)
    try:
        yield folder
    finally:
        os.environ.pop("COCREATE_VECTOR_CACHE", None)


@pytest.fixture(scope="session", autouse=True)
def fp32_encoding() -> Iterator[None]:
    """Items and searches' queries encoded in fp32 on every machine
    (``COCREATE_ENCODER_PRECISION`` and ``COCREATE_QUERY_PRECISION``, whose ``auto`` is
    int8 on a processor with VNNI), in this process and in the ``cocreate`` processes the
    tests start: a ranking a test expects is then the same on whatever machine CI runs.
    The tests of ``auto`` and of int8 choose theirs. A value set by the caller is kept."""
    names = [name for name in ("COCREATE_ENCODER_PRECISION", "COCREATE_QUERY_PRECISION")
             if name not in os.environ]  # fmt: skip
    os.environ.update(dict.fromkeys(names, "fp32"))
    try:
        yield
    finally:
        for name in names:
            os.environ.pop(name, None)


@pytest.fixture
def no_vector_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every text is encoded by the model, as without the session's vector cache (for
    tests of encoding and indexing themselves, in this process or a started one)."""
    monkeypatch.delenv("COCREATE_VECTOR_CACHE", raising=False)


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty store on a SQLite file, with the reference data loaded."""
    opened = Store.open(tmp_path / "store" / "cocreate.db")
    ensure_reference(opened, DATA)
    yield opened
    opened.close()


def small_network() -> list[Person | Initiative | Organization | Community | WisdomEntry | Edge]:
    """Two communities, three people, two initiatives, one organisation, one wisdom entry."""
    sac = Place(name="Sacramento", country="US", region="Northern America", lat=38.58, lon=-121.49)
    return [
        Community(id="community:sacramento", name="Sacramento", place=sac),
        Community(id="community:capital-region", name="Compassionate Capital Region"),
        Person(
            id="person:maria",
            name="Maria Lopez",
            bio="Youth mentor working against gang violence.",
            interests=["youth mentoring", "gang violence prevention"],
            needs=["grant writing"],
            place=sac,
        ),
        Person(
            id="person:ahmed",
            name="Ahmed Said",
            interests=["restorative circles"],
            offers=["grant writing"],
            visibility="members",
        ),
        Person(id="person:lena", name="Lena Park", interests=["community gardens"]),
        Organization(id="organization:youth-works", name="Youth Works"),
        Initiative(id="initiative:safe-streets", name="Safe Streets", description="Mentoring."),
        Initiative(id="initiative:green-lots", name="Green Lots", description="Gardens."),
        WisdomEntry(id="wisdom_entry:circles", name="Circles in schools", body="How we began."),
        Edge(kind="part_of", source="community:sacramento", target="community:capital-region"),
        Edge(kind="located_in", source="person:maria", target="community:sacramento"),
        Edge(kind="works_on", source="person:maria", target="initiative:safe-streets",
             since=date(2019, 5, 1)),
        Edge(kind="works_on", source="person:ahmed", target="initiative:safe-streets",
             since=date(2021, 1, 1)),
        Edge(kind="works_on", source="person:lena", target="initiative:green-lots"),
        Edge(kind="knows", source="person:ahmed", target="person:lena"),
        Edge(kind="partners_with", source="organization:youth-works",
             target="initiative:safe-streets", role="owner"),
        Edge(kind="addresses", source="initiative:safe-streets", target="sdg:16",
             evidence="Reduces violence among young people."),
        Edge(kind="in_sector", source="initiative:safe-streets", target="sector:peace"),
        Edge(kind="in_sector", source="initiative:green-lots", target="sector:environment"),
        Edge(kind="authored", source="person:ahmed", target="wisdom_entry:circles"),
        Edge(kind="interested_in", source="person:lena", target="sdg:15"),
    ]  # fmt: skip


@pytest.fixture
def network(store: Store) -> Store:
    """The store with :func:`small_network` written into it."""
    store.write(small_network())
    return store
