#!/usr/bin/env python
"""Evaluate the recommender against Adamic-Adar and text similarity, side by side.

Two evaluations, each split into a validation half (weights are tuned there) and a
test half (reported), by a hash of the query's seed:

- **time split** on the demo network (``demo_records`` with ``--people``, seed 7), or on
  any imported data whose edges carry ``since`` dates (``--records FILE.jsonl``): the
  graph holds the undated edges and the edges dated before ``--cut``; the edges dated
  on or after it are to be predicted. Three tasks: ``collaborators`` (a person's new
  ``knows`` ties), ``initiatives`` (a person's new ``works_on`` edges) and ``people``
  (an initiative's new people). A new ``knows`` tie with someone the person already
  works with (same initiative, council or small organisation) is no new collaborator:
  it is left out of the truth, and no system ranks such people. Only what the service
  could recommend counts:
  people who are discoverable, not private and open to collaborate (as seen by a
  member), active initiatives; nobody already linked before the cut.
- **leave-one-out** on the real DPG registry's organisation-initiative graph
  (organisations, initiatives, their ``partners_with``, ``addresses`` and
  ``in_sector`` edges): for each organisation with two initiatives or more, each of
  its links in turn is removed and the organisation's initiatives are predicted
  from the rest.

Systems: **Adamic-Adar** (``sum 1/log(degree)`` over common neighbours, over every
candidate; on the bipartite DPG graph, where an organisation and an initiative never
share a neighbour, summed over the organisation's initiatives: paths of length
three), **text** (cosine of the seed's vector with every candidate's; for an
organisation, whose record is a name only, the mean vector of its remaining
initiatives), and the **recommender** (``graph.matching.recommend``, exactly as the
service runs it, bounded candidates, diversity and all). Hits@10, Recall@10, MRR@10,
and how often a correct recommendation had no common neighbour with the seed.

Vectors come from the real model (``embeddings.encoder.load_encoder``), cached under
``--cache`` by the sha1 of each text.

    .venv/bin/python scripts/evaluate.py recommend
    .venv/bin/python scripts/evaluate_recommend.py --people 3000
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import logging
import math
import os
import platform
import sys
import time
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt

from embeddings.encoder import BATCH_SIZE, load_encoder
from graph.demo import demo_records
from graph.edges import Edge
from graph.interchange import parse_record, read_jsonl
from graph.matching.context import Audience, Degrees, MatchContext
from graph.matching.cowork import CoWork
from graph.matching.features import FEATURES, Pool, gather
from graph.matching.profiles import ProfileIndex
from graph.matching.recommend import recommend
from graph.matching.scoring import HELPERS, INITIATIVES, PARTNERS, PEOPLE, Weights
from graph.model import Node, Person
from graph.reference import reference_records
from graph.similarity import VectorSimilarity
from graph.store import node_columns
from graph.texts import node_text

log = logging.getLogger("evaluate_recommend")

REPO = Path(__file__).resolve().parents[1]
K = 10
SYSTEMS = ("Adamic-Adar", "text", "recommender")
GRID = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
Vectors = dict[str, npt.NDArray[np.float32]]
UNIFORM = Weights.from_vector([0.0 if f == "bridging" else 1.0 for f in FEATURES])


# --- metrics -----------------------------------------------------------------------------


def figures(ranked: Sequence[str], truth: frozenset[str], k: int = K) -> dict[str, float]:
    """Hits@k (any correct in the first k), Recall@k and the reciprocal rank within k."""
    top = list(ranked[:k])
    found = [i for i in top if i in truth]
    first = next((n for n, i in enumerate(top, start=1) if i in truth), None)
    return {
        "hits@10": 1.0 if found else 0.0,
        "recall@10": len(found) / len(truth) if truth else 0.0,
        "mrr@10": 1.0 / first if first else 0.0,
    }


def mean(rows: Sequence[Mapping[str, float]]) -> dict[str, float]:
    if not rows:
        return {}
    return {key: round(float(np.mean([r[key] for r in rows])), 4) for key in rows[0]}


def paired(
    a: Sequence[Mapping[str, float]],
    b: Sequence[Mapping[str, float]],
    *,
    rounds: int = 2000,
    seed: int = 0,
) -> dict[str, float]:
    """Hits@10 of ``a`` minus ``b`` over the same queries: the mean, a 95% bootstrap
    interval (queries resampled), and the queries each system alone gets right."""
    diff = np.array([x["hits@10"] - y["hits@10"] for x, y in zip(a, b, strict=True)])
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, size=(rounds, diff.size))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return {
        "mean": round(float(diff.mean()), 4),
        "ci95_low": round(float(low), 4),
        "ci95_high": round(float(high), 4),
        "only_a": int((diff > 0).sum()),
        "only_b": int((diff < 0).sum()),
    }


def half_of(key: str) -> str:
    """``validation`` or ``test`` from sha1(key): the same on every run and machine."""
    digest = hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).digest()
    return "validation" if digest[0] % 2 == 0 else "test"


# --- data --------------------------------------------------------------------------------


@dataclass
class Network:
    """Every node and edge of the reference data and the demo network."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)


