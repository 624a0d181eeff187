"""Wiring: opening the store with its reference data in place."""

from __future__ import annotations

import logging

from api.settings import Settings
from graph.reference import ensure_reference
from graph.store import Store

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
