"""The JSON Lines interchange format: parsing one record with precise problems, writing files.

A line is ``{"type": "node", "id": ..., "kind": ..., "name": ..., ...fields}`` or
``{"type": "edge", "kind": ..., "source": ..., "target": ..., ...attributes}``.
The JSON Schema of a line is :func:`record_schema`; ``docs/interchange.schema.json``
is generated from it.

Reading never fails on the bytes it is given: a line that is not UTF-8, not JSON,
nested deeper than :data:`MAX_DEPTH`, longer than :data:`MAX_LINE_BYTES` or holding
an integer too long to convert becomes a :class:`Malformed` value with its line
number, which validation reports like any other problem.
"""

from __future__ import annotations

import json
import reprlib
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


MAX_LINE_BYTES = 1_048_576
"""The longest line read: a record is at most 1 MiB, like a request body."""

MAX_DEPTH = 32
"""The deepest nesting of arrays and objects in a record (a valid one needs 4)."""

BOM = "\ufeff"


def read_jsonl(stream: IO[str] | IO[bytes]) -> Iterator[tuple[int, Any]]:
    """(line number, decoded value or :class:`Malformed`) for every non-blank line.

    A binary stream is split on ``\n`` and decoded line by line (strict UTF-8), so a
    bad byte costs one line, not the file; a line over :data:`MAX_LINE_BYTES` is
    skipped without being held in memory. A byte order mark at the start is ignored.
    """
    for number, line in _lines(stream):
        if isinstance(line, Malformed):
            yield number, line
            continue
        if number == 1:
            line = line.removeprefix(BOM)
        if not line.strip():
            continue
        yield number, decode_json(line)


def _lines(stream: IO[str] | IO[bytes]) -> Iterator[tuple[int, str | Malformed]]:
    number = 0
    while True:
        chunk: str | bytes = stream.readline(MAX_LINE_BYTES + 1)
        if not chunk:
            return
        number += 1
        newline = "\n" if isinstance(chunk, str) else b"\n"
        if len(chunk) > MAX_LINE_BYTES and chunk[-1:] != newline:
            while chunk and chunk[-1:] != newline:
                chunk = stream.readline(MAX_LINE_BYTES)  # skip the rest of the line
            reason = f"longer than {MAX_LINE_BYTES:,} bytes; a record is at most 1 MiB"
            yield number, Malformed(reason)
            continue
        if isinstance(chunk, str):
            yield number, chunk
            continue
        try:
            yield number, chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            byte = chunk[exc.start]
            yield number, Malformed(f"not UTF-8 text: byte 0x{byte:02x} at byte {exc.start + 1}")


def decode_json(text: str) -> Any:
    """The JSON value of one line, or a :class:`Malformed` saying what is wrong with it."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return Malformed(f"malformed JSON: {exc.msg} at column {exc.colno}")
    except RecursionError:
        return Malformed(f"malformed JSON: nested more than {MAX_DEPTH} levels deep")
    except ValueError as exc:  # an integer longer than Python converts (4,300 digits)
        if "integer string conversion" in str(exc):
            return Malformed("malformed JSON: an integer with too many digits")
        return Malformed(f"malformed JSON: {shown(str(exc), 200)}")
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        return Malformed(f"malformed JSON: nested more than {MAX_DEPTH} levels deep")
    return value


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest in ``value`` (without recursion)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                return depth
            stack.extend((child, depth + 1) for child in item)
    return deepest


_SHORT = reprlib.Repr()
_SHORT.maxlevel = 2
_SHORT.maxstring = 60
_SHORT.maxother = 60
_SHORT.maxlong = 60


def shown(value: Any, limit: int = 60) -> str:
    """``value`` quoted for a message: short, one line, control characters escaped."""
    if isinstance(value, str) and len(value) <= limit:
        return repr(value)
    return _SHORT.repr(value)


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
    reason = "missing" if record_type is None else f"{shown(record_type)} is not 'node' or 'edge'"
    return None, [Problem(line, "type", reason)]


def _parse_node(line: int | None, body: dict[str, Any]) -> tuple[Record | None, list[Problem]]:
    kind = body.get("kind")
    if kind not in NODE_KINDS:
        reason = "missing" if kind is None else f"unknown node kind {shown(kind)}"
        return None, [Problem(line, "kind", f"{reason}; expected one of {', '.join(NODE_KINDS)}")]
    node_id = body.get("id")
    if not isinstance(node_id, str) or not is_valid_id(node_id):
        return None, [
            Problem(line, "id", f"{shown(node_id)} is not an id of the form {kind}:<slug>")
        ]
    if kind_of(node_id) != kind:
        return None, [Problem(line, "id", f"id '{node_id}' does not start with '{kind}:'")]
    try:
        return NODE_CLASSES[kind].model_validate(body), []  # type: ignore[return-value]
    except ValidationError as exc:
        return None, _problems(line, exc)


def _parse_edge(line: int | None, body: dict[str, Any]) -> tuple[Record | None, list[Problem]]:
    kind = body.get("kind")
    if kind not in EDGE_KINDS:
        reason = "missing" if kind is None else f"unknown edge kind {shown(kind)}"
        return None, [Problem(line, "kind", f"{reason}; expected one of {', '.join(EDGE_KINDS)}")]
    problems = []
    for end in ("source", "target"):
        node_id = body.get(end)
        if not isinstance(node_id, str) or not is_valid_id(node_id):
            problems.append(
                Problem(line, end, f"{shown(node_id)} is not a node id (<kind>:<slug>)")
            )
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