def load_network(data: Path, *, seed: int, people: int, records: Path | None = None) -> Network:
    """The reference data and the demo network, or the records of an interchange file
    (JSON Lines, as ``cocreate export`` writes and ``cocreate import`` reads)."""
    network = Network()
    source = demo_records(data, seed=seed, people=people) if records is None else None
    for record in itertools.chain(reference_records(data), source or _read(records)):
        if isinstance(record, Edge):
            network.edges.append(record)
        else:
            network.nodes[record.id] = record
    return network


def _read(path: Path | None) -> Iterator[Node | Edge]:
    assert path is not None
    with path.open(encoding="utf-8") as stream:
        for line, value in read_jsonl(stream):
            record, problems = parse_record(line, value)
            if record is None:
                raise SystemExit(f"{path}: {problems[0]}")
            yield record


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def node_vectors(network: Network, cache: Path) -> Vectors:
    """The real model's vector of every node's text (cached: :func:`cached_vectors`; a
    person's text depends on the seed and their index only, so smaller runs reuse larger
    ones)."""
    items = [(i, node_text(n)) for i, n in network.nodes.items()]
    return cached_vectors(items, cache, prefix="recommend")


def cached_vectors(items: Sequence[tuple[str, str]], cache: Path, *, prefix: str) -> Vectors:
    """The real model's vector of each ``(id, text)``, encoded in the calls the indexer makes.

    Vectors are cached in one file per ``prefix``, model and (in int8, where a text's
    vector depends on the texts of its call) size of call under ``cache``, keyed by the
    sha1 of each text, so a run encodes only texts no earlier run encoded (the cache stays
    in ``var/``: it is derived from the evaluation data).
    """
    encoder = load_encoder()
    calls = f"-calls{BATCH_SIZE}" if getattr(encoder, "precision", "fp32") == "int8" else ""
    path = cache / f"{prefix}-vectors-{encoder.name.replace('/', '_')}{calls}.npz"
    stored: dict[str, npt.NDArray[np.float32]] = {}
    if path.is_file():
        with np.load(path) as saved:
            stored = dict(zip(saved["keys"].tolist(), saved["vectors"], strict=True))
    missing = list(dict.fromkeys(t for _, t in items if text_key(t) not in stored))
    if missing:
        started = time.perf_counter()
        matrix = encoder.encode(missing, progress=False)
        log.info("encoded %d texts in %.0f s", len(missing), time.perf_counter() - started)
        stored.update(zip(map(text_key, missing), matrix, strict=True))
        path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(stored)
        np.savez(path, keys=np.array(keys), vectors=np.stack([stored[k] for k in keys]))
    return {i: stored[text_key(t)] for i, t in items}


