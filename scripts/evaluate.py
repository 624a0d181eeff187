#!/usr/bin/env python
"""Evaluate quality on real third-party data: ``retrieval``, ``collections``, ``tagging``,
``recommend``, ``coauthor``, ``people``, ``precision``, or ``all`` of them.

``retrieval``: the index holds every node of the demo network (``demo_records`` with
``--people``, default 3000, plus the sectors, SDGs and SDG targets), each under the text
``graph.texts.node_text`` gives it; the 714 real DPG initiatives are indexed by name and
description only, exactly as the demo imports them. Two query families come from the
DPG registry's own text:

- ``evidence`` (the acceptance set): each distinct SDG evidence text written for an
  initiative is a query whose relevant documents are the initiative(s) it was written
  for. Evidence identical to a relevant initiative's description is dropped (trivial).
- ``siblings`` (a check, never tuned on): an initiative's description, itself excluded,
  should find the other initiatives with the same owner organisation.

Queries are split into a tuning and a test half by a hash of the initiative they are
about (:func:`split_of`), so every query about one initiative falls in the same half.
Hybrid fusion (method x alpha x candidate depth) is tuned for nDCG@10 on the tuning
half of ``evidence`` only (:func:`choose` says which grid point ships); dense, lexical,
the baseline hybrid (``--baseline``, by default the shipped ``RankingOptions``) and the
tuned hybrid are then compared on the test halves (nDCG@10, recall@100, MRR@10), with
a paired bootstrap interval of the hybrid's gain. Prints Markdown; writes JSON.

``collections`` hands its arguments to ``run()`` of ``scripts/evaluate_collections.py``
(Cranfield, CISI, the DPG evidence and the demo queries; BM25, dense and fusions),
``tagging`` to ``run()`` of ``scripts/evaluate_tagging.py``, ``recommend`` to
``run()`` of ``scripts/evaluate_recommend.py`` (docs/matching.md), ``coauthor`` to
``run()`` of ``scripts/evaluate_coauthor.py`` (collaborators on the NeurIPS
co-authorship network; docs/evaluation.md), and ``people`` to ``run()`` of
``scripts/evaluate_coauthor_people.py`` (people for an initiative on the same network),
and ``precision`` to ``run()`` of ``scripts/evaluate_precision.py`` (the encoder in fp32
and int8 on the ``collections`` sets, paired; ``all`` leaves it out).

    .venv/bin/python scripts/evaluate.py retrieval
    .venv/bin/python scripts/evaluate.py recommend
    .venv/bin/python scripts/evaluate.py collections --collections ../shared/data/eval
    .venv/bin/python scripts/evaluate.py precision
    .venv/bin/python scripts/evaluate.py all
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import inspect
import itertools
import json
import logging
import math
import os
import platform
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.encoder import BATCH_SIZE, Encoder, load_encoder
from embeddings.hybrid import Method
from embeddings.options import RankingOptions
from embeddings.ranking import Matrix
from embeddings.search import Mode, SemanticIndex
from graph.demo import demo_records
from graph.edges import Edge
from graph.model import Initiative
from graph.reference import reference_records
from graph.texts import node_text

log = logging.getLogger("evaluate")

REPO = Path(__file__).resolve().parents[1]
TAGGING = Path(__file__).with_name("evaluate_tagging.py")
RECOMMEND = Path(__file__).with_name("evaluate_recommend.py")
COLLECTIONS = Path(__file__).with_name("evaluate_collections.py")
COAUTHOR = Path(__file__).with_name("evaluate_coauthor.py")
PEOPLE = Path(__file__).with_name("evaluate_coauthor_people.py")
PRECISION = Path(__file__).with_name("evaluate_precision.py")
K_TOP, K_DEEP = 10, 100
BASELINE = "hybrid, baseline"
TUNED = "hybrid, tuned"


# --- metrics ---------------------------------------------------------------------------


def ndcg_at_k(ranked: Sequence[str], relevance: Mapping[str, float], k: int = K_TOP) -> float:
    """nDCG@k with linear gains (the grade), log2 discounts; 0 when nothing is relevant."""
    gains = [relevance.get(item_id, 0.0) for item_id in ranked[:k]]
    ideal = sorted((g for g in relevance.values() if g > 0), reverse=True)[:k]
    best = _dcg(ideal)
    return _dcg(gains) / best if best > 0 else 0.0


def _dcg(gains: Iterable[float]) -> float:
    return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, start=1))


def recall_at_k(ranked: Sequence[str], relevance: Mapping[str, float], k: int = K_DEEP) -> float:
    """Share of the relevant ids (grade > 0) found in the first k; 0 when none is relevant."""
    relevant = {item_id for item_id, grade in relevance.items() if grade > 0}
    return len(relevant.intersection(ranked[:k])) / len(relevant) if relevant else 0.0


def reciprocal_rank(ranked: Sequence[str], relevance: Mapping[str, float], k: int = K_TOP) -> float:
    """1 / the rank of the first relevant id in the first k, else 0 (MRR@k per query)."""
    for rank, item_id in enumerate(ranked[:k], start=1):
        if relevance.get(item_id, 0.0) > 0:
            return 1.0 / rank
    return 0.0


def split_of(key: str) -> str:
    """``"tune"`` or ``"test"`` from sha1(key): the same on every run, machine and Python."""
    digest = hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).digest()
    return "tune" if digest[0] % 2 == 0 else "test"


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], *, rounds: int = 2000, seed: int = 0
) -> dict[str, float]:
    """Mean of a - b per query with a 95% percentile interval over resampled queries."""
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, size=(rounds, diff.size))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return {
        "mean": round(float(diff.mean()), 4),
        "ci95_low": round(float(low), 4),
        "ci95_high": round(float(high), 4),
        "wins": int((diff > 0).sum()),
        "ties": int((diff == 0).sum()),
        "losses": int((diff < 0).sum()),
    }


# --- the evaluation set ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Query:
    """One query: its text, graded relevant ids, ids never to return, and its split key."""

    id: str
    text: str
    relevance: dict[str, float]
    key: str
    exclude: tuple[str, ...] = ()


@dataclass
class EvaluationSet:
    """The indexed (id, text) items and the query families."""

    items: list[tuple[str, str]] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)
    families: dict[str, list[Query]] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)


def load_evaluation_set(data_dir: Path, *, seed: int, people: int) -> EvaluationSet:
    """The demo network's node texts and the ``evidence`` and ``siblings`` queries."""
    out = EvaluationSet()
    kinds: dict[str, int] = defaultdict(int)
    descriptions: dict[str, str] = {}
    evidence: dict[str, set[str]] = defaultdict(set)
    owners: dict[str, set[str]] = defaultdict(set)
    records = itertools.chain(
        reference_records(data_dir), demo_records(data_dir, seed=seed, people=people)
    )
    for record in records:
        if isinstance(record, Edge):
            _collect(record, evidence, owners)
            continue
        if text := node_text(record):
            out.items.append((record.id, text))
            kinds[record.kind] += 1
        if isinstance(record, Initiative) and record.provenance == "dpg":
            descriptions[record.id] = record.description
    out.kinds = dict(sorted(kinds.items()))
    out.families["evidence"] = evidence_queries(evidence, descriptions)
    out.dropped["evidence identical to its initiative's description"] = len(evidence) - len(
        out.families["evidence"]
    )
    out.families["siblings"] = sibling_queries(owners, descriptions)
    return out


