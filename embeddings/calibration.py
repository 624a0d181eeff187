"""Small, deterministic learners and measures for turning scores into probabilities.

Numpy only (no scikit-learn): an L2-regularised logistic regression fit by Newton's
method, isotonic regression (pool adjacent violators) and Platt scaling as
calibrators, and the measures used to check them: reliability bins, the expected
calibration error and the Brier score, plus multi-label F1 for choosing thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Flags = npt.NDArray[np.bool_]


def sigmoid(x: Floats) -> Floats:
    """The logistic function, without overflow warnings for large negative inputs."""
    out: Floats = np.exp(-np.logaddexp(0.0, -x))
    return out


@dataclass(frozen=True, slots=True)
class LogisticModel:
    """A fitted logistic regression over standardised features."""

    mean: Floats
    scale: Floats
    weights: Floats
    bias: float

    def decision(self, features: Floats) -> Floats:
        """The log-odds of each row (features as columns, in the order fitted)."""
        standard = (np.asarray(features, dtype=np.float64) - self.mean) / self.scale
        out: Floats = standard @ self.weights + self.bias
        return out


def fit_logistic(
    features: Floats, labels: Flags, *, l2: float = 1e-3, max_iter: int = 100
) -> LogisticModel:
    """Minimise the mean log loss plus ``l2 / 2 * |w|^2`` (bias unpenalised) by Newton steps.

    Features are standardised first (constant columns get scale 1), so one ``l2`` suits
    features of any unit. Newton's method on this strictly convex loss converges in a
    few steps and, unlike a stochastic solver, gives the same weights on every run.
    """
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-12] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((x.shape[0], 1))])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0
    w = np.zeros(z.shape[1])
    n = max(len(y), 1)
    for _ in range(max_iter):
        p = sigmoid(z @ w)
        gradient = z.T @ (p - y) / n + penalty * w
        hessian = (z * (p * (1.0 - p))[:, None]).T @ z / n + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.max(np.abs(step)) < 1e-9:
            break
    return LogisticModel(mean, scale, w[:-1].copy(), float(w[-1]))


@dataclass(frozen=True, slots=True)
class Calibrator:
    """A monotone map from scores to probabilities: piecewise linear through its knots."""

    knots: Floats  # increasing scores
    values: Floats  # non-decreasing probabilities at the knots

    def __call__(self, scores: Floats) -> Floats:
        """Probabilities in [0, 1]; scores beyond the outer knots get the end values."""
        out: Floats = np.interp(np.asarray(scores, dtype=np.float64), self.knots, self.values)
        return out


def fit_isotonic(scores: Floats, outcomes: Flags) -> Calibrator:
    """Isotonic regression of outcomes on scores (pool adjacent violators), smoothed.

    Each pooled block's frequency is smoothed to (hits + 1) / (count + 2), so a block
    of ten hits says 0.92 rather than a certain 1.0 (then made monotone again). The
    knots are the blocks' mean scores and the map is linear between them, so that two
    different scores rarely get exactly the same confidence.
    """
    x = np.asarray(scores, dtype=np.float64)
    y = np.asarray(outcomes, dtype=np.float64)
    if x.size == 0:
        return Calibrator(np.zeros(1), np.full(1, 0.5))
    unique, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=y)
    # Each block: [hits, count, sum of scores], merged with the previous one while that
    # one's frequency is not below its own.
    blocks: list[list[float]] = []
    for value, hits, count in zip(unique, sums, counts, strict=True):
        blocks.append([float(hits), float(count), float(value) * float(count)])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            last = blocks.pop()
            blocks[-1] = [a + b for a, b in zip(blocks[-1], last, strict=True)]
    knots = np.array([b[2] / b[1] for b in blocks])
    values = np.maximum.accumulate(np.array([(b[0] + 1) / (b[1] + 2) for b in blocks]))
    return Calibrator(knots, values)


def fit_platt(scores: Floats, outcomes: Flags, *, points: int = 64) -> Calibrator:
    """Platt scaling (a logistic fit of outcomes on the score), tabulated as a Calibrator.

    Two parameters instead of one value per block: the choice when labels are few.
    """
    x = np.asarray(scores, dtype=np.float64)
    model = fit_logistic(x[:, None], np.asarray(outcomes, dtype=bool), l2=1e-4)
    low, high = (float(x.min()), float(x.max())) if x.size else (0.0, 1.0)
    knots = np.linspace(low, high if high > low else low + 1.0, points)
    return Calibrator(knots, sigmoid(model.decision(knots[:, None])))


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    """Predictions whose confidence fell in [low, high): how sure, and how often right."""

    low: float
    high: float
    count: int
    mean_confidence: float
    observed: float


def reliability(confidences: Floats, outcomes: Flags, *, bins: int = 10) -> list[ReliabilityBin]:
    """Equal-width confidence bins (the last one includes 1.0); empty bins are left out."""
    conf = np.asarray(confidences, dtype=np.float64)
    hit = np.asarray(outcomes, dtype=np.float64)
    which = np.minimum((conf * bins).astype(np.int64), bins - 1)
    out = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            out.append(
                ReliabilityBin(
                    b / bins,
                    (b + 1) / bins,
                    int(mask.sum()),
                    float(conf[mask].mean()),
                    float(hit[mask].mean()),
                )
            )
    return out


def expected_calibration_error(confidences: Floats, outcomes: Flags, *, bins: int = 10) -> float:
    """The count-weighted mean gap between confidence and observed frequency, over bins."""
    table = reliability(confidences, outcomes, bins=bins)
    total = sum(b.count for b in table)
    if total == 0:
        return 0.0
    return sum(b.count * abs(b.mean_confidence - b.observed) for b in table) / total


def brier_score(confidences: Floats, outcomes: Flags) -> float:
    """The mean squared difference between confidence and outcome (0 is perfect)."""
    conf = np.asarray(confidences, dtype=np.float64)
    if conf.size == 0:
        return 0.0
    return float(np.mean((conf - np.asarray(outcomes, dtype=np.float64)) ** 2))


def decide(probabilities: Floats, threshold: float) -> Flags:
    """Each row's labels with probability >= threshold, and always the row's best one."""
    chosen = probabilities >= threshold
    if probabilities.shape[0] and probabilities.shape[1]:
        chosen[np.arange(probabilities.shape[0]), np.argmax(probabilities, axis=1)] = True
    return chosen


def micro_f1(predicted: Flags, truth: Flags) -> float:
    """F1 over all (row, label) decisions pooled."""
    tp = int(np.sum(predicted & truth))
    wrong = int(np.sum(predicted != truth))
    return 2 * tp / (2 * tp + wrong) if tp or wrong else 1.0


def macro_f1(predicted: Flags, truth: Flags) -> float:
    """The mean of the per-label F1, over labels that are true or predicted at least once.

    A label never true and never predicted has no defined F1 and is left out, rather
    than counted as a perfect 1 (which would flatter a tagger on rare labels).
    """
    scores = [
        micro_f1(predicted[:, j], truth[:, j])
        for j in range(truth.shape[1])
        if truth[:, j].any() or predicted[:, j].any()
    ]
    return float(np.mean(scores)) if scores else 0.0


def best_threshold(probabilities: Floats, truth: Flags) -> float:
    """The threshold in 0.05 ... 0.95 that maximises micro-F1 under :func:`decide`.

    Ties go to the higher threshold: fewer tags for the same F1.
    """
    candidates = np.round(np.arange(0.05, 0.951, 0.05), 2)
    scores = [micro_f1(decide(probabilities, float(t)), truth) for t in candidates]
    best = max(range(len(candidates)), key=lambda i: (round(scores[i], 9), i))
    return float(candidates[best])


def out_of_fold_scores(features: Floats, truth: Flags, folds: npt.NDArray[np.int64]) -> Floats:
    """Log-odds for (rows, labels, features) from logistic models fit on the other folds.

    The rows of each fold are scored by a model that never saw them, so a calibrator or
    threshold fit on these scores sees how the model does on unseen texts. With a
    single fold there is nothing else to fit on, and the scores are in-sample.
    """
    out = np.zeros(truth.shape)
    width = features.shape[-1]
    for fold in np.unique(folds):
        held = folds == fold
        train = ~held if (~held).any() else held
        model = fit_logistic(features[train].reshape(-1, width), truth[train].reshape(-1))
        out[held] = model.decision(features[held].reshape(-1, width)).reshape(-1, truth.shape[1])
    return out
