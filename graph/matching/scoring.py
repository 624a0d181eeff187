"""Scores from features: the weights of each mode, and the diversified ranking.

A candidate's score is the weighted sum of its features (:mod:`graph.matching.features`).
The weights of the ``similar`` mode were learnt or tuned on validation data only (see
``PEOPLE`` below; docs/matching.md has the figures), one set per kind of seed and of
recommendation (:func:`tuned_weights`); the other modes are built from them:

- ``complementary`` keeps only candidates where an offer meets a need, and weighs
  that four times as much;
- ``bridging`` keeps the candidates who bring a sector the seed has not (all of them
  when nobody does), drops the graph closeness terms, the distance and the activity, and
  multiplies what is left (relevance by text, goals and offers) by ``1 + BRIDGING x
  bridging`` (the feature is 1 for another sector and no link but a shared goal, 0.5
  for either), so that people who are relevant but sit in another sector or another
  part of the network come first.

The ranking is then diversified greedily: each pick multiplies the score of every
remaining candidate sharing a group with it (an organisation, initiative or council)
by ``1 - DIVERSITY`` per earlier pick in that group beyond the first
``SHARED_FREELY``, so ten people from one organisation do not fill a page while
others are nearly as good.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, replace
from typing import Literal

import numpy as np
import numpy.typing as npt

from graph.matching.features import FEATURES, Pool

Mode = Literal["similar", "complementary", "bridging"]
MODES: tuple[Mode, ...] = ("similar", "complementary", "bridging")
DIVERSITY = 0.15
BRIDGING = 2.0  # a candidate in another sector and another part of the network: x3
SHARED_FREELY = 2  # picks from one group before the diversity penalty starts
_BRIDGING = FEATURES.index("bridging")
COMPONENTS = {
    "graph": ("graph", "graph_work", "cowork", "cowork_aa"),
    "text": ("text", "text_work"),
    "complement": ("complement",),
    "goals": ("goals",),
    "proximity": ("proximity",),
    "activity": ("activity", "works"),
}


@dataclass(frozen=True)
class Weights:
    """One weight per feature (see :data:`graph.matching.features.FEATURES`)."""

    graph: float = 0.0
    graph_work: float = 0.0
    cowork: float = 0.0
    cowork_aa: float = 0.0
    text: float = 0.0
    text_work: float = 0.0
    complement: float = 0.0
    goals: float = 0.0
    proximity: float = 0.0
    activity: float = 0.0
    works: float = 0.0
    bridging: float = 0.0

    def vector(self) -> npt.NDArray[np.float64]:
        values = asdict(self)
        return np.array([values[name] for name in FEATURES], dtype=np.float64)

    @classmethod
    def from_vector(cls, values: npt.ArrayLike) -> Weights:
        flat = [float(v) for v in np.asarray(values, dtype=np.float64).reshape(-1)]
        return cls(**dict(zip(FEATURES, flat, strict=True)))


# PEOPLE (collaborators for a person) is learnt: a pairwise logistic ranking model with
# non-negative coefficients, fit on the validation pools of the NeurIPS co-authorship
# time split (graph up to 2014, new co-authors in 2015) and of the demo network's
# validation half, each counting once (``scripts/evaluate_coauthor.py --learn``). The
# others were tuned by coordinate ascent on the validation halves of
# ``scripts/evaluate_recommend.py``; never on a test split.
PEOPLE = Weights(graph=1.98, graph_work=1.69, cowork=0.87, cowork_aa=1.22, text=1.66,
                 text_work=1.85, complement=0.11, goals=1.02, proximity=0.93)  # fmt: skip
HELPERS = Weights(graph=8.0, graph_work=16.0, text=1.0, text_work=8.0, complement=8.0,
                  goals=2.0, proximity=16.0)  # fmt: skip
INITIATIVES = Weights(graph=16.0, text=1.0, text_work=0.25, complement=2.0, goals=1.0,
                      proximity=0.1, activity=1.0)  # fmt: skip
PARTNERS = Weights(graph=1.0, graph_work=0.5, text=1.0, text_work=1.0, complement=1.0,
                   proximity=1.0, activity=1.0)  # fmt: skip


def tuned_weights(seed_kind: str, target: str) -> Weights:
    """The tuned weights for a kind of seed and of recommended node: people for a person
    (``PEOPLE``), people for an initiative (``HELPERS``), initiatives for a person
    (``INITIATIVES``), initiatives for an organisation (``PARTNERS``)."""
    if target == "initiative":
        return PARTNERS if seed_kind == "organization" else INITIATIVES
    return PEOPLE if seed_kind == "person" else HELPERS


def weights_for(seed_kind: str, target: str, mode: Mode, base: Weights | None = None) -> Weights:
    """The weights of ``mode`` for recommending nodes of kind ``target`` to a ``seed_kind``."""
    tuned = base or tuned_weights(seed_kind, target)
    if mode == "complementary":
        return replace(tuned, complement=4 * max(tuned.complement, 0.25))
    if mode == "bridging":
        return replace(tuned, graph=0.0, graph_work=0.0, cowork=0.0, cowork_aa=0.0,
                       proximity=0.0, activity=0.0, works=0.0, bridging=BRIDGING)  # fmt: skip
    return tuned


def _split(weights: Weights) -> tuple[npt.NDArray[np.float64], float]:
    vector = weights.vector()
    bridging = float(vector[_BRIDGING])
    vector[_BRIDGING] = 0.0
    return vector, bridging


def scores(pool: Pool, weights: Weights) -> npt.NDArray[np.float64]:
    """Each candidate's score: the weighted sum of its features, times ``1 + bridging``
    weight x feature (the bridging feature scales relevance rather than adding to it)."""
    if not pool.candidates:
        return np.zeros(0, dtype=np.float64)
    vector, bridging = _split(weights)
    result: npt.NDArray[np.float64] = pool.features @ vector
    if bridging:
        result = result * (1.0 + bridging * pool.features[:, _BRIDGING])
    return result


def components(pool: Pool, row: int, weights: Weights) -> dict[str, float]:
    """A candidate's score split into readable parts (they add up to the score)."""
    vector, bridging = _split(weights)
    values = pool.features[row] * vector
    parts = {}
    for name, features in COMPONENTS.items():
        parts[name] = float(sum(values[FEATURES.index(f)] for f in features))
    parts["bridging"] = float(values.sum() * bridging * pool.features[row, _BRIDGING])
    return parts


