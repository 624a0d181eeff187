"""Sector analytics over a store and its graph view, cached per view version.

How a figure is cached and when an older one is answered: :mod:`graph.analytics.versions`;
how the current one is computed in the background: :mod:`graph.analytics.background`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

import networkx as nx

from graph.analytics.background import BackgroundFigures
from graph.analytics.bridges import SectorBridges, sector_bridges
from graph.analytics.councils import DEFAULT_SIZE, Proposal, board_members, propose_council
from graph.analytics.errors import NotASector
from graph.analytics.gaps import SectorGaps, sector_gaps
from graph.analytics.groups import SectorGroups, sector_groups
from graph.analytics.overlap import SectorOverlap, sector_overlap
from graph.analytics.snapshot import CONTENT_KINDS, Audience, Places, Snapshot
from graph.analytics.synergies import Synergy, SynergyKind, sector_synergies
from graph.analytics.versions import Job, Versioned
from graph.model import Person
from graph.similarity import TextSimilarity
from graph.touches import MAX_CARRY_NODES


class SectorAnalytics(BackgroundFigures):
    """Overlap, synergies, bridges, groups, gaps and council proposals, cached per version.

    Made as a :class:`~graph.analytics.versions.VersionedFigures` (a store, its graph view,
    the regions, and the change feed's lock, privacy epochs and staleness bounds when
    figures of an older version may be answered while the current one is computed).
    """

    def __init__(self, *args: Any, **options: Any) -> None:
        super().__init__(*args, **options)
        self._last_board: tuple[int, frozenset[str]] | None = None
        """The board of the latest version read, carried to the next."""

    # -- building blocks ------------------------------------------------------

    def snapshot(self, audience: Audience) -> Snapshot:
        return self._snapshot(audience, self.view.seq)

    def places(self, audience: Audience) -> Places:
        return self._places(audience, self.view.seq)

    def require_sector(self, sector: str) -> None:
        """Raise :class:`NotASector` unless ``sector`` is a sector of the view."""
        attrs = self.view.graph.nodes.get(sector)
        if attrs is None or attrs.get("kind") != "sector":
            raise NotASector(sector)

    def names(self, ids: Iterable[str]) -> dict[str, str]:
        """Names of nodes (sectors and goals from a per-version cache, the rest from the store)."""
        reference = self._block((self.view.seq, "names"), self._reference_names)
        wanted = [i for i in dict.fromkeys(ids) if i not in reference]
        found = {i: n.name for i, n in self.store.get_nodes(wanted).items()}
        return {**reference, **found}

    def _reference_names(self) -> dict[str, str]:
        graph = self.view.graph
        ids = [n for n, a in graph.nodes(data=True) if a["kind"] in ("sector", "sdg")]
        return {i: n.name for i, n in self.store.get_nodes(ids).items()}

    def _board(self, seq: int) -> frozenset[str]:
        return self._block((seq, "board"), lambda: self._board_at(seq))

    def _board_at(self, seq: int) -> frozenset[str]:
        """The board at version ``seq``: the one of an earlier version with the people the
        changes since touched read again (the flag is in their records), or, when what
        they touched is not known, every person's record scanned (a tenth of the councils'
        background work at 100,000 people when done for every version)."""
        last = self._last_board
        touched = None
        if last is not None and self.touches is not None and last[0] <= seq:
            touched = self.touches.between(last[0], seq)
        if last is not None and touched is not None and len(touched.nodes) <= MAX_CARRY_NODES:
            people = sorted(n for n in touched.nodes if n.startswith("person:"))
            records = self.store.get_nodes(people)
            board = frozenset(last[1].difference(people)) | {
                i for i, n in records.items() if isinstance(n, Person) and n.board_member
            }
        else:
            board = board_members(self.store)
        with self._cache_lock:
            if self._last_board is None or seq >= self._last_board[0]:
                self._last_board = (seq, board)
        return board

    def _child_state(self) -> dict[str, Any]:
        return {"last_board": self._last_board}

    def _take_child_state(self, state: dict[str, Any]) -> None:
        board = state.get("last_board")
        with self._cache_lock:
            if board is not None and (self._last_board is None or board[0] > self._last_board[0]):
                self._last_board = board

    def _reads_beyond_sector(self, key: tuple[Any, ...], value: Any, nodes: frozenset[str]) -> bool:
        """A council proposal also reads the board, wherever its members are. A touched
        person on the board now (their record says so) may take a seat; one who left it
        changes the proposal only if they hold a seat in it (the board seat goes to the
        best of the board, and nothing else a seat earns depends on the board)."""
        if key[0] != "council":
            return False
        if not nodes.isdisjoint(seat.candidate.node for seat in value.seats):
            return True
        people = [n for n in nodes if n.startswith("person:")]
        return any(
            isinstance(n, Person) and n.board_member for n in self.store.get_nodes(people).values()
        )

    # -- figures --------------------------------------------------------------

    def overlap(self, audience: Audience, similarity: TextSimilarity) -> Versioned[SectorOverlap]:
        def compute(
            _g: nx.MultiDiGraph, snap: Snapshot, _p: Places, sim: TextSimilarity | None, _s: int
        ) -> SectorOverlap:
            assert sim is not None
            return sector_overlap(snap, sim)

        def vectors(_g: nx.MultiDiGraph, snap: Snapshot) -> Iterable[str]:
            content = [n for n in snap.sector_mask if snap.kind[n] in CONTENT_KINDS]
            return [*content, *snap.sectors]

        job = Job(audience, similarity, compute, _nothing, vectors, places=False)
        return self._answer(("overlap", audience), job)

    def synergies(
        self,
        audience: Audience,
        similarity: TextSimilarity,
        sector: str,
        *,
        other: str | None,
        kind: SynergyKind,
    ) -> Versioned[list[Synergy]]:
        self.require_sector(sector)
        if other is not None:
            self.require_sector(other)

        def compute(
            graph: nx.MultiDiGraph, snap: Snapshot, places: Places, sim: TextSimilarity | None,
            _s: int,
        ) -> list[Synergy]:  # fmt: skip
            assert sim is not None
            return sector_synergies(graph, snap, places, sim, sector, other=other, kind=kind)

        def needs(_g: nx.MultiDiGraph, snap: Snapshot) -> Iterable[str]:
            if other is None:
                return [n for n in snap.sector_mask if snap.kind[n] == kind]
            return [*snap.members(sector).get(kind, ()), *snap.members(other).get(kind, ())]

        key = ("synergies", audience, sector, other, kind)
        return self._answer(key, Job(audience, similarity, compute, needs))

    def bridges(self, audience: Audience, sector: str) -> Versioned[SectorBridges]:
        self.require_sector(sector)
        return self._answer(("bridges", audience, sector), self._bridges_job(audience, sector))

    def _bridges_job(self, audience: Audience, sector: str) -> Job:
        def compute(
            graph: nx.MultiDiGraph, snap: Snapshot, _p: Places, _sim: Any, _s: int
        ) -> SectorBridges:
            return sector_bridges(graph, snap, sector)

        return Job(audience, None, compute, _members_of(sector), places=False)

    def groups(
        self, audience: Audience, similarity: TextSimilarity, sector: str
    ) -> Versioned[SectorGroups]:
        self.require_sector(sector)
        key = ("groups", audience, sector)
        return self._answer(key, self._groups_job(audience, similarity, sector))

    def _groups_job(self, audience: Audience, similarity: TextSimilarity, sector: str) -> Job:
        def compute(
            graph: nx.MultiDiGraph, snap: Snapshot, places: Places, sim: TextSimilarity | None,
            _s: int,
        ) -> SectorGroups:  # fmt: skip
            assert sim is not None
            return sector_groups(graph, snap, places, sim, self.store, sector)

        return Job(audience, similarity, compute, _members_of(sector))

    def gaps(self, audience: Audience, sector: str) -> Versioned[SectorGaps]:
        self.require_sector(sector)
        return self._answer(("gaps", audience, sector), self._gaps_job(audience, sector))

    def _gaps_job(self, audience: Audience, sector: str) -> Job:
        def compute(
            _g: nx.MultiDiGraph, snap: Snapshot, places: Places, _sim: Any, _s: int
        ) -> SectorGaps:
            return sector_gaps(snap, places, sector)

        return Job(audience, None, compute, _nothing)

    def propose(
        self,
        audience: Audience,
        similarity: TextSimilarity,
        sector: str,
        *,
        size: int = DEFAULT_SIZE,
        exclude: Collection[str] = (),
    ) -> Versioned[Proposal]:
        """A council proposal (reads the candidates' consent flags from the store)."""
        self.require_sector(sector)
        return self._answer(*self._proposal(audience, similarity, sector, size, exclude))

    def warm_proposal(self, audience: Audience, similarity: TextSimilarity, sector: str) -> None:
        """Have the default proposal for ``sector`` (and the gaps, groups and bridges it is
        made of) computed at the current version by the background thread, unless it is
        current already: so that no request pays for the first one after a start or a
        write (the requests meanwhile answer the older one where they may, see
        :meth:`_answer`). Nothing happens for a node that is not a sector."""
        due = self.due_proposal(audience, similarity, sector)
        if due is not None:
            self._schedule(*due)

    def due_proposal(
        self, audience: Audience, similarity: TextSimilarity, sector: str
    ) -> tuple[tuple[Any, ...], Job] | None:
        """The cache key and job of the default proposal for ``sector`` when it is not
        current (and cannot be carried over: then it is, here); None when it is, or when
        ``sector`` is not a sector. The caller holds the feed's read lock."""
        attrs = self.view.graph.nodes.get(sector)
        if attrs is None or attrs.get("kind") != "sector":
            return None
        key, job = self._proposal(audience, similarity, sector, DEFAULT_SIZE, ())
        with self._cache_lock:
            entry = self._figures.get(key)
        seq = self.view.seq
        if entry is not None and entry.seq != seq and self._carry(key, entry, seq) is not None:
            return None  # nothing it reads changed since
        if entry is None or not entry.of(seq):
            return key, job
        return None

    def read_proposal(self, audience: Audience, similarity: TextSimilarity, sector: str) -> bool:
        """The default proposal for ``sector`` as the computing process wrote it, read into
        this process's cache (a process that follows it: :meth:`read_followed`)."""
        attrs = self.view.graph.nodes.get(sector)
        if attrs is None or attrs.get("kind") != "sector":
            return False
        return self.read_followed(*self._proposal(audience, similarity, sector, DEFAULT_SIZE, ()))

    def _proposal(
        self,
        audience: Audience,
        similarity: TextSimilarity,
        sector: str,
        size: int,
        exclude: Collection[str],
    ) -> tuple[tuple[Any, ...], Job]:
        """The cache key and the job of a council proposal."""
        parts = {
            ("gaps", audience, sector): self._gaps_job(audience, sector),
            ("groups", audience, sector): self._groups_job(audience, similarity, sector),
            ("bridges", audience, sector): self._bridges_job(audience, sector),
        }

        def compute(
            graph: nx.MultiDiGraph, snap: Snapshot, places: Places, sim: TextSimilarity | None,
            seq: int,
        ) -> Proposal:  # fmt: skip
            found = {key[0]: self._part(key, job, graph, snap, places, sim, seq)
                     for key, job in parts.items()}  # fmt: skip
            # (their entries take the privacy epoch of the version, read under the lock)
            return propose_council(
                graph, snap, places, self.store, sector,
                gaps=found["gaps"], groups=found["groups"], bridges=found["bridges"],
                board=self._board(seq), size=size, exclude=exclude,
            )  # fmt: skip

        def needs(graph: nx.MultiDiGraph, snap: Snapshot) -> Iterable[str]:
            board = [p for p in self._board(snap.seq) if p in graph]
            succ, nodes = graph._succ, graph._node
            targets = {t for p in board for t in succ[p] if nodes[t]["kind"] == "sdg_target"}
            return [*_members_of(sector)(graph, snap), *board, *targets]

        key = ("council", audience, sector, size, tuple(sorted(set(exclude))))
        return key, Job(audience, similarity, compute, needs)


def _nothing(_graph: nx.MultiDiGraph, _snap: Snapshot) -> Iterable[str]:
    return ()


def _members_of(sector: str) -> Callable[[nx.MultiDiGraph, Snapshot], Iterable[str]]:
    def needs(_graph: nx.MultiDiGraph, snap: Snapshot) -> Iterable[str]:
        return [n for ids in snap.members(sector).values() for n in ids]

    return needs
