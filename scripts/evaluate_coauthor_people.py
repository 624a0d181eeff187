#!/usr/bin/env python
"""People for an initiative on a real co-authorship network (NeurIPS 1987-2018), time split.

The network and the splits are those of ``evaluate_coauthor.py`` (people are authors
with a name only, papers are initiatives whose text is the title, people ``works_on``
papers and are ``member_of`` institutions): *validation* holds the papers up to
``--validate`` (2014) and asks about the papers of the next year; *test* holds the
papers up to ``--cut`` (2015) and asks about every later one (2016-2018).

A query is a paper of the asked-about years (an "initiative") with at least two
authors, one of them known from the graph: the **coordinator**, the known author with
the most papers in the graph (ties by id). The paper joins the graph as an initiative
whose text is its title, with one ``works_on`` edge, from the coordinator; the
recommender is asked for people for it (``graph.matching.recommend`` with the initiative
as seed and people as targets, as ``GET /v1/initiatives/{id}/people`` runs it, with
the shipped weights or ``--weights``). The truth is the paper's other authors who are in
the graph; a paper with none is no query. Candidates: every person of the graph but the
coordinator.

Systems, in the same run: **Adamic-Adar** and **resource allocation** from the
coordinator on the co-work graph (people linked when they share a paper), **past
co-authors** (the coordinator's co-authors by the number of papers shared, then by
Adamic-Adar: the obvious guess of who is on someone's next paper), **text** (the
title's cosine with the mean vector of each person's paper titles, the same encoder),
a **fusion** of Adamic-Adar and text (reciprocal rank fusion, ``RRF_K``; both
contribute only where they score above zero), and the **recommender**; as a diagnostic,
the recommender's own pool and weights ranked without its diversity step (which lowers
the score of a candidate sharing a paper or an organisation with earlier picks). Hits@10,
Recall@10 and MRR@10 per query, with paired bootstrap intervals of the recommender's
difference with each baseline on all three; and, per system, Hits@10 on the part of
the truth that never wrote with the coordinator before (``new``).

    .venv/bin/python scripts/evaluate.py people --data ../shared/data/eval/neurips-coauthorship
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import logging
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt

from embeddings.encoder import load_encoder
from graph.matching.context import Degrees
from graph.matching.features import FEATURES
from graph.matching.profiles import ProfileIndex
from graph.matching.recommend import recommend
from graph.matching.scoring import HELPERS, Weights, rank
from graph.store import node_columns

log = logging.getLogger("evaluate_coauthor_people")

REPO = Path(__file__).resolve().parents[1]
SYSTEMS = ("Adamic-Adar", "resource allocation", "past co-authors", "text",
           "fusion (Adamic-Adar + text, RRF)", "recommender",
           "recommender without diversity")  # fmt: skip
BASELINES = SYSTEMS[:5]
UNDIVERSE = SYSTEMS[-1]
METRICS = ("hits@10", "recall@10", "mrr@10")
RRF_K = 60
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


collaborators = _sibling("evaluate_coauthor")
K = collaborators.K


# --- the queries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PaperQuery:
    """A new paper, the author revealed with it, and its other authors known from the graph."""

    paper: str
    coordinator: str
    truth: frozenset[str]
    new: frozenset[str]  # of the truth, those who never wrote with the coordinator


def coordinator_of(known: Sequence[str], papers: Mapping[str, int]) -> str:
    """The known author with the most papers in the graph, ties by id."""
    return min(known, key=lambda person: (-papers.get(person, 0), person))


def paper_queries(network: Any, split: Any, *, upto: int, until: int) -> list[PaperQuery]:
    """Every paper of the years after ``upto`` up to ``until`` with at least two authors, one
    of them in the split's graph (the coordinator) and another too (the truth)."""
    graph = split.graph
    papers = Counter({p: sum(1 for x in graph.successors(p) if x in split.papers)
                      for p in split.pool})  # fmt: skip
    found = []
    for paper, authors in sorted(network.authors.items()):
        if not upto < network.year[paper] <= until or len(authors) < 2:
            continue
        known = [a for a in authors if a in split.pool]
        if not known:
            continue
        coordinator = coordinator_of(known, papers)
        truth = frozenset(known) - {coordinator}
        if not truth:
            continue
        before = co_authors(graph, coordinator, split.papers)
        found.append(PaperQuery(paper, coordinator, truth, truth - before.keys()))
    return found


def co_authors(graph: nx.MultiDiGraph, person: str, papers: frozenset[str]) -> Counter[str]:
    """The person's co-authors in the graph, with the number of papers shared."""
    found: Counter[str] = Counter()
    for paper in graph.successors(person):
        if paper in papers:
            found.update(p for p in graph.predecessors(paper) if p != person)
    return found


# --- the systems ---------------------------------------------------------------------------


