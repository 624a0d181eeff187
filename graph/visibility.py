"""Who may see what: the one rule for nodes, edges, fields and places, and its audience index.

Every route and service asks this module; none restates it. The rule:

- a **private** profile is seen only by its owner and admins; a **members** profile by
  members, editors and admins; a **public** one by anyone;
- a person is *listable* by an audience when their visibility is one the audience sees
  and they consented to be **discoverable**. Two audiences exist below admins:
  ``public`` (anonymous viewers) and ``members`` (members and editors). Admins list
  everyone; a person always finds themselves;
- a person who is not discoverable appears in no listing, neighbourhood, path, search,
  recommendation, map or figure (except to their owner and admins), though a direct link
  to their record works (:func:`may_see_node` with ``listing=False``); what surrounds a
  person (their edges, neighbourhood, paths, recommendations from them, what is like
  them) is shown only for someone the viewer may list, so naming an undiscoverable
  person there is answered as an id that does not exist;
- **contact** details are shown to the owner and admins; to others only as the person
  chose (``share_contact``): ``members`` to any signed-in member, ``introduced`` (the
  default) to the people with whom an introduction was accepted (the viewer's
  ``introduced`` set), ``nobody`` to no one else; never in a recommendation
  (:func:`contact_shown`). Being introduced also lets each side read the other's record
  by a direct link, whatever its visibility (never in a listing);
- a person's **place** is coarsened to their ``location_precision`` for everyone else
  (see :func:`graph.geo.public_place`); anything derived from a place (a distance, an
  order) is computed from the public place, never from the stored coordinates;
- a person's **link to a community** (``located_in``, ``member_of``) is shown only when
  the community is no finer than the person's precision (a neighbourhood counts as
  exact, a city as city, a county or region as region), since the link itself places
  them (:func:`places_no_finer`).

:class:`AudienceIndex` holds, per audience, the people it may not list, updated
incrementally from each change batch, so that asking "who is hidden from this viewer"
costs nothing per request whatever the size of the network. Its frozensets stay the same
objects until a batch changes them, which lets the vector index remember their rows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Literal

import networkx as nx

from graph.codec import node_record
from graph.compact import attribute_reader, kind_reader
from graph.feed import ChangeBatch
from graph.geo import public_place
from graph.model import Node, Person
from graph.queries import EdgeFilter
from graph.store import LOCALITY_RANK

AudienceName = Literal["public", "members"]
VISIBLE_TO: Mapping[str, frozenset[str]] = {
    "public": frozenset({"public"}),
    "members": frozenset({"public", "members"}),
}
"""The profile visibilities each listing audience sees."""

PLACING_EDGES = frozenset({"located_in", "member_of"})
"""Edges that place a person (hidden when finer than the person's precision)."""


class Role(IntEnum):
    """What a viewer may do; each role may do everything the roles below it may."""

    anonymous = 0
    member = 1
    editor = 2
    admin = 3

    @classmethod
    def parse(cls, name: str) -> Role:
        try:
            return cls[name]
        except KeyError:
            raise ValueError(
                f"unknown role '{name}'; expected one of {', '.join(r.name for r in cls)}"
            ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class Viewer:
    """Who is asking: a role, and the person they are (if any). Keywords only, so that
    no caller mistakes one id for another."""

    role: Role = Role.anonymous
    person_id: str | None = None
    introduced: frozenset[str] = frozenset()
    """The people an introduction with was accepted (both sides consented to meet)."""

    def at_least(self, role: Role) -> bool:
        return self.role >= role

    def owns(self, node_id: str) -> bool:
        return self.person_id is not None and self.person_id == node_id

    @property
    def audience(self) -> AudienceName:
        """The listing audience whose figures and recommendations the viewer gets (admins
        get ``members``: consent holds for them too)."""
        return "members" if self.role >= Role.member else "public"


AS_AUDIENCE: Mapping[str, Viewer] = {"public": Viewer(), "members": Viewer(role=Role.member)}
"""A viewer of each audience who owns nothing: how the councils' figures and the editors'
recommendations show people, whoever asks."""


def listable(audience: str, visibility: str, discoverable: bool) -> bool:
    """Whether a person with these settings appears in the audience's listings."""
    return discoverable and visibility in VISIBLE_TO[audience]


def privileged(viewer: Viewer, node_id: str) -> bool:
    """Whether the viewer sees this node's record in full (its owner, or an admin)."""
    return viewer.role is Role.admin or viewer.owns(node_id)


def may_see(
    viewer: Viewer, node_id: str, visibility: str, discoverable: bool, *, listing: bool
) -> bool:
    """Whether ``viewer`` may see a node with these settings (in a listing, or directly)."""
    if privileged(viewer, node_id):
        return True
    if listing and not discoverable:
        return False
    if not listing and node_id in viewer.introduced:
        return True  # both agreed to meet: each may open the other's record
    return visibility in VISIBLE_TO[viewer.audience]


def may_see_node(viewer: Viewer, node: Node, *, listing: bool) -> bool:
    """Whether ``viewer`` may read this record (``listing=False``: by a direct link) or
    find it and what surrounds it (``listing=True``)."""
    if isinstance(node, Person):
        return may_see(viewer, node.id, node.visibility, node.discoverable, listing=listing)
    return True


def node_filter(viewer: Viewer, graph: nx.MultiDiGraph) -> Callable[[str], bool]:
    """A node predicate over the graph view (walks, the map): the nodes the viewer may list."""
    nodes = graph.nodes

    def allowed(node_id: str) -> bool:
        attrs = nodes[node_id]
        if attrs["kind"] != "person":
            return True
        return may_see(viewer, node_id, attrs["visibility"], attrs["discoverable"], listing=True)

    return allowed


def places_no_finer(person_precision: str | None, community_level: str | None) -> bool:
    """Whether a link to a community of this level stays within the person's precision."""
    if person_precision is None or community_level is None:
        return True
    return LOCALITY_RANK[community_level] >= LOCALITY_RANK[person_precision]


def edge_filter(viewer: Viewer, graph: nx.MultiDiGraph) -> EdgeFilter:
    """An edge predicate for walks: hides community links finer than a person shares."""
    kind_of, locality_of = kind_reader(graph), attribute_reader(graph, "locality")

    def allowed(source: str, kind: str, target: str) -> bool:
        if kind not in PLACING_EDGES or privileged(viewer, source):
            return True
        if kind_of(source) != "person" or kind_of(target) != "community":
            return True
        return places_no_finer(locality_of(source), locality_of(target))

    return allowed


@dataclass(frozen=True, slots=True)
class ListingAudience:
    """Which nodes a viewer may list, as :mod:`graph.listing` applies it in SQL.

    ``visibilities`` lists the profile visibilities shown (None: all); people who are
    not discoverable are left out unless ``include_undiscoverable``; ``own`` ids (the
    viewer's own profile) are always shown; ``respect_locality`` hides community links
    finer than a person shares.
    """

    visibilities: frozenset[str] | None = frozenset({"public"})
    include_undiscoverable: bool = False
    own: frozenset[str] = frozenset()
    respect_locality: bool = True


def listing_audience(viewer: Viewer) -> ListingAudience:
    """What the viewer may list (and count), for :func:`graph.listing.list_nodes`."""
    if viewer.role is Role.admin:
        return ListingAudience(None, include_undiscoverable=True, respect_locality=False)
    own = frozenset({viewer.person_id}) if viewer.person_id else frozenset()
    return ListingAudience(VISIBLE_TO[viewer.audience], own=own)


def contact_shown(person: Person, viewer: Viewer) -> bool:
    """Whether ``viewer`` sees the person's contact details: their owner and admins, and
    others as the person chose to share them."""
    if privileged(viewer, person.id):
        return True
    share = str(person.share_contact)
    if share == "members":
        return viewer.role >= Role.member
    if share == "introduced":
        return person.id in viewer.introduced
    return False


def present(node: Node, viewer: Viewer) -> dict[str, Any]:
    """The node's record as ``viewer`` may see it (the viewer may see the node): the place
    coarsened, but to the owner and admins; contact details as :func:`contact_shown`."""
    record = node_record(node)
    del record["type"]
    if not isinstance(node, Person) or privileged(viewer, node.id):
        return record
    if not contact_shown(node, viewer):
        record.pop("contact", None)
    record.pop("share_contact", None)  # the owner's choice is theirs to know
    if node.place is not None:
        shown = public_place(node.place, node.location_precision)
        record["place"] = shown.model_dump(mode="json", exclude_none=True)
    return record


def present_recommended(node: Node, viewer: Viewer) -> dict[str, Any]:
    """A recommended node's record: as :func:`present`, never with contact details."""
    record = present(node, viewer)
    record.pop("contact", None)
    return record


Settings = tuple[str, bool] | None
"""(visibility, discoverable) of a person; None for someone who is gone."""


class AudienceIndex:
    """The people each audience may not list; a projection of the change feed."""

    REMEMBERED = 32  # "hidden less one person" sets kept between changes

    def __init__(self) -> None:
        self._hidden: dict[str, set[str]] = {audience: set() for audience in VISIBLE_TO}
        self._frozen: dict[str, frozenset[str]] = {}
        self._less: dict[tuple[str, str], tuple[frozenset[str], frozenset[str]]] = {}
        self._less_lock = threading.Lock()

    @classmethod
    def from_graph(cls, graph: nx.MultiDiGraph) -> AudienceIndex:
        """The index of the people in a graph view (whose nodes carry the settings)."""
        index = cls()
        for node, attrs in graph.nodes(data=True):
            if attrs["kind"] == "person":
                index._set(node, (attrs["visibility"], attrs["discoverable"]))
        return index

    def hidden(self, audience: str, *, but: str | None = None) -> frozenset[str]:
        """The people ``audience`` may not list, less ``but`` (a person always finds
        themselves); the same object until a write changes it.

        The set less one person is remembered too (the last :attr:`REMEMBERED` of them):
        copying it costs time in the size of the network, and so does every index's
        first look at a new set.
        """
        found = self._frozen.get(audience)
        if found is None:
            found = self._frozen[audience] = frozenset(self._hidden[audience])
        if but is None or but not in found:
            return found
        key = (audience, but)
        with self._less_lock:
            remembered = self._less.get(key)
            if remembered is not None and remembered[0] is found:
                return remembered[1]
            less = found - {but}
            self._less.pop(key, None)
            if len(self._less) >= self.REMEMBERED:
                del self._less[next(iter(self._less))]
            self._less[key] = (found, less)
            return less

    def hidden_from(self, viewer: Viewer) -> frozenset[str]:
        """The people ``viewer`` may not find: none for admins; else those their audience
        may not list, less themselves."""
        if viewer.role is Role.admin:
            return frozenset()
        return self.hidden(viewer.audience, but=viewer.person_id)

    def prepare(self, batch: ChangeBatch) -> dict[str, Settings]:
        held = self._known() if batch.people is not None else set()  # only for erasures
        found: dict[str, Settings] = dict.fromkeys(batch.erased(held))
        for node_id in batch.touched_nodes:
            if node_id.startswith("person:"):
                node = batch.nodes.get(node_id)
                found[node_id] = _settings(node) if isinstance(node, Person) else None
        return found

    def apply(self, batch: ChangeBatch, prepared: dict[str, Settings]) -> None:
        changed = False
        for node_id, settings in prepared.items():
            changed |= self._set(node_id, settings)
        if changed:
            self._frozen = {}
            self._less = {}

    def _known(self) -> set[str]:
        return set().union(*self._hidden.values())

    def _set(self, node_id: str, settings: Settings) -> bool:
        changed = False
        for audience, hidden in self._hidden.items():
            hide = settings is not None and not listable(audience, *settings)
            if hide and node_id not in hidden:
                hidden.add(node_id)
                changed = True
            elif not hide and node_id in hidden:
                hidden.discard(node_id)
                changed = True
        return changed


def _settings(person: Person) -> tuple[str, bool]:
    return str(person.visibility), bool(person.discoverable)
