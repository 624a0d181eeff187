"""Canonical serialisation of nodes and edges, shared by the store and the interchange format.

A node is stored as its id, kind and name plus the remaining fields as canonical
JSON: defaults left out, keys sorted. The same node always gives the same bytes,
which is what makes unchanged upserts detectable and export byte-stable.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from graph.edges import Edge
from graph.model import NODE_ADAPTER, Node

_HEADER = {"id", "kind", "name"}
_EDGE_HEADER = ("kind", "source", "target")


def dumps(value: Any) -> str:
    """Compact JSON with sorted keys and unescaped Unicode."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def node_fields(node: Node) -> dict[str, Any]:
    """The node's fields other than id, kind and name, JSON-ready, defaults omitted."""
    return node.model_dump(mode="json", exclude=_HEADER, exclude_defaults=True)


def node_data(node: Node) -> str:
    """Canonical JSON of :func:`node_fields`."""
    return dumps(node_fields(node))


STORED = {"stored": True}
"""Validation context of stored records: their text was checked when they were written
(:data:`graph.model.OneLine`), and a later, stricter check must not make them unreadable."""


def node_from_row(node_id: str, kind: str, name: str, data: str) -> Node:
    """Rebuild a node from its stored columns."""
    payload = json.loads(data)
    payload.update(id=node_id, kind=kind, name=name)
    return NODE_ADAPTER.validate_python(payload, context=STORED)


def edge_fields(edge: Edge) -> dict[str, Any]:
    """The edge's attributes other than kind, source and target, JSON-ready, unset ones omitted."""
    return edge.model_dump(mode="json", exclude=set(_EDGE_HEADER), exclude_none=True)


def edge_data(edge: Edge) -> str:
    return dumps(edge_fields(edge))


def edge_from_row(source: str, kind: str, target: str, data: str) -> Edge:
    payload = json.loads(data)
    payload.update(source=source, kind=kind, target=target)
    return Edge.model_validate(payload, context=STORED)


def node_record(node: Node) -> dict[str, Any]:
    """The interchange record of a node: type, id, kind, name first, then sorted fields."""
    record: dict[str, Any] = {"type": "node", "id": node.id, "kind": node.kind, "name": node.name}
    fields = node_fields(node)
    record.update((key, fields[key]) for key in sorted(fields))
    return record


def edge_record(edge: Edge) -> dict[str, Any]:
    """The interchange record of an edge: type, kind, source, target first, then sorted fields."""
    record: dict[str, Any] = {
        "type": "edge",
        "kind": edge.kind,
        "source": edge.source,
        "target": edge.target,
    }
    fields = edge_fields(edge)
    record.update((key, fields[key]) for key in sorted(fields))
    return record


def record_line(record: dict[str, Any]) -> str:
    """One JSON Lines line (keys in the record's own order), newline included."""
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"


def parse_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
