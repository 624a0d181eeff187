#!/usr/bin/env python
"""Related Wisdom Book entries: is the entry on the same practice ranked first?

Every demo entry tells one of the demo's practices (:mod:`graph.demo.practices`) and
names it in its title, so whether two entries are on the same practice is known. Two
sets of questions are asked exactly as ``POST /v1/wisdom/related`` asks them
(:func:`graph.editorial.related.related_wisdom`, the real model, the real tagger for a
draft's goals and sectors):

- ``drafts``: drafts written by hand for this evaluation (:data:`DRAFTS`), each about
  one practice in an editor's own words, the way the violence-interrupter draft of
  issue 11 was: the practice named in the title while the body leans towards a
  neighbouring theme, or a plain title with the practice told in the body, or neither
  naming it. The ``dev`` drafts were looked at while the ranking was designed; the
  ``held-out`` ones were written at the same time and looked at only to report;
- ``filed``: every original entry asked by its id (near-duplicates aside).

Reported per set, before (the ranking on text similarity and topics alone) and after
(with the title match): hits@1 (the first related entry is on the draft's practice),
MRR of the first entry on the practice within the ten shown, and precision@5 (entries
on the practice among the first five, over the most there could be). Prints Markdown;
writes JSON.

    .venv/bin/python scripts/evaluate_related.py [--people 3000] [--seed 7] [--json PATH]
        [--no-filed]
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import networkx as nx
from wisdom_eval import KnownVectors, add_demo_options, encode_cached

from api.editors import suggested_topics
from embeddings.encoder import load_encoder
from embeddings.tagging import fit_on_shipped_data
from embeddings.tokenize import tokens
from graph.demo import demo_records
from graph.demo.practices import PRACTICES
from graph.demo.wisdom_text import REVISED_TITLES
from graph.edges import Edge
from graph.editorial import Draft, PassageVectors, related_wisdom
from graph.editorial.explain import topics_of
from graph.editorial.related import BEFORE, RANKING, Ranking
from graph.editorial.titles import EntryTitles
from graph.model import Node, WisdomEntry
from graph.similarity import VectorSimilarity
from graph.texts import node_text

DEPTH = 10
_tokens = functools.lru_cache(maxsize=50_000)(tokens)

# (set, practice as named in the demo, title, body). Written for this evaluation.
DRAFTS: tuple[tuple[str, str, str, str], ...] = (
    ("dev", "violence interrupters trained from the neighbourhood",
     "Violence interrupters on our block",
     "After three shootings in one summer we started mentoring teenagers who were close to "
     "the groups involved. Older men who grew up on these streets meet them after school, "
     "talk them down when tempers rise and help them find jobs. The young people now come "
     "to us before a fight, not after."),
    ("dev", "a peer mentoring scheme for first-year students",
     "Peer mentors for new students",
     "Second-year students volunteer to meet a first-year student every week during the "
     "first term. They show them the library, help with timetables and listen when "
     "homesickness hits. Dropout in the first year went down."),
    ("dev", "a community garden on an empty lot",
     "Growing food on a vacant lot",
     "Neighbours cleared the rubbish from a lot the city had forgotten and built raised "
     "beds. Families from the food bank list got their own plots and the harvest is "
     "shared on Saturdays."),
    ("dev", "a network of community advocates against gender-based violence",
     "Our first year",
     "We trained women from every block as advocates, so that anyone facing violence at "
     "home knows one trusted person who can tell them where to find help. We agreed a "
     "referral path with the shelter and meet monthly to support each other."),
    ("dev", "bystander training in public spaces",
     "Bystander training for bus drivers",
     "Harassment on the night buses kept coming up. Drivers and regular passengers "
     "learnt how to step in safely: distract, delegate, document. Short sessions at the "
     "depot, with role plays."),
    ("dev", "restorative circles after playground conflicts",
     "Restorative circles at break time",
     "Fights in the playground used to end in the head teacher's office. Now the pupils "
     "involved sit in a circle with a trained teacher, say what happened and agree how "
     "to put it right."),
    ("dev", "music sessions on a hospital ward",
     "Music for patients",
     "Volunteer musicians play quietly at the bedside of long-stay patients who ask for "
     "it, at the hours the nurses suggest. Patients say the days feel shorter."),
    ("dev", "reentry circles for people leaving prison",
     "Coming home",
     "Volunteers meet each person on the day they leave prison and a circle of "
     "neighbours supports them through the first months: housing, work, and someone to "
     "call."),
    ("dev", "a tenants' union in a large building",
     "Organising our building",
     "Repairs were ignored for years. We knocked on every door, formed a tenants' union "
     "and negotiated with the landlord as one."),
    ("dev", "a citizen science air quality network",
     "Air sensors on every street",
     "Residents hosted low-cost sensors on their balconies and we published the readings "
     "every week. The data showed the school route was the worst."),
    ("dev", "a grief support circle open to all traditions",
     "When someone dies",
     "A circle for people who lost someone, of every faith or none. We meet in the "
     "library, light a candle and listen."),
    ("dev", "a monthly repair café",
     "Fixing toasters together",
     "Once a month volunteers with tools and patience sit down with neighbours and their "
     "broken lamps, bikes and clothes, and show them how to repair them."),
    ("held-out", "violence interrupters trained from the neighbourhood",
     "Street workers who stop shootings",
     "Our city hired former gang members to step in when a conflict looks like it will "
     "turn into a shooting. They are on call at night, go to the hospital when someone is "
     "hurt and talk the friends out of revenge."),
    ("held-out", "violence interrupters trained from the neighbourhood",
     "Interrupting violence, year two",
     "We now run football on Fridays and mentoring for boys aged twelve to sixteen, "
     "alongside the violence interrupters who answer the phone at night."),
    ("held-out", "a peer mentoring scheme for first-year students",
     "Mentoring first-year students",
     "Older students were matched with freshers by shared interests, met them at two "
     "informal evenings a term and asked them what helped."),
    ("held-out", "a compassion curriculum for primary classrooms",
     "Kindness lessons in primary school",
     "Fifteen minutes a day of exercises on listening and kindness, stories and role "
     "play. Bullying went down and teachers asked for the same exercises."),
    ("held-out", "a pay-what-you-can community café",
     "A café where everyone pays what they can",
     "Lunch at a suggested price, or an hour of volunteering instead. We post our "
     "accounts on the door every month."),
    ("held-out", "a street-by-street tree planting campaign",
     "Planting trees where it is hottest",
     "We measured street temperatures, asked residents where they wanted shade and "
     "planted with the parks crew. Watering teams keep the young trees alive."),
    ("held-out", "a fathers' caregiving group",
     "Dads and toddlers on Saturday mornings",
     "Breakfast, play and questions for a health visitor: fathers who felt shut out of "
     "their children's care now meet every week."),
    ("held-out", "trauma-informed training for clinic staff",
     "Clinic staff learning about trauma",
     "Receptionists and nurses learnt how trauma shows up in patients and changed how "
     "they greet people and explain procedures."),
    ("held-out", "intercultural dinners between old and new residents",
     "Dinner with new neighbours",
     "Long-time residents hosted refugee families for dinner, with interpreters and "
     "shared recipes, and the season ended with one big meal for everyone."),
    ("held-out", "a visiting programme for isolated elders",
     "Visiting older neighbours who live alone",
     "Volunteers visit an older person once a week for a cup of tea and a chat; some "
     "also help with shopping."),
    ("held-out", "street outreach for people sleeping rough",
     "Outreach at night",
     "Two volunteers walk the same route every night with blankets and soup, learn the "
     "names of the people sleeping rough and help them reach services."),
    ("held-out", "a worker cooperative for home cleaners",
     "Looking back",
     "A group of home cleaners who were underpaid decided to own their jobs. With a "
     "volunteer lawyer we wrote bylaws, pooled savings for insurance and launched a "
     "booking website."),
    ("held-out", "a mental health first aid course for volunteers",
     "Mental health first aid for our volunteers",
     "Volunteers often did not know what to say to someone in crisis. We adapted a "
     "standard course with role plays and a list of local services."),
    ("held-out", "a safe space for girls after school",
     "Girls-only afternoons at the community centre",
     "Two afternoons a week the centre belongs to the girls, who plan the programme "
     "themselves through a committee of older girls."),
)  # fmt: skip


def practice_of(title: str) -> str | None:
    """The practice an entry's title names (the longest one it holds)."""
    lowered = title.lower()
    named = [p.name for ps in PRACTICES.values() for p in ps if p.name.lower() in lowered]
    return max(named, key=len) if named else None


