"""The FAISS HNSW graph behind the vector index: build, filtered search, read and write.

Labels are the row numbers of the vectors in the order they were added. Inner product
on normalised vectors is the cosine similarity.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from embeddings.errors import MissingDependency
from embeddings.ranking import Vector

Graph = Any
"""A ``faiss.IndexHNSWFlat`` (faiss ships no type information)."""


def faiss_module() -> Any:
    """The faiss module, or a clear error naming the package to install."""
    try:
        import faiss
    except ImportError as exc:
        raise MissingDependency("faiss-cpu", purpose="the HNSW vector index") from exc
    return faiss


def new_graph(dimension: int, *, m: int, ef_construction: int, ef_search: int) -> Graph:
    """An empty inner-product HNSW graph; rows added to it get labels 0, 1, 2, ..."""
    faiss = faiss_module()
    graph = faiss.IndexHNSWFlat(dimension, m, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction = ef_construction
    graph.hnsw.efSearch = ef_search
    return graph


def search_graph(
    graph: Graph,
    query: Vector,
    k: int,
    *,
    ef_search: int,
    allowed: npt.NDArray[np.bool_] | None = None,
) -> list[tuple[int, float]]:
    """Up to k (label, score) pairs, best first, among labels where ``allowed`` is true.

    The filter runs inside the graph walk (a FAISS ``IDSelectorBitmap``), so it can
    return fewer than k when few labels pass.
    """
    faiss = faiss_module()
    params = faiss.SearchParametersHNSW(efSearch=max(ef_search, k))
    if allowed is not None:
        bits = np.packbits(allowed, bitorder="little")  # must outlive the search below
        params.sel = faiss.IDSelectorBitmap(allowed.size, faiss.swig_ptr(bits))
    scores, labels = graph.search(query[None, :].astype(np.float32), k, params=params)
    return [
        (int(label), float(score))
        for score, label in zip(scores[0], labels[0], strict=True)
        if label >= 0
    ]


def zero_vectors(graph: Graph, labels: npt.NDArray[np.int64]) -> None:
    """Overwrite the graph's own copy of these vectors with zeros (the links stay)."""
    faiss = faiss_module()
    storage = faiss.downcast_index(graph.storage)
    flat = faiss.rev_swig_ptr(storage.get_xb(), storage.ntotal * storage.d)
    flat.reshape(storage.ntotal, storage.d)[labels] = 0.0


def graph_vector(graph: Graph, label: int) -> Vector:
    """The graph's own copy of one vector."""
    out: Vector = graph.reconstruct(int(label))
    return out


def write_graph(graph: Graph, path: Path) -> None:
    """Write the graph (with its own copy of the vectors) to one file."""
    faiss_module().write_index(graph, str(path))


def read_graph(path: Path) -> Graph:
    """Read a graph written by :func:`write_graph` into memory."""
    return faiss_module().read_index(str(path))


def map_graph(path: Path) -> tuple[Graph, bool]:
    """The graph of this file memory-mapped read-only, and whether it is.

    With FAISS's ``IO_FLAG_MMAP_IFC`` (1.11 and later) the graph's links and its copy of
    the vectors are used in place in the mapped file, shared by every process mapping it.
    Such a graph must never grow (FAISS aborts the process) nor be changed: the caller
    searches the rows past it exactly, and works on an :func:`owned_copy` to change it.
    Where the flag is missing the graph is read into memory (False).
    """
    faiss = faiss_module()
    flag = getattr(faiss, "IO_FLAG_MMAP_IFC", None)
    if flag is None:
        return faiss.read_index(str(path)), False
    return faiss.read_index(str(path), flag), True


def owned_copy(graph: Graph) -> Graph:
    """A copy of the graph held in memory (of a mapped one: writable, and able to grow)."""
    faiss = faiss_module()
    return faiss.deserialize_index(faiss.serialize_index(graph))
