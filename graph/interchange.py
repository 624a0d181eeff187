"""The JSON Lines interchange format: parsing one record with precise problems, writing files.

A line is ``{"type": "node", "id": ..., "kind": ..., "name": ..., ...fields}`` or
``{"type": "edge", "kind": ..., "source": ..., "target": ..., ...attributes}``.
The JSON Schema of a line is :func:`record_schema`; ``docs/interchange.schema.json``
is generated from it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from pydantic import TypeAdapter, ValidationError

from graph.codec import edge_record, node_record, record_line
from graph.edges import EDGE_KINDS, EDGE_RULES, Edge, allowed_pairs
from graph.errors import Problem
from graph.ids import NODE_KINDS, is_valid_id, kind_of
from graph.model import NODE_CLASSES, Node
from graph.store import Store

Record = Node | Edge


class Malformed:
    """A line that could not be decoded; stands in the record stream with its reason."""

    __slots__ = ("field", "reason")

    def __init__(self, reason: str, *, field: str = "") -> None:
        self.reason = reason
        self.field = field


def read_jsonl(stream: IO[str]) -> Iterator[tuple[int, Any]]:
    """(line number, decoded value or :class:`Malformed`) for every non-blank line."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, Malformed(f"malformed JSON: {exc.msg} at column {exc.colno}")


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _problems(line: int | None, exc: ValidationError) -> list[Problem]:
    found = []
    for error in exc.errors(include_url=False):
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        found.append(Problem(line, _field(error["loc"]), message))
    return found


def parse_record(line: int | None, value: Any) -> tuple[Record | None, list[Problem]]:
    """Validate one decoded line; returns the record or the problems found in it."""
    if isinstance(value, Malformed):
        return None, [Problem(line, value.field, value.reason)]
    if not isinstance(value, dict):
        return None, [Problem(line, "", "a record must be a JSON object")]
    body = dict(value)
    record_type = body.pop("type", None)
    if record_type == "node":
        return _parse_node(line, body)
    if record_type == "edge":
        return _parse_edge(line, body)
    reason = "missing" if record_type is None else f"'{record_type}' is not 'node' or 'edge'"
    return None, [Problem(line, "type", reason)]


def _parse_node(line: int | None, body: dict[str, Any]) -> tuple[Record | None, list[Problem]]:
    kind = body.get("kind")
    if kind not in NODE_KINDS:
        reason = "missing" if kind is None else f"unknown node kind '{kind}'"
        return None, [Problem(line, "kind", f"{reason}; expected one of {', '.join(NODE_KINDS)}")]
    node_id = body.get("id")
    if not isinstance(node_id, str) or not is_valid_id(node_id):
        return None, [Problem(line, "id", f"{node_id!r} is not an id of the form {kind}:<slug>")]
    if kind_of(node_id) != kind:
        return None, [Problem(line, "id", f"id '{node_id}' does not start with '{kind}:'")]
    try:
        return NODE_CLASSES[kind].model_validate(body), []  # type: ignore[return-value]
    except ValidationError as exc:
        return None, _problems(line, exc)


def _parse_edge(line: int | None, body: dict[str, Any]) -> tuple[Record | None, list[Problem]]:
    kind = body.get("kind")
    if kind not in EDGE_KINDS:
        reason = "missing" if kind is None else f"unknown edge kind '{kind}'"
        return None, [Problem(line, "kind", f"{reason}; expected one of {', '.join(EDGE_KINDS)}")]
    problems = []
    for end in ("source", "target"):
        node_id = body.get(end)
        if not isinstance(node_id, str) or not is_valid_id(node_id):
            problems.append(Problem(line, end, f"{node_id!r} is not a node id (<kind>:<slug>)"))
    if problems:
        return None, problems
    source_kind, target_kind = kind_of(body["source"]), kind_of(body["target"])
    if target_kind not in EDGE_RULES[kind].get(source_kind, frozenset()):
        reason = (
            f"edge '{kind}' cannot go from a '{source_kind}' to a '{target_kind}'; "
            f"allowed: {allowed_pairs(kind)}"
        )
        return None, [Problem(line, "kind", reason)]
    try:
        return Edge.model_validate(body), []
    except ValidationError as exc:
        return None, _problems(line, exc)


def export_jsonl(store: Store, stream: IO[str]) -> tuple[int, int]:
    """Write every node (by id) then every edge (by source, kind, target); returns the counts."""
    nodes = edges = 0
    for node in store.iter_nodes():
        stream.write(record_line(node_record(node)))
        nodes += 1
    for edge in store.iter_edges():
        stream.write(record_line(edge_record(edge)))
        edges += 1
    return nodes, edges


def write_jsonl(records: Iterator[Record], path: Path) -> int:
    """Write records to a JSON Lines file; returns how many."""
    count = 0
    with path.open("w", encoding="utf-8") as stream:
        for record in records:
            line = edge_record(record) if isinstance(record, Edge) else node_record(record)
            stream.write(record_line(line))
            count += 1
    return count


def record_schema() -> dict[str, Any]:
    """JSON Schema of one interchange line (a node of any kind, or an edge)."""
    node_types: list[Any] = list(NODE_CLASSES.values())
    schema: dict[str, Any] = TypeAdapter(Node | Edge).json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Cocreate interchange record"
    schema["description"] = (
        "One line of a Cocreate JSON Lines file: a node (type 'node') or an edge "
        "(type 'edge'). Besides the fields below each line carries 'type'."
    )
    definitions = schema.get("$defs", {})
    for cls in [*node_types, Edge]:
        entry = definitions.get(cls.__name__)
        if entry is None:
            continue
        record_type = "edge" if cls is Edge else "node"
        entry["properties"] = {"type": {"const": record_type}, **entry["properties"]}
        entry.setdefault("required", []).insert(0, "type")
    return schema
