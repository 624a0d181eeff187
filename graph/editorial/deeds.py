"""What a community did: the initiatives in it and the Wisdom Book entries that tell of them.

A community's *deeds* are the initiatives located in it or in a community that is part
of it, and the Wisdom Book entries that describe the community, such a part, or one of
those initiatives. Only ids the caller passes as allowed are counted, and never a
person: who wrote an entry or works on an initiative is no reason here, so nothing about
a hidden profile can show through what a community did.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx

from graph.editorial.explain import quoted
from graph.model import Node

PER_PLACE = 200
"""At most this many initiatives and entries are read per community (the rest ignored)."""


@dataclass(frozen=True, slots=True)
class Deed:
    """An initiative or an entry, where it was done, and the initiative an entry tells of."""

    node_id: str
    community: str
    initiative: str | None = None


def deeds_of(
    graph: nx.MultiDiGraph,
    community: str,
    *,
    initiatives: Collection[str],
    entries: Collection[str],
) -> dict[str, Deed]:
    """The initiatives and entries of a community (and of its parts), by id, in id order."""
    places = [community, *sorted(s for s, _, k in graph.in_edges(community, keys=True)
                                 if k == "part_of")]  # fmt: skip
    found: dict[str, Deed] = {}
    for place in places:
        here = sorted(
            (source, kind) for source, _, kind in graph.in_edges(place, keys=True)
            if (kind == "located_in" and source in initiatives)
            or (kind == "describes" and source in entries)
        )[:PER_PLACE]  # fmt: skip
        for source, _ in here:
            found.setdefault(source, Deed(source, place))
    for initiative in sorted(i for i in found if i in initiatives):
        told = sorted(s for s, _, k in graph.in_edges(initiative, keys=True)
                      if k == "describes" and s in entries)[:PER_PLACE]  # fmt: skip
        for entry in told:
            found.setdefault(entry, Deed(entry, found[initiative].community, initiative))
    return found


def deed_reason(deed: Deed, node: Node, names: Mapping[str, Node], community: str) -> str:
    """Why a deed belongs to ``community``, in plain words."""
    where = names[deed.community].name if deed.community in names else deed.community
    if deed.community != community and community in names:
        where = f"{where}, part of {names[community].name}"
    if node.kind == "initiative":
        return f"The initiative {quoted(node.name)} is in {where}."
    if deed.initiative is not None and deed.initiative in names:
        told = names[deed.initiative].name
        return f"The Wisdom Book entry {quoted(node.name)} tells of {quoted(told)}, in {where}."
    return f"The Wisdom Book entry {quoted(node.name)} tells of {where}."


def deed_json(
    deed: Deed, node: Node, names: Mapping[str, Node], community: str, relevance: float
) -> dict[str, Any]:
    """A deed as a link: the node's id, kind and name, how relevant it is, and why it is theirs."""
    return {
        "id": node.id,
        "kind": node.kind,
        "name": node.name,
        "text_similarity": round(float(relevance), 4),
        "reason": deed_reason(deed, node, names, community),
    }
