"""Serving while indexing: a store with texts that have no vectors is served at once,
searched by words, while one process computes the vectors in the background."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.analytics import analytics
from api.app import create_app
from api.indexing import BackgroundIndexer
from api.services import Services
from api.settings import Settings
from api.vectors import model_key
from api.warmup import MEMBER, Warmer
from embeddings import quantize
from embeddings.search import SemanticIndex
from graph.demo import demo_records
from graph.model import Person
from tests.api.conftest import _settings
from tests.conftest import DATA

RARE = "zorbleflax"

# The texts are encoded here, in the background, as a new store's are: a vector from the
# session's cache would skip the very indexing these tests watch.
pytestmark = pytest.mark.usefixtures("no_vector_cache")


@pytest.fixture
def unindexed(tmp_path: Path, reference_index: Path) -> Settings:
    """A store whose people were written with no vectors (an import by an older version,
    or a store copied in): their texts must be encoded before dense search finds them."""
    data_dir = tmp_path / "var"
    shutil.copytree(reference_index, data_dir / "index")
    settings = _settings(data_dir)
    services = Services.start(settings, follow=False)
    services.store.write(
        [*demo_records(DATA, seed=5, people=40),
         Person(id="person:rare", name="Rhea Rare", bio=f"Keeps a {RARE} garden for bees.")]
    )  # fmt: skip
    services.close()  # the index saved before the writes: they are all to catch up
    return settings


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Hold the background indexer before its first batch until the test lets it go."""
    opened = threading.Event()
    step = BackgroundIndexer._step

    def held(self: BackgroundIndexer) -> bool:
        opened.wait(60)
        return step(self)

    monkeypatch.setattr(BackgroundIndexer, "_step", held)
    yield opened
    opened.set()


def search(client: TestClient, q: str, mode: str = "hybrid") -> dict[str, Any]:
    response = client.get("/v1/search", params={"q": q, "mode": mode})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def ids(page: dict[str, Any]) -> list[str]:
    return [item["node"]["id"] for item in page["items"]]


def start_encoding_then_reading(encoding: BackgroundIndexer, reading: BackgroundIndexer) -> None:
    """Start ``encoding``, let it take the encoder's lock, then start ``reading``."""
    encoding.start()
    deadline = time.monotonic() + 30
    while not encoding.encoder and time.monotonic() < deadline:
        time.sleep(0.01)
    assert encoding.encoder
    reading.start()


def test_served_at_once_searched_by_words_then_whole(
    unindexed: Settings, gate: threading.Event
) -> None:
    services = Services.start(unindexed, defer_indexing=True)
    try:
        index = services.search.index
        waiting = index.pending
        assert waiting > 40  # every new person, encoded nothing yet
        with TestClient(create_app(services=services)) as client:
            ready = client.get("/ready")
            assert ready.status_code == 200
            assert ready.json()["indexing"] == {"done": 0, "total": waiting}

            page = search(client, RARE)
            assert page["partial_index"] is True
            assert "person:rare" in ids(page)  # by its words, meanwhile
            assert "person:rare" not in ids(search(client, "a garden for bees", "dense"))

            # A write meanwhile carries its vector: searchable by meaning at once.
            services.write(
                [Person(id="person:new", name="Nia New", bio="Mends bicycles for refugees.")],
                within=None,
            )
            services.catch_up()
            assert "person:new" in ids(search(client, "repairing bikes for refugees", "dense"))

            # A figure read from text vectors, computed while most are missing.
            engine = analytics(services)
            partial = engine.overlap(MEMBER.audience, services.similarity)

            gate.set()
            indexer = client.app.state.indexer  # type: ignore[attr-defined]
            assert indexer.wait(300)
            deadline = time.monotonic() + 60
            while indexer._thread is not None and indexer._thread.is_alive():
                assert time.monotonic() < deadline
                time.sleep(0.05)
            # Answered at once as behind, and computed again from every vector in the
            # background, though no write changed the version.
            behind = engine.overlap(MEMBER.audience, services.similarity)
            assert not behind.current and behind.value is partial.value
            assert engine.settle()
            whole = engine.overlap(MEMBER.audience, services.similarity)
            assert whole.seq == partial.seq and whole.current
            assert whole.value is not partial.value
            assert "indexing" not in client.get("/ready").json()
            page = search(client, "a garden for bees", "dense")
            assert page["partial_index"] is False
            assert "person:rare" in ids(page)  # by its meaning, now
            assert indexer.encoder  # this process held the lock and encoded
        assert index.pending == 0
        saved = SemanticIndex.load(index.encoder, unindexed.index_dir)
        assert "person:rare" in saved and "person:new" in saved  # the next start loads it
    finally:
        services.close()


