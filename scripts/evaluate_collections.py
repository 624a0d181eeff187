#!/usr/bin/env python
"""Retrieval on collections we did not make: Cranfield, CISI, the DPG evidence and the demo.

``scripts/evaluate.py collections`` runs :func:`run`. Four query sets (loaded by
``collections_sets.py``), each split into a validation and a test half by
:func:`evaluate.split_of` of the query id:

- ``cranfield`` and ``cisi``: classic test collections in BEIR's layout (``corpus.jsonl``,
  ``queries.jsonl``, ``qrels.tsv``) read from ``--collections`` (default
  ``../shared/data/eval`` beside the repository); each document is indexed as its title and
  text. Cranfield's judgements are graded (the grade is the gain), CISI's binary. A missing
  folder is skipped with a message; nothing of them is ever written into the repository.
- ``dpg``: the DPG evidence queries over the demo network (as ``evaluate.py retrieval``).
- ``demo``: ``DEMO_QUERIES``, one everyday query per practice of the demo's Wisdom Book,
  written for this evaluation in other words than the generator's; an entry telling that
  practice is relevant.

Each system is scored by nDCG@10 (graded gains) on each test half, with paired bootstrap
intervals against the better of BM25 and dense. Fusions are compared from the same
candidate lists (each side's best ``depth`` with the other side's true scores, as
:meth:`embeddings.search.SemanticIndex.search` builds them); the shipped default is then
measured through ``SemanticIndex.search`` itself. The grid (z-score, weighted and RRF
fusion x ``--alphas``) is scored on the validation halves only, by the mean over the sets
(one default serves all); the report says which point is best and how the shipped one
does. The relevance floor is checked on random-letter queries and on the test
queries (how many lose every hit). Vectors are cached under ``--cache`` (``var/eval``).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import random
import string
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import evaluate
import numpy as np
from collections_report import markdown
from collections_sets import load_sets

from embeddings.encoder import Encoder, load_encoder
from embeddings.hybrid import Fused, Method, fuse
from embeddings.options import RankingOptions
from embeddings.ranking import Ranked
from embeddings.search import SemanticIndex

REPO = Path(__file__).resolve().parents[1]
DEPTH = 100  # candidates per side for the fusions compared offline
K = evaluate.K_TOP
BEFORE = RankingOptions(alpha=0.8, method="weighted", depth=50)
"""The hybrid search shipped before this evaluation (``hybrid, before``)."""

# --- indexing and the two sides ------------------------------------------------------------


def build_index(
    items: Sequence[tuple[str, str]],
    queries: Sequence[str],
    encoder: Encoder,
    cache: Path,
    warm: Iterable[list[str]] = (),
) -> SemanticIndex:
    """The semantic index of the items, their and the queries' vectors cached under ``cache``."""
    memo = evaluate.MemoEncoder(encoder)
    for texts in warm:
        memo.load(evaluate.cache_path(cache, encoder.name, texts), texts)
    for texts in ([t for _, t in items], list(dict.fromkeys(queries))):
        evaluate.encode_cached(memo, evaluate.cache_path(cache, encoder.name, texts), texts)
    index = SemanticIndex(memo)
    index.upsert(items)
    return index


@dataclass(frozen=True, slots=True)
class Sides:
    """One query's candidates: each side's best ``DEPTH`` and both scores of every candidate."""

    dense: Ranked
    lexical: Ranked
    dense_of: dict[str, float]
    lexical_of: dict[str, float]


def sides_of(index: SemanticIndex, query: evaluate.Query, depth: int = DEPTH) -> Sides:
    """Both rankings of the query and the true scores of their union on each side."""
    vector = index.query_vector(query.text)
    dense = index.vectors.search(vector, depth, exclude=query.exclude)
    lexical = index.lexical.search(query.text, depth, exclude=query.exclude)
    union = list(dict.fromkeys([i for i, _ in dense] + [i for i, _ in lexical]))
    return Sides(
        dense, lexical, index.vectors.scores(vector, union), index.lexical.scores(query.text, union)
    )


Fusion = Callable[[Sides, int], list[str]]
"""A way to rank a query's candidates: the ids of the first k."""


def shipped_fusion(method: Method, alpha: float, depth: int) -> Fusion:
    """:func:`embeddings.hybrid.fuse` as the index calls it, from the cached sides."""

    def rank(sides: Sides, k: int) -> list[str]:
        fused: list[Fused] = fuse(
            sides.dense[: max(k, depth)],
            sides.lexical[: max(k, depth)],
            method=method,
            alpha=alpha,
            k=k,
            dense_scores=sides.dense_of,
            lexical_scores=sides.lexical_of,
        )
        return [f.id for f in fused]

    return rank


