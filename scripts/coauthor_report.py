"""The Markdown report of ``evaluate_coauthor.py``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def markdown(report: Mapping[str, Any]) -> str:
    lines: list[str] = []
    for name, entry in report["splits"].items():
        years = entry["truth_years"]
        lines += [
            "",
            f"**{name}**: graph up to {entry['graph_up_to']} ({entry['people_in_graph']} people, "
            f"{entry['papers_in_graph']} papers), new co-authors in {years[0]}-{years[1]}, "
            f"{entry['queries']} query people",
            "",
            "| system | Hits@10 | Recall@10 | MRR@10 |",
            "|---|---:|---:|---:|",
        ]
        for system in entry["systems"]:  # in the order of SYSTEMS
            f = entry["systems"][system]
            lines.append(
                f"| {system} | {f['hits@10']:.3f} | {f['recall@10']:.3f} | {f['mrr@10']:.3f} |"
            )
        lines.append("")
        for label, diff in entry["paired"].items():
            lines.append(
                f"- Hits@10, {label}: {diff['mean']:+.3f} (95% CI {diff['ci95_low']:+.3f} to "
                f"{diff['ci95_high']:+.3f}; right only for the recommender: {diff['only_a']}, "
                f"only for the other: {diff['only_b']})"
            )
        gain = entry["relative_to_better"]
        lines.append(
            f"- relative to the better co-work baseline ({entry['better_cowork_baseline']}): "
            f"{gain['mean']:+.1%} (95% CI {gain['ci95_low']:+.1%} to {gain['ci95_high']:+.1%})"
        )
    if "learnt" in report:
        learnt = {k: v for k, v in report["learnt"].items() if v}
        lines += ["", f"Learnt weights (validation pools): {learnt}"]
    return "\n".join(lines)
