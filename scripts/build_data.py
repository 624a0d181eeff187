"""Convert the third-party reference data in shared/data into the project's data/ folder.

Usage: python scripts/build_data.py [--shared DIR] [--out DIR]

Writes data/sdg/{goals,targets,aurora}.json, data/dpg/initiatives.jsonl and the licences
beside them. The output is deterministic: running it twice gives identical bytes. The
hand-written data/sectors.json and data/places.json are not touched.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypedDict
from xml.etree import ElementTree

import yaml

REPO = Path(__file__).resolve().parents[1]
TRANSLATED_LANGUAGES = ("ar", "de", "es", "fr", "ru", "zh-Hans")
GOAL_COUNT = 17
TARGET_COUNT = 169
MIN_KEYWORD_LENGTH = 3
DROPPED_DPG_FIELDS = frozenset({"_source_file"})
AURORA_NS = {
    "dc": "http://dublincore.org/documents/dcmi-namespace/",
    "aqd": "http://aurora-network.global/queries/namespace/",
}
# The last segment of a subquery's uri, e.g. .../sdg/4.1, .../sdg/16.10; one file has "3c".
TARGET_URI = re.compile(r"/sdg/(\d+)(?:\.(\w+)|([a-z]))$")
QUOTED_PHRASE = re.compile(r'"([^"]*)"')
LICENCES = {
    "dpg/LICENSE": "dpg/LICENSE",
    "sdg/LICENSE": "sdg/LICENSE",
    "aurora-sdg-queries/LICENSE.md": "sdg/AURORA-LICENSE.md",
}

Texts = dict[str, dict[str, str]]
"""{code: {field: text}} of one sdg-translations file, codes dotted: "1", "1.a", "1.a.1"."""


class Indicator(TypedDict):
    code: str
    title: str


class Goal(TypedDict):
    number: int
    short: str
    title: str
    translations: Texts


class Target(TypedDict):
    code: str
    goal: int
    title: str
    translations: Texts
    indicators: list[Indicator]


class AuroraTarget(TypedDict):
    code: str | None
    keywords: list[str]


class AuroraGoal(TypedDict):
    goal: int
    title: str
    description: str
    targets: list[AuroraTarget]


def collapse(text: str) -> str:
    """Collapse runs of whitespace into single spaces and strip the ends."""
    return " ".join(text.split())


def natural_key(code: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key for dotted SDG codes: numbers numerically, before letters (1.2 < 1.10 < 1.a)."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in code.split("."))


def expect_count(kind: str, items: Sequence[object], expected: int) -> None:
    if len(items) != expected:
        raise ValueError(f"expected {expected} {kind}, found {len(items)}")


def read_texts(path: Path) -> Texts:
    """Read a file keyed like "1-a-title" into {"1.a": {"title": ...}}."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    texts: Texts = {}
    for key, value in raw.items():
        code, _, field = str(key).rpartition("-")
        texts.setdefault(code.replace("-", "."), {})[field] = collapse(str(value))
    return texts


def read_languages(sdg_dir: Path, kind: str) -> dict[str, Texts]:
    """Read global_<kind>.yml in English and every translated language: {language: texts}."""
    languages = ("en", *TRANSLATED_LANGUAGES)
    return {
        language: read_texts(sdg_dir / language / f"global_{kind}.yml") for language in languages
    }


def translations_of(texts: dict[str, Texts], code: str) -> Texts:
    """The translated fields of one code, omitting languages that lack it."""
    return {
        language: dict(sorted(texts[language][code].items()))
        for language in TRANSLATED_LANGUAGES
        if code in texts[language]
    }


def build_goals(texts: dict[str, Texts]) -> list[Goal]:
    goals = [
        Goal(
            number=int(code),
            short=fields["short"],
            title=fields["title"],
            translations=translations_of(texts, code),
        )
        for code, fields in texts["en"].items()
    ]
    expect_count("goals", goals, GOAL_COUNT)
    return sorted(goals, key=lambda goal: goal["number"])


def group_indicators(indicators: Texts) -> dict[str, list[Indicator]]:
    """Indicators by target code ("1.1.1" belongs to "1.1"), each list in natural order."""
    grouped: dict[str, list[Indicator]] = {}
    for code in sorted(indicators, key=natural_key):
        target = code.rpartition(".")[0]
        grouped.setdefault(target, []).append(Indicator(code=code, title=indicators[code]["title"]))
    return grouped


