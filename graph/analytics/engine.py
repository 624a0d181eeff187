"""Sector analytics over a store and its graph view, cached per view version.

Every figure depends only on the view's state (its ``seq``), the audience and the
request's own arguments. The engine keeps the latest figure per ``(what, audience,
arguments)`` with the version it was computed from, and answers it as a
:class:`Versioned` value:

- computed from the current version: answered as it is (``current``);
- computed from an older one that may still be answered (:mod:`graph.analytics.freshness`:
  within the staleness bounds, and nothing withdrawn from its audience since): answered at
  once, not ``current``, while the figure of the current version is computed in the
  background: one figure at a time, each asked for once however many requests want it;
- otherwise computed now, while the request waits (holding the feed's read lock, as it
  did from the start, so the graph never changes under the computation).

The background computation reads one consistent version without holding the feed's read
lock for the whole computation: under the lock it takes the snapshot and places of the
version (built there when no request has built them), and a copy of the adjacency of the
nodes the figure walks (:func:`freeze`); it computes from those off the lock, reading
text vectors under the lock for a moment at a time, and drops the work if the version
moved meanwhile (it tries again at the new version, a few times).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import networkx as nx
import numpy as np
import numpy.typing as npt

from graph.analytics.bridges import SectorBridges, sector_bridges
from graph.analytics.councils import DEFAULT_SIZE, Proposal, board_members, propose_council
from graph.analytics.errors import NotASector
from graph.analytics.freshness import PrivacyEpochs, Staleness
from graph.analytics.gaps import SectorGaps, sector_gaps
from graph.analytics.groups import SectorGroups, sector_groups
from graph.analytics.overlap import SectorOverlap, sector_overlap
from graph.analytics.regions import Regions
from graph.analytics.snapshot import (
    CONTENT_KINDS,
    Audience,
    Places,
    Snapshot,
    build_places,
    build_snapshot,
)
from graph.analytics.synergies import Synergy, SynergyKind, sector_synergies
from graph.rwlock import ReadWriteLock
from graph.similarity import Scored, TextSimilarity
from graph.store import Store
from graph.view import GraphView

log = logging.getLogger(__name__)
T = TypeVar("T")
NEVER_BEHIND = Staleness()
NO_PLACES = Places({}, {}, {})
RETRIES = 3
IDLE_SECONDS = 30.0
"""Background attempts at a figure while the version keeps moving under it."""


@dataclass(frozen=True, slots=True)
class Versioned(Generic[T]):
    """A figure and the view version it was computed from; ``current`` when that is the
    version the request reads."""

    value: T
    seq: int
    current: bool


@dataclass(frozen=True, slots=True)
class _Entry:
    seq: int
    epoch: int
    value: Any


@dataclass(frozen=True, slots=True)
class _Job:
    """How to compute one figure: from a graph (the view's, or a frozen copy of the
    adjacency of ``needs``), the version's snapshot and places, and text similarity."""

    audience: Audience
    similarity: TextSimilarity | None
    compute: Callable[[nx.MultiDiGraph, Snapshot, Places, TextSimilarity | None, int], Any]
    needs: Callable[[nx.MultiDiGraph, Snapshot], Iterable[str]]
    vectors: Callable[[nx.MultiDiGraph, Snapshot], Iterable[str]] | None = None
    """The nodes whose text vectors it reads (None: those of ``needs``)."""
    places: bool = True
    """Whether it reads the version's :class:`Places` (else it is given none)."""


class VersionMoved(Exception):
    """The view moved on while a background computation read from it."""


