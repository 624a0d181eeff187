"""Who may find whom: listing audiences and the audience index the change feed keeps.

A person is *listable* by an audience when their visibility is one the audience sees and
they consented to be discoverable. Two audiences exist below admins: ``public``
(anonymous callers) and ``members`` (members and editors). Admins list everyone; a
person always finds themselves.

:class:`AudienceIndex` holds, per audience, the people it may not list, updated
incrementally from each change batch, so that asking "who is hidden from this audience"
costs nothing per request whatever the size of the network. Its frozensets stay the same
objects until a batch changes them, which lets the vector index remember their rows.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Literal

import networkx as nx

from graph.feed import ChangeBatch
from graph.model import Person

AudienceName = Literal["public", "members"]
VISIBLE_TO: Mapping[str, frozenset[str]] = {
    "public": frozenset({"public"}),
    "members": frozenset({"public", "members"}),
}
"""The profile visibilities each listing audience sees."""


def listable(audience: str, visibility: str, discoverable: bool) -> bool:
    """Whether a person with these settings appears in the audience's listings."""
    return discoverable and visibility in VISIBLE_TO[audience]


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