def test_one_process_encodes_the_others_read_its_vectors(
    unindexed: Settings, gate: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = Services.start(unindexed, defer_indexing=True)
    second = Services.start(unindexed, defer_indexing=True)
    encoded: list[int] = []
    index = second.search.index
    prepare = index.prepare

    def counted(*args: Any, **kwargs: Any) -> Any:
        found = prepare(*args, **kwargs)
        encoded.append(len(found.fresh))
        return found

    monkeypatch.setattr(index, "prepare", counted)
    encoding, reading = BackgroundIndexer(first), BackgroundIndexer(second)
    try:
        start_encoding_then_reading(encoding, reading)
        gate.set()
        assert encoding.wait(300) and reading.wait(60)
        assert encoded and not any(encoded)  # the second read every vector from the store
        assert "person:rare" in index
        # Then it maps the vectors the first saved instead of holding its own copies.
        deadline = time.monotonic() + 60
        while index.vectors.tail_rows and time.monotonic() < deadline:
            time.sleep(0.05)
        assert index.vectors.mapped and index.vectors.tail_rows == 0
        assert (
            index.vector("person:rare").tobytes()
            == first.search.index.vector("person:rare").tobytes()
        )
        assert [h.id for h in index.search("a garden for bees", 3, mode="dense")] == [
            h.id for h in first.search.index.search("a garden for bees", 3, mode="dense")
        ]
    finally:
        encoding.stop()
        reading.stop()
        first.close()
        second.close()


def graphs_built(monkeypatch: pytest.MonkeyPatch, waiting: Callable[[], int]) -> list[int]:
    """The HNSW graphs built from now on, each as ``waiting()`` when it was built (the
    texts the encoding process still waited for)."""
    from embeddings import rebuild as rebuilds

    built: list[int] = []
    new_graph = rebuilds.new_graph

    def counted(*args: Any, **kwargs: Any) -> Any:
        built.append(waiting())
        return new_graph(*args, **kwargs)

    monkeypatch.setattr(rebuilds, "new_graph", counted)
    return built


def test_one_graph_is_built_once_every_vector_is_in_and_the_others_map_it(
    unindexed: Settings, gate: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the backlog comes in no process builds the HNSW graph (searches are exact);
    then the encoding one builds it once, saves it, and the other maps it from the save."""
    indexes: list[SemanticIndex] = []  # the encoding process's first
    built = graphs_built(monkeypatch, lambda: indexes[0].pending)
    first = Services.start(unindexed, defer_indexing=True)
    second = Services.start(unindexed, defer_indexing=True)
    indexes.extend([first.search.index, second.search.index])
    for index in indexes:
        index.vectors.exact_below = 50  # fewer than the items: a graph is due
        assert index.pending > 40 and not index.vectors.uses_hnsw
    encoding, reading = BackgroundIndexer(first), BackgroundIndexer(second)
    try:
        start_encoding_then_reading(encoding, reading)
        gate.set()
        assert encoding.wait(300) and reading.wait(60)
        deadline = time.monotonic() + 60
        while not (indexes[1].vectors.mapped and indexes[1].vectors.uses_hnsw):
            assert time.monotonic() < deadline, "the other process did not map the graph"
            time.sleep(0.05)
        assert built == [0]  # one graph: the encoding process's, once every vector was in
        assert all(index.vectors.uses_hnsw for index in indexes)
        assert indexes[1].vectors.tail_rows == 0  # the saved rows, graph and all
        hits = [[h.id for h in i.search("a garden for bees", 3, mode="dense")] for i in indexes]
        assert hits[0] == hits[1] and "person:rare" in hits[0]
    finally:
        encoding.stop()
        reading.stop()
        first.close()
        second.close()


def test_a_restart_in_the_middle_of_a_backlog_builds_one_graph_once_it_is_in(
    unindexed: Settings, gate: threading.Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A saved graph and many texts past it (a restart in the middle of a backlog, an
    import): no process rebuilds the graph while they come in; the encoding one builds it
    once they are all in, and the other maps it."""
    gate.set()
    first = Services.start(unindexed, defer_indexing=True)
    first.search.index.vectors.exact_below = 50  # saved with the index: a graph is due
    indexer = BackgroundIndexer(first)
    indexer.start()
    assert indexer.wait(300)
    assert indexer._thread is not None
    indexer._thread.join(120)  # the graph built and saved
    late = [Person(id=f"person:late-{n}", name=f"Late Comer {n}", bio=f"Plants hedges, year {n}.")
            for n in range(200)]  # fmt: skip
    first.store.write(late)
    first.close()

    indexes: list[SemanticIndex] = []  # the encoding process's first
    built = graphs_built(monkeypatch, lambda: indexes[0].pending)
    monkeypatch.setattr("api.indexing.BATCH", 32)  # the backlog in several steps
    again = [Services.start(unindexed, defer_indexing=True) for _ in range(2)]
    indexes.extend(services.search.index for services in again)
    for index in indexes:
        assert index.vectors.mapped and index.vectors.uses_hnsw  # the saved graph
        assert index.pending >= 200 > 0.1 * len(index.vectors)  # past the 10% it rebuilt at
    encoding, reading = BackgroundIndexer(again[0]), BackgroundIndexer(again[1])
    try:
        start_encoding_then_reading(encoding, reading)
        assert encoding.wait(300) and reading.wait(60)
        deadline = time.monotonic() + 60
        while not (indexes[1].vectors.mapped and indexes[1].vectors.tail_rows == 0):
            assert time.monotonic() < deadline, "the other process did not map the graph"
            time.sleep(0.05)
        assert built == [0]  # one graph: the encoding process's, once every vector was in
        hits = [[h.id for h in i.search("hedges", 3, mode="dense")] for i in indexes]
        assert hits[0] == hits[1] and hits[0][0].startswith("person:late-")
    finally:
        encoding.stop()
        reading.stop()
        for services in again:
            services.close()


def test_a_snapshot_saved_while_indexing_leaves_nothing_out(
    unindexed: Settings, gate: threading.Event
) -> None:
    services = Services.start(unindexed, defer_indexing=True)
    index = services.search.index
    index.save(watermark=index.watermark)  # as an erasure does, with vectors still to come
    services.close()
    again = Services.start(unindexed, defer_indexing=True)
    try:
        assert again.search.index.knows("person:rare")
        assert again.search.index.pending == index.pending
    finally:
        again.close()


def test_an_erased_person_waiting_for_a_vector_is_gone_from_the_index(
    unindexed: Settings, gate: threading.Event
) -> None:
    services = Services.start(unindexed, defer_indexing=True)
    try:
        index = services.search.index
        assert "person:rare" in index.pending_ids()
        done = services.store.delete_node("person:rare")
        assert done.erased  # a person deleted is erased
        services.catch_up()
        assert not index.knows("person:rare")
        assert "person:rare" not in index.pending_ids()
        assert not index.search(RARE, 5, mode="lexical")
        services.after_erasure(done)
        saved = SemanticIndex.load(index.encoder, unindexed.index_dir)
        assert not saved.search(RARE, 5, mode="lexical")
    finally:
        services.close()


def holding(services: Services, person: Person) -> SemanticIndex:
    """The services' search index, once ``person`` is written (if not yet) and applied."""
    if not services.store.get_nodes([person.id]):
        services.store.write([person])
        services.catch_up()
    return services.search.index


def test_a_change_of_precision_indexes_again_never_mixing_vectors(settings: Settings) -> None:
    """The precision is part of the encoder's name: an index saved in fp32 is built again in
    int8 (and back), each from the vectors stored for its own precision."""
    rare = Person(id="person:rare", name="Rhea Rare", bio=f"Keeps a {RARE} garden for bees.")
    vectors: dict[str, np.ndarray] = {}
    sizes: set[int] = set()
    for precision in ("fp32", "int8", "fp32"):
        chosen = settings.model_copy(update={"encoder_precision": precision})
        services = Services.start(chosen, follow=False)
        try:
            index = holding(services, rare)
            encoder = index.encoder
            assert (
                encoder.name
                == {"fp32": "all-MiniLM-L6-v2", "int8": "all-MiniLM-L6-v2+int8"}[precision]
            )
            assert rare.id in index
            sizes.add(len(index))
            key = model_key(encoder)
            _, stored = services.store.stored_vectors(key, [rare.id])[rare.id]
            # the index holds the vector stored for its own precision (normalised again)
            assert np.allclose(index.vector(rare.id), np.frombuffer(stored, "<f4"), atol=1e-6)
            vectors.setdefault(precision, index.vector(rare.id))
            assert np.allclose(index.vector(rare.id), vectors[precision], atol=1e-6)
            hits = index.search(f"{RARE} garden", 3, mode="dense")
            assert hits and hits[0].id == rare.id
            index.save(watermark=index.watermark)
        finally:
            services.close()
    assert np.abs(vectors["fp32"] - vectors["int8"]).max() > 1e-3
    assert len(sizes) == 1  # every node, each time


def test_queries_in_int8_search_the_items_fp32_vectors(settings: Settings) -> None:
    """COCREATE_QUERY_PRECISION=int8: a search's text is encoded by the int8 copy of the
    model, the items keep the fp32 vectors stored for them (nothing indexed again)."""
    rare = Person(id="person:rare", name="Rhea Rare", bio=f"Keeps a {RARE} garden for bees.")
    chosen = settings.model_copy(update={"encoder_precision": "fp32", "query_precision": "int8"})
    services = Services.start(chosen, follow=False)
    try:
        services.store.write([rare])
        services.catch_up()
        index = services.search.index
        assert index.encoder.name == "all-MiniLM-L6-v2"
        assert index.query_encoder.name == "all-MiniLM-L6-v2+int8"
        _, stored = services.store.stored_vectors(model_key(index.encoder), [rare.id])[rare.id]
        assert np.allclose(index.vector(rare.id), np.frombuffer(stored, "<f4"), atol=1e-6)
        query = f"{RARE} garden"
        asked = index.query_vector(query)
        assert np.allclose(asked, index.query_encoder.encode([query])[0], atol=1e-6)
        assert np.abs(asked - index.encoder.encode([query])[0]).max() > 1e-4
        hits = index.search(query, 3, mode="dense")
        assert hits and hits[0].id == rare.id
    finally:
        services.close()


def test_the_warmer_runs_the_searches_encoder_once_too(settings: Settings) -> None:
    """With COCREATE_QUERY_PRECISION=int8 a search has its own encoder: its first run
    (an ONNX session's first inference is slow) is the warmer's, not a request's."""
    chosen = settings.model_copy(update={"encoder_precision": "fp32", "query_precision": "int8"})
    services = Services.start(chosen, follow=False)
    try:
        index = services.search.index
        assert index.query_encoder is not index.encoder
        for encoder in (index.encoder, index.query_encoder):
            encoder._session = None  # as in a new process: opened on first use
        warmer = Warmer(services, SimpleNamespace(), tagger=False)
        warmer._first_runs()
        assert index.encoder._session is not None
        assert index.query_encoder._session is not None
        assert {"encoder", "query encoder"} <= set(warmer.warmed.seconds)
        assert warmer.warmed.failures == 0
    finally:
        services.close()


def test_auto_queries_are_int8_on_a_processor_with_vnni_only(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """COCREATE_QUERY_PRECISION=auto (the default): a search's text is encoded by the int8
    copy where the processor has VNNI, by the items' fp32 encoder elsewhere."""
    chosen = settings.model_copy(update={"encoder_precision": "fp32", "query_precision": "auto"})
    for vnni, name in ((True, "all-MiniLM-L6-v2+int8"), (False, "all-MiniLM-L6-v2")):
        monkeypatch.setattr(quantize, "has_vnni", lambda vnni=vnni: vnni)
        services = Services.start(chosen, follow=False)
        try:
            index = services.search.index
            assert index.encoder.name == "all-MiniLM-L6-v2"
            assert index.query_encoder.name == name
            assert (index.query_encoder is index.encoder) is not vnni
        finally:
            services.close()


def test_auto_items_are_int8_for_a_new_index_with_vnni_and_keep_the_vectors_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """COCREATE_ENCODER_PRECISION=auto (the default): a new index on a processor with VNNI
    encodes its items in int8 (its queries too); an index whose vectors are fp32 keeps
    them there, as does a new index on a store holding fp32 vectors; without VNNI the
    items are fp32, an int8 index indexed again."""
    rare = Person(id="person:rare", name="Rhea Rare", bio=f"Keeps a {RARE} garden for bees.")
    chosen = _settings(tmp_path / "var").model_copy(
        update={"encoder_precision": "auto", "query_precision": "auto"}
    )
    fp32, int8 = "all-MiniLM-L6-v2", "all-MiniLM-L6-v2+int8"

    def served(vnni: bool, expected: str, query: str) -> None:
        monkeypatch.setattr(quantize, "has_vnni", lambda: vnni)
        services = Services.start(chosen, follow=False)
        try:
            index = holding(services, rare)
            assert (index.encoder.name, index.query_encoder.name) == (expected, query)
            assert rare.id in index and index.pending == 0
            stored = services.store.stored_vectors(model_key(index.encoder), [rare.id])
            assert np.allclose(index.vector(rare.id), np.frombuffer(stored[rare.id][1], "<f4"))
            assert services.store.holds_vectors_of(model_key(index.encoder))
            hits = index.search(f"{RARE} garden", 3, mode="dense")
            assert hits and hits[0].id == rare.id
            index.save(watermark=index.watermark)
        finally:
            services.close()

    served(True, int8, int8)  # a new store
    served(True, int8, int8)  # its index saved in int8
    shutil.rmtree(chosen.index_dir)
    served(True, int8, int8)  # no saved index, int8 vectors in the store
    served(False, fp32, fp32)  # without VNNI: fp32, indexed again
    served(True, fp32, int8)  # fp32 held: kept, the queries in int8
    shutil.rmtree(chosen.index_dir)
    served(True, fp32, int8)  # no saved index, fp32 vectors in the store (int8 too): kept
    assert SemanticIndex.saved_encoder(chosen.index_dir) == fp32
    assert SemanticIndex.saved_encoder(tmp_path / "nothing") is None
