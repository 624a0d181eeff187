"""Tag suggestion: ranked SDGs (with their closest targets) and sectors, with calibrated confidence.

Evidence for goal g and a text with vector v (inputs: :mod:`embeddings.tagging_inputs`):

- dense: the cosine of v with each target of g (its official title or closest
  indicator title, all encoded one by one); the best target, the mean of the best
  three, and the best minus the best of any goal (how far behind the leader);
- keywords: g's Aurora keywords found in the text (see :class:`KeywordMatcher`),
  each weighted by log(17 / goals listing it) + 0.1, summed, then log1p;
- neighbours: the 10 training texts closest to v vote with weights
  exp((cos - best cos) / 0.05); the feature is the weighted share carrying g, and
  that share times the closest text's cosine (a vote of distant texts counts less);
- grounded keywords: the keyword feature times the best target cosine (a keyword
  in a text about the goal counts more than one in passing).

The training texts are the DPG training split and the project's own plain labelled
examples (``data/tagging_examples.json``, everyday wording the registry lacks). There
is no goal prior: the registry's share of each goal (mostly software for schools and
clinics) is not that of our users' texts, and a prior outvoted the evidence in them.

One logistic regression over all (text, goal) pairs, shared by the goals, weighs them.
Sectors use the cosines with the sector's description and with its keyword list (each
also minus the best sector's), its keywords found in the text, and the SDG model's
probability of the sector's typical SDGs. They get no neighbour vote: the DPG labels
cover five sectors and none of peace, restorative justice or spirituality, and a vote
would teach the model that those never apply.

Confidence: 5-fold cross-validation on the training texts (folds by blake2b(group +
"#fold") mod 5, so a group never informs its own scores) gives out-of-fold scores; a
monotone calibrator fit on them (isotonic for SDGs; Platt for sectors, whose labels
are few) maps a score to the share of such suggestions that carried the label. A
suggestion is ``suggested`` when its confidence reaches the threshold that maximised
out-of-fold micro-F1; the top one always is, unless the text's node already has a
goal (see :class:`Tags`: a tag the node has is marked ``existing``, never suggested).
Targets are only named under a goal that is suggested or already there.

What a confidence means: of suggestions given confidence c, about a share c carried
that label, on texts the model had not seen. ``scripts/evaluate_tagging.py`` checks
it on the held-out initiatives (reliability table, ECE, Brier). Two limits: registry
labels are incomplete (two goals per initiative on average), so a suggestion counted
wrong may be a goal nobody entered; and sector confidences are calibrated on the 100
training initiatives whose DPG sector labels map to ours (mostly health, environment
and education), so for the other sectors they extrapolate the shared weights.

Service start: :func:`fit_on_shipped_data` fits on the training split of ``data/``;
with a ``cache`` folder only the first start encodes (~930 texts), later fits take
under a second.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from embeddings.calibration import (
    Calibrator,
    Flags,
    Floats,
    best_threshold,
    fit_isotonic,
    fit_logistic,
    fit_platt,
    out_of_fold_scores,
    sigmoid,
)
from embeddings.encoder import Encoder
from embeddings.errors import CountMismatch, DimensionMismatch, InvalidOption
from embeddings.ranking import Matrix, normalise_rows
from embeddings.tagging_features import (
    GOALS,
    KeywordMatcher,
    Space,
    build_space,
    sdg_features,
    sector_features,
)
from embeddings.tagging_inputs import (
    LabelledText,
    TaggingDataError,
    TaggingReference,
    bucket,
    load_reference,
    shipped_split,
)
from embeddings.tagging_model import MODEL_FILE, Learnt, from_json, read_model, to_json
from embeddings.tagging_results import (
    NO_TAGS,
    SdgSuggestion,
    SectorSuggestion,
    Suggestions,
    Tags,
    TargetMatch,
)

logger = logging.getLogger(__name__)
FOLDS = 5
T = TypeVar("T", int, str)


class Tagger:
    """Suggests SDGs (with targets) and sectors for texts; build one with :meth:`fit`."""

    def __init__(
        self,
        encoder: Encoder,
        reference: TaggingReference,
        space: Space,
        sdg: Learnt,
        sector: Learnt,
        out_of_fold: tuple[Floats, Flags] | None = None,
    ) -> None:
        self.encoder, self.reference, self._space = encoder, reference, space
        self._sdg, self._sector, self._out_of_fold = sdg, sector, out_of_fold
        self._aurora, self._words = _matchers(reference)

    @property
    def thresholds(self) -> tuple[float, float]:
        """The confidence from which an SDG, and a sector, is ``suggested``."""
        return self._sdg.threshold, self._sector.threshold

    @property
    def training_confidence(self) -> tuple[Floats, Flags]:
        """Out-of-fold SDG confidences of the training texts (texts x 17) and their labels.

        For choosing decision thresholds on the training split without touching held-out data;
        only a tagger made by :meth:`fit` has them.
        """
        if self._out_of_fold is None:
            raise TaggingDataError("tagger", "loaded from a file: no out-of-fold confidences")
        return self._out_of_fold

    def parameters(self) -> dict[str, Any]:
        """The learnt parameters as JSON values (see :mod:`embeddings.tagging_model`)."""
        return to_json(
            self._sdg, self._sector, encoder=self.encoder.name, training=len(self._space.names)
        )

    @classmethod
    def load(
        cls,
        encoder: Encoder,
        reference: TaggingReference,
        training: Sequence[LabelledText],
        path: Path,
        *,
        cache: Path | None = None,
    ) -> Tagger:
        """A tagger with the parameters in ``path``, over the same training texts it was
        learnt on (they are encoded for the neighbour votes)."""
        sdg, sector = from_json(read_model(path), encoder=encoder.name, where=path)
        space = build_space(encoder, reference, [t for t in training if t.sdgs], cache)
        return cls(encoder, reference, space, sdg, sector)

    @classmethod
    def fit(
        cls,
        encoder: Encoder,
        reference: TaggingReference,
        training: Sequence[LabelledText],
        *,
        cache: Path | None = None,
    ) -> Tagger:
        """Encode the reference and training texts, fit the combiners and calibrate them.

        Training texts without SDG labels are ignored. ``cache``: a folder that keeps the
        vectors between runs, so a restart encodes only new texts (fitting on encoded
        texts takes well under a second).
        """
        training = [t for t in training if t.sdgs]
        space = build_space(encoder, reference, training, cache)
        aurora, words = _matchers(reference)
        groups = np.array([t.group or t.id for t in training])
        folds = np.array([bucket(g + "#fold", FOLDS) for g in groups])
        texts = [t.text for t in training]
        # No text votes for its own group: held-out texts have no kin in training either.
        features, *_ = sdg_features(space, aurora, space.examples, texts, groups[:, None] == groups)
        truth = space.labels > 0
        scores = out_of_fold_scores(features, truth, folds)
        sdg, confidence = _calibrated(features, truth, scores, fit_isotonic)

        slugs = [s.slug for s in reference.sectors]
        rows = [i for i, t in enumerate(training) if t.sectors & set(slugs)]
        if not rows:
            raise TaggingDataError("training", "no training text has a known sector label")
        sector_truth = np.array([[s in training[i].sectors for s in slugs] for i in rows])
        found, *_ = sector_features(
            space,
            words,
            [s.sdgs for s in reference.sectors],
            space.examples[rows],
            [texts[i] for i in rows],
            sigmoid(scores[rows]),
        )
        sector_scores = out_of_fold_scores(found, sector_truth, folds[rows])
        sector, _ = _calibrated(found, sector_truth, sector_scores, fit_platt)
        return cls(encoder, reference, space, sdg, sector, (confidence, truth))

    def suggest(self, text: str, *, top: int = 5, existing: Tags = NO_TAGS) -> Suggestions:
        """The ``top`` SDGs and sectors for a text, most confident first.

        ``existing``: the tags the text's node already has; they are ranked and marked
        ``existing`` but never ``suggested``, and the top one is then not suggested by default.
        """
        return self.suggest_many([text], top=top, existing=[existing])[0]

    def suggest_vector(
        self, vector: npt.ArrayLike, text: str, *, top: int = 5, existing: Tags = NO_TAGS
    ) -> Suggestions:
        """As :meth:`suggest`, for a text already encoded by this tagger's encoder."""
        matrix = np.reshape(vector, (1, -1))
        return self.suggest_many([text], top=top, vectors=matrix, existing=[existing])[0]

    def suggest_reusing(
        self,
        text: str,
        vector: npt.ArrayLike | None,
        encoder: Encoder,
        *,
        top: int = 5,
        existing: Tags = NO_TAGS,
    ) -> Suggestions:
        """As :meth:`suggest`, reusing ``vector`` (the text's, computed by ``encoder``) when
        ``encoder`` is this tagger's own model and precision; otherwise the text is encoded
        again (int8 item vectors: the tagger's parameters were learnt on fp32 vectors)."""
        if vector is not None and encoder.name == self.encoder.name:
            return self.suggest_vector(vector, text, top=top, existing=existing)
        return self.suggest(text, top=top, existing=existing)

    def suggest_many(
        self,
        texts: Sequence[str],
        *,
        top: int = 5,
        vectors: npt.ArrayLike | None = None,
        existing: Sequence[Tags] | None = None,
    ) -> list[Suggestions]:
        """:meth:`suggest` for many texts at once; ``vectors``: their encodings, if known."""
        if top < 1:
            raise InvalidOption("top", top, "a positive integer")
        known = list(existing) if existing is not None else [NO_TAGS] * len(texts)
        if len(known) != len(texts):
            raise CountMismatch(len(texts), len(known))
        matrix = self.encoder.encode(texts) if vectors is None else self._checked(vectors, texts)
        space, n = self._space, len(texts)
        features, target_scores, keywords, near = sdg_features(space, self._aurora, matrix, texts)
        scores = self._sdg.combiner.decision(_rows(features)).reshape(n, GOALS)
        sectors = self.reference.sectors
        found, similarity, words = sector_features(
            space, self._words, [s.sdgs for s in sectors], matrix, texts, sigmoid(scores)
        )
        sector_scores = self._sector.combiner.decision(_rows(found)).reshape(n, len(sectors))
        out = []
        for i in range(n):
            tags = known[i]
            sdgs = tuple(
                self._sdg_suggestion(
                    g, rank, scores[i], target_scores[i], keywords[i], near[i], tags
                )
                for rank, g in enumerate(_ranking(scores[i])[:top])
            )
            shown = {s.goal for s in sdgs if s.suggested or s.existing}
            out.append(
                Suggestions(
                    sdgs,
                    tuple(
                        SectorSuggestion(
                            slug=sectors[j].slug,
                            confidence=(c := float(self._sector.calibrator(sector_scores[i, j]))),
                            suggested=_is_new(
                                rank, c, self._sector.threshold, sectors[j].slug, tags.sectors
                            ),
                            similarity=round(float(similarity[i, j]), 4),
                            keywords=tuple(words[i][j]),
                            via_sdgs=tuple(g for g in sectors[j].sdgs if g in shown),
                            existing=sectors[j].slug in tags.sectors,
                        )
                        for rank, j in enumerate(_ranking(sector_scores[i])[:top])
                    ),
                )
            )
        return out

    def _checked(self, vectors: npt.ArrayLike, texts: Sequence[str]) -> Matrix:
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[1] != self.encoder.dimension:
            raise DimensionMismatch(self.encoder.dimension, int(matrix.shape[-1]))
        if matrix.shape[0] != len(texts):
            raise CountMismatch(len(texts), matrix.shape[0])
        return normalise_rows(matrix)

    def _sdg_suggestion(
        self,
        g: int,
        rank: int,
        scores: Floats,
        target_scores: Floats,
        keywords: list[list[str]],
        neighbours: list[int],
        tags: Tags,
    ) -> SdgSuggestion:
        space = self._space
        start, end = space.goal_start[g], space.goal_start[g + 1]
        confidence = float(self._sdg.calibrator(scores[g]))
        suggested = _is_new(rank, confidence, self._sdg.threshold, g + 1, tags.goals)
        # A target is only named under a goal that is suggested or already there.
        shown = suggested or g + 1 in tags.goals
        best = [start + j for j in _ranking(target_scores[start:end])[:3]] if shown else []
        return SdgSuggestion(
            goal=g + 1,
            confidence=confidence,
            suggested=suggested,
            existing=g + 1 in tags.goals,
            targets=tuple(
                TargetMatch(
                    space.targets[t].code, space.targets[t].title, round(float(target_scores[t]), 4)
                )
                for t in best
            ),
            keywords=tuple(keywords[g]),
            similar=tuple([space.names[n] for n in neighbours if space.labels[n, g] > 0][:3]),
        )


