"""A sector's current global council, as the caller may see it.

A sector page has to say who sits on its global council today and who of them is the
board member, so that a council can compare the assistant's proposal with itself. The
council is read from the graph: a ``council`` node of scope ``global_sector`` with an
``in_sector`` edge to the sector; its seats are the ``member_of`` edges into it that
have not ended (no ``until``, or an ``until`` from today on); the board member is the
member whose record carries the ``board_member`` flag (or whose seat has the role
``board_member``, as the demo network writes it).

Privacy: unlike the councils' figures, this is a listing of named people, so it follows
the listing rule for the caller (:func:`graph.visibility.may_see_node` with
``listing=True``): a private, members-only or undiscoverable member is shown only to
those who may find them, and the others are not counted either, so the answer does not
tell that someone hidden sits on the council. Records are presented without contact
details (:func:`graph.visibility.present_recommended`); a member's region is their
world region, coarser than any precision a person can choose.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from api.analytics import analytics
from api.auth import Caller
from api.services import Services
from graph.analytics.names import join_words, node_ref
from graph.edges import Edge
from graph.model import Council, CouncilScope, Person
from graph.visibility import may_see_node, present_recommended

BOARD_ROLE = "board_member"


def _seated(edge: Edge, council: str, today: Any) -> bool:
    return (
        edge.kind == "member_of"
        and edge.target == council
        and (edge.until is None or edge.until >= today)
    )


def _global_councils(services: Services, sector: str) -> list[Council]:
    """The sector's global councils, by id (records: the view does not hold the scope)."""
    graph = services.view.graph
    ids = sorted(
        source
        for source, _, kind in graph.in_edges(sector, keys=True)
        if kind == "in_sector" and graph.nodes[source]["kind"] == "council"
    )
    found = services.store.get_nodes(ids)
    return [
        node
        for i in ids
        if isinstance(node := found.get(i), Council) and node.scope == CouncilScope.global_sector
    ]


def current_council_payload(services: Services, caller: Caller, sector: str) -> dict[str, Any]:
    """``{sector, council, members, board_member, explanation}`` (see docs/councils.md)."""
    engine = analytics(services)
    graph = services.view.graph
    today = datetime.now(UTC).date()
    council: Council | None = None
    seats: list[Edge] = []
    for candidate in _global_councils(services, sector):
        found = [
            e for e in services.store.edges_of(candidate.id) if _seated(e, candidate.id, today)
        ]
        if council is None or found:
            council, seats = candidate, found
        if found:
            break  # the first global council (by id) that has members today
    people = services.store.get_nodes(e.source for e in seats)
    shown: list[tuple[Person, Edge]] = [
        (person, e)
        for e in seats
        if isinstance(person := people.get(e.source), Person)
        and may_see_node(caller, person, listing=True)
    ]
    sector_ids = {
        p.id: sorted(
            t
            for _, t, kind in graph.out_edges(p.id, keys=True)
            if kind == "interested_in" and graph.nodes[t]["kind"] == "sector"
        )
        for p, _ in shown
        if p.id in graph
    }
    names = engine.names([sector, *(s for ids in sector_ids.values() for s in ids)])
    regions = engine.regions

    def member(person: Person, seat: Edge) -> dict[str, Any]:
        board = person.board_member or seat.role == BOARD_ROLE
        country = graph.nodes[person.id].get("country") if person.id in graph else None
        index = regions.index(country)
        ids = sector_ids.get(person.id, [])
        if sector not in ids:
            ids = [sector, *ids]  # the seat itself places them in the council's sector
        return {
            "node": present_recommended(person, caller),
            "board_member": board,
            "since": seat.since.isoformat() if seat.since else None,
            "region": regions.names[index] if index >= 0 else None,
            "sectors": [node_ref(s, names) for s in ids],
        }

    members = sorted(
        (member(p, e) for p, e in shown),
        key=lambda m: (not m["board_member"], m["node"]["name"], m["node"]["id"]),
    )
    board = next((m["node"] for m in members if m["board_member"]), None)
    here = names.get(sector, sector)
    return {
        "sector": node_ref(sector, names),
        "council": None
        if council is None
        else {"id": council.id, "name": council.name, "description": council.description},
        "members": members,
        "board_member": None if board is None else {"id": board["id"], "name": board["name"]},
        "explanation": {"summary": _summary(here, council, members, board)},
    }


def _summary(here: str, council: Council | None, members: list[dict[str, Any]], board: Any) -> str:
    """One sentence: who sits on the council, and who of them is the board member."""
    if council is None:
        return f"The {here} sector has no global council yet."
    if not members:
        return f"No member of the {council.name} is shown here."
    others = [m["node"]["name"] for m in members if not m["board_member"]]
    if board is None:
        return f"On the {council.name}: {join_words(others)}; no board member is shown here."
    if not others:
        return f"{board['name']} sits on the {council.name} as its board member."
    return f"{board['name']} is the board member of the {council.name}, with {join_words(others)}."