def fuse(*scores: npt.NDArray[np.float64], k: int = RRF_K) -> npt.NDArray[np.float64]:
    """Reciprocal rank fusion: ``sum 1/(k + rank)`` over the systems (ranks from 1, ties by
    position); a system adds nothing where its score is not above zero."""
    total = np.zeros(len(scores[0]), dtype=np.float64)
    for values in scores:
        order = np.lexsort((np.arange(len(values)), -values))
        ranks = np.empty(len(values), dtype=np.float64)
        ranks[order] = np.arange(1, len(values) + 1)
        total += np.where(values > 0, 1.0 / (k + ranks), 0.0)
    return total


def past_first(
    shared: Mapping[str, int], aa: npt.NDArray[np.float64], position: Mapping[str, int]
) -> npt.NDArray[np.float64]:
    """Past co-authors by papers shared, then everyone by Adamic-Adar (scaled below 1)."""
    scores = aa / (2.0 * max(float(aa.max(initial=0.0)), 1e-12))
    for person, count in shared.items():
        if person in position:
            scores[position[person]] += count
    return scores


def title_scores(baselines: Any, vector: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """The title's cosine with each person's mean title vector."""
    unit = vector / max(float(np.linalg.norm(vector)), 1e-12)
    return np.asarray(baselines.profile @ unit, dtype=np.float64)


def with_paper(split: Any, network: Any, query: PaperQuery) -> None:
    """Add the query's paper to the split's graph, linked to its coordinator only."""
    split.graph.add_node(query.paper, **{"kind": "initiative",
                                         **node_columns(network.nodes[query.paper])})  # fmt: skip
    split.graph.add_edge(query.coordinator, query.paper, "works_on")


def run_split(
    split: Any,
    network: Any,
    queries: Sequence[PaperQuery],
    baselines: Any,
    vectors: Vectors,
    weights: Weights,
) -> dict[str, list[dict[str, float]]]:
    """Per-query figures of every system (``hits_new@10``: Hits@10 on the new part of the
    truth, where there is one)."""
    figures = _sibling("evaluate_recommend").figures
    found: dict[str, list[dict[str, float]]] = {s: [] for s in SYSTEMS}
    started = time.perf_counter()
    for n, query in enumerate(queries, start=1):
        exclude = {query.coordinator}
        aa, ra = baselines.cowork(query.coordinator)
        text = title_scores(baselines, vectors[query.paper])
        shared = co_authors(split.graph, query.coordinator, split.papers)
        rankings = {
            "Adamic-Adar": baselines.top(aa, exclude),
            "resource allocation": baselines.top(ra, exclude),
            "past co-authors": baselines.top(past_first(shared, aa, baselines.position), exclude),
            "text": baselines.top(text, exclude),
            "fusion (Adamic-Adar + text, RRF)": baselines.top(fuse(aa, text), exclude),
        }
        with_paper(split, network, query)
        try:
            ctx = dataclasses.replace(split.context, degrees=Degrees(split.graph))
            result = recommend(ctx, query.paper, "person", limit=K, weights=weights)
        finally:
            split.graph.remove_node(query.paper)
        rankings["recommender"] = [item.id for item in result.items]
        plain = rank(result.pool, result.weights, count=K, diversity=0.0)
        rankings[UNDIVERSE] = [result.pool.candidates[entry.row].id for entry in plain]
        assert query.coordinator not in rankings["recommender"], query
        for system, ranked in rankings.items():
            row = figures(ranked, query.truth)
            if query.new:
                row["hits_new@10"] = figures(ranked, query.new)["hits@10"]
            found[system].append(row)
        if n % 250 == 0:
            log.info("%s: %d of %d queries, %.0f s", split.name, n, len(queries),
                     time.perf_counter() - started)  # fmt: skip
    return found


# --- the summary ---------------------------------------------------------------------------


def summarise(found: Mapping[str, list[dict[str, float]]]) -> dict[str, Any]:
    """Means per system, and the paired differences of the recommender with each baseline
    and of the recommender without diversity with the recommender."""
    paired_bootstrap = _sibling("evaluate").paired_bootstrap
    systems = {}
    for system in SYSTEMS:
        rows = found[system]
        means = {m: round(float(np.mean([r[m] for r in rows])), 4) for m in METRICS}
        new = [r["hits_new@10"] for r in rows if "hits_new@10" in r]
        means["hits_new@10"] = round(float(np.mean(new)), 4) if new else 0.0
        systems[system] = means
    paired = {}
    mine = found["recommender"]
    pairs = [("recommender", system) for system in BASELINES] + [(UNDIVERSE, "recommender")]
    for a, b in pairs:
        paired[f"{a} - {b}"] = {
            m: paired_bootstrap([r[m] for r in found[a]], [r[m] for r in found[b]]) for m in METRICS
        }
    return {
        "queries": len(mine),
        "queries_with_new": sum("hits_new@10" in r for r in mine),
        "systems": systems,
        "paired": paired,
    }


def markdown(report: Mapping[str, Any]) -> str:
    lines: list[str] = []
    for name, entry in report["splits"].items():
        years = entry["truth_years"]
        lines += [
            "",
            f"**{name}**: graph up to {entry['graph_up_to']} ({entry['people_in_graph']} people, "
            f"{entry['papers_in_graph']} papers), papers of {years[0]}-{years[1]}: "
            f"{entry['queries']} queries ({entry['truth_people']} co-authors to find, "
            f"{entry['truth_new']} of them new to the coordinator; "
            f"{entry['queries_with_new']} queries with a new one)",
            "",
            "| system | Hits@10 | Recall@10 | MRR@10 | Hits@10, new co-authors |",
            "|---|---:|---:|---:|---:|",
        ]
        for system, f in entry["systems"].items():
            lines.append(f"| {system} | {f['hits@10']:.3f} | {f['recall@10']:.3f} | "
                         f"{f['mrr@10']:.3f} | {f['hits_new@10']:.3f} |")  # fmt: skip
        lines.append("")
        for label, by_metric in entry["paired"].items():
            parts = [
                f"{metric} {d['mean']:+.3f} ({d['ci95_low']:+.3f} to {d['ci95_high']:+.3f})"
                for metric, d in by_metric.items()
            ]
            hits = by_metric["hits@10"]
            alone = f"right only for the first: {hits['wins']}, the second: {hits['losses']}"
            lines.append(f"- {label}: " + "; ".join(parts) + f" [Hits@10 {alone}]")
    return "\n".join(lines)


# --- the run -------------------------------------------------------------------------------


def evaluate(options: argparse.Namespace) -> dict[str, Any] | None:
    folder: Path = options.data
    if not (folder / "papers.csv").is_file() or not (folder / "authorships.csv").is_file():
        print(f"No NeurIPS co-authorship files in {folder}: skipped (--data points at them).")
        return None
    started = time.perf_counter()
    network = collaborators.load_network(folder)
    vectors = collaborators.node_vectors(network, network.nodes, options.cache)
    similarity = _sibling("evaluate_recommend").ExactSimilarity(vectors)
    profiles = ProfileIndex.from_nodes(network.nodes.values())
    weights = options.weights or HELPERS
    report: dict[str, Any] = {
        "command": "scripts/evaluate.py people " + " ".join(options.argv),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "system": platform.platform(),
        },
        "model": load_encoder().name,
        "weights": {f: round(float(x), 4) for f, x in zip(FEATURES, weights.vector(), strict=True)},
        "splits": {},
    }
    plan = [("validation", options.validate, options.validate + 1)]
    if not options.validation_only:
        plan.append(("test", options.cut, 9999))
    for name, upto, until in plan:
        split = collaborators.make_split(network, similarity, profiles, name=name, upto=upto,
                                         until=until)  # fmt: skip
        queries = paper_queries(network, split, upto=upto, until=until)
        if options.limit is not None:
            queries = queries[: options.limit]
        baselines = collaborators.Baselines(split, vectors)
        found = run_split(split, network, queries, baselines, vectors, weights)
        entry = summarise(found)
        entry |= {
            "graph_up_to": upto,
            "truth_years": [upto + 1, min(until, max(network.year.values()))],
            "people_in_graph": len(split.pool),
            "papers_in_graph": len(split.papers),
            "truth_people": sum(len(q.truth) for q in queries),
            "truth_new": sum(len(q.new) for q in queries),
        }
        report["splits"][name] = entry
        log.info("%s: %d queries, %.0f s so far", name, entry["queries"],
                 time.perf_counter() - started)  # fmt: skip
    report["seconds"] = round(time.perf_counter() - started)
    return report


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=collaborators.DEFAULT_DATA,
                        help="the folder of papers.csv and authorships.csv")  # fmt: skip
    parser.add_argument("--validate", type=int, default=2014,
                        help="validation: graph up to this year, papers of the next")  # fmt: skip
    parser.add_argument("--cut", type=int, default=2015,
                        help="test: graph up to this year, papers of every later one")  # fmt: skip
    parser.add_argument("--validation-only", action="store_true", help="leave the test alone")
    parser.add_argument("--weights", type=collaborators._weights, default=None,
                        help="name=value,... instead of the shipped HELPERS weights")  # fmt: skip
    parser.add_argument("--limit", type=int, default=None, help="only the first N queries")
    parser.add_argument("--cache", type=Path, default=Path("var/eval"), help="vector cache")
    parser.add_argument("--json", type=Path, default=Path("var/eval/coauthor-people.json"))
    options = parser.parse_args(list(argv))
    options.argv = list(argv)
    return options


def run(argv: Sequence[str] | None = None) -> int:
    """The evaluation: Markdown on stdout, JSON to ``--json``; 0 when skipped."""
    options = parse(sys.argv[1:] if argv is None else argv)
    report = evaluate(options)
    if report is None:
        return 0
    _sibling("evaluate").write_report(report, options.json, markdown(report))
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    sys.exit(run())