def _is_new(rank: int, confidence: float, threshold: float, tag: T, existing: frozenset[T]) -> bool:
    """Whether to suggest a tag: not there yet, and confident enough or the first of a
    text whose node has no tag of its kind yet."""
    if tag in existing:
        return False
    return confidence >= threshold or (rank == 0 and not existing)


def fit_on_shipped_data(encoder: Encoder, data_dir: Path, *, cache: Path | None = None) -> Tagger:
    """The shipped tagger: the parameters in ``data_dir/tagger.json`` (learnt by
    ``scripts/learn_tagger.py`` on the training split of the DPG initiatives and the
    project's plain examples, :func:`embeddings.tagging_inputs.shipped_split`), or, when
    that file is absent or was learnt with another encoder, fitted on the same texts now."""
    training, _ = shipped_split(data_dir)
    reference = load_reference(data_dir)
    path = data_dir / MODEL_FILE
    if path.is_file():
        try:
            return Tagger.load(encoder, reference, training, path, cache=cache)
        except TaggingDataError as exc:
            logger.warning("fitting the tagger afresh: %s", exc)
    return Tagger.fit(encoder, reference, training, cache=cache)


def _matchers(reference: TaggingReference) -> tuple[KeywordMatcher, KeywordMatcher]:
    """The Aurora keywords by goal (0-16) and the sector keywords by sector position."""
    aurora = KeywordMatcher(((g - 1, kw) for g, kw in reference.keywords), GOALS)
    pairs = ((i, kw) for i, s in enumerate(reference.sectors) for kw in s.keywords)
    return aurora, KeywordMatcher(pairs, len(reference.sectors))


def _calibrated(
    features: Floats,
    truth: Flags,
    out_of_fold: Floats,
    calibrate: Callable[[Floats, Flags], Calibrator],
) -> tuple[Learnt, Floats]:
    """The combiner fit on all rows, calibrated and thresholded on out-of-fold scores;
    and the out-of-fold confidences."""
    calibrator = calibrate(out_of_fold.reshape(-1), truth.reshape(-1))
    confidence = calibrator(out_of_fold)
    learnt = Learnt(
        fit_logistic(_rows(features), truth.reshape(-1)),
        calibrator,
        best_threshold(confidence, truth),
    )
    return learnt, confidence


def _rows(features: Floats) -> Floats:
    """(texts, labels, features) as one row per (text, label) pair."""
    return features.reshape(-1, features.shape[-1])


def _ranking(scores: Floats) -> list[int]:
    """Indices by score descending, ties by index (goal or sector order)."""
    return sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))
