"""One change feed per process: sequence numbers, read-your-writes, vectors encoded once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

import api.routes.nodes as nodes
from api.app import create_app
from api.auth import KeyRing, Role
from api.services import Services
from api.settings import Settings
from api.vectors import model_key
from embeddings.search import text_sha1
from graph.model import Person
from graph.texts import node_text


@pytest.fixture
def admin(services: Services) -> dict[str, str]:
    _, secret = KeyRing(services.store.engine).create(Role.admin)
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def second(settings: Settings, services: Services) -> Iterator[Services]:
    """Another worker on the same store, following it by polling."""
    other = Services.start(settings)
    yield other
    other.close()


def _person(name: str, bio: str) -> dict[str, Any]:
    slug = name.lower().replace(" ", "-")
    return {"kind": "person", "id": f"person:{slug}", "name": name, "bio": bio}


def test_a_write_answers_with_its_sequence_number_and_reads_with_theirs(
    client: TestClient, services: Services, admin: dict[str, str]
) -> None:
    created = client.post("/v1/nodes", json=_person("Ada Quill", "Beekeeping."), headers=admin)
    assert created.status_code == 201, created.text
    seq = int(created.headers["X-Cocreate-Seq"])
    assert seq == services.store.last_seq()
    found = client.get("/v1/search", params={"q": "beekeeping", "mode": "lexical"})
    assert found.status_code == 200
    assert int(found.headers["X-Cocreate-Seq"]) >= seq
    assert "person:ada-quill" in [hit["node"]["id"] for hit in found.json()["items"]]


def test_a_read_waits_for_the_sequence_it_names(
    settings: Settings, services: Services, second: Services, admin: dict[str, str]
) -> None:
    second.feed.stop()  # this worker will not move on by itself
    written = services.store.write([Person(id="person:bo", name="Bo", bio="Lighthouses.")])
    assert written.last_seq is not None
    wanted = {"X-Cocreate-Min-Seq": str(written.last_seq)}
    with TestClient(create_app(services=second)) as other:
        fast = settings.model_copy(update={"read_wait": 0.2})
        second.settings = fast
        late = other.get("/v1/search", params={"q": "lighthouses"}, headers=wanted)
        assert late.status_code == 503
        assert late.headers["Retry-After"] == "1"
        assert late.headers["content-type"].startswith("application/problem+json")
        second.feed.start()
        second.settings = settings
        seen = other.get("/v1/search", params={"q": "lighthouses"}, headers=wanted)
        assert seen.status_code == 200, seen.text
        assert "person:bo" in [hit["node"]["id"] for hit in seen.json()["items"]]
        bad = other.get("/v1/search", params={"q": "x"}, headers={"X-Cocreate-Min-Seq": "-1"})
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "header.x-cocreate-min-seq"


def test_a_text_is_encoded_once_for_every_worker(
    services: Services, second: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoded: list[int] = []
    encoder = second.search.index.encoder
    real = encoder.encode

    def counting(texts: list[str], **options: Any) -> Any:
        encoded.append(len(texts))
        return real(texts, **options)

    second.feed.stop()  # (both workers share one encoder here: count only the second's calls)
    person = Person(id="person:cy", name="Cy", bio="Repairs bicycles with teenagers.")
    written = services.write([person], within=None)
    assert written.last_seq is not None
    stored = services.store.stored_vectors(model_key(encoder), ["person:cy"])
    assert stored["person:cy"][0] == text_sha1(node_text(person))
    monkeypatch.setattr(encoder, "encode", counting)
    second.feed.start()
    assert second.feed.wait_for(written.last_seq, timeout=30)
    assert encoded == []  # the second worker read the vector the writer stored
    kept = np.frombuffer(stored["person:cy"][1], dtype="<f4")
    assert np.array_equal(second.search.index.vector("person:cy"), kept)
    # A text nobody stored a vector for is encoded by the first follower, and stored.
    other = services.store.write([Person(id="person:di", name="Di", bio="Community radio.")])
    assert other.last_seq is not None and second.feed.wait_for(other.last_seq, timeout=30)
    assert services.store.stored_vectors(model_key(encoder), ["person:di"])
    services.store.delete_node("person:di")
    assert services.store.stored_vectors(model_key(encoder), ["person:di"]) == {}


def test_a_node_read_waits_for_its_sequence_and_holds_the_version_while_it_reads(
    settings: Settings, services: Services, second: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A node's read takes its version without FastAPI's dependencies (the most frequent
    request): it waits for what ``X-Cocreate-Min-Seq`` names, holds the shared side of
    the feed's lock while the node is read, and leaves it however the read ends."""
    second.feed.stop()
    written = services.store.write([Person(id="person:em", name="Em", bio="Seed library.")])
    assert written.last_seq is not None
    wanted = {"X-Cocreate-Min-Seq": str(written.last_seq)}
    lock = second.feed.lock
    held: list[int] = []

    real = nodes.visible_node

    def watched(*args: Any) -> Any:
        held.append(lock._readers)
        return real(*args)

    monkeypatch.setattr(nodes, "visible_node", watched)
    with TestClient(create_app(services=second)) as other:
        second.settings = settings.model_copy(update={"read_wait": 0.2})
        late = other.get("/v1/nodes/person:em", headers=wanted)
        assert late.status_code == 503 and late.headers["Retry-After"] == "1"
        assert held == [] and lock._readers == 0  # refused before the store was read
        second.feed.start()
        second.settings = settings
        seen = other.get("/v1/nodes/person:em", headers=wanted)
        assert seen.status_code == 200, seen.text
        assert seen.json()["name"] == "Em"
        assert int(seen.headers["X-Cocreate-Seq"]) >= written.last_seq
        missing = other.get("/v1/nodes/person:nobody")
        assert missing.status_code == 404
        assert held == [1, 1] and lock._readers == 0  # held while read, left after a 404
        bad = other.get("/v1/nodes/person:em", headers={"X-Cocreate-Min-Seq": "x"})
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "header.x-cocreate-min-seq"
        wrong_key = other.get("/v1/nodes/person:em", headers={"Authorization": "Bearer nope"})
        assert wrong_key.status_code == 401 and lock._readers == 0