class ExactSimilarity(VectorSimilarity):
    """:class:`VectorSimilarity` with a faster top-k (the same answers: best first, ties by
    id), since the evaluation asks tens of thousands of nearest-neighbour questions."""

    def __init__(self, vectors: Mapping[str, npt.ArrayLike]) -> None:
        super().__init__(vectors)
        self._names = sorted(vectors)
        self._position = {name: n for n, name in enumerate(self._names)}
        self._data = np.stack([np.asarray(vectors[i], dtype=np.float32) for i in self._names])
        self._data /= np.maximum(np.linalg.norm(self._data, axis=1, keepdims=True), 1e-12)
        self._cached: dict[int, tuple[frozenset[str], npt.NDArray[np.int64]]] = {}

    def _rows(self, among: Collection[str]) -> npt.NDArray[np.int64]:
        if isinstance(among, frozenset):  # a task's pool: the same object every time
            cached = self._cached.get(id(among))
            if cached is not None and cached[0] is among:
                return cached[1]
        rows = np.fromiter((self._position[i] for i in among if i in self._position),
                           dtype=np.int64)  # fmt: skip
        if isinstance(among, frozenset):
            self._cached[id(among)] = (among, rows)
        return rows

    def nearest(
        self,
        node_id: str,
        k: int,
        *,
        among: Collection[str] | None = None,
        exclude: Collection[str] = (),
    ) -> list[tuple[str, float]]:
        position = self._position.get(node_id)
        if position is None or k <= 0:
            return []
        rows = np.arange(len(self._names)) if among is None else self._rows(among)
        skip = {node_id, *exclude}
        values = (self._data @ self._data[position])[rows]
        want = min(len(rows), k + len(skip))
        if want <= 0:
            return []
        top = (
            np.argpartition(-values, want - 1)[:want] if want < len(rows) else np.arange(len(rows))
        )
        kth = values[top].min()
        top = np.flatnonzero(values >= kth)  # every tie of the cut, for stable answers
        order = sorted(top, key=lambda n: (-values[n], rows[n]))
        found = [(self._names[rows[n]], float(values[n])) for n in order]
        return [pair for pair in found if pair[0] not in skip][:k]


def build_graph(nodes: Mapping[str, Node], edges: Iterable[Edge]) -> nx.MultiDiGraph:
    """A graph shaped like the service's view: node attributes from the store's columns."""
    graph = nx.MultiDiGraph()
    for node_id in sorted(nodes):
        graph.add_node(node_id, kind=nodes[node_id].kind, **node_columns(nodes[node_id]))
    graph.add_edges_from((e.source, e.target, e.kind) for e in edges)
    return graph


def recommendable_person(node: Node) -> bool:
    """Whom the service recommends to a member: consent and visibility."""
    return (
        isinstance(node, Person)
        and node.discoverable
        and node.open_to_collaborate
        and node.visibility != "private"
    )


# --- tasks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    seed: str
    truth: frozenset[str]
    held_out: tuple[str, str, str] | None = None  # an edge removed for this query only


@dataclass
class Task:
    """Queries on one graph; candidates are ``target`` nodes in ``pool``."""

    name: str
    graph: nx.MultiDiGraph
    target: str
    pool: frozenset[str]
    queries: list[Query]
    weights: Weights
    bipartite: bool = False  # Adamic-Adar over paths of length three
    text_from_work: bool = False  # the text baseline uses the seed's initiatives
    new_only: bool = False  # existing collaborators are ranked by no system


def time_split(network: Network, cut: date) -> list[Task]:
    """The collaborators, initiatives and people tasks of the demo network at ``cut``."""
    before = [e for e in network.edges if e.since is None or e.since < cut]
    after = [e for e in network.edges if e.since is not None and e.since >= cut]
    graph = build_graph(network.nodes, before)
    people = frozenset(i for i, n in network.nodes.items() if recommendable_person(n))
    active = frozenset(
        i for i, n in network.nodes.items() if n.kind == "initiative" and getattr(n, "active", True)
    )
    linked = {(e.source, e.target) for e in before} | {(e.target, e.source) for e in before}
    cowork = CoWork(MatchContext(graph, VectorSimilarity({}), ProfileIndex()))
    ties: dict[str, set[str]] = defaultdict(set)
    joins: dict[str, set[str]] = defaultdict(set)
    helpers: dict[str, set[str]] = defaultdict(set)
    for edge in after:
        if (edge.source, edge.target) in linked:
            continue
        if edge.kind == "knows":
            for a, b in ((edge.source, edge.target), (edge.target, edge.source)):
                if b in people and b not in cowork.collaborators(a):  # a new collaborator
                    ties[a].add(b)
        elif edge.kind == "works_on":
            if edge.target in active:
                joins[edge.source].add(edge.target)
            if edge.source in people:
                helpers[edge.target].add(edge.source)

    def queries(truth: Mapping[str, set[str]]) -> list[Query]:
        return [Query(seed, frozenset(found)) for seed, found in sorted(truth.items()) if found]

    return [
        Task("collaborators", graph, "person", people, queries(ties), PEOPLE, new_only=True),
        Task("initiatives", graph, "initiative", active, queries(joins), INITIATIVES),
        Task("people", graph, "person", people, queries(helpers), HELPERS),
    ]


