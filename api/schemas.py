"""Response schemas of the HTTP API (requests use the domain models directly)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from graph.edges import Edge
from graph.model import Node


class NodePage(BaseModel):
    """A page of nodes, with the number of all nodes that pass the filters."""

    items: list[Node]
    total: int = Field(description="Nodes passing the filters, over all pages")
    total_is_estimate: bool = Field(
        default=False,
        description="True when `total` is above 1,000 and may be a count made up to a "
        "minute ago, while the network changes: say 'about' it",
    )
    limit: int
    offset: int
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page")


class EdgePage(BaseModel):
    items: list[Edge]
    total: int
    limit: int
    offset: int


class Joining(BaseModel):
    """A stored edge, as its two ends and kind."""

    source: str
    kind: str
    target: str


class Neighbor(BaseModel):
    distance: int = Field(ge=1)
    node: Node
    links: int | None = Field(
        None, description="With order=links: how many nodes the caller may find it linked to"
    )
    edges: list[Joining] | None = Field(
        None, description="With order=links, at distance 1: the edges joining it to the node"
    )


class Neighborhood(BaseModel):
    """The nodes within `depth` hops of a node that the caller may see."""

    node: str
    depth: int
    items: list[Neighbor]
    total: int
    limit: int
    offset: int


class PathStep(BaseModel):
    source: str
    kind: str
    target: str
    forward: bool = Field(description="True when the stored edge points from source to target")


class PathOut(BaseModel):
    """A shortest path through nodes the caller may see."""

    source: str
    target: str
    length: int
    steps: list[PathStep]
    nodes: list[Node]


class Health(BaseModel):
    status: str


class IndexingProgress(BaseModel):
    done: int = Field(description="Texts whose vectors are in the search index")
    total: int = Field(description="Texts whose vectors were being computed")


class Ready(BaseModel):
    status: str
    seq: int = Field(description="The last change of the store this process reflects")
    indexing: IndexingProgress | None = Field(
        default=None,
        description="While the search index's vectors are computed in the background "
        "(searches are then partial); absent once they are all in",
    )


class GraphState(BaseModel):
    nodes: int
    edges: int
    node_digest: str | None = Field(
        description="sha256 of the sorted node ids, one per line (null with `digests=false`)"
    )
    edge_digest: str | None = Field(
        description="sha256 of the sorted edge keys `source|kind|target`, one per line "
        "(null with `digests=false`)"
    )


class IndexState(BaseModel):
    items: int = Field(description="Indexed texts")
    vectors: int
    lexical: int = Field(description="Documents in the keyword (BM25) index")
    watermark: int = Field(description="The last change-log entry the index reflects")
    digest: str | None = Field(
        description="sha256 of the sorted ids holding a vector, one per line (null with "
        "`digests=false`)"
    )


class WarmState(BaseModel):
    seq: int = Field(description="The last version whose per-version structures are built")
    runs: int = Field(description="Warm-ups done since the start")
    once: bool = Field(description="Whether the once-per-process ones (tagger, model) are")
    seconds: dict[str, float] = Field(description="How long each part of the last took")


class WorkerState(BaseModel):
    """What the answering worker process holds, to compare with the store."""

    pid: int = Field(description="The worker's process id")
    seq: int = Field(description="The last change-log entry the graph view reflects")
    follows: Literal["store", "standby"] = Field(
        default="store",
        description="Where the graph view and the indexes are loaded from and follow the "
        "change log: the store itself, or its standby (COCREATE_READ_DATABASE_URL)",
    )
    graph: GraphState
    index: IndexState
    frozen_objects: int = Field(
        default=0,
        description="Objects the worker loaded at start and keeps out of the garbage "
        "collector's full collections (the graph view, the index, the profiles): 0 in a "
        "process that was given its services rather than opening them",
    )
    threads: dict[str, int] = Field(
        default_factory=dict,
        description="The most threads the worker's numerical libraries may use: `blas` "
        "(numpy's products) 1, as the worker's requests share the cores with each other "
        "and with the other workers; `openmp` (faiss's: GNU OpenMP's limit is per "
        "thread, so this is the one of the thread that answers)",
    )
    malloc_arenas: int | None = Field(
        default=None,
        description="The C library's malloc arenas the worker has (at most "
        "`MALLOC_ARENA_MAX`, 2 unless set, in a worker of `cocreate serve`); null where the "
        "C library cannot say",
    )
    warmed: WarmState | None = Field(
        default=None,
        description="What the background warm-up built (null when it does not run)",
    )


class AuditEntry(BaseModel):
    id: int
    at: float
    key_id: str | None
    role: str
    action: str
    ref: str
    first_seq: int | None
    last_seq: int | None


class AuditPage(BaseModel):
    items: list[AuditEntry]


class Problem(BaseModel):
    """The shape of every error response (RFC 9457 problem details)."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] = Field(
        description="One entry per offending field: {field, reason}"
    )


PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": title}
    for status, title in [
        (400, "Bad request"), (401, "Unauthorized"), (403, "Forbidden"), (404, "Not found"),
        (413, "Payload too large"), (422, "Invalid input"), (429, "Too many requests"),
    ]
}  # fmt: skip
