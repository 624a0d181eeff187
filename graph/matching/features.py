"""The candidate pool of one seed and the features of each candidate, as one matrix.

Features (each in [0, 1], larger is better); everything is read through edges and
nodes the audience may use:

- ``graph``: resource allocation of seed and candidate, ``sum 1/degree`` over their
  common neighbours that are not goals, sectors or targets, scaled by the pool's
  largest (shared goals are the ``goals`` feature).
- ``graph_work``: Adamic-Adar (``sum 1/log(degree)``) between the candidate and each
  initiative the seed works on (each person on it, for an initiative), summed, as
  ``log1p`` scaled by the pool's largest: what you work on links you.
- ``cowork``: resource allocation in the co-work graph (:mod:`graph.matching.cowork`):
  ``sum 1/degree`` over the co-workers seed and candidate share, the degree being a
  co-worker's number of collaborators; scaled by the pool's largest.
- ``cowork_aa``: Adamic-Adar in the co-work graph (``sum 1/log(degree)``), scaled.
- ``text``: cosine of the seed's and the candidate's profile vectors (negative as 0).
  A person's profile vector is the vector of their own text, or, when that is thin
  (fewer than ``THIN_WORDS`` words beyond the name), the mean vector of what they
  work on (initiatives, entries they wrote), else of what they belong to.
- ``text_work``: cosine of the candidate's profile with the mean vector of what the
  seed works on (for an initiative, the people on it, each by their profile vector: a
  thin person's name says nothing).
- ``complement``: ``n / (n + 1)`` for ``n`` offers of one side meeting needs of the other.
- ``goals``: ``sum 1/log(degree)`` over the goals and sectors both are linked to (a
  target counts as its goal; a seed with none of its own, like an organisation, takes
  those of what it works on), scaled by the pool's largest.
- ``proximity``: by the distance of the public places: 1 within 10 km, 0.8 within 50,
  0.5 within 200, 0.2 within 1000, else (or unknown) 0.
- ``activity``: ``log1p`` of the number of people linked to the candidate, scaled.
- ``works``: ``log1p`` of the number of initiatives the candidate works on, scaled
  (people who work on much start new work more often).
- ``bridging``: used by the bridging mode only: 1 for a candidate in none of the
  seed's sectors (0.5 when it adds a sector to shared ones) plus 1 when nothing but a
  goal or sector links them, halved.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from graph.geo import haversine_km
from graph.matching.candidates import (
    Limits,
    Seed,
    Walk,
    complement_candidates,
    graph_candidates,
    text_candidates,
    work_candidates,
)
from graph.matching.context import TOPIC_KINDS, MatchContext, Neighbourhoods
from graph.matching.cowork import CoWork, SecondCircle, second_circle
from graph.matching.profiles import OfferNeed

FEATURES = ("graph", "graph_work", "cowork", "cowork_aa", "text", "text_work", "complement",
            "goals", "proximity", "activity", "works", "bridging")  # fmt: skip
Relation = Literal["new", "existing"]
THIN_WORDS = 3
MEMBER_KINDS = frozenset({"organization", "council", "community"})
WORK_KINDS = frozenset({"initiative", "wisdom_entry"})  # what a person works on or wrote
GROUP_KINDS = {"person": frozenset({"organization", "initiative", "council"}),
               "initiative": frozenset({"organization"})}  # fmt: skip
_BANDS = ((10.0, 1.0), (50.0, 0.8), (200.0, 0.5), (1000.0, 0.2))
MAX_WORK_SEEDS = 50
_STEPS: dict[tuple[str, bool], tuple[str, bool]] = {}  # one (edge kind, forward) pair of each
_SETS: dict[frozenset[str], frozenset[str]] = {}
"""One copy of each set of goals, groups or sectors a summary holds (no person's id is
ever in one): people share a few combinations of goals and sectors, and most are in no
group, so the summaries held share them (:func:`_shared`)."""
SETS_KEPT = 100_000


@dataclass(frozen=True, slots=True)
class Near:
    """Only candidates within ``radius_km`` of (``lat``, ``lon``) (public places)."""

    lat: float
    lon: float
    radius_km: float


@dataclass(slots=True)
class Candidate:
    """One candidate with what its features were computed from (for the explanation)."""

    id: str
    walk: Walk | None = None
    common: list[str] = field(default_factory=list)
    back: dict[str, tuple[str, bool]] = field(default_factory=dict)  # common -> (edge, forward)
    offer_need: list[OfferNeed] = field(default_factory=list)
    goals: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    distance_km: float | None = None
    works: tuple[str, ...] = ()  # what it works on or wrote, in id order
    memberships: tuple[str, ...] = ()  # what it belongs to, in id order
    sectors: frozenset[str] = frozenset()  # its own, else those of what it works on
    brings: tuple[str, ...] = ()  # sectors it has that the seed has not
    existing: bool = False  # an existing collaborator (listed with relation="existing")


@dataclass(frozen=True, slots=True)
class Summary:
    """What a candidate's features read of its own neighbourhood, whoever the seed: the
    same for every request of one audience in one version of the graph, so it is read
    once and shared (:class:`graph.matching.context.Neighbourhoods`)."""

    near: tuple[str, ...]  # its neighbours through an edge the audience may use
    edges: tuple[tuple[str, bool], ...]  # the edge to each (its kind, whether it points there)
    goals: frozenset[str]  # goals and sectors it is linked to (a target as its goal)
    groups: frozenset[str]  # the groups it is in (GROUP_KINDS of its kind)
    people: int  # people linked to it
    works: tuple[str, ...]
    memberships: tuple[str, ...]
    sectors: frozenset[str]  # its own, else those of what it works on


@dataclass
class Pool:
    """The seed, its candidates in a stable order, and their feature matrix (rows match)."""

    seed: Seed
    target: str
    candidates: list[Candidate]
    features: npt.NDArray[np.float64]
    seed_goals: frozenset[str] = frozenset()
    seed_sectors: frozenset[str] = frozenset()

    def column(self, name: str) -> npt.NDArray[np.float64]:
        return self.features[:, FEATURES.index(name)]


def proximity(km: float | None) -> float:
    if km is None:
        return 0.0
    for limit, value in _BANDS:
        if km <= limit:
            return value
    return 0.0


def _goal_of(node: str, kind: str) -> str:
    """A target counts as its goal: ``sdg_target:4.1`` -> ``sdg:4``."""
    if kind == "sdg_target":
        return "sdg:" + node.partition(":")[2].partition(".")[0]
    return node


def _place(ctx: MatchContext, node: str) -> tuple[float, float] | None:
    lat, lon = ctx.lat(node), ctx.lon(node)
    if lat is None or lon is None:
        return None
    return float(lat), float(lon)


def thin(ctx: MatchContext, node: str) -> bool:
    """A person whose own text says little (a name and fewer than ``THIN_WORDS`` words)."""
    if ctx.kind(node) != "person":
        return False
    words = ctx.profiles.words(node)
    return words is None or words < THIN_WORDS


def gather(
    ctx: MatchContext,
    seed_id: str,
    target: str,
    *,
    limits: Limits | None = None,
    near: Near | None = None,
    relation: Relation = "new",
    exclude: Collection[str] = (),
) -> Pool:
    """The seed's candidates of kind ``target`` (``person`` or ``initiative``), featurised.

    Nodes linked to the seed directly are never candidates, and neither, for a person's
    collaborators, are their existing collaborators (:mod:`graph.matching.cowork`):
    with ``relation="existing"``, those are the only candidates instead. Nodes in
    ``exclude`` (those the person said they are not interested in) are never candidates:
    they are left out before ranking, so that a page stays full.
    """
    limits = limits or Limits()
    seed = Seed.read(ctx, seed_id)
    direct = {other for other, _, _ in seed.incident if ctx.kind(other) == target}
    cowork = CoWork(ctx)
    existing: dict[str, Walk] = {}
    circle = SecondCircle()
    if target == "person" and seed.kind == "person":
        existing = cowork.collaborators(seed_id)
        circle = second_circle(cowork, seed_id, existing, keep=limits.cowork_k,
                               max_coworkers=limits.max_coworkers,
                               hub_cap=limits.hub_cap)  # fmt: skip
    pool = ctx.people if target == "person" else ctx.initiatives
    walks: dict[str, Walk]
    if relation == "existing":
        walks = {other: existing[other] for other in sorted(existing)}
        order = list(walks)
        exclude = {seed_id, *exclude}
    else:
        exclude = direct | set(existing) | {seed_id, *exclude}
        thin_text = thin(ctx, seed_id) and bool(seed.works)  # else its text is all there is
        texts, reservoir = text_candidates(ctx, seed, pool, exclude, limits, thin=thin_text)
        walks = graph_candidates(ctx, seed, target, reservoir, limits)
        for other, walk in circle.walks.items():
            walks.setdefault(other, walk)
        order = list(walks)
        order += texts
        if target == "person":
            order += work_candidates(ctx, seed, pool, exclude, limits)
        order += complement_candidates(ctx, seed, target, pool, exclude, limits)
    here = _place(ctx, seed_id)
    recommendable, allow = ctx.audience.recommendable, ctx.audience.allow
    chosen: list[Candidate] = []
    seen: set[str] = set()
    nodes = ctx.graph._node
    for other in order:
        if other in seen or other in exclude:
            continue
        seen.add(other)
        if other not in nodes:  # indexed text of a node the view no longer holds
            continue
        if ctx.kind(other) != target or not allow(other) or not recommendable(other):
            continue
        if pool is not None and other not in pool:
            continue
        km = None
        there = _place(ctx, other)
        if here is not None and there is not None:
            km = haversine_km(*here, *there)
        if near is not None and (there is None or haversine_km(near.lat, near.lon, *there)
                                 > near.radius_km):  # fmt: skip
            continue
        chosen.append(Candidate(other, walks.get(other), distance_km=km,
                                existing=other in existing))  # fmt: skip
    chosen.sort(key=lambda c: c.id)
    return _featurise(ctx, seed, target, chosen, circle)


def _weights(ctx: MatchContext, node: str, skip: str) -> dict[str, float]:
    degree = ctx.degree
    return {z: degree.weight(z) for z, _, _ in ctx.incident(node) if z != skip}


def _goals(ctx: MatchContext, node: str) -> set[str]:
    found = set()
    for other, _, _ in ctx.incident(node):
        kind = ctx.kind(other)
        if kind in TOPIC_KINDS:
            found.add(_goal_of(other, kind))
    return found


def _sectors_of_works(ctx: MatchContext, works: Sequence[str]) -> set[str]:
    return {g for x in works[:MAX_WORK_SEEDS] for g in _goals(ctx, x) if g.startswith("sector:")}


def _featurise(
    ctx: MatchContext, seed: Seed, target: str, chosen: list[Candidate], circle: SecondCircle
) -> Pool:
    degree, kind_of = ctx.degree, ctx.kind
    mine = {z: degree.weight(z) for z, _, _ in seed.incident}
    works = seed.works[:MAX_WORK_SEEDS]
    # sum over works x of AA(x, v) = sum over v's neighbours z of the summed weights of z;
    # sums are exactly rounded (fsum), so no iteration order can change a tie
    parts: dict[str, list[float]] = defaultdict(list)
    for x in works:
        for z, weight in _weights(ctx, x, seed.id).items():
            parts[z].append(weight)
    through_work = {z: math.fsum(weights) for z, weights in parts.items()}
    seed_goals = {_goal_of(z, kind_of(z)) for z in mine if kind_of(z) in TOPIC_KINDS}
    if not seed_goals:
        for x in works:
            seed_goals |= _goals(ctx, x)
    seed_sectors = {g for g in seed_goals if g.startswith("sector:")}
    goal_weight = {g: degree.weight(g) for g in seed_goals if g in ctx.graph}
    profile = ctx.profiles.get(seed.id)
    pairs = ctx.profiles.pairs_with(profile) if profile is not None else None
    rows: list[tuple[float, ...]] = []
    summary = _summaries(ctx)
    for cand in chosen:
        v = cand.id
        found = summary(v)
        near = found.near
        # sums are exactly rounded (fsum): the order the neighbours come in changes nothing
        aa_work = [through_work[z] for z in through_work.keys() & near]
        ra: list[float] = []
        common: list[tuple[float, str]] = []
        for z in mine.keys() & near:
            if kind_of(z) in TOPIC_KINDS:
                common.append((mine[z] - 1.0, z))  # listed after every concrete one
                continue
            ra.append(1.0 / max(degree(z), 1))
            common.append((mine[z], z))
            edge, forward = found.edges[near.index(z)]
            cand.back[z] = (edge, not forward)
        common.sort(key=lambda wz: (-wz[0], wz[1]))
        cand.common = [z for _, z in common]
        cand.goals, cand.groups = found.goals, found.groups
        cand.works, cand.memberships = found.works, found.memberships
        if pairs is not None:
            cand.offer_need = pairs(v)
        n = len(cand.offer_need)
        sectors = cand.sectors = found.sectors
        cand.brings = tuple(sorted(sectors - seed_sectors))
        other_sector = 0.0
        if sectors and not sectors & seed_sectors:
            other_sector = 1.0
        elif sectors - seed_sectors:
            other_sector = 0.5
        linked = bool(ra) or cand.walk is not None
        rows.append((
            math.fsum(ra), math.log1p(math.fsum(aa_work)),
            circle.resource_allocation.get(v, 0.0), circle.adamic_adar.get(v, 0.0),
            0.0, 0.0, n / (n + 1),
            math.fsum(goal_weight[g] for g in found.goals if g in goal_weight),
            proximity(cand.distance_km), math.log1p(found.people), math.log1p(len(found.works)),
            (other_sector + (0.0 if linked else 1.0)) / 2,
        ))  # fmt: skip
    raw = np.array(rows, dtype=np.float64).reshape(len(chosen), len(FEATURES))
    _text(ctx, seed, works, chosen, raw)
    for name in ("graph", "graph_work", "cowork", "cowork_aa", "goals", "activity", "works"):
        column = FEATURES.index(name)
        top = raw[:, column].max(initial=0.0)
        if top > 0:
            raw[:, column] /= top
    return Pool(seed, target, chosen, raw, frozenset(seed_goals), frozenset(seed_sectors))


def _summaries(ctx: MatchContext) -> Callable[[str], Summary]:
    """A reader of candidates' summaries: those the audience's requests share, read once
    (but for the caller's own, :attr:`MatchContext.personal`)."""
    shared = {} if ctx.shared is None else ctx.shared.summaries
    personal, most = ctx.personal, Neighbourhoods.MAX_SUMMARIES

    def summary(node: str) -> Summary:
        found = shared.get(node)
        if found is None:
            found = summarise(ctx, node)
            if node not in personal and len(shared) < most:
                shared[node] = found
        return found

    return summary


def _first_edge(
    ctx: MatchContext, node: str, other: str, keys: Iterable[str], forward: bool
) -> str | None:
    """The first of ``keys`` (edges between ``node`` and ``other``) the audience may use."""
    allow_edge, checked = ctx.audience.allow_edge, ctx.audience.edge_kinds_checked
    for key in keys:
        if (
            allow_edge is None
            or (checked is not None and key not in checked)
            or (allow_edge(node, key, other) if forward else allow_edge(other, key, node))
        ):
            return key
    return None


def summarise(ctx: MatchContext, node: str) -> Summary:
    """The node's :class:`Summary`, read through edges and nodes the audience may use.

    A neighbour is taken once whatever the number of edges to it, through an edge out of
    the node when there is one (then only those count). The adjacency dicts are read
    directly: this runs for every candidate no request has summarised yet.
    """
    graph, kind_of, allow = ctx.graph, ctx.kind, ctx.audience.allow
    group_kinds = GROUP_KINDS.get(kind_of(node), frozenset())
    near: list[str] = []
    edges: list[tuple[str, bool]] = []
    goals: set[str] = set()
    groups: set[str] = set()
    people = 0
    works: list[str] = []
    memberships: list[str] = []
    out = graph._succ[node]
    for adjacency, forward in ((out, True), (graph._pred[node], False)):
        for z, keys in adjacency.items():
            if not allow(z) or (not forward and z in out):
                continue
            edge = _first_edge(ctx, node, z, keys, forward)
            if edge is None:
                continue
            near.append(z)
            edges.append(_STEPS.setdefault((edge, forward), (edge, forward)))
            kind = kind_of(z)
            if kind in TOPIC_KINDS:
                goals.add(_goal_of(z, kind))
                continue
            if kind == "person":
                people += 1
            elif kind in group_kinds:
                groups.add(z)
            if kind in WORK_KINDS:
                works.append(z)
            elif kind in MEMBER_KINDS:
                memberships.append(z)
    works.sort()
    memberships.sort()
    sectors = {g for g in goals if g.startswith("sector:")}
    if not sectors and works:
        sectors = _sectors_of_works(ctx, works)
    return Summary(tuple(near), tuple(edges), _shared(goals), _shared(groups), people,
                   tuple(works), tuple(memberships), _shared(sectors))  # fmt: skip


def _shared(found: set[str]) -> frozenset[str]:
    """``found`` as the one frozenset of its members :data:`_SETS` holds (a frozenset takes
    216 bytes empty; the three of a summary were half its size). The table starts again
    once it holds :data:`SETS_KEPT`."""
    frozen = frozenset(found)
    shared = _SETS.get(frozen)
    if shared is None:
        if len(_SETS) >= SETS_KEPT:
            _SETS.clear()
        shared = _SETS.setdefault(frozen, frozen)
    return shared


def _seed_memberships(ctx: MatchContext, seed: Seed) -> list[str]:
    kind = ctx.kind
    return sorted({z for z, _, _ in seed.incident if kind(z) in MEMBER_KINDS})


def _work_and_memberships(ctx: MatchContext, person: str) -> tuple[list[str], list[str]]:
    """What a person works on or wrote, and what they belong to, each in id order."""
    kind = ctx.kind
    works = sorted({z for z, _, _ in ctx.incident(person) if kind(z) in WORK_KINDS})
    memberships = sorted({z for z, _, _ in ctx.incident(person) if kind(z) in MEMBER_KINDS})
    return works, memberships


def _profile_vector(
    vectors: dict[str, npt.NDArray[np.float32]],
    node: str,
    thin_text: bool,
    works: Sequence[str],
    memberships: Sequence[str],
) -> npt.NDArray[np.float32] | None:
    """The node's own vector, or, when its text is thin, the mean of its works' vectors,
    else of its memberships' (normalised); None when there is nothing to go on."""
    if thin_text:
        for group in (works, memberships):
            known = [vectors[x] for x in group[:MAX_WORK_SEEDS] if x in vectors]
            if known:
                centre = np.mean(known, axis=0)
                norm = float(np.linalg.norm(centre))
                if norm > 0:
                    found: npt.NDArray[np.float32] = (centre / norm).astype(np.float32)
                    return found
    return vectors.get(node)


def _text(
    ctx: MatchContext,
    seed: Seed,
    works: list[str],
    chosen: list[Candidate],
    raw: npt.NDArray[np.float64],
) -> None:
    if not chosen:
        return
    seed_memberships = _seed_memberships(ctx, seed)
    seed_thin = thin(ctx, seed.id)
    thin_ones = {c.id for c in chosen if thin(ctx, c.id)}
    wanted = {seed.id, *works, *(c.id for c in chosen)}
    if seed_thin:
        wanted.update(seed_memberships[:MAX_WORK_SEEDS])
    for cand in chosen:
        if cand.id in thin_ones:
            wanted.update(cand.works[:MAX_WORK_SEEDS])
            wanted.update(cand.memberships[:MAX_WORK_SEEDS])
    # what the seed works on, for an initiative: the people on it, each by their profile
    # (a person whose own text is thin, a name, is the mean of what they work on)
    sides: dict[str, tuple[list[str], list[str]]] = {}
    for work in works:
        if thin(ctx, work):
            sides[work] = _work_and_memberships(ctx, work)
            wanted.update(sides[work][0][:MAX_WORK_SEEDS])
            wanted.update(sides[work][1][:MAX_WORK_SEEDS])
    vectors = ctx.similarity.vectors(sorted(wanted))
    dimension = next(iter(vectors.values())).shape[0] if vectors else 0
    if not dimension:
        return
    zero = np.zeros(dimension, dtype=np.float32)
    rows = [_profile_vector(vectors, c.id, c.id in thin_ones, c.works, c.memberships)
            for c in chosen]  # fmt: skip
    matrix = np.stack([zero if row is None else row for row in rows])
    mine = _profile_vector(vectors, seed.id, seed_thin, works, seed_memberships)
    if mine is not None:
        raw[:, FEATURES.index("text")] = np.clip(matrix @ mine, 0.0, 1.0)
    known = []
    for work in works:
        found = (
            _profile_vector(vectors, work, True, *sides[work])
            if work in sides
            else vectors.get(work)
        )
        if found is not None:
            known.append(found)
    if known:
        centre = np.mean(known, axis=0)
        norm = float(np.linalg.norm(centre))
        if norm > 0:
            raw[:, FEATURES.index("text_work")] = np.clip(matrix @ (centre / norm), 0.0, 1.0)
