"""Semantic search over the network: the index kept in step with the store, and explained hits.

The index follows the store's change log like the graph view does: it is saved with
the sequence number it reflects (its watermark) and, after a restart, replays only
the changes since then. Filters and privacy are applied before ranking: the ranker
only ever looks among the nodes the caller may find.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from api.auth import Caller, Role
from api.privacy import edge_filter, present
from embeddings.search import Hit, Mode, SemanticIndex
from embeddings.tokenize import terms
from graph.filters import Near, SearchFilter, matching_ids
from graph.geo import distance_band
from graph.model import Node
from graph.store import Store
from graph.texts import node_passages, node_text
from graph.view import GraphView

log = logging.getLogger(__name__)

PASSAGE_CHARS = 240


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    total: int | None


class SearchService:
    """The semantic index of every node's text, with privacy-aware, filtered, explained search."""

    def __init__(self, store: Store, view: GraphView, index: SemanticIndex) -> None:
        self.store = store
        self.view = view
        self.index = index
        self._lock = threading.Lock()
        self._hidden: dict[tuple[str, int], frozenset[str]] = {}

    # -- keeping in step with the store -------------------------------------

    def follow(self) -> None:
        """Re-index every node whose text a committed write changed."""

        def on_write(_seq: int) -> None:
            self.catch_up()

        self.store.subscribe(on_write)

    def catch_up(self, *, progress: bool = False) -> int:
        """Index the changes since the watermark; returns how many entries were applied."""
        with self._lock:
            return catch_up(self.store, self.index, progress=progress)

    def rebuild(self, *, progress: bool = False) -> int:
        """Index every node from scratch (texts that did not change are not re-encoded)."""
        with self._lock:
            return rebuild(self.store, self.index, progress=progress)

    # -- privacy -------------------------------------------------------------

    def hidden_from(self, caller: Caller) -> frozenset[str]:
        """Nodes the caller may not find: people they may not see in listings."""
        if caller.role is Role.admin:
            return frozenset()
        audience = "members" if caller.at_least(Role.member) else "public"
        key = (audience, self.view.seq)
        hidden = self._hidden.get(key)
        if hidden is None:
            shown = {"public"} if audience == "public" else {"public", "members"}
            hidden = frozenset(
                node
                for node, attrs in self.view.graph.nodes(data=True)
                if attrs["kind"] == "person"
                and (attrs["visibility"] not in shown or not attrs["discoverable"])
            )
            self._hidden = {key: hidden}
        if caller.person_id is not None and caller.person_id in hidden:
            return hidden - {caller.person_id}
        return hidden

    def _candidates(
        self, caller: Caller, flt: SearchFilter
    ) -> tuple[set[str] | None, frozenset[str]]:
        graph = self.view.graph
        allowed = matching_ids(graph, flt, allow_edge=edge_filter(caller, graph))
        hidden = self.hidden_from(caller)
        if allowed is not None:
            return allowed - hidden, frozenset()
        return None, hidden

    # -- queries ---------------------------------------------------------------

    def search(
        self, caller: Caller, text: str, flt: SearchFilter, *, mode: Mode, limit: int, offset: int
    ) -> Page:
        """The best ``limit`` hits after ``offset`` among the nodes passing ``flt``."""
        allowed, exclude = self._candidates(caller, flt)
        hits = self.index.search(text, offset + limit, mode=mode, allowed=allowed, exclude=exclude)
        total = len(allowed) if allowed is not None else None
        return Page(self._explain(caller, hits[offset:], text, flt, mode), total)

    def similar(
        self,
        caller: Caller,
        node_id: str,
        flt: SearchFilter,
        *,
        limit: int,
        mmr_lambda: float | None,
        positive: list[str],
        negative: list[str],
    ) -> Page:
        """Nodes like this one (and the positives, unlike the negatives), from stored vectors."""
        allowed, exclude = self._candidates(caller, flt)
        hits = self.index.similar(
            node_id, limit, allowed=allowed, exclude=exclude, mmr_lambda=mmr_lambda,
            positive=positive, negative=negative,
        )  # fmt: skip
        return Page(self._explain(caller, hits, None, flt, "dense"), None)

    def _explain(
        self, caller: Caller, hits: list[Hit], text: str | None, flt: SearchFilter, mode: str
    ) -> list[dict[str, Any]]:
        nodes = self.store.get_nodes(hit.id for hit in hits)
        query_terms = set(terms(text)) if text else set()
        items = []
        for hit in hits:
            node = nodes.get(hit.id)
            if node is None:  # deleted since the index saw it
                continue
            explanation: dict[str, Any] = {
                "mode": mode,
                "scores": {
                    "score": round(hit.score, 6),
                    "dense": _round(hit.dense),
                    "lexical": _round(hit.lexical),
                    "dense_rank": hit.dense_rank,
                    "lexical_rank": hit.lexical_rank,
                },
                "matched_terms": list(hit.matched_terms),
                "filters": _jsonable(flt.given()),
            }
            explanation.update(_passage(node, query_terms))
            if flt.near is not None:
                attrs = self.view.graph.nodes[hit.id]
                lat, lon = attrs.get("lat"), attrs.get("lon")
                if lat is not None and lon is not None:
                    km = flt.near.distance_km(lat, lon)
                    explanation["distance_km"] = round(km)
                    explanation["distance_band"] = distance_band(km)
            items.append({"node": present(node, caller), "score": round(hit.score, 6),
                          "explanation": explanation})  # fmt: skip
        return items


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _jsonable(given: dict[str, object]) -> dict[str, object]:
    found: dict[str, object] = {}
    for name, value in given.items():
        if isinstance(value, Near):
            found[name] = {"lat": value.lat, "lon": value.lon, "radius_km": value.radius_km}
        else:
            found[name] = value
    return found


