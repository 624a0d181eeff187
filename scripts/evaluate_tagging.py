#!/usr/bin/env python
"""Tagging quality on the held-out DPG initiatives: the tagger against a zero-shot baseline.

How the tagger works and how the split is made: :mod:`embeddings.tagging` and
:mod:`embeddings.tagging_inputs`. The held-out initiatives are never used to fit or tune
anything; this script only measures on them.

- Zero-shot baseline: the same encoder; a goal's score is the best cosine of the text
  with the goal's title or one of its targets' titles. No indicators, no Aurora
  keywords, no labelled examples.
- Decision rule (both): tag every goal whose score reaches a threshold, and always the
  top one. The tagger's threshold is on calibrated confidence, chosen on out-of-fold
  training predictions; the baseline's is on the cosine, chosen (the same way, for
  micro-F1) on the training split, so the baseline is not handicapped by a guess.
- Metrics: micro-F1; macro-F1, the mean F1 over goals labelled or predicted at least
  once among the held-out texts; top-1 (the top goal is labelled) and top-3 (a labelled
  goal is among the top three) accuracy.
- Per goal (how SDG classifiers are compared): each goal is a yes/no decision for each
  held-out text; binary accuracy, balanced accuracy (the mean of the hit rates on the
  texts with and without the goal) and F1 are computed per goal and averaged over the
  17 goals. Each system's thresholds are tuned on the training texts for each of the
  three in turn (the baseline once with one threshold, once with one per goal; the
  tagger with one threshold on its out-of-fold confidences), and the shipped
  ``suggested`` flag is scored as it is. 95% intervals: 2,000 bootstrap resamples of
  the held-out texts (seed 0), paired for the differences.
- Calibration: the reliability of the tagger's confidence over the five goals shown
  per text (ten equal-width bins; ECE is the count-weighted gap), and Brier score and
  ECE over all 17 goals per text.
- Sectors: held-out initiatives whose DPG sector labels map to our sectors; the
  baseline ranks sectors by the cosine with "name. description".

    .venv/bin/python scripts/evaluate_tagging.py [--data DIR] [--cache DIR] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.calibration import (
    Flags,
    Floats,
    best_threshold,
    brier_score,
    decide,
    expected_calibration_error,
    macro_f1,
    micro_f1,
    reliability,
)
from embeddings.encoder import Encoder, load_encoder
from embeddings.ranking import Matrix
from embeddings.tagging import Tagger
from embeddings.tagging_features import encode_cached
from embeddings.tagging_inputs import (
    LabelledText,
    TaggingReference,
    load_reference,
    shipped_split,
)
from embeddings.tagging_results import Suggestions

REPO = Path(__file__).resolve().parents[1]
SHOWN = 5  # suggestions a user sees per text


def ranking_metrics(scores: Floats, truth: Flags, threshold: float) -> dict[str, float]:
    """Micro/macro-F1 under the decision rule, top-1 and top-3 accuracy, tags per text."""
    chosen = decide(scores, threshold)
    order = np.argsort(-scores, axis=1, kind="stable")
    hits = np.take_along_axis(truth, order, axis=1)
    return {
        "micro_f1": round(micro_f1(chosen, truth), 4),
        "macro_f1": round(macro_f1(chosen, truth), 4),
        "top1": round(float(hits[:, 0].mean()), 4),
        "top3": round(float(hits[:, :3].any(axis=1).mean()), 4),
        "tags_per_text": round(float(chosen.sum(axis=1).mean()), 3),
        "threshold": threshold,
    }


def zero_shot_sdg(encoder: Encoder, data_dir: Path, texts: Sequence[str], cache: Path) -> Floats:
    """Per goal, the best cosine of each text with the goal's title or its targets' titles."""
    goals = json.loads((data_dir / "sdg" / "goals.json").read_text(encoding="utf-8"))
    targets = json.loads((data_dir / "sdg" / "targets.json").read_text(encoding="utf-8"))
    titles = [(int(g["number"]), g["title"]) for g in goals]
    titles += [(int(t["goal"]), t["title"]) for t in targets]
    reference = encode_cached(encoder, [title for _, title in titles], cache)
    owner = np.array([goal - 1 for goal, _ in titles])
    cosines = encode_cached(encoder, texts, cache) @ reference.T
    return np.stack([cosines[:, owner == g].max(axis=1) for g in range(17)], axis=1)


GOAL_METRICS = ("accuracy", "balanced_accuracy", "f1")
OBJECTIVES = GOAL_METRICS  # what a decision threshold is tuned for, on training texts


def chosen_goals(scores: Floats, thresholds: Floats) -> Flags:
    """Goals at or above their threshold, and always each text's top goal."""
    chosen = scores >= thresholds
    chosen[np.arange(len(scores)), np.argmax(scores, axis=1)] = True
    return chosen


