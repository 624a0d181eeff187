#!/usr/bin/env python
"""The encoder in fp32 and in int8 on the same retrieval sets, in one run.

``scripts/evaluate.py precision`` runs :func:`run`. The query sets are those of
``evaluate.py collections`` (``collections_sets.py``): Cranfield and CISI from
``--collections`` (default ``../shared/data/eval`` beside the repository), the DPG evidence
queries and the demo queries over the demo network, and ``evaluate.py retrieval``'s
``siblings`` family over the same network (each initiative excluded from its own query).
Each set is indexed twice through :class:`embeddings.search.SemanticIndex`, once with
each precision of the same model (:func:`embeddings.encoder.load_encoder` with
``precision=``), and every judged query is run against both: BM25 (the same for both: it
does not use the encoder), dense, and the shipped hybrid (``SemanticIndex.search``, floor
included). Neither precision was tuned on any of these queries, so both halves of each
set count (``--half test`` keeps the test half only).

Per set and system: mean nDCG@10 with a 95% bootstrap interval (2,000 resamples of the
queries, seed 0), and the paired difference int8 - fp32 with its interval and the
queries it wins, ties and loses. The verdict: int8 *loses beyond its interval* on a set
when the whole interval of the paired difference is below zero for dense or hybrid;
int8 may become the default only if that happens on no set. Also reported: how close
the two precisions' vectors are (cosine of each item's two vectors) and how many of
fp32's dense top 10 int8 keeps. Vectors are cached per precision under ``--cache``.

A third configuration keeps the items' fp32 vectors and encodes only the queries in
int8 (what a search pays for per request), compared with fp32 by the same rule.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import evaluate
import numpy as np
from collections_sets import load_sets
from evaluate_collections import dense_only, lexical_only, searched, sides_of

from embeddings.encoder import BATCH_SIZE, Encoder, load_encoder
from embeddings.options import RankingOptions
from embeddings.quantize import PRECISIONS, Precision
from embeddings.search import SemanticIndex

REPO = Path(__file__).resolve().parents[1]
K = evaluate.K_TOP
BM25, DENSE, HYBRID = "BM25", "dense", "hybrid"


def bootstrap_mean(
    values: Sequence[float], *, rounds: int = 2000, seed: int = 0
) -> dict[str, float]:
    """Mean with a 95% percentile interval over resampled queries."""
    array = np.asarray(values, dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = array[rng.integers(0, array.size, size=(rounds, array.size))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return {
        "mean": round(float(array.mean()), 4),
        "ci95_low": round(float(low), 4),
        "ci95_high": round(float(high), 4),
    }


def build_index(
    items: Sequence[tuple[str, str]],
    queries: Sequence[str],
    encoder: Encoder,
    cache: Path,
    warm: Sequence[list[str]] = (),
    query_encoder: Encoder | None = None,
) -> SemanticIndex:
    """The index of the items, encoded in the length-sorted calls the indexer makes
    (``embeddings.encoder.BATCH_SIZE``), with each query's vector encoded alone, as the
    service encodes a search.

    In int8 a text's vector depends a little on the other texts of its call (ONNX
    Runtime quantizes a call's activations with one scale), so a query encoded among
    others would not be the query a user sends, and the items' cached vectors are kept
    per size of call. Vectors are cached under ``cache``.
    ``query_encoder``: the queries encoded by this one instead (int8 queries over fp32
    items).
    """
    memo = evaluate.MemoEncoder(encoder)
    calls = f"{encoder.name}-calls{BATCH_SIZE}"
    for texts in warm:
        memo.load(evaluate.cache_path(cache, calls, texts), texts)
    texts = [t for _, t in items]
    evaluate.encode_cached(memo, evaluate.cache_path(cache, calls, texts), texts)
    index = SemanticIndex(memo)
    index.upsert(items)  # before the queries' vectors join the memo: a query may be an item
    alone = list(dict.fromkeys(queries))
    asking = query_encoder or encoder
    path = evaluate.cache_path(cache, f"{asking.name}-alone", alone)
    if not path.is_file():
        vectors = np.stack([asking.encode([text])[0] for text in alone])
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors, allow_pickle=False)
    memo.load(path, alone)
    return index


def per_query(index: SemanticIndex, queries: Sequence[evaluate.Query]) -> dict[str, Any]:
    """nDCG@10 per query of each system, and each query's dense top 10."""
    sides = [sides_of(index, q) for q in queries]
    hybrid = searched(index, RankingOptions())
    pairs = list(zip(sides, queries, strict=True))
    return {
        BM25: [evaluate.ndcg_at_k(lexical_only(s, K), q.relevance) for s, q in pairs],
        DENSE: [evaluate.ndcg_at_k(dense_only(s, K), q.relevance) for s, q in pairs],
        HYBRID: [evaluate.ndcg_at_k(hybrid(q), q.relevance) for q in queries],
        "top10": [dense_only(s, K) for s in sides],
    }