def _passage(node: Node, query_terms: set[str]) -> dict[str, Any]:
    """The fields whose words matched, and the best-matching passage (shortened)."""
    passages = node_passages(node)
    scored = [
        (len(query_terms & set(terms(text))), -index, field, text)
        for index, (field, text) in enumerate(passages)
    ]
    fields = [field for count, _, field, _ in scored if count]
    best = max(scored, default=None)
    if best is None:
        return {"fields": [], "passage": None}
    if not best[0]:  # matched by meaning only: show the main text
        best = scored[1] if len(scored) > 1 else scored[0]
    return {"fields": fields, "passage": {"field": best[2], "text": _shorten(best[3], query_terms)}}


def _shorten(text: str, query_terms: set[str]) -> str:
    if len(text) <= PASSAGE_CHARS:
        return text
    lowered = text.lower()
    starts = [lowered.find(term) for term in query_terms if lowered.find(term) >= 0]
    start = max(0, min(starts) - PASSAGE_CHARS // 3) if starts else 0
    snippet = text[start : start + PASSAGE_CHARS].strip()
    return ("…" if start else "") + snippet + ("…" if start + PASSAGE_CHARS < len(text) else "")


def catch_up(store: Store, index: SemanticIndex, *, progress: bool = False) -> int:
    """Apply the store's changes since the index's watermark; how many entries were applied."""
    applied = 0
    while True:
        batch = store.changes_since(index.watermark, limit=20_000)
        if not batch:
            return applied
        upserted = {c.ref for c in batch if c.entity == "node" and c.op == "upsert"}
        deleted = {c.ref for c in batch if c.entity == "node" and c.op == "delete"}
        nodes = store.get_nodes(sorted(upserted - deleted))
        index.remove(deleted | (upserted - nodes.keys()))
        index.upsert(((i, node_text(n)) for i, n in sorted(nodes.items())), progress=progress)
        if any(c.op == "erase" for c in batch):  # names no one: forget who is gone
            people = store.person_versions()
            held = [i for i in index.vectors.ids() if i.startswith("person:")]
            index.forget(i for i in held if i not in people)
        index.watermark = batch[-1].seq
        applied += len(batch)


def rebuild(store: Store, index: SemanticIndex, *, progress: bool = False) -> int:
    """Index every node of the store (unchanged texts are not re-encoded); how many there are."""
    seq = store.last_seq()
    present_ids = set()
    batch: list[tuple[str, str]] = []
    for node in store.iter_nodes():
        present_ids.add(node.id)
        batch.append((node.id, node_text(node)))
        if len(batch) >= 5_000:
            index.upsert(batch, progress=progress)
            batch = []
    index.upsert(batch, progress=progress)
    index.remove([i for i in list(index.vectors.ids()) if i not in present_ids])
    index.watermark = seq
    return len(present_ids)