def goal_scores(chosen: Flags, truth: Flags, weights: Floats | None = None) -> dict[str, Floats]:
    """Per-goal binary accuracy, balanced accuracy and F1, each averaged over the goals.

    ``weights`` (rounds x texts) counts how often each text is drawn in each bootstrap
    round; the result then has one mean per round. A goal with no labelled text (balanced
    accuracy) or with neither labels nor tags (F1) in a sample is left out of that mean.
    """
    w = np.ones((1, len(truth))) if weights is None else np.asarray(weights, dtype=np.float64)
    hit, miss = chosen & truth, ~chosen & truth
    tp, fn = w @ hit, w @ miss
    fp, tn = w @ (chosen & ~truth), w @ (~chosen & ~truth)
    total = tp + fn + fp + tn
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = (tp + tn) / total
        balanced = (tp / (tp + fn) + tn / (tn + fp)) / 2
        f1 = 2 * tp / (2 * tp + fp + fn)
    return {
        "accuracy": np.nanmean(accuracy, axis=1),
        "balanced_accuracy": np.nanmean(balanced, axis=1),
        "f1": np.nanmean(f1, axis=1),
    }


def tuned_thresholds(scores: Floats, truth: Flags, objective: str, *, per_goal: bool) -> Floats:
    """Thresholds (one per goal) that maximise the mean per-goal ``objective`` on these texts.

    Candidates are 101 quantiles of the scores; with ``per_goal`` each goal gets its own
    (the top goal is always chosen, so the goals do not interact). Ties: the higher one.
    """
    candidates = np.unique(np.quantile(scores, np.linspace(0.0, 1.0, 101)))
    top = np.zeros(scores.shape, dtype=bool)
    top[np.arange(len(scores)), np.argmax(scores, axis=1)] = True
    goals = scores.shape[1]
    values = np.zeros((len(candidates), goals))  # objective per candidate and goal
    for i, t in enumerate(candidates):
        chosen = (scores >= t) | top
        tp = (chosen & truth).sum(axis=0)
        fp, fn = (chosen & ~truth).sum(axis=0), (~chosen & truth).sum(axis=0)
        if objective == "accuracy":
            values[i] = 1 - (fp + fn) / len(scores)
        elif objective == "balanced_accuracy":
            positives, negatives = np.maximum(tp + fn, 1), np.maximum(len(scores) - tp - fn, 1)
            values[i] = (tp / positives + 1 - fp / negatives) / 2
        else:
            values[i] = np.where(2 * tp + fp + fn > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0)
    if per_goal:
        best = [
            max(range(len(candidates)), key=lambda i: (round(values[i, g], 9), i))
            for g in range(goals)
        ]
        return np.asarray(candidates[best], dtype=np.float64)
    mean = values.mean(axis=1)
    best_one = max(range(len(candidates)), key=lambda i: (round(float(mean[i]), 9), i))
    return np.full(goals, float(candidates[best_one]))


def bootstrap_weights(texts: int, *, rounds: int = 2000, seed: int = 0) -> Floats:
    """How often each text is drawn (rounds x texts) when resampling texts with replacement."""
    draws = np.random.default_rng(seed).integers(0, texts, size=(rounds, texts))
    weights = np.zeros((rounds, texts))
    np.add.at(weights, (np.arange(rounds)[:, None], draws), 1.0)
    return weights


def _interval(values: Floats) -> list[float]:
    low, high = np.nanpercentile(values, [2.5, 97.5])
    return [round(float(low), 4), round(float(high), 4)]


def goal_row(chosen: Flags, truth: Flags, weights: Floats) -> dict[str, Any]:
    """One system's mean per-goal metrics, each with a 95% bootstrap interval."""
    point, sampled = goal_scores(chosen, truth), goal_scores(chosen, truth, weights)
    row: dict[str, Any] = {"tags_per_text": round(float(chosen.sum(axis=1).mean()), 3)}
    for metric in GOAL_METRICS:
        row[metric] = round(float(point[metric][0]), 4)
        row[f"{metric}_ci95"] = _interval(sampled[metric])
    return row