def closeness(indexes: Mapping[str, SemanticIndex], texts: Sequence[str]) -> dict[str, float]:
    """Cosine of each text's fp32 and int8 vectors (both already encoded: memo hits)."""
    first, second = (indexes[p].encoder.encode(texts) for p in PRECISIONS)
    cosines = np.sum(first * second, axis=1)
    return {
        "mean": round(float(cosines.mean()), 4),
        "p1": round(float(np.percentile(cosines, 1)), 4),
        "min": round(float(cosines.min()), 4),
    }


def evaluate_sets(options: argparse.Namespace) -> dict[str, Any]:
    """Both precisions on every set: figures, paired differences and the verdict."""
    sets = [
        s for s in load_sets(options, siblings=True) if not options.only or s.name in options.only
    ]
    if not sets:
        return {}
    encoders = {p: load_encoder(precision=p) for p in PRECISIONS}
    built: dict[tuple[int, Precision], SemanticIndex] = {}
    results: dict[str, Any] = {}
    for query_set in sets:
        queries = [
            q
            for q in query_set.queries
            if options.half == "all" or evaluate.split_of(q.key) == "test"
        ]
        indexes: dict[str, SemanticIndex] = {}
        for precision, encoder in encoders.items():
            key = (id(query_set.items), precision)
            if key not in built:
                texts = [q.text for s in sets if s.items is query_set.items for q in s.queries]
                warm = query_set.warm if precision == "fp32" else ()
                built[key] = build_index(query_set.items, texts, encoder, options.cache, warm)
            indexes[precision] = built[key]
        mixed_key = (id(query_set.items), "int8-queries")
        if mixed_key not in built:
            texts = [q.text for s in sets if s.items is query_set.items for q in s.queries]
            built[mixed_key] = build_index(query_set.items, texts, encoders["fp32"],
                                           options.cache, query_set.warm,
                                           query_encoder=encoders["int8"])  # fmt: skip
        runs = {p: per_query(index, queries) for p, index in indexes.items()}
        mixed = per_query(built[mixed_key], queries)
        mixed_paired = {
            s: evaluate.paired_bootstrap(mixed[s], runs["fp32"][s]) for s in (DENSE, HYBRID)
        }
        figures = {
            p: {s: bootstrap_mean(run[s]) for s in (BM25, DENSE, HYBRID)} for p, run in runs.items()
        }
        paired = {
            s: evaluate.paired_bootstrap(runs["int8"][s], runs["fp32"][s]) for s in (DENSE, HYBRID)
        }
        kept = [
            len(set(a) & set(b)) / K
            for a, b in zip(runs["fp32"]["top10"], runs["int8"]["top10"], strict=True)
        ]
        results[query_set.name] = {
            "items": len(query_set.items),
            "queries": len(queries),
            "ndcg@10": figures,
            "int8_minus_fp32": paired,
            "loses_beyond_interval": [s for s, d in paired.items() if d["ci95_high"] < 0],
            "within_fp32_interval": {
                s: abs(d["mean"])
                <= (figures["fp32"][s]["ci95_high"] - figures["fp32"][s]["ci95_low"]) / 2
                for s, d in paired.items()
            },
            "int8_queries": {
                "ndcg@10": {s: bootstrap_mean(mixed[s]) for s in (DENSE, HYBRID)},
                "minus_fp32": mixed_paired,
                "loses_beyond_interval": [s for s, d in mixed_paired.items() if d["ci95_high"] < 0],
            },
            "dense_top10_kept": round(float(np.mean(kept)), 4),
            "item_cosine": closeness(indexes, [t for _, t in query_set.items]),
        }
    losing = {
        name: r["loses_beyond_interval"]
        for name, r in results.items()
        if r["loses_beyond_interval"]
    }
    queries_losing = {
        name: r["int8_queries"]["loses_beyond_interval"]
        for name, r in results.items()
        if r["int8_queries"]["loses_beyond_interval"]
    }
    return {
        "command": "scripts/evaluate.py precision " + " ".join(options.argv),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "nproc": os.cpu_count(),
            "cpu": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "load_average_1m": round(os.getloadavg()[0], 2),
        },
        "encoders": {p: e.name for p, e in encoders.items()},
        "half": options.half,
        "results": results,
        "verdict": {
            "rule": "int8 may be the default only if on no set the 95% interval of "
            "int8 - fp32 (nDCG@10, dense or hybrid) lies wholly below zero",
            "int8_acceptable": not losing,
            "losing": losing,
            "int8_queries_acceptable": not queries_losing,
            "int8_queries_losing": queries_losing,
        },
    }


