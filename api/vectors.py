"""Text vectors encoded once for the whole deployment, and kept in the store.

The process that writes a node encodes its text (an API write, an import) and stores the
vector in the same transaction, keyed by node, text digest and model. Every worker's
change feed then reads the vector instead of encoding the text again; a text with no
stored vector (reference data, a store written by an older version, another model) is
encoded by the first follower that meets it, which stores it for the others.

With ``COCREATE_VECTOR_CACHE`` (:func:`attach_vector_cache`) the vectors are also kept in
a content-addressed cache shared by every store and process pointed at it
(:mod:`embeddings.vector_cache`): a text any of them encoded is not encoded again, and an
erasure removes every vector the person's texts ever had there.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import Connection

from embeddings.encoder import Encoder
from embeddings.ranking import Vector
from embeddings.search import Encoded, text_sha1
from embeddings.vector_cache import Row, VectorCache, encoder_identity, text_digest
from graph.model import Node
from graph.store import Store, StoredVectors
from graph.texts import node_text

log = logging.getLogger(__name__)

_DTYPE = np.dtype("<f4")


def model_key(encoder: Encoder) -> str:
    """The name vectors are stored under: the model and its dimension."""
    return key_of(encoder.name, encoder.dimension)


def key_of(name: str, dimension: int) -> str:
    """The name the vectors of the encoder named ``name`` are stored under."""
    return f"{name}/{dimension}"


_caches: weakref.WeakKeyDictionary[Store, VectorCache] = weakref.WeakKeyDictionary()


def attach_vector_cache(store: Store, folder: Path) -> VectorCache:
    """Use the vector cache in ``folder`` for this store's texts, and forget a person's
    vectors there when the store erases them: in the erasure's transaction (which fails
    if the cache cannot be written) and again once it is committed, so that a vector
    kept meanwhile by another thread or process (which checks that its owners exist,
    see :meth:`VectorCache.put`) cannot outlive the erasure."""
    cache = VectorCache(folder)
    _caches[store] = cache
    erased: set[str] = set()
    lock = threading.Lock()

    def forget_in_transaction(conn: Connection, person_id: str) -> None:
        cache.forget(person_id, truncate=False)  # not while holding the store's write lock
        with lock:
            erased.add(person_id)

    def forget_after_commit(seq: int) -> None:
        with lock:
            if not erased:
                return
            people = sorted(erased)
            erased.clear()
        for person_id in people:
            try:
                cache.forget(person_id, truncate=False)
                cache.truncate_wal()
            except Exception as error:  # committed already: say so, and try after the next
                log.error("could not remove an erased person's vectors from the vector "
                          "cache: %s", error)  # fmt: skip
                with lock:
                    erased.add(person_id)

    store.add_erasure_step(forget_in_transaction)
    store.subscribe(forget_after_commit)
    return cache


def vector_cache(store: Store) -> VectorCache | None:
    """The vector cache attached to this store, if any."""
    return _caches.get(store)


def _owner(item_id: str) -> str | None:
    """Whom the erasure of a text's vector follows: a person's own texts only."""
    return item_id if item_id.startswith("person:") else None


def known_vectors(
    store: Store, encoder: Encoder, items: Sequence[tuple[str, str]]
) -> dict[str, Vector]:
    """The stored vectors of these (id, text) items that were computed from this very
    text, and those the vector cache has for the same text (see the module's doc)."""
    if not items:
        return {}
    found = _stored_vectors(store, encoder, items)
    cache, model = vector_cache(store), encoder_identity(encoder)
    if cache is None or model is None:
        return found
    digests = {item_id: text_digest(text) for item_id, text in items}
    cached = cache.get(model, digests.values())
    for item_id, _ in items:
        vector = cached.get(digests[item_id])
        if item_id not in found and vector is not None and vector.size == encoder.dimension:
            found[item_id] = vector
    # The store's vectors the cache lacks (written by a process without it, or as its
    # node was written), and the cached ones' owners (the same text, another person).
    rows: list[Row] = [
        (_owner(item_id), digests[item_id], found[item_id])
        for item_id, _ in items
        if item_id in found and (digests[item_id] not in cached or _owner(item_id))
    ]
    cache.put(model, rows, alive=lambda owners: store.existing_ids(owners))
    return found


def _stored_vectors(
    store: Store, encoder: Encoder, items: Sequence[tuple[str, str]]
) -> dict[str, Vector]:
    stored = store.stored_vectors(model_key(encoder), (item_id for item_id, _ in items))
    found: dict[str, Vector] = {}
    for item_id, text in items:
        row = stored.get(item_id)
        if row is None or row[0] != text_sha1(text):
            continue
        vector = np.frombuffer(row[1], dtype=_DTYPE)
        if vector.size == encoder.dimension:
            found[item_id] = vector.astype(np.float32)
    return found


def as_stored(encoder: Encoder, rows: Iterable[tuple[str, str, Vector]]) -> StoredVectors:
    """(id, digest, vector) rows in the store's form."""
    return StoredVectors(
        model_key(encoder),
        [(i, digest, np.asarray(v, dtype=_DTYPE).tobytes()) for i, digest, v in rows],
    )


def vectors_for_write(store: Store, encoder: Encoder, nodes: Iterable[Node]) -> StoredVectors:
    """Vectors for the nodes about to be written whose text the store has none for yet."""
    items = {node.id: node_text(node) for node in nodes}
    if not items:
        return StoredVectors(model_key(encoder), [])
    stored = store.stored_vectors(model_key(encoder), items)
    missing = [(i, t) for i, t in items.items() if stored.get(i, ("",))[0] != text_sha1(t)]
    if not missing:
        return StoredVectors(model_key(encoder), [])
    # The cache is only read here: the nodes are not written yet. Their vectors go in it
    # once a follower reads them from the store (known_vectors).
    cache, model = vector_cache(store), encoder_identity(encoder)
    cached = {}
    if cache is not None and model is not None:
        cached = cache.get(model, (text_digest(t) for _, t in missing))
    rows: list[tuple[str, str, Vector]] = []
    for i, t in missing:
        vector = cached.get(text_digest(t))
        if vector is not None and vector.size == encoder.dimension:
            rows.append((i, text_sha1(t), vector))
    todo = [(i, t) for i, t in missing if text_digest(t) not in cached]
    if todo:
        encoded = encoder.encode([text for _, text in todo])
        rows += [(i, text_sha1(t), v) for (i, t), v in zip(todo, encoded, strict=True)]
    return as_stored(encoder, rows)


def share(store: Store, encoder: Encoder, encoded: Encoded) -> None:
    """Store what a follower had to encode, so that no other worker encodes it again.

    Best effort: if the store is busy the vectors are simply encoded again elsewhere.
    """
    rows = encoded.fresh_rows()
    if not rows:
        return
    try:
        store.put_vectors(as_stored(encoder, rows))
    except Exception as error:  # a busy store must not stop the change feed
        log.warning("could not store %d text vectors: %s", len(rows), error)
    cache, model = vector_cache(store), encoder_identity(encoder)
    if cache is not None and model is not None:
        texts = dict(zip(encoded.ids, encoded.texts, strict=True))
        cache.put(
            model,
            [(_owner(i), text_digest(texts[i]), vector) for i, _, vector in rows],
            alive=lambda owners: store.existing_ids(owners),
        )
