"""Wiring: the store with its reference data, the graph view that follows it, the keys."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from api.auth import KeyRing
from api.settings import Settings
from graph.reference import ensure_reference
from graph.store import Store
from graph.view import GraphView

log = logging.getLogger(__name__)


def open_store(settings: Settings) -> Store:
    """Open the configured store and make sure the reference data is loaded (idempotent)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store.open(settings.store_url)
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

    @classmethod
    def start(cls, settings: Settings) -> Services:
        store = open_store(settings)
        view = GraphView.from_store(store)
        view.follow(store)
        services = cls(settings, store, view, KeyRing(store.engine))
        services.ready = True
        return services

    def catch_up(self) -> None:
        """Apply writes made by other processes (other replicas, the CLI)."""
        if self.store.last_seq() != self.view.seq:
            self.view.catch_up(self.store)

    def close(self) -> None:
        self.ready = False
        self.store.close()