class SectorAnalytics:
    """Overlap, synergies, bridges, groups, gaps and council proposals, cached per version.

    ``lock`` and ``epochs`` (the change feed's lock and its :class:`PrivacyEpochs`)
    with a :class:`Staleness` that allows it let figures of an older version be answered
    while the current one is computed; without them every figure is current.
    """

    def __init__(
        self,
        store: Store,
        view: GraphView,
        regions: Regions,
        *,
        max_entries: int = 256,
        lock: ReadWriteLock | None = None,
        epochs: PrivacyEpochs | None = None,
        staleness: Staleness = NEVER_BEHIND,
    ) -> None:
        self.store = store
        self.view = view
        self.regions = regions
        self.max_entries = max_entries
        self.lock = lock
        self.epochs = epochs
        self.staleness = staleness
        self._blocks: OrderedDict[tuple[Any, ...], Any] = OrderedDict()  # (seq, what, ...)
        self._figures: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._compute_lock = threading.RLock()
        self._epoch_at: dict[tuple[int, Audience], int] = {}
        self._pending: OrderedDict[tuple[Any, ...], _Job] = OrderedDict()
        self._busy = False
        self._work = threading.Condition()
        self._worker: threading.Thread | None = None
        self.background_runs = 0
        self.locked_reads = 0
        """Background reads that met a write and were read again under the lock."""

    # -- versions -------------------------------------------------------------------

    def _epoch(self, audience: Audience) -> int:
        return self.epochs.epoch(audience) if self.epochs is not None else 0

    def _answer(self, key: tuple[Any, ...], job: _Job) -> Versioned[Any]:
        """The figure for ``key``: current, older (see the module doc), or computed now."""
        seq = self.view.seq
        with self._cache_lock:
            entry = self._figures.get(key)
            if entry is not None:
                self._figures.move_to_end(key)
        if entry is not None and entry.seq == seq:
            return Versioned(entry.value, seq, True)
        if entry is not None and self._may_answer(entry, seq, job.audience):
            self._schedule(key, job)
            return Versioned(entry.value, entry.seq, False)
        with self._compute_lock:
            with self._cache_lock:
                entry = self._figures.get(key)
            if entry is not None and entry.seq == seq:
                return Versioned(entry.value, seq, True)
            epoch = self._read_epoch(job.audience, seq)
            snap, places = self._snapshot(job.audience, seq), self._places_for(job, seq)
            value = job.compute(self.view.graph, snap, places, job.similarity, seq)
            self._keep(key, _Entry(seq, epoch, value))
        return Versioned(value, seq, True)

    def _read_epoch(self, audience: Audience, seq: int) -> int:
        """The audience's privacy epoch at version ``seq``; the caller holds the read lock."""
        epoch = self._epoch(audience)
        with self._cache_lock:
            if any(k[0] < seq for k in self._epoch_at):
                self._epoch_at = {k: v for k, v in self._epoch_at.items() if k[0] >= seq}
            self._epoch_at[(seq, audience)] = epoch
        return epoch

    def _may_answer(self, entry: _Entry, seq: int, audience: Audience) -> bool:
        if self.epochs is None or self.lock is None or not self.staleness.allowed:
            return False
        if entry.seq > seq or seq - entry.seq > self.staleness.max_changes:
            return False
        if self.epochs.epoch(audience) != entry.epoch:
            return False  # something was withdrawn from the audience since
        since = self.epochs.behind_since(entry.seq)
        if since is None:
            return False
        return time.monotonic() - since <= self.staleness.max_seconds

    def _keep(self, key: tuple[Any, ...], entry: _Entry) -> None:
        with self._cache_lock:
            found = self._figures.get(key)
            if found is None or found.seq <= entry.seq:
                self._figures[key] = entry
                self._figures.move_to_end(key)
            while len(self._figures) > self.max_entries:
                self._figures.popitem(last=False)

    def _block(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """A building block of one version (snapshot, places, names), kept for the
        latest versions asked; the caller holds the feed's read lock."""
        with self._cache_lock:
            if key in self._blocks:
                self._blocks.move_to_end(key)
                return self._blocks[key]  # type: ignore[no-any-return]
        value = compute()
        with self._cache_lock:
            self._blocks[key] = value
            for old in [k for k in self._blocks if k[0] < key[0]]:
                del self._blocks[old]  # every reader now reads a later version
            while len(self._blocks) > self.max_entries:
                self._blocks.popitem(last=False)
        return value

    def _snapshot(self, audience: Audience, seq: int) -> Snapshot:
        return self._block(
            (seq, "snapshot", audience),
            lambda: build_snapshot(
                self.view.graph, seq=seq, audience=audience, regions=self.regions
            ),
        )

    def _places(self, audience: Audience, seq: int) -> Places:
        snap = self._snapshot(audience, seq)
        return self._block((seq, "places", audience), lambda: build_places(self.view.graph, snap))

    def _places_for(self, job: _Job, seq: int) -> Places:
        return self._places(job.audience, seq) if job.places else NO_PLACES

    # -- the background worker ---------------------------------------------------------

    def _schedule(self, key: tuple[Any, ...], job: _Job) -> None:
        with self._work:
            if key in self._pending:
                return
            self._pending[key] = job
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._run, name="cocreate-analytics", daemon=True
                )
                self._worker.start()
            self._work.notify_all()

    def settle(self, timeout: float = 60.0) -> bool:
        """Wait until no figure is being computed in the background; whether none is."""
        with self._work:
            return self._work.wait_for(lambda: not self._pending and not self._busy, timeout)

    def _run(self) -> None:
        """Compute what is asked for, one figure at a time; ends when idle for a while
        (the next request that needs it starts another), so that an engine no longer
        used leaves no thread behind."""
        while True:
            with self._work:
                if not self._work.wait_for(lambda: bool(self._pending), IDLE_SECONDS):
                    self._worker = None
                    return
                key, job = next(iter(self._pending.items()))
                self._busy = True
            try:
                for _ in range(RETRIES):
                    try:
                        self._refresh(key, job)
                        break
                    except VersionMoved:
                        continue
            except Exception:
                log.exception("analytics: computing %s in the background failed", key)
            finally:
                with self._work:
                    self._pending.pop(key, None)
                    self._busy = False
                    self._work.notify_all()

    def _refresh(self, key: tuple[Any, ...], job: _Job) -> None:
        """Compute ``key`` at the current version without holding the lock for long."""
        assert self.lock is not None
        found = self._extract(key, job, locked=False)
        if found is False:
            self.locked_reads += 1
            found = self._extract(key, job, locked=True)
        if found is None:
            return  # already current
        seq, epoch, snap, places, frozen, similarity = found
        value = job.compute(frozen, snap, places, similarity, seq)
        self.background_runs += 1
        self._keep(key, _Entry(seq, epoch, value))

    def _extract(self, key: tuple[Any, ...], job: _Job, *, locked: bool) -> Any:
        """(seq, epoch, snapshot, places, frozen graph, similarity) of the current version,
        None if the figure is current already; False if an optimistic read met a write.

        ``locked``: under the read lock. Otherwise without it, checked afterwards with the
        lock's write generation: the snapshot, places and copy take seconds at 100,000
        people, during which a waiting writer would hold up every new request. A read
        that met a write (whose half-applied state may even raise) is thrown away. The
        text vectors the figure reads are read under the lock, at the same version.
        """
        assert self.lock is not None
        lock = self.lock
        if locked:
            lock.acquire_read()
        try:
            return self._extract_at(key, job, lock.generation, locked=locked)
        finally:
            if locked:
                lock.release_read()

    def _extract_at(self, key: tuple[Any, ...], job: _Job, start: int, *, locked: bool) -> Any:
        assert self.lock is not None
        lock, view = self.lock, self.view
        if start % 2:
            return False  # a writer is in
        try:
            seq = view.seq
            with self._cache_lock:
                entry = self._figures.get(key)
                snap = self._blocks.get((seq, "snapshot", job.audience))
                places = self._blocks.get((seq, "places", job.audience))
            if entry is not None and entry.seq >= seq:
                return None
            epoch = self._epoch(job.audience)
            if snap is None:
                snap = build_snapshot(view.graph, seq=seq, audience=job.audience,
                                      regions=self.regions)  # fmt: skip
            if places is None and job.places:
                places = build_places(view.graph, snap)
            needs = list(job.needs(view.graph, snap))
            frozen = freeze(view.graph, needs)
        except Exception:
            if not locked and lock.generation != start:
                return False
            raise
        if lock.generation != start:
            return False
        similarity: TextSimilarity | None = None
        if job.similarity is not None:
            wanted = needs if job.vectors is None else list(job.vectors(frozen, snap))
            if not locked:
                lock.acquire_read()
            try:
                if lock.generation != start:
                    return False  # a write came after the optimistic read
                known = job.similarity.vectors(wanted)
            finally:
                if not locked:
                    lock.release_read()
            similarity = PinnedSimilarity(job.similarity, lock, view, seq,
                                          known=known, asked=wanted)  # fmt: skip
        self._block((seq, "snapshot", job.audience), lambda: snap)
        if places is not None:
            self._block((seq, "places", job.audience), lambda: places)
        with self._cache_lock:
            self._epoch_at[(seq, job.audience)] = epoch
        return seq, epoch, snap, places if places is not None else NO_PLACES, frozen, similarity

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
        return self._block((seq, "board"), lambda: board_members(self.store))

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

        job = _Job(audience, similarity, compute, _nothing, vectors, places=False)
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
        return self._answer(key, _Job(audience, similarity, compute, needs))

    def bridges(self, audience: Audience, sector: str) -> Versioned[SectorBridges]:
        self.require_sector(sector)
        return self._answer(("bridges", audience, sector), self._bridges_job(audience, sector))

    def _bridges_job(self, audience: Audience, sector: str) -> _Job:
        def compute(
            graph: nx.MultiDiGraph, snap: Snapshot, _p: Places, _sim: Any, _s: int
        ) -> SectorBridges:
            return sector_bridges(graph, snap, sector)

        return _Job(audience, None, compute, _members_of(sector), places=False)

    def groups(
        self, audience: Audience, similarity: TextSimilarity, sector: str
    ) -> Versioned[SectorGroups]:
        self.require_sector(sector)
        key = ("groups", audience, sector)
        return self._answer(key, self._groups_job(audience, similarity, sector))

    def _groups_job(self, audience: Audience, similarity: TextSimilarity, sector: str) -> _Job:
        def compute(
            graph: nx.MultiDiGraph, snap: Snapshot, places: Places, sim: TextSimilarity | None,
            _s: int,
        ) -> SectorGroups:  # fmt: skip
            assert sim is not None
            return sector_groups(graph, snap, places, sim, self.store, sector)

        return _Job(audience, similarity, compute, _members_of(sector))

    def gaps(self, audience: Audience, sector: str) -> Versioned[SectorGaps]:
        self.require_sector(sector)
        return self._answer(("gaps", audience, sector), self._gaps_job(audience, sector))

    def _gaps_job(self, audience: Audience, sector: str) -> _Job:
        def compute(
            _g: nx.MultiDiGraph, snap: Snapshot, places: Places, _sim: Any, _s: int
        ) -> SectorGaps:
            return sector_gaps(snap, places, sector)

        return _Job(audience, None, compute, _nothing)

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
        return self._answer(key, _Job(audience, similarity, compute, needs))

    def _part(
        self,
        key: tuple[Any, ...],
        job: _Job,
        graph: nx.MultiDiGraph,
        snap: Snapshot,
        places: Places,
        similarity: TextSimilarity | None,
        seq: int,
    ) -> Any:
        """A figure another one is made of, of the same version (kept for its own requests)."""
        with self._cache_lock:
            entry = self._figures.get(key)
        if entry is not None and entry.seq == seq:
            return entry.value
        value = job.compute(graph, snap, places, similarity, seq)
        with self._cache_lock:
            epoch = self._epoch_at.get((seq, job.audience))
        if epoch is not None:
            self._keep(key, _Entry(seq, epoch, value))
        return value


