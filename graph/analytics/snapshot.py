"""What sector analytics read from the graph view, extracted once per view version and audience.

A :class:`Snapshot` holds, for every node an audience may count, the sectors it belongs
to, the SDGs it works on and its world region; :class:`Places` adds the communities it
is linked to. Every figure of the councils' endpoints is computed from them (and from
the view for walks), so a figure never counts someone the audience may not list.

Who counts: every node that is not a person; a person only when they are discoverable
and their profile's visibility is shown to the audience (``public``: public profiles;
``members``: public and members-only ones). Private and undiscoverable people count
nowhere, for nobody, not even as an anonymous number. A person's link to a community
counts only when the community is no finer than the place precision they chose. Both
rules are asked of :mod:`graph.visibility`.

Extraction walks only the in-edges of sectors, goals, targets and communities, never
the whole edge list. It relies on the edge rules of :mod:`graph.edges`: every edge into
a sector ties its source to the sector (``interested_in``, ``in_sector``,
``partners_with``), every edge into a goal from a node that is not a target, and every
edge into a target, says that the source works on it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import numpy.typing as npt

from graph.analytics.regions import Regions
from graph.visibility import AudienceName, listable, places_no_finer

Audience = AudienceName
SDG_IDS: tuple[str, ...] = tuple(f"sdg:{n}" for n in range(1, 18))
MEMBER_KINDS = ("person", "initiative", "wisdom_entry", "organization", "event", "council")
"""Kinds that belong to sectors (people by interest or council seat, the rest by tag)."""
CONTENT_KINDS = ("event", "initiative", "organization", "wisdom_entry")
_KEPT_KINDS = frozenset({*MEMBER_KINDS, "community"})
_ANCESTOR_DEPTH = 6

# The loops below read networkx's own adjacency dicts (``_node``, ``_pred``, ``_succ``,
# documented for subclasses): the read-only views cost several times the dict lookups
# themselves, and these loops touch every sector, goal and community link.


@dataclass
class Snapshot:
    """Sector, SDG and region facts of the nodes an audience may count."""

    seq: int
    audience: Audience
    region_names: tuple[str, ...]
    sectors: tuple[str, ...]
    """Sector ids in id order: index ``i`` is bit ``1 << i`` of :attr:`sector_mask`."""
    sdgs: tuple[str, ...]
    """Goal ids in number order: index ``g`` is bit ``1 << g`` of :attr:`sdg_mask`."""
    kind: dict[str, str]
    """Kind of every counted node of :data:`MEMBER_KINDS`, and of every community."""
    hidden: frozenset[str]
    """People who count nowhere for this audience."""
    sector_mask: dict[str, int] = field(default_factory=dict)
    sdg_mask: dict[str, int] = field(default_factory=dict)
    """Goals of the nodes that belong to a sector (nobody else's are needed)."""
    region: dict[str, int] = field(default_factory=dict)
    """Region index of the nodes with a country (see :class:`Places` for the others)."""
    _members: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict, repr=False)

    def sectors_of(self, node: str) -> list[str]:
        """The sector ids a node belongs to, in id order."""
        return bits(self.sector_mask.get(node, 0), self.sectors)

    def sdgs_of(self, node: str) -> list[str]:
        """The goal ids a node works on or cares about, in number order."""
        return bits(self.sdg_mask.get(node, 0), self.sdgs)

    def members(self, sector: str) -> dict[str, tuple[str, ...]]:
        """Kind -> ids (in id order) of the counted nodes in the sector.

        Computed for every sector at once, on first use: one pass over the nodes.
        """
        if not self._members:
            by_sector: list[dict[str, list[str]]] = [{} for _ in self.sectors]
            kinds = self.kind
            for node, mask in self.sector_mask.items():
                while mask:
                    low = mask & -mask  # the lowest bit set
                    by_sector[low.bit_length() - 1].setdefault(kinds[node], []).append(node)
                    mask ^= low
            self._members = {
                sector: {kind: tuple(sorted(ids)) for kind, ids in sorted(found.items())}
                for sector, found in zip(self.sectors, by_sector, strict=True)
            }
        return self._members.get(sector, {})

    def in_sector(self, sector: str, kinds: Iterable[str]) -> list[str]:
        """Counted nodes of these kinds in the sector, in id order."""
        by_kind = self.members(sector)
        return sorted(node for kind in kinds for node in by_kind.get(kind, ()))


@dataclass(frozen=True)
class Places:
    """Where counted nodes are: the communities they are linked to, and their regions."""

    communities: dict[str, frozenset[str]]
    """Communities a node is linked to (allowed links), with the larger ones they are part of."""
    region: dict[str, int]
    """Region index of every node that has one: its country, else its communities' region."""
    size: dict[str, int]
    """How many counted nodes each community links (its own and its parts')."""

    def region_of(self, node: str, names: tuple[str, ...]) -> str | None:
        index = self.region.get(node, -1)
        return names[index] if index >= 0 else None


def bits(mask: int, names: tuple[str, ...]) -> list[str]:
    """The names whose bit is set in ``mask``."""
    return [name for i, name in enumerate(names) if mask >> i & 1]


def bit_matrix(masks: list[int], width: int) -> npt.NDArray[np.float64]:
    """One row per mask, one 0/1 column per bit: masks made ready for matrix products."""
    array = np.asarray(masks, dtype=np.int64).reshape(-1, 1)
    out: npt.NDArray[np.float64] = ((array >> np.arange(width, dtype=np.int64)) & 1).astype(
        np.float64
    )
    return out


