"""Fictional people and their edges, one index at a time.

Person ``i`` is a pure function of ``(seed, i)``: the core of :mod:`graph.demo.latent`
(home, sectors, goals, interests, offers, needs, join day) plus the details drawn
from ``random.Random(f"{seed}:person:{i}")`` (name first, so the id can be rebuilt
cheaply, then languages, role, biography, coordinates and privacy settings). The
privacy mixes follow what a real network would see: location precision about 15%
exact, 55% city, 20% region, 10% country; visibility about 80% public, 13% members,
7% private; about 8% not discoverable and 15% not open to collaborate.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TypeVar

from graph.demo.bios import BioFacts, compose_bio
from graph.demo.communities import DEMO
from graph.demo.events import EventPlan, participation
from graph.demo.inputs import PlaceInfo
from graph.demo.latent import CAPITAL_REGION, END_DAY, Draws, PersonCore, World, day
from graph.demo.local import organization_id
from graph.demo.names import (
    CALIFORNIA_GROUPS,
    COUNTRY_GROUPS,
    COUNTRY_LANGUAGES,
    NAME_GROUPS,
    REGION_GROUPS,
)
from graph.demo.social import Social
from graph.demo.vocabulary import SECTOR_PHRASES, SECTOR_ROLES, SKILLS
from graph.edges import Edge, EdgeKind
from graph.ids import slugify
from graph.model import Contact, LocationPrecision, Node, Person, Place, Visibility

_PRECISION = ((0.15, LocationPrecision.exact), (0.70, LocationPrecision.city),
              (0.90, LocationPrecision.region), (1.0, LocationPrecision.country))  # fmt: skip
_VISIBILITY = ((0.80, Visibility.public), (0.93, Visibility.members),
               (1.0, Visibility.private))  # fmt: skip
_GROUP_NAMES = tuple(NAME_GROUPS)
T = TypeVar("T")
JITTER_DEGREES = 0.03  # about 3 km of latitude: people live around the place centre


@dataclass(frozen=True, slots=True)
class PeopleContext:
    """What person records depend on besides their own index."""

    world: World
    social: Social
    events: tuple[EventPlan, ...]
    councils: dict[int, list[tuple[str, str, int]]]
    board: frozenset[int]


def _name(world: World, me: PersonCore, rng: random.Random) -> tuple[str, str, str]:
    """(first, last, heritage group): the first draws of the person's generator."""
    place = world.places[me.home]
    if me.home in world.capital:
        weights = CALIFORNIA_GROUPS
    else:
        weights = COUNTRY_GROUPS.get(place.country) or REGION_GROUPS.get(place.region, {})
    groups = [g for g in _GROUP_NAMES if weights.get(g, 0) > 0] or list(_GROUP_NAMES)
    group = rng.choices(groups, weights=[weights.get(g, 1.0) for g in groups])[0]
    first = rng.choice(NAME_GROUPS[group].first)
    # one in seven carries a family name from another heritage
    last_group = rng.choice(_GROUP_NAMES) if rng.random() < 0.14 else group
    return first, rng.choice(NAME_GROUPS[last_group].last), group


def person_id(world: World, i: int) -> str:
    """The id of person ``i``: ``person:<slug of name>-<i>``."""
    first, last, _ = _name(world, world.person(i), random.Random(f"{world.seed}:person:{i}"))
    return f"person:{slugify(f'{first} {last}')}-{i}"


def _pick(table: tuple[tuple[float, T], ...], u: float) -> T:
    return next(value for bound, value in table if u < bound)