def markdown(report: Mapping[str, Any]) -> str:
    """One table per set, then the verdict."""
    lines = [f"Encoders: {report['encoders']['fp32']} and {report['encoders']['int8']}; "
             f"queries: {report['half']}."]  # fmt: skip
    for name, result in report["results"].items():
        cos = result["item_cosine"]
        lines += [
            "",
            f"**{name}** ({result['queries']} queries, {result['items']:,} items; item cosine "
            f"fp32-int8 mean {cos['mean']:.3f}, min {cos['min']:.3f}; dense top 10 kept "
            f"{result['dense_top10_kept']:.2f})",
            "",
            "| system | fp32 nDCG@10 (95% CI) | int8 nDCG@10 (95% CI) | int8 - fp32 (95% CI) "
            "| wins/ties/losses |",
            "|---|---:|---:|---:|---:|",
        ]
        for system in (BM25, DENSE, HYBRID):
            cells = [
                f"{f['mean']:.3f} ({f['ci95_low']:.3f}-{f['ci95_high']:.3f})"
                for f in (result["ndcg@10"][p][system] for p in PRECISIONS)
            ]
            diff = result["int8_minus_fp32"].get(system)
            if diff is None:
                cells += ["0 (same ranking)", ""]
            else:
                cells += [
                    f"{diff['mean']:+.3f} ({diff['ci95_low']:+.3f} to {diff['ci95_high']:+.3f})",
                    f"{diff['wins']}/{diff['ties']}/{diff['losses']}",
                ]
            lines.append(f"| {system} | " + " | ".join(cells) + " |")
        queries = result["int8_queries"]
        for system in (DENSE, HYBRID):
            f, d = queries["ndcg@10"][system], queries["minus_fp32"][system]
            lines.append(
                f"| {system}, int8 queries over fp32 items | "
                f"{result['ndcg@10']['fp32'][system]['mean']:.3f} | "
                f"{f['mean']:.3f} ({f['ci95_low']:.3f}-{f['ci95_high']:.3f}) | "
                f"{d['mean']:+.3f} ({d['ci95_low']:+.3f} to {d['ci95_high']:+.3f}) | "
                f"{d['wins']}/{d['ties']}/{d['losses']} |"
            )
    verdict = report["verdict"]
    lines += [
        "",
        f"Verdict ({verdict['rule']}): "
        + (
            "int8 acceptable."
            if verdict["int8_acceptable"]
            else f"int8 loses: {verdict['losing']}."
        )
        + (
            " int8 queries over fp32 items acceptable."
            if verdict["int8_queries_acceptable"]
            else f" int8 queries over fp32 items lose: {verdict['int8_queries_losing']}."
        ),
    ]
    return "\n".join(lines)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The options of ``evaluate.py precision``."""
    parser = argparse.ArgumentParser(
        prog="evaluate.py precision", description=__doc__.splitlines()[0]
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
    parser.add_argument(
        "--only", type=lambda text: text.split(","), default=[], help="these sets (e.g. cisi,dpg)"
    )
    parser.add_argument("--half", choices=("all", "test"), default="all", help="which queries")
    parser.add_argument("--cache", type=Path, default=Path("var/eval"), help="vector cache")
    parser.add_argument("--json", type=Path, default=Path("var/eval/precision.json"))
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