def _collect(edge: Edge, evidence: dict[str, set[str]], owners: dict[str, set[str]]) -> None:
    """Note a DPG evidence text (text -> initiatives) or owner (initiative -> organisations)."""
    if edge.provenance != "dpg":
        return
    if edge.kind == "addresses" and edge.evidence:
        evidence[edge.evidence.strip()].add(edge.source)
    elif edge.kind == "partners_with" and edge.role == "owner":
        owners[edge.target].add(edge.source)


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def evidence_queries(
    evidence: Mapping[str, set[str]], descriptions: Mapping[str, str]
) -> list[Query]:
    """One query per distinct evidence text; its initiatives are the relevant ids.

    A text identical to the description of one of its initiatives is left out.
    """
    queries = []
    for text, sources in sorted(evidence.items()):
        if any(_same_text(text, descriptions.get(s, "")) for s in sources):
            continue
        digest = hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:12]
        queries.append(
            Query(f"evidence:{digest}", text, dict.fromkeys(sorted(sources), 1.0), min(sources))
        )
    return queries


def sibling_queries(owners: Mapping[str, set[str]], descriptions: Mapping[str, str]) -> list[Query]:
    """One query per described initiative sharing an owner: the siblings are relevant."""
    owned: dict[str, set[str]] = defaultdict(set)
    for initiative, orgs in owners.items():
        for org in orgs:
            owned[org].add(initiative)
    queries = []
    for initiative in sorted(owners):
        siblings = set().union(*(owned[org] for org in owners[initiative])) - {initiative}
        text = descriptions.get(initiative, "")
        if siblings and text:
            relevance = dict.fromkeys(sorted(siblings), 1.0)
            queries.append(
                Query(f"siblings:{initiative}", text, relevance, initiative, (initiative,))
            )
    return queries


