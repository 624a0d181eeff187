"""Practices the Grassroots Wisdom Book entries describe, three per sector.

Each practice (``*``) names what was done, the issue it answered, its aim, four
steps (past-tense clauses starting with "we", marked ``-``) and two lessons (full
sentences, marked ``+``), written in ``practices_text.py``.
Written for this project; the situations are typical of grassroots work, not
reports of real events.
"""

from __future__ import annotations

from dataclasses import dataclass

from graph.demo.practices_text import PRACTICES_TEXT


@dataclass(frozen=True, slots=True)
class Practice:
    """One practice of the Wisdom Book, with the material to tell it."""

    name: str
    issue: str
    aim: str
    steps: tuple[str, ...]
    lessons: tuple[str, ...]


def _parse(text: str) -> dict[str, tuple[Practice, ...]]:
    sectors: dict[str, list[Practice]] = {}
    items: list[tuple[str, str]] = []  # (marker, text) with continuations joined
    for raw in text.strip().splitlines():
        if raw.startswith("    "):
            marker, previous = items[-1]
            items[-1] = (marker, f"{previous} {raw.strip()}")
        elif raw.startswith("["):
            items.append(("[", raw.strip("[]")))
        elif raw.startswith("* "):
            items.append(("*", raw[2:]))
        elif raw[2:4] in ("- ", "+ "):
            items.append((raw[2], raw[4:]))
        else:
            key, _, value = raw.strip().partition(": ")
            items.append((key, value))
    slug, fields = "", dict[str, list[str]]()
    for marker, value in [*items, ("*", "")]:
        if marker in "[*" and fields:
            sectors[slug].append(
                Practice(
                    name=fields["*"][0],
                    issue=fields["issue"][0],
                    aim=fields["aim"][0],
                    steps=tuple(fields["-"]),
                    lessons=tuple(fields["+"]),
                )
            )
            fields = {}
        if marker == "[":
            slug = value
            sectors[slug] = []
        elif marker == "*":
            fields = {"*": [value], "-": [], "+": []}
        else:
            fields.setdefault(marker, []).append(value)
    return {slug: tuple(found) for slug, found in sectors.items()}


PRACTICES: dict[str, tuple[Practice, ...]] = _parse(PRACTICES_TEXT)


def practices_for(slug: str) -> tuple[Practice, ...]:
    """The practices of a sector; those of education when the sector is unknown here."""
    return PRACTICES.get(slug) or PRACTICES["education"]
