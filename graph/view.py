"""The networkx view of the store, kept in step with it through the change log.

The view holds structure only: every node with its ``kind``, every edge keyed by
its kind in a :class:`networkx.MultiDiGraph`. Fields live in the store. After a
write the view applies the new change-log entries (no full rebuild); a view in
another process, or one that missed writes, catches up the same way.
"""

from __future__ import annotations

import logging
import threading

import networkx as nx
from sqlalchemy import select

from graph import schema
from graph.ids import kind_of
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
        """Build the whole view from the store's tables (used at start)."""
        graph = nx.MultiDiGraph()
        with store.engine.connect() as conn, conn.begin():
            # One read transaction: the tables and the sequence number agree.
            seq = int(
                conn.execute(
                    select(schema.changes.c.seq).order_by(schema.changes.c.seq.desc()).limit(1)
                ).scalar()
                or 0
            )
            nodes = conn.execute(select(schema.nodes.c.id, schema.nodes.c.kind))
            graph.add_nodes_from((row.id, {"kind": row.kind}) for row in nodes)
            t = schema.edges
            edges = conn.execute(select(t.c.source, t.c.kind, t.c.target))
            graph.add_edges_from((row.source, row.target, row.kind) for row in edges)
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
                self.apply(batch)
                applied += len(batch)

    def apply(self, changes: list[Change]) -> None:
        """Apply change-log entries in order (idempotent for entries already applied)."""
        graph = self.graph
        for change in changes:
            if change.seq <= self.seq:
                continue
            if change.entity == "node":
                if change.op == "upsert":
                    graph.add_node(change.ref, kind=kind_of(change.ref))
                elif graph.has_node(change.ref):
                    graph.remove_node(change.ref)
            else:
                source, kind, target = split_edge_ref(change.ref)
                if change.op == "upsert":
                    for node in (source, target):
                        if not graph.has_node(node):
                            graph.add_node(node, kind=kind_of(node))
                    graph.add_edge(source, target, key=kind)
                elif graph.has_edge(source, target, key=kind):
                    graph.remove_edge(source, target, key=kind)
            self.seq = change.seq
