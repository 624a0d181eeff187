"""Tag suggestion with the real all-MiniLM-L6-v2 model, and its calibration helpers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from embeddings.calibration import (
    brier_score,
    decide,
    expected_calibration_error,
    fit_isotonic,
    fit_logistic,
    fit_platt,
    macro_f1,
    micro_f1,
)
from embeddings.encoder import HashingEncoder, load_encoder
from embeddings.errors import DimensionMismatch, InvalidOption
from embeddings.ranking import Matrix
from embeddings.tagging import Tagger
from embeddings.tagging_features import KeywordMatcher, encode_cached
from embeddings.tagging_inputs import (
    LabelledText,
    is_held_out,
    load_dpg_examples,
    load_reference,
    split_examples,
)
from embeddings.tagging_results import Suggestions

DATA = Path(__file__).resolve().parents[2] / "data"
EDUCATION = "after-school tutoring and literacy programmes for primary school children"
COOKSTOVES = "clean cookstoves that cut household air pollution from cooking fires"


@pytest.fixture(scope="module")
def examples() -> list[LabelledText]:
    return load_dpg_examples(DATA)


@pytest.fixture(scope="module")
def tagger(examples: list[LabelledText], request: pytest.FixtureRequest) -> Tagger:
    """The shipped configuration: fit on the training split; vectors kept in pytest's cache."""
    cache = getattr(request.config, "cache", None)
    folder = cache.mkdir("cocreate-tagging") if cache is not None else None
    training, _ = split_examples(examples)
    return Tagger.fit(load_encoder(), load_reference(DATA), training, cache=folder)


def goals(found: Suggestions) -> list[int]:
    return [s.goal for s in found.sdgs]


def test_education_text_gets_sdg_4_first_with_a_schooling_target(tagger: Tagger) -> None:
    first = tagger.suggest(EDUCATION).sdgs[0]
    assert first.goal == 4 and first.suggested
    assert {"4.1", "4.6"} & {t.code for t in first.targets}
    assert "literacy" in first.keywords and first.similar


def test_cookstove_text_gets_energy_or_health_in_the_top_three(tagger: Tagger) -> None:
    assert {3, 7} & set(goals(tagger.suggest(COOKSTOVES))[:3])


SECTOR_TEXTS = {
    "health": "community health workers bring vaccines and maternal care to rural clinics",
    "education": EDUCATION,
    "spirituality": "interfaith dialogue circles where neighbours of different religions pray",
    "restorative-justice": "restorative circles that repair harm between victims and offenders",
}


@pytest.mark.parametrize(("sector", "text"), SECTOR_TEXTS.items())
def test_sector_comes_first(tagger: Tagger, sector: str, text: str) -> None:
    # spirituality and restorative justice have no DPG labels: only the zero-shot evidence
    found = tagger.suggest(text).sectors
    assert found[0].slug == sector and found[0].suggested


@pytest.mark.parametrize("text", [EDUCATION, COOKSTOVES, "", "Mural painting with refugees"])
def test_confidences_are_probabilities_in_order(tagger: Tagger, text: str) -> None:
    found = tagger.suggest(text, top=17)
    for ranked in (found.sdgs, found.sectors):
        confidence = [s.confidence for s in ranked]
        assert all(0.0 <= c <= 1.0 for c in confidence)
        assert confidence == sorted(confidence, reverse=True)
        assert ranked[0].suggested
    assert sorted(goals(found)) == list(range(1, 18))
    for suggestion in found.sdgs:
        assert all(t.code.split(".")[0] == str(suggestion.goal) for t in suggestion.targets)
        assert [t.score for t in suggestion.targets] == sorted(
            (t.score for t in suggestion.targets), reverse=True
        )


def test_suggestions_are_deterministic_and_a_stored_vector_gives_the_same(tagger: Tagger) -> None:
    first = tagger.suggest(COOKSTOVES)
    assert tagger.suggest(COOKSTOVES) == first
    vector = tagger.encoder.encode([COOKSTOVES])[0]
    again = tagger.suggest_vector(vector, COOKSTOVES)
    assert goals(again) == goals(first)
    assert np.allclose([s.confidence for s in again.sdgs], [s.confidence for s in first.sdgs])


