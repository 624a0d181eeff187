"""The query sets of ``evaluate_collections.py``: Cranfield and CISI in BEIR's layout, the DPG
evidence queries over the demo network, and :data:`DEMO_QUERIES` over its Wisdom Book."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import evaluate

from graph.demo.practices import PRACTICES

COLLECTIONS = ("cranfield", "cisi")

DEMO_QUERIES: dict[str, str] = {
    "a neighbourhood mural painted with residents": "neighbours painting a wall together",
    "a storytelling circle for newcomers": "listening to the stories of refugee families",
    "music sessions on a hospital ward": "live music for bored patients in hospital",
    "a pay-what-you-can community café": "cafe where people pay what they can afford",
    "a worker cooperative for home cleaners": "cleaning workers owning their own business",
    "a compassionate leadership circle for small-business owners": "shop owners burnt out",
    "restorative circles after playground conflicts": "fights at school without suspension",
    "a peer mentoring scheme for first-year students": "older students helping freshmen stay",
    "a compassion curriculum for primary classrooms": "teaching kindness to young pupils",
    "a community garden on an empty lot": "growing vegetables on vacant land",
    "a street-by-street tree planting campaign": "planting trees for shade in hot streets",
    "a monthly repair café": "fixing broken toasters instead of throwing them away",
    "a safe space for girls after school": "somewhere safe for girls after class",
    "a fathers' caregiving group": "dads taking care of their kids",
    "a network of community advocates against gender-based violence": "domestic abuse help",
    "trauma-informed training for clinic staff": "nurses learning about trauma",
    "community health workers for new mothers": "support for women after childbirth",
    "a mental health first aid course for volunteers": "helping someone in a mental crisis",
    "violence interrupters trained from the neighbourhood": "stopping shootings between gangs",
    "intercultural dinners between old and new residents": "shared meals with refugees",
    "bystander training in public spaces": "stepping in when someone is harassed on the bus",
    "a youth diversion programme with restorative conferences": "keeping teens out of court",
    "reentry circles for people leaving prison": "support for ex-prisoners",
    "healing circles after a community tragedy": "a town grieving after a killing",
    "a citizen science air quality network": "residents measuring air pollution",
    "participatory research on loneliness": "a study of lonely people in the city",
    "STEM clubs for girls run by students": "science club for teenage girls",
    "a tenants' union in a large building": "renters organising against their landlord",
    "a language access campaign for public services": "interpreters for immigrants at city hall",
    "a community campaign against environmental racism": "pollution in black neighbourhoods",
    "a visiting programme for isolated elders": "visiting lonely old people",
    "a one-stop benefits navigation desk": "help filling in welfare forms",
    "street outreach for people sleeping rough": "reaching homeless people on the street",
    "an interfaith service day": "churches mosques and temples volunteering together",
    "a grief support circle open to all traditions": "a group for people who lost someone",
    "a weekly compassion meditation for health workers": "meditation for exhausted carers",
}
"""One query per demo practice, in a user's words (written for this evaluation)."""


@dataclass
class QuerySet:
    """Indexed (id, text) items and judged queries; ``index`` is shared by ``dpg`` and ``demo``."""

    name: str
    items: list[tuple[str, str]]
    queries: list[evaluate.Query]
    warm: tuple[list[str], ...] = ()
    """Text lists whose vector caches (of ``evaluate.py retrieval``) may already exist."""


def read_jsonl(path: Path) -> Iterable[dict[str, Any]]:
    """The JSON objects of a JSON-lines file, one a line (blank lines skipped)."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def load_beir(folder: Path, name: str) -> QuerySet:
    """A BEIR-layout collection: documents as title and text, queries with judgements > 0."""
    items = []
    for doc in read_jsonl(folder / "corpus.jsonl"):
        text = " ".join(p for p in (doc.get("title", ""), doc.get("text", "")) if p.strip())
        items.append((str(doc["_id"]), text))
    judged: dict[str, dict[str, float]] = {}
    with (folder / "qrels.tsv").open(encoding="utf-8") as rows:
        for row in rows:
            query_id, doc_id, grade = row.rstrip("\n").split("\t")
            if query_id == "query-id" or float(grade) <= 0:
                continue
            judged.setdefault(query_id, {})[doc_id] = float(grade)
    queries = [
        evaluate.Query(f"{name}:{q['_id']}", q["text"], judged[str(q["_id"])], f"{name}:{q['_id']}")
        for q in read_jsonl(folder / "queries.jsonl")
        if str(q["_id"]) in judged
    ]
    return QuerySet(name, items, queries)


def demo_queries(items: Sequence[tuple[str, str]]) -> list[evaluate.Query]:
    """:data:`DEMO_QUERIES`, each with the Wisdom Book entries telling its practice."""
    steps = {p.name: [s.casefold() for s in p.steps] for ps in PRACTICES.values() for p in ps}
    entries: dict[str, dict[str, float]] = {name: {} for name in DEMO_QUERIES}
    for item_id, text in items:
        if not item_id.startswith("wisdom_entry:"):
            continue
        folded = text.casefold()
        for name, its_steps in steps.items():
            if name in entries and any(step in folded for step in its_steps):
                entries[name][item_id] = 1.0
    return [
        evaluate.Query(f"demo:{name}", query, entries[name], f"demo:{name}")
        for name, query in DEMO_QUERIES.items()
        if entries[name]
    ]


def load_sets(options: argparse.Namespace, *, siblings: bool = False) -> list[QuerySet]:
    """Cranfield and CISI when present, and the DPG evidence and demo queries.

    ``siblings``: also ``evaluate.py retrieval``'s ``siblings`` family over the same index
    (an initiative's description finding the other initiatives of its owner, itself
    excluded).
    """
    sets = []
    for name in COLLECTIONS:
        folder = options.collections / name
        if (folder / "corpus.jsonl").is_file():
            sets.append(load_beir(folder, name))
        else:
            print(f"{folder} not found: {name} skipped.", file=sys.stderr)
    if not options.no_demo:
        data = evaluate.load_evaluation_set(options.data, seed=options.seed, people=options.people)
        every = [t for _, t in data.items] + [q.text for f in data.families.values() for q in f]
        warm = (list(dict.fromkeys(every)),)
        sets.append(QuerySet("dpg", data.items, data.families["evidence"], warm))
        sets.append(QuerySet("demo", data.items, demo_queries(data.items), warm))
        if siblings:
            sets.append(QuerySet("siblings", data.items, data.families["siblings"], warm))
    return sets
