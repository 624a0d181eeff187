#!/usr/bin/env python
"""Near-duplicate detection in the Wisdom Book, measured on the demo's generated duplicates.

The demo generator (:mod:`graph.demo.wisdom`) re-files about 2% of its entries: entry
``k`` (from ``k = 10``) is a near-duplicate when the first draw of
``random.Random(f"{seed}:wisdom:{k}")`` falls under ``DUPLICATE_SHARE``; the next draw,
``randrange(k)``, names the earlier entry it copies (with a revised title and a few
words changed). This script rebuilds that ground truth from the same draws and checks
it against the titles (a re-filed title is one of ``REVISED_TITLES`` around the
original's). Entries copied from one another, directly or through a chain, form a
group; a pair of entries in one group is a true near-duplicate pair.

Each entry is then asked for its near-duplicates exactly as ``POST /v1/wisdom/related``
does (:mod:`graph.editorial.related`): the ``DUPLICATE_DEPTH`` entries closest in
meaning are checked for word resemblance against ``NEAR_DUPLICATE``. Two ways of
asking are measured:

- ``filed``: by the entry's id, with the stored vector of its indexed text;
- ``draft``: as a draft ``{title, body}`` pasted by an editor, encoded afresh, the
  entry itself excluded from the candidates.

Reported per mode: precision and recall over pairs (a pair counts once, whichever
side asked), the recall of the candidate step alone, the lowest resemblance of a true
pair and the highest of a false one among the candidates, a sweep of thresholds, and
the best that a threshold on text similarity alone achieves (the baseline that word
resemblance has to beat). Prints Markdown; writes JSON.

    .venv/bin/python scripts/evaluate_duplicates.py [--people 36000] [--seed 7] [--json PATH]
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import random
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from wisdom_eval import KnownVectors, add_demo_options, encode_cached

from embeddings.encoder import load_encoder
from embeddings.tokenize import tokens
from graph.demo import demo_records
from graph.demo.wisdom import DUPLICATE_SHARE
from graph.demo.wisdom_text import REVISED_TITLES
from graph.editorial.related import (
    DUPLICATE_DEPTH,
    NEAR_DUPLICATE,
    Draft,
    nearest_entries,
    wording_resemblance,
)
from graph.model import Node, WisdomEntry
from graph.similarity import VectorSimilarity
from graph.texts import node_text

Pair = frozenset[str]
# Each body is compared with many drafts: tokenise it once (the service tokenises per request).
_tokens = functools.lru_cache(maxsize=20_000)(tokens)
SWEEP = tuple(round(0.30 + 0.05 * i, 2) for i in range(14))  # 0.30 .. 0.95


def duplicate_sources(entries: int, seed: int) -> dict[int, int]:
    """Entry index -> the index of the entry it copies, replaying the generator's draws."""
    sources = {}
    for k in range(10, entries):
        rng = random.Random(f"{seed}:wisdom:{k}")
        if rng.random() < DUPLICATE_SHARE:
            sources[k] = rng.randrange(k)
    return sources


def check_titles(entries: Sequence[WisdomEntry], sources: dict[int, int]) -> None:
    """Fail loudly if the replayed draws do not match the titles (the generator changed)."""
    for k, base in sources.items():
        revised = {form.format(entries[base].name) for form in REVISED_TITLES}
        if entries[k].name not in revised:
            raise SystemExit(
                f"entry {k} ('{entries[k].name}') is not a re-filed copy of entry {base} "
                f"('{entries[base].name}'): the demo generator changed; update this script"
            )


def true_pairs(ids: Sequence[str], sources: dict[int, int]) -> set[Pair]:
    """Every pair of entries in one copy group."""
    root = list(range(len(ids)))

    def find(k: int) -> int:
        while root[k] != k:
            k = root[k]
        return k

    for k, base in sources.items():
        root[find(k)] = find(base)
    groups: dict[int, list[str]] = {}
    for k, entry_id in enumerate(ids):
        groups.setdefault(find(k), []).append(entry_id)
    return {
        frozenset({a, b}) for members in groups.values() for a in members for b in members if a < b
    }


def candidates(
    mode: str, entries: Sequence[WisdomEntry], similarity: VectorSimilarity
) -> dict[str, list[tuple[str, float, float]]]:
    """For each entry: its DUPLICATE_DEPTH closest entries with (cosine, resemblance)."""
    by_id: dict[str, Node] = {e.id: e for e in entries}
    ids = [e.id for e in entries]
    found = {}
    for entry in entries:
        if mode == "filed":
            draft = Draft.filed(entry)
            among = ids
        else:  # a draft is not in the book yet: the entry itself is no candidate
            draft = Draft.written(entry.name, entry.body)
            among = ids
        ranked = nearest_entries(similarity, draft, DUPLICATE_DEPTH + 1, among)
        ranked = [pair for pair in ranked if pair[0] != entry.id][:DUPLICATE_DEPTH]
        wording = wording_resemblance(draft, ranked, by_id, _tokens)
        found[entry.id] = [(other, cos, wording[other]) for other, cos in ranked]
    return found


