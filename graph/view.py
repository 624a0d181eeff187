"""The networkx view of the store, kept in step with it through the change log.

The view holds structure only: every node with its ``kind``, ``visibility`` and
``discoverable``, ``locality``, ``country`` and public ``lat``/``lon`` (what privacy
rules and filters need while walking the graph), every edge
keyed by its kind in a :class:`networkx.MultiDiGraph`. Fields live in the store. It is a
projection of the change feed (:mod:`graph.feed`): after a write the follower applies the
new change-log entries to it (no full rebuild), while no request reads it.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
from sqlalchemy import select

from graph import code_stamp, schema
from graph.compact import ATTRIBUTES as _ATTRIBUTES
from graph.compact import CODED, CompactGraph
from graph.compact_files import GraphFiles
from graph.errors import SavedByOtherCode
from graph.feed import ChangeBatch
from graph.model import Node
from graph.store import WRITES, Change, Store, node_columns, split_edge_ref

log = logging.getLogger(__name__)

EdgeKey = tuple[str, str, str]
"""(source, kind, target)."""


REWRITE_SHARE = 10
"""A compact view asks for new files once its delta holds more than one entry in this many
edges (at least :data:`REWRITE_MIN`)."""
REWRITE_MIN = 50_000
STATE_FORMAT = 1
"""The form of :meth:`GraphView.state`; a saved state of another form, or saved by
another version of the code (:func:`graph.code_stamp`), is not read."""


@dataclass(frozen=True, slots=True)
class _Prepared:
    attrs: dict[str, dict[str, Any]]
    renewed: dict[str, list[EdgeKey]]
    swap: tuple[str, CompactGraph] | None = None  # newer files, replayed up to the view's seq


class GraphView:
    """A networkx graph derived from a :class:`Store`; ``seq`` is the last change applied.

    The graph is a plain :class:`networkx.MultiDiGraph` (:meth:`from_store`) or a
    :class:`~graph.compact.CompactGraph` over memory-mapped files every worker shares
    (:meth:`open_compact`); both are read the same way.
    """

    def __init__(
        self,
        graph: nx.MultiDiGraph | None = None,
        *,
        seq: int = 0,
        store: Store | None = None,
        files: GraphFiles | None = None,
        version: str | None = None,
    ) -> None:
        self.graph: nx.MultiDiGraph = graph if graph is not None else nx.MultiDiGraph()
        self.seq = seq
        self.store = store  # read while preparing an erasure
        self.files = files
        self.version = version
        self._rewriting: threading.Thread | None = None
        self._rewrite_at = 0  # the seq the files must reach (an erasure's, or the delta's)

    @classmethod
    def open_compact(cls, store: Store, folder: Path) -> GraphView:
        """The compact view over the files in ``folder`` (written first if need be), brought
        up to the store's newest change."""
        files = GraphFiles(folder)
        arrays = files.open(store)
        graph = CompactGraph(arrays)
        replay(graph, store, arrays.seq, store.last_seq())
        view = cls(graph, seq=store.last_seq(), store=store, files=files, version=files.current())
        log.info(
            "compact graph view: %d nodes, %d edges (files at %d, replayed to %d)",
            graph.number_of_nodes(), graph.number_of_edges(), arrays.seq, view.seq,
        )  # fmt: skip
        return view

    @classmethod
    def from_store(cls, store: Store) -> GraphView:
        """Build the whole view from the store's tables (used at start), the cyclic
        garbage collector paused (:func:`collection_paused`)."""
        graph = nx.MultiDiGraph()
        with collection_paused():
            seq, edges = _load(store, graph)
        log.info("graph view: %d nodes, %d edges", graph.number_of_nodes(), edges)
        return cls(graph, seq=seq, store=store)

    def state(self) -> tuple[Any, ...]:
        """What :meth:`from_state` makes this view again from (the networkx view only):
        its nodes' attributes and its adjacency, whose pickle shares what the graph
        shares (each pair's dict of edge keys between successors and predecessors, the
        node ids and coded texts). At 100,000 people it loads in a fraction of the time
        of reading the store's million edges."""
        if isinstance(self.graph, CompactGraph):
            raise TypeError("the compact view is saved as its own files")
        graph = self.graph
        return ((STATE_FORMAT, code_stamp()), self.seq, graph._node, graph._succ, graph._pred)

    @classmethod
    def from_state(cls, state: tuple[Any, ...], store: Store) -> GraphView:
        """The view :meth:`state` describes (at its ``seq``), over ``store``."""
        SavedByOtherCode.check("graph view", state, (STATE_FORMAT, code_stamp()))
        _, seq, nodes, succ, pred = state
        if not (isinstance(nodes, dict) and nodes.keys() == succ.keys() == pred.keys()):
            raise ValueError("a graph view state whose nodes and adjacency disagree")
        graph = nx.MultiDiGraph()
        graph._node, graph._succ, graph._pred = nodes, succ, pred  # (_succ sets _adj too)
        return cls(graph, seq=seq, store=store)

    # -- a projection of the change feed (graph.feed) ---------------------------

    def prepare(self, batch: ChangeBatch) -> _Prepared:
        """The attributes of the batch's nodes as they are now; with an erasure, the edges
        of the people written since it (see :meth:`_erase`)."""
        attrs = {node_id: node_attributes(node) for node_id, node in batch.nodes.items()}
        swap = self._newer_files()
        renewed: dict[str, list[EdgeKey]] = {}
        if batch.people is not None and batch.erasures and self.store is not None:
            first = min(batch.erasures)
            people = batch.people
            for node, kind in self.graph.nodes(data="kind"):
                if kind == "person" and people.get(node, first) > first:
                    renewed[node] = [e.key for e in self.store.edges_of(node)]
        return _Prepared(attrs, renewed, swap)

    def apply(self, batch: ChangeBatch, prepared: _Prepared) -> None:
        if prepared.swap is not None:
            self.version, self.graph = prepared.swap
        start = 0
        for at, change in enumerate(batch.changes):
            if change.op == "erase" and batch.people is not None:
                self.apply_changes(list(batch.changes[start:at]), prepared.attrs)
                self._erase(change.seq, batch.people, prepared.renewed)
                start = at + 1
        self.apply_changes(list(batch.changes[start:]), prepared.attrs)
        if isinstance(self.graph, CompactGraph):
            if batch.erasures:
                self._rewrite(max(batch.erasures))  # no erased person may stay in a file
            elif self.graph.delta_size > max(REWRITE_MIN, self.graph.arrays.edges // REWRITE_SHARE):
                self._rewrite(self.seq)

    # -- the compact view's files ---------------------------------------------------

    def _newer_files(self) -> tuple[str, CompactGraph] | None:
        """Files newer than the view's, replayed up to its seq; None if there are none yet
        (or they are ahead of it: they are taken once the view has caught up)."""
        if self.files is None or self.store is None:
            return None
        name = self.files.current()
        if name is None or name == self.version:
            return None
        try:
            arrays = self.files.load(name)
        except FileNotFoundError:  # replaced by a newer version meanwhile: the next batch
            return None
        if arrays is None or arrays.seq > self.seq:
            return None
        graph = CompactGraph(arrays)
        replay(graph, self.store, arrays.seq, self.seq)
        return name, graph

    def _rewrite(self, at_least: int) -> None:
        """Write new files in the background (one process writes; the others take them at
        their next batch)."""
        self._rewrite_at = max(self._rewrite_at, at_least)
        if self._rewriting is not None and self._rewriting.is_alive():
            return
        files, store = self.files, self.store
        if files is None or store is None:
            return

        def run() -> None:
            try:
                files.refresh(store, at_least=self._rewrite_at)
            except Exception:
                log.exception("graph files: writing a new version failed")

        self._rewriting = threading.Thread(target=run, name="cocreate-graph-files", daemon=True)
        self._rewriting.start()

    def wait_for_files(self, timeout: float | None = None) -> bool:
        """Wait for a background write of new files to end (tests, shutdown); whether none
        is running now."""
        if self._rewriting is not None:
            self._rewriting.join(timeout)
            return not self._rewriting.is_alive()
        return True

    def _erase(
        self, seq: int, people: Mapping[str, int], renewed: Mapping[str, list[EdgeKey]]
    ) -> None:
        """Apply an erasure entry, which names no one (see :mod:`graph.store`).

        People the store no longer has go, with their edges. A person written since may be
        the erased one created again, whose edges from before were deleted without an
        entry: the edges of everyone written since are set to the store's.
        """
        if seq <= self.seq:
            return
        graph = self.graph
        held = [n for n, kind in graph.nodes(data="kind") if kind == "person"]
        graph.remove_nodes_from([n for n in held if n not in people])
        for node, edges in renewed.items():
            if node not in graph:
                continue
            stale = [(s, t, k) for s, t, k in graph.out_edges(node, keys=True)]
            stale += [(s, t, k) for s, t, k in graph.in_edges(node, keys=True)]
            graph.remove_edges_from(stale)
            graph.add_edges_from((s, t, k, {}) for s, k, t in edges if s in graph and t in graph)
        self.seq = seq

    def apply_changes(self, changes: list[Change], attrs: dict[str, dict[str, Any]]) -> None:
        """Apply change-log entries in order (idempotent for entries already applied).

        ``attrs`` holds the current attributes of the upserted nodes (a node deleted
        since has none and is skipped; its deletion follows in the log).
        """
        graph = self.graph
        for change in changes:
            if change.seq <= self.seq:
                continue
            if change.entity == "node":
                if change.op in WRITES:
                    if change.ref in attrs:
                        graph.add_node(change.ref, **attrs[change.ref])
                elif graph.has_node(change.ref):
                    graph.remove_node(change.ref)
            else:
                source, kind, target = split_edge_ref(change.ref)
                if change.op in WRITES:
                    if graph.has_node(source) and graph.has_node(target):
                        graph.add_edge(source, target, key=kind)
                elif graph.has_edge(source, target, key=kind):
                    graph.remove_edge(source, target, key=kind)
            self.seq = change.seq


def replay(graph: nx.MultiDiGraph, store: Store, since: int, until: int) -> None:
    """Apply the change-log entries after ``since`` up to ``until`` to ``graph``."""
    view = GraphView(graph, seq=since, store=store)
    while view.seq < until:
        batch = ChangeBatch.read(store, view.seq, limit=2_000)
        if batch is None:
            break
        changes = tuple(c for c in batch.changes if c.seq <= until)
        if not changes:
            break
        # The people the store has are only needed by (and only read with) an erasure:
        # one past ``until`` is left to the next batch with them.
        erasing = any(c.op == "erase" for c in changes)
        part = ChangeBatch(changes, batch.nodes, batch.people if erasing else None)
        view.apply(part, view.prepare(part))
        view.seq = max(view.seq, changes[-1].seq)


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while loading what a process keeps.

    Millions of new objects (a million edge dicts at 100,000 people, the profiles) would
    otherwise trigger full collections over and over, none of which frees anything: they
    took a third of the time of loading the profiles. Nested uses pause it once.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


_COLUMNS = [schema.nodes.c[name] for name in ("id", *_ATTRIBUTES)]


def node_attributes(node: Node) -> dict[str, Any]:
    """What the view keeps of a node: the same values as the store's filter columns."""
    return {"kind": node.kind, **node_columns(node)}


def _load(store: Store, graph: nx.MultiDiGraph) -> tuple[int, int]:
    """Fill ``graph`` with every node and edge; the change-log sequence number they reflect,
    and the number of edges (counting them in the graph takes a second at a million)."""
    with store.snapshot() as conn:
        # One snapshot: the tables and the sequence number agree.
        seq = int(
            conn.execute(
                select(schema.changes.c.seq).order_by(schema.changes.c.seq.desc()).limit(1)
            ).scalar()
            or 0
        )
        _add_nodes(graph, conn.execute(select(*_COLUMNS)))  # (typed: booleans, floats)
        t = schema.edges  # three plain strings a row, a million rows: read without SQLAlchemy
        with store.raw_rows(conn, select(t.c.source, t.c.target, t.c.kind)) as rows:
            edges = _add_edges(graph, rows)
    return seq, edges


def _add_nodes(graph: nx.MultiDiGraph, rows: Iterable[Sequence[Any]]) -> None:
    """Add (id, *attributes) rows as nodes with those attributes, as ``add_nodes_from``
    does, written straight into the graph (a quarter of its time). The texts of the coded
    columns (kind, visibility, locality, country) are one string per value, not a copy per
    node read."""
    node, succ, pred = graph._node, graph._succ, graph._pred
    shared: dict[str, str] = {}
    for row in rows:
        attrs = dict(zip(_ATTRIBUTES, row[1:], strict=True))
        for name in CODED:
            value = attrs[name]
            if value is not None:
                attrs[name] = shared.setdefault(value, value)
        node_id = row[0]
        node[node_id] = attrs
        succ[node_id] = {}
        pred[node_id] = {}


def _add_edges(graph: nx.MultiDiGraph, edges: Iterable[Sequence[str]]) -> int:
    """Add (source, target, kind) rows as edges keyed by their kind, without attributes;
    how many rows there were.

    What ``add_edges_from`` does, written straight into the graph's adjacency (its
    ``_succ`` and ``_pred``, which share each pair's dict of keys): without its checks of
    each edge's form and nodes this takes half the time for a million edges. The ends
    and kinds kept are the graph's own strings, not a copy per edge read (about 60 bytes
    each, two million of them at 100,000 people).
    """
    succ, pred = graph._succ, graph._pred
    ids = {node: node for node in succ}
    kinds: dict[str, str] = {}
    count = 0
    for source, target, kind in edges:
        count += 1
        u, v = ids.get(source), ids.get(target)
        if u is None or v is None:  # an end not among the nodes read: as add_edge does
            graph.add_edge(source, target, kind)
            continue
        kind = kinds.setdefault(kind, kind)
        out = succ[u]
        keyed = out.get(v)
        if keyed is None:
            keyed = out[v] = pred[v][u] = {}
        keyed[kind] = {}
    return count
