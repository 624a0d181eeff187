"""The graph view held as compact arrays shared by every worker, with a small delta.

A :class:`CompactGraph` is a :class:`networkx.MultiDiGraph` whose adjacency and node
attributes are not dicts of dicts but read from :class:`Arrays`: node ids sorted and
interned to their position, edges in CSR form (offsets, neighbours, edge kind codes) for
both directions, node attributes in columns. The arrays come from files memory-mapped
read-only (:mod:`graph.compact_files`), so every worker reads the same pages of the
page cache and memory grows with the network, not with the number of workers.

Writes since the files were made live in a per-worker *delta*: the attributes of the nodes
added or changed (None for a node removed) and the adjacency rows an edit touched, copied
out as dicts the first time (``_rows_out`` / ``_rows_in``). A row no edit touched is read
from the arrays. Every reader of the view goes through ``_node``, ``_succ``, ``_pred``
and ``_adj`` (directly or through networkx's own views), which are mappings over both, so
the code written for a networkx graph reads this one unchanged. Algorithms that need a
real networkx graph take :meth:`CompactGraph.subgraph_nx`.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt

ATTRIBUTES = ("kind", "visibility", "discoverable", "locality", "country", "lat", "lon", "active")
CODED = ("kind", "visibility", "locality", "country")
"""Text columns, stored as codes into a vocabulary whose entry 0 is None."""
FLAGS = ("discoverable", "active")
"""Boolean columns, stored as -1 (None), 0 or 1."""
NUMBERS = ("lat", "lon")
"""Float columns, NaN for None."""

Row = dict[str, dict[str, dict[str, Any]]]
"""An adjacency row as networkx holds it: neighbour -> edge kind -> edge data (empty)."""


@dataclass(frozen=True)
class Arrays:
    """The compact form of one version of the graph (see the module docstring)."""

    seq: int
    ids: npt.NDArray[np.bytes_]  # sorted; a node's position is its number
    columns: Mapping[str, npt.NDArray[Any]]  # one per ATTRIBUTES name
    vocab: Mapping[str, list[str | None]]  # per CODED name, and "edge" for edge kinds
    out_offsets: npt.NDArray[np.int64]
    out_targets: npt.NDArray[np.int32]  # per row sorted by target, then kind
    out_kinds: npt.NDArray[np.uint8]
    in_offsets: npt.NDArray[np.int64]
    in_sources: npt.NDArray[np.int32]
    in_kinds: npt.NDArray[np.uint8]
    out_distinct: npt.NDArray[np.int32]  # distinct neighbours per row
    in_distinct: npt.NDArray[np.int32]
    _names: list[str] = field(init=False, repr=False, compare=False)
    _numbers: dict[str, int] = field(init=False, repr=False, compare=False)
    _kinds: list[str] = field(init=False, repr=False, compare=False)
    _readers: list[tuple[str, Any, list[str | None] | None]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # The ids as Python strings, and each one's number: a lookup in a dict holds the
        # interpreter lock throughout, where a search in the sorted array gave it up (to a
        # warmer rebuilding, under writes) several times for every neighbour a request
        # read. About 110 bytes a node in each process that reads the view.
        names = [b.decode() for b in self.ids.tolist()]
        object.__setattr__(self, "_names", names)
        object.__setattr__(self, "_numbers", {name: at for at, name in enumerate(names)})
        readers = [(name, self.columns[name], self.vocab.get(name)) for name in ATTRIBUTES]
        object.__setattr__(self, "_readers", readers)
        # Each node's kind, the attribute read most (for every neighbour of every
        # candidate of a recommendation): a list of references to a few strings.
        kinds = self.vocab["kind"]
        object.__setattr__(self, "_kinds", [kinds[c] for c in self.columns["kind"].tolist()])

    @property
    def nodes(self) -> int:
        return len(self.ids)

    @property
    def edges(self) -> int:
        return len(self.out_targets)

    def number(self, node: object) -> int:
        """The position of ``node`` among the ids; -1 if it is not one of them."""
        return self._numbers.get(node, -1) if isinstance(node, str) else -1

    def name(self, number: int) -> str:
        return self._names[number]

    def names(self, numbers: npt.NDArray[Any]) -> list[str]:
        names = self._names
        return [names[at] for at in numbers.tolist()]

    def attrs(self, number: int) -> dict[str, Any]:
        """A node's attributes as the networkx view holds them (same keys and types)."""
        return {name: _value(column, words, number) for name, column, words in self._readers}

    def row(self, number: int, *, out: bool) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.uint8]]:
        offsets = self.out_offsets if out else self.in_offsets
        ends = self.out_targets if out else self.in_sources
        kinds = self.out_kinds if out else self.in_kinds
        lo, hi = offsets.item(number), offsets.item(number + 1)
        return ends[lo:hi], kinds[lo:hi]


