"""About twenty webinars and conferences, and who takes part in them.

The EdNet webinar series of the education sector is the model (seed 000): a
recurring online session per topic. Conferences are in person and ``located_in``
a community when that place exists. A person takes part in a few events of their
sectors that happen after they joined; in-person ones mostly draw people who
live nearby.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from graph.demo.communities import DEMO
from graph.demo.latent import CAPITAL_REGION, START, Draws, PersonCore, World
from graph.edges import Edge
from graph.ids import slugify
from graph.model import Event, EventFormat, Node, Place

# (sector slug, name, start date, in-person place slug or None, description)
_EVENTS: tuple[tuple[str, str, date, str | None, str], ...] = (
    ("education", "EdNet: Compassionate Schools in Practice", date(2021, 2, 17), None,
     "Teachers from four continents share how their schools made compassion part of daily life."),
    ("education", "EdNet: Social-Emotional Learning Across Cultures", date(2021, 9, 15), None,
     "What social-emotional learning looks like when it starts from local traditions."),
    ("education", "EdNet: Restorative Circles in the Classroom", date(2022, 3, 16), None,
     "A practical session on running circles with children and teenagers."),
    ("education", "EdNet: Teacher Wellbeing After the Pandemic", date(2022, 10, 19), None,
     "Caring for the people who care for our students."),
    ("education", "EdNet: Youth Voice and Mentoring", date(2023, 5, 17), None,
     "Young people and their mentors on what makes a mentoring programme work."),
    ("education", "EdNet: Open Resources for Teaching Compassion", date(2024, 4, 17), None,
     "A tour of free lesson plans, readers and courses that anyone can adapt."),
    ("health", "Trauma-Informed Care Learning Call", date(2022, 6, 8), None,
     "Clinicians and community health workers compare notes on trauma-informed practice."),
    ("environment", "Climate Grief and Climate Action", date(2023, 4, 22), None,
     "Turning climate anxiety into shared, local action."),
    ("peace", "Violence Interruption: What Works", date(2022, 11, 9), None,
     "Violence interrupters from three cities on their methods and results."),
    ("restorative-justice", "Restorative Justice Roundtable", date(2021, 11, 3), None,
     "Practitioners discuss restorative approaches in schools, courts and neighbourhoods."),
    ("spirituality", "Interfaith Dialogue in Divided Times", date(2024, 1, 24), None,
     "How interfaith circles keep people talking when politics pulls them apart."),
    ("arts", "Art as Public Healing", date(2023, 8, 16), None,
     "Murals, theatre and music made with communities after loss."),
    ("business", "Compassionate Leadership at Work", date(2024, 6, 12), None,
     "Business owners on leading with care without losing the business."),
    ("social-services", "Ending Loneliness Among Elders", date(2025, 2, 19), None,
     "Visiting schemes, intergenerational projects and phone circles for older people."),
    ("gender-partnerships", "Safe Spaces for Girls", date(2022, 3, 8), None,
     "Building places where girls can meet, learn and lead."),
    ("science-research", "The Science of Compassion", date(2021, 5, 26), None,
     "Researchers explain what is known about empathy, compassion and wellbeing."),
    ("social-justice", "Compassionate Capital Region Summit", date(2024, 10, 5),
     CAPITAL_REGION, "Residents, city staff and county supervisors plan the next steps of the "
     "campaign: health equity, youth, housing and environmental racism."),
    ("social-services", "Global Compassionate Communities Gathering", date(2019, 11, 8),
     "louisville", "Campaign organisers from many countries meet to share what worked."),
    ("peace", "Youth Peacebuilders Forum", date(2023, 9, 21), "nairobi",
     "Young peacebuilders from East Africa meet to learn from each other."),
    ("restorative-justice", "Restorative Cities Conference", date(2022, 5, 12), "leeds",
     "Cities that use restorative practice across services compare approaches."),
    ("health", "Compassion in Health Care Symposium", date(2025, 6, 3), "toronto",
     "Two days on compassion in clinics, hospitals and care homes."),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class EventPlan:
    """An event and what participation depends on."""

    node: Event
    sector: int
    start: int  # days after 2015-01-01
    place: int  # index into World.places, -1 when online


def plan_events(world: World) -> tuple[EventPlan, ...]:
    """The events whose sector exists; in-person ones only where their place exists."""
    sector_pos = {s.slug: i for i, s in enumerate(world.sectors)}
    plans = []
    for slug, name, starts, where, text in _EVENTS:
        if slug not in sector_pos or (where is not None and where not in world.place_index):
            continue
        position = world.place_index[where] if where else -1
        place = None
        if where:
            p = world.places[position]
            place = Place(name=p.name, country=p.country, region=p.region, lat=p.lat, lon=p.lon)
        node = Event(
            id=f"event:{slugify(name)}",
            name=name,
            description=text,
            format=EventFormat.conference if where else EventFormat.webinar,
            starts=starts,
            ends=starts + timedelta(days=1) if where else starts,
            place=place,
            fictional=True,
            provenance=DEMO,
        )
        plans.append(EventPlan(node, sector_pos[slug], (starts - START).days, position))
    return tuple(plans)


def event_records(world: World, plans: tuple[EventPlan, ...]) -> Iterator[Node | Edge]:
    """Events followed by their ``in_sector``, ``addresses`` and ``located_in`` edges."""
    for plan in plans:
        event_id = plan.node.id
        sector = world.sectors[plan.sector]
        yield plan.node
        yield Edge(
            kind="in_sector", source=event_id, target=f"sector:{sector.slug}", provenance=DEMO
        )
        for goal in world.sector_sdgs[plan.sector][:2]:
            yield Edge(kind="addresses", source=event_id, target=f"sdg:{goal}", provenance=DEMO)
        if plan.place >= 0:
            target = f"community:{world.places[plan.place].slug}"
            yield Edge(kind="located_in", source=event_id, target=target, provenance=DEMO)


def participation(
    world: World, plans: tuple[EventPlan, ...], me: PersonCore, d: Draws
) -> list[EventPlan]:
    """The events person ``me`` took part in (usually none)."""
    if not d.chance(0.2):
        return []
    near = world.capital if me.home in world.capital else frozenset({me.home})
    fitting = [
        plan
        for plan in plans
        if plan.sector in (me.sector, me.sector2)
        and plan.start >= me.joined
        and (plan.place < 0 or plan.place in near or d.chance(0.1))
    ]
    return [fitting[k] for k in d.distinct(len(fitting), 1 + d.below(2))]
