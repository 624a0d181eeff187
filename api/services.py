"""Wiring: the store with its reference data, the graph view that follows it, the keys."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from api.auth import KeyRing
from api.search import SearchService, catch_up, rebuild
from api.settings import Settings
from api.similarity import IndexSimilarity
from embeddings.encoder import load_encoder
from embeddings.search import SemanticIndex
from embeddings.tagging import Tagger, fit_on_shipped_data
from embeddings.threads import single_threaded_blas
from graph.reference import ensure_reference
from graph.store import DEFAULT_BUSY_TIMEOUT, Store
from graph.view import GraphView

log = logging.getLogger(__name__)


def open_store(settings: Settings, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> Store:
    """Open the configured store and make sure the reference data is loaded (idempotent).

    ``busy_timeout``: how long a write waits for another writer's lock. The service
    passes its setting (a request should not hang); batch commands wait longer.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.open(settings.store_url, busy_timeout=busy_timeout)
    loaded = ensure_reference(store, settings.reference_dir)
    if loaded.changed:
        log.info(
            "reference data loaded: %d nodes, %d edges", loaded.nodes_written, loaded.edges_written
        )
    return store


@dataclass
class Services:
    """Everything a request needs, built once per process."""

    settings: Settings
    store: Store
    view: GraphView
    keys: KeyRing
    ready: bool = field(default=False)
    _search: SearchService | None = field(default=None, repr=False)
    _search_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _tagger: Tagger | None = field(default=None, repr=False)

    @classmethod
    def start(cls, settings: Settings, *, warm_search: bool = False) -> Services:
        """Open everything; ``warm_search`` loads the search index now rather than on first use."""
        single_threaded_blas()
        store = open_store(settings, busy_timeout=settings.busy_timeout)
        view = GraphView.from_store(store)
        view.follow(store)
        services = cls(settings, store, view, KeyRing(store.engine))
        if warm_search:
            services.search  # noqa: B018 - loads the index
        services.ready = True
        return services

    @property
    def search(self) -> SearchService:
        """The search service, opened (and caught up with the store) on first use."""
        if self._search is None:
            with self._search_lock:
                if self._search is None:
                    self._search = open_search(self.settings, self.store, self.view)
        return self._search

    @property
    def similarity(self) -> IndexSimilarity:
        """Text similarity of stored nodes for the graph's matching code (from the index)."""
        return IndexSimilarity(self.search.index)

    @property
    def tagger(self) -> Tagger:
        """The SDG and sector tagger, fitted on first use (its encoded texts are cached)."""
        if self._tagger is None:
            with self._search_lock:
                if self._tagger is None:
                    self._tagger = fit_on_shipped_data(
                        load_encoder(self.settings.model),
                        self.settings.reference_dir,
                        cache=self.settings.cache_dir / "tagging",
                    )
        return self._tagger

    def catch_up(self) -> None:
        """Apply writes made by other processes (other replicas, the CLI)."""
        if self.store.last_seq() != self.view.seq:
            self.view.catch_up(self.store)
            if self._search is not None:
                self._search.catch_up()

    def close(self) -> None:
        self.ready = False
        self.store.close()


def open_index(settings: Settings, store: Store, *, progress: bool = False) -> SemanticIndex:
    """The saved search index (built if there is none), caught up with the store."""
    index = SemanticIndex.open(load_encoder(settings.model), settings.index_dir)
    if len(index) == 0 and index.watermark == 0:
        rebuild(store, index, progress=progress)  # reading the nodes beats replaying the log
    applied = catch_up(store, index, progress=progress)
    log.info("search index: %d items, %d changes applied", len(index), applied)
    return index


def open_search(
    settings: Settings, store: Store, view: GraphView, *, progress: bool = False
) -> SearchService:
    """The saved index (built if there is none), caught up with the store and following it."""
    service = SearchService(store, view, open_index(settings, store, progress=progress))
    service.follow()
    return service