def most_connected(graph: nx.MultiDiGraph, nodes: list[str], cap: int) -> list[str]:
    """At most ``cap`` of ``nodes``: those with the most neighbours (then by id), in id order."""
    if len(nodes) <= cap:
        return nodes
    succ, pred = graph._succ, graph._pred
    ordered = sorted(nodes)
    links = np.fromiter((len(succ[n]) + len(pred[n]) for n in ordered), dtype=np.int64)
    best = np.argsort(-links, kind="stable")[:cap]  # stable: ties stay in id order
    return [ordered[i] for i in np.sort(best)]


def build_snapshot(
    graph: nx.MultiDiGraph, *, seq: int, audience: Audience, regions: Regions
) -> Snapshot:
    """Extract the facts analytics need from the view's graph, for one audience."""
    kinds: dict[str, str] = {}
    hidden: set[str] = set()
    sectors: list[str] = []
    region: dict[str, int] = {}
    of_country = regions.of_country
    for node, attrs in graph._node.items():
        kind = attrs["kind"]
        if kind == "person" and not listable(audience, attrs["visibility"], attrs["discoverable"]):
            hidden.add(node)
        elif kind == "sector":
            sectors.append(node)
        elif kind in _KEPT_KINDS:
            kinds[node] = kind
            country = attrs.get("country")
            if country in of_country:
                region[node] = of_country[country]
    sectors.sort()
    snap = Snapshot(
        seq=seq,
        audience=audience,
        region_names=regions.names,
        sectors=tuple(sectors),
        sdgs=tuple(s for s in SDG_IDS if s in graph),
        kind=kinds,
        hidden=frozenset(hidden),
        region=region,
    )
    _sector_masks(graph, snap)
    _sdg_masks(graph, snap)
    return snap


def _sector_masks(graph: nx.MultiDiGraph, snap: Snapshot) -> None:
    pred, kinds = graph._pred, snap.kind
    masks: defaultdict[str, int] = defaultdict(int)
    for i, sector in enumerate(snap.sectors):
        bit = 1 << i
        for source in pred[sector]:
            if source in kinds:
                masks[source] |= bit
    # A council seat puts a person in the council's sector.
    councils = sorted((n, m) for n, m in masks.items() if kinds[n] == "council")
    for council, mask in councils:
        for source, keys in pred[council].items():
            if "member_of" in keys and kinds.get(source) == "person":
                masks[source] |= mask
    snap.sector_mask = dict(masks)


def _sdg_masks(graph: nx.MultiDiGraph, snap: Snapshot) -> None:
    pred, nodes, sectors = graph._pred, graph._node, snap.sector_mask
    masks: defaultdict[str, int] = defaultdict(int)
    for g, goal in enumerate(snap.sdgs):
        bit = 1 << g
        hubs = [goal]
        for source in pred[goal]:
            if source in sectors:
                masks[source] |= bit
            elif nodes[source]["kind"] == "sdg_target":
                hubs.append(source)
        for target in hubs[1:]:
            for source in pred[target]:
                if source in sectors:
                    masks[source] |= bit
    snap.sdg_mask = dict(masks)


def build_places(graph: nx.MultiDiGraph, snap: Snapshot) -> Places:
    """The communities and regions of the snapshot's counted nodes."""
    pred, succ, nodes, kinds = graph._pred, graph._succ, graph._node, snap.kind
    community_ids = sorted(n for n, k in kinds.items() if k == "community")
    parents = {
        c: sorted(t for t, keys in succ[c].items() if "part_of" in keys and t in kinds)
        for c in community_ids
    }
    direct: dict[str, list[str]] = {}
    for community in community_ids:
        level = nodes[community].get("locality")
        for source in pred[community]:
            kind = kinds.get(source)
            if kind is None or kind == "community":
                continue
            if kind == "person" and not places_no_finer(nodes[source].get("locality"), level):
                continue  # the link would place them more precisely than they share
            direct.setdefault(source, []).append(community)
    closure = {c: _ancestors(c, parents) for c in community_ids}
    communities: dict[str, frozenset[str]] = {}
    size: dict[str, int] = {}
    for node, found in direct.items():
        linked: set[str] = set()
        for community in found:
            linked |= closure[community]
        communities[node] = frozenset(linked)
        for community in linked:
            size[community] = size.get(community, 0) + 1
    return Places(communities, _regions(graph, snap, direct), size)


def _ancestors(community: str, parents: dict[str, list[str]]) -> frozenset[str]:
    found = {community}
    frontier = [community]
    for _ in range(_ANCESTOR_DEPTH):
        frontier = [p for c in frontier for p in parents.get(c, ()) if p not in found]
        if not frontier:
            break
        found.update(frontier)
    return frozenset(found)


def _regions(
    graph: nx.MultiDiGraph, snap: Snapshot, direct: dict[str, list[str]]
) -> dict[str, int]:
    """Regions from countries, else from communities, else from what an entry describes.

    A Wisdom Book entry without a place takes the region of what it describes, else the
    region of its (counted) authors; the first in id order wins, so the answer is stable.
    """
    region = dict(snap.region)
    for node, found in direct.items():
        if node not in region:
            for community in sorted(found):
                if community in region:
                    region[node] = region[community]
                    break
    succ, pred, kinds = graph._succ, graph._pred, snap.kind
    entries = sorted(n for n, k in kinds.items() if k == "wisdom_entry" and n not in region)
    for node in entries:
        described = sorted(t for t, keys in succ[node].items() if "describes" in keys)
        authors = sorted(s for s, keys in pred[node].items() if "authored" in keys)
        for other in (*described, *authors):
            if other in region and other in kinds:
                region[node] = region[other]
                break
    return region
