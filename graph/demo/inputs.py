"""Reading the generator's inputs: sectors, places, SDG target codes and DPG records.

The files live in the project's ``data/`` folder (see ``data/README.md``); the
generator only reads them, so a missing or malformed file is reported with its path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph.demo.errors import DemoInputError

# Official target codes per goal: (count of numbered targets, lettered targets). Used
# only when data/sdg/targets.json is absent, so that edges still point at real targets.
_TARGET_TABLE: dict[int, tuple[int, str]] = {
    1: (5, "ab"), 2: (5, "abc"), 3: (9, "abcd"), 4: (7, "abc"), 5: (6, "abc"),
    6: (6, "ab"), 7: (3, "ab"), 8: (10, "ab"), 9: (5, "abc"), 10: (7, "abc"),
    11: (7, "abc"), 12: (8, "abc"), 13: (3, "ab"), 14: (7, "abc"), 15: (9, "abc"),
    16: (10, "ab"), 17: (19, ""),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class SectorInfo:
    """One of the twelve sectors, as described in ``sectors.json``."""

    slug: str
    name: str
    description: str
    keywords: tuple[str, ...]
    sdgs: tuple[int, ...]
    dpg_sectors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PlaceInfo:
    """A place from ``places.json``: a city, county or region."""

    slug: str
    name: str
    kind: str
    country: str
    region: str
    subregion: str | None
    lat: float
    lon: float
    population: int


def _read_json(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise DemoInputError(path, "file not found") from None
    except json.JSONDecodeError as exc:
        raise DemoInputError(path, f"not valid JSON ({exc})") from None


def load_sectors(data_dir: Path) -> tuple[SectorInfo, ...]:
    """The sectors of ``data_dir/sectors.json`` in file order."""
    path = data_dir / "sectors.json"
    try:
        return tuple(
            SectorInfo(
                slug=row["slug"],
                name=row["name"],
                description=row.get("description", ""),
                keywords=tuple(row.get("keywords", ())),
                sdgs=tuple(int(n) for n in row.get("sdgs", ())),
                dpg_sectors=tuple(row.get("dpg_sectors", ())),
            )
            for row in _read_json(path)
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DemoInputError(path, f"unexpected sector record ({exc!r})") from None


def load_places(data_dir: Path) -> tuple[PlaceInfo, ...]:
    """The places of ``data_dir/places.json`` in file order."""
    path = data_dir / "places.json"
    try:
        return tuple(
            PlaceInfo(
                slug=row["slug"],
                name=row["name"],
                kind=row["kind"],
                country=row["country"],
                region=row["region"],
                subregion=row.get("subregion"),
                lat=float(row["lat"]),
                lon=float(row["lon"]),
                population=int(row["population"]),
            )
            for row in _read_json(path)
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DemoInputError(path, f"unexpected place record ({exc!r})") from None


def load_target_codes(data_dir: Path) -> dict[int, tuple[str, ...]]:
    """SDG target codes per goal, from ``data_dir/sdg/targets.json`` when present."""
    path = data_dir / "sdg" / "targets.json"
    codes: dict[int, list[str]] = {goal: [] for goal in range(1, 18)}
    if path.exists():
        for row in _read_json(path):
            codes[int(row["goal"])].append(str(row["code"]))
    else:
        for goal, (count, letters) in _TARGET_TABLE.items():
            codes[goal] = [f"{goal}.{n}" for n in range(1, count + 1)]
            codes[goal] += [f"{goal}.{letter}" for letter in letters]
    return {goal: tuple(found) for goal, found in codes.items()}


def iter_dpg(data_dir: Path) -> Iterator[dict[str, Any]]:
    """The DPG registry records of ``data_dir/dpg/initiatives.jsonl``, one dict a line."""
    path = data_dir / "dpg" / "initiatives.jsonl"
    try:
        handle = path.open(encoding="utf-8")
    except FileNotFoundError:
        raise DemoInputError(path, "file not found") from None
    with handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DemoInputError(path, f"line {line_no}: not valid JSON ({exc})") from None
            if not isinstance(record, dict) or "name" not in record:
                raise DemoInputError(path, f"line {line_no}: not an initiative record")
            yield record
