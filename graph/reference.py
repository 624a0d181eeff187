"""Reference data: the twelve sectors, the 17 SDGs and their 169 targets.

Read from the project's ``data/`` folder (see ``data/README.md`` for sources and
licences) and loaded idempotently: loading twice writes nothing the second time.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from graph.edges import Edge
from graph.interchange import Record
from graph.model import Indicator, Sdg, SdgTarget, Sector, Translation
from graph.store import Store, WriteResult

PROVENANCE_SDG = "un-sdg (open-sdg/sdg-translations)"
PROVENANCE_SECTOR = "cocreate"


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def sector_records(data_dir: Path) -> Iterator[Sector]:
    for entry in _load(data_dir / "sectors.json"):
        yield Sector(
            id=f"sector:{entry['slug']}",
            name=entry["name"],
            description=entry["description"],
            aliases=entry.get("aliases", []),
            provenance=PROVENANCE_SECTOR,
        )


def sdg_records(data_dir: Path) -> Iterator[Sdg | SdgTarget | Edge]:
    for goal in _load(data_dir / "sdg" / "goals.json"):
        yield Sdg(
            id=f"sdg:{goal['number']}",
            name=goal["short"],
            number=goal["number"],
            title=goal["title"],
            translations={
                lang: Translation(short=t.get("short"), title=t["title"])
                for lang, t in goal.get("translations", {}).items()
            },
            provenance=PROVENANCE_SDG,
        )
    for target in _load(data_dir / "sdg" / "targets.json"):
        target_id = f"sdg_target:{target['code']}"
        yield SdgTarget(
            id=target_id,
            name=f"Target {target['code']}",
            code=target["code"],
            goal=target["goal"],
            title=target["title"],
            indicators=[Indicator(**item) for item in target.get("indicators", [])],
            translations={
                lang: Translation(title=t["title"])
                for lang, t in target.get("translations", {}).items()
            },
            provenance=PROVENANCE_SDG,
        )
        yield Edge(
            kind="part_of",
            source=target_id,
            target=f"sdg:{target['goal']}",
            provenance=PROVENANCE_SDG,
        )


def reference_records(data_dir: Path) -> Iterator[Record]:
    """Every reference node and edge, in a fixed order."""
    yield from sector_records(data_dir)
    yield from sdg_records(data_dir)


@functools.lru_cache(maxsize=4)
def _records(data_dir: Path, stamp: tuple[tuple[str, int, int], ...]) -> tuple[Record, ...]:
    """The records of a folder as its files were at ``stamp`` (records are frozen)."""
    return tuple(reference_records(data_dir))


def ensure_reference(store: Store, data_dir: Path) -> WriteResult:
    """Load the reference data; a no-op when the store already holds it unchanged.

    The records are read once per process while the files stay the same (every store a
    process opens checks them)."""
    files = (data_dir / "sectors.json", data_dir / "sdg" / "goals.json",
             data_dir / "sdg" / "targets.json")  # fmt: skip
    stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    return store.write(_records(data_dir, stamp))