def dense_only(sides: Sides, k: int) -> list[str]:
    return [i for i, _ in sides.dense[:k]]


def lexical_only(sides: Sides, k: int) -> list[str]:
    return [i for i, _ in sides.lexical[:k]]


def ndcg_of(
    fusion: Fusion, sides: Sequence[Sides], queries: Sequence[evaluate.Query]
) -> list[float]:
    """nDCG@10 per query of one fusion."""
    return [
        evaluate.ndcg_at_k(fusion(s, K), q.relevance) for s, q in zip(sides, queries, strict=True)
    ]


def searched(
    index: SemanticIndex, ranking: RankingOptions
) -> Callable[[evaluate.Query], list[str]]:
    """The shipped hybrid search itself (``SemanticIndex.search``), floor included."""

    def rank(query: evaluate.Query) -> list[str]:
        index.ranking = ranking
        return [h.id for h in index.search(query.text, K, mode="hybrid", exclude=query.exclude)]

    return rank


# --- the floor -----------------------------------------------------------------------------


def random_letters(count: int, *, seed: int = 0) -> list[str]:
    """``count`` queries of one to four random lower-case 'words' of 3 to 9 letters."""
    rng = random.Random(seed)
    letters = string.ascii_lowercase
    return [
        " ".join(
            "".join(rng.choice(letters) for _ in range(rng.randint(3, 9)))
            for _ in range(rng.randint(1, 4))
        )
        for _ in range(count)
    ]


def floor_check(index: SemanticIndex, queries: Sequence[evaluate.Query], gibberish: Sequence[str],
                ranking: RankingOptions) -> dict[str, Any]:  # fmt: skip
    """How many random-letter queries get a hit, and how many test queries lose all theirs."""
    index.ranking = ranking
    answered = {g: index.search(g, K, mode="hybrid") for g in gibberish}
    noisy = [g for g, hits in answered.items() if hits]
    unshared = sum(1 for hits in answered.values() for h in hits if not h.matched_terms)
    emptied = [q.id for q in queries if not index.search(q.text, K, mode="hybrid")]
    noise = [_best_cosine(index, g) for g in gibberish]
    real = [_best_cosine(index, q.text) for q in queries]
    return {
        "best_cosine_of_random_letters": {
            "median": round(float(np.median(noise)), 3),
            "max": round(float(np.max(noise)), 3),
        },
        "best_cosine_of_test_queries": {
            "p1": round(float(np.percentile(real, 1)), 3),
            "p5": round(float(np.percentile(real, 5)), 3),
        },
        "random_letter_queries": len(gibberish),
        "random_letter_queries_with_hits": len(noisy),
        "their_hits_sharing_no_word": unshared,
        "examples_with_hits": {g: [h.matched_terms for h in answered[g]] for g in noisy[:5]},
        "test_queries": len(queries),
        "test_queries_without_hits": len(emptied),
    }


def _best_cosine(index: SemanticIndex, text: str) -> float:
    """The cosine of the nearest item, floor or not."""
    return index.vectors.search(index.query_vector(text), 1)[0][1]


# --- the report ------------------------------------------------------------------------------

BM25, DENSE, HYBRID_BEFORE, HYBRID_AFTER = "BM25", "dense", "hybrid, before", "hybrid, after"


def candidates(alphas: Sequence[float]) -> dict[str, Fusion]:
    """The fusions compared on the validation halves (name -> fusion)."""
    out: dict[str, Fusion] = {}
    for method in ("zscore", "weighted", "rrf"):
        for alpha in alphas:
            out[f"{method} {alpha:g}"] = shipped_fusion(method, alpha, BEFORE.depth)  # type: ignore[arg-type]
    return out


