"""Errors raised by the graph package.

Every error derives from :class:`GraphError`. Each carries the offending value so
that callers (the CLI, the HTTP layer) can report it precisely; none of them knows
about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass


class GraphError(Exception):
    """Root of every error raised by the graph package."""


class SavedByOtherCode(GraphError, ValueError):
    """A saved state (a graph view, a profile index) of another form or written by
    another version of the code (:func:`graph.code_stamp`): this code never reads it."""

    def __init__(self, what: str, form: object) -> None:
        super().__init__(f"a {what} state of form {form!r}, not this code's")
        self.what = what
        self.form = form

    @classmethod
    def check(cls, what: str, state: object, form: object) -> None:
        """Raise unless ``state`` is a tuple whose first item is ``form``: checked before
        anything else is read from it, since a state of another form may have another
        shape."""
        found = state[0] if isinstance(state, tuple) and state else state
        if found != form:
            raise cls(what, found)


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


class ReadOnlyStore(GraphError):
    """A write was asked of a store opened read-only (a standby follows its primary)."""


class StoreNotMigrated(GraphError):
    """A read-only store (a standby) is not at the schema revision this code writes: the
    primary was not migrated, or the standby does not follow it."""

    def __init__(self, found: str | None, wanted: str) -> None:
        self.found = found
        self.wanted = wanted
        super().__init__(
            f"the read-only store is at schema revision {found or 'none'}, not {wanted}: "
            "migrate the primary (cocreate migrate) and check that this standby follows it"
        )


class StoreBusy(GraphError):
    """The store could not take the write (or could not be reached) in time; try again soon.

    SQLite's write lock held by another writer past the busy timeout, a PostgreSQL
    lock timeout, serialization failure or deadlock, or a database that refuses
    connections. Nothing was written, unless the database ended the connection during
    the commit (it was restarting): then the write may have been made, and a retry finds
    it. ``retry_after`` is a hint in whole seconds.
    """

    def __init__(self, reason: str, *, retry_after: int = 1) -> None:
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(f"the store is busy ({reason}); try again in {retry_after} s")


class ImportIncomplete(GraphError):
    """A validated import stopped part way through writing its chunks.

    ``written`` records (all nodes first, then edges) are stored; each chunk was its
    own transaction, so the store holds whole records and no edge without its nodes.
    Running the same import again finishes it: the records already written are
    unchanged upserts and write nothing.
    """

    def __init__(self, cause: BaseException, *, written: int, total: int) -> None:
        self.cause = cause
        self.written = written
        self.total = total
        super().__init__(
            f"the import stopped after writing {written:,} of {total:,} records: {cause}; "
            "run the import again to finish it (records already written are left unchanged)"
        )