def halves(queries: Sequence[Query]) -> dict[str, list[Query]]:
    """The queries split into ``tune`` and ``test`` by :func:`split_of` of their key."""
    out: dict[str, list[Query]] = {"tune": [], "test": []}
    for query in queries:
        out[split_of(query.key)].append(query)
    return out


# --- running the index -----------------------------------------------------------------


class MemoEncoder:
    """Encodes each distinct text once; the tuning grid asks for the same queries often."""

    def __init__(self, encoder: Encoder) -> None:
        self.name, self.dimension = encoder.name, encoder.dimension
        self.path = getattr(encoder, "path", None)  # the model's vocabulary (relevance floor)
        self._encoder = encoder
        self._memo: dict[str, np.ndarray] = {}

    def encode(
        self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE, progress: bool = False
    ) -> Matrix:
        """Vectors of these texts, from the memo or the wrapped encoder (in the calls the
        indexer makes, by default)."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if missing:
            vectors = self._encoder.encode(missing, batch_size=batch_size, progress=progress)
            self._memo.update(zip(missing, vectors, strict=True))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._memo[t] for t in texts])

    def load(self, path: Path, texts: Sequence[str]) -> None:
        """Fill the memo from a cache file of these texts' vectors, if it exists."""
        if path.is_file():
            self._memo.update(zip(texts, np.load(path), strict=True))

    def save(self, path: Path, texts: Sequence[str]) -> None:
        """Write these texts' vectors (all already encoded) to a cache file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, self.encode(texts), allow_pickle=False)


def cache_path(folder: Path, model: str, texts: Sequence[str]) -> Path:
    """The vector cache file of these texts under this model."""
    digest = hashlib.sha1("\0".join(texts).encode("utf-8"), usedforsecurity=False).hexdigest()
    return folder / f"vectors-{model.replace('/', '_')}-{digest[:16]}.npy"


def build_index(data: EvaluationSet, encoder: Encoder, cache: Path) -> SemanticIndex:
    """The semantic index of every item, every query pre-encoded (cached across runs)."""
    memo = MemoEncoder(encoder)
    texts = list(
        dict.fromkeys(
            [t for _, t in data.items] + [q.text for f in data.families.values() for q in f]
        )
    )
    encode_cached(memo, cache_path(cache, encoder.name, texts), texts)
    index = SemanticIndex(memo)
    index.upsert(data.items)
    return index


def encode_cached(memo: MemoEncoder, path: Path, texts: list[str]) -> None:
    """Encode ``texts`` into ``memo``, reading their vectors from ``path`` if it holds them
    and writing it if it did not."""
    memo.load(path, texts)
    started = time.perf_counter()
    memo.encode(texts, progress=True)
    if not path.is_file():
        log.info("encoded %d texts in %.0f s", len(texts), time.perf_counter() - started)
        memo.save(path, texts)


@dataclass(frozen=True, slots=True)
class System:
    """One way of searching: a mode and, for hybrid, the ranking options."""

    name: str
    mode: Mode
    ranking: RankingOptions | None = None


def run_query(index: SemanticIndex, system: System, query: Query) -> dict[str, float]:
    """nDCG@10 and MRR@10 (from a k=10 search) and recall@100 (from a k=100 search)."""
    index.ranking = system.ranking or RankingOptions()
    top = [h.id for h in index.search(query.text, K_TOP, mode=system.mode, exclude=query.exclude)]
    deep = [h.id for h in index.search(query.text, K_DEEP, mode=system.mode, exclude=query.exclude)]
    return {
        "ndcg@10": ndcg_at_k(top, query.relevance),
        "mrr@10": reciprocal_rank(top, query.relevance),
        "recall@100": recall_at_k(deep, query.relevance),
    }


def run_similar(index: SemanticIndex, query: Query) -> dict[str, float]:
    """The same figures for ``similar`` (more-like-this) from the excluded item's vector."""
    item = query.exclude[0]
    top = [h.id for h in index.similar(item, K_TOP)]
    deep = [h.id for h in index.similar(item, K_DEEP)]
    return {
        "ndcg@10": ndcg_at_k(top, query.relevance),
        "mrr@10": reciprocal_rank(top, query.relevance),
        "recall@100": recall_at_k(deep, query.relevance),
    }


