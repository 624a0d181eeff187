"""The text of each node that search and matching index, field by field.

One text per node: what a person would want matched. A person's private contact
details and exact place are never part of it, and neither is anything that a
privacy setting hides from others.
"""

from __future__ import annotations

from graph.model import (
    Community,
    Council,
    Event,
    Initiative,
    Node,
    Organization,
    Person,
    Sdg,
    SdgTarget,
    Sector,
    WisdomEntry,
)

Passage = tuple[str, str]
"""(field name, text) of one part of a node's text."""


def _phrases(field: str, values: list[str]) -> list[Passage]:
    return [(field, "; ".join(values))] if values else []


def node_passages(node: Node) -> list[Passage]:
    """The indexed parts of a node, in a fixed order, empty fields left out."""
    found: list[Passage] = [("name", node.name)]
    if isinstance(node, Person):
        found += [("bio", node.bio)] if node.bio else []
        found += _phrases("interests", node.interests)
        found += _phrases("skills", node.skills)
        found += _phrases("offers", node.offers)
        found += _phrases("needs", node.needs)
    elif isinstance(node, Initiative):
        found += [("description", node.description)] if node.description else []
        found += _phrases("needs", node.needs)
    elif isinstance(node, Organization | Council | Event | Sector):
        found += [("description", node.description)] if node.description else []
        if isinstance(node, Sector):
            found += _phrases("aliases", node.aliases)
    elif isinstance(node, Community):
        found += [("description", node.description)] if node.description else []
        found += _phrases("issues", node.issues)
    elif isinstance(node, Sdg | SdgTarget):
        found += [("title", node.title)]
        if isinstance(node, SdgTarget):
            found += _phrases("indicators", [i.title for i in node.indicators])
    elif isinstance(node, WisdomEntry):
        found += [("summary", node.summary)] if node.summary else []
        found += [("body", node.body)] if node.body else []
    return [(name, text.strip()) for name, text in found if text.strip()]


def node_text(node: Node) -> str:
    """The node's whole indexed text: its passages joined by blank lines."""
    return "\n\n".join(text for _, text in node_passages(node))
