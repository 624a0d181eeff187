"""Fictional local initiatives and organisations, derived from people's circles.

Local initiative ``k`` is run by circle ``2k`` (one per 40 people) and sits in that
circle's home community and sector, addressing its goals and asking for the skills
it needs. Organisation ``m`` grows out of circle ``10m`` (one per 200 people) and
partners with that circle's initiative. Ids end in the index so they are unique.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from graph.demo.bios import join_words
from graph.demo.communities import DEMO, community_id
from graph.demo.latent import World
from graph.demo.vocabulary import SECTOR_PHRASES, SKILLS
from graph.edges import Edge
from graph.model import Initiative, Node, Organization, Place

_INITIATIVE_TEXTS = (
    "{name} gathers volunteers in {place} around {theme}. The group is small, meets in "
    "borrowed rooms and is looking for help with {needs}.",
    "A grassroots effort in {place}, {name} works on {theme} as part of the wider push "
    "for {sector}. To grow it needs {needs}.",
    "{name} started in {place} when a few neighbours decided that {theme} could not wait. "
    "It now links {sector} with local families and asks for {needs}.",
    "Run by residents of {place}, {name} turns care for {theme} into weekly action. "
    "Volunteers who bring {needs} are especially welcome.",
)
_STAGES = ("idea", "pilot", "growing", "established")
_ORG_NOUNS = (
    "Compassion Collective", "Community Foundation", "Neighbourhood Alliance",
    "Circle of Care", "Mutual Aid Network", "Wellbeing Cooperative", "Friends Society",
    "Commons Trust",
)  # fmt: skip


def _place(world: World, position: int) -> Place:
    p = world.places[position]
    return Place(name=p.name, country=p.country, region=p.region, lat=p.lat, lon=p.lon)


def organization_name(world: World, m: int) -> str:
    """Name of fictional organisation ``m``."""
    circle = world.circle(10 * m)
    place = world.places[circle.home].name.removesuffix(" County")
    return f"{place} {_ORG_NOUNS[(m + circle.sector) % len(_ORG_NOUNS)]}"


def organization_id(world: World, m: int) -> str:
    """Id of fictional organisation ``m``."""
    return world.fresh_id("organization", organization_name(world, m), m)


def local_initiative_records(world: World) -> Iterator[Node | Edge]:
    """Every fictional local initiative followed by its edges."""
    for k in range(world.n_local):
        circle = world.circle(2 * k)
        rng = random.Random(f"{world.seed}:local:{k}")
        initiative_id = world.local_initiative_id(k)
        name = world.local_initiative_name(k)
        sector = world.sectors[circle.sector]
        needs = [SKILLS[n] for n in circle.needs]
        description = rng.choice(_INITIATIVE_TEXTS).format(
            name=name,
            place=world.places[circle.home].name,
            theme=world.themes[circle.sector][circle.theme],
            sector=SECTOR_PHRASES.get(sector.slug, sector.name.lower()),
            needs=join_words(needs),
        )
        yield Initiative(
            id=initiative_id,
            name=name,
            description=description,
            active=rng.random() < 0.9,
            stage=rng.choice(_STAGES),
            types=["community project"],
            needs=needs,
            place=_place(world, circle.home),
            fictional=True,
            provenance=DEMO,
        )
        home = community_id(world.places[circle.home])
        yield Edge(kind="located_in", source=initiative_id, target=home, provenance=DEMO)
        yield Edge(
            kind="in_sector", source=initiative_id, target=f"sector:{sector.slug}", provenance=DEMO
        )
        for goal in circle.sdgs:
            yield Edge(
                kind="addresses", source=initiative_id, target=f"sdg:{goal}", provenance=DEMO
            )


def organization_records(world: World) -> Iterator[Node | Edge]:
    """Every fictional organisation followed by its edges."""
    for m in range(world.n_orgs):
        circle = world.circle(10 * m)
        org_id = organization_id(world, m)
        name = organization_name(world, m)
        sector = world.sectors[circle.sector]
        place = world.places[circle.home]
        yield Organization(
            id=org_id,
            name=name,
            description=(
                f"{name} is a volunteer-led organisation in {place.name} supporting "
                f"{SECTOR_PHRASES.get(sector.slug, sector.name.lower())} and the "
                f"initiatives of its members."
            ),
            place=_place(world, circle.home),
            fictional=True,
            provenance=DEMO,
        )
        yield Edge(kind="located_in", source=org_id, target=community_id(place), provenance=DEMO)
        yield Edge(kind="in_sector", source=org_id, target=f"sector:{sector.slug}", provenance=DEMO)
        yield Edge(
            kind="partners_with",
            source=org_id,
            target=world.local_initiative_id(5 * m),
            role="sponsor",
            provenance=DEMO,
        )
