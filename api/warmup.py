"""Warming the per-version structures in the background, so that no request builds them.

Several answers rest on structures built once per version of the graph (``view.seq``):
the recommender's degrees and recommendable people (:mod:`api.matching`), the councils'
snapshots and proposals (:mod:`api.analytics`), and, once per process, the tagger fitted
on the shipped examples. Built on first use, they made the first request of each kind
after a start or a write pay seconds for them (13.5 s for collaborators at 100,000 people).

:class:`Warmer` builds them in one background thread per process: once at start, and
again after each batch of writes the change feed applies (once the feed has been quiet
for a moment, so that a burst of writes costs one warming, not one per write). A request
that comes meanwhile waits for the structure being built or answers from the previous
version (the analytics' stale-while-recompute), never builds a second copy. The process
that publishes the councils' figures also saves the profile index and the graph view
for the next start (:data:`PROFILES_EVERY`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from api.analytics import analytics, proposal_payload
from api.auth import ANONYMOUS, Caller, Role
from api.map_clusters import read_items_ahead
from api.matching import AUDIENCES, matching_of
from api.routes.map import MAP_KINDS
from api.services import Services
from api.serving import give_back_memory
from graph import code_stamp
from graph.analytics.councils import DEFAULT_SIZE
from graph.analytics.shared import made_by
from graph.filters import SearchFilter
from graph.listing import Counted, NodeFilter, adopt_totals, warm_totals
from graph.places import gazetteer
from graph.visibility import listing_audience

log = logging.getLogger(__name__)

LISTINGS_EVERY = 300.0
"""Seconds between two countings of the sectors' and goals' listings: at start, then after
writes at most this often. A count stays good while nothing is written; after a write a
listing recounts its own filter (a small count at once, one above
:data:`graph.listing.ESTIMATE_ABOVE` answered as an estimate for
:data:`graph.listing.ESTIMATE_FOR` seconds). Counting every sector's and goal's listings
again every 30 s under a write a second took 21.6 s of each worker's 30 (100,000
people), and the requests beside it waited: collaborators 13 req/s, p50 563 ms, against
19 req/s, p50 385 ms without (docs/benchmarks.md)."""
FOLLOWED_LISTINGS_EVERY = 2 * LISTINGS_EVERY
"""The same for a worker whose councils process counts them (at its lower priority) and
publishes the counts, which the worker takes (:meth:`Warmer._take_listings`): the worker
counts them itself only if none came for this long (and at its start)."""
LISTING_TOTALS = ("listing totals", code_stamp())
"""The key of the counts the councils process publishes in the shared folder (counts
made by another version of the code, which may count otherwise, are not taken)."""
LOOK_EVERY = 1.0
"""Seconds between a worker's looks for counts the councils process published."""
PROFILES_EVERY = 600.0
"""Seconds between two saves of the profile index and the graph view by the process that
publishes the councils' figures (:meth:`api.services.Services.keep_for_next_start`): at
its start, then after writes at most this often, so that a start reads them as saved with
the changes since (at most :data:`api.services.SAVED_GAP`) rather than every record."""
LISTED_KINDS = ("person", "initiative", "organization", "community", "wisdom_entry", "event")
"""The kinds a sector's or goal's page in the web app counts (web/src/pages/node.ts)."""
MEMBER = Caller(role=Role.member)
"""A member with no profile: the audience of members, as council proposals are asked in."""
TRIM_EVERY = 10.0
"""Seconds between two givings back of the memory requests freed (:func:`give_back_memory`),
by the warmer's thread while the feed is quiet: a search or a recommendation makes
megabytes of short-lived objects, and a worker grew by some 200 MiB over the benchmark's
scenarios with a tenth of that still in use. A trim with little to give back takes about
a millisecond."""
QUIET_SECONDS = 0.3
"""How long the feed must stay at one version before it is warmed (writes come in bursts)."""
Councils = Literal["here", "publish", "follow"]
"""Where the councils' figures are computed: ``here`` (this process, in the background),
``publish`` (this process computes them for the others, :mod:`api.figures`), ``follow``
(another process does: this one reads them from the shared folder)."""


@dataclass(frozen=True)
class Published:
    """Listings' counts as the councils process publishes them: with the time of their
    publication on the wall clock and on its monotonic clock, which a count's time is
    read on, so that a worker can place each count on its own monotonic clock (the same
    clock unless the machine started again since: the folder outlives a reboot)."""

    counted: Counted
    wall: float
    monotonic: float

    def here(self) -> Counted:
        """The counts with their times on this process's monotonic clock now."""
        elapsed = max(0.0, time.time() - self.wall)  # (a clock set back: none)
        shift = time.monotonic() - elapsed - self.monotonic
        return {key: replace(count, at=count.at + shift) for key, count in self.counted.items()}


