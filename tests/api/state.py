"""What every process serving a store should hold: its graph view and search index, as
``GET /v1/admin/state`` reports them, computed from the store itself."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from graph import schema
from graph.store import Store


def digest(ids: Iterable[str]) -> str:
    """As the route computes it: sha256 of the sorted ids, one per line."""
    return hashlib.sha256("\n".join(sorted(ids)).encode("utf-8")).hexdigest()


def store_state(url: Path | str) -> dict[str, Any]:
    """What every worker should hold, read from the store (a SQLite file or a URL)."""
    store = Store.open(url)
    try:
        with store.engine.connect() as conn:
            nodes = list(conn.execute(select(schema.nodes.c.id)).scalars())
        edges = [edge.ref for edge in store.iter_edges()]
        seq = store.last_seq()
    finally:
        store.close()
    return {
        "seq": seq,
        "graph": {"nodes": len(nodes), "edges": len(edges), "node_digest": digest(nodes),
                  "edge_digest": digest(edges)},
        "index": {"items": len(nodes), "vectors": len(nodes), "lexical": len(nodes),
                  "watermark": seq, "digest": digest(nodes)},
    }  # fmt: skip


def differences(expected: dict[str, Any], state: dict[str, Any], prefix: str = "") -> list[str]:
    """Where ``state`` differs from ``expected``, one line per field."""
    found = []
    for key, value in expected.items():
        if isinstance(value, dict):
            found += differences(value, state.get(key, {}), f"{prefix}{key}.")
        elif state.get(key) != value:
            found.append(f"{prefix}{key}: {state.get(key)!r}, the store {value!r}")
    return found
