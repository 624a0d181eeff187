"""Figures cached per view version, answered as :class:`Versioned` values.

Every figure depends only on the view's state (its ``seq``), the audience and the
request's own arguments. :class:`VersionedFigures` keeps the latest figure per ``(what,
audience, arguments)`` with the version it was computed from, and answers:

- computed from the current version: as it is (``current``);
- computed from an older one that may still be answered (:mod:`graph.analytics.freshness`:
  within the staleness bounds, and nothing withdrawn from its audience since): at once,
  not ``current``, while the figure of the current version is computed in the background
  (:mod:`graph.analytics.background`);
- otherwise computed now, while the request waits (holding the feed's read lock, as it
  did from the start, so the graph never changes under the computation).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

import networkx as nx

from graph.analytics.freshness import PrivacyEpochs, Staleness
from graph.analytics.regions import Regions
from graph.analytics.shared import SharedFigures, made_by
from graph.analytics.snapshot import Audience, Places, Snapshot, build_places, build_snapshot
from graph.rwlock import ReadWriteLock
from graph.similarity import TextSimilarity
from graph.store import Store
from graph.touches import MAX_CARRY_NODES, Touches
from graph.view import GraphView

T = TypeVar("T")
CARRIED = frozenset({"bridges", "groups", "council"})
"""Figures of one sector (the sector is the key's third part) that carry over to a later
version when the changes since touched nothing they read (:mod:`graph.touches`)."""
NEVER_BEHIND = Staleness()
NO_PLACES = Places({}, {}, {})


@dataclass(frozen=True, slots=True)
class Versioned(Generic[T]):
    """A figure and the view version it was computed from; ``current`` when that is the
    version the request reads."""

    value: T
    seq: int
    current: bool


@dataclass(frozen=True, slots=True)
class Entry:
    """A cached figure, the version it was computed from and its audience's privacy epoch."""

    seq: int
    epoch: int
    value: Any
    texts: bool = False
    """Whether it was computed from text vectors (see ``forget_text_figures``)."""
    foreign: bool = False
    """Whether it was read from another process's computation (:mod:`graph.analytics.shared`):
    never carried over to a later version."""
    partial: bool = False
    """Whether it was computed while some text vectors were missing, all of which came in
    since (see ``forget_text_figures``): answered only as a figure of an older version
    would be, never carried over, shared or taken for the current one."""

    def of(self, seq: int) -> bool:
        """Whether it is the figure of version ``seq``, complete."""
        return self.seq == seq and not self.partial


@dataclass(frozen=True, slots=True)
class Job:
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


class VersionedFigures:
    """The cache of figures and of the building blocks of each version (snapshot, places,
    names), and the rule that says which cached figure a request may be answered with.

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
        touches: Touches | None = None,
        shared: SharedFigures | None = None,
        partial_texts: Callable[[], bool] | None = None,
        follow: bool = False,
    ) -> None:
        self.store = store
        self.view = view
        self.regions = regions
        self.max_entries = max_entries
        self.lock = lock
        self.epochs = epochs
        self.staleness = staleness
        self.touches = touches
        self.shared = shared
        self.partial_texts = partial_texts
        """Whether some text vectors are still being computed (then a figure computed from
        them is neither carried over nor shared: it lacks some)."""
        self.follow = follow and shared is not None and lock is not None and epochs is not None
        """Whether another process computes the figures of :data:`CARRIED` kinds into
        ``shared`` (:mod:`api.figures`): then the newest one there is answered where an
        older figure may be (see :meth:`_followed`); the background here computes only
        those it has published a version without (a proposal of another size, another
        audience's), and a request one only when none there may be answered."""
        self.followed = 0
        """Figures read from the process that computes them for this one."""
        self._looked: dict[tuple[Any, ...], tuple[int, float]] = {}
        self._published_seen = (-1, -float("inf"))  # (version, when read)
        self.carried = 0
        """Figures carried over to a later version instead of computed again."""
        self._blocks: OrderedDict[tuple[Any, ...], Any] = OrderedDict()  # (seq, what, ...)
        self._figures: OrderedDict[tuple[Any, ...], Entry] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._compute_lock = threading.RLock()
        self._epoch_at: dict[tuple[int, Audience], int] = {}
        self._texts_round = 0
        """How many times every text vector came in (``forget_text_figures``)."""
        self._partial_since = -float("inf")
        """When (``time.monotonic()``) they last did."""
        self._reading = threading.local()
        self._kept_log: list[tuple[tuple[Any, ...], Entry]] | None = None
        """In a child process computing figures for this one: every entry kept, in order."""

    def _child_state(self) -> dict[str, Any]:
        """What a child process that computed figures hands back besides them (a subclass's
        state carried from one version to the next)."""
        return {}

    def _take_child_state(self, state: dict[str, Any]) -> None:
        """Take what :meth:`_child_state` gave in the child."""

    def _epoch(self, audience: Audience) -> int:
        return self.epochs.epoch(audience) if self.epochs is not None else 0

    def _answer(self, key: tuple[Any, ...], job: Job) -> Versioned[Any]:
        """The figure for ``key``: current, older (see the module doc), or computed now."""
        seq = self.view.seq
        with self._cache_lock:
            entry = self._figures.get(key)
            if entry is not None:
                self._figures.move_to_end(key)
        if entry is not None and entry.of(seq):
            return Versioned(entry.value, seq, True)
        if entry is not None and (carried := self._carry(key, entry, seq)) is not None:
            return Versioned(carried.value, seq, True)
        if self.follow and key[0] in CARRIED:
            entry = self._followed(key, job, entry, seq)
            if entry is not None and entry.of(seq):
                return Versioned(entry.value, seq, True)
            if entry is not None and self._may_answer(entry, seq, job.audience):
                assert self.shared is not None
                if self._published(seq):  # and it has not written this one:
                    self._schedule(key, job)  # one it does not compute (a custom size)
                return Versioned(entry.value, entry.seq, False)
        elif entry is not None and self._may_answer(entry, seq, job.audience):
            self._schedule(key, job)
            return Versioned(entry.value, entry.seq, False)
        if self._wait_pending(key):  # being computed in the background: wait for it
            with self._cache_lock:
                entry = self._figures.get(key)
            if entry is not None and entry.of(seq):
                return Versioned(entry.value, seq, True)
        with self._compute_lock:
            with self._cache_lock:
                entry = self._figures.get(key)
            if entry is not None and entry.of(seq):
                return Versioned(entry.value, seq, True)
            epoch = self._read_epoch(job.audience, seq)
            self._start_reading()
            snap, places = self._snapshot(job.audience, seq), self._places_for(job, seq)
            value, foreign = self._compute(
                key, job, self.view.graph, snap, places, job.similarity, seq
            )
            self._keep(key, self._entry(seq, epoch, value, job.similarity is not None, foreign))
        return Versioned(value, seq, True)

    LOOK_EVERY = 0.5
    """Seconds between two looks into the shared folder for a newer figure of one key."""

    def _followed(
        self, key: tuple[Any, ...], job: Job, entry: Entry | None, seq: int
    ) -> Entry | None:
        """``entry``, or the newest figure of ``key`` the computing process wrote at a
        version up to ``seq`` when it is newer (looked for at most every
        :data:`LOOK_EVERY` seconds per key and version). It may be answered only when
        this process applied every change since its version and none of them withdrew
        anything from the audience (then it takes the audience's current privacy epoch:
        a later withdrawal makes it unanswerable, as any figure). The caller holds the
        feed's read lock at ``seq``."""
        assert self.shared is not None and self.epochs is not None
        now = time.monotonic()
        with self._cache_lock:
            looked = self._looked.get(key)
            if looked is not None and looked[0] == seq and now - looked[1] < self.LOOK_EVERY:
                return entry
            if len(self._looked) > 4 * self.max_entries:
                self._looked.clear()
            self._looked[key] = (seq, now)
        texts = job.similarity is not None
        indexing = texts and self._texts_partial()
        # While this process misses some vectors, only a figure computed while the
        # computing process missed some is read (as current as one computed here); once
        # they are all in, the complete one, and until it is written the partial one (a
        # partial figure: answered as behind, see ``forget_text_figures``).
        found = None if indexing else self.shared.latest(key, seq)
        partial = False
        if found is None and texts and (entry is None or entry.partial or indexing):
            found = self.shared.latest(key, seq, partial=True)
            partial = not indexing
        if found is None:
            return entry
        if entry is not None and (found[0], not partial) <= (entry.seq, not entry.partial):
            return entry  # what is held is as new and as complete
        version, made_by, value = found
        if made_by != self._made_by(version):
            return entry  # of another store, or another import into the same folder
        audience: Audience = key[1]
        if self.epochs.withdrawn_between(audience, version, seq) is not False:
            return entry
        followed = Entry(version, self._read_epoch(audience, seq), value, texts,
                         foreign=True, partial=partial)  # fmt: skip
        self._keep(key, followed)
        with self._cache_lock:
            self.followed += 1
        return followed

    def read_followed(self, key: tuple[Any, ...], job: Job) -> bool:
        """Read the newest figure of ``key`` the computing process wrote into this
        process's cache now, as a request would (:meth:`_followed`), computing nothing:
        so that the first request for it does not wait for the file. Whether this
        process now holds one a request may be answered with (of the current version,
        or an older or partial one within the staleness bounds). The caller holds the
        feed's read lock."""
        if not self.follow or key[0] not in CARRIED:
            return False
        seq = self.view.seq
        with self._cache_lock:
            entry = self._figures.get(key)
        entry = self._followed(key, job, entry, seq)
        return entry is not None and (entry.of(seq) or self._may_answer(entry, seq, job.audience))

    def publish(self) -> int | None:
        """Write every figure of :data:`CARRIED` kinds held at the current version to the
        shared folder (those carried over too), for the processes that follow it; how
        many were written; None while some text vectors are still being computed: then
        the figures read from them, which miss some, are written apart as partial (see
        :meth:`_followed`), and the version's figures are not all there. The caller holds
        the feed's read lock."""
        if self.shared is None:
            return None
        seq = self.view.seq
        made_by = self._made_by(seq)
        indexing = self._texts_partial()
        with self._cache_lock:
            held = [(k, e.value, indexing and e.texts) for k, e in self._figures.items()
                    if k[0] in CARRIED and e.of(seq)]  # fmt: skip
        written = sum(self.shared.put(key, seq, made_by, value, partial=partial)
                      for key, value, partial in held)  # fmt: skip
        return None if indexing else written

    def carry_all(self) -> int:
        """Every figure of :data:`CARRIED` kinds held from an older version made the
        current version's where the changes since touched nothing it reads (see
        :meth:`_carry`); how many. For the process that publishes them, whose figures
        were computed at the version a round began with. The caller holds the feed's
        read lock."""
        seq = self.view.seq
        with self._cache_lock:
            older = [(k, e) for k, e in self._figures.items() if k[0] in CARRIED and e.seq < seq]
        return sum(self._carry(key, entry, seq) is not None for key, entry in older)

    def _published(self, seq: int) -> bool:
        """Whether the computing process has written every figure it keeps of version
        ``seq`` (its marker read at most every :data:`LOOK_EVERY` seconds: it only grows)."""
        assert self.shared is not None
        seen, when = self._published_seen
        now = time.monotonic()
        if seen < seq and now - when >= self.LOOK_EVERY:
            seen = self.shared.published()
            self._published_seen = (seen, now)
        return seen == seq

    def _made_by(self, seq: int) -> str:
        """The change-log entry that made version ``seq``, as the shared folder names it
        (read each time, not kept: an erasure removes the entries that named the person)."""
        return made_by(self.store, seq)

    def _read_epoch(self, audience: Audience, seq: int) -> int:
        """The audience's privacy epoch at version ``seq``; the caller holds the read lock."""
        epoch = self._epoch(audience)
        with self._cache_lock:
            if any(k[0] < seq for k in self._epoch_at):
                self._epoch_at = {k: v for k, v in self._epoch_at.items() if k[0] >= seq}
            self._epoch_at[(seq, audience)] = epoch
        return epoch

    def _carry(
        self, key: tuple[Any, ...], entry: Entry, seq: int, epoch: int | None = None
    ) -> Entry | None:
        """``entry``, of an older version, made the figure of version ``seq`` when the
        changes since touched neither its sector nor anything else it reads (see
        :data:`CARRIED`); None otherwise. The caller holds the feed's read lock at ``seq``,
        or gives the audience's privacy epoch at ``seq``.

        Withdrawals since do not stop it: whoever withdrew is a touched node, which touches
        the sectors they are in and those of everyone linked to them.
        """
        if self.touches is None or key[0] not in CARRIED or entry.seq >= seq or entry.foreign:
            return None
        if entry.partial:
            return None
        if entry.texts and self._texts_partial():
            return None
        touched = self.touches.between(entry.seq, seq)
        if touched is None or len(touched.nodes) > MAX_CARRY_NODES or touched.sector(key[2]):
            return None
        if self._reads_beyond_sector(key, entry.value, touched.nodes):
            return None
        audience: Audience = key[1]
        if epoch is None:
            epoch = self._read_epoch(audience, seq)
        carried = Entry(seq, epoch, entry.value, entry.texts)  # (not foreign: checked above)
        self._keep(key, carried)
        with self._cache_lock:
            self.carried += 1
        return carried

    def _compute(
        self,
        key: tuple[Any, ...],
        job: Job,
        graph: nx.MultiDiGraph,
        snap: Snapshot,
        places: Places,
        similarity: TextSimilarity | None,
        seq: int,
    ) -> tuple[Any, bool]:
        """``job``'s figure of version ``seq``, and whether it was read from another
        process's computation: a sector's (see :data:`CARRIED`) is computed once per
        machine (:mod:`graph.analytics.shared`), unless it reads text vectors while some
        are missing."""

        def compute() -> Any:
            return job.compute(graph, snap, places, similarity, seq)

        if self.shared is None or key[0] not in CARRIED:
            return compute(), False
        if job.similarity is not None and self._texts_partial():
            return compute(), False
        return self.shared.get(key, seq, self._made_by(seq), compute)

    def _texts_partial(self) -> bool:
        return self.partial_texts is not None and self.partial_texts()

    def _reads_beyond_sector(self, key: tuple[Any, ...], value: Any, nodes: frozenset[str]) -> bool:
        """Whether the figure ``key`` (``value``) reads one of ``nodes`` although they
        touch none of its sector (a subclass's figures that read more than their sector
        say so)."""
        return False

    def _may_answer(self, entry: Entry, seq: int, audience: Audience) -> bool:
        if self.epochs is None or self.lock is None or not self.staleness.allowed:
            return False
        if entry.seq > seq or seq - entry.seq > self.staleness.max_changes:
            return False
        if self.epochs.epoch(audience) != entry.epoch:
            return False  # something was withdrawn from the audience since
        since = self.epochs.behind_since(entry.seq)
        if entry.partial:  # behind since its missing vectors came in, if not before
            since = self._partial_since if since is None else min(since, self._partial_since)
        if since is None:
            return False
        return time.monotonic() - since <= self.staleness.max_seconds

    def _keep(self, key: tuple[Any, ...], entry: Entry) -> None:
        if self._kept_log is not None:
            self._kept_log.append((key, entry))
        with self._cache_lock:
            found = self._figures.get(key)
            if found is None or found.seq <= entry.seq:
                self._figures[key] = entry
                self._figures.move_to_end(key)
            while len(self._figures) > self.max_entries:
                self._figures.popitem(last=False)

    def forget_text_figures(self) -> int:
        """Mark the figures computed from text vectors as partial; how many. The vectors of
        a store being indexed come in after the version does: a figure computed meanwhile
        (council groups, proposals, overlaps) misses some, and would be answered as current
        until the next write. A partial figure is answered as an older version's would be
        (within the staleness bounds, marked as not current) while its next request, or
        the warmer, has the complete one computed in the background; beyond the bounds, or
        without them, a request computes it."""
        with self._cache_lock:
            self._texts_round += 1
            self._partial_since = time.monotonic()
            stale = [key for key, entry in self._figures.items() if entry.texts]
            for key in stale:
                self._figures[key] = replace(self._figures[key], partial=True)
        if self.shared is not None and not self.follow:
            # (a follower leaves the folder to the process that writes it: what that one
            # writes once every vector is in must stay; the partial ones are answered
            # until then)
            self.shared.clear(keep_partial=True)
        return len(stale)

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

    def _places_for(self, job: Job, seq: int) -> Places:
        return self._places(job.audience, seq) if job.places else NO_PLACES

    def _schedule(self, key: tuple[Any, ...], job: Job) -> None:
        """Have the figure of the current version computed in the background."""
        raise NotImplementedError

    def _wait_pending(self, key: tuple[Any, ...]) -> bool:
        """Wait for the background computation of ``key`` if one is asked for; whether
        there was one (then the caller looks for its result before computing it itself)."""
        return False

    def _start_reading(self) -> None:
        """Note, for this thread's computation about to read the vectors (and the figures
        it is made of: :meth:`_part`), which round of ``forget_text_figures`` it reads."""
        with self._cache_lock:
            self._reading.round = self._texts_round

    def _entry(self, seq: int, epoch: int, value: Any, texts: bool, foreign: bool) -> Entry:
        """The entry of a figure this thread computed at version ``seq``: partial when it
        read text vectors and the last of them came in after it began reading them (it
        may lack some: the vectors come in under the feed's write lock, the figures are
        marked after it)."""
        with self._cache_lock:
            began = getattr(self._reading, "round", self._texts_round)
            partial = texts and began != self._texts_round
        return Entry(seq, epoch, value, texts, foreign, partial)

    def _part(
        self,
        key: tuple[Any, ...],
        job: Job,
        graph: nx.MultiDiGraph,
        snap: Snapshot,
        places: Places,
        similarity: TextSimilarity | None,
        seq: int,
    ) -> Any:
        """A figure another one is made of, of the same version (kept for its own requests)."""
        with self._cache_lock:
            entry = self._figures.get(key)
        if entry is not None and entry.of(seq):
            return entry.value
        with self._cache_lock:
            epoch = self._epoch_at.get((seq, job.audience))
        carried = None if entry is None or epoch is None else self._carry(key, entry, seq, epoch)
        if carried is not None:
            return carried.value
        value, foreign = self._compute(key, job, graph, snap, places, similarity, seq)
        if epoch is not None:
            self._keep(key, self._entry(seq, epoch, value, similarity is not None, foreign))
        return value
