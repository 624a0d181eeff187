"""Real initiatives and organisations from the Digital Public Goods registry.

Each registry record becomes an :class:`Initiative` (``initiative:<slug of name>``;
a slug already taken in file order gets ``-2``, ``-3``...). Each distinct
organisation, by normalised name (its slug), becomes an :class:`Organization`
named as it was first spelt, and ``partners_with`` the initiative with
``role`` = its ``org_type`` (the first one listed when a record names the same
organisation twice). ``addresses`` edges carry the registry's evidence text.

Sectors: the registry's sector labels are mapped to our sectors through the
``dpg_sectors`` lists of ``sectors.json`` (``provenance="dpg"``). An initiative
that gets no sector that way has up to two sectors *inferred from its SDGs*
(``weight=0.5``, ``provenance="inferred-from-sdg"``): the candidates are the sectors
whose ``sdgs`` list contains one of the initiative's goals, ranked by how many of
its goals they list, then by how often the registry itself labels initiatives with
those goals as belonging to the sector (so a health-data tool goes to health rather
than to a sector that merely shares goal 3), then by file order. The first is
kept, and the second too when it matches as many goals and has registry support.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph.demo.inputs import SectorInfo, iter_dpg
from graph.edges import Edge
from graph.ids import slugify
from graph.model import Initiative, Node, Organization

PROVENANCE = "dpg"
INFERRED = "inferred-from-sdg"


@dataclass(frozen=True, slots=True)
class DpgIndex:
    """What the rest of the generator needs to know about the DPG records."""

    ids: frozenset[str]  # every initiative and organisation id yielded
    by_sector: tuple[tuple[str, ...], ...]  # initiative ids per sector, in file order


def infer_sectors(
    sdgs: list[int], sectors: tuple[SectorInfo, ...], support: list[Counter[int]]
) -> list[int]:
    """Indices of at most two sectors for an initiative addressing ``sdgs``.

    ``support[s][g]`` counts the registry records labelled with sector ``s`` and goal ``g``.
    """
    ranked = []
    for position, sector in enumerate(sectors):
        goals = [g for g in sdgs if g in sector.sdgs]
        if goals:
            ranked.append((-len(goals), -sum(support[position][g] for g in goals), position))
    ranked.sort()
    keep = ranked[:1] + [r for r in ranked[1:2] if r[0] == ranked[0][0] and r[1] < 0]
    return [r[2] for r in keep]


def _sector_positions(record: dict[str, Any], label_to_sector: dict[str, int]) -> list[int]:
    mapped = [label_to_sector.get(_text(lab).casefold()) for lab in record.get("sectors") or []]
    return list(dict.fromkeys(p for p in mapped if p is not None))


def _support(
    data_dir: Path, sectors: tuple[SectorInfo, ...], label_to_sector: dict[str, int]
) -> list[Counter[int]]:
    support: list[Counter[int]] = [Counter() for _ in sectors]
    for record in iter_dpg(data_dir):
        goals = {sdg.get("SDGNumber") for sdg in record.get("SDGs") or []}
        for position in _sector_positions(record, label_to_sector):
            support[position].update(g for g in goals if isinstance(g, int))
    return support


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def dpg_records(
    data_dir: Path, sectors: tuple[SectorInfo, ...]
) -> Generator[Node | Edge, None, DpgIndex]:
    """Yield the DPG initiatives, organisations and their edges; return a :class:`DpgIndex`."""
    label_to_sector = {
        label.casefold(): position
        for position, sector in enumerate(sectors)
        for label in sector.dpg_sectors
    }
    support = _support(data_dir, sectors, label_to_sector)
    seen_slugs: set[str] = set()
    org_ids: set[str] = set()
    by_sector: list[list[str]] = [[] for _ in sectors]
    for record in iter_dpg(data_dir):
        name = _text(record["name"])
        base = slugify(name)
        slug, n = base, 1
        while slug in seen_slugs:
            n += 1
            slug = f"{base}-{n}"
        seen_slugs.add(slug)
        initiative_id = f"initiative:{slug}"
        stage = _text(record.get("stage")) or None
        licenses = [_text(lic.get("spdx")) for lic in record.get("license") or []]
        yield Initiative(
            id=initiative_id,
            name=name,
            description=_text(record.get("description")),
            website=_text(record.get("website")) or None,
            stage=stage,
            types=[t for t in record.get("type") or [] if _text(t)],
            licenses=list(dict.fromkeys(lic for lic in licenses if lic)),
            active=stage != "archive",
            provenance=PROVENANCE,
        )
        roles: dict[str, str] = {}
        for org in record.get("organizations") or []:
            org_name = _text(org.get("name"))
            org_id = f"organization:{slugify(org_name)}"
            if not org_name or org_id in roles:
                continue
            roles[org_id] = _text(org.get("org_type")) or "partner"
            if org_id not in org_ids:
                org_ids.add(org_id)
                yield Organization(
                    id=org_id,
                    name=org_name,
                    website=_text(org.get("website")) or None,
                    provenance=PROVENANCE,
                )
        for org_id, role in roles.items():
            yield Edge(
                kind="partners_with",
                source=org_id,
                target=initiative_id,
                role=role,
                provenance=PROVENANCE,
            )
        evidence: dict[int, str | None] = {}
        for sdg in record.get("SDGs") or []:
            number = sdg.get("SDGNumber")
            if isinstance(number, int) and 1 <= number <= 17:
                text = _text(sdg.get("evidenceText"))[:5000] or None
                evidence[number] = evidence.get(number) or text
        for number, text in evidence.items():
            yield Edge(
                kind="addresses",
                source=initiative_id,
                target=f"sdg:{number}",
                evidence=text,
                provenance=PROVENANCE,
            )
        found = _sector_positions(record, label_to_sector)
        inferred = not found
        if inferred:
            found = infer_sectors(list(evidence), sectors, support)
        for position in found:
            by_sector[position].append(initiative_id)
            yield Edge(
                kind="in_sector",
                source=initiative_id,
                target=f"sector:{sectors[position].slug}",
                weight=0.5 if inferred else None,
                provenance=INFERRED if inferred else PROVENANCE,
            )
    return DpgIndex(
        ids=frozenset(f"initiative:{s}" for s in seen_slugs) | frozenset(org_ids),
        by_sector=tuple(tuple(ids) for ids in by_sector),
    )