def _value(column: npt.NDArray[Any], words: list[str | None] | None, number: int) -> Any:
    """One node's value in an attribute's column, as the networkx view holds it."""
    value = column.item(number)
    if words is not None:
        return words[value]
    if isinstance(value, float):
        return None if math.isnan(value) else value
    return None if value < 0 else bool(value)


class _ArrayRow(Mapping[str, dict[str, dict[str, Any]]]):
    """One node's adjacency row read from the arrays (no edit touched it)."""

    __slots__ = ("_arrays", "_ends", "_kinds", "_len", "_sorted")

    def __init__(self, arrays: Arrays, number: int, *, out: bool) -> None:
        self._arrays = arrays
        self._ends, self._kinds = arrays.row(number, out=out)
        self._len: int = (arrays.out_distinct if out else arrays.in_distinct).item(number)
        self._sorted: list[int] | None = None

    def _numbers(self) -> list[int]:
        """The row's ends as a Python list, searched with :mod:`bisect`: numpy's search
        gives up the interpreter lock, and a request asking whether each neighbour of a
        candidate is also linked the other way waited on other threads at every one."""
        if self._sorted is None:
            self._sorted = self._ends.tolist()
        return self._sorted

    def _distinct(self) -> npt.NDArray[np.int32]:
        ends = self._ends
        if len(ends) == self._len:
            return ends
        return ends[np.concatenate(([True], ends[1:] != ends[:-1]))]

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[str]:
        return iter(self._arrays.names(self._distinct()))

    def __contains__(self, other: object) -> bool:
        number = self._arrays.number(other)
        if number < 0:
            return False
        ends = self._numbers()
        at = bisect_left(ends, number)
        return at < len(ends) and ends[at] == number

    def _keys(self, other: object) -> dict[str, dict[str, Any]] | None:
        """The edges to ``other`` by kind, or None."""
        number = self._arrays.number(other)
        if number >= 0:
            ends = self._numbers()
            lo = bisect_left(ends, number)
            if lo < len(ends) and ends[lo] == number:
                hi = bisect_right(ends, number, lo)
                edge = self._arrays.vocab["edge"]
                return {str(edge[k]): {} for k in self._kinds[lo:hi].tolist()}
        return None

    def __getitem__(self, other: str) -> dict[str, dict[str, Any]]:
        found = self._keys(other)
        if found is None:
            raise KeyError(other)
        return found

    def get(self, other: str, default: Any = None) -> Any:
        # (Mapping's own get goes through a KeyError for every node not in the row.)
        found = self._keys(other)
        return default if found is None else found

    def items(self) -> list[tuple[str, dict[str, dict[str, Any]]]]:  # type: ignore[override]
        edge = self._arrays.vocab["edge"]
        found: list[tuple[str, dict[str, dict[str, Any]]]] = []
        names = self._arrays.names(self._ends)
        last = None
        for name, kind in zip(names, self._kinds.tolist(), strict=True):
            if name != last:
                keys: dict[str, dict[str, Any]] = {}
                found.append((name, keys))
                last = name
            keys[str(edge[kind])] = {}
        return found

    def materialise(self) -> Row:
        return dict(self.items())


class _Nodes(Mapping[str, dict[str, Any]]):
    """``_node``: every node's attributes, from the delta or the arrays."""

    def __init__(self, graph: CompactGraph) -> None:
        self._graph = graph

    def _find(self, node: str) -> dict[str, Any] | int:
        """The node's attributes from the delta, or its number in the arrays."""
        graph = self._graph
        changed = graph._changed
        if node in changed:
            found = changed[node]
            if found is None:
                raise KeyError(node)
            return found
        number = graph._arrays.number(node)
        if number < 0:
            raise KeyError(node)
        return number

    def __getitem__(self, node: str) -> dict[str, Any]:
        found = self._find(node)
        return self._graph._arrays.attrs(found) if isinstance(found, int) else found

    def __contains__(self, node: object) -> bool:
        changed = self._graph._changed
        if node in changed:
            return changed[node] is not None
        return self._graph._arrays.number(node) >= 0

    def __len__(self) -> int:
        return self._graph._node_count

    def __iter__(self) -> Iterator[str]:
        graph = self._graph
        changed = graph._changed
        arrays = graph._arrays
        chunk = 65_536
        for start in range(0, arrays.nodes, chunk):
            for name in arrays.names(np.arange(start, min(arrays.nodes, start + chunk))):
                if name not in changed:
                    yield name
        for name, attrs in list(changed.items()):
            if attrs is not None:
                yield name

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:  # type: ignore[override]
        for name in self:
            yield name, self[name]


