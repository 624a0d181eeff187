"""The networkx view of the store, kept in step with it through the change log.

The view holds structure only: every node with its ``kind``, ``visibility`` and
``discoverable``, ``locality``, ``country`` and public ``lat``/``lon`` (what privacy
rules and filters need while walking the graph), every edge
keyed by its kind in a :class:`networkx.MultiDiGraph`. Fields live in the store. After a
write the view applies the new change-log entries (no full rebuild); a view in
another process, or one that missed writes, catches up the same way.
"""

from __future__ import annotations

import gc
import logging
import threading
from typing import Any

import networkx as nx
from sqlalchemy import Row, select

from graph import schema
from graph.store import Change, Store, split_edge_ref

log = logging.getLogger(__name__)


class GraphView:
    """A networkx graph derived from a :class:`Store`; ``seq`` is the last change applied."""

    def __init__(self, graph: nx.MultiDiGraph | None = None, *, seq: int = 0) -> None:
        self.graph: nx.MultiDiGraph = graph if graph is not None else nx.MultiDiGraph()
        self.seq = seq
        self._lock = threading.Lock()

    @classmethod
    def from_store(cls, store: Store) -> GraphView:
        """Build the whole view from the store's tables (used at start).

        The cyclic garbage collector is paused meanwhile: a million new edge dicts would
        otherwise trigger full collections over and over, none of which frees anything.
        """
        graph = nx.MultiDiGraph()
        collecting = gc.isenabled()
        gc.disable()
        try:
            seq = _load(store, graph)
        finally:
            if collecting:
                gc.enable()
        log.info("graph view: %d nodes, %d edges", graph.number_of_nodes(), graph.number_of_edges())
        return cls(graph, seq=seq)

    def follow(self, store: Store) -> None:
        """Keep this view in step with every write committed through ``store``."""

        def on_write(_seq: int) -> None:
            self.catch_up(store)

        store.subscribe(on_write)

    def catch_up(self, store: Store) -> int:
        """Apply the change-log entries newer than ``seq``; returns how many were applied."""
        applied = 0
        with self._lock:
            while True:
                batch = store.changes_since(self.seq, limit=50_000)
                if not batch:
                    return applied
                upserted = [c.ref for c in batch if c.entity == "node" and c.op == "upsert"]
                attrs = _node_attrs(store, upserted)
                start = 0
                for at, change in enumerate(batch):
                    if change.op == "erase":
                        self.apply(batch[start:at], attrs)
                        self._forget_erased(store, change.seq)
                        start = at + 1
                self.apply(batch[start:], attrs)
                applied += len(batch)

    def _forget_erased(self, store: Store, seq: int) -> None:
        """Apply the erasure entry ``seq``, which names no one (see :mod:`graph.store`).

        People the store no longer has are dropped with their edges. People written
        after the erasure (one may be the erased person created again) are re-read: their
        edges become the store's, and the entries after ``seq`` replay onto that.
        """
        if seq <= self.seq:
            return
        graph = self.graph
        versions = store.person_versions()
        held = [n for n, kind in graph.nodes(data="kind") if kind == "person"]
        renewed = [n for n in held if versions.get(n, seq) > seq]
        attrs = _node_attrs(store, renewed)
        for node in held:
            if node not in versions or node in renewed:
                graph.remove_node(node)
        for node in renewed:
            if node in attrs:
                graph.add_node(node, **attrs[node])
        for node in renewed:
            for edge in store.edges_of(node) if node in attrs else ():
                if graph.has_node(edge.source) and graph.has_node(edge.target):
                    graph.add_edge(edge.source, edge.target, key=edge.kind)
        self.seq = seq

    def apply(self, changes: list[Change], attrs: dict[str, dict[str, Any]]) -> None:
        """Apply change-log entries in order (idempotent for entries already applied).

        ``attrs`` holds the current attributes of the upserted nodes (a node deleted
        since has none and is skipped; its deletion follows in the log).
        """
        graph = self.graph
        for change in changes:
            if change.seq <= self.seq:
                continue
            if change.entity == "node":
                if change.op == "upsert":
                    if change.ref in attrs:
                        graph.add_node(change.ref, **attrs[change.ref])
                elif graph.has_node(change.ref):
                    graph.remove_node(change.ref)
            else:
                source, kind, target = split_edge_ref(change.ref)
                if change.op == "upsert":
                    if graph.has_node(source) and graph.has_node(target):
                        graph.add_edge(source, target, key=kind)
                elif graph.has_edge(source, target, key=kind):
                    graph.remove_edge(source, target, key=kind)
            self.seq = change.seq


_ATTRIBUTES = ("kind", "visibility", "discoverable", "locality", "country", "lat", "lon", "active")
_COLUMNS = [schema.nodes.c[name] for name in ("id", *_ATTRIBUTES)]


def _attrs(row: Row[Any]) -> dict[str, Any]:
    attrs = dict(row._mapping)
    del attrs["id"]
    return attrs


def _node_attrs(store: Store, ids: list[str]) -> dict[str, dict[str, Any]]:
    n = schema.nodes
    found: dict[str, dict[str, Any]] = {}
    with store.engine.connect() as conn:
        for start in range(0, len(ids), 500):
            query = select(*_COLUMNS).where(n.c.id.in_(ids[start : start + 500]))
            found.update((row.id, _attrs(row)) for row in conn.execute(query))
    return found


def _load(store: Store, graph: nx.MultiDiGraph) -> int:
    """Fill ``graph`` with every node and edge; the change-log sequence number they reflect."""
    with store.engine.connect() as conn, conn.begin():
        # One read transaction: the tables and the sequence number agree.
        seq = int(
            conn.execute(
                select(schema.changes.c.seq).order_by(schema.changes.c.seq.desc()).limit(1)
            ).scalar()
            or 0
        )
        nodes = conn.execute(select(*_COLUMNS))
        graph.add_nodes_from((row.id, _attrs(row)) for row in nodes)
        t = schema.edges
        edges = conn.execute(select(t.c.source, t.c.target, t.c.kind))
        # (source, target, key, data): a 3-tuple would be read as (source, target, data)
        # first, costing a caught exception per edge before its key is understood.
        graph.add_edges_from((row[0], row[1], row[2], {}) for row in edges)
    return seq
