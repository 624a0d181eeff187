"""Compassionate communities built from ``places.json``.

Every place becomes a :class:`Community` with the place's coordinates, a few issues
it works on and the goals those issues touch. The six counties of California's
Capital Region and the cities of Sacramento and Davis are ``part_of``
``community:capital-region`` (Compassionate Capital Region, seed 002), and they
take their issues from that campaign so the local scenario hangs together.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

from graph.demo.bios import join_words
from graph.demo.inputs import PlaceInfo
from graph.demo.latent import CAPITAL_MEMBERS, CAPITAL_REGION, World
from graph.demo.vocabulary import CAPITAL_REGION_ISSUES, ISSUES
from graph.edges import Edge
from graph.model import Community, CommunityScope, Node, Place

DEMO = "demo-generator"

CAPITAL_REGION_NAME = "Compassionate Capital Region"
CAPITAL_REGION_DESCRIPTION = (
    "Compassionate Capital Region carries the International Campaign for Compassionate "
    "Cities into the six counties around Sacramento: Sacramento, Yolo, Placer, Sutter, "
    "Yuba and El Dorado. Its team goes to every city council and county board to ask them "
    "to affirm compassion as a civic value, then helps local governments and residents dig "
    "into the root causes of chronic problems together and make plans that strengthen "
    "neighbourhoods. Campaigns here start by naming what hurts: gang violence, drug use, "
    "unequal access to health care, environmental racism, the exclusion of women and "
    "immigrants, and young people who need a way in. Anyone who sees the need can start "
    "one, as long as a broad and inclusive coalition carries it so every voice is heard."
)
_DESCRIPTIONS = (
    "{name} brings neighbours, schools, faith groups and local government together to "
    "answer {issues} with compassionate action.",
    "Residents of {place} started {name} to work on {issues}. The campaign meets every "
    "month and keeps a public record of what it has tried and learnt.",
    "{name} is a compassionate {scope} campaign. Its coalition chose {issues} as the "
    "issues to face first.",
    "In {place}, {name} connects people who care about {issues} and helps their "
    "initiatives find each other.",
)
_SCOPES = {"city": CommunityScope.city, "county": CommunityScope.county,
           "region": CommunityScope.region}  # fmt: skip


def community_id(place: PlaceInfo) -> str:
    """The community id of a place: ``community:<place slug>``."""
    return f"community:{place.slug}"


def community_name(place: PlaceInfo) -> str:
    """``Compassionate <place>``, or the campaign's own name for the Capital Region."""
    return CAPITAL_REGION_NAME if place.slug == CAPITAL_REGION else f"Compassionate {place.name}"


def community_issues(world: World, position: int) -> tuple[str, ...]:
    """The issues community ``position`` works on (seed-002 issues in the Capital Region)."""
    place = world.places[position]
    rng = random.Random(f"{world.seed}:community:{place.slug}")
    if place.slug == CAPITAL_REGION:
        return CAPITAL_REGION_ISSUES
    pool = CAPITAL_REGION_ISSUES if position in world.capital else tuple(ISSUES)
    return tuple(rng.sample(pool, rng.randint(2, 4)))


def _community(world: World, position: int) -> Community:
    place = world.places[position]
    rng = random.Random(f"{world.seed}:community-text:{place.slug}")
    issues = community_issues(world, position)
    name = community_name(place)
    if place.slug == CAPITAL_REGION:
        description = CAPITAL_REGION_DESCRIPTION
    else:
        description = rng.choice(_DESCRIPTIONS).format(
            name=name, place=place.name, scope=place.kind, issues=join_words(list(issues))
        )
    proclaimed = None
    if rng.random() < 0.6:  # most campaigns have affirmed the Charter, some are starting
        proclaimed = date(2010, 1, 1) + timedelta(days=rng.randrange(15 * 365))
    return Community(
        id=community_id(place),
        name=name,
        description=description,
        scope=_SCOPES.get(place.kind, CommunityScope.city),
        issues=list(issues),
        place=Place(
            name=place.name,
            country=place.country,
            region=place.region,
            lat=place.lat,
            lon=place.lon,
        ),
        proclaimed=proclaimed,
        fictional=True,
        provenance=DEMO,
    )


def community_records(world: World) -> Iterator[Node | Edge]:
    """All communities first, then their ``part_of`` and ``addresses`` edges."""
    for position in range(len(world.places)):
        yield _community(world, position)
    capital = world.place_index.get(CAPITAL_REGION)
    for position, place in enumerate(world.places):
        if capital is not None and place.slug in CAPITAL_MEMBERS:
            yield Edge(
                kind="part_of",
                source=community_id(place),
                target=community_id(world.places[capital]),
                provenance=DEMO,
            )
        goals = sorted({g for issue in community_issues(world, position) for g in ISSUES[issue]})
        for goal in goals:
            yield Edge(
                kind="addresses", source=community_id(place), target=f"sdg:{goal}", provenance=DEMO
            )
