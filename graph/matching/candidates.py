"""Bounded candidate generation: who or what is worth scoring for one seed.

Sources, each capped so that a request never walks the whole graph:

- **text**: the ``reservoir`` nodes nearest to the seed by text among the audience's
  pool (one ``TextSimilarity.nearest`` call); the first ``text_k`` are candidates,
  the rest serve the sources below. Plus the ``work_k`` nearest to each of the first
  ``work_seeds`` initiatives the seed works on (people on it, for an initiative).
- **graph**: nodes two hops away through the seed's collaboration hubs (people it
  knows, initiatives, organisations, councils, communities, events); a hub of degree
  up to ``hub_cap`` is walked, a larger one (a city, a big event) contributes only
  its members found in the reservoir, checked edge by edge; the ``graph_k`` reached
  through the most and the smallest hubs are kept. Then three hops away through the
  people the seed knows and what it works on: their small hubs (degree up to a
  quarter of ``hub_cap``), at most ``three_hop_cap`` nodes. Goals, sectors and
  targets are never walked: they join thousands.
- **co-work**: co-workers' co-workers (:mod:`graph.matching.cowork`), the
  ``cowork_k`` with the largest resource allocation in the co-work graph.
- **work**: the people on the ``near_work_k`` initiatives nearest by text to each of
  the first ``work_seeds`` the seed works on, the nearest first, at most
  ``work_people_k``: people near by what they work on, when their own text is thin.
- **complement**: the nearest by text among the nodes that offer what the seed needs
  or need what it offers, when that set is at most ``complement_set_cap``; the
  reservoir covers the common skills, whose sets are larger.

Each candidate reached through the graph keeps the walk that reached it first (for
the explanation).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from graph.matching.context import TOPIC_KINDS, WORK_EDGES, Incident, MatchContext

Walk = tuple[Incident, ...]
"""Steps from the seed: each (node reached, edge kind, forward)."""


@dataclass(frozen=True)
class Limits:
    """How far candidate generation may go for one request."""

    hub_cap: int = 300
    graph_k: int = 120
    three_hop_cap: int = 50
    reservoir: int = 300
    text_k: int = 60
    work_k: int = 30
    work_seeds: int = 5
    complement_k: int = 40
    complement_set_cap: int = 2_000
    cowork_k: int = 150
    max_coworkers: int = 200
    near_work_k: int = 15
    work_people_k: int = 100


@dataclass
class Seed:
    """The seed's neighbourhood, read once: its allowed edges and what it works on."""

    id: str
    kind: str
    incident: list[Incident]
    works: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, ctx: MatchContext, node: str) -> Seed:
        incident = sorted(ctx.incident(node))
        seed = cls(node, ctx.kind(node), incident)
        for other, kind, _ in incident:
            if kind in WORK_EDGES and other not in seed.works:
                seed.works.append(other)
        return seed


Adjacency = Mapping[str, Mapping[str, Any]]
"""A node's adjacency row in one direction: neighbour -> edge kind -> edge data."""


def _members(ctx: MatchContext, hub: str, target: str) -> list[Incident]:
    kind = ctx.kind
    return [(o, k, f) for o, k, f in ctx.incident(hub) if kind(o) == target]


def _link(
    ctx: MatchContext, hub: str, rows: tuple[Adjacency, Adjacency], node: str
) -> tuple[str, bool] | None:
    """An allowed edge between ``hub`` and ``node``: (kind, forward from the hub), if any.
    ``rows``: the hub's adjacency out and in, read once for all the nodes asked about."""
    allow_edge = ctx.audience.allow_edge
    for kind in rows[0].get(node, ()):
        if allow_edge is None or allow_edge(hub, kind, node):
            return kind, True
    for kind in rows[1].get(node, ()):
        if allow_edge is None or allow_edge(node, kind, hub):
            return kind, False
    return None