def test_a_vector_is_reused_only_when_the_taggers_own_encoder_made_it(tagger: Tagger) -> None:
    # A vector of another text shows which was used: the vector's or the text's.
    other = tagger.encoder.encode([EDUCATION])[0]
    own = tagger.suggest_reusing(COOKSTOVES, other, tagger.encoder)
    assert own == tagger.suggest_vector(other, COOKSTOVES)
    assert goals(own) != goals(tagger.suggest(COOKSTOVES))
    # Another model (or the same model in int8): the text is encoded by the tagger's own.
    elsewhere = HashingEncoder(tagger.encoder.dimension)
    assert tagger.suggest_reusing(COOKSTOVES, other, elsewhere) == tagger.suggest(COOKSTOVES)
    assert tagger.suggest_reusing(COOKSTOVES, None, tagger.encoder) == tagger.suggest(COOKSTOVES)


def test_bad_arguments_are_refused(tagger: Tagger) -> None:
    with pytest.raises(InvalidOption):
        tagger.suggest(EDUCATION, top=0)
    with pytest.raises(DimensionMismatch):
        tagger.suggest_vector(np.ones(3), EDUCATION)


def test_the_held_out_split_never_meets_training(examples: list[LabelledText]) -> None:
    training, held_out = split_examples(examples)
    assert len(examples) == 714 and len({e.id for e in examples}) == 714
    assert (len(training), len(held_out)) == (483, 231)
    assert not {e.id for e in training} & {e.id for e in held_out}
    assert not {e.group for e in training} & {e.group for e in held_out}
    assert all(is_held_out(e.group) for e in held_out)
    mifos = {is_held_out(e.group) for e in examples if e.group == "mifos"}
    assert len(mifos) == 1  # an owner's projects fall on one side


def test_keyword_matcher_folds_and_treats_long_keywords_as_prefixes() -> None:
    matcher = KeywordMatcher([(0, "educ"), (0, "end"), (1, "clean energy"), (1, "energy")], 2)
    assert matcher.find("Educational games") == [("educ",)]
    assert matcher.find("endemic species") == []  # a 3-letter keyword matches whole words only
    scores, shown = matcher.scores(["cleaning energies for schools and the end of poverty"])
    assert shown[0] == [["end"], ["clean energy", "energy"]]
    assert scores[0, 1] > scores[0, 0] > 0


def test_encode_cached_encodes_each_text_once(tmp_path: Path) -> None:
    class Counting(HashingEncoder):
        def __init__(self) -> None:
            super().__init__(16)
            self.calls: list[int] = []

        def encode(
            self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False
        ) -> Matrix:
            self.calls.append(len(texts))
            return super().encode(texts)

    encoder = Counting()
    first = encode_cached(encoder, ["a b", "c d", "a b"], tmp_path)
    again = encode_cached(encoder, ["c d", "e f"], tmp_path)
    assert encoder.calls == [2, 1]
    assert np.array_equal(first[1], again[0]) and np.array_equal(first[0], first[2])


def test_isotonic_calibration_is_monotone_bounded_and_follows_the_data() -> None:
    rng = np.random.default_rng(3)
    scores = rng.normal(size=2000)
    outcomes = rng.random(2000) < 1 / (1 + np.exp(-2 * scores))
    calibrate = fit_isotonic(scores, outcomes)
    grid = np.linspace(-5, 5, 201)
    mapped = calibrate(grid)
    assert np.all(np.diff(mapped) >= 0) and mapped.min() > 0 and mapped.max() < 1
    assert abs(calibrate(np.array([0.0]))[0] - 0.5) < 0.1
    assert expected_calibration_error(calibrate(scores), outcomes) < 0.03
    assert brier_score(calibrate(scores), outcomes) < brier_score(np.full(2000, 0.5), outcomes)


def test_platt_and_logistic_fits_learn_the_direction() -> None:
    x = np.linspace(-3, 3, 400)
    y = x + np.random.default_rng(1).normal(scale=1.0, size=400) > 0
    model = fit_logistic(np.stack([x, np.zeros_like(x)], axis=1), y)
    assert model.weights[0] > 0 and model.weights[1] == 0
    platt = fit_platt(x, y)(np.array([-3.0, 0.0, 3.0]))
    assert platt[0] < 0.1 < platt[1] < 0.9 < platt[2]


def test_decision_rule_and_f1() -> None:
    probabilities = np.array([[0.9, 0.6, 0.1], [0.2, 0.3, 0.1]])
    chosen = decide(probabilities, 0.5)
    assert chosen.tolist() == [[True, True, False], [False, True, False]]  # always the top one
    truth = np.array([[True, False, False], [False, True, True]])
    assert micro_f1(chosen, truth) == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    assert macro_f1(chosen, truth) == pytest.approx((1 + 2 / 3 + 0) / 3)
