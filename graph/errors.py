"""Errors raised by the graph package.

Every error derives from :class:`GraphError`. Each carries the offending value so
that callers (the CLI, the HTTP layer) can report it precisely; none of them knows
about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass


class GraphError(Exception):
    """Root of every error raised by the graph package."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one input record.

    ``line`` is the 1-based line (or CSV row line) of the record, when known;
    ``field`` is a dotted path such as ``place.lat`` (``""`` for the whole record).
    """

    line: int | None
    field: str
    reason: str
    value: str | None = None  # the offending value, when it helps to map the problem back

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "record"
        field = f", field '{self.field}'" if self.field else ""
        return f"{where}{field}: {self.reason}"


class InvalidRecord(GraphError):
    """A node or edge that does not satisfy the domain model."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class ImportRejected(InvalidRecord):
    """An import with at least one bad record; nothing was written."""

    def __init__(self, problems: list[Problem], *, total: int | None = None) -> None:
        self.total = total
        super().__init__(problems)


class InvalidEdge(GraphError, ValueError):
    """An edge whose kind does not allow its (source kind, target kind) pair."""

    def __init__(self, kind: str, source_kind: str, target_kind: str, allowed: str) -> None:
        self.kind = kind
        self.source_kind = source_kind
        self.target_kind = target_kind
        super().__init__(
            f"edge '{kind}' cannot go from a '{source_kind}' to a '{target_kind}'; "
            f"allowed: {allowed}"
        )


class NodeNotFound(GraphError, LookupError):
    """No node with this id exists."""

    def __init__(self, node_id: str) -> None:
        self.node_id = node_id
        super().__init__(f"no node with id '{node_id}'")


class EdgeNotFound(GraphError, LookupError):
    """No edge with this (source, kind, target) exists."""

    def __init__(self, source: str, kind: str, target: str) -> None:
        self.source = source
        self.kind = kind
        self.target = target
        super().__init__(f"no edge '{kind}' from '{source}' to '{target}'")


class MissingEndpoint(GraphError):
    """An edge refers to a node that neither the store nor the same write holds."""

    def __init__(self, node_id: str, *, role: str) -> None:
        self.node_id = node_id
        self.role = role
        super().__init__(f"edge {role} '{node_id}' does not exist")


class NoPath(GraphError, LookupError):
    """Two nodes are not connected (within the allowed depth)."""

    def __init__(self, source: str, target: str, max_depth: int | None = None) -> None:
        self.source = source
        self.target = target
        self.max_depth = max_depth
        within = f" within {max_depth} hops" if max_depth is not None else ""
        super().__init__(f"no path from '{source}' to '{target}'{within}")


class SchemaVersionError(GraphError):
    """The store was written by a newer version of the schema than this code knows."""

    def __init__(self, found: int, supported: int) -> None:
        self.found = found
        self.supported = supported
        super().__init__(
            f"the store has schema version {found}; this version of Cocreate supports "
            f"up to {supported}"
        )