def dpg_leave_one_out(network: Network) -> Task:
    """Each link of an organisation with two initiatives or more, held out in turn."""
    dpg = {i: n for i, n in network.nodes.items() if n.provenance == "dpg"}
    reference = {i: n for i, n in network.nodes.items() if n.kind in ("sdg", "sector")}
    edges = [
        e for e in network.edges if e.source in dpg and (e.target in dpg or e.target in reference)
    ]
    graph = build_graph({**dpg, **reference}, edges)
    owned: dict[str, list[str]] = defaultdict(list)
    for edge in edges:
        if edge.kind == "partners_with":
            owned[edge.source].append(edge.target)
    queries = [
        Query(org, frozenset({initiative}), (org, initiative, "partners_with"))
        for org, initiatives in sorted(owned.items())
        if len(initiatives) >= 2
        for initiative in sorted(initiatives)
    ]
    pool = frozenset(i for i in dpg if i.startswith("initiative:"))
    return Task("dpg leave-one-out", graph, "initiative", pool, queries, PARTNERS,
                bipartite=True, text_from_work=True)  # fmt: skip


# --- the three systems --------------------------------------------------------------------


class Baselines:
    """Adamic-Adar and text similarity over every candidate of a task."""

    def __init__(self, task: Task, vectors: Vectors) -> None:
        self.task = task
        self.names = sorted(task.pool)
        self.position = {name: n for n, name in enumerate(self.names)}
        self.vectors = vectors
        dimension = len(next(iter(vectors.values())))
        self.matrix = np.stack(
            [vectors.get(i, np.zeros(dimension, dtype=np.float32)) for i in self.names]
        )

    def _neighbours(self, node: str) -> list[str]:
        """Distinct neighbours in id order (a fixed order of summing, run after run)."""
        graph = self.task.graph
        return sorted(set(graph.successors(node)) | set(graph.predecessors(node)))

    def adamic_adar(self, seed: str) -> npt.NDArray[np.float64]:
        """Adamic-Adar of the seed with every candidate, on the graph as it is now (a
        held-out edge removed): ``sum 1/log(degree)`` over common neighbours; for a
        bipartite task, summed over the seed's neighbours (paths of length three)."""
        scores = np.zeros(len(self.names), dtype=np.float64)
        degrees: dict[str, int] = {}
        starts = self._neighbours(seed) if self.task.bipartite else {seed}
        for start in starts:
            for hub in self._neighbours(start):
                neighbours = self._neighbours(hub)
                degree = degrees.setdefault(hub, len(neighbours))
                if degree < 2:
                    continue
                weight = 1.0 / math.log(degree)
                for other in neighbours:
                    position = self.position.get(other)
                    if position is not None:
                        scores[position] += weight
        return scores

    def text(self, seed: str, works: Sequence[str]) -> np.ndarray:
        if self.task.text_from_work:
            known = [self.vectors[w] for w in works if w in self.vectors]
            if not known:
                return np.zeros(len(self.names))
            centre = np.mean(known, axis=0)
            return np.asarray(self.matrix @ (centre / max(np.linalg.norm(centre), 1e-12)))
        if seed not in self.vectors:
            return np.zeros(len(self.names))
        return np.asarray(self.matrix @ self.vectors[seed])

    def top(self, scores: np.ndarray, exclude: set[str]) -> list[str]:
        """The first ``K`` candidates by score, ties by id, ``exclude`` left out."""
        order = np.lexsort((np.arange(len(scores)), -scores))
        found = []
        for position in order:
            name = self.names[position]
            if name not in exclude:
                found.append(name)
                if len(found) == K:
                    break
        return found