def goal_difference(a: Flags, b: Flags, truth: Flags, weights: Floats) -> dict[str, Any]:
    """System a minus system b on each mean per-goal metric, with a paired 95% interval."""
    point_a, point_b = goal_scores(a, truth), goal_scores(b, truth)
    sampled_a, sampled_b = goal_scores(a, truth, weights), goal_scores(b, truth, weights)
    return {
        metric: {
            "mean": round(float(point_a[metric][0] - point_b[metric][0]), 4),
            "ci95": _interval(sampled_a[metric] - sampled_b[metric]),
        }
        for metric in GOAL_METRICS
    }


def per_goal_report(
    zero_shot: tuple[Floats, Floats],
    tagger: tuple[Floats, Floats],
    train_truth: Flags,
    truth: Flags,
    *,
    shipped: float,
) -> dict[str, Any]:
    """Per-goal binary metrics of the zero-shot baseline and the tagger on held-out texts.

    Each pair is (training scores, held-out scores); the tagger's training scores are its
    out-of-fold confidences. For each objective, every system's thresholds are tuned on
    the training texts only; the held-out texts are only scored.
    """
    weights = bootstrap_weights(len(truth))
    out: dict[str, Any] = {"texts": len(truth), "bootstrap_rounds": len(weights)}
    nothing = np.zeros(truth.shape, dtype=bool)
    for objective in OBJECTIVES:
        thresholds = {
            "zero-shot, one threshold": (zero_shot, False),
            "zero-shot, a threshold per goal": (zero_shot, True),
            "tagger, one threshold": (tagger, False),
        }
        chosen = {
            name: chosen_goals(held, tuned_thresholds(train, train_truth, objective, per_goal=each))
            for name, ((train, held), each) in thresholds.items()
        }
        rows = {name: goal_row(c, truth, weights) for name, c in chosen.items()}
        out[objective] = {
            "systems": rows,
            "tagger_minus": {
                name: goal_difference(chosen["tagger, one threshold"], c, truth, weights)
                for name, c in chosen.items()
                if name.startswith("zero-shot")
            },
        }
    shipped_flags = chosen_goals(tagger[1], np.full(truth.shape[1], shipped))
    out["shipped"] = {
        "threshold": shipped,
        "tagger, suggested flag": goal_row(shipped_flags, truth, weights),
        "no goal at all": goal_row(nothing, truth, weights),
    }
    return out


def confidences(suggestions: list[Suggestions], sectors: Sequence[str]) -> tuple[Floats, Floats]:
    """The tagger's confidence for every goal and every sector, text by text."""
    sdg = np.zeros((len(suggestions), 17))
    sector = np.zeros((len(suggestions), len(sectors)))
    for i, found in enumerate(suggestions):
        for s in found.sdgs:
            sdg[i, s.goal - 1] = s.confidence
        for t in found.sectors:
            sector[i, sectors.index(t.slug)] = t.confidence
    return sdg, sector


def calibration(scores: Floats, truth: Flags) -> dict[str, Any]:
    """Reliability over the goals shown per text, and ECE and Brier over all of them."""
    order = np.argsort(-scores, axis=1, kind="stable")[:, :SHOWN]
    shown = np.take_along_axis(scores, order, axis=1).ravel()
    right = np.take_along_axis(truth, order, axis=1).ravel()
    return {
        "shown_per_text": SHOWN,
        "ece_shown": round(expected_calibration_error(shown, right), 4),
        "brier_shown": round(brier_score(shown, right), 4),
        "ece_all": round(expected_calibration_error(scores.ravel(), truth.ravel()), 4),
        "brier_all": round(brier_score(scores.ravel(), truth.ravel()), 4),
        "reliability_shown": [
            {
                "bin": f"{b.low:.1f}-{b.high:.1f}",
                "count": b.count,
                "mean_confidence": round(b.mean_confidence, 3),
                "observed": round(b.observed, 3),
            }
            for b in reliability(shown, right)
        ],
    }


def sector_report(
    tagger: Tagger,
    reference: TaggingReference,
    training: Sequence[LabelledText],
    held_out: Sequence[LabelledText],
    scores: Floats,
    cache: Path,
) -> dict[str, Any]:
    """Sector figures on the held-out texts that carry a mapped DPG sector label."""
    slugs = [s.slug for s in reference.sectors]
    described = [f"{s.name}. {s.description}" for s in reference.sectors]
    sectors = encode_cached(tagger.encoder, described, cache)

    def labelled(examples: Sequence[LabelledText]) -> tuple[list[int], Flags, Floats]:
        rows = [i for i, e in enumerate(examples) if e.sectors]
        truth = np.array([[s in examples[i].sectors for s in slugs] for i in rows], dtype=bool)
        vectors = encode_cached(tagger.encoder, [examples[i].text for i in rows], cache)
        return rows, truth, (vectors @ sectors.T).astype(np.float64)

    _, train_truth, train_cosines = labelled(training)
    rows, truth, cosines = labelled(held_out)
    return {
        "texts": len(rows),
        "labels": {s: int(truth[:, j].sum()) for j, s in enumerate(slugs) if truth[:, j].any()},
        "zero_shot": ranking_metrics(cosines, truth, best_threshold(train_cosines, train_truth)),
        "tagger": ranking_metrics(scores[rows], truth, tagger.thresholds[1]),
        "calibration": calibration(scores[rows], truth),
    }


