"""The privacy policy: the one place that decides what a caller may see of whom.

Every route that returns nodes, edges, neighbourhoods or paths goes through these
functions:

- a **private** profile is seen only by its owner and admins; a **members** profile by
  members, editors and admins; a **public** one by anyone;
- a person who is **not discoverable** appears in no listing, neighbourhood or path
  (except to their owner and admins), though a direct link to a visible profile works;
  what surrounds a person (their edges, neighbourhood, paths, recommendations from
  them, what is like them) is shown only for someone the caller may list
  (``may_see_node(..., listing=True)``), so naming an undiscoverable person there is
  answered as an id that does not exist;
- **contact** details are shown only to the owner and admins;
- a person's **place** is coarsened to their ``location_precision`` for everyone else:
  ``exact`` as given; ``city`` snapped to a 0.1° grid (about 11 km); ``region`` snapped
  to a 1° grid (about 110 km) without the place name; ``country`` without coordinates
  or place name. Anything derived from a place (a distance, an order) must be
  computed from :func:`public_place`, never from the stored coordinates;
- a person's **link to a community** (``located_in``, ``member_of``) is shown only when
  the community is no finer than the person's precision (a neighbourhood counts as
  exact, a city as city, a county or region as region), since the link itself places
  them; listings by community, neighbourhoods, edge lists and paths all apply this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import networkx as nx

from api.auth import Caller, Role
from graph.codec import node_record
from graph.geo import public_place
from graph.listing import Audience
from graph.model import Node, Person
from graph.queries import EdgeFilter
from graph.store import LOCALITY_RANK
from graph.visibility import VISIBLE_TO

PLACING_EDGES = frozenset({"located_in", "member_of"})


def privileged(caller: Caller, node_id: str) -> bool:
    """Whether the caller sees this node's record in full (its owner, or an admin)."""
    return caller.role is Role.admin or caller.owns(node_id)


def may_see(caller: Caller, node_id: str, visibility: str, discoverable: bool, *,
            listing: bool) -> bool:  # fmt: skip
    """Whether ``caller`` may see a node with these settings (in a listing, or directly)."""
    if privileged(caller, node_id):
        return True
    if listing and not discoverable:
        return False
    return visibility in VISIBLE_TO[audience_name(caller)]


def may_see_node(caller: Caller, node: Node, *, listing: bool) -> bool:
    if isinstance(node, Person):
        return may_see(caller, node.id, node.visibility, node.discoverable, listing=listing)
    return True


def graph_filter(caller: Caller, graph: nx.MultiDiGraph) -> Callable[[str], bool]:
    """A node predicate for walks over the graph view (neighbourhoods, paths)."""
    nodes = graph.nodes

    def allowed(node_id: str) -> bool:
        attrs = nodes[node_id]
        if attrs["kind"] != "person":
            return True
        return may_see(caller, node_id, attrs["visibility"], attrs["discoverable"], listing=True)

    return allowed


def edge_filter(caller: Caller, graph: nx.MultiDiGraph) -> EdgeFilter:
    """An edge predicate for walks: hides community links finer than a person shares."""
    nodes = graph.nodes

    def allowed(source: str, kind: str, target: str) -> bool:
        if kind not in PLACING_EDGES or privileged(caller, source):
            return True
        person, community = nodes[source], nodes[target]
        if person["kind"] != "person" or community["kind"] != "community":
            return True
        return places_no_finer(person["locality"], community["locality"])

    return allowed


def places_no_finer(person_precision: str | None, community_level: str | None) -> bool:
    """Whether a link to a community of this level stays within the person's precision."""
    if person_precision is None or community_level is None:
        return True
    return LOCALITY_RANK[community_level] >= LOCALITY_RANK[person_precision]


def audience(caller: Caller) -> Audience:
    """The listing audience of a caller, for :func:`graph.listing.list_nodes`."""
    own = frozenset({caller.person_id}) if caller.person_id else frozenset()
    if caller.role is Role.admin:
        return Audience(visibilities=None, include_undiscoverable=True, respect_locality=False)
    return Audience(visibilities=VISIBLE_TO[audience_name(caller)], own=own)


def audience_name(caller: Caller) -> str:
    """The listing audience below admins a caller belongs to (see :mod:`graph.visibility`)."""
    return "members" if caller.at_least(Role.member) else "public"


def present(node: Node, caller: Caller) -> dict[str, Any]:
    """The node's record as ``caller`` may see it (the caller may see the node)."""
    record = node_record(node)
    del record["type"]
    if not isinstance(node, Person) or privileged(caller, node.id):
        return record
    record.pop("contact", None)
    if node.place is not None:
        shown = public_place(node.place, node.location_precision)
        record["place"] = shown.model_dump(mode="json", exclude_none=True)
    return record
