"""``serve`` loads the network once and forks its processes from what it loaded.

Each worker used to start as a new interpreter and build its own graph view, profiles and
search index: at 100,000 people about 8 s of work per process, done again by every worker
and by the councils process, and 1.3 GiB each, three times over. With ``COCREATE_PRELOAD``
(the default on Linux) ``serve`` does that work once (:meth:`Services.load`, which starts
no thread and loads no model), closes its connections to the store
(:meth:`Services.part`) and forks: a child shares every page of what was loaded with the
others until it changes one, applies the changes made since the load
(:meth:`Services.resume`), and starts its own threads (:meth:`Services.begin`). A worker
started again after a crash is forked from the same load and catches up the same way.

What must not cross a fork is kept out of the load: threads (the feed's follower, the
vector index's rebuilds, the warmer: all started after it), connections (closed before
it), ONNX Runtime's session (made on first use, in the process that encodes) and
OpenMP's threads (one thread while loading, so that none exists in the parent; the
number is set back after it, and each child starts its own). An encoder run by torch is
loaded at once and uses OpenMP, so with it each process loads its own, as without the
setting.
"""

from __future__ import annotations

import logging
import os

from api.services import Services, open_encoder
from api.serving import exempt_from_collection
from api.settings import Settings
from embeddings.encoder import SentenceTransformerEncoder
from embeddings.threads import openmp_threads
from graph.view import collection_paused

log = logging.getLogger(__name__)


def forkable(settings: Settings) -> bool:
    """Whether ``serve`` may load once and fork (the setting, and an encoder that is safe
    to load before a fork)."""
    if not settings.preload or not hasattr(os, "fork"):
        return False
    if os.environ.get("COCREATE_ENCODER_BACKEND", "").strip() == "torch":
        return False  # (said before loading it: this process would keep it for nothing)
    if isinstance(open_encoder(settings), SentenceTransformerEncoder):
        log.info("the encoder runs on torch: each process of serve loads its own")
        return False
    return True


def load(settings: Settings) -> tuple[Services, int, int]:
    """The services every process of ``serve`` is forked from: loaded here, the search
    index saved if it was not in step, and parted (no connection left open); with the
    store's nodes and edges (what ``serve`` says at start)."""
    # No OpenMP thread in this process: its children lack them. What is loaded is left
    # out of the collector's work before it runs again: its first collection after the
    # load would walk every object the load made (0.8 s at 100,000 people).
    with openmp_threads(1), collection_paused():
        services = Services.load(settings, defer_indexing=True)
        exempt_from_collection()
    index = services.search.index
    if index.worth_saving(moved=settings.index_resave_after):  # the next start loads it
        index.save(watermark=index.watermark)
    store = services.store
    nodes, edges = sum(store.node_counts().values()), sum(store.edge_counts().values())
    # The app's modules, imported once here rather than by each process after the fork
    # (0.7 s each, while they start at once on the same cores).
    import api.app  # noqa: F401

    exempt_from_collection()
    services.part()
    return services, nodes, edges
