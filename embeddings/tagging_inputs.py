"""What a tagger is built from: reference texts, labelled examples, and the evaluation split.

The reference is the zero-shot knowledge: the SDG targets in official wording with
their indicators, the Aurora expert keywords per goal (CC BY 4.0, see
``data/README.md``) and the twelve sectors with their descriptions, keywords and
typical SDGs. Labelled examples are texts with their SDGs and sectors; the shipped
ones are the 714 initiatives of the Digital Public Goods registry.

The split (:func:`split_examples`): a record's group is its first owner
organisation's name, case-folded, else its own name; the group is held out when the
first 8 bytes of blake2b(group), read big-endian, are 0-29 mod 100 (about 30% of the
records; 231 of the 714 shipped ones). Projects of one owner (five Mifos apps, six
UNICEF tools) thus never straddle the split, so a near-copy in training cannot
flatter the held-out figures. Held-out records are never used to fit or tune.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embeddings.errors import EmbeddingsError

HELD_OUT_PERCENT = 30


class TaggingDataError(EmbeddingsError, ValueError):
    """Reference or training data that a tagger cannot be built from."""

    def __init__(self, where: str | Path, reason: str) -> None:
        self.where, self.reason = str(where), reason
        super().__init__(f"cannot build a tagger from '{self.where}': {reason}")


@dataclass(frozen=True, slots=True)
class TargetText:
    """An SDG target in official wording, with its indicators' titles."""

    code: str
    goal: int
    title: str
    indicators: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SectorText:
    """A sector: its description, tagging keywords and typical SDGs."""

    slug: str
    name: str
    description: str
    keywords: tuple[str, ...] = ()
    sdgs: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class TaggingReference:
    """The zero-shot knowledge: targets, Aurora keywords per goal, sectors."""

    targets: tuple[TargetText, ...]
    keywords: tuple[tuple[int, str], ...]  # (goal, Aurora keyword)
    sectors: tuple[SectorText, ...]


@dataclass(frozen=True, slots=True)
class LabelledText:
    """A training or evaluation text with its SDGs and sectors (empty: unlabelled)."""

    id: str
    text: str
    sdgs: frozenset[int]
    sectors: frozenset[str] = frozenset()
    name: str = ""
    group: str = ""  # texts of one group share a split side and a cross-validation fold


def bucket(key: str, buckets: int) -> int:
    """A stable bucket in 0 ... buckets - 1 for a key (blake2b, first 8 bytes big-endian)."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % buckets


def is_held_out(group: str) -> bool:
    """Whether texts of this group belong to the held-out evaluation split."""
    return bucket(group, 100) < HELD_OUT_PERCENT


def split_examples(
    examples: Sequence[LabelledText],
) -> tuple[list[LabelledText], list[LabelledText]]:
    """(training, held out), each in the given order; see the module docstring."""
    training: list[LabelledText] = []
    held_out: list[LabelledText] = []
    for example in examples:
        (held_out if is_held_out(example.group or example.id) else training).append(example)
    return training, held_out


def load_reference(data_dir: Path) -> TaggingReference:
    """Targets, Aurora keywords and sectors from the shipped ``data/`` folder."""
    targets = _read(data_dir / "sdg" / "targets.json")
    aurora = _read(data_dir / "sdg" / "aurora.json")
    sectors = _read(data_dir / "sectors.json")
    try:
        return TaggingReference(
            targets=tuple(
                TargetText(
                    t["code"],
                    int(t["goal"]),
                    t["title"],
                    tuple(i["title"] for i in t["indicators"]),
                )
                for t in targets
            ),
            keywords=tuple(
                (int(goal["goal"]), keyword)
                for goal in aurora
                for query in goal["targets"]
                for keyword in query["keywords"]
            ),
            sectors=tuple(
                SectorText(
                    s["slug"], s["name"], s["description"], tuple(s["keywords"]), tuple(s["sdgs"])
                )
                for s in sectors
            ),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise TaggingDataError(data_dir, f"unexpected reference record ({exc!r})") from None


def load_dpg_examples(data_dir: Path) -> list[LabelledText]:
    """The DPG registry initiatives as labelled texts ("name\\n\\ndescription", as graph nodes).

    Registry sector labels become our sectors through ``dpg_sectors`` in ``sectors.json``;
    the id is the name, with " (2)", " (3)"... for names seen before in file order.
    """
    to_sector = {
        label.casefold(): s["slug"]
        for s in _read(data_dir / "sectors.json")
        for label in s.get("dpg_sectors", ())
    }
    path = data_dir / "dpg" / "initiatives.jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        records = [json.loads(line) for line in lines if line.strip()]
    except (OSError, ValueError) as exc:
        raise TaggingDataError(path, str(exc)) from None
    out: list[LabelledText] = []
    seen: dict[str, int] = {}
    for record in records:
        name = str(record.get("name") or "").strip()
        seen[name] = seen.get(name, 0) + 1
        owners = [
            str(o.get("name") or "").strip()
            for o in record.get("organizations") or []
            if o.get("org_type") == "owner"
        ]
        owner = next((o for o in owners if o), name)
        out.append(
            LabelledText(
                id=name if seen[name] == 1 else f"{name} ({seen[name]})",
                text=f"{name}\n\n{str(record.get('description') or '').strip()}".strip(),
                sdgs=frozenset(int(s["SDGNumber"]) for s in record.get("SDGs") or []),
                sectors=frozenset(
                    to_sector[label.casefold()]
                    for label in record.get("sectors") or []
                    if label.casefold() in to_sector
                ),
                name=name,
                group=owner.casefold(),
            )
        )
    return out


def load_plain_examples(data_dir: Path) -> list[LabelledText]:
    """The project's own short labelled examples in everyday words (``tagging_examples.json``).

    They teach the tagger how people write about a goal when the registry's software
    descriptions do not; each is its own group, and all of them are training texts.
    """
    path = data_dir / "tagging_examples.json"
    try:
        return [
            LabelledText(
                id=f"example {i}",
                text=str(record["text"]),
                sdgs=frozenset(int(g) for g in record["sdgs"]),
                sectors=frozenset(str(s) for s in record["sectors"]),
                name=str(record["text"]),
                group=f"example {i}",
            )
            for i, record in enumerate(_read(path), start=1)
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise TaggingDataError(path, f"unexpected example record ({exc!r})") from None


def shipped_split(data_dir: Path) -> tuple[list[LabelledText], list[LabelledText]]:
    """(training, held out) as the service uses them: the DPG training split and the
    plain examples, and the DPG held-out split (never used to fit or tune)."""
    training, held_out = split_examples(load_dpg_examples(data_dir))
    return [*training, *load_plain_examples(data_dir)], held_out


def _read(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        raise TaggingDataError(path, str(exc)) from None