def graph_candidates(
    ctx: MatchContext, seed: Seed, target: str, reservoir: Collection[str], limits: Limits
) -> dict[str, Walk]:
    """Nodes of kind ``target`` two and three hops from the seed, with the walk to each.

    The strongest come first: two hops before three, and among those two hops away, by
    the sum of ``1/log(degree)`` over the hubs they were reached through (the part of
    Adamic-Adar the walk sees), then by id; at most ``graph_k`` are kept.
    """
    found: dict[str, Walk] = {}
    strength: dict[str, float] = defaultdict(float)
    big: list[tuple[int, Incident]] = []
    for hub, kind, forward in seed.incident:
        if ctx.kind(hub) in TOPIC_KINDS:
            continue
        step = (hub, kind, forward)
        if ctx.degree(hub) > limits.hub_cap:
            big.append((ctx.degree(hub), step))
            continue
        weight = ctx.degree.weight(hub)
        for other, kind2, forward2 in _members(ctx, hub, target):
            if other != seed.id:
                strength[other] += weight
                if other not in found:
                    found[other] = (step, (other, kind2, forward2))
    for _, step in sorted(big):
        weight = ctx.degree.weight(step[0])
        rows = (ctx.graph._succ[step[0]], ctx.graph._pred[step[0]])
        for other in reservoir:
            if other != seed.id and other in ctx.graph and ctx.kind(other) == target:
                link = _link(ctx, step[0], rows, other)
                if link is not None:
                    strength[other] += weight
                    if other not in found:
                        found[other] = (step, (other, *link))
    ranked = sorted(found, key=lambda other: (-strength[other], other))[: limits.graph_k]
    chosen = {other: found[other] for other in ranked}
    added = 0
    strong = [step for step in seed.incident if step[1] == "knows" or step[1] in WORK_EDGES]
    for near, kind, forward in strong:
        for hub, kind2, forward2 in ctx.incident(near):
            hub_kind = ctx.kind(hub)
            if hub == seed.id or hub_kind in (target, "person") or hub_kind in TOPIC_KINDS:
                continue  # the target's own kind was reached in two hops; people are too many
            if ctx.degree(hub) > limits.hub_cap // 4:
                continue
            for other, kind3, forward3 in _members(ctx, hub, target):
                if other != seed.id and other not in found:
                    found[other] = chosen[other] = (
                        (near, kind, forward),
                        (hub, kind2, forward2),
                        (other, kind3, forward3),
                    )
                    added += 1
                    if added >= limits.three_hop_cap:
                        return chosen
    return chosen


def text_candidates(
    ctx: MatchContext,
    seed: Seed,
    pool: Collection[str] | None,
    exclude: Collection[str],
    limits: Limits,
    *,
    thin: bool = False,
) -> tuple[list[str], list[str]]:
    """(candidates, reservoir): the nearest nodes by text to the seed and to its work. A
    seed whose own text is ``thin`` (a name and little else) takes none of its own
    nearest: their closeness says nothing."""
    similarity = ctx.similarity
    near = [i for i, _ in similarity.nearest(seed.id, limits.reservoir, among=pool,
                                             exclude=exclude)]  # fmt: skip
    found = [] if thin else near[: limits.text_k]
    for other in seed.works[: limits.work_seeds]:
        found += [
            i
            for i, _ in similarity.nearest(other, limits.work_k, among=pool, exclude=exclude)
            if i != seed.id
        ]
    return found, near


def work_candidates(
    ctx: MatchContext,
    seed: Seed,
    pool: Collection[str] | None,
    exclude: Collection[str],
    limits: Limits,
) -> list[str]:
    """People on the initiatives nearest by text to what the seed works on: the nearest
    initiatives of every work first, then the next nearest, at most ``work_people_k``
    people (an initiative of a hundred people would otherwise fill the pool alone)."""
    similarity, kind = ctx.similarity, ctx.kind
    nodes = ctx.graph._node
    ranked: list[tuple[int, int, str]] = []  # (rank by text, which work, initiative)
    for index, work in enumerate(seed.works[: limits.work_seeds]):
        if kind(work) != "initiative":
            continue
        near = similarity.nearest(work, limits.near_work_k, among=ctx.initiatives,
                                  exclude=seed.works)  # fmt: skip
        ranked += [(rank, index, initiative) for rank, (initiative, _) in enumerate(near)]
    found: list[str] = []
    seen: set[str] = set()
    for _, _, initiative in sorted(ranked):
        if initiative not in nodes or kind(initiative) != "initiative":
            continue
        for other, _, _ in sorted(ctx.incident(initiative)):
            if other in seen or other in exclude or kind(other) != "person":
                continue
            if pool is None or other in pool:
                seen.add(other)
                found.append(other)
                if len(found) >= limits.work_people_k:
                    return found
    return found


def complement_candidates(
    ctx: MatchContext,
    seed: Seed,
    target: str,
    pool: Collection[str] | None,
    exclude: Collection[str],
    limits: Limits,
) -> list[str]:
    """The nearest by text among nodes whose offers meet the seed's needs or whose needs
    its offers meet, when there are few enough of them to search among."""
    profile = ctx.profiles.get(seed.id)
    if profile is None:
        return []
    found = ctx.profiles.complements(profile, cap=limits.complement_set_cap)
    if found is None:
        return []
    prefix = f"{target}:"
    among = {i for i in found if i.startswith(prefix) and i != seed.id}
    if pool is not None:
        among = {i for i in among if i in pool}
    if not among:
        return []
    near = ctx.similarity.nearest(seed.id, limits.complement_k, among=among, exclude=exclude)
    if near:
        return [i for i, _ in near]
    return sorted(among)[: limits.complement_k]  # no text for the seed: a stable choice
