"""COCREATE_VECTOR_CACHE: stores sharing one cache encode a text once; an erasure removes
every vector of the person's texts from it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from api.services import Services
from api.settings import Settings
from api.vectors import vector_cache
from embeddings.vector_cache import FILE, VectorCache, encoder_identity, text_digest
from graph.model import Initiative, Person
from graph.texts import node_text
from tests.api.conftest import _settings

MARIA = Person(id="person:maria-vc", name="Maria Vance", bio="Teaches beekeeping to teenagers.")
LATER = MARIA.model_copy(update={"bio": "Runs a rooftop apiary with a youth club."})
HIVE = Initiative(id="initiative:hive-vc", name="Hive", description="Urban bees for schools.")


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "vector-cache"


def start(tmp_path: Path, reference_index: Path, name: str, cache_dir: Path) -> Services:
    data_dir = tmp_path / name / "var"
    shutil.copytree(reference_index, data_dir / "index")
    settings: Settings = _settings(data_dir).model_copy(update={"vector_cache": cache_dir})
    return Services.start(settings)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the search encoder encodes, in any store of this process."""
    from embeddings.onnx import OnnxEncoder

    texts: list[str] = []
    encode = OnnxEncoder.encode

    def counting(self: OnnxEncoder, batch: Any, **kwargs: Any) -> Any:
        texts.extend(batch)
        return encode(self, batch, **kwargs)

    monkeypatch.setattr(OnnxEncoder, "encode", counting)
    return texts


def test_a_text_is_encoded_once_for_every_store_sharing_the_cache(
    tmp_path: Path, reference_index: Path, cache_dir: Path, counted: list[str]
) -> None:
    first = start(tmp_path, reference_index, "first", cache_dir)
    try:
        first.store.write([MARIA, HIVE])
        first.catch_up()
        assert node_text(MARIA) in counted and node_text(HIVE) in counted
        encoder = first.search.index.encoder
        cache = vector_cache(first.store)
        assert cache is not None and encoder_identity(encoder) is not None
        digests = [text_digest(node_text(n)) for n in (MARIA, HIVE)]
        assert len(cache.get(str(encoder_identity(encoder)), digests)) == 2
        found = first.search.index.vectors.ids()
        assert {MARIA.id, HIVE.id} <= set(found)
    finally:
        first.close()
    counted.clear()
    second = start(tmp_path, reference_index, "second", cache_dir)
    try:
        second.store.write([MARIA, HIVE])  # written as an older version did, no vectors
        second.catch_up()
        assert counted == []  # both came from the cache
        hits = second.search.index.search("beekeeping for teenagers", 3, mode="dense")
        assert MARIA.id in [hit.id for hit in hits]
        assert counted == ["beekeeping for teenagers"]  # a query is never kept
        counted.clear()
        # a write through the service (which encodes before writing) reads it too
        second.write([HIVE.model_copy(update={"name": "Hives"})], within=None)
        assert counted == [node_text(HIVE.model_copy(update={"name": "Hives"}))]
    finally:
        second.close()


def test_an_erasure_removes_the_persons_vectors_earlier_texts_too(
    tmp_path: Path, reference_index: Path, cache_dir: Path
) -> None:
    services = start(tmp_path, reference_index, "erasure", cache_dir)
    try:
        services.store.write([MARIA, HIVE])
        services.catch_up()
        services.store.write([LATER])
        services.catch_up()
        model = str(encoder_identity(services.search.index.encoder))
        cache = vector_cache(services.store)
        assert cache is not None
        mine = [text_digest(node_text(MARIA)), text_digest(node_text(LATER))]
        assert len(cache.get(model, mine)) == 2
        services.store.delete_node(MARIA.id)
        assert cache.get(model, mine) == {}
        assert len(cache.get(model, [text_digest(node_text(HIVE))])) == 1  # not theirs
    finally:
        services.close()
    for path in cache_dir.iterdir():
        assert not any(digest in path.read_bytes() for digest in mine), path


def test_the_vectors_of_someone_erased_meanwhile_are_not_kept(
    tmp_path: Path, reference_index: Path, cache_dir: Path
) -> None:
    """A follower that read the person's text before the erasure keeps no vector after it."""
    services = start(tmp_path, reference_index, "meanwhile", cache_dir)
    try:
        services.store.write([MARIA])
        services.catch_up()
        services.store.delete_node(MARIA.id)
        model = str(encoder_identity(services.search.index.encoder))
        cache = VectorCache(cache_dir)  # as another process would
        vector = services.search.index.encoder.encode([node_text(MARIA)])[0]
        cache.put(model, [(MARIA.id, text_digest(node_text(MARIA)), vector)],
                  alive=services.store.existing_ids)  # fmt: skip
        assert cache.get(model, [text_digest(node_text(MARIA))]) == {}
        assert (cache_dir / FILE).is_file()
    finally:
        services.close()
