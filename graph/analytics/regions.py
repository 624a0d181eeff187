"""World regions (UN M49) of countries, for the SDG x region grid and council coverage.

A node's region comes from its country code, the only place field the graph view
holds for everyone (a country is never finer than what a person shares). The mapping
ships as ``data/regions.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

REGIONS_FILE = "regions.json"


@dataclass(frozen=True, slots=True)
class Regions:
    """The region names in a fixed order, and the region index of each country code."""

    names: tuple[str, ...]
    of_country: dict[str, int]

    def index(self, country: object) -> int:
        """The region index of an ISO alpha-2 code, or -1 when unknown (or not a string)."""
        if not isinstance(country, str):
            return -1
        return self.of_country.get(country.upper(), -1)


def load_regions(data_dir: Path) -> Regions:
    """Read ``regions.json`` from the reference data folder.

    Raises:
        ValueError: the file names a region it does not list.
    """
    payload = json.loads((Path(data_dir) / REGIONS_FILE).read_text(encoding="utf-8"))
    names = tuple(str(name) for name in payload["regions"])
    position = {name: i for i, name in enumerate(names)}
    of_country: dict[str, int] = {}
    for code, region in payload["countries"].items():
        if region not in position:
            raise ValueError(f"{REGIONS_FILE}: country {code} has unknown region {region!r}")
        of_country[str(code).upper()] = position[region]
    return Regions(names, of_country)
