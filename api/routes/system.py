"""Liveness, readiness, metrics, statistics and the audit log."""

from __future__ import annotations

import gc
import hashlib
import os
from collections.abc import Callable, Iterable
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.auth import Role, read_audit
from api.deps import CallerDep, ReadVersion, ServicesDep
from api.permissions import require
from api.schemas import PROBLEMS, AuditPage, Health, Ready, WorkerState
from api.serving import malloc_arenas
from embeddings.threads import thread_limits
from graph.counts import CountAudience
from graph.store import edge_ref

router = APIRouter(tags=["system"])

Counts = dict[str, dict[str, int]]


@router.get("/health", response_model=Health, summary="Alive")
def health() -> JSONResponse:
    """The process answers."""
    return JSONResponse({"status": "ok"})


@router.get(
    "/ready",
    dependencies=[ReadVersion],
    response_model=Ready,
    summary="Ready",
    responses={503: PROBLEMS[404]},
)
def ready(services: ServicesDep) -> JSONResponse:
    """The store is open and the graph view is loaded; `seq` is the change it reflects;
    `indexing` tells how far the search index's vectors are while they are computed.

    A probe asks nobody who calls, so it tells no counts (they would count hidden
    people): those are at `GET /v1/stats`, as the caller may see them."""
    found: dict[str, object] = {"status": "ready", "seq": services.view.seq}
    progress = services.search.index.progress
    if progress is not None:  # serving while the vectors are computed in the background
        found["indexing"] = progress
    return JSONResponse(found)


@router.get("/metrics", response_class=Response, summary="Prometheus metrics")
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry),
                    media_type=CONTENT_TYPE_LATEST)  # fmt: skip


@router.get("/v1/audit", response_model=AuditPage, tags=["admin"], responses=PROBLEMS)
def audit_log(
    services: ServicesDep,
    caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="Entries with a smaller id")
    ] = None,
) -> JSONResponse:
    """Every write: who (key and role), when, what, and the change-log range it made."""
    require(caller.role is Role.admin, caller, "read the audit log")
    return JSONResponse({"items": read_audit(services.store.engine, limit=limit, before=before)})


@router.get(
    "/v1/stats", tags=["graph"], summary="Counts per kind", responses=PROBLEMS,
    dependencies=[ReadVersion],
)  # fmt: skip
def stats(services: ServicesDep, caller: CallerDep) -> JSONResponse:
    """Nodes and edges per kind, as the caller's audience may list them: people it may
    find (anonymous: public and discoverable; members and editors: also members-only;
    admins: everyone) and the edges between what it may find. Hidden people are not
    counted, nor their links."""
    # The audience's figures, not the caller's own view: a member's own hidden profile
    # is left out, so that one answer per audience serves everyone. They are kept by the
    # change feed (graph.counts), the same numbers as graph.listing's SQL counts.
    assert services.counts is not None
    counted: CountAudience = "all" if caller.role is Role.admin else caller.audience
    return JSONResponse(services.counts.counts(counted))


@router.get(
    "/v1/admin/state", response_model=WorkerState, tags=["admin"], responses=PROBLEMS,
    summary="This worker's derived state", dependencies=[ReadVersion],
)  # fmt: skip
def worker_state(
    services: ServicesDep,
    caller: CallerDep,
    request: Request,
    digests: Annotated[
        bool,
        Query(description="Digest every id (seconds at a million nodes, during which the "
              "worker applies no write); false: the sizes, positions and warm-up alone"),
    ] = True,
) -> JSONResponse:  # fmt: skip
    """What the worker that answers holds: the change-log position of its graph view, the
    view's and the search index's sizes and digests of their ids, to compare with the
    store (each worker process has its own; repeat the call to reach the others), as one
    version of them."""
    require(caller.role is Role.admin, caller, "read a worker's state")
    warmer = getattr(request.app.state, "warmer", None)
    seq = services.view.seq
    graph = services.view.graph
    index = services.search.index
    vector_ids = index.vectors.ids()

    def digested(ids: Callable[[], Iterable[str]]) -> str | None:
        return digest(ids()) if digests else None

    return JSONResponse(
        {
            "pid": os.getpid(),
            "seq": seq,
            "follows": "store" if services.reader is None else "standby",
            "graph": {
                "nodes": graph.number_of_nodes(),
                "edges": graph.number_of_edges(),
                "node_digest": digested(lambda: graph.nodes),
                "edge_digest": digested(
                    lambda: (edge_ref(s, k, t) for s, t, k in graph.edges(keys=True))
                ),
            },
            "index": {
                "items": len(index),
                "vectors": len(vector_ids),
                "lexical": len(index.lexical),
                "watermark": index.watermark,
                "digest": digested(lambda: vector_ids),
            },
            "frozen_objects": gc.get_freeze_count(),
            "threads": thread_limits(),
            "malloc_arenas": malloc_arenas(),
            "warmed": warmer.warmed.as_json() if warmer is not None else None,
        }
    )


def digest(ids: Iterable[str]) -> str:
    """sha256 of the ids sorted, one per line: equal sets give equal digests."""
    return hashlib.sha256("\n".join(sorted(ids)).encode("utf-8")).hexdigest()
