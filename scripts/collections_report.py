"""The Markdown report of ``evaluate_collections.py``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def markdown(report: Mapping[str, Any]) -> str:
    """One table per set (test half) and the validation choice."""
    best = report["validation"]["best"]
    lines = [
        f"Validation halves, mean nDCG@10 over the sets: best {best} "
        f"({report['validation']['grid'][best]['mean']:.4f}); shipped "
        f"{report['shipped']['method']} alpha {report['shipped']['alpha']:g}.",
    ]
    for name, result in report["results"].items():
        count = result["queries"]
        lines += [
            "",
            f"**{name}**, test half ({count['test']} queries; {count['tune']} for validation; "
            f"{result['items']} items)",
            "",
            f"| system | nDCG@10 | minus {result['better_single']} (95% CI) | wins/ties/losses |",
            "|---|---:|---:|---:|",
        ]
        for system, mean in result["ndcg@10"].items():
            diff = result["against_better_single"].get(system)
            if diff is None:
                lines.append(f"| {system} | {mean:.3f} | | |")
            else:
                lines.append(
                    f"| {system} | {mean:.3f} | {diff['mean']:+.3f} ({diff['ci95_low']:+.3f} to "
                    f"{diff['ci95_high']:+.3f}) | {diff['wins']}/{diff['ties']}/{diff['losses']} |"
                )
        floor = result["floor"]
        lines += [
            "",
            f"Floor: {floor['random_letter_queries_with_hits']} of "
            f"{floor['random_letter_queries']} random-letter queries get a hit "
            f"({floor['their_hits_sharing_no_word']} of their hits share no word with it); "
            f"{floor['test_queries_without_hits']} of {floor['test_queries']} test queries "
            "lose every hit. Best cosine of the random letters: median "
            f"{floor['best_cosine_of_random_letters']['median']:.3f}, max "
            f"{floor['best_cosine_of_random_letters']['max']:.3f}; of the test queries: 1st "
            f"percentile {floor['best_cosine_of_test_queries']['p1']:.3f}, 5th "
            f"{floor['best_cosine_of_test_queries']['p5']:.3f}.",
        ]
    return "\n".join(lines)