def evaluate_sets(options: argparse.Namespace) -> dict[str, Any]:
    """Every set's sides, the validation grid, the test figures and the floor check."""
    sets = load_sets(options)
    if not sets:
        return {}
    encoder = load_encoder()
    shipped = RankingOptions()
    indexes: dict[int, SemanticIndex] = {}
    halves: dict[str, dict[str, list[tuple[evaluate.Query, Sides]]]] = {}
    index_of: dict[str, SemanticIndex] = {}
    for query_set in sets:
        key = id(query_set.items)
        if key not in indexes:
            texts = [q.text for s in sets if s.items is query_set.items for q in s.queries]
            indexes[key] = build_index(
                query_set.items, texts, encoder, options.cache, query_set.warm
            )
        index = index_of[query_set.name] = indexes[key]
        split: dict[str, list[tuple[evaluate.Query, Sides]]] = {"tune": [], "test": []}
        for query in query_set.queries:
            split[evaluate.split_of(query.key)].append((query, sides_of(index, query)))
        halves[query_set.name] = split
    grid = {}
    for name, fusion in candidates(options.alphas).items():
        per_set = {
            s: float(np.mean(ndcg_of(fusion, [x for _, x in h["tune"]], [q for q, _ in h["tune"]])))
            for s, h in halves.items()
        }
        grid[name] = {"per_set": per_set, "mean": float(np.mean(list(per_set.values())))}
    best = max(grid, key=lambda n: (grid[n]["mean"], n))
    gibberish = random_letters(options.gibberish)
    results: dict[str, Any] = {}
    for name, split in halves.items():
        queries = [q for q, _ in split["test"]]
        sides = [x for _, x in split["test"]]
        index = index_of[name]
        shipped_rank = searched(index, shipped)
        per_query = {
            BM25: ndcg_of(lexical_only, sides, queries),
            DENSE: ndcg_of(dense_only, sides, queries),
            HYBRID_BEFORE: ndcg_of(
                shipped_fusion(BEFORE.method, BEFORE.alpha, BEFORE.depth), sides, queries
            ),
            f"{HYBRID_AFTER} (shipped: {shipped.method} {shipped.alpha:g}, floor)": [
                evaluate.ndcg_at_k(shipped_rank(q), q.relevance) for q in queries
            ],
            f"validation best: {best}": ndcg_of(candidates(options.alphas)[best], sides, queries),
        }
        means = {system: round(float(np.mean(v)), 4) for system, v in per_query.items()}
        better = BM25 if means[BM25] > means[DENSE] else DENSE
        results[name] = {
            "items": len({i for i, _ in sets[[s.name for s in sets].index(name)].items}),
            "queries": {half: len(pairs) for half, pairs in split.items()},
            "ndcg@10": means,
            "better_single": better,
            "against_better_single": {
                system: evaluate.paired_bootstrap(values, per_query[better])
                for system, values in per_query.items()
                if system not in (BM25, DENSE)
            },
            "floor": floor_check(index, queries, gibberish, shipped),
        }
    return {
        "command": "scripts/evaluate.py collections " + " ".join(options.argv),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "nproc": os.cpu_count(),
            "cpu": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "load_average_1m": round(os.getloadavg()[0], 2),
        },
        "model": encoder.name,
        "shipped": {
            "method": shipped.method,
            "alpha": shipped.alpha,
            "depth": shipped.depth,
            "floor": shipped.floor,
        },
        "before": {"method": BEFORE.method, "alpha": BEFORE.alpha, "depth": BEFORE.depth},
        "validation": {
            "objective": "mean over the sets of mean nDCG@10",
            "best": best,
            "grid": grid,
        },
        "results": results,
    }


def _floats(text: str) -> list[float]:
    return [float(value) for value in text.split(",")]


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The options of ``evaluate.py collections``."""
    parser = argparse.ArgumentParser(
        prog="evaluate.py collections", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--collections",
        type=Path,
        default=REPO.parent / "shared" / "data" / "eval",
        help="folder holding cranfield/ and cisi/ in BEIR's layout (default ../shared/data/eval)",
    )
    parser.add_argument("--data", type=Path, default=REPO / "data")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--people", type=int, default=3000, help="demo people (distractors)")
    parser.add_argument("--no-demo", action="store_true", help="Cranfield and CISI only")
    parser.add_argument("--alphas", type=_floats, default=[0.5, 0.6, 0.7, 0.8, 0.9])
    parser.add_argument("--gibberish", type=int, default=200, help="random-letter queries")
    parser.add_argument("--cache", type=Path, default=Path("var/eval"), help="vector cache")
    parser.add_argument("--json", type=Path, default=Path("var/eval/collections.json"))
    options = parser.parse_args(list(argv))
    options.argv = list(argv)
    return options


def run(argv: Sequence[str]) -> int:
    """Markdown on stdout, JSON to ``--json``; 0 also when every collection is absent."""
    options = parse(argv)
    report = evaluate_sets(options)
    if not report:
        print("no collection found: nothing to evaluate.", file=sys.stderr)
        return 0
    evaluate.write_report(report, options.json, markdown(report))
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    sys.exit(run(sys.argv[1:]))