class _Adjacency(Mapping[str, Mapping[str, dict[str, dict[str, Any]]]]):
    """``_succ`` / ``_pred``: a node's row from the delta if an edit touched it, else the arrays."""

    def __init__(self, graph: CompactGraph, *, out: bool) -> None:
        self._graph = graph
        self._out = out

    def __getitem__(self, node: str) -> Mapping[str, dict[str, dict[str, Any]]]:
        graph = self._graph
        if node in graph._changed and graph._changed[node] is None:
            raise KeyError(node)
        rows = graph._rows_out if self._out else graph._rows_in
        found = rows.get(node)
        if found is not None:
            return found
        number = graph._arrays.number(node)
        if number < 0:
            raise KeyError(node)
        return _ArrayRow(graph._arrays, number, out=self._out)

    def __contains__(self, node: object) -> bool:
        return node in self._graph._node

    def __len__(self) -> int:
        return len(self._graph._node)

    def __iter__(self) -> Iterator[str]:
        return iter(self._graph._node)


class CompactGraph(nx.MultiDiGraph):  # type: ignore[misc]
    """A MultiDiGraph read from :class:`Arrays` plus a delta of the edits since (see the
    module docstring). Edges carry no data; their key is their kind."""

    def __init__(self, arrays: Arrays) -> None:
        super().__init__()
        self._arrays = arrays
        self._changed: dict[str, dict[str, Any] | None] = {}
        self._rows_out: dict[str, Row] = {}
        self._rows_in: dict[str, Row] = {}
        self._node_count = arrays.nodes
        self._edge_count = arrays.edges
        self.edits = 0  # entries of the delta written, a measure of its size
        self._node = _Nodes(self)
        self._succ = self._adj = _Adjacency(self, out=True)
        self._pred = _Adjacency(self, out=False)

    @property
    def arrays(self) -> Arrays:
        return self._arrays

    @property
    def delta_size(self) -> int:
        """Rows and nodes the delta holds (a touched hub's row counts its neighbours)."""
        rows = sum(len(r) for r in self._rows_out.values())
        rows += sum(len(r) for r in self._rows_in.values())
        return len(self._changed) + rows

    # -- reading -----------------------------------------------------------------------

    def number_of_edges(self, u: Any = None, v: Any = None) -> int:
        if u is None and v is None:
            return self._edge_count
        return int(super().number_of_edges(u, v))

    def subgraph_nx(self, nodes: Iterable[str]) -> nx.MultiDiGraph:
        """A plain networkx copy of ``nodes`` and the edges among them."""
        wanted = {n for n in nodes if n in self._node}
        copy = nx.MultiDiGraph()
        copy.add_nodes_from((n, dict(self._node[n])) for n in sorted(wanted))
        for node in sorted(wanted):
            for other, keys in self._succ[node].items():
                if other in wanted:
                    copy.add_edges_from((node, other, kind, {}) for kind in keys)
        return copy

    # -- the delta ---------------------------------------------------------------------

    def _row(self, node: str, *, out: bool) -> Row:
        rows = self._rows_out if out else self._rows_in
        found = rows.get(node)
        if found is None:
            base = (self._succ if out else self._pred)[node]
            found = rows[node] = base.materialise() if isinstance(base, _ArrayRow) else {}
        return found

    def add_node(self, node_for_adding: str, **attr: Any) -> None:
        node = node_for_adding
        self.edits += 1
        if node in self._node:
            self._changed[node] = {**self._node[node], **attr}
            return
        self._changed[node] = dict(attr)
        self._rows_out[node], self._rows_in[node] = {}, {}
        self._node_count += 1

    def add_nodes_from(self, nodes_for_adding: Iterable[Any], **attr: Any) -> None:
        for item in nodes_for_adding:
            if isinstance(item, tuple):
                node, data = item
                self.add_node(node, **{**attr, **data})
            else:
                self.add_node(item, **attr)

    def remove_node(self, n: str) -> None:
        if n not in self._node:
            raise nx.NetworkXError(f"The node {n} is not in the graph.")
        self.edits += 1
        for other, keys in list(self._succ[n].items()):
            if other != n:
                self._row(other, out=False).pop(n, None)
            self._edge_count -= len(keys)
        for other, keys in list(self._pred[n].items()):
            if other != n:
                self._row(other, out=True).pop(n, None)
                self._edge_count -= len(keys)
        self._changed[n] = None
        self._rows_out.pop(n, None)
        self._rows_in.pop(n, None)
        self._node_count -= 1

    def remove_nodes_from(self, nodes: Iterable[str]) -> None:
        for node in list(nodes):
            if node in self._node:
                self.remove_node(node)

    def add_edge(
        self, u_for_edge: str, v_for_edge: str, key: str | None = None, **attr: Any
    ) -> str:
        if key is None:
            raise nx.NetworkXError("an edge of the compact graph needs its kind as its key")
        u, v = u_for_edge, v_for_edge
        for node in (u, v):
            if node not in self._node:
                self.add_node(node)
        out = self._row(u, out=True).setdefault(v, {})
        if key not in out:
            out[key] = {}
            self._row(v, out=False).setdefault(u, {})[key] = {}
            self._edge_count += 1
            self.edits += 1
        return key

    def add_edges_from(self, ebunch_to_add: Iterable[tuple[Any, ...]], **attr: Any) -> list[str]:
        return [self.add_edge(e[0], e[1], e[2]) for e in ebunch_to_add]

    def remove_edge(self, u: str, v: str, key: str | None = None) -> None:
        if not self.has_edge(u, v, key) or key is None:
            raise nx.NetworkXError(f"The edge {u}-{v} with key {key} is not in the graph.")
        self.edits += 1
        for row, other in ((self._row(u, out=True), v), (self._row(v, out=False), u)):
            keys = row[other]
            del keys[key]
            if not keys:
                del row[other]
        self._edge_count -= 1

    def remove_edges_from(self, ebunch: Iterable[tuple[Any, ...]]) -> None:
        for edge in list(ebunch):
            if len(edge) >= 3 and self.has_edge(edge[0], edge[1], edge[2]):
                self.remove_edge(edge[0], edge[1], edge[2])


