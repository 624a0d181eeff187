"""Councils: one global council per sector, and a few sub-sector and regional ones.

Members are chosen among the generated people by index, deterministically, preferring
people whose primary sector is the council's (and, for regional councils, who live
in the council's area). A global council has 5-8 members; exactly one of them is a
board member, and board members sit on no other council, so every council has at
most one. With very few people the councils that cannot be filled are left out:
a council never refers to a person who does not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from graph.demo.communities import DEMO
from graph.demo.latent import CAPITAL_REGION, END_DAY, Draws, PersonCore, World
from graph.edges import Edge
from graph.ids import slugify
from graph.model import Council, CouncilScope, Node

COUNCILS_FROM = 6 * 365  # councils formed from 2021 on
BOARD_ROLE, MEMBER_ROLE = "board_member", "member"

# (sector slug, name, description) of sub-sector councils.
SUB_SECTOR = (
    ("education", "EdNet Council", "Runs the EdNet webinar series and links teachers "
     "who bring compassion into their classrooms."),
    ("health", "Mental Health and Wellbeing Council", "Connects people who offer "
     "trauma-informed and peer support, and collects what works."),
    ("environment", "Climate Justice Council", "Brings together local climate groups "
     "that put the people most exposed to pollution and heat first."),
    ("restorative-justice", "Restorative Schools Council", "Helps schools replace "
     "suspensions with restorative circles."),
    ("spirituality", "Interfaith Dialogue Council", "Supports interfaith circles and "
     "shared service projects across traditions."),
)  # fmt: skip
# (sector slug, name, community slug, description) of regional councils.
REGIONAL = (
    ("social-justice", "Capital Region Social Justice Council", CAPITAL_REGION,
     "Coordinates the Capital Region's work on equity and inclusion with its six counties."),
    ("health", "Capital Region Health Equity Council", CAPITAL_REGION,
     "Works for equitable health care across the Capital Region."),
    ("peace", "East Africa Peace Council", "nairobi",
     "Connects peace educators and violence interrupters across East Africa."),
    ("environment", "Latin America Environment Council", "bogota",
     "Links community environmental initiatives across Latin America."),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CouncilPlan:
    """A council and its members: ``(person index, role, since day)``."""

    node: Council
    sector: str
    parent: str | None
    community: str | None
    members: tuple[tuple[int, str, int], ...]


def _choose(
    world: World, d: Draws, want: int, fits: Callable[[PersonCore], bool], exclude: set[int]
) -> list[int]:
    """``want`` people not in ``exclude``: sampled ones that fit first, then any."""
    n, found = world.people, []
    for _ in range(60 * want):
        j = d.below(n)
        if j not in exclude and j not in found and fits(world.person(j)):
            found.append(j)
            if len(found) == want:
                return found
    start = d.below(n)
    for step in range(n):
        j = (start + step) % n
        if j not in exclude and j not in found:
            found.append(j)
            if len(found) == want:
                break
    return found


def _since(world: World, d: Draws, person: int) -> int:
    return min(END_DAY, max(world.person(person).joined, COUNCILS_FROM) + d.below(900))


def _in_sector(s: int) -> Callable[[PersonCore], bool]:
    return lambda p: p.sector == s


def _near(world: World, s: int, area: str) -> Callable[[PersonCore], bool]:
    """Lives in the council's area (the whole Capital Region for it), or same sector and region."""
    home = world.place_index[area]
    region = world.places[home].region

    def fits(p: PersonCore) -> bool:
        near = p.home in world.capital if home in world.capital else p.home == home
        return near or (p.sector == s and world.places[p.home].region == region)

    return fits


def _global_councils(world: World, d: Draws) -> list[CouncilPlan]:
    n = world.people
    filled = min(len(world.sectors), max(0, n - 4))  # each needs a board member + 4 others
    boards: list[int] = []
    for s in range(filled):
        boards += _choose(world, d, 1, _in_sector(s), set(boards))
    plans = []
    for s, board in enumerate(boards):
        sector = world.sectors[s]
        size = min(5 + d.below(4), 1 + n - len(boards))
        others = _choose(world, d, size - 1, _in_sector(s), set(boards))
        node = Council(
            id=f"council:{sector.slug}-global-council",
            name=f"{sector.name} Global Council",
            description=(
                f"The global council of the {sector.name} sector: five to eight people, one "
                "of them a board member, who connect co-creators, grow sub-sector and regional "
                "groups and look after the sector's part of the Grassroots Wisdom Book."
            ),
            scope=CouncilScope.global_sector,
            fictional=True,
            provenance=DEMO,
        )
        members = [(board, BOARD_ROLE, _since(world, d, board))]
        members += [(j, MEMBER_ROLE, _since(world, d, j)) for j in others]
        plans.append(CouncilPlan(node, sector.slug, None, None, tuple(members)))
    return plans


def plan_councils(world: World) -> tuple[CouncilPlan, ...]:
    """Every council that can be filled, global ones first."""
    d = Draws(f"{world.seed}:councils")
    plans = _global_councils(world, d)
    boards = {p for plan in plans for p, role, _ in plan.members if role == BOARD_ROLE}
    global_ids = {plan.sector: plan.node.id for plan in plans}
    sector_pos = {sector.slug: i for i, sector in enumerate(world.sectors)}
    specs: list[tuple[str, str, str | None, str]] = [
        (slug, name, None, text) for slug, name, text in SUB_SECTOR
    ]
    specs += REGIONAL
    for slug, name, area, text in specs:
        if slug not in global_ids or (area is not None and area not in world.place_index):
            continue
        s = sector_pos[slug]
        fits = _near(world, s, area) if area else _in_sector(s)
        chosen = _choose(world, d, min(3 + d.below(4), world.people - len(boards)), fits, boards)
        node = Council(
            id=f"council:{slugify(name)}",
            name=name,
            description=text,
            scope=CouncilScope.regional if area else CouncilScope.sub_sector,
            fictional=True,
            provenance=DEMO,
        )
        members = tuple((j, MEMBER_ROLE, _since(world, d, j)) for j in chosen)
        community = f"community:{area}" if area else None
        plans.append(CouncilPlan(node, slug, global_ids[slug], community, members))
    return tuple(plans)


def council_records(plans: tuple[CouncilPlan, ...]) -> Iterator[Node | Edge]:
    """Council nodes, then their ``in_sector``, ``part_of`` and ``located_in`` edges."""
    for plan in plans:
        yield plan.node
    for plan in plans:
        source = plan.node.id
        yield Edge(kind="in_sector", source=source, target=f"sector:{plan.sector}", provenance=DEMO)
        if plan.parent:
            yield Edge(kind="part_of", source=source, target=plan.parent, provenance=DEMO)
        if plan.community:
            yield Edge(kind="located_in", source=source, target=plan.community, provenance=DEMO)


def memberships(plans: tuple[CouncilPlan, ...]) -> dict[int, list[tuple[str, str, int]]]:
    """Person index -> ``(council id, role, since day)``; about a hundred entries at most."""
    out: dict[int, list[tuple[str, str, int]]] = {}
    for plan in plans:
        for person, role, since in plan.members:
            out.setdefault(person, []).append((plan.node.id, role, since))
    return out