def mean_scores(per_query: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """The mean of each figure over the queries."""
    return {key: round(float(np.mean([q[key] for q in per_query])), 4) for key in per_query[0]}


def tune(
    index: SemanticIndex,
    queries: Sequence[Query],
    *,
    alphas: Sequence[float],
    depths: Sequence[int],
) -> list[dict[str, Any]]:
    """Mean nDCG@10 and MRR@10 of every (method, alpha, depth), best first (ties: by options)."""
    methods: tuple[Method, ...] = ("weighted", "rrf")
    rows: list[dict[str, Any]] = []
    for method, alpha, depth in itertools.product(methods, alphas, depths):
        index.ranking = RankingOptions(alpha=alpha, method=method, depth=depth)
        ndcg, mrr = [], []
        for query in queries:
            top = [h.id for h in index.search(query.text, K_TOP, mode="hybrid")]
            ndcg.append(ndcg_at_k(top, query.relevance))
            mrr.append(reciprocal_rank(top, query.relevance))
        rows.append(
            {
                "method": method,
                "alpha": alpha,
                "depth": depth,
                "ndcg@10": round(float(np.mean(ndcg)), 4),
                "mrr@10": round(float(np.mean(mrr)), 4),
            }
        )
    rows.sort(key=lambda r: (-r["ndcg@10"], r["method"], r["alpha"], r["depth"]))
    return rows


def choose(
    grid: Sequence[Mapping[str, Any]], baseline: RankingOptions, *, tolerance: float
) -> RankingOptions:
    """The options to ship: among rows within ``tolerance`` of the best nDCG@10, the closest
    to ``baseline`` (same method, then same depth, then nearest alpha), then the best.

    A default changes only where the tuning half says it is worth more than ``tolerance``,
    so a flat knob (the depth, here) keeps its value instead of following noise.
    """
    top = max(row["ndcg@10"] for row in grid)
    close = [row for row in grid if row["ndcg@10"] >= top - tolerance]
    row = min(
        close,
        key=lambda r: (
            r["method"] != baseline.method,
            r["depth"] != baseline.depth,
            abs(r["alpha"] - baseline.alpha),
            -r["ndcg@10"],
            r["alpha"],
            r["depth"],
        ),
    )
    return RankingOptions(alpha=row["alpha"], method=row["method"], depth=row["depth"])


# --- the retrieval report --------------------------------------------------------------


def score_systems(
    index: SemanticIndex, systems: Sequence[System], queries: Sequence[Query], *, similar: bool
) -> dict[str, list[dict[str, float]]]:
    """Per-query figures of each system (and of ``similar`` when asked)."""
    out = {s.name: [run_query(index, s, q) for q in queries] for s in systems}
    if similar:
        out["more-like-this (similar)"] = [run_similar(index, q) for q in queries]
    return out


def compare(
    per_query: Mapping[str, Sequence[Mapping[str, float]]], a: str, b: str
) -> dict[str, float]:
    """Paired bootstrap of nDCG@10: system ``a`` minus system ``b``."""
    return paired_bootstrap(
        [q["ndcg@10"] for q in per_query[a]], [q["ndcg@10"] for q in per_query[b]]
    )


def evaluate_retrieval(options: argparse.Namespace) -> dict[str, Any]:
    """Build the set and the index, tune on evidence/tune, score everything; the report."""
    data = load_evaluation_set(options.data, seed=options.seed, people=options.people)
    encoder = load_encoder()
    index = build_index(data, encoder, options.cache)
    split = {name: halves(queries) for name, queries in data.families.items()}
    log.info("tuning on %d queries", len(split["evidence"]["tune"]))
    grid = tune(index, split["evidence"]["tune"], alphas=options.alphas, depths=options.depths)
    baseline: RankingOptions = options.baseline
    tuned = choose(grid, baseline, tolerance=options.tolerance)
    systems = [
        System("dense", "dense"),
        System("lexical", "lexical"),
        System(BASELINE, "hybrid", baseline),
        System(TUNED, "hybrid", tuned),
    ]
    results: dict[str, dict[str, Any]] = {}
    comparisons: dict[str, dict[str, Any]] = {}
    for family, parts in split.items():
        results[family] = {}
        for half, queries in parts.items():
            per_query = score_systems(index, systems, queries, similar=family == "siblings")
            results[family][half] = {name: mean_scores(rows) for name, rows in per_query.items()}
            if half == "test":
                comparisons[family] = {
                    f"{TUNED} - {other}": compare(per_query, TUNED, other)
                    for other in ("dense", "lexical", BASELINE)
                }
    test = results["evidence"]["test"]
    best_single = max(test["dense"]["ndcg@10"], test["lexical"]["ndcg@10"])
    return {
        "command": "scripts/evaluate.py " + " ".join(sys.argv[1:]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "nproc": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1m": round(os.getloadavg()[0], 2),
        },
        "model": encoder.name,
        "seed": options.seed,
        "people": options.people,
        "corpus": {"items": len(data.items), "by_kind": data.kinds},
        "queries": {
            family: {half: len(queries) for half, queries in parts.items()}
            for family, parts in split.items()
        },
        "dropped": data.dropped,
        "tuning": {
            "objective": "mean nDCG@10 on evidence/tune",
            "rule": f"closest to the baseline within {options.tolerance} of the best",
            "baseline": {
                "alpha": baseline.alpha,
                "method": baseline.method,
                "depth": baseline.depth,
            },
            "best": grid[0],
            "grid": grid,
        },
        "tuned": {"alpha": tuned.alpha, "method": tuned.method, "depth": tuned.depth},
        "results": results,
        "comparisons": comparisons,
        "acceptance": {
            "criterion": "hybrid, tuned >= max(dense, lexical) on nDCG@10, evidence/test",
            "hybrid": test[TUNED]["ndcg@10"],
            "best_single": best_single,
            "passed": test[TUNED]["ndcg@10"] >= best_single,
        },
    }


def markdown(report: Mapping[str, Any]) -> str:
    """The test-half figures of each family, the tuned options and the paired differences."""
    tuned = report["tuned"]
    best = report["tuning"]["best"]
    lines = [
        f"Tuned on evidence/tune ({report['queries']['evidence']['tune']} queries): "
        f"{_options(tuned)} (grid best: {_options(best)}, nDCG@10 {best['ndcg@10']:.4f}; "
        f"{report['tuning']['rule']}).",
        f"Baseline: {_options(report['tuning']['baseline'])}.",
    ]
    grid = report["tuning"]["grid"]
    lines += ["", *grid_table(grid, tuned["depth"]), "", depth_line(grid, tuned)]
    for family, halves_ in report["results"].items():
        count = report["queries"][family]["test"]
        lines += ["", f"**{family}**, test half ({count} queries)", ""]
        lines += ["| system | nDCG@10 | recall@100 | MRR@10 |", "|---|---:|---:|---:|"]
        for name, figures in halves_["test"].items():
            lines.append(
                f"| {name} | {figures['ndcg@10']:.3f} | {figures['recall@100']:.3f} "
                f"| {figures['mrr@10']:.3f} |"
            )
        lines.append("")
        for name, diff in report["comparisons"][family].items():
            lines.append(
                f"- nDCG@10 {name}: {diff['mean']:+.3f} (95% CI {diff['ci95_low']:+.3f} to "
                f"{diff['ci95_high']:+.3f}; {diff['wins']} wins, {diff['ties']} ties, "
                f"{diff['losses']} losses)"
            )
    verdict = report["acceptance"]
    lines += [
        "",
        f"Acceptance ({verdict['criterion']}): {'passed' if verdict['passed'] else 'FAILED'}.",
    ]
    return "\n".join(lines)


def _options(ranking: Mapping[str, Any]) -> str:
    return f"method={ranking['method']}, alpha={ranking['alpha']}, depth={ranking['depth']}"


def grid_table(grid: Sequence[Mapping[str, Any]], depth: int) -> list[str]:
    """Tuning-half nDCG@10 by alpha (columns) and method (rows) at one depth."""
    rows = [r for r in grid if r["depth"] == depth]
    alphas = sorted({r["alpha"] for r in rows})
    lines = [
        f"Tuning half, nDCG@10 by alpha at depth {depth}:",
        "",
        "| method | " + " | ".join(f"{a:g}" for a in alphas) + " |",
        "|---|" + "---:|" * len(alphas),
    ]
    for method in ("weighted", "rrf"):
        score = {r["alpha"]: r["ndcg@10"] for r in rows if r["method"] == method}
        lines.append(f"| {method} | " + " | ".join(f"{score[a]:.3f}" for a in alphas) + " |")
    return lines


def depth_line(grid: Sequence[Mapping[str, Any]], tuned: Mapping[str, Any]) -> str:
    """Tuning-half nDCG@10 of each depth at the tuned method and alpha."""
    same = [r for r in grid if r["method"] == tuned["method"] and r["alpha"] == tuned["alpha"]]
    by_depth = ", ".join(f"{r['depth']}: {r['ndcg@10']:.4f}" for r in sorted(same, key=_depth))
    return f"By depth at {tuned['method']}, alpha={tuned['alpha']}: {by_depth}."


def _depth(row: Mapping[str, Any]) -> int:
    return int(row["depth"])


# --- tagging and the command line ------------------------------------------------------


def run_tagging(arguments: Sequence[str]) -> int:
    """Run ``run()`` of scripts/evaluate_tagging.py (loaded by path); 2 if it is missing."""
    return run_script(TAGGING, "tagging", arguments)


def run_recommend(arguments: Sequence[str]) -> int:
    """Run ``run()`` of scripts/evaluate_recommend.py (loaded by path); 2 if it is missing."""
    return run_script(RECOMMEND, "recommend", arguments)


def run_collections(arguments: Sequence[str]) -> int:
    """Run ``run()`` of scripts/evaluate_collections.py: Cranfield, CISI, DPG and the demo."""
    return run_script(COLLECTIONS, "collections", arguments)


def run_coauthor(arguments: Sequence[str]) -> int:
    """Run ``run()`` of scripts/evaluate_coauthor.py (collaborators on NeurIPS co-authorship;
    it skips cleanly when the data is absent)."""
    return run_script(COAUTHOR, "coauthor", arguments)


def run_people(arguments: Sequence[str]) -> int:
    """Run ``run()`` of scripts/evaluate_coauthor_people.py (people for an initiative on
    NeurIPS co-authorship; it skips cleanly when the data is absent)."""
    return run_script(PEOPLE, "people", arguments)


def run_precision(arguments: Sequence[str]) -> int:
    """Run ``run()`` of scripts/evaluate_precision.py: the encoder in fp32 and in int8."""
    return run_script(PRECISION, "precision", arguments)


def run_script(script: Path, name: str, arguments: Sequence[str]) -> int:
    """Run ``run()`` of another evaluation script, loaded by path; 2 if it is missing."""
    if not script.is_file():
        print(f"{script} does not exist yet: no {name} evaluation to run.", file=sys.stderr)
        return 2
    spec = importlib.util.spec_from_file_location(f"evaluate_{name}", script)
    if spec is None or spec.loader is None:
        print(f"cannot load {script}", file=sys.stderr)
        return 2
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    run = getattr(module, "run", None)
    if not callable(run):
        print(f"{script} has no run() function.", file=sys.stderr)
        return 2
    takes_arguments = bool(inspect.signature(run).parameters)
    result = run(list(arguments)) if takes_arguments else run()
    return result if isinstance(result, int) else 0


def run_retrieval(options: argparse.Namespace) -> int:
    """The retrieval evaluation: Markdown on stdout, JSON to ``options.json``."""
    report = evaluate_retrieval(options)
    write_report(report, options.json, markdown(report))
    return 0


def write_report(report: Mapping[str, Any], path: Path, text: str) -> None:
    """An evaluation's report as JSON to ``path`` and as ``text`` (its Markdown) on stdout."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(text)
    print(f"\nWritten to {path}")


def _floats(text: str) -> list[float]:
    return [float(value) for value in text.split(",")]


def _ints(text: str) -> list[int]:
    return [int(value) for value in text.split(",")]


def _ranking(text: str) -> RankingOptions:
    """``METHOD:ALPHA:DEPTH``, e.g. ``weighted:0.7:50``."""
    name, alpha, depth = text.split(":")
    methods: dict[str, Method] = {"zscore": "zscore", "weighted": "weighted", "rrf": "rrf"}
    if name not in methods:
        raise argparse.ArgumentTypeError(f"method must be zscore, weighted or rrf, got {name!r}")
    return RankingOptions(alpha=float(alpha), method=methods[name], depth=int(depth))


def add_retrieval_options(parser: argparse.ArgumentParser) -> None:
    """The options of ``retrieval`` (``all`` takes the same)."""
    parser.add_argument("--data", type=Path, default=REPO / "data")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--people", type=int, default=3000, help="demo people (distractors)")
    parser.add_argument("--alphas", type=_floats, default=[i / 10 for i in range(11)])
    parser.add_argument("--depths", type=_ints, default=[10, 20, 50, 100, 200])
    shipped = RankingOptions()
    parser.add_argument(
        "--baseline",
        type=_ranking,
        default=shipped,
        help=f"METHOD:ALPHA:DEPTH compared with (default: shipped, "
        f"{shipped.method}:{shipped.alpha}:{shipped.depth})",
    )
    parser.add_argument(
        "--tolerance", type=float, default=0.005, help="nDCG@10 gain a change must exceed"
    )
    parser.add_argument("--cache", type=Path, default=Path("var/eval"), help="vector cache")
    parser.add_argument("--json", type=Path, default=Path("var/eval/retrieval.json"))


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line. Everything after ``tagging`` or ``recommend`` goes to that script
    (argparse's REMAINDER would take ``--people 80`` for an option of its own)."""
    given = list(sys.argv[1:] if argv is None else argv)
    if given[:1] in (
        ["tagging"],
        ["recommend"],
        ["collections"],
        ["coauthor"],
        ["people"],
        ["precision"],
    ):
        return argparse.Namespace(command=given[0], arguments=given[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    add_retrieval_options(commands.add_parser("retrieval", help="dense vs lexical vs hybrid"))
    tagging = commands.add_parser("tagging", help="scripts/evaluate_tagging.py run()")
    tagging.add_argument("arguments", nargs=argparse.REMAINDER, help="passed to run()")
    recommend = commands.add_parser(
        "recommend", help="scripts/evaluate_recommend.py run(): recommender vs baselines"
    )
    recommend.add_argument("arguments", nargs=argparse.REMAINDER, help="passed to run()")
    collections = commands.add_parser(
        "collections",
        help="scripts/evaluate_collections.py run(): BM25, dense and fusions on Cranfield, "
        "CISI, DPG evidence and the demo",
    )
    collections.add_argument("arguments", nargs=argparse.REMAINDER, help="passed to run()")
    coauthor = commands.add_parser(
        "coauthor", help="scripts/evaluate_coauthor.py run(): collaborators on NeurIPS"
    )
    coauthor.add_argument("arguments", nargs=argparse.REMAINDER, help="passed to run()")
    people = commands.add_parser(
        "people",
        help="scripts/evaluate_coauthor_people.py run(): people for an initiative on NeurIPS",
    )
    people.add_argument("arguments", nargs=argparse.REMAINDER, help="passed to run()")
    precision = commands.add_parser(
        "precision",
        help="scripts/evaluate_precision.py run(): the encoder in fp32 and int8 on the "
        "collections' sets",
    )
    precision.add_argument("arguments", nargs=argparse.REMAINDER, help="passed to run()")
    add_retrieval_options(
        commands.add_parser(
            "all", help="retrieval, collections, tagging, recommend, coauthor, people"
        )
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    options = parse(argv)
    if options.command == "retrieval":
        return run_retrieval(options)
    if options.command == "tagging":
        return run_tagging(options.arguments)
    if options.command == "recommend":
        return run_recommend(options.arguments)
    if options.command == "collections":
        return run_collections(options.arguments)
    if options.command == "coauthor":
        return run_coauthor(options.arguments)
    if options.command == "people":
        return run_people(options.arguments)
    if options.command == "precision":
        return run_precision(options.arguments)
    runs = (run_collections, run_tagging, run_recommend, run_coauthor, run_people)
    return max(run_retrieval(options), *(run([]) for run in runs))


if __name__ == "__main__":
    sys.exit(main())
