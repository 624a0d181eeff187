"""Explanations a person can read: why this node was recommended to this seed.

Built only from what the audience may see: the walk and the common neighbours come
from edges and nodes the audience's predicates allowed, places only as a distance
band between public (coarsened) places, and phrases from profile fields that are
part of the profile shown. Names come from the caller (``Describe``), who reads the
store once for the whole page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graph.geo import distance_band
from graph.matching.candidates import Walk
from graph.matching.context import TOPIC_KINDS
from graph.matching.features import Candidate, Pool
from graph.matching.phrases import Key, words
from graph.matching.profiles import Profile
from graph.matching.recommend import Recommendation

MAX_PHRASES = 5
MAX_LISTED = 3
# Words too common to say that two phrases are alike ("community gardens" and
# "community murals"), as their stems.
GENERIC = frozenset({
    "community", "public", "project", "social", "learn", "programme", "program", "group",
    "network", "care", "service", "develop", "youth", "young", "design", "management",
    "work", "support", "plan", "writ", "build", "train",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Described:
    """What an explanation may say of a node: its id, kind, name, and goal number."""

    id: str
    kind: str
    name: str
    number: int | None = None
    text: str = ""


Describe = Mapping[str, Described]


def ids_to_describe(pool: Pool, items: Sequence[Recommendation]) -> set[str]:
    """Every node an explanation of these items may name."""
    found = {pool.seed.id}
    for item in items:
        found.add(item.id)
        found |= pool.seed_goals & item.candidate.goals
        found |= pool.seed_sectors
        found.update(item.candidate.brings)
        found.update(_walk_nodes(pool, item.candidate))
    return found


def _walk_nodes(pool: Pool, candidate: Candidate) -> list[str]:
    walk = _walk(pool, candidate)
    return [step[0] for step in walk] if walk else []


def _walk(pool: Pool, candidate: Candidate) -> Walk | None:
    """The path to show: through the strongest concrete common neighbour, else the walk
    that found the candidate, else through a shared goal or sector."""
    concrete = [z for z in candidate.common if z.partition(":")[0] not in TOPIC_KINDS]
    chosen = concrete[0] if concrete else None
    if chosen is None and candidate.walk is not None:
        return candidate.walk
    if chosen is None and candidate.common:
        chosen = candidate.common[0]
    if chosen is None:
        return None
    first = next((step for step in pool.seed.incident if step[0] == chosen), None)
    if first is None or chosen not in candidate.back:
        return None
    edge, forward = candidate.back[chosen]
    return (first, (candidate.id, edge, forward))


def path(pool: Pool, candidate: Candidate, describe: Describe) -> list[dict[str, Any]]:
    """The path from the seed to the candidate as nodes interleaved with edge steps."""
    walk = _walk(pool, candidate)
    if walk is None:
        return []
    steps: list[dict[str, Any]] = [_node(describe, pool.seed.id)]
    for node, kind, forward in walk:
        steps.append({"edge": kind, "direction": "out" if forward else "in"})
        steps.append(_node(describe, node))
    return steps


def _node(describe: Describe, node: str) -> dict[str, Any]:
    found = describe[node]
    return {"id": found.id, "kind": found.kind, "name": found.name}


def goal_lists(
    pool: Pool, candidate: Candidate, describe: Describe
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The shared goals and the shared sectors, each sorted (goals by number)."""
    shared = pool.seed_goals & candidate.goals
    goals = sorted((describe[g] for g in shared if g.startswith("sdg:")),
                   key=lambda d: (d.number or 0, d.id))  # fmt: skip
    sectors = sorted((describe[g] for g in shared if g.startswith("sector:")),
                     key=lambda d: d.name)  # fmt: skip
    return (
        [{"id": d.id, "number": d.number, "name": d.name} for d in goals],
        [{"id": d.id, "name": d.name} for d in sectors],
    )


def _side(profile: Profile | None, text: str) -> tuple[dict[str, Key], dict[str, str]]:
    """(phrases with their telling stems, stem -> a word as written) of one side."""
    phrases: dict[str, Key] = {}
    if profile is not None:
        every = {**profile.topic_keys, **profile.offer_keys, **profile.need_keys}
        phrases = {p: key - GENERIC for p, key in every.items() if key - GENERIC}
    spelled: dict[str, str] = {}
    if profile is None or profile.kind != "person":
        for word in text.split():
            cleaned = word.strip(".,;:!?()[]\"'“”‘’").lower()
            for stem in words(cleaned):
                if stem not in GENERIC:
                    spelled.setdefault(stem, cleaned)
    return phrases, spelled


def matching_phrases(
    mine: Profile | None, my_text: str, theirs: Profile | None, their_text: str
) -> dict[str, list[str]]:
    """Phrases of each side sharing a content word with the other side.

    People are compared by their profile phrases; an initiative by its needs and the
    words of its name and description.
    """
    my_phrases, my_words = _side(mine, my_text)
    their_phrases, their_words = _side(theirs, their_text)
    my_stems = set(my_words).union(*my_phrases.values())
    their_stems = set(their_words).union(*their_phrases.values())

    def pick(phrases: dict[str, Key], spelled: dict[str, str], other: set[str]) -> list[str]:
        ranked = sorted(
            ((len(key & other), n, p) for n, (p, key) in enumerate(phrases.items()) if key & other),
            key=lambda t: (-t[0], t[1]),
        )
        found = [p for _, _, p in ranked]
        found += [w for stem, w in spelled.items() if stem in other and w not in found]
        return found[:MAX_PHRASES]

    return {
        "yours": pick(my_phrases, my_words, their_stems),
        "theirs": pick(their_phrases, their_words, my_stems),
    }