def context(task: Task, graph: nx.MultiDiGraph, similarity: VectorSimilarity,
            profiles: ProfileIndex) -> MatchContext:  # fmt: skip
    pool = task.pool
    audience = Audience(recommendable=lambda node: node in pool)
    people = pool if task.target == "person" else None
    initiatives = pool if task.target == "initiative" else None
    return MatchContext(graph, similarity, profiles, audience, Degrees(graph), people, initiatives)


@dataclass
class Outcome:
    """Per-query figures of each system, and the recommender's correct items' support."""

    figures: dict[str, list[dict[str, float]]] = field(
        default_factory=lambda: {s: [] for s in SYSTEMS}
    )
    correct: int = 0
    correct_without_common: int = 0
    correct_without_concrete_common: int = 0
    pools: list[tuple[Pool, frozenset[str]]] = field(default_factory=list)


def _linked(graph: nx.MultiDiGraph, node: str) -> set[str]:
    return set(graph.successors(node)) | set(graph.predecessors(node))


def run_task(
    task: Task,
    queries: Sequence[Query],
    similarity: VectorSimilarity,
    profiles: ProfileIndex,
    baselines: Baselines,
    *,
    weights: Weights | None,
    keep_pools: bool = False,
) -> Outcome:
    """Every system on these queries (the recommender with ``weights``, if given)."""
    out = Outcome()
    graph = task.graph
    for query in queries:
        if query.held_out is not None:
            graph.remove_edge(*query.held_out)
        try:
            direct = {n for n in _linked(graph, query.seed) if n in task.pool} | {query.seed}
            if task.new_only:
                direct |= set(CoWork(MatchContext(graph, similarity, profiles)).collaborators(
                    query.seed))  # fmt: skip
            works = [n for n in _linked(graph, query.seed) if n.startswith("initiative:")]
            aa = baselines.adamic_adar(query.seed)
            out.figures["Adamic-Adar"].append(figures(baselines.top(aa, direct), query.truth))
            text = baselines.text(query.seed, sorted(works))
            out.figures["text"].append(figures(baselines.top(text, direct), query.truth))
            ctx = context(task, graph, similarity, profiles)
            if keep_pools:
                out.pools.append((gather(ctx, query.seed, task.target), query.truth))
            if weights is not None:
                result = recommend(ctx, query.seed, task.target, limit=K, weights=weights)
                ranked = [item.id for item in result.items]
                out.figures["recommender"].append(figures(ranked, query.truth))
                for item in result.items:
                    if item.id in query.truth:
                        out.correct += 1
                        common = item.candidate.common
                        if task.bipartite:
                            common = [] if aa[baselines.position[item.id]] == 0 else ["path"]
                        out.correct_without_common += not common
                        out.correct_without_concrete_common += not any(
                            c.partition(":")[0] not in ("sdg", "sector", "sdg_target")
                            for c in common
                        )
        finally:
            if query.held_out is not None:
                graph.add_edge(*query.held_out)
    return out


# --- tuning on the validation half ----------------------------------------------------------


PoolSet = Sequence[tuple[Pool, frozenset[str]]]


def pool_figures(pools: PoolSet, weights: Weights) -> tuple[float, float]:
    """Mean Hits@10 and MRR@10 of plain weighted ranking of these pools (no diversity)."""
    vector = weights.vector()
    hits = mrr = 0.0
    for pool, truth in pools:
        if not pool.candidates:
            continue
        values = pool.features @ vector
        order = np.lexsort((np.arange(len(values)), -values))[:K]
        for rank, row in enumerate(order, start=1):
            if pool.candidates[row].id in truth:
                hits += 1
                mrr += 1 / rank
                break
    n = max(len(pools), 1)
    return hits / n, mrr / n


def objective(groups: Sequence[PoolSet], weights: Weights) -> tuple[float, float]:
    """Mean over the groups (each task counts once) of Hits@10, then of MRR@10."""
    found = [pool_figures(pools, weights) for pools in groups]
    return float(np.mean([f[0] for f in found])), float(np.mean([f[1] for f in found]))


