"""The shipped tagger parameters (data/tagger.json): current, loadable, checked on load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from embeddings.encoder import load_encoder
from embeddings.tagging import Tagger
from embeddings.tagging_inputs import TaggingDataError, load_reference, shipped_split
from embeddings.tagging_model import MODEL_FILE, from_json, read_model

DATA = Path(__file__).resolve().parents[2] / "data"
CACHE = DATA.parent / "var" / "test-cache" / "tagging"
TEXTS = (
    "Solar panels bring electricity to homes that were never connected to the grid.",
    "A shelter for women escaping domestic violence.",
    "",
)


@pytest.fixture(scope="module")
def fitted() -> Tagger:
    training, _ = shipped_split(DATA)
    return Tagger.fit(load_encoder(), load_reference(DATA), training, cache=CACHE)


@pytest.fixture(scope="module")
def loaded(fitted: Tagger) -> Tagger:
    training, _ = shipped_split(DATA)
    return Tagger.load(fitted.encoder, fitted.reference, training, DATA / MODEL_FILE, cache=CACHE)


def test_the_shipped_parameters_are_those_a_fresh_fit_learns(fitted: Tagger) -> None:
    shipped, fresh = read_model(DATA / MODEL_FILE), fitted.parameters()
    assert shipped["training_texts"] == fresh["training_texts"]
    for part in ("sdg", "sector"):
        assert shipped[part]["threshold"] == fresh[part]["threshold"], part
        assert shipped[part]["features"] == fresh[part]["features"]
        for key in ("mean", "scale", "weights"):
            assert np.allclose(shipped[part][key], fresh[part][key], rtol=1e-4, atol=1e-6), key


def test_a_loaded_tagger_suggests_what_the_fitted_one_does(fitted: Tagger, loaded: Tagger) -> None:
    assert loaded.thresholds == fitted.thresholds
    for text in TEXTS:
        a, b = fitted.suggest(text, top=17), loaded.suggest(text, top=17)
        assert [s.goal for s in a.sdgs] == [s.goal for s in b.sdgs]
        assert np.allclose(
            [s.confidence for s in a.sdgs], [s.confidence for s in b.sdgs], atol=1e-3
        )
        assert [s.slug for s in a.sectors] == [s.slug for s in b.sectors]
    with pytest.raises(TaggingDataError, match="out-of-fold"):
        loaded.training_confidence  # noqa: B018


def test_a_file_that_does_not_fit_the_code_is_refused(tmp_path: Path) -> None:
    good = read_model(DATA / MODEL_FILE)
    assert from_json(good, encoder=good["encoder"], where="x")
    with pytest.raises(TaggingDataError, match="learnt with"):
        from_json(good, encoder="another-model", where="x")
    changed = json.loads(json.dumps(good))
    changed["sdg"]["features"] = changed["sdg"]["features"][:-1]
    with pytest.raises(TaggingDataError, match="features"):
        from_json(changed, encoder=good["encoder"], where="x")
    broken = tmp_path / MODEL_FILE
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(TaggingDataError, match=MODEL_FILE):
        read_model(broken)
