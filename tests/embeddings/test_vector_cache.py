"""The content-addressed vector cache: hits, misses, keys, several writers, erasure."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from embeddings.encoder import HashingEncoder
from embeddings.vector_cache import FILE, VectorCache, encoder_identity, text_digest

TEXTS = ["Youth mentor working against gang violence.", "community gardens", ""]


def rows(texts: list[str], owner: str | None = None) -> list[tuple[str | None, bytes, np.ndarray]]:
    vectors = HashingEncoder(16).encode(texts)
    return [(owner, text_digest(t), v) for t, v in zip(texts, vectors, strict=True)]


def test_a_kept_vector_is_found_by_its_exact_text_only(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path)
    assert cache.get("m", [text_digest(t) for t in TEXTS]) == {}  # a miss: nothing kept yet
    assert cache.put("m", rows(TEXTS)) == 3
    found = cache.get("m", [text_digest(t) for t in TEXTS])
    expected = HashingEncoder(16).encode(TEXTS)
    for text, vector in zip(TEXTS, expected, strict=True):
        assert found[text_digest(text)].dtype == np.float32
        np.testing.assert_array_equal(found[text_digest(text)], vector)
    # one character more or less is another text
    assert cache.get("m", [text_digest(TEXTS[1] + " "), text_digest(TEXTS[1].title())]) == {}
    assert cache.put("m", rows(TEXTS)) == 0  # kept once
    assert (cache.hits, cache.misses) == (3, 5)


def test_another_model_or_precision_misses(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path)
    cache.put("onnx/all-MiniLM-L6-v2-0123.onnx/fp32/384", rows(TEXTS))
    digests = [text_digest(t) for t in TEXTS]
    assert cache.get("onnx/all-MiniLM-L6-v2-0123.int8.onnx/int8/384", digests) == {}
    assert cache.get("torch/all-MiniLM-L6-v2-0123/fp32/384", digests) == {}
    assert len(cache.get("onnx/all-MiniLM-L6-v2-0123.onnx/fp32/384", digests)) == 3


def test_the_identity_names_backend_model_precision_and_dimension() -> None:
    assert encoder_identity(HashingEncoder(16)) != encoder_identity(HashingEncoder(32))
    assert encoder_identity(HashingEncoder(16)) == encoder_identity(HashingEncoder(16))

    class Double(HashingEncoder):  # a test double may answer anything: never cached
        pass

    assert encoder_identity(Double(16)) is None
    assert encoder_identity(object()) is None


def test_the_real_encoders_differ_by_precision() -> None:
    from embeddings.encoder import load_encoder

    fp32, int8 = load_encoder(precision="fp32"), load_encoder(precision="int8")
    assert encoder_identity(fp32) is not None and encoder_identity(int8) is not None
    assert encoder_identity(fp32) != encoder_identity(int8)
    assert "fp32" in str(encoder_identity(fp32)) and "int8" in str(encoder_identity(int8))


def _writer(folder: str, start: int) -> None:
    cache = VectorCache(folder)
    for batch in range(10):
        texts = [f"text {n}" for n in range(start + batch * 20, start + batch * 20 + 40)]
        cache.put("m", rows(texts, owner=f"person:{start}"))
        cache.get("m", [text_digest(t) for t in texts])
    cache.close()


def test_several_processes_write_at_once(tmp_path: Path) -> None:
    # Overlapping ranges: the same text kept by two writers at the same time.
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(str(tmp_path), n * 100)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    cache = VectorCache(tmp_path)
    texts = {f"text {n}" for s in range(0, 400, 100) for n in range(s, s + 220)}
    assert cache.count() == len(texts)
    assert len(cache.get("m", [text_digest(t) for t in texts])) == len(texts)


def test_forgetting_an_owner_removes_every_text_they_had(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path)
    earlier, now = ["an earlier bio"], ["the bio now", "community gardens"]
    cache.put("a", rows(earlier, "person:maria"))
    cache.put("a", rows(now, "person:maria"))
    cache.put("b", rows(now, "person:maria"))  # another model
    cache.put("a", rows(["community gardens"], "person:lena"))  # the same text as Lena's
    cache.put("a", rows(["Safe Streets"]))  # no one's
    assert cache.forget("person:maria") == 5
    digests = [text_digest(t) for t in [*earlier, *now]]
    assert cache.get("a", digests) == {} and cache.get("b", digests) == {}
    assert len(cache.get("a", [text_digest("Safe Streets")])) == 1
    assert cache.forget("person:maria") == 0
    # nothing of theirs is left in the file or its WAL
    cache.close()
    for path in tmp_path.iterdir():
        assert b"an earlier bio" not in path.read_bytes()
        assert text_digest("an earlier bio") not in path.read_bytes()


def test_a_vector_kept_for_an_owner_gone_meanwhile_is_not_kept(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path)
    cache.put("a", [*rows(["mine"], "person:gone"), *rows(["hers"], "person:here")],
              alive=lambda owners: {o for o in owners if o != "person:gone"})  # fmt: skip
    assert cache.get("a", [text_digest("mine")]) == {}
    assert len(cache.get("a", [text_digest("hers")])) == 1


def test_a_broken_cache_only_means_encoding_again(tmp_path: Path) -> None:
    (tmp_path / FILE).write_bytes(b"not a database" * 100)
    cache = VectorCache(tmp_path)
    assert cache.get("a", [text_digest("x")]) == {}
    assert cache.put("a", rows(["x"])) == 0
    with pytest.raises(sqlite3.Error):  # but an erasure must not pass silently
        cache.forget("person:maria")
