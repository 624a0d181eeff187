"""Text vectors encoded once for the whole deployment, and kept in the store.

The process that writes a node encodes its text (an API write, an import) and stores the
vector in the same transaction, keyed by node, text digest and model. Every worker's
change feed then reads the vector instead of encoding the text again; a text with no
stored vector (reference data, a store written by an older version, another model) is
encoded by the first follower that meets it, which stores it for the others.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import numpy as np

from embeddings.encoder import Encoder
from embeddings.ranking import Vector
from embeddings.search import Encoded, text_sha1
from graph.model import Node
from graph.store import Store, StoredVectors
from graph.texts import node_text

log = logging.getLogger(__name__)

_DTYPE = np.dtype("<f4")


def model_key(encoder: Encoder) -> str:
    """The name vectors are stored under: the model and its dimension."""
    return f"{encoder.name}/{encoder.dimension}"


def known_vectors(
    store: Store, encoder: Encoder, items: Sequence[tuple[str, str]]
) -> dict[str, Vector]:
    """The stored vectors of these (id, text) items that were computed from this very text."""
    if not items:
        return {}
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
    encoded = encoder.encode([text for _, text in missing])
    return as_stored(
        encoder, ((i, text_sha1(t), v) for (i, t), v in zip(missing, encoded, strict=True))
    )


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