def tune(groups: Sequence[PoolSet], starts: Sequence[Weights], *,
         rounds: int = 5) -> tuple[Weights, list[dict[str, Any]]]:  # fmt: skip
    """Coordinate ascent over :data:`GRID` for (Hits@10, then MRR@10) from each start;
    ``text`` stays 1 (only ratios matter) and ``bridging`` 0 (it serves another mode)."""
    best, best_figures = starts[0], (-1.0, -1.0)
    trail: list[dict[str, Any]] = []
    for start in starts:
        current = replace(start, bridging=0.0, text=1.0)
        figures_now = objective(groups, current)
        for _ in range(rounds):
            improved = False
            for name in FEATURES:
                if name in ("text", "bridging"):
                    continue
                for value in GRID:
                    trial = replace(current, **{name: value})
                    found = objective(groups, trial)
                    if found > figures_now:
                        current, figures_now, improved = trial, found, True
            if not improved:
                break
        trail.append(
            {
                "start": _rounded(start),
                "weights": _rounded(current),
                "hits@10": round(figures_now[0], 4),
                "mrr@10": round(figures_now[1], 4),
            }
        )
        if figures_now > best_figures:
            best, best_figures = current, figures_now
    return best, trail


def _rounded(weights: Weights) -> dict[str, float]:
    return {name: round(float(value), 4) for name, value in zip(FEATURES, weights.vector(),
                                                                strict=True)}  # fmt: skip


# --- the report -----------------------------------------------------------------------------


def evaluate(options: argparse.Namespace) -> dict[str, Any]:
    """Every task: baselines and recommender on both halves, then the tuning on the
    validation halves (to compare with the shipped weights). ``--validation-only``
    leaves the test halves alone (use it while choosing weights)."""
    network = load_network(
        options.data, seed=options.seed, people=options.people, records=options.records
    )
    vectors = node_vectors(network, options.cache)
    similarity = ExactSimilarity(vectors)
    profiles = ProfileIndex.from_nodes(network.nodes.values())
    tasks = [*time_split(network, options.cut), dpg_leave_one_out(network)]
    if options.tasks:
        tasks = [t for t in tasks if t.name.partition(" ")[0] in options.tasks]
    report: dict[str, Any] = {}
    # One weight set per kind of seed and recommendation (graph.matching.scoring).
    validation_pools: dict[str, list[PoolSet]] = defaultdict(list)
    halves_run = ("validation",) if options.validation_only else ("validation", "test")
    for task in tasks:
        if not task.queries:
            log.info("%s: nothing to predict in these records", task.name)
            continue
        baselines = Baselines(task, vectors)
        started = time.perf_counter()
        entry: dict[str, Any] = {"candidates": len(task.pool), "weights": _weights_name(task),
                                 "queries": {}}  # fmt: skip
        for half in halves_run:
            queries = [q for q in task.queries if half_of(q.seed) == half]
            outcome = run_task(task, queries, similarity, profiles, baselines,
                               weights=task.weights, keep_pools=half == "validation")  # fmt: skip
            if half == "validation":
                validation_pools[_weights_name(task)].append(outcome.pools)
            entry["queries"][half] = len(queries)
            entry[half] = {s: mean(outcome.figures[s]) for s in SYSTEMS}
            if outcome.figures["recommender"]:
                entry[f"{half}_paired"] = {
                    f"recommender - {other}": paired(
                        outcome.figures["recommender"], outcome.figures[other]
                    )
                    for other in SYSTEMS[:2]
                }
            entry[f"{half}_support"] = {
                "correct_recommendations": outcome.correct,
                "without_common_neighbour": outcome.correct_without_common,
                "without_common_neighbour_but_goals": outcome.correct_without_concrete_common,
            }
        log.info("%s: %d queries in %.0f s", task.name, len(task.queries),
                 time.perf_counter() - started)  # fmt: skip
        last = entry[halves_run[-1]]
        entry["passed"] = bool(last["recommender"]) and last["recommender"]["hits@10"] > max(
            last["Adamic-Adar"]["hits@10"], last["text"]["hits@10"]
        )
        report[task.name] = entry
    shipped = {"people": PEOPLE, "helpers": HELPERS, "initiatives": INITIATIVES,
               "partners": PARTNERS}  # fmt: skip
    tuned: dict[str, dict[str, Any]] = {}
    for name, groups in validation_pools.items():
        weights, trail = tune(groups, [shipped[name], UNIFORM])
        tuned[name] = {"weights": _rounded(weights), "shipped": _rounded(shipped[name]),
                       "same": weights == shipped[name], "trail": trail}  # fmt: skip
    return {
        "command": "scripts/evaluate.py recommend " + " ".join(options.argv),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"nproc": os.cpu_count(), "python": platform.python_version()},
        "model": load_encoder().name,
        "seed": options.seed,
        "people": options.people,
        "records": str(options.records) if options.records else None,
        "cut": options.cut.isoformat(),
        "halves": list(halves_run),
        "tasks": report,
        "tuning": tuned,
    }