def timings(tagger: Tagger, texts: Sequence[str], vectors: Matrix) -> dict[str, float]:
    """Median and 90th-percentile milliseconds of one suggest(), of encoding one text, and
    of one suggest_vector(); interleaved text by text, so a busy CPU slows all three alike.
    """
    calls: dict[str, Callable[[int], object]] = {
        "suggest": lambda i: tagger.suggest(texts[i]),
        "encode": lambda i: tagger.encoder.encode([texts[i]]),
        "suggest_vector": lambda i: tagger.suggest_vector(vectors[i], texts[i]),
    }
    spent: dict[str, list[float]] = {name: [] for name in calls}
    for i in range(len(texts)):
        for name, call in calls.items():
            started = time.perf_counter()
            call(i)
            spent[name].append(1000 * (time.perf_counter() - started))
    out = {}
    for name, values in spent.items():
        out[f"{name}_median_ms"] = round(statistics.median(values), 2)
        out[f"{name}_p90_ms"] = round(sorted(values)[int(0.9 * (len(values) - 1))], 2)
    return out


def evaluate(data_dir: Path, encoder: Encoder, cache: Path) -> dict[str, Any]:
    """Fit on the training split, measure on the held-out split; the report as a dict."""
    reference = load_reference(data_dir)
    training, held_out = shipped_split(data_dir)
    cold = not any(cache.glob("tagging-vectors-*.npz"))
    started = time.perf_counter()
    tagger = Tagger.fit(encoder, reference, training, cache=cache)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    Tagger.fit(encoder, reference, training, cache=cache)  # every vector is cached now
    refit_seconds = time.perf_counter() - started

    texts = [e.text for e in held_out]
    vectors = encode_cached(encoder, texts, cache)
    sectors = [s.slug for s in reference.sectors]
    suggestions = tagger.suggest_many(texts, top=17, vectors=vectors)
    sdg, sector = confidences(suggestions, sectors)
    truth = np.array([[g in e.sdgs for g in range(1, 18)] for e in held_out])
    train_truth = np.array([[g in e.sdgs for g in range(1, 18)] for e in training])
    train_zero_shot = zero_shot_sdg(encoder, data_dir, [e.text for e in training], cache)
    held_zero_shot = zero_shot_sdg(encoder, data_dir, texts, cache)
    baseline_threshold = best_threshold(train_zero_shot, train_truth)
    per_goal = per_goal_report(
        (train_zero_shot, held_zero_shot),
        (tagger.training_confidence[0], sdg),
        train_truth,
        truth,
        shipped=tagger.thresholds[0],
    )
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "encoder": encoder.name,
        "split": {"training": len(training), "held_out": len(held_out)},
        "sdg": {
            "labels_per_text": round(float(truth.sum(axis=1).mean()), 3),
            "per_goal": per_goal,
            "zero_shot": ranking_metrics(held_zero_shot, truth, baseline_threshold),
            "tagger": ranking_metrics(sdg, truth, tagger.thresholds[0]),
            "calibration": calibration(sdg, truth),
        },
        "sector": sector_report(tagger, reference, training, held_out, sector, cache),
        "speed": {
            "fit_seconds": round(fit_seconds, 2),
            "cache": "cold" if cold else "warm",
            "refit_cached_seconds": round(refit_seconds, 2),
            **timings(tagger, texts[:30], vectors[:30]),
        },
    }


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown tables."""
    sdg, sector, speed = report["sdg"], report["sector"], report["speed"]
    columns = ("micro_f1", "macro_f1", "top1", "top3", "tags_per_text", "threshold")
    head = "| system | micro-F1 | macro-F1 | top-1 | top-3 | tags/text | threshold |"
    rule = "|---|---:|---:|---:|---:|---:|---:|"

    def table(rows: dict[str, dict[str, float]]) -> list[str]:
        lines = [head, rule]
        for name, row in rows.items():
            lines.append(f"| {name} | " + " | ".join(f"{row[c]:g}" for c in columns) + " |")
        return lines

    split = report["split"]
    cal = sdg["calibration"]
    lines = [
        f"## SDG tags: {split['held_out']} held-out DPG initiatives "
        f"(trained on {split['training']}; {sdg['labels_per_text']} labelled SDGs per text)",
        "",
        *table({"zero-shot (goal + target titles)": sdg["zero_shot"], "tagger": sdg["tagger"]}),
        "",
        f"Calibration of the {cal['shown_per_text']} goals shown per text: "
        f"ECE {cal['ece_shown']}, Brier {cal['brier_shown']}; over all 17 goals: "
        f"ECE {cal['ece_all']}, Brier {cal['brier_all']}.",
        "",
        "| confidence | suggestions | mean confidence | labelled |",
        "|---|---:|---:|---:|",
        *(
            f"| {b['bin']} | {b['count']} | {b['mean_confidence']:.3f} | {b['observed']:.3f} |"
            for b in cal["reliability_shown"]
        ),
        "",
        *per_goal_markdown(sdg["per_goal"]),
        "",
        f"## Sectors: {sector['texts']} held-out initiatives with a mapped DPG sector label",
        "",
        "Labels: " + ", ".join(f"{k} {v}" for k, v in sector["labels"].items()),
        "",
        *table({"zero-shot (description)": sector["zero_shot"], "tagger": sector["tagger"]}),
        "",
        f"Sector calibration (top {sector['calibration']['shown_per_text']} shown): "
        f"ECE {sector['calibration']['ece_shown']}, "
        f"Brier {sector['calibration']['brier_shown']}.",
        "",
        f"Fit {speed['fit_seconds']} s with a {speed['cache']} vector cache (refit with every"
        f" vector cached: {speed['refit_cached_seconds']} s). Median (p90) milliseconds:"
        f" suggest() {speed['suggest_median_ms']} ({speed['suggest_p90_ms']}), of which"
        f" encoding the text {speed['encode_median_ms']} ({speed['encode_p90_ms']});"
        f" suggest_vector() {speed['suggest_vector_median_ms']}"
        f" ({speed['suggest_vector_p90_ms']}).",
    ]
    return "\n".join(lines)


def per_goal_markdown(report: dict[str, Any]) -> list[str]:
    """The per-goal figures: one table per tuning objective, then the shipped flag."""

    def cell(row: dict[str, Any], metric: str) -> str:
        low, high = row[f"{metric}_ci95"]
        return f"{100 * row[metric]:.1f} ({100 * low:.1f}-{100 * high:.1f})"

    lines = [
        f"## Per goal, averaged over the 17 goals ({report['texts']} held-out texts; "
        f"95% bootstrap intervals in brackets; percent)",
    ]
    head = "| system | tags/text | accuracy | balanced accuracy | F1 |"
    for objective in OBJECTIVES:
        part = report[objective]
        lines += ["", f"Thresholds tuned on training texts for {objective}:", "", head]
        lines.append("|---|---:|---:|---:|---:|")
        for name, row in part["systems"].items():
            cells = " | ".join(cell(row, m) for m in GOAL_METRICS)
            lines.append(f"| {name} | {row['tags_per_text']} | {cells} |")
        for name, diff in part["tagger_minus"].items():
            said = ", ".join(
                f"{m} {100 * d['mean']:+.1f} ({100 * low:+.1f} to {100 * high:+.1f})"
                for m, d in diff.items()
                for low, high in [d["ci95"]]
            )
            lines.append(f"\nTagger minus {name}: {said}.")
    shipped = report["shipped"]
    lines += ["", f"As shipped (`suggested`, threshold {shipped['threshold']}):", "", head]
    lines.append("|---|---:|---:|---:|---:|")
    for name in ("tagger, suggested flag", "no goal at all"):
        row = shipped[name]
        cells = " | ".join(cell(row, m) for m in GOAL_METRICS)
        lines.append(f"| {name} | {row['tags_per_text']} | {cells} |")
    return lines


def run(
    argv: Sequence[str] | None = None,
    *,
    data_dir: Path | None = None,
    encoder: Encoder | None = None,
) -> dict[str, Any]:
    """The report. With ``argv`` (a command line), also print it and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=data_dir or REPO / "data")
    parser.add_argument("--cache", type=Path, default=Path("var/eval"), help="vector cache")
    parser.add_argument("--json", type=Path, default=Path("var/eval/tagging.json"))
    options = parser.parse_args(list(argv) if argv is not None else [])
    report = evaluate(options.data, encoder or load_encoder(), options.cache)
    if argv is not None:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(markdown(report))
        print(f"\nWritten to {options.json}")
    return report


if __name__ == "__main__":
    run(sys.argv[1:])
