"""Grassroots Wisdom Book entries: one per twelve people, at most 3,000.

Entry ``k`` is written by a person drawn from ``(seed, k)`` and tells one practice
of the author's sector (:mod:`graph.demo.practices`) as it happened in the author's
home: the issue and aim, some context, three of the practice's steps, a challenge,
an outcome, what was learnt and a closing word, 120-250 words. Sentences come from
pools (:mod:`graph.demo.wisdom_text`), so two entries on the same practice still
read differently. About 2% of entries are *near-duplicates*: an earlier entry
re-filed later with its title and a few words changed, so editors can be warned.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from graph.demo import wisdom_text as text
from graph.demo.communities import DEMO
from graph.demo.events import EventPlan
from graph.demo.latent import END_DAY, World, day
from graph.demo.people import person_id
from graph.demo.practices import practices_for
from graph.edges import Edge
from graph.model import Node, WisdomEntry

MAX_ENTRIES = 3000
PEOPLE_PER_ENTRY = 12
DUPLICATE_SHARE = 0.02
MIN_WORDS, MAX_WORDS = 120, 250


@dataclass(frozen=True, slots=True)
class EntryPlan:
    """Everything about entry ``k`` except its edges' ids."""

    title: str
    body: str
    published: int  # days after 2015-01-01
    author: int
    sector: int
    sdgs: tuple[int, ...]
    describes: str | None


def _cap(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def _compose(values: dict[str, str], lessons: tuple[str, ...], rng: random.Random) -> str:
    """The body: fixed parts in order, then optional extras until it has enough words."""
    lesson_pool = [*rng.sample(lessons, rng.randint(1, 2)), rng.choice(text.GENERAL_LESSONS)]
    picked = rng.sample(lesson_pool, 2)
    parts = [
        rng.choice(text.OPENINGS),
        rng.choice(text.AIMS),
        rng.choice(text.CONTEXTS),
        rng.choice(text.STEPS),
        rng.choice(text.CHALLENGES),
        rng.choice(text.OUTCOMES),
        rng.choice(text.LESSON_TEMPLATES).replace("{l1}", picked[0]).replace("{l2}", picked[1]),
    ]
    if rng.random() < 0.5:  # not every entry tells its context
        parts.pop(2)
    sentences = [_cap(part.format(**values)) for part in parts]
    extras = rng.sample(text.EXTRAS, len(text.EXTRAS))
    closing = rng.choice(text.CLOSINGS)
    body = " ".join([*sentences, closing])
    target = rng.randint(MIN_WORDS + 20, MAX_WORDS - 20)
    while len(body.split()) < target and extras:
        sentences.append(extras.pop())
        body = " ".join([*sentences, closing])
    while len(body.split()) > MAX_WORDS:
        sentences.pop(-2 if len(sentences) > 6 else 2)
        body = " ".join([*sentences, closing])
    return body


def plan_entry(world: World, k: int, events: tuple[EventPlan, ...]) -> EntryPlan:
    """Entry ``k``: an original, or a near-duplicate of an earlier one."""
    rng = random.Random(f"{world.seed}:wisdom:{k}")
    if k >= 10 and rng.random() < DUPLICATE_SHARE:
        base = plan_entry(world, rng.randrange(k), events)
        body = base.body
        for old, new in text.REWORDINGS:
            if rng.random() < 0.6:
                body = body.replace(old, new, 1)
        author = base.author if rng.random() < 0.5 else rng.randrange(world.people)
        start = max(base.published, world.person(author).joined)
        published = min(END_DAY, start + rng.randint(30, 400))
        title = rng.choice(text.REVISED_TITLES).format(base.title)
        return EntryPlan(title, body, published, author, base.sector, base.sdgs, base.describes)
    author = rng.randrange(world.people)
    me = world.person(author)
    practice = rng.choice(practices_for(world.sectors[me.sector].slug))
    place = world.places[me.home].name
    chosen = sorted(rng.sample(range(len(practice.steps)), 3))
    steps = {f"s{n + 1}": practice.steps[s] for n, s in enumerate(chosen)}
    sector_themes = world.themes[me.sector]
    values = {
        "practice": practice.name, "Practice": _cap(practice.name), "issue": practice.issue,
        "aim": practice.aim, "place": place, "Place": place, "who": rng.choice(text.WHO),
        "theme": rng.choice(sector_themes), "n": str(rng.randint(8, 120)),
        "months": str(rng.randint(4, 30)), **steps,
        **{key.upper(): _cap(step) for key, step in steps.items()},
    }  # fmt: skip
    title = _cap(rng.choice(text.TITLES).format(**values))
    body = _compose(values, practice.lessons, rng)
    published = me.joined + 30 + int(rng.random() * (END_DAY - me.joined - 30))
    describes = None
    roll = rng.random()
    if roll < 0.35:
        describes = world.circle_focus(me.circle)
    elif roll < 0.6:
        describes = f"community:{world.places[me.home].slug}"
    elif roll < 0.65:
        fitting = [e.node.id for e in events if e.sector == me.sector]
        describes = rng.choice(fitting) if fitting else None
    return EntryPlan(title, body, published, author, me.sector, me.sdgs[:2], describes)


def wisdom_records(world: World, events: tuple[EventPlan, ...]) -> Iterator[Node | Edge]:
    """Each entry followed by its edges; authors were yielded before."""
    for k in range(min(MAX_ENTRIES, world.people // PEOPLE_PER_ENTRY)):
        plan = plan_entry(world, k, events)
        entry_id = world.fresh_id("wisdom_entry", plan.title, k)
        yield WisdomEntry(
            id=entry_id,
            name=plan.title,
            body=plan.body,
            summary=plan.body.split(". ", 1)[0].rstrip(".") + ".",
            published=day(plan.published),
            fictional=True,
            provenance=DEMO,
        )
        author = person_id(world, plan.author)
        yield Edge(
            kind="authored",
            source=author,
            target=entry_id,
            since=day(plan.published),
            provenance=DEMO,
        )
        sector = world.sectors[plan.sector].slug
        yield Edge(kind="in_sector", source=entry_id, target=f"sector:{sector}", provenance=DEMO)
        for goal in plan.sdgs:
            yield Edge(kind="addresses", source=entry_id, target=f"sdg:{goal}", provenance=DEMO)
        if plan.describes:
            yield Edge(kind="describes", source=entry_id, target=plan.describes, provenance=DEMO)
