"""Wiring: the store with its reference data, the projections its change feed keeps, the keys."""

from __future__ import annotations

import gc
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, make_url

from api.accounts import Accounts, forget_account
from api.auth import KeyRing, forget_person
from api.digest import create_tables as create_digests
from api.digest import forget_digests
from api.drafts import create_tables as create_drafts
from api.mail import Mailer, default_sender
from api.map_points import MapPoints
from api.marks import create_tables as create_marks
from api.marks import forget_marks
from api.search import SearchService, add_missing, catch_up, rebuild
from api.settings import Settings
from api.similarity import IndexSimilarity
from api.social import Social, forget_social
from api.vectors import attach_vector_cache, key_of, vectors_for_write
from api.versions import note_seq
from embeddings import quantize
from embeddings.encoder import Encoder, load_encoder
from embeddings.errors import EncoderMismatch, ModelNotAvailable
from embeddings.onnx import OnnxEncoder
from embeddings.quantize import (
    Precision,
    int8_name,
    items_precision_here,
    query_precision_here,
)
from embeddings.search import SemanticIndex
from embeddings.tagging import Tagger, fit_on_shipped_data
from embeddings.threads import single_threaded_blas
from graph.analytics.freshness import PrivacyEpochs
from graph.analytics.shared import SharedFigures, made_by
from graph.counts import VisibleCounts
from graph.errors import SavedByOtherCode
from graph.feed import ChangeFeed, Saved, catch_up_saved
from graph.listing import HeldPages
from graph.matching.profiles import ProfileIndex
from graph.model import NodeBase
from graph.reference import ensure_reference
from graph.store import DEFAULT_BUSY_TIMEOUT, Item, Store, WriteResult
from graph.touches import Touches
from graph.view import GraphView, collection_paused
from graph.visibility import AudienceIndex

log = logging.getLogger(__name__)
T = TypeVar("T")
S = TypeVar("S", bound=Saved)

OWN_WRITES_WAIT = 60.0
"""How long a worker waits for its feed to apply its own writes (an API write applies in
milliseconds; only a bulk write made in-process takes long) before going on regardless."""
KEEP_SECONDS = 60.0
"""How long the child process that saves the profile index and the graph view may take
(3 s at 100,000 people on a quiet machine, more beside two workers warming) before it is
killed, at least; and :data:`KEEP_SECONDS_PER_NODE` for each node of the view."""
KEEP_SECONDS_PER_NODE = 0.0003
"""At 1,000,000 people the profiles alone took more than 60 s beside a worker encoding
and two warming, and were never saved: 5 minutes there."""
FILES_WAIT = 300.0
"""How long closing waits for the compact view's files being written from the store (20 to
30 s at 100,000 people; minutes at a million) before it closes the store regardless."""
PROFILES = ("profiles",)
"""The profile index's key in the shared folder (:func:`open_profiles`)."""
VIEW = ("graph-view",)
"""The networkx graph view's key in the shared folder (:func:`open_view`)."""
SAVED_GAP = 20_000
"""Most changes a saved profile index or graph view is caught up with at start; beyond
them it is read from the store. At 100,000 people the last 20,000 changes of an import (a
sixth of them nodes) took 0.35 s to catch up with for the profiles, reading every profile
3.7 s."""