def build_person(ctx: PeopleContext, i: int) -> Person:
    """The :class:`Person` node of index ``i``."""
    world = ctx.world
    me = world.person(i)
    rng = random.Random(f"{world.seed}:person:{i}")
    first, last, group = _name(world, me, rng)
    place = world.places[me.home]
    languages = [COUNTRY_LANGUAGES.get(place.country, "en")]
    heritage = rng.choice(NAME_GROUPS[group].languages)
    if heritage not in languages and rng.random() < 0.5:
        languages.append(heritage)
    if "en" not in languages and rng.random() < 0.45:
        languages.append("en")
    sector = world.sectors[me.sector]
    offers = [SKILLS[k] for k in me.offers]
    needs = [SKILLS[k] for k in me.needs]
    extra = [s for s in rng.sample(SKILLS, 3) if s not in offers and s not in needs]
    interests = [world.themes[s][t] for s, t in me.interests]
    second = world.sectors[me.sector2] if me.sector2 >= 0 else None
    precision = _pick(_PRECISION, rng.random())
    facts = BioFacts(
        first=first,
        role=rng.choice(SECTOR_ROLES.get(sector.slug) or ("volunteer",)),
        place=_place_words(place, precision),
        sector=SECTOR_PHRASES.get(sector.slug, sector.name.lower()),
        sector2=SECTOR_PHRASES.get(second.slug, second.name.lower()) if second else None,
        interests=tuple(interests),
        offers=tuple(offers),
        needs=tuple(needs),
    )
    bio = compose_bio(facts, rng)
    lat = max(-90.0, min(90.0, place.lat + rng.gauss(0, JITTER_DEGREES)))
    spread = JITTER_DEGREES / max(0.2, math.cos(math.radians(place.lat)))
    lon = (place.lon + rng.gauss(0, spread) + 180.0) % 360.0 - 180.0
    return Person(
        id=f"person:{slugify(f'{first} {last}')}-{i}",
        name=f"{first} {last}",
        bio=bio,
        interests=interests,
        skills=offers + extra[: rng.randint(0, 2)],
        offers=offers,
        needs=needs,
        languages=languages,
        place=Place(
            name=place.name,
            country=place.country,
            region=place.region,
            lat=round(lat, 5),
            lon=round(lon, 5),
        ),
        location_precision=precision,
        visibility=_pick(_VISIBILITY, rng.random()),
        discoverable=rng.random() >= 0.08,
        open_to_collaborate=rng.random() >= 0.15,
        board_member=i in ctx.board,
        contact=Contact(email=f"{slugify(first)}.{slugify(last)}.{i}@example.org"),
        fictional=True,
        provenance=DEMO,
    )


def _place_words(place: PlaceInfo, precision: LocationPrecision) -> str:
    """How a bio names the home place: never more precisely than the person shares it."""
    if precision in (LocationPrecision.exact, LocationPrecision.city):
        return place.name
    if precision is LocationPrecision.region and place.subregion:
        return place.subregion
    return place.region


def _edge(
    kind: EdgeKind,
    source: str,
    target: str,
    *,
    weight: float | None = None,
    since: date | None = None,
    role: str | None = None,
) -> Edge:
    return Edge(
        kind=kind,
        source=source,
        target=target,
        weight=weight,
        since=since,
        role=role,
        provenance=DEMO,
    )


def person_edges(ctx: PeopleContext, i: int, pid: str, ids: Callable[[int], str]) -> Iterator[Edge]:
    """The edges of person ``i`` (id ``pid``); their other ends already exist.

    ``ids`` maps an earlier index to its person id (a cached :func:`person_id`).
    """
    world, social = ctx.world, ctx.social
    me = world.person(i)
    d = Draws(f"{world.seed}:edges:{i}")
    yield _edge("interested_in", pid, f"sector:{world.sectors[me.sector].slug}", weight=1.0)
    if me.sector2 >= 0:
        yield _edge("interested_in", pid, f"sector:{world.sectors[me.sector2].slug}", weight=0.5)
    for goal in me.sdgs:
        yield _edge("interested_in", pid, f"sdg:{goal}")
    targets = world.targets.get(me.sdgs[0], ())
    if targets and d.chance(0.3):
        yield _edge("interested_in", pid, f"sdg_target:{targets[d.below(len(targets))]}")
    home = world.places[me.home]
    yield _edge("located_in", pid, f"community:{home.slug}")
    if d.chance(0.3):
        since = min(END_DAY, me.joined + d.below(365))
        yield _edge("member_of", pid, f"community:{home.slug}", since=day(since))
    if me.home in world.capital and home.slug != CAPITAL_REGION and d.chance(0.35):
        since = min(END_DAY, me.joined + d.below(500))
        yield _edge("member_of", pid, f"community:{CAPITAL_REGION}", since=day(since))
    ties = social.ties(i)
    for work in social.works(i, ties):
        yield _edge("works_on", pid, work.initiative, since=day(work.since))
    for tie in ties:
        yield _edge("knows", pid, ids(tie.other), since=day(tie.since))
    if d.chance(0.15):
        since = me.joined + 30 + d.below(900)
        if since <= END_DAY:
            org = organization_id(world, me.circle // 10)
            yield _edge("member_of", pid, org, since=day(since))
    for council, role, since in ctx.councils.get(i, ()):
        yield _edge("member_of", pid, council, role=role, since=day(since))
    for plan in participation(world, ctx.events, me, d):
        yield _edge("participates_in", pid, plan.node.id, since=plan.node.starts)


def people_records(ctx: PeopleContext) -> Iterator[Node | Edge]:
    """Each person followed by their edges, in index order."""
    world = ctx.world
    ids = lru_cache(maxsize=1 << 12)(lambda j: person_id(world, j))
    for i in range(world.people):
        person = build_person(ctx, i)
        yield person
        yield from person_edges(ctx, i, person.id, ids)