def _nothing(_graph: nx.MultiDiGraph, _snap: Snapshot) -> Iterable[str]:
    return ()


def _members_of(sector: str) -> Callable[[nx.MultiDiGraph, Snapshot], Iterable[str]]:
    def needs(_graph: nx.MultiDiGraph, snap: Snapshot) -> Iterable[str]:
        return [n for ids in snap.members(sector).values() for n in ids]

    return needs


def freeze(graph: nx.MultiDiGraph, nodes: Iterable[str]) -> nx.MultiDiGraph:
    """A copy of ``nodes`` with their edges (in and out) and their neighbours, sharing
    nothing a later write changes; the neighbours are there without their own edges.

    Figures walk only the edges of the nodes they name in :class:`_Job` ``needs``; a copy
    of the whole view would hold the lock for seconds at 100,000 people.
    """
    succ_of, pred_of, attrs = graph._succ, graph._pred, graph._node
    succ: dict[str, dict[str, Any]] = {}
    pred: dict[str, dict[str, Any]] = {}
    for node in nodes:
        succ[node] = {t: dict(keys) for t, keys in succ_of[node].items()}
        pred[node] = {s: dict(keys) for s, keys in pred_of[node].items()}
    around = {n for links in (*succ.values(), *pred.values()) for n in links}
    for node in around:
        if node not in succ:
            succ[node], pred[node] = {}, {}
    frozen = nx.MultiDiGraph()
    frozen._node = {n: dict(attrs[n]) for n in succ}
    frozen._adj = frozen._succ = succ
    frozen._pred = pred
    return frozen