def open_store(settings: Settings, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> Store:
    """Open the configured store and make sure the reference data is loaded (idempotent).

    ``busy_timeout``: how long a write waits for another writer's lock. The service
    passes its setting (a request should not hang); batch commands wait longer.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.open(settings.store_url, busy_timeout=busy_timeout)
    KeyRing(store.engine)  # the key and audit tables, which an erasure rewrites
    Accounts(store.engine)  # so is the account of an erased person
    Social(store.engine)  # and their introductions, blocks, reports and join requests
    create_marks(store.engine)  # and their marks, and the digests sent to them
    create_digests(store.engine)
    create_drafts(store.engine)  # and the drafts their account started
    store.add_erasure_step(forget_person)
    store.add_erasure_step(forget_marks)
    store.add_erasure_step(forget_digests)  # before the account goes: it finds it
    store.add_erasure_step(forget_account)
    store.add_erasure_step(forget_social)
    if settings.vector_cache is not None:
        attach_vector_cache(store, settings.vector_cache)
    loaded = ensure_reference(store, settings.reference_dir)
    if loaded.changed:
        log.info(
            "reference data loaded: %d nodes, %d edges", loaded.nodes_written, loaded.edges_written
        )
    return store


def open_reader(settings: Settings, store: Store) -> Store:
    """Where the projections load from and follow the change log: the standby of
    ``COCREATE_READ_DATABASE_URL`` when one is set (read-only), else ``store`` itself."""
    if not settings.read_database_url:
        return store
    reader = Store.open(settings.read_database_url, busy_timeout=settings.busy_timeout,
                        read_only=True)  # fmt: skip
    log.info("the graph is loaded and followed from %s",
             make_url(settings.read_database_url).render_as_string(hide_password=True))  # fmt: skip
    return reader


@dataclass
class Services:
    """Everything a request needs, built once per process.

    The derived structures (graph view, audience and profile indexes, search index) are
    projections of one change feed; its follower thread is the only code that changes
    them, and requests read them under ``feed.reading()``.
    """

    settings: Settings
    store: Store
    view: GraphView
    keys: KeyRing
    audiences: AudienceIndex
    profiles: ProfileIndex
    search: SearchService
    feed: ChangeFeed
    accounts: Accounts
    mailer: Mailer
    social: Social
    jobs: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="jobs"), repr=False
    )
    """Work a request hands on and does not wait for (sign-up and reset mails)."""
    ready: bool = field(default=False)
    written_seq: int = field(default=0)
    """The last change written through this process (its reads wait for it)."""
    counts: VisibleCounts | None = field(default=None, repr=False)
    """Nodes and edges per kind and audience (/v1/stats), a projection of the feed."""
    epochs: PrivacyEpochs | None = field(default=None, repr=False)
    """What each audience had withdrawn, by version (which older figures may be answered)."""
    touches: Touches | None = field(default=None, repr=False)
    """What each batch of changes touched (what per-version structures may carry over)."""
    figures: SharedFigures | None = field(default=None, repr=False)
    """Councils' figures computed once for every process of the data folder."""
    map_points: MapPoints | None = field(default=None, repr=False)
    """Every node's public position and what the map filters on (views of the map)."""
    reader: Store | None = field(default=None, repr=False)
    """The standby the projections load from and follow (None: ``store`` itself)."""
    _tagger: Tagger | None = field(default=None, repr=False)
    _tagger_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def start(
        cls, settings: Settings, *, follow: bool = True, defer_indexing: bool = False
    ) -> Services:
        """Open the store, build every projection at one sequence number, and follow the log.

        Without ``follow`` no thread is started: :meth:`catch_up` applies new changes.
        With ``defer_indexing`` no text is encoded here: the texts without a stored vector
        are searchable by their words at once, their vectors computed in the background
        (:mod:`api.indexing`, started by the app).
        """
        services = cls.load(settings, defer_indexing=defer_indexing)
        services.begin(follow=follow)
        return services

    @classmethod
    def load(cls, settings: Settings, *, defer_indexing: bool = False) -> Services:
        """Every projection built at one sequence number, and nothing started: no thread
        runs and no model is loaded (:meth:`begin` starts them), so that ``serve`` can load
        once and fork its workers from what it loaded (:meth:`part`, :meth:`resume`)."""
        single_threaded_blas()
        store = open_store(settings, busy_timeout=settings.busy_timeout)
        reader = open_reader(settings, store)
        with collection_paused():  # millions of objects kept for good: nothing to collect
            figures = SharedFigures(settings.data_dir / "figures")
            figures.clear_unseen_erasures(reader)  # before anything is read from it
            view = open_view(settings, reader, figures)
            # And again: the feed starts at the view's version, so an erasure committed
            # while it was read would reach neither the first look nor the folder.
            figures.clear_unseen_erasures(reader)
            audiences = AudienceIndex.from_graph(view.graph)
            profiles = open_profiles(reader, figures)
            index = open_index(settings, store, defer=defer_indexing)
            if defer_indexing:  # those a snapshot saved while vectors were computed left out
                add_missing(store, index, list(view.graph.nodes))
            search = SearchService(store, view, index, audiences)
            counts = VisibleCounts(view)  # after the view: it reads the view as applied
            points = MapPoints.from_store(reader)
            epochs = PrivacyEpochs(view)
            touches = Touches(view)
            search.touches = touches
            # What the councils process of an earlier start judged withdrawn, so that the
            # figures it wrote may be answered (for a while) before they are computed again.
            kept = figures.withdrawals(reader)
            if kept is not None:
                record, after = kept
                epochs.seed(record, view.seq, [c for c in after if c.seq <= view.seq])
            feed = ChangeFeed(
                reader,
                [view, touches, counts, epochs, audiences, profiles, search, figures, points,
                 HeldPages(store)],
                seq=view.seq,
                poll_seconds=settings.follow_interval,
            )  # fmt: skip
            feed.catch_up()
            # The counts (/v1/stats: 1.5 s at 100,000 people) are built by the warmer.
        accounts = Accounts(store.engine)
        keys = KeyRing(store.engine, accounts=accounts.standing)
        services = cls(settings, store, view, keys, audiences, profiles, search, feed, accounts,
                       open_mailer(settings), Social(store.engine), counts=counts,
                       epochs=epochs, touches=touches, figures=figures, map_points=points,
                       reader=reader if reader is not store else None)  # fmt: skip
        store.subscribe(services._written)
        if reader is not store:  # a write here wakes the follower of the standby
            store.subscribe(feed.wake)
        return services

    def begin(self, *, follow: bool = True) -> None:
        """Serve from now on: a write never waits for a rebuild of the vector index (the
        swap holds the feed's write side, since requests read the vector index under its
        shared side only), and with ``follow`` the feed's thread applies the log."""
        self.search.index.rebuild_in_background(swap_under=self.feed.lock.write)
        if follow:
            self.feed.start()
        self.ready = True

    def part(self) -> None:
        """Before this process forks workers from what it loaded: no connection to the
        store stays open, so that no child inherits one (each opens its own)."""
        self.store.engine.dispose()
        if self.reader is not None:
            self.reader.engine.dispose()

    def resume(self, settings: Settings | None = None) -> None:
        """In a process forked after :meth:`part` (a worker of ``serve``): what belongs to
        one process made again, and every change since the load applied (the loader's
        copy is as old as the start), before :meth:`begin`. ``settings``: this
        process's, if not those it was loaded with (a worker's are read from the
        environment ``serve`` made for it)."""
        if settings is not None:
            self.settings = settings
        self.store.engine.dispose(close=False)
        if self.reader is not None:
            self.reader.engine.dispose(close=False)
        self.jobs = ThreadPoolExecutor(1, thread_name_prefix="jobs")
        self.feed.catch_up()

    def keep_for_next_start(self) -> bool:
        """Save the profile index and the networkx graph view in the shared folder, for
        the next start (:func:`open_profiles`, :func:`open_view`); whether one was written
        (not when one of this version is there, nor unless the version is after the last
        erasure). For the process that computes the councils' figures.

        Written by a child process forked for it (where ``fork`` exists), under the
        feed's shared lock so that the child has one version: reading every profile here
        would make this process's own copy of each page of them it shares with the
        workers (CPython writes reference counts into what it reads), 130 MiB more at
        100,000 people for the profiles alone, for good. The child does nothing else, and
        ends without cleaning up what it inherited (connections, threads' state)."""
        figures = self.figures
        if figures is None:
            return False
        store = self.reader if self.reader is not None else self.store
        with self.feed.lock.read():
            kept: list[tuple[Any, ...]] = [(PROFILES, self.profiles.seq, self.profiles.state)]
            if self.view.files is None:  # (the compact view is its own files)
                kept.append((VIEW, self.view.seq, self.view.state))
            saving = []
            for key, seq, state in kept:
                maker = made_by(store, seq) if figures.writable(key, seq) else ""
                if maker:  # (none: an erasure removed that entry, the version may hold them)
                    saving.append((key, seq, maker, state))
            if not saving:
                return False
            nodes = len(self.view.graph)
            if not hasattr(os, "fork"):
                return sum(figures.put(k, q, m, state()) for k, q, m, state in saving) > 0
            child = os.fork()
            if child == 0:
                code = 2
                try:
                    gc.disable()  # (a collection would copy pages and run others' finalisers)
                    written = sum(figures.put(k, q, m, state()) for k, q, m, state in saving)
                    code = 0 if written else 1
                finally:
                    os._exit(code)
        ended = _exit_code(child, max(KEEP_SECONDS, KEEP_SECONDS_PER_NODE * nodes))
        if ended not in (0, 1):
            log.warning("saving the profile index and graph view failed (exit code %s)", ended)
            figures.sweep()  # what the child left half-written
        return ended == 0

    def _written(self, seq: int) -> None:
        self.written_seq = max(self.written_seq, seq)
        note_seq(seq)

    @property
    def similarity(self) -> IndexSimilarity:
        """Text similarity of stored nodes for the graph's matching code (from the index)."""
        return IndexSimilarity(self.search.index)

    @property
    def tagger(self) -> Tagger:
        """The SDG and sector tagger, fitted on first use (its encoded texts are cached)."""
        if self._tagger is None:
            with self._tagger_lock:
                if self._tagger is None:
                    # fp32 whatever the search encoder's precision: the tagger's
                    # parameters (data/tagger.json) were learnt on fp32 vectors.
                    self._tagger = fit_on_shipped_data(
                        load_encoder(self.settings.model, precision="fp32"),
                        self.settings.reference_dir,
                        cache=self.settings.cache_dir / "tagging",
                    )
        return self._tagger

    def catch_up(self) -> int:
        """Apply every change now (the command line and tests; a served process follows)."""
        return self.feed.catch_up()

    def write(
        self, items: Sequence[Item], *, within: Callable[[Connection, WriteResult], None] | None
    ) -> WriteResult:
        """Write through the store, with the vectors of the node texts that changed (encoded
        here, once for every worker)."""
        nodes = [item for item in items if isinstance(item, NodeBase)]
        vectors = vectors_for_write(self.store, self.search.index.encoder, nodes)
        return self.store.write(items, within=within, vectors=vectors)

    def reindex(self) -> int:
        """Index every node's text again from the store (unchanged texts are not encoded);
        how many nodes there are. Searches wait meanwhile."""
        with self.feed.lock.write():
            return rebuild(self.store, self.search.index)

    def after_erasure(self, done: WriteResult) -> None:
        """Once a person is erased: save the search index, leaving no older snapshot.

        Every saved snapshot may hold the person (their vector, their words); the new one,
        written once this worker's feed has applied the erasure, holds nothing of them, and
        the store has already truncated its WAL.
        """
        if done.last_seq is not None and not self.feed.wait_for(done.last_seq, OWN_WRITES_WAIT):
            log.warning("saving the index before this worker applied the erasure %d", done.last_seq)
        index = self.search.index
        # Under the feed's write side: the save scrubs retired rows (a compaction, when the
        # index has no HNSW graph) from the arrays requests read under the shared side.
        with self.feed.lock.write():
            index.forget(())  # whether or not this process held them, older snapshots did
            index.save(watermark=index.watermark)

    def close(self) -> None:
        self.ready = False
        self.feed.stop()
        self.search.index.close()  # after the feed: no write starts another rebuild
        # The compact view may be writing its files from the store in the background (after
        # an erasure, or once its delta grew): that read ends before the store closes, or
        # its connection would be left to the collector, unclosed.
        if not self.view.wait_for_files(FILES_WAIT):
            log.warning("closing the store while the graph's files are still written")
        self.store.unsubscribe(self._written)
        self.jobs.shutdown(wait=True, cancel_futures=False)
        self.mailer.close()
        if self.reader is not None:
            self.store.unsubscribe(self.feed.wake)
            self.reader.close()
        self.store.close()


def open_mailer(settings: Settings) -> Mailer:
    """The mailer of the settings (SMTP, or the log when no server is configured)."""
    return Mailer(settings.smtp_url, settings.mail_from or default_sender(settings.base_url))


def open_encoder(settings: Settings, store: Store | None = None) -> Encoder:
    """The items' encoder of the settings (model and precision), loaded once per process.

    ``auto`` precision (:func:`embeddings.quantize.items_precision_here`) keeps the
    precision of the vectors already held, those of the saved index, else the store's
    (``store``, when given), so that a start never encodes every text again for it.
    """
    asked = settings.encoder_precision
    if asked != "auto":
        return load_encoder(settings.model, precision=asked)
    fp32 = load_encoder(settings.model, precision="fp32")
    onnx = isinstance(fp32, OnnxEncoder)
    vnni = onnx and quantize.has_vnni()
    held = _held_precision(settings, store, fp32) if vnni else None
    chosen = items_precision_here(asked, held=held, onnx=onnx)
    return fp32 if chosen == "fp32" else load_encoder(settings.model, precision=chosen)


def _held_precision(settings: Settings, store: Store | None, fp32: Encoder) -> Precision | None:
    """The precision of this model's vectors in the saved index, else in the store (fp32
    where it holds both)."""
    names: dict[str, Precision] = {fp32.name: "fp32", int8_name(fp32.name): "int8"}
    saved = SemanticIndex.saved_encoder(settings.index_dir)
    if saved in names:
        return names[saved]
    if store is not None:
        for name, precision in names.items():
            if store.holds_vectors_of(key_of(name, fp32.dimension)):
                return precision
    return None


def ask_with_own_encoder(index: SemanticIndex, settings: Settings) -> None:
    """Give the index the encoder of its queries when their precision is not the items'
    (``COCREATE_QUERY_PRECISION``; :func:`embeddings.quantize.query_precision_here`). When
    ``auto`` chose int8 and its copy cannot be made here, the items' encoder stays."""
    items: Precision = "int8" if getattr(index.encoder, "precision", "") == "int8" else "fp32"
    asked = settings.query_precision
    chosen = query_precision_here(asked, items, onnx=isinstance(index.encoder, OnnxEncoder))
    if chosen == items:
        return
    try:
        encoder = load_encoder(settings.model, precision=chosen)
    except ModelNotAvailable as error:
        if asked != "auto":
            raise
        log.warning("searches keep the items' encoder: no %s copy here (%s)", chosen, error)
        return
    if encoder.name == index.encoder.name:  # the copy could not be made: the same model
        return
    index.ask_with(encoder)
    log.info("searches encode their text in %s, the items keep %s", chosen, items)


def open_index(
    settings: Settings, store: Store, *, progress: bool = False, defer: bool = False
) -> SemanticIndex:
    """The saved search index (built if there is none), caught up with the store; with
    ``defer`` the texts without a stored vector wait for theirs (searched by words)."""
    encoder = open_encoder(settings, store)
    try:
        index = SemanticIndex.open(encoder, settings.index_dir)
    except EncoderMismatch as mismatch:
        # Another model or precision (COCREATE_ENCODER_PRECISION): its vectors and this
        # encoder's queries must not meet, so the index is built again from the store.
        log.warning("the saved search index was built with %s, not %s: indexing again",
                    mismatch.expected, mismatch.got)  # fmt: skip
        index = SemanticIndex(encoder, folder=settings.index_dir)
    ask_with_own_encoder(index, settings)
    if len(index) == 0 and index.watermark == 0:
        # reading the nodes beats replaying the log
        rebuild(store, index, progress=progress, defer=defer)
    applied = catch_up(store, index, progress=progress, defer=defer)
    log.info("search index: %d items (%d waiting for vectors), %d changes applied",
             len(index), index.pending, applied)  # fmt: skip
    return index


def _exit_code(pid: int, timeout: float) -> int | None:
    """The exit code of the child process ``pid`` once it ends; None if it had not ended
    within ``timeout`` seconds (it is killed)."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(0.05)


def open_saved(
    figures: SharedFigures, store: Store, key: tuple[str, ...], read: Callable[[Any], S]
) -> S | None:
    """What :meth:`Services.keep_for_next_start` saved under ``key``, made again by
    ``read`` and caught up with the store, if it is of this store (the change that made it
    is this store's) and neither more than :data:`SAVED_GAP` changes nor an erasure
    behind (:func:`graph.feed.catch_up_saved`); else None."""
    started = time.time_ns()
    try:
        with collection_paused():
            found = figures.latest(key, until=store.last_seq())
            if found is None:
                return None
            version, maker, state = found
            if not maker or maker != made_by(store, version):
                return None
            try:
                saved = read(state)
            except SavedByOtherCode:
                # Never read by this code: removed, so that the next save of this version
                # (the councils process's, at its start) is not refused as done already.
                figures.discard(key, version, written_before=started)
                log.info("%s of change %d was saved by other code: read from the store",
                         key[0], version)  # fmt: skip
                return None
            if saved.seq == version and catch_up_saved(saved, store, most=SAVED_GAP):
                log.info("%s saved at change %d, at %d now", key[0], version, saved.seq)
                return saved
    except Exception:  # (the folder is the service's own: a state this code did not write)
        log.warning("the saved %s could not be used: read from the store", key[0],
                    exc_info=True)  # fmt: skip
    return None


def open_profiles(store: Store, figures: SharedFigures) -> ProfileIndex:
    """The profile index saved in the shared folder (:func:`open_saved`), else read from
    the store."""
    saved = open_saved(figures, store, PROFILES, ProfileIndex.from_state)
    return saved if saved is not None else ProfileIndex.from_store(store)


def open_view(settings: Settings, store: Store, figures: SharedFigures | None = None) -> GraphView:
    """The graph view the settings ask for (``COCREATE_GRAPH``). The networkx view is the
    one saved in the shared folder (:func:`open_saved`), else built from the store."""
    if settings.graph == "compact":
        return GraphView.open_compact(store, settings.graph_dir)
    if figures is not None:
        saved = open_saved(figures, store, VIEW, lambda state: GraphView.from_state(state, store))
        if saved is not None:
            return saved
    return GraphView.from_store(store)


def open_search(settings: Settings, store: Store, view: GraphView) -> SearchService:
    """The saved index (built if there is none), caught up with the store, over ``view``."""
    index = open_index(settings, store)
    return SearchService(store, view, index, AudienceIndex.from_graph(view.graph))