@dataclass
class Warmed:
    """What the warmer did, for the logs, the tests and the benchmark."""

    runs: int = 0
    seq: int = -1
    """The version last warmed."""
    councils_seq: int = -1
    """The version whose councils' figures were last brought up to date."""
    seconds: dict[str, float] = field(default_factory=dict)
    """How long each part of the last run took."""
    failures: int = 0
    once: bool = False
    """Whether the once-per-process parts (the tagger, the model's first run) are built."""

    def as_json(self) -> dict[str, object]:
        return {"seq": self.seq, "councils_seq": self.councils_seq, "runs": self.runs,
                "once": self.once,
                "seconds": {k: round(v, 3) for k, v in self.seconds.items()}}  # fmt: skip


class Warmer:
    """One background thread that warms ``services`` at start and after writes.

    ``holder`` is where the app keeps its per-process services (its ``state``): the
    recommender the warmer warms must be the one requests use.
    """

    def __init__(
        self,
        services: Services,
        holder: Any,
        *,
        tagger: bool = True,
        councils_every: float | None = None,
        councils: Councils = "here",
    ) -> None:
        self.services = services
        self.holder = holder
        self.tagger = tagger
        self.councils = councils
        settings = services.settings
        if councils_every is None:
            # Older figures are answered for ``analytics_stale_seconds`` after a write:
            # the next ones must be in well before that.
            councils_every = min(
                settings.analytics_refresh_seconds, settings.analytics_stale_seconds / 2
            )
        self.councils_every = councils_every
        self.warmed = Warmed()
        self._councils_at = -float("inf")
        self._listed_at = -float("inf")
        self._profiles_at = -float("inf")
        self._looked_at = -float("inf")
        self._trimmed_at = time.monotonic()
        self._listings_taken = -1
        """(Following) the version of the last listings' counts taken from the folder."""
        self._stop = threading.Event()
        self._again = threading.Event()
        self._read_again = False
        """(Following the councils process) read its proposals again at the next warming,
        though it has published no new version: the partial ones, once every vector is in."""
        self._done = threading.Condition()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="cocreate-warm", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def again(self) -> None:
        """Warm the current version again (every text vector is now in: what was warmed
        while some were missing was built without them)."""
        with self._done:  # the councils' figures too, though the version is the same
            self.warmed.councils_seq = -1
        self._councils_at = -float("inf")
        self._read_again = True
        self._again.set()

    def wait(
        self, seq: int | None = None, timeout: float = 120.0, *, councils: bool = False
    ) -> bool:
        """Wait until the version ``seq`` (default: the feed's current one) is warmed
        (with ``councils``: its councils' figures too, which may come later)."""
        wanted = self.services.feed.seq if seq is None else seq

        def done() -> bool:
            return self.warmed.seq >= wanted and (
                not councils or self.warmed.councils_seq >= wanted
            )

        with self._done:
            return self._done.wait_for(done, timeout)

    def _run(self) -> None:
        feed = self.services.feed
        tagger = self.tagger
        while not self._stop.is_set():
            if feed.seq != self.warmed.seq or self._again.is_set():
                self._again.clear()
                self.warm()
            if not self.warmed.once and self.councils == "publish":
                self.warmed.once = True  # (it answers no request)
            if not self.warmed.once:  # once per process, after the first version is warmed
                # The model's first run (an ONNX session's first inference is slow).
                self._first_runs()
                # The place names a search's words may end with (read on first use).
                self._part("gazetteer", lambda: gazetteer().split_query("in Paris"))
                self._part("map", self._map_items)
                if tagger:
                    self._part("tagger", lambda: self.services.tagger)
                self.warmed.once = True
            # Wait for the next write (or go on at once if writes came during the
            # warming: the last of a burst would otherwise wait, unwarmed, for one
            # more), then for the feed to be quiet a moment; meanwhile the councils'
            # figures a write touched are brought up to date when due.
            while not self._stop.is_set() and not self._again.is_set():
                if feed.seq != self.warmed.seq or feed.wait_for(feed.seq + 1, 0.5):
                    break
                self._adopt()
                self._councils_when_due()
                self._take_listings()
                self._trim_when_due()
            while not self._stop.is_set():
                seen = feed.seq
                if self._stop.wait(QUIET_SECONDS) or feed.seq == seen:
                    break

    def warm(self) -> None:
        """Warm the current version (the recommender's caches, then the councils')."""
        services = self.services
        started = time.monotonic()
        with services.feed.lock.read():
            seq = services.feed.seq
            if self.councils != "publish":  # (what requests read: this process answers none)
                if (counts := services.counts) is not None:  # /v1/stats, per audience
                    self._part("counts", lambda: counts.counts("all"))
                self._part("matching", lambda: matching_of(services, self.holder).warm())
                self._part("search", self._search)
        self._take_listings()  # (a worker busy with writes may never be idle)
        every = FOLLOWED_LISTINGS_EVERY if self.councils == "follow" else LISTINGS_EVERY
        if time.monotonic() - self._listed_at >= every:
            self._listed_at = time.monotonic()
            self._part("listings", self._listings)
        if self.councils == "publish" and time.monotonic() - self._profiles_at >= PROFILES_EVERY:
            self._profiles_at = time.monotonic()
            self._part("profiles", services.keep_for_next_start)
        with self._done:
            self.warmed.runs += 1
            self.warmed.seq = seq
            self._done.notify_all()
        self._councils_when_due()
        give_back_memory()  # what the warming built and dropped (see the function)
        log.info("warmed version %d in %.2f s (%s)", seq, time.monotonic() - started,
                 ", ".join(f"{k} {v:.2f} s" for k, v in self.warmed.seconds.items()))  # fmt: skip

    def _councils_when_due(self) -> None:
        """The councils' figures of the current version, unless they are current or the
        last ones were brought up to date less than ``councils_every`` seconds ago.

        Figures of the sectors no write touched carry over at once (:mod:`graph.touches`);
        a touched sector's groups and bridges take seconds at 100,000 people, so with a
        write a second they are computed at this pace, not once per write, and the
        version before is answered meanwhile (marked as such, and never once something
        was withdrawn from its audience).
        """
        seq = self.services.feed.seq
        if self.councils == "follow":
            figures = self.services.figures
            published = figures.published() if figures is not None else -1
            if published > self.warmed.councils_seq or self._read_again:
                # Each sector's proposal read from the folder now, not by its first request
                # (the partial ones too, answered until the complete ones are published).
                self._read_again = False
                self._part("councils", self._read_proposals)
                with self._done:
                    self.warmed.councils_seq = published
                    self._done.notify_all()
            return
        if seq <= self.warmed.councils_seq:
            return
        if time.monotonic() - self._councils_at < self.councils_every:
            return
        self._councils_at = time.monotonic()
        self._part("councils", self._councils)
        give_back_memory()  # a sector's groups and bridges: hundreds of MiB, all dropped
        with self._done:
            self.warmed.councils_seq = seq
            self._done.notify_all()

    def _trim_when_due(self) -> None:
        if time.monotonic() - self._trimmed_at >= TRIM_EVERY:
            give_back_memory()
            self._trimmed_at = time.monotonic()

    def _adopt(self) -> None:
        """Map the index another worker saved (after an erasure, or once it encoded every
        vector) in place of this worker's own copies, so that the workers share it again."""
        index = self.services.search.index
        if not index.saved_elsewhere():
            return
        try:
            with self.services.feed.lock.write():  # requests read the vectors
                if index.adopt_saved():
                    log.info("mapped the index saved by another worker (%d rows in memory)",
                             index.vectors.tail_rows)  # fmt: skip
        except Exception:
            self.warmed.failures += 1
            log.exception("mapping the index saved by another worker failed")

    def _read_proposals(self) -> None:
        """Every sector's council proposal the councils process published, read into this
        worker's cache for the audiences that may ask for one (as :meth:`_councils`)."""
        services = self.services
        engine = analytics(services)
        with services.feed.lock.read():
            sectors = [n for n, a in services.view.graph.nodes(data=True) if a["kind"] == "sector"]
            for audience in AUDIENCES:
                if audience != "public":  # proposing a council needs a member key
                    for sector in sectors:
                        held = engine.read_proposal(audience, services.similarity, sector)
                        if held and audience == MEMBER.audience:
                            # Then as a request presents it (the names of this version).
                            proposal_payload(services, MEMBER, sector, size=DEFAULT_SIZE,
                                             exclude=[])  # fmt: skip

    def _councils(self) -> None:
        """Every sector's council proposal for the audiences that may ask for one (members,
        and above); computed off the feed's lock by the analytics' own background thread,
        or, in the process that publishes them, by a child process."""
        services = self.services
        engine = analytics(services)
        publish = self.councils == "publish"
        with services.feed.lock.read():
            sectors = [n for n, a in services.view.graph.nodes(data=True) if a["kind"] == "sector"]
            # (proposing a council needs a member key)
            wanted = [(a, s) for a in AUDIENCES if a != "public" for s in sectors]
            if publish:
                found = (engine.due_proposal(a, services.similarity, s) for a, s in wanted)
                due = [job for job in found if job is not None]
            else:
                for audience, sector in wanted:
                    engine.warm_proposal(audience, services.similarity, sector)
        if not publish:
            engine.settle(timeout=600.0)
        else:
            # In a child process: this one runs as long as the service, and would keep
            # most of the memory the computation allocates (graph.analytics.apart).
            engine.compute_apart(due)
            with services.feed.lock.read():
                # They are of the version the round began with: each figure the writes
                # since touched nothing of is this version's too. The version is marked
                # as published only if they all are: a worker that finds a version
                # published without a figure computes that figure itself.
                seq = services.feed.seq
                engine.carry_all()
                complete = not any(engine.due_proposal(a, services.similarity, s)
                                   for a, s in wanted)  # fmt: skip
                written = engine.publish()
            if complete and written is not None and services.figures is not None:
                services.figures.mark_published(seq)
            return
        # Then as a request presents them (names and the board of this version).
        with services.feed.lock.read():
            for sector in sectors:
                proposal_payload(services, MEMBER, sector, size=DEFAULT_SIZE, exclude=[])

    def _search(self) -> None:
        """A search per audience: the sets of who each may not find, kept per version."""
        for caller in (ANONYMOUS, MEMBER):
            self.services.search.search(
                caller, "community", SearchFilter(), mode="hybrid", limit=10, offset=0
            )

    def _listings(self) -> None:
        """The totals of each sector's and goal's listing of each kind its page counts,
        for the public and for members (whose own profile is added to the members' count
        by lookup, :func:`graph.listing._shared_total`); off the feed's lock: a count
        reads the store. The councils process publishes them for the workers (at 100,000
        people 348 counts, 3.4 s of a core, which each worker spent beside its requests)."""
        services = self.services
        with services.feed.lock.read():
            topics = [(n, a["kind"]) for n, a in services.view.graph.nodes(data=True)
                      if a["kind"] in ("sector", "sdg")]  # fmt: skip
        filters = [
            NodeFilter(kinds, sector=topic) if kind == "sector" else NodeFilter(kinds, sdg=topic)
            for topic, kind in sorted(topics)
            for kinds in (frozenset({k}) for k in LISTED_KINDS)
        ]
        audiences = [listing_audience(ANONYMOUS), listing_audience(MEMBER)]
        store, figures = services.store, services.figures
        seq = store.last_seq()  # (each count holds the version it was made at)
        counted = warm_totals(store, filters, audiences)
        if self.councils == "publish" and figures is not None:
            published = Published(counted, time.time(), time.monotonic())
            figures.put(LISTING_TOTALS, seq, made_by(store, seq), published)

    def _take_listings(self) -> None:
        """(Following the councils process) the listings' counts it published last, held
        as if counted here, once per publication."""
        figures = self.services.figures
        if self.councils != "follow" or figures is None:
            return
        if time.monotonic() - self._looked_at < LOOK_EVERY:
            return
        self._looked_at = time.monotonic()
        try:
            newest = figures.newest(LISTING_TOTALS)
            if newest <= self._listings_taken:
                return
            found = figures.latest(LISTING_TOTALS, newest)
            if found is None:
                return
            version, maker, published = found
            self._listings_taken = version
            store = self.services.store
            if not maker or maker != made_by(store, version):
                return  # (another store's: a folder that outlived it)
            if not isinstance(published, Published):
                return
            adopt_totals(store, published.here())
            self._listed_at = time.monotonic()
        except Exception:  # (the store busy a moment: the next look tries again)
            self.warmed.failures += 1
            log.exception("taking the listings' counts the councils process published failed")

    def _map_items(self) -> None:
        """Every placed node's map item, read ahead (:func:`read_items_ahead`)."""
        services = self.services
        if services.map_points is not None:
            read_items_ahead(services.store, services.map_points, services.feed.reading,
                             MAP_KINDS)  # fmt: skip

    def _first_runs(self) -> None:
        """Each encoder's first run: the items' and, when another, the searches' own
        (``COCREATE_QUERY_PRECISION``), each warmed and timed on its own."""
        index = self.services.search.index
        self._part("encoder", lambda: index.encoder.encode(["warm"]))
        if index.query_encoder is not index.encoder:
            self._part("query encoder", lambda: index.query_encoder.encode(["warm"]))

    def _part(self, name: str, build: Callable[[], object]) -> None:
        started = time.monotonic()
        try:
            build()
        except Exception:
            self.warmed.failures += 1
            log.exception("warming %s failed (the first request will build it)", name)
        self.warmed.seconds[name] = time.monotonic() - started
