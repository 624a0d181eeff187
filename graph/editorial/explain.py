"""Pieces of explanations: node references, SDGs and sectors, paths, readable lists.

The shapes follow the service's conventions: a node as ``{"id", "kind", "name"}``, an
SDG as ``{"id", "number", "name"}``, a sector as ``{"id", "name"}``, and a path as
nodes interleaved with ``{"edge", "direction"}`` steps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import networkx as nx

from graph.editorial.text import clip
from graph.model import Node, Sdg

TOPIC_EDGES = frozenset({"addresses", "in_sector", "interested_in"})


class NodeSource(Protocol):
    """Where the fields of nodes are read (the store)."""

    def get_nodes(self, ids: Iterable[str]) -> dict[str, Node]: ...


@dataclass(frozen=True, slots=True)
class Item:
    """One recommended node: its id, its score and why."""

    node_id: str
    score: float
    explanation: dict[str, Any]


Hop = tuple[str, bool, str]
"""One step of a path: (edge kind, whether the stored edge points forward, next node)."""


def goal_of(node_id: str) -> str | None:
    """The goal an SDG or SDG target id belongs to (``sdg:4`` for ``sdg_target:4.1``)."""
    kind, _, key = node_id.partition(":")
    if kind == "sdg":
        return node_id
    if kind == "sdg_target":
        return f"sdg:{key.split('.')[0]}"
    return None


def topic_links(graph: nx.MultiDiGraph, node_id: str) -> dict[str, tuple[Hop, ...]]:
    """The goals and sectors a node addresses, is in or cares about, with the hops there.

    A link to an SDG target counts for its goal (through the target's ``part_of``); a
    direct link to the goal is preferred.
    """
    found: dict[str, tuple[Hop, ...]] = {}
    for _, target, kind in sorted(graph.out_edges(node_id, keys=True)):
        if kind not in TOPIC_EDGES:
            continue
        target_kind = graph.nodes[target]["kind"]
        if target_kind in ("sdg", "sector"):
            found[target] = ((kind, True, target),)
        elif target_kind == "sdg_target":
            goal = goal_of(target)
            if goal is not None and goal in graph and goal not in found:
                found[goal] = ((kind, True, target), ("part_of", True, goal))
    return found


def topics_of(graph: nx.MultiDiGraph, node_id: str) -> frozenset[str]:
    """The goals and sectors a node is linked to (see :func:`topic_links`)."""
    return frozenset(topic_links(graph, node_id))


def reverse(start: str, hops: Sequence[Hop]) -> tuple[Hop, ...]:
    """The same path walked back, from its last node to ``start``."""
    stops = [start, *(target for _, _, target in hops)]
    return tuple(
        (kind, not forward, stops[i]) for i, (kind, forward, _) in reversed(list(enumerate(hops)))
    )


def node_ref(node: Node) -> dict[str, str]:
    return {"id": node.id, "kind": node.kind, "name": node.name}


def topic_ref(node: Node) -> dict[str, Any]:
    """An SDG as ``{"id", "number", "name"}``, a sector (or anything else) as ``{"id", "name"}``."""
    if isinstance(node, Sdg):
        return {"id": node.id, "number": node.number, "name": node.name}
    return {"id": node.id, "name": node.name}


def topic_name(node: Node) -> str:
    """How a sentence names a topic: "SDG 4 Quality education", "the Education sector"."""
    if isinstance(node, Sdg):
        return f"SDG {node.number} {node.name}"
    if node.kind == "sector":
        return f"the {node.name} sector"
    return node.name


def split_topics(topics: Iterable[str], nodes: Mapping[str, Node]) -> dict[str, list[Any]]:
    """``{"sdgs": [...], "sectors": [...]}`` of the topics known in ``nodes``, in id order."""
    known = [nodes[t] for t in sorted(topics, key=topic_order) if t in nodes]
    return {
        "sdgs": [topic_ref(n) for n in known if n.kind == "sdg"],
        "sectors": [topic_ref(n) for n in known if n.kind == "sector"],
    }


def topic_order(topic_id: str) -> tuple[int, int, str]:
    """Goals by number, then sectors and anything else by id."""
    kind, _, key = topic_id.partition(":")
    return (0, int(key), "") if kind == "sdg" and key.isdigit() else (1, 0, topic_id)


def path_json(start: str, hops: Sequence[Hop], nodes: Mapping[str, Node]) -> list[dict[str, str]]:
    """A path as nodes interleaved with steps; every node on it must be in ``nodes``."""
    path = [node_ref(nodes[start])]
    for kind, forward, target in hops:
        path.append({"edge": kind, "direction": "out" if forward else "in"})
        path.append(node_ref(nodes[target]))
    return path


def path_ids(start: str, hops: Sequence[Hop]) -> list[str]:
    return [start, *(target for _, _, target in hops)]


def listing(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def quoted(text: str, limit: int = 90) -> str:
    """The text in double quotes, shortened at a word boundary."""
    return f'"{clip(text, limit)}"'


def rounded(value: float) -> float:
    return round(float(value), 4)