def _topics(profile: Profile | None) -> dict[str, Key]:
    if profile is None:
        return {}
    return {p: key - GENERIC for p, key in profile.topic_keys.items() if key - GENERIC}


def closest_pair(mine: Profile | None, theirs: Profile | None) -> tuple[str, str] | None:
    """The pair of interests or skills, one from each side, sharing the most telling
    words (first in profile order on ties), or None. Offers and needs are left to
    ``offer_need``: two people needing the same thing do not share it."""
    my_phrases, their_phrases = _topics(mine), _topics(theirs)
    best: tuple[int, int, int] | None = None
    found = None
    for n, (mine_, my_key) in enumerate(my_phrases.items()):
        for m, (theirs_, their_key) in enumerate(their_phrases.items()):
            shared = len(my_key & their_key)
            if shared and (best is None or (-shared, n, m) < best):
                best, found = (-shared, n, m), (mine_, theirs_)
    return found


def bridges(
    pool: Pool, candidate: Candidate, describe: Describe
) -> dict[str, list[dict[str, str]]]:
    """The seed's sectors and the sectors the candidate brings that the seed has not."""

    def refs(ids: Iterable[str]) -> list[dict[str, str]]:
        found = sorted((describe[i] for i in ids if i in describe), key=lambda d: (d.name, d.id))
        return [{"id": d.id, "name": d.name} for d in found]

    return {"yours": refs(pool.seed_sectors), "theirs": refs(candidate.brings)}


def bridge_phrase(sides: Mapping[str, list[dict[str, str]]]) -> str | None:
    """The bridge in words: "bridges Education and Health" (your sector, the one they
    bring), "brings Health" when you have none, None when they bring none."""
    theirs = [s["name"] for s in sides["theirs"]][:2]
    if not theirs:
        return None
    yours = [s["name"] for s in sides["yours"]][:2]
    if not yours:
        return f"brings {_listing(theirs)}"
    return f"bridges {' & '.join(yours)} and {' & '.join(theirs)}"


def _listing(names: list[str]) -> str:
    names = names[:MAX_LISTED]
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _goal_name(goal: dict[str, Any]) -> str:
    return f"SDG {goal['number']} {goal['name']}" if "number" in goal else goal["name"]


def summary(
    seed_kind: str,
    target: str,
    name: str,
    goals: list[dict[str, Any]],
    sectors: list[dict[str, Any]],
    steps: list[dict[str, Any]],
    pair: tuple[str, str] | None,
    offer_need: list[dict[str, str]],
    band: str | None,
    bridge: str | None = None,
) -> str:
    """One plain sentence naming the strongest reasons (``bridge`` first, when given)."""
    parts: list[str] = [bridge] if bridge else []
    topics = [_goal_name(g) for g in goals] + [f"{s['name']} (sector)" for s in sectors]
    if topics:
        listed = _listing(topics)
        if seed_kind == "person" and target == "person":
            parts.append(f"you both care about {listed}")
        elif target == "initiative":
            care = "care about" if seed_kind == "person" else "work on"
            parts.append(f"it works on {listed}, which you {care}")
        else:
            parts.append(f"they care about {listed}, which you work on")
    middle = [s["name"] for s in steps[2:-1:2]]
    if middle:
        parts.append(f"linked through {_listing(middle)}")
    for met in offer_need[:2]:
        if met["direction"] == "theirs_meets_yours":
            parts.append(f'their offer "{met["offer"]}" meets your need "{met["need"]}"')
        else:
            parts.append(f'your offer "{met["offer"]}" meets their need "{met["need"]}"')
    if pair is not None and not offer_need and len(parts) < 3:
        mine, theirs = pair
        if mine.casefold() == theirs.casefold():
            parts.append(f'you share "{mine}"')
        else:
            parts.append(f'your "{mine}" is close to their "{theirs}"')
    if band is not None:
        parts.append(f"{band} away" if band.startswith("over") else band)
    if not parts:
        parts.append("the text of the profile is close to yours in meaning")
    sentence = "; ".join(parts)
    return f"{name}: {sentence[:1].upper()}{sentence[1:]}."


def explanation(
    pool: Pool,
    item: Recommendation,
    describe: Describe,
    profiles: tuple[Profile | None, Profile | None],
    *,
    mode: str = "similar",
) -> dict[str, Any]:
    """The explanation of one recommendation (see docs/matching.md for the shape); in the
    bridging mode, the summary first names the sectors it bridges."""
    candidate = item.candidate
    sides = bridges(pool, candidate, describe)
    goals, sectors = goal_lists(pool, candidate, describe)
    steps = path(pool, candidate, describe)
    phrases = matching_phrases(
        profiles[0], describe[pool.seed.id].text, profiles[1], describe[item.id].text
    )
    pair = closest_pair(*profiles)
    pairs = [{"offer": p.offer, "need": p.need, "direction": p.direction}
             for p in candidate.offer_need]  # fmt: skip
    band = None if candidate.distance_km is None else distance_band(candidate.distance_km)
    found: dict[str, Any] = {
        "summary": summary(
            pool.seed.kind,
            pool.target,
            describe[item.id].name,
            goals,
            sectors,
            steps,
            pair,
            pairs,
            band,
            bridge_phrase(sides) if mode == "bridging" else None,
        ),
        "components": {name: round(value, 4) for name, value in item.components.items()},
        "shared_sectors": sectors,
        "shared_sdgs": goals,
        "path": steps,
        "phrases": phrases,
        "offer_need": pairs,
        "bridges": sides,
    }
    if band is not None:
        found["distance_band"] = band
    return found