def kind_reader(graph: nx.MultiDiGraph) -> Callable[[str], str]:
    """A node's kind in either graph view (KeyError for a node it does not hold): the
    compact view reads it alone rather than every attribute of the node."""
    nodes = graph._node
    if isinstance(nodes, _Nodes):
        # The delta, then the arrays' list of kinds, looked up inline: this runs for every
        # neighbour of every candidate of a recommendation. A graph keeps its arrays and
        # its delta's dict for its life.
        changed, numbers = nodes._graph._changed, nodes._graph._arrays._numbers
        kinds = nodes._graph._arrays._kinds

        def compact_kind(node: str) -> str:
            if node in changed:
                found = changed[node]
                if found is None:
                    raise KeyError(node)
                return str(found["kind"])
            return kinds[numbers[node]]

        return compact_kind

    def kind(node: str) -> str:
        return str(nodes[node]["kind"])

    return kind


def nodes_where(
    graph: nx.MultiDiGraph, *, kinds: Collection[str], country: str | None = None
) -> set[str]:
    """The nodes whose kind is one of ``kinds`` (and whose country is ``country``, if
    given), in either graph view. The compact view reads its columns at once, then the
    delta: reading each node's attributes, a filter by kind at 100,000 people took about
    0.5 s of the interpreter lock."""
    nodes = graph._node

    def passes(attrs: dict[str, Any]) -> bool:
        return attrs["kind"] in kinds and (country is None or attrs.get("country") == country)

    if not isinstance(nodes, _Nodes):
        return {node for node, attrs in nodes.items() if passes(attrs)}
    changed, arrays = nodes._graph._changed, nodes._graph._arrays
    mask = np.isin(arrays.columns["kind"], _codes(arrays, "kind", kinds))
    if country is not None:
        mask &= np.isin(arrays.columns["country"], _codes(arrays, "country", {country}))
    found = set(arrays.names(np.flatnonzero(mask)))
    found.difference_update(changed)
    found.update(node for node, attrs in changed.items() if attrs is not None and passes(attrs))
    return found


def _codes(arrays: Arrays, name: str, words: Collection[str]) -> list[int]:
    return [code for code, word in enumerate(arrays.vocab[name]) if word in words]


def attribute_reader(graph: nx.MultiDiGraph, name: str) -> Callable[[str], Any]:
    """One attribute of a node (None where it has none) in either graph view, KeyError
    for a node it does not hold: the compact view reads that attribute's column alone
    rather than every attribute of the node."""
    nodes = graph._node
    if isinstance(nodes, _Nodes):
        if name not in ATTRIBUTES:
            raise ValueError(f"the compact view holds no attribute {name!r}")
        changed, arrays = nodes._graph._changed, nodes._graph._arrays
        numbers, column, words = arrays._numbers, arrays.columns[name], arrays.vocab.get(name)

        def compact_attribute(node: str) -> Any:
            if node in changed:
                found = changed[node]
                if found is None:
                    raise KeyError(node)
                return found.get(name)
            return _value(column, words, numbers[node])

        return compact_attribute

    def attribute(node: str) -> Any:
        return nodes[node].get(name)

    return attribute