def build_targets(texts: dict[str, Texts], indicators: Texts) -> list[Target]:
    grouped = group_indicators(indicators)
    targets = [
        Target(
            code=code,
            goal=int(code.partition(".")[0]),
            title=texts["en"][code]["title"],
            translations=translations_of(texts, code),
            indicators=grouped.get(code, []),
        )
        for code in sorted(texts["en"], key=natural_key)
    ]
    expect_count("targets", targets, TARGET_COUNT)
    orphans = sorted(set(grouped) - set(texts["en"]), key=natural_key)
    if orphans:
        raise ValueError(f"indicators of unknown targets: {orphans}")
    return targets


def target_code(uri: str, known: set[str]) -> str | None:
    """The target code of a subquery uri, or None when it names no known target (e.g. 13.0)."""
    match = TARGET_URI.search(uri.strip())
    code = f"{match[1]}.{match[2] or match[3]}" if match else None
    return code if code in known else None


def quoted_keywords(query_lines: Iterable[str]) -> list[str]:
    """Distinct quoted phrases of Scopus query lines, lower-cased, without wildcards."""
    keywords: dict[str, None] = {}
    for line in query_lines:
        for phrase in QUOTED_PHRASE.findall(line):
            keyword = collapse(phrase.replace("*", "")).lower()
            if len(keyword) >= MIN_KEYWORD_LENGTH:
                keywords.setdefault(keyword)
    return list(keywords)


def required_text(element: ElementTree.Element, path: str) -> str:
    text = element.findtext(path, namespaces=AURORA_NS)
    if text is None:
        raise ValueError(f"missing {path}")
    return text


def aurora_target(definition: ElementTree.Element, known: set[str]) -> AuroraTarget:
    uri = definition.findtext("dc:identifier[@type='uri']", default="", namespaces=AURORA_NS)
    lines = definition.iterfind("aqd:query-lines/aqd:query-line", AURORA_NS)
    return AuroraTarget(
        code=target_code(uri, known),
        keywords=quoted_keywords(line.text or "" for line in lines),
    )


def read_aurora_goal(path: Path, known: set[str]) -> AuroraGoal:
    """Parse one query_SDG<n>.xml; utf-8-sig because some files start with a BOM."""
    root = ElementTree.fromstring(path.read_text(encoding="utf-8-sig"))
    definitions = root.iterfind("aqd:query-definitions/aqd:query-definition", AURORA_NS)
    return AuroraGoal(
        goal=int(required_text(root, "dc:identifier[@type='sdg']")),
        title=collapse(required_text(root, "dc:title")),
        description=collapse(required_text(root, "dc:description")),
        targets=[aurora_target(definition, known) for definition in definitions],
    )


def build_aurora(queries_dir: Path, known: set[str]) -> list[AuroraGoal]:
    goals = []
    for number in range(1, GOAL_COUNT + 1):
        goal = read_aurora_goal(queries_dir / f"query_SDG{number}.xml", known)
        if goal["goal"] != number:
            raise ValueError(f"query_SDG{number}.xml is about SDG {goal['goal']}")
        goals.append(goal)
    return goals


def read_initiatives(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines if line.strip()]
    return [
        {key: value for key, value in record.items() if key not in DROPPED_DPG_FIELDS}
        for record in records
    ]


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")
    return path


def write_json(path: Path, value: object) -> Path:
    return write_text(path, json.dumps(value, ensure_ascii=False, indent=1) + "\n")


def write_jsonl(path: Path, records: Iterable[object]) -> Path:
    lines = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) for record in records)
    return write_text(path, "".join(f"{line}\n" for line in lines))


def copy_file(source: Path, destination: Path) -> Path:
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, destination)
    return destination


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--shared",
        type=Path,
        default=REPO.parent / "shared",
        help="the shared folder holding data/ (default: ../shared beside the repository)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO / "data",
        help="the folder to write into (default: the repository's data/)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    source: Path = args.shared / "data"
    out: Path = args.out
    sdg_dir = source / "sdg"
    goals = build_goals(read_languages(sdg_dir, "goals"))
    targets = build_targets(
        read_languages(sdg_dir, "targets"), read_texts(sdg_dir / "en" / "global_indicators.yml")
    )
    aurora = build_aurora(source / "aurora-sdg-queries", {target["code"] for target in targets})
    initiatives = read_initiatives(source / "dpg" / "initiatives.jsonl")
    written = [
        write_json(out / "sdg" / "goals.json", goals),
        write_json(out / "sdg" / "targets.json", targets),
        write_json(out / "sdg" / "aurora.json", aurora),
        write_jsonl(out / "dpg" / "initiatives.jsonl", initiatives),
        *(copy_file(source / src, out / dst) for src, dst in LICENCES.items()),
    ]
    print(
        f"build_data: wrote {len(written)} files to {out}: {len(goals)} goals, "
        f"{len(targets)} targets, {len(aurora)} Aurora queries, {len(initiatives)} DPG initiatives"
    )


if __name__ == "__main__":
    main()