def _weights_name(task: Task) -> str:
    if task.target == "initiative":
        return "partners" if task.bipartite else "initiatives"
    return "people" if task.name == "collaborators" else "helpers"


def markdown(report: Mapping[str, Any]) -> str:
    """The figures of the last half run (the test half, unless --validation-only)."""
    half = report["halves"][-1]
    lines = []
    for name, entry in report["tasks"].items():
        q = entry["queries"]
        support = entry[f"{half}_support"]
        lines += [
            "",
            f"**{name}**: {half} half, {q[half]} queries, {entry['candidates']} candidates",
            "",
            "| system | Hits@10 | Recall@10 | MRR@10 |",
            "|---|---:|---:|---:|",
        ]
        for system in SYSTEMS:
            f = entry[half][system]
            lines.append(
                f"| {system} | {f['hits@10']:.3f} | {f['recall@10']:.3f} | {f['mrr@10']:.3f} |"
            )
        lines += [
            "",
            f"Correct recommendations in the recommender's top 10: "
            f"{support['correct_recommendations']}; with no common neighbour: "
            f"{support['without_common_neighbour']}; with none but a goal or sector: "
            f"{support['without_common_neighbour_but_goals']}. "
            f"Beats both on Hits@10: {'yes' if entry['passed'] else 'NO'}.",
        ]
        for name_, diff in entry.get(f"{half}_paired", {}).items():
            lines.append(
                f"- Hits@10, {name_}: {diff['mean']:+.3f} (95% CI {diff['ci95_low']:+.3f} to "
                f"{diff['ci95_high']:+.3f}; right only for the recommender: {diff['only_a']} "
                f"queries, only for the other: {diff['only_b']})"
            )
    for name, entry in report["tuning"].items():
        verdict = "the same as shipped" if entry["same"] else f"shipped: {entry['shipped']}"
        lines += ["", f"Weights tuned on the validation half ({name}): {entry['weights']}; "
                  f"{verdict}."]  # fmt: skip
    return "\n".join(lines)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO / "data")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--cut", type=date.fromisoformat, default=date(2023, 1, 1))
    parser.add_argument(
        "--records", type=Path, default=None,
        help="evaluate on this JSON Lines file (cocreate export) instead of the demo network",
    )  # fmt: skip
    parser.add_argument("--cache", type=Path, default=Path("var/eval"), help="vector cache")
    parser.add_argument("--json", type=Path, default=Path("var/eval/recommend.json"))
    parser.add_argument(
        "--validation-only", action="store_true", help="tune and report, test halves untouched"
    )
    parser.add_argument(
        "--tasks", type=lambda text: set(text.split(",")), default=None,
        help="only these: collaborators,initiatives,people,dpg (default: all)",
    )  # fmt: skip
    options = parser.parse_args(list(argv))
    options.argv = list(argv)
    return options


def run(argv: Sequence[str] | None = None) -> int:
    """The evaluation: Markdown on stdout, JSON to ``--json``."""
    options = parse(sys.argv[1:] if argv is None else argv)
    report = evaluate(options)
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(markdown(report))
    print(f"\nWritten to {options.json}")
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    sys.exit(run())
