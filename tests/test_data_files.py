"""The shipped data files: their shape, the sector mapping, and their match with the sources."""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
SHARED = Path(__file__).resolve().parents[2] / "shared"
CONVERTER = REPO / "scripts" / "build_data.py"

CONVERTED_FILES = (
    "dpg/LICENSE",
    "dpg/initiatives.jsonl",
    "sdg/AURORA-LICENSE.md",
    "sdg/LICENSE",
    "sdg/aurora.json",
    "sdg/goals.json",
    "sdg/targets.json",
)
HAND_WRITTEN_FILES = ("sectors.json", "places.json", "tagging_examples.json")
SECTOR_SLUGS = (
    "arts",
    "business",
    "education",
    "environment",
    "gender-partnerships",
    "health",
    "peace",
    "restorative-justice",
    "science-research",
    "social-justice",
    "social-services",
    "spirituality",
)
WORLD_REGIONS = frozenset(
    {
        "Africa",
        "Asia",
        "Europe",
        "Latin America and the Caribbean",
        "Northern America",
        "Oceania",
    }
)
PLACE_KINDS = frozenset({"city", "county", "region"})
# DPG registry sector labels that no Charter sector fits, each with the reason.
UNMAPPED_DPG_SECTORS = {
    "Digital/Data/Tech": "describes the kind of tool, not a field of work",
    "Digital Development": "describes the kind of tool, not a field of work",
    "Platform creation": "describes the kind of tool, not a field of work",
    "Data Management & Policy": "data governance of the tool itself, not a field of work",
    "Data Security": "data governance of the tool itself, not a field of work",
    "Management": "generic organisational software (energy, case management)",
    "Infrastructure": "physical infrastructure has no Charter sector",
    "Sustainable Cities": "cuts across sectors; cities are modelled as communities, not a sector",
}


def load_json(relative: str) -> Any:
    return json.loads((DATA / relative).read_text(encoding="utf-8"))


def load_initiatives() -> list[dict[str, Any]]:
    lines = (DATA / "dpg" / "initiatives.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def ascii_slug(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "-".join(folded.lower().split())


def test_goals_are_the_17_sdgs_with_translations() -> None:
    goals = load_json("sdg/goals.json")
    assert [goal["number"] for goal in goals] == list(range(1, 18))
    assert goals[0]["short"] == "No poverty"
    for goal in goals:
        assert goal["title"]
        assert {"es", "fr"} <= set(goal["translations"])
        assert all(text["title"] for text in goal["translations"].values())


def test_targets_are_the_169_with_their_indicators() -> None:
    targets = load_json("sdg/targets.json")
    assert len(targets) == 169
    assert len({target["code"] for target in targets}) == 169
    for target in targets:
        assert 1 <= target["goal"] <= 17
        assert target["code"].startswith(f"{target['goal']}.")
        assert all(item["code"].startswith(f"{target['code']}.") for item in target["indicators"])
    assert sum(1 for target in targets if target["indicators"]) > 160
    natural_order = ["1.1", "1.2", "1.3", "1.4", "1.5", "1.a", "1.b", "2.1"]
    assert [target["code"] for target in targets[:8]] == natural_order


def test_aurora_has_keywords_for_every_goal() -> None:
    aurora = load_json("sdg/aurora.json")
    target_codes = {target["code"] for target in load_json("sdg/targets.json")}
    assert [goal["goal"] for goal in aurora] == list(range(1, 18))
    for goal in aurora:
        assert goal["title"]
        assert goal["description"]
        assert goal["targets"]
        for target in goal["targets"]:
            assert target["code"] is None or target["code"] in target_codes
            assert target["keywords"]
            assert all(
                kw == kw.lower() and len(kw) >= 3 and "*" not in kw for kw in target["keywords"]
            )


def test_dpg_initiatives_are_the_714_records_without_bookkeeping() -> None:
    initiatives = load_initiatives()
    assert len(initiatives) == 714
    assert all(record["name"] for record in initiatives)
    assert not any("_source_file" in record for record in initiatives)


def test_sectors_are_the_twelve_with_real_descriptions() -> None:
    sectors = load_json("sectors.json")
    assert tuple(sector["slug"] for sector in sectors) == SECTOR_SLUGS
    assert len({sector["name"] for sector in sectors}) == 12
    for sector in sectors:
        assert 60 <= len(sector["description"].split()) <= 120, sector["slug"]
        assert 15 <= len(sector["keywords"]) <= 30, sector["slug"]
        assert all(keyword == keyword.lower() for keyword in sector["keywords"])
        assert 2 <= len(sector["sdgs"]) <= 5
        assert all(1 <= number <= 17 for number in sector["sdgs"])


def test_sector_keywords_each_point_to_one_sector() -> None:
    counts = Counter(
        keyword for sector in load_json("sectors.json") for keyword in sector["keywords"]
    )
    assert [keyword for keyword, count in counts.items() if count > 1] == []


def test_sectors_keep_their_former_names_as_aliases() -> None:
    aliases = {sector["slug"]: sector["aliases"] for sector in load_json("sectors.json")}
    assert "Women and Girls" in aliases["gender-partnerships"]
    assert "Religion, Spirituality and Interfaith" in aliases["spirituality"]


def test_every_dpg_sector_label_is_mapped_once_or_listed_as_unmapped() -> None:
    labels = {label for record in load_initiatives() for label in record.get("sectors") or []}
    mapped = Counter(
        label for sector in load_json("sectors.json") for label in sector["dpg_sectors"]
    )
    assert set(mapped) <= labels, "a dpg_sectors label that the registry never uses"
    assert [label for label, count in mapped.items() if count > 1] == []
    assert set(mapped).isdisjoint(UNMAPPED_DPG_SECTORS)
    assert labels == set(mapped) | set(UNMAPPED_DPG_SECTORS)


def test_places_are_well_formed() -> None:
    places = load_json("places.json")
    assert len({place["slug"] for place in places}) == len(places)
    for place in places:
        assert place["slug"] == ascii_slug(place["name"])
        assert place["kind"] in PLACE_KINDS
        assert -90 <= place["lat"] <= 90
        assert -180 <= place["lon"] <= 180
        assert len(place["country"]) == 2
        assert place["country"].isascii()
        assert place["country"].isupper()
        assert place["region"] in WORLD_REGIONS
        assert place["population"] > 0
    assert {place["region"] for place in places} == WORLD_REGIONS


def test_places_include_the_capital_region_and_its_six_counties() -> None:
    slugs = {place["slug"] for place in load_json("places.json")}
    counties = ("sacramento", "yolo", "placer", "sutter", "yuba", "el-dorado")
    assert {"capital-region", "sacramento", "davis"} <= slugs
    assert {f"{county}-county" for county in counties} <= slugs


def test_readme_describes_every_shipped_file() -> None:
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for relative in CONVERTED_FILES + HAND_WRITTEN_FILES:
        assert f"`{relative}`" in readme, relative


def test_shipped_files_equal_a_fresh_conversion(tmp_path: Path) -> None:
    if not (SHARED / "data").is_dir():
        pytest.skip(f"the source data folder {SHARED / 'data'} is absent")
    subprocess.run(
        [sys.executable, str(CONVERTER), "--shared", str(SHARED), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    files = (path for path in tmp_path.rglob("*") if path.is_file())
    assert sorted(path.relative_to(tmp_path).as_posix() for path in files) == sorted(
        CONVERTED_FILES
    )
    for relative in CONVERTED_FILES:
        assert (tmp_path / relative).read_bytes() == (DATA / relative).read_bytes(), relative
