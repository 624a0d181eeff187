#!/usr/bin/env python
"""Collaborators on a real co-authorship network (NeurIPS 1987-2018), time split.

The network is loaded the way Cocreate would hold it (``coauthor_network.py``): each
author is a person (a name and nothing else: no bio, no phrases, no ``knows``), each
paper an initiative whose text is its title, each person ``works_on`` their papers and
is ``member_of`` the institution of each affiliation they gave (``institutions`` reads
it from the affiliation string). The files are read from ``--data`` (by default
``../shared/data/eval/neurips-coauthorship`` beside the repository) and never copied;
without them the run says so and skips.

Splits (every figure is per query person):

- **validation**: the graph holds the papers up to ``--validate`` (2014); the truth
  is each person's new co-authors in the next year. Weights are learnt here only.
- **test**: the graph holds the papers up to ``--cut`` (2015); the truth is each
  person's new co-authors on the papers after it (2016-2018).

A query is a person of the graph with at least one new co-author who is also in the
graph. "New" follows the product's rule (``graph.matching.cowork``): nobody who
already co-authored with them, or shares a small organisation (a team) with them, is
new; such people are excluded from the truth and from every system's ranking alike.
Candidates: every person of the graph.

Systems, in the same run: **Adamic-Adar** and **resource allocation** on the co-work
graph (people linked when they share a paper), **text** (cosine of the mean vectors
of each person's paper titles), and the **recommender** (``graph.matching.recommend``
exactly as the service runs it, with the shipped weights or ``--weights``). Hits@10,
Recall@10 and MRR@10 (the baselines are in ``coauthor_baselines.py``, the Markdown
report in ``coauthor_report.py``); paired bootstrap intervals (queries resampled) of the
recommender's Hits@10 gain over each baseline, absolute and relative.

``--learn`` fits the collaborator weights (``coauthor_learn.py``: a pairwise logistic
ranking model with non-negative coefficients) on the validation pools of this network
and on the validation half of the demo network's collaborators task
(``scripts/evaluate_recommend.py``), each counting once, and prints them: the shipped
``graph.matching.scoring.PEOPLE`` comes from this.

    .venv/bin/python scripts/evaluate.py coauthor --data ../shared/data/eval/neurips-coauthorship
    .venv/bin/python scripts/evaluate_coauthor.py --learn
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import platform
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt

from embeddings.encoder import load_encoder
from graph.matching.context import Audience, Degrees, MatchContext
from graph.matching.cowork import CoWork
from graph.matching.features import FEATURES, Pool, gather
from graph.matching.profiles import ProfileIndex
from graph.matching.recommend import recommend
from graph.matching.scoring import PEOPLE, Weights

log = logging.getLogger("evaluate_coauthor")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "eval" / "neurips-coauthorship"
SYSTEMS = ("Adamic-Adar", "resource allocation", "text", "recommender")
BASELINES = SYSTEMS[:3]
Vectors = dict[str, npt.NDArray[np.float32]]


def _sibling(name: str) -> ModuleType:
    """Another script of this folder, loaded by path (scripts are not a package)."""
    loaded = sys.modules.get(f"coauthor_{name}")
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(f"coauthor_{name}", Path(__file__).with_name(
        f"{name}.py"))  # fmt: skip
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


network_data = _sibling("coauthor_network")
institutions, load_network, Network = (
    network_data.institutions, network_data.load_network, network_data.Network
)  # fmt: skip
learning = _sibling("coauthor_learn")
baseline_systems = _sibling("coauthor_baselines")
Baselines, K = baseline_systems.Baselines, baseline_systems.K


# --- the split -----------------------------------------------------------------------------


@dataclass
class Split:
    """The graph up to a year, the pool of people in it, and the new co-authors after."""

    name: str
    graph: nx.MultiDiGraph
    pool: frozenset[str]
    papers: frozenset[str]
    queries: list[tuple[str, frozenset[str]]]
    existing: dict[str, frozenset[str]]
    context: MatchContext


def make_split(
    network: Network,
    similarity: Any,
    profiles: ProfileIndex,
    *,
    name: str,
    upto: int,
    until: int,
) -> Split:
    """The graph of the papers up to ``upto``; the truth from the papers of the years
    after it up to ``until``."""
    build_graph = _sibling("evaluate_recommend").build_graph
    edges = [e for e in network.edges if e.since is not None and e.since.year <= upto]
    present = {e.source for e in edges} | {e.target for e in edges}
    graph = build_graph({i: network.nodes[i] for i in present}, edges)
    pool = frozenset(i for i in present if i.startswith("person:"))
    papers = frozenset(i for i in present if i.startswith("initiative:"))
    ctx = MatchContext(graph, similarity, profiles, Audience(recommendable=pool.__contains__),
                       Degrees(graph), pool, papers)  # fmt: skip
    cowork = CoWork(ctx)
    truth: dict[str, set[str]] = defaultdict(set)
    for paper, people in network.authors.items():
        if not upto < network.year[paper] <= until:
            continue
        known = [p for p in people if p in pool]
        for a in known:
            for b in known:
                if a != b and b not in cowork.collaborators(a):
                    truth[a].add(b)
    queries = [(a, frozenset(found)) for a, found in sorted(truth.items())]
    existing = {a: frozenset(cowork.collaborators(a)) for a, _ in queries}
    return Split(name, graph, pool, papers, queries, existing, ctx)


# --- vectors -------------------------------------------------------------------------------


def node_vectors(network: Network, ids: Iterable[str], cache: Path) -> Vectors:
    """The real model's vector of each node's text (cached under ``cache``)."""
    from graph.texts import node_text

    items = [(i, node_text(network.nodes[i])) for i in sorted(ids)]
    cached_vectors = _sibling("evaluate_recommend").cached_vectors
    return cached_vectors(items, cache, prefix="coauthor")


# --- running the systems -----------------------------------------------------------------


def run_split(
    split: Split,
    baselines: Baselines,
    weights: Weights,
    *,
    keep_pools: bool = False,
    limit: int | None = None,
) -> tuple[dict[str, list[dict[str, float]]], list[tuple[Pool, frozenset[str]]]]:
    """Per-query figures of every system (and, if asked, the recommender's pools)."""
    figures = _sibling("evaluate_recommend").figures
    found: dict[str, list[dict[str, float]]] = {s: [] for s in SYSTEMS}
    pools: list[tuple[Pool, frozenset[str]]] = []
    queries = split.queries if limit is None else split.queries[:limit]
    started = time.perf_counter()
    for n, (seed, truth) in enumerate(queries, start=1):
        exclude = split.existing[seed] | {seed}
        aa, ra = baselines.cowork(seed)
        found["Adamic-Adar"].append(figures(baselines.top(aa, exclude), truth))
        found["resource allocation"].append(figures(baselines.top(ra, exclude), truth))
        found["text"].append(figures(baselines.top(baselines.text(seed), exclude), truth))
        result = recommend(split.context, seed, "person", limit=K, weights=weights)
        ranked = [item.id for item in result.items]
        assert not set(ranked) & exclude, seed  # never an existing collaborator
        found["recommender"].append(figures(ranked, truth))
        if keep_pools:
            pools.append((result.pool, truth))
        if n % 500 == 0:
            log.info("%s: %d of %d queries, %.0f s", split.name, n, len(queries),
                     time.perf_counter() - started)  # fmt: skip
    return found, pools


def relative_gain(
    a: Sequence[Mapping[str, float]],
    b: Sequence[Mapping[str, float]],
    *,
    rounds: int = 2000,
    seed: int = 0,
) -> dict[str, float]:
    """Hits@10 of ``a`` over ``b`` as a ratio minus one, with a 95% bootstrap interval
    (the same queries resampled for both)."""
    x = np.array([r["hits@10"] for r in a])
    y = np.array([r["hits@10"] for r in b])
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, x.size, size=(rounds, x.size))
    ratios = x[draws].mean(axis=1) / np.maximum(y[draws].mean(axis=1), 1e-12) - 1
    low, high = np.percentile(ratios, [2.5, 97.5])
    return {
        "mean": round(float(x.mean() / max(y.mean(), 1e-12) - 1), 4),
        "ci95_low": round(float(low), 4),
        "ci95_high": round(float(high), 4),
    }


