"""Recommendations: collaborators for a person, initiatives to join, people for an initiative.

Each is the same three steps: gather a bounded, featurised pool of candidates
(:func:`graph.matching.features.gather`), score it with the mode's weights, and rank
it with diversity (:mod:`graph.matching.scoring`). What comes back carries what the
explanation needs (:mod:`graph.matching.explain`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from graph.matching.candidates import Limits
from graph.matching.context import MatchContext
from graph.matching.features import Candidate, Near, Pool, Relation, gather
from graph.matching.scoring import Mode, Weights, components, rank, weights_for


@dataclass(frozen=True)
class Recommendation:
    """One recommended node, its score, the score's parts, and what they came from."""

    id: str
    score: float
    components: dict[str, float]
    candidate: Candidate


@dataclass(frozen=True)
class Result:
    """The page of recommendations and the pool they were drawn from."""

    pool: Pool
    items: list[Recommendation]
    weights: Weights
    mode: Mode = "similar"


def recommend(
    ctx: MatchContext,
    seed: str,
    target: str,
    *,
    mode: Mode = "similar",
    limit: int = 10,
    offset: int = 0,
    near: Near | None = None,
    weights: Weights | None = None,
    limits: Limits | None = None,
    relation: Relation = "new",
    exclude: Collection[str] = (),
) -> Result:
    """The ``limit`` best nodes of kind ``target`` for ``seed`` after ``offset``: for a
    person's collaborators, people they do not work with yet, or with
    ``relation="existing"``, only those they do; never a node in ``exclude``."""
    pool = gather(ctx, seed, target, limits=limits, near=near, relation=relation,
                  exclude=exclude)  # fmt: skip
    chosen = weights_for(pool.seed.kind, target, mode, weights)
    ranked = rank(pool, chosen, mode=mode, count=offset + limit)[offset:]
    items = []
    for entry in ranked:
        parts = components(pool, entry.row, chosen)
        parts["diversity"] = entry.score - entry.raw
        candidate = pool.candidates[entry.row]
        items.append(Recommendation(candidate.id, entry.score, parts, candidate))
    return Result(pool, items, chosen, mode)


def recommend_collaborators(
    ctx: MatchContext,
    person: str,
    *,
    mode: Mode = "similar",
    limit: int = 10,
    offset: int = 0,
    near: Near | None = None,
    relation: Relation = "new",
) -> Result:
    """People to collaborate with: never those the person already knows or works with
    (same initiative, council or team), unless ``relation="existing"`` asks for them."""
    return recommend(ctx, person, "person", mode=mode, limit=limit, offset=offset, near=near,
                     relation=relation)  # fmt: skip


def recommend_initiatives(
    ctx: MatchContext, node: str, *, limit: int = 10, offset: int = 0, near: Near | None = None
) -> Result:
    """Initiatives to join (for a person, or an organisation); the current ones left out."""
    return recommend(ctx, node, "initiative", limit=limit, offset=offset, near=near)


def recommend_people(
    ctx: MatchContext,
    initiative: str,
    *,
    mode: Mode = "similar",
    limit: int = 10,
    offset: int = 0,
    near: Near | None = None,
) -> Result:
    """People who could join or help an initiative, from its needs, goals and text."""
    return recommend(ctx, initiative, "person", mode=mode, limit=limit, offset=offset, near=near)
