"""Readable references to goals and sectors, and the small phrase helpers explanations share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def sdg_number(sdg_id: str) -> int:
    return int(sdg_id.partition(":")[2])


def sdg_ref(sdg_id: str, names: Mapping[str, str]) -> dict[str, Any]:
    """A goal as explanations give it: ``{"id": "sdg:4", "number": 4, "name": ...}``."""
    return {"id": sdg_id, "number": sdg_number(sdg_id), "name": names.get(sdg_id, sdg_id)}


def node_ref(node_id: str, names: Mapping[str, str]) -> dict[str, str]:
    """A sector or community as explanations give it: ``{"id", "name"}``."""
    return {"id": node_id, "name": names.get(node_id, node_id)}


def sdg_phrase(sdg_id: str, names: Mapping[str, str]) -> str:
    """``SDG 4 Quality Education``."""
    name = names.get(sdg_id)
    number = sdg_number(sdg_id)
    return f"SDG {number} {name}" if name else f"SDG {number}"


def join_words(words: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} and {words[-1]}"


def plural(count: int, one: str, many: str | None = None) -> str:
    """``1 person``, ``3 people``."""
    return f"{count} {one if count == 1 else (many or one + 's')}"