def summarise(found: Mapping[str, list[dict[str, float]]]) -> dict[str, Any]:
    helpers = _sibling("evaluate_recommend")
    means = {s: helpers.mean(found[s]) for s in SYSTEMS}
    better = max(("Adamic-Adar", "resource allocation"), key=lambda s: means[s]["hits@10"])
    return {
        "queries": len(found["recommender"]),
        "systems": means,
        "better_cowork_baseline": better,
        "paired": {
            f"recommender - {s}": helpers.paired(found["recommender"], found[s]) for s in BASELINES
        },
        "relative_to_better": relative_gain(found["recommender"], found[better]),
    }


# --- learning the weights ------------------------------------------------------------------


def demo_validation_pools(options: argparse.Namespace) -> list[tuple[Pool, frozenset[str]]]:
    """The recommender's pools on the validation half of the demo's collaborators task."""
    demo = _sibling("evaluate_recommend")
    network = demo.load_network(REPO / "data", seed=7, people=options.demo_people)
    vectors = demo.node_vectors(network, options.cache)
    similarity = demo.ExactSimilarity(vectors)
    profiles = ProfileIndex.from_nodes(network.nodes.values())
    task = next(t for t in demo.time_split(network, date(2023, 1, 1)) if t.name == "collaborators")
    found = []
    for query in task.queries:
        if demo.half_of(query.seed) != "validation":
            continue
        ctx = demo.context(task, task.graph, similarity, profiles)
        found.append((gather(ctx, query.seed, "person"), query.truth))
    return found


