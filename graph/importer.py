"""Import of interchange records: validated all or nothing, written in short transactions.

Pass one validates every record (shape, field values, duplicate ids, edges whose
endpoints exist in the file or the store) and keeps only the ids it needs. If
anything is wrong, nothing is written and every problem is reported with its
line and field; a source with no record at all is refused too.

Then the records are read again and written in chunks of at most ``chunk_size``
records and about :data:`CHUNK_SECONDS` of writing, each chunk its own transaction:
first every node, then every edge, so that no chunk holds an edge whose node is
still to come. A chunk is parsed before its transaction starts, so the store's write
lock is held only while the rows are written and other writers, such as the HTTP
service, get in between chunks instead of waiting for the whole import.

If the process dies or the store fails half way, the store holds whole records of
the import (nodes first) and no edge without both its nodes; :class:`ImportIncomplete`
says how far it got. The import is idempotent: run it again and it writes what is
missing (an upsert identical to the stored record writes nothing).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Literal

from graph.edges import Edge
from graph.errors import GraphError, ImportIncomplete, ImportRejected, Problem
from graph.interchange import Record, parse_record
from graph.model import Node, NodeBase
from graph.store import Store, StoredVectors, WriteResult

log = logging.getLogger(__name__)

RecordSource = Callable[[], Iterator[tuple[int, Any]]]
"""Returns a fresh iterator of (line number, decoded record) each time it is called."""

Progress = Callable[[int], None]
"""Called with the number of records handled since the last call."""

CHUNK_SIZE = 500
"""Most records per write transaction (docs/benchmarks.md)."""

CHUNK_SECONDS = 0.1
"""The write time a chunk aims at: a chunk that took longer halves the next one."""

_SMALLEST_CHUNK = 20

NO_RECORDS = "the file holds no records"


@dataclass(slots=True)
class Validation:
    """What pass one found."""

    nodes: int = 0
    edges: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0

    @property
    def records(self) -> int:
        return self.nodes + self.edges


@dataclass(frozen=True, slots=True)
class ImportReport:
    validation: Validation
    write: WriteResult


def validate_records(
    source: RecordSource,
    store: Store,
    *,
    max_problems: int = 1_000,
    progress: Progress | None = None,
) -> Validation:
    """Check every record of ``source`` against the model, the file itself and the store."""
    result = Validation()

    def report(problem: Problem) -> None:
        result.problem_count += 1
        if len(result.problems) < max_problems:
            result.problems.append(problem)

    node_lines: dict[str, int] = {}
    edge_lines: dict[tuple[str, str, str], int] = {}
    pending: list[tuple[int, str, str]] = []  # (line, field, id) not yet seen as a node
    for line, value in source():
        record, problems = parse_record(line, value)
        for problem in problems:
            report(problem)
        if progress is not None:
            progress(1)
        if record is None:
            # A node refused for a bad field still counts as declared, so that its
            # edges do not add a second, misleading "missing node" problem.
            declared = value.get("id") if isinstance(value, dict) else None
            if isinstance(declared, str) and value.get("type") == "node":
                node_lines.setdefault(declared, line)
            continue
        if isinstance(record, Edge):
            result.edges += 1
            first = edge_lines.setdefault(record.key, line)
            if first != line:
                report(Problem(line, "", f"duplicate edge; first given on line {first}"))
            for end in ("source", "target"):
                node_id = getattr(record, end)
                if node_id not in node_lines:
                    pending.append((line, end, node_id))
        else:
            result.nodes += 1
            first = node_lines.setdefault(record.id, line)
            if first != line:
                report(Problem(line, "id", f"duplicate id '{record.id}'; first on line {first}"))
    unresolved = {node_id for _, _, node_id in pending if node_id not in node_lines}
    in_store = store.existing_ids(unresolved)
    for line, end, node_id in pending:
        if node_id not in node_lines and node_id not in in_store:
            reason = f"node '{node_id}' is neither in the file nor in the store"
            report(Problem(line, end, reason, value=node_id))
    if not result.records and not result.problem_count:
        report(Problem(None, "", NO_RECORDS))
    result.problems.sort(key=lambda p: (p.line or 0, p.field))
    return result


def _records(source: RecordSource, wanted: Literal["node", "edge"]) -> Iterator[Record]:
    """The records of one type, parsed again (the source was validated in pass one)."""
    other = "edge" if wanted == "node" else "node"
    for line, value in source():
        if isinstance(value, dict) and value.get("type") == other:
            continue
        record, problems = parse_record(line, value)
        if record is None:  # the file changed since pass one
            raise ImportRejected(problems or [Problem(line, "", "record changed during import")])
        yield record


def _add(total: WriteResult, part: WriteResult) -> None:
    total.nodes_written += part.nodes_written
    total.edges_written += part.edges_written
    total.nodes_deleted += part.nodes_deleted
    total.edges_deleted += part.edges_deleted
    total.unchanged += part.unchanged
    if part.first_seq is not None and total.first_seq is None:
        total.first_seq = part.first_seq
    if part.last_seq is not None:
        total.last_seq = part.last_seq


VectorsFor = Callable[[list[Node]], StoredVectors]
"""Computes the text vectors to keep with a chunk's nodes (see :class:`StoredVectors`)."""


