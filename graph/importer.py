"""All-or-nothing import of interchange records.

Pass one validates every record (shape, field values, duplicate ids, edges whose
endpoints exist in the file or the store) and keeps only the ids it needs. If
anything is wrong, nothing is written and every problem is reported with its
line and field. Pass two reads the records again and writes them in a single
transaction: a crash or a kill leaves the store as it was or with all of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from graph.edges import Edge
from graph.errors import ImportRejected, Problem
from graph.interchange import Record, parse_record
from graph.store import Store, WriteResult

log = logging.getLogger(__name__)

RecordSource = Callable[[], Iterator[tuple[int, Any]]]
"""Returns a fresh iterator of (line number, decoded record) each time it is called."""

Progress = Callable[[int], None]
"""Called with the number of records handled since the last call."""


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
            if isinstance(value, dict) and value.get("type") == "node":
                node_lines.setdefault(str(value.get("id")), line)
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
    result.problems.sort(key=lambda p: (p.line or 0, p.field))
    return result


def _records(source: RecordSource) -> Iterator[Record]:
    for line, value in source():
        record, problems = parse_record(line, value)
        if record is None:  # validated in pass one; a changed file is an error
            raise ImportRejected(problems or [Problem(line, "", "record changed during import")])
        yield record


def import_records(
    source: RecordSource,
    store: Store,
    *,
    max_problems: int = 1_000,
    validate_progress: Progress | None = None,
    write_progress: Progress | None = None,
) -> ImportReport:
    """Validate then write every record of ``source``; raises :class:`ImportRejected`."""
    validation = validate_records(
        source, store, max_problems=max_problems, progress=validate_progress
    )
    if validation.problem_count:
        log.warning("import rejected: %d problems", validation.problem_count)
        raise ImportRejected(validation.problems, total=validation.problem_count)

    def counted() -> Iterator[Record]:
        for record in _records(source):
            yield record
            if write_progress is not None:
                write_progress(1)

    log.info("writing %d records", validation.records)
    written = store.write(counted())
    log.info(
        "import wrote %d nodes and %d edges (%d unchanged)",
        written.nodes_written,
        written.edges_written,
        written.unchanged,
    )
    return ImportReport(validation, written)