# --- the report ----------------------------------------------------------------------------


def evaluate(options: argparse.Namespace) -> dict[str, Any] | None:
    folder: Path = options.data
    if not (folder / "papers.csv").is_file() or not (folder / "authorships.csv").is_file():
        print(f"No NeurIPS co-authorship files in {folder}: skipped (--data points at them).")
        return None
    started = time.perf_counter()
    network = load_network(folder)
    last = options.cut if options.validation_only is False else options.validate
    in_graph = {e.source for e in network.edges if e.since and e.since.year <= last}
    in_graph |= {e.target for e in network.edges if e.since and e.since.year <= last}
    vectors = node_vectors(network, in_graph, options.cache)
    similarity = _sibling("evaluate_recommend").ExactSimilarity(vectors)
    profiles = ProfileIndex.from_nodes(network.nodes.values())
    weights = options.weights or PEOPLE
    report: dict[str, Any] = {
        "command": "scripts/evaluate.py coauthor " + " ".join(options.argv),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "system": platform.platform(),
        },
        "model": load_encoder().name,
        "network": {
            "people": sum(i.startswith("person:") for i in network.nodes),
            "papers": len(network.year),
            "organisations": sum(i.startswith("organization:") for i in network.nodes),
        },
        "weights": {f: round(float(x), 4) for f, x in zip(FEATURES, weights.vector(), strict=True)},
        "splits": {},
    }
    plan = [("validation", options.validate, options.validate + 1)]
    if not options.validation_only:
        plan.append(("test", options.cut, 9999))
    validation_pools: list[tuple[Pool, frozenset[str]]] = []
    for name, upto, until in plan:
        split = make_split(network, similarity, profiles, name=name, upto=upto, until=until)
        baselines = Baselines(split, vectors)
        found, pools = run_split(split, baselines, weights, keep_pools=options.learn and
                                 name == "validation", limit=options.limit)  # fmt: skip
        validation_pools += pools
        entry = summarise(found)
        entry |= {
            "graph_up_to": upto,
            "truth_years": [upto + 1, min(until, 2018)],
            "people_in_graph": len(split.pool),
            "papers_in_graph": len(split.papers),
        }
        report["splits"][name] = entry
        log.info("%s: %d queries, %.0f s so far", name, entry["queries"],
                 time.perf_counter() - started)  # fmt: skip
    if options.learn:
        groups = [learning.pairs(validation_pools)]
        if options.demo_people:
            groups.append(learning.pairs(demo_validation_pools(options)))
        learnt = learning.as_weights(learning.fit(groups))
        report["learnt"] = {f: round(float(x), 4) for f, x in zip(FEATURES, learnt.vector(),
                                                                  strict=True)}  # fmt: skip
    report["seconds"] = round(time.perf_counter() - started)
    return report


def _weights(text: str) -> Weights:
    """``name=value,name=value`` over the features."""
    values = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        if name not in FEATURES:
            raise argparse.ArgumentTypeError(f"unknown feature {name!r}; one of {FEATURES}")
        values[name] = float(value)
    return Weights(**values)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help="the folder of papers.csv and authorships.csv")  # fmt: skip
    parser.add_argument("--validate", type=int, default=2014,
                        help="validation: graph up to this year, truth the next")  # fmt: skip
    parser.add_argument("--cut", type=int, default=2015,
                        help="test: graph up to this year, truth every later one")  # fmt: skip
    parser.add_argument("--validation-only", action="store_true", help="leave the test alone")
    parser.add_argument("--learn", action="store_true", help="fit weights on validation pools")
    parser.add_argument(
        "--demo-people",
        type=int,
        default=3000,
        help="with --learn: demo people whose validation pools join (0: none)",
    )
    parser.add_argument("--weights", type=_weights, default=None,
                        help="name=value,... instead of the shipped PEOPLE weights")  # fmt: skip
    parser.add_argument("--limit", type=int, default=None, help="only the first N queries")
    parser.add_argument("--cache", type=Path, default=Path("var/eval"), help="vector cache")
    parser.add_argument("--json", type=Path, default=Path("var/eval/coauthor.json"))
    options = parser.parse_args(list(argv))
    options.argv = list(argv)
    return options


def run(argv: Sequence[str] | None = None) -> int:
    """The evaluation: Markdown on stdout, JSON to ``--json``; 0 when skipped."""
    options = parse(sys.argv[1:] if argv is None else argv)
    report = evaluate(options)
    if report is None:
        return 0
    markdown = _sibling("coauthor_report").markdown
    _sibling("evaluate").write_report(report, options.json, markdown(report))
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    sys.exit(run())
