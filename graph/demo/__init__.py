"""The demo network: real DPG initiatives plus a fictional, streaming population.

``demo_records(data_dir, seed=7, people=3000)`` yields pydantic :class:`Node` and
:class:`Edge` instances, every node before any edge that refers to it, in this
order: DPG initiatives and organisations with their edges; communities; fictional
local initiatives and organisations; councils; events; people, each followed by
their edges; Wisdom Book entries. Sector, SDG and SDG target nodes are reference
data loaded separately; edges point at them as ``sector:<slug>``, ``sdg:<n>`` and
``sdg_target:<code>``.

Memory stays flat in ``people``: everything about person ``i`` is recomputed from
``(seed, i)`` (see :mod:`graph.demo.latent`), and only bounded caches and the
reference data are held. The same arguments give exactly the same sequence.
DPG records have ``provenance="dpg"``; everything else is ``fictional=True`` with
``provenance="demo-generator"``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from graph.demo.communities import community_records
from graph.demo.councils import council_records, memberships, plan_councils
from graph.demo.dpg import dpg_records
from graph.demo.errors import DemoInputError
from graph.demo.events import event_records, plan_events
from graph.demo.inputs import load_places, load_sectors, load_target_codes
from graph.demo.latent import World
from graph.demo.local import local_initiative_records, organization_records
from graph.demo.people import PeopleContext, people_records
from graph.demo.social import Social
from graph.demo.wisdom import wisdom_records
from graph.edges import Edge
from graph.model import Node

__all__ = ["DemoInputError", "demo_records"]


def demo_records(data_dir: Path, *, seed: int = 7, people: int = 3000) -> Iterator[Node | Edge]:
    """Yield the demo network built on the reference files in ``data_dir``.

    Raises:
        DemoInputError: an input file is missing or malformed.
        ValueError: ``people`` is negative.
    """
    if people < 0:
        raise ValueError(f"people must be zero or more, got {people}")
    data_dir = Path(data_dir)
    sectors = load_sectors(data_dir)
    places = load_places(data_dir)
    targets = load_target_codes(data_dir)
    dpg = yield from dpg_records(data_dir, sectors)
    world = World(
        seed=seed,
        people=people,
        sectors=sectors,
        places=places,
        targets=targets,
        dpg_by_sector=dpg.by_sector,
        taken_ids=dpg.ids,
    )
    yield from community_records(world)
    yield from local_initiative_records(world)
    yield from organization_records(world)
    councils = plan_councils(world)
    yield from council_records(councils)
    events = plan_events(world)
    yield from event_records(world, events)
    board = frozenset(p for c in councils for p, role, _ in c.members if role == "board_member")
    context = PeopleContext(world, Social(world), events, memberships(councils), board)
    yield from people_records(context)
    yield from wisdom_records(world, events)