class _Nodes:
    def __init__(self, nodes: dict[str, Node]) -> None:
        self.nodes = nodes

    def get_nodes(self, ids: Iterable[str]) -> dict[str, Node]:
        return {i: self.nodes[i] for i in ids if i in self.nodes}


def topic_graph(records: Sequence[Node | Edge]) -> nx.MultiDiGraph:
    """The entries with their goals and sectors: what the ranking's topic share reads."""
    graph = nx.MultiDiGraph()
    for record in records:
        if isinstance(record, Edge) and record.kind in ("in_sector", "addresses"):
            kind = record.target.partition(":")[0]
            graph.add_node(record.target, kind=kind)
            graph.add_node(record.source, kind="wisdom_entry")
            graph.add_edge(record.source, record.target, key=record.kind)
    return graph


def scores(ranked: Sequence[str], practice: dict[str, str | None], wanted: str,
           available: int) -> dict[str, float]:  # fmt: skip
    on = [practice.get(i) == wanted for i in ranked[:DEPTH]]
    first = next((r for r, hit in enumerate(on, start=1) if hit), None)
    best = min(5, available)
    return {
        "hits@1": float(bool(on[:1]) and on[0]),
        "mrr": 1.0 / first if first else 0.0,
        "p@5": sum(on[:5]) / best if best else 0.0,
    }


