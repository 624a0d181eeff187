"""CSV import of people and initiatives, the way grassroots networks keep them.

Each row becomes one node record plus edge records, fed to the same all-or-nothing
importer as JSON Lines. Problems name the CSV line and column. List cells use
``;`` between items. Columns are documented in ``docs/interchange.md``.

The file is read as bytes and decoded line by line: a line that is not UTF-8, is
longer than :data:`~graph.interchange.MAX_LINE_BYTES` or breaks the CSV syntax ends
the reading with a problem on that line (a quoted cell may span lines, so nothing
after it can be trusted). A byte order mark at the start is ignored.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from graph.errors import Problem
from graph.ids import is_valid_id, slugify
from graph.interchange import BOM, MAX_LINE_BYTES, Malformed, shown
from graph.model import Sector
from graph.store import Store

Table = Literal["people", "initiatives"]

PLACE_COLUMNS = ("place", "country", "region", "lat", "lon")
PEOPLE_COLUMNS = (
    "id", "name", "bio", "interests", "skills", "offers", "needs", "languages",
    *PLACE_COLUMNS, "location_precision", "visibility", "discoverable",
    "open_to_collaborate", "email", "phone", "website",
    "sectors", "sdgs", "communities", "organizations", "initiatives",
)  # fmt: skip
INITIATIVE_COLUMNS = (
    "id", "name", "description", "website", "active", "needs",
    *PLACE_COLUMNS, "sectors", "sdgs", "communities", "organizations",
)  # fmt: skip
COLUMNS: dict[Table, tuple[str, ...]] = {
    "people": PEOPLE_COLUMNS,
    "initiatives": INITIATIVE_COLUMNS,
}
_LISTS = ("interests", "skills", "offers", "needs", "languages")
_BOOLS = ("discoverable", "open_to_collaborate", "active")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}
# A problem in a record field is reported under the column it came from.
_FIELD_TO_COLUMN = {
    "place.name": "place", "place.country": "country", "place.region": "region",
    "place.lat": "lat", "place.lon": "lon", "place": "lat",
    "contact.email": "email", "contact.phone": "phone", "contact.website": "website",
}  # fmt: skip


def split_list(cell: str) -> list[str]:
    return [item.strip() for item in cell.split(";") if item.strip()]


@dataclass
class Spreadsheet:
    """A CSV file of people or initiatives, readable any number of times as records."""

    path: Path
    table: Table
    store: Store
    _sectors: dict[str, str] = field(default_factory=dict)
    _columns: dict[tuple[int, str], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for sector in self.store.iter_nodes(kind="sector"):
            assert isinstance(sector, Sector)
            for label in (sector.id, sector.id.split(":", 1)[1], sector.name, *sector.aliases):
                self._sectors[label.casefold()] = sector.id

    def column_of(self, problem: Problem) -> Problem:
        """The problem with its field renamed to the CSV column it came from."""
        column = self._columns.get((problem.line or 0, problem.value or ""))
        column = column or _FIELD_TO_COLUMN.get(problem.field, problem.field)
        return Problem(problem.line, column, problem.reason)

    def records(self) -> Iterator[tuple[int, Any]]:
        """(CSV line, record or :class:`Malformed`) for every row; a row gives several."""
        known_orgs: set[str] = set()
        with self.path.open("rb") as stream:
            lines = _TextLines(stream)
            reader = csv.DictReader(lines)
            try:
                header = reader.fieldnames or []
                unknown = [c for c in header if c not in COLUMNS[self.table]]
                if unknown:
                    expected = ", ".join(COLUMNS[self.table])
                    reason = f"unknown column {shown(unknown[0])}; expected some of {expected}"
                    yield 1, Malformed(reason, field=unknown[0][:60])
                    return
                for row in reader:
                    line = reader.line_num
                    cells = {k: (v or "").strip() for k, v in row.items() if k is not None}
                    yield from self._row(line, cells, known_orgs)
            except _BadLine as bad:
                yield bad.line, Malformed(bad.reason)
            except csv.Error as exc:
                yield max(1, reader.line_num), Malformed(f"malformed CSV: {exc}")

    def _row(
        self, line: int, cells: dict[str, str], known_orgs: set[str]
    ) -> Iterator[tuple[int, Any]]:
        kind = "person" if self.table == "people" else "initiative"
        name = cells.get("name", "")
        node_id = cells.get("id") or (f"{kind}:{slugify(name)}" if name else "")
        if node_id and ":" not in node_id:
            node_id = f"{kind}:{node_id}"
        record: dict[str, Any] = {"type": "node", "kind": kind, "id": node_id, "name": name}
        bad = False
        for column, value in cells.items():
            if not value or column in ("id", "name"):
                continue
            try:
                self._cell(record, column, value)
            except ValueError as exc:
                bad = True
                yield line, Malformed(str(exc), field=column)
        if bad:
            return
        yield line, record
        for column, edge_kind, other in self._links(kind, cells):
            if edge_kind == "partners_with" and other not in known_orgs:
                known_orgs.add(other)
                if not self.store.existing_ids([other]):
                    name = organization_name(other, cells[column])
                    yield line, {"type": "node", "kind": "organization", "id": other, "name": name}
            self._columns[(line, other)] = column
            ends = (other, node_id) if edge_kind == "partners_with" else (node_id, other)
            yield line, {"type": "edge", "kind": edge_kind, "source": ends[0], "target": ends[1]}

    def _cell(self, record: dict[str, Any], column: str, value: str) -> None:
        if column in _LISTS:
            record[column] = split_list(value)
        elif column in _BOOLS:
            if value.casefold() not in _TRUE | _FALSE:
                raise ValueError(f"{shown(value)} is not yes/no or true/false")
            record[column] = value.casefold() in _TRUE
        elif column in PLACE_COLUMNS:
            place = record.setdefault("place", {})
            key = "name" if column == "place" else column
            if column in ("lat", "lon"):
                try:
                    place[key] = float(value)
                except ValueError:
                    raise ValueError(f"{shown(value)} is not a number") from None
            else:
                place[key] = value
        elif column in ("email", "phone") or (column == "website" and self.table == "people"):
            record.setdefault("contact", {})[column] = value
        elif column not in ("sectors", "sdgs", "communities", "organizations", "initiatives"):
            record[column] = value

    def _links(self, kind: str, cells: dict[str, str]) -> Iterator[tuple[str, str, str]]:
        """(column, edge kind, other node id) for the link columns of a row."""
        sector_kind = "interested_in" if kind == "person" else "in_sector"
        sdg_kind = "interested_in" if kind == "person" else "addresses"
        for item in split_list(cells.get("sectors", "")):
            yield (
                "sectors",
                sector_kind,
                self._sectors.get(item.casefold(), f"sector:{slugify(item)}"),
            )
        for item in split_list(cells.get("sdgs", "")):
            code = item.removeprefix("SDG").removeprefix("sdg").strip()
            yield "sdgs", sdg_kind, f"sdg_target:{code}" if "." in code else f"sdg:{code}"
        for item in split_list(cells.get("communities", "")):
            yield "communities", "located_in", _as_id("community", item)
        org_kind = "member_of" if kind == "person" else "partners_with"
        for item in split_list(cells.get("organizations", "")):
            yield "organizations", org_kind, _as_id("organization", item)
        for item in split_list(cells.get("initiatives", "")):
            yield "initiatives", "works_on", _as_id("initiative", item)


class _BadLine(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


class _TextLines:
    """The lines of a binary stream as text, for :mod:`csv`; raises :class:`_BadLine`."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.number = 0

    def __iter__(self) -> _TextLines:
        return self

    def __next__(self) -> str:
        chunk = self.stream.readline(MAX_LINE_BYTES + 1)
        if not chunk:
            raise StopIteration
        self.number += 1
        if len(chunk) > MAX_LINE_BYTES and not chunk.endswith(b"\n"):
            raise _BadLine(self.number, f"longer than {MAX_LINE_BYTES:,} bytes")
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            reason = f"not UTF-8 text: byte 0x{chunk[exc.start]:02x} at byte {exc.start + 1}"
            raise _BadLine(self.number, reason) from None
        return text.removeprefix(BOM) if self.number == 1 else text


def _as_id(kind: str, value: str) -> str:
    return (
        value if value.startswith(f"{kind}:") and is_valid_id(value) else f"{kind}:{slugify(value)}"
    )


def organization_name(node_id: str, cell: str) -> str:
    """The name a new organisation gets: its spelling in the cell, or its slug."""
    for item in split_list(cell):
        if _as_id("organization", item) == node_id and not item.startswith("organization:"):
            return item
    return node_id.split(":", 1)[1]