def write_chunks(
    store: Store,
    records: Iterable[Record],
    *,
    chunk_size: int = CHUNK_SIZE,
    chunk_seconds: float | None = CHUNK_SECONDS,
    progress: Progress | None = None,
    vectors: VectorsFor | None = None,
) -> WriteResult:
    """Write ``records`` in order in chunks, each chunk one transaction.

    A chunk holds at most ``chunk_size`` records and aims at ``chunk_seconds`` of
    writing: after a slower chunk the next one is half as large, after a quick one
    twice as large (a busy machine gets shorter transactions, not longer ones);
    ``None`` keeps every chunk at ``chunk_size``. Every
    edge must come after its nodes (in the same chunk or an earlier one), or join nodes
    already stored. A chunk is built before its transaction begins, so producing the
    records (parsing, generating, encoding the texts of its nodes with ``vectors``)
    never holds the write lock.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    total = WriteResult()
    pending = iter(records)
    size = chunk_size
    while batch := list(islice(pending, size)):
        nodes = [record for record in batch if isinstance(record, NodeBase)]
        kept = vectors(nodes) if vectors is not None and nodes else None
        started = time.perf_counter()
        _add(total, store.write(batch, vectors=kept))
        took = time.perf_counter() - started
        if chunk_seconds is not None and took > chunk_seconds:
            size = max(min(_SMALLEST_CHUNK, chunk_size), size // 2)
        elif chunk_seconds is not None and took < chunk_seconds / 2:
            size = min(chunk_size, size * 2)
        if progress is not None:
            progress(len(batch))
    return total


def import_records(
    source: RecordSource,
    store: Store,
    *,
    max_problems: int = 1_000,
    chunk_size: int = CHUNK_SIZE,
    chunk_seconds: float | None = CHUNK_SECONDS,
    validate_progress: Progress | None = None,
    write_progress: Progress | None = None,
    vectors: VectorsFor | None = None,
) -> ImportReport:
    """Validate every record of ``source``, then write them in chunks (nodes, then edges).

    Raises :class:`ImportRejected` (nothing written) if any record is bad, and
    :class:`ImportIncomplete` if writing stops part way (run the import again).
    """
    validation = validate_records(
        source, store, max_problems=max_problems, progress=validate_progress
    )
    if validation.problem_count:
        log.info("import rejected: %d problems", validation.problem_count)
        raise ImportRejected(validation.problems, total=validation.problem_count)

    done = 0

    def counted(count: int) -> None:
        nonlocal done
        done += count
        if write_progress is not None:
            write_progress(count)

    log.info("writing %d records in chunks of %d", validation.records, chunk_size)
    written = WriteResult()
    try:
        for wanted in ("node", "edge"):
            records = _records(source, wanted)
            part = write_chunks(
                store, records, chunk_size=chunk_size, chunk_seconds=chunk_seconds,
                progress=counted,
                vectors=vectors,
            )  # fmt: skip
            _add(written, part)
    except (GraphError, OSError) as exc:
        log.info("import stopped after %d of %d records: %s", done, validation.records, exc)
        raise ImportIncomplete(exc, written=done, total=validation.records) from exc
    log.info(
        "import wrote %d nodes and %d edges (%d unchanged)",
        written.nodes_written,
        written.edges_written,
        written.unchanged,
    )
    return ImportReport(validation, written)
