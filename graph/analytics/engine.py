"""Sector analytics over a store and its graph view, computed once per view version.

Every figure depends only on the view's state (its ``seq``), the audience and the
request's own arguments, so each is cached under ``(seq, what, audience, arguments)``.
A write moves ``seq`` on and the next request recomputes; older entries are dropped.
Computations run one at a time (they are CPU-bound, and two requests arriving together
for the same figure should compute it once); cached answers are served without waiting.
Callers hold one version of the view for the whole computation (the change feed's read
lock), so the graph never changes under a computation.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable
from typing import Any, TypeVar

from graph.analytics.bridges import SectorBridges, sector_bridges
from graph.analytics.councils import DEFAULT_SIZE, Proposal, board_members, propose_council
from graph.analytics.errors import NotASector
from graph.analytics.gaps import SectorGaps, sector_gaps
from graph.analytics.groups import SectorGroups, sector_groups
from graph.analytics.overlap import SectorOverlap, sector_overlap
from graph.analytics.regions import Regions
from graph.analytics.snapshot import Audience, Places, Snapshot, build_places, build_snapshot
from graph.analytics.synergies import Synergy, SynergyKind, sector_synergies
from graph.similarity import TextSimilarity
from graph.store import Store
from graph.view import GraphView

log = logging.getLogger(__name__)
T = TypeVar("T")


class SectorAnalytics:
    """Overlap, synergies, bridges, groups, gaps and council proposals, cached per ``view.seq``."""

    def __init__(
        self, store: Store, view: GraphView, regions: Regions, *, max_entries: int = 256
    ) -> None:
        self.store = store
        self.view = view
        self.regions = regions
        self.max_entries = max_entries
        self._cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._compute_lock = threading.RLock()

    # -- caching --------------------------------------------------------------

    def _cached(self, key: tuple[Any, ...], compute: Callable[[int], T]) -> T:
        seq = self.view.seq
        full = (seq, *key)
        with self._cache_lock:
            if full in self._cache:
                self._cache.move_to_end(full)
                return self._cache[full]  # type: ignore[no-any-return]
        with self._compute_lock:
            with self._cache_lock:
                if full in self._cache:
                    return self._cache[full]  # type: ignore[no-any-return]
            value = compute(seq)
            with self._cache_lock:
                for old in [k for k in self._cache if k[0] != seq]:
                    del self._cache[old]
                self._cache[full] = value
                while len(self._cache) > self.max_entries:
                    self._cache.popitem(last=False)
        return value

    # -- building blocks ------------------------------------------------------

    def snapshot(self, audience: Audience) -> Snapshot:
        return self._cached(
            ("snapshot", audience),
            lambda seq: build_snapshot(
                self.view.graph, seq=seq, audience=audience, regions=self.regions
            ),
        )

    def places(self, audience: Audience) -> Places:
        snap = self.snapshot(audience)
        return self._cached(("places", audience), lambda _: build_places(self.view.graph, snap))

    def require_sector(self, sector: str) -> None:
        """Raise :class:`NotASector` unless ``sector`` is a sector of the view."""
        attrs = self.view.graph.nodes.get(sector)
        if attrs is None or attrs.get("kind") != "sector":
            raise NotASector(sector)

    def names(self, ids: Iterable[str]) -> dict[str, str]:
        """Names of nodes (sectors and goals from a per-version cache, the rest from the store)."""
        reference = self._cached(("names",), lambda _: self._reference_names())
        wanted = [i for i in dict.fromkeys(ids) if i not in reference]
        found = {i: n.name for i, n in self.store.get_nodes(wanted).items()}
        return {**reference, **found}

    def _reference_names(self) -> dict[str, str]:
        graph = self.view.graph
        ids = [n for n, a in graph.nodes(data=True) if a["kind"] in ("sector", "sdg")]
        return {i: n.name for i, n in self.store.get_nodes(ids).items()}

    # -- figures --------------------------------------------------------------

    def overlap(self, audience: Audience, similarity: TextSimilarity) -> SectorOverlap:
        snap = self.snapshot(audience)
        return self._cached(("overlap", audience), lambda _: sector_overlap(snap, similarity))

    def synergies(
        self,
        audience: Audience,
        similarity: TextSimilarity,
        sector: str,
        *,
        other: str | None,
        kind: SynergyKind,
    ) -> list[Synergy]:
        self.require_sector(sector)
        if other is not None:
            self.require_sector(other)
        snap, places = self.snapshot(audience), self.places(audience)
        return self._cached(
            ("synergies", audience, sector, other, kind),
            lambda _: sector_synergies(
                self.view.graph, snap, places, similarity, sector, other=other, kind=kind
            ),
        )

    def bridges(self, audience: Audience, sector: str) -> SectorBridges:
        self.require_sector(sector)
        snap = self.snapshot(audience)
        return self._cached(
            ("bridges", audience, sector), lambda _: sector_bridges(self.view.graph, snap, sector)
        )

    def groups(self, audience: Audience, similarity: TextSimilarity, sector: str) -> SectorGroups:
        self.require_sector(sector)
        snap, places = self.snapshot(audience), self.places(audience)
        return self._cached(
            ("groups", audience, sector),
            lambda _: sector_groups(self.view.graph, snap, places, similarity, self.store, sector),
        )

    def gaps(self, audience: Audience, sector: str) -> SectorGaps:
        self.require_sector(sector)
        snap, places = self.snapshot(audience), self.places(audience)
        return self._cached(("gaps", audience, sector), lambda _: sector_gaps(snap, places, sector))

    def propose(
        self,
        audience: Audience,
        similarity: TextSimilarity,
        sector: str,
        *,
        size: int = DEFAULT_SIZE,
        exclude: Collection[str] = (),
    ) -> Proposal:
        """A council proposal (reads the candidates' consent flags from the store)."""
        self.require_sector(sector)
        snap, places = self.snapshot(audience), self.places(audience)
        gaps = self.gaps(audience, sector)
        groups = self.groups(audience, similarity, sector)
        bridges = self.bridges(audience, sector)
        board = self._cached(("board",), lambda _: board_members(self.store))
        return self._cached(
            ("council", audience, sector, size, tuple(sorted(set(exclude)))),
            lambda _: propose_council(
                self.view.graph, snap, places, self.store, sector,
                gaps=gaps, groups=groups, bridges=bridges, board=board, size=size,
                exclude=exclude,
            ),
        )  # fmt: skip