def mean(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    keys = ("hits@1", "mrr", "p@5")
    return {k: round(sum(r[k] for r in rows) / len(rows), 3) if rows else 0.0 for k in keys}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_demo_options(parser, people=3_000, report="related.json")
    parser.add_argument(
        "--no-filed",
        action="store_true",
        help="ask only the drafts (a large book takes long by id)",
    )
    args = parser.parse_args(argv)  # fmt: skip

    started = time.perf_counter()
    records = list(demo_records(args.data, seed=args.seed, people=args.people))
    entries = [r for r in records if isinstance(r, WisdomEntry)]
    graph = topic_graph(records)
    practice = {e.id: practice_of(e.name) for e in entries}
    missing = [e.name for e in entries if practice[e.id] is None]
    if missing:
        raise SystemExit(f"no practice named in {missing[0]!r}: the demo generator changed")
    originals = [e for e in entries if not _refiled(e.name)]
    encoder = load_encoder()
    stored = encode_cached(encoder, [node_text(e) for e in entries], args.cache, prefix="related")
    drafts = [Draft.written(title, body) for _, _, title, body in DRAFTS]
    draft_vectors = encode_cached(encoder, [d.text for d in drafts], args.cache, prefix="related")
    similarity = VectorSimilarity(
        {e.id: v for e, v in zip(entries, stored, strict=True)},
        encoder=KnownVectors([d.text for d in drafts], draft_vectors, encoder),
    )
    tagger = fit_on_shipped_data(encoder, args.data, cache=args.cache / "tagging")
    nodes = _Nodes({e.id: e for e in entries})
    ids = frozenset(nodes.nodes)
    titles = EntryTitles.build(((e.id, e.name) for e in entries), _tokens)
    count = {p: sum(1 for v in practice.values() if v == p) for p in set(practice.values())}
    passages = PassageVectors()

    def ask(draft: Draft, topics: frozenset[str], ranking: Ranking) -> list[str]:
        found = related_wisdom(graph, nodes, similarity, draft, entries=ids, topics=topics,
                               tokens=_tokens, limit=DEPTH, titles=titles, ranking=ranking,
                               cache=passages)  # fmt: skip
        return [item.node_id for item in found.related]

    report: dict[str, Any] = {"sets": {}, "drafts": []}
    for name, ranking in (("before", BEFORE), ("after", RANKING)):
        rows: dict[str, list[dict[str, float]]] = {"dev": [], "held-out": [], "filed": []}
        for (group, wanted, title, _), draft in zip(DRAFTS, drafts, strict=True):
            if not count.get(wanted):
                continue
            topics = suggested_topics(tagger.suggest(draft.text))
            ranked = ask(draft, topics, ranking)
            row = scores(ranked, practice, wanted, count[wanted])
            rows[group].append(row)
            first = nodes.nodes[ranked[0]].name if ranked else None
            report["drafts"].append({"ranking": name, "set": group, "title": title,
                                     "practice": wanted, **row, "first": first})  # fmt: skip
        for entry in [] if args.no_filed else originals:
            wanted = practice[entry.id] or ""
            ranked = ask(Draft.filed(entry), topics_of(graph, entry.id), ranking)
            others = count[wanted] - 1
            if others:
                rows["filed"].append(scores(ranked, practice, wanted, others))
        report["sets"][name] = {
            group: {"questions": len(r), **mean(r)} for group, r in rows.items()
        }
    report.update({
        "entries": len(entries), "people": args.people, "seed": args.seed,
        "encoder": encoder.name, "seconds": round(time.perf_counter() - started, 1),
        "python": platform.python_version(), "machine": platform.machine(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    })  # fmt: skip
    print("\n".join(markdown(report)))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


def markdown(report: dict[str, Any]) -> Iterable[str]:
    yield (f"Related entries on the demo ({report['people']:,} people, {report['entries']} "
           f"entries, seed {report['seed']}), {report['encoder']}:")  # fmt: skip
    yield ""
    yield "| questions | n | hits@1 before | after | MRR before | after | P@5 before | after |"
    yield "|---|---|---|---|---|---|---|---|"
    before, after = report["sets"]["before"], report["sets"]["after"]
    for group in before:
        b, a = before[group], after[group]
        yield (f"| {group} | {b['questions']} | {b['hits@1']} | {a['hits@1']} | {b['mrr']} | "
               f"{a['mrr']} | {b['p@5']} | {a['p@5']} |")  # fmt: skip
    yield ""
    yield "| draft | set | first related before | after |"
    yield "|---|---|---|---|"
    rows = report["drafts"]
    half = len(rows) // 2
    for b, a in zip(rows[:half], rows[half:], strict=True):
        yield (f"| {b['title']} | {b['set']} | {'✓' if b['hits@1'] else '✗'} {b['first']} | "
               f"{'✓' if a['hits@1'] else '✗'} {a['first']} |")  # fmt: skip


def _refiled(title: str) -> bool:
    """A near-duplicate's title (one of ``REVISED_TITLES`` around the original's)."""
    return any(
        title.startswith(before) and title.endswith(after) and len(title) > len(before + after)
        for before, _, after in (form.partition("{}") for form in REVISED_TITLES)
    )


if __name__ == "__main__":
    sys.exit(main())