class PinnedSimilarity:
    """Text similarity at one version of the view: the vectors of ``asked`` as they were
    read then (``known``), anything else read under the feed's read lock, raising
    :class:`VersionMoved` once the view is at another version."""

    def __init__(
        self,
        similarity: TextSimilarity,
        lock: ReadWriteLock,
        view: GraphView,
        seq: int,
        *,
        known: dict[str, npt.NDArray[np.float32]] | None = None,
        asked: Iterable[str] = (),
    ) -> None:
        self.similarity = similarity
        self.lock = lock
        self.view = view
        self.seq = seq
        self.known = known or {}
        self.asked = frozenset(asked)

    def _read(self, read: Callable[[], T]) -> T:
        with self.lock.read():
            if self.view.seq != self.seq:
                raise VersionMoved(self.seq)
            return read()

    def vectors(self, ids: Iterable[str]) -> dict[str, npt.NDArray[np.float32]]:
        wanted = list(ids)
        found = {i: self.known[i] for i in wanted if i in self.known}
        rest = [i for i in wanted if i not in self.asked]
        if rest:
            found.update(self._read(lambda: self.similarity.vectors(rest)))
        return found

    def scores(self, node_id: str, others: Iterable[str]) -> dict[str, float]:
        wanted = list(others)
        return self._read(lambda: self.similarity.scores(node_id, wanted))

    def nearest(
        self,
        node_id: str,
        k: int,
        *,
        among: Collection[str] | None = None,
        exclude: Collection[str] = (),
    ) -> Scored:
        return self._read(lambda: self.similarity.nearest(node_id, k, among=among, exclude=exclude))

    def nearest_text(
        self,
        text: str,
        k: int,
        *,
        among: Collection[str] | None = None,
        exclude: Collection[str] = (),
    ) -> Scored:
        return self._read(
            lambda: self.similarity.nearest_text(text, k, among=among, exclude=exclude)
        )

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self.similarity.encode(texts)