@dataclass(frozen=True, slots=True)
class Ranked:
    """A row of the pool at its place in the ranking, with its diversified score."""

    row: int
    score: float
    raw: float


def rank(
    pool: Pool,
    weights: Weights,
    *,
    mode: Mode = "similar",
    count: int,
    diversity: float = DIVERSITY,
    free: int = SHARED_FREELY,
) -> list[Ranked]:
    """The best ``count`` rows, diversified (ties by id)."""
    values = scores(pool, weights)
    rows = list(range(len(pool.candidates)))
    if mode == "complementary":
        rows = [r for r in rows if pool.candidates[r].offer_need]
    elif mode == "bridging":
        bringing = [r for r in rows if pool.candidates[r].brings]
        rows = bringing or rows  # nobody brings another sector: the most relevant
    rows.sort(key=lambda r: (-values[r], pool.candidates[r].id))
    shortlist = rows[: max(3 * count, count + 20)]
    picked: list[Ranked] = []
    taken: Counter[str] = Counter()
    while shortlist and len(picked) < count:
        best_index, best_score = 0, -np.inf
        for index, row in enumerate(shortlist):
            groups = pool.candidates[row].groups
            repeats = max((taken[g] for g in groups), default=0)
            adjusted = values[row] * (1 - diversity) ** max(0, repeats - free)
            if adjusted > best_score + 1e-12:
                best_index, best_score = index, adjusted
        row = shortlist.pop(best_index)
        picked.append(Ranked(row, float(best_score), float(values[row])))
        taken.update(pool.candidates[row].groups)
    return picked
