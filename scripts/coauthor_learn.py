"""Learning the collaborator weights on validation pools (``evaluate_coauthor.py --learn``):
a pairwise logistic ranking model with non-negative coefficients."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from graph.matching.features import FEATURES, Pool
from graph.matching.scoring import Weights

LEARNT = tuple(f for f in FEATURES if f != "bridging")


def pairs(
    pools: Sequence[tuple[Pool, frozenset[str]]], *, negatives: int = 100, seed: int = 0
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(differences positive - negative of the learnt features, weight of each pair): up to
    ``negatives`` negatives per positive, drawn with ``seed``; each pool weighs one."""
    rng = np.random.default_rng(seed)
    columns = [FEATURES.index(f) for f in LEARNT]
    rows: list[npt.NDArray[np.float64]] = []
    weights: list[npt.NDArray[np.float64]] = []
    for pool, truth in pools:
        positive = [n for n, c in enumerate(pool.candidates) if c.id in truth]
        negative = np.array([n for n, c in enumerate(pool.candidates) if c.id not in truth])
        if not positive or not negative.size:
            continue
        x = pool.features[:, columns]
        diffs = []
        for p in positive:
            drawn = negative if negative.size <= negatives else rng.choice(
                negative, negatives, replace=False)  # fmt: skip
            diffs.append(x[p] - x[drawn])
        block = np.concatenate(diffs)
        rows.append(block)
        weights.append(np.full(len(block), 1.0 / len(block)))
    return np.concatenate(rows), np.concatenate(weights)


def fit(
    groups: Sequence[tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]],
    *,
    l2: float = 1e-3,
    steps: int = 3000,
    rate: float = 0.05,
) -> npt.NDArray[np.float64]:
    """Non-negative coefficients of a pairwise logistic ranking model: minimise the mean
    over groups of the weighted ``log(1 + exp(-w . d))`` over their pairs, plus
    ``l2 |w|^2``, by projected gradient descent (Adam steps), from zeros."""
    w = np.zeros(len(LEARNT))
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for step in range(1, steps + 1):
        grad = 2 * l2 * w
        for diffs, weights in groups:
            margin = diffs @ w
            slope = -1.0 / (1.0 + np.exp(np.clip(margin, -50, 50)))  # d/dm log(1 + e^-m)
            grad += (diffs * (weights * slope)[:, None]).sum(axis=0) / (
                weights.sum() * len(groups))  # fmt: skip
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        w = np.maximum(0.0, w - rate * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step))
                                                                 + 1e-9))  # fmt: skip
    return w


def as_weights(coefficients: npt.NDArray[np.float64]) -> Weights:
    values = dict(zip(LEARNT, (round(float(c), 2) for c in coefficients), strict=True))
    return Weights(**values)