def scores_at(found: dict[str, list[tuple[str, float, float]]], truth: set[Pair],
              threshold: float, column: int) -> dict[str, float]:  # fmt: skip
    """Precision, recall and F1 over pairs when ``column`` (1 cosine, 2 wording) >= threshold."""
    predicted = {
        frozenset({asker, other})
        for asker, rows in found.items()
        for other, *values in rows
        if values[column - 1] >= threshold
    }
    hit = len(predicted & truth)
    precision = hit / len(predicted) if predicted else 1.0
    recall = hit / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "threshold": threshold, "predicted": len(predicted), "correct": hit,
        "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
    }  # fmt: skip


Found = dict[str, list[tuple[str, float, float]]]


def evaluate_mode(found: Found, truth: set[Pair]) -> dict[str, Any]:
    pairs = {frozenset({a, o}): (cos, w) for a, rows in found.items() for o, cos, w in rows}
    reached = truth & pairs.keys()
    true_wording = [pairs[p][1] for p in reached]
    false_wording = [w for p, (_, w) in pairs.items() if p not in truth]
    cosines = sorted({round(cos, 4) for cos, _ in pairs.values()})
    by_cosine = max(
        (scores_at(found, truth, c, 1) for c in cosines[-400:]),
        key=lambda row: (row["f1"], row["threshold"]),
    )
    return {
        "shipped": scores_at(found, truth, NEAR_DUPLICATE, 2),
        "candidate_recall": round(len(reached) / len(truth), 4) if truth else 1.0,
        "lowest_true_resemblance": round(min(true_wording), 4) if true_wording else None,
        "highest_false_resemblance": round(max(false_wording), 4) if false_wording else None,
        "sweep": [scores_at(found, truth, t, 2) for t in SWEEP],
        "best_by_text_similarity": by_cosine,
    }


def markdown(report: dict[str, Any]) -> Iterable[str]:
    yield (f"Near-duplicates: {report['entries']} entries, {report['duplicates']} re-filed, "
           f"{report['true_pairs']} true pairs; threshold {report['threshold']} on word "
           f"resemblance, {report['depth']} closest entries checked.")  # fmt: skip
    yield ""
    yield "| mode | precision | recall | F1 | candidate recall | lowest true | highest false |"
    yield "|---|---|---|---|---|---|---|"
    for mode, row in report["modes"].items():
        s = row["shipped"]
        yield (f"| {mode} | {s['precision']} | {s['recall']} | {s['f1']} | "
               f"{row['candidate_recall']} | {row['lowest_true_resemblance']} | "
               f"{row['highest_false_resemblance']} |")  # fmt: skip
    yield ""
    yield "Threshold sweep (draft mode), and the best threshold on text similarity alone:"
    yield ""
    yield "| resemblance >= | precision | recall | F1 |"
    yield "|---|---|---|---|"
    for row in report["modes"]["draft"]["sweep"]:
        yield f"| {row['threshold']} | {row['precision']} | {row['recall']} | {row['f1']} |"
    for mode, row in report["modes"].items():
        b = row["best_by_text_similarity"]
        yield ""
        yield (f"{mode}: text similarity >= {b['threshold']} gives precision {b['precision']}, "
               f"recall {b['recall']}, F1 {b['f1']}.")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_demo_options(parser, people=36_000, report="duplicates.json")
    args = parser.parse_args(argv)  # fmt: skip

    started = time.perf_counter()
    entries = [r for r in demo_records(args.data, seed=args.seed, people=args.people)
               if isinstance(r, WisdomEntry)]  # fmt: skip
    sources = duplicate_sources(len(entries), args.seed)
    check_titles(entries, sources)
    ids = [e.id for e in entries]
    truth = true_pairs(ids, sources)

    encoder = load_encoder()
    stored = encode_cached(
        encoder, [node_text(e) for e in entries], args.cache, prefix="duplicates"
    )
    draft_texts = [Draft.written(e.name, e.body).text for e in entries]
    drafts = encode_cached(encoder, draft_texts, args.cache, prefix="duplicates")
    similarity = VectorSimilarity(
        dict(zip(ids, stored, strict=True)), encoder=KnownVectors(draft_texts, drafts)
    )
    modes = {
        mode: evaluate_mode(candidates(mode, entries, similarity), truth)
        for mode in ("filed", "draft")
    }
    report = {
        "entries": len(entries), "duplicates": len(sources), "true_pairs": len(truth),
        "people": args.people, "seed": args.seed, "threshold": NEAR_DUPLICATE,
        "depth": DUPLICATE_DEPTH, "encoder": encoder.name, "modes": modes,
        "seconds": round(time.perf_counter() - started, 1),
        "python": platform.python_version(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }  # fmt: skip
    print("\n".join(markdown(report)))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
