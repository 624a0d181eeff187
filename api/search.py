"""Semantic search over the network: the index kept in step with the store, and explained hits.

The index follows the store's change log through the change feed, like the graph view:
it is saved with the sequence number it reflects (its watermark) and, after a restart,
replays only the changes since then. Filters and privacy are applied before ranking: the ranker
only ever looks among the nodes the caller may find.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from api.auth import Caller
from api.vectors import known_vectors, share
from embeddings.encoder import Encoder
from embeddings.search import Encoded, Hit, Mode, SemanticIndex
from embeddings.tokenize import terms
from graph.feed import ChangeBatch
from graph.filters import Near, SearchFilter, link_targets, matching_among, matching_ids
from graph.geo import distance_band, haversine_km, public_place
from graph.model import Node
from graph.places import Found, distance_phrase
from graph.queries import EdgeFilter
from graph.store import Store
from graph.texts import node_passages, node_text
from graph.touches import MAX_CARRY_NODES, Touches
from graph.view import GraphView
from graph.visibility import AudienceIndex, edge_filter, present

log = logging.getLogger(__name__)

PASSAGE_CHARS = 240
FILTERS_KEPT = 32
"""Filters whose matching ids are kept, per hidden set (a filter by kind
matches most of the network: finding its ids anew, and each index's rows for them, took
about 150 ms of a search at 100,000 people; a sector's, some 35 ms). Room for a filter by
each sector and each goal, beside the web app's kinds."""
FILTER_IDS_KEPT = 1_000_000
"""And at most this many ids in all (a frozenset holds an id in 20 to 40 bytes)."""


Filtered = tuple[int, SearchFilter, int]
Targets = tuple[frozenset[str], ...]


@dataclass(frozen=True, slots=True)
class _Kept:
    """The ids passing a filter, for one hidden set and version."""

    hidden: frozenset[str]
    ids: frozenset[str]
    targets: Targets | None
    """What its links were to (:func:`graph.filters.link_targets`), None: not carried."""


@dataclass(frozen=True, slots=True)
class Page:
    items: list[dict[str, Any]]
    total: int | None
    no_good_match: bool = False
    """Nothing passing the filters cleared the relevance floor (see ``RankingOptions``)."""


class SearchService:
    """The semantic index of every node's text, with privacy-aware, filtered, explained search.

    It is a projection of the change feed (:mod:`graph.feed`): the follower encodes the
    changed texts in :meth:`prepare`, outside any lock, and swaps them in with :meth:`apply`.
    """

    def __init__(
        self, store: Store, view: GraphView, index: SemanticIndex, audiences: AudienceIndex
    ) -> None:
        self.store = store
        self.view = view
        self.index = index
        self.audiences = audiences
        self._filtered: OrderedDict[Filtered, _Kept]
        self._filtered = OrderedDict()  # (version, filter, id of the hidden set) -> kept
        self._filtered_lock = threading.Lock()
        self.touches: Touches | None = None
        """What each batch of changes touched (set with the feed's other projections): a
        filter by the nodes' attributes is carried to a later version through them."""
        self._uncounted()

    # -- a projection of the change feed -----------------------------------------

    def prepare(self, batch: ChangeBatch) -> Prepared:
        return prepare_batch(self.store, self.index, batch)

    def apply(self, batch: ChangeBatch, prepared: Prepared) -> None:
        apply_batch(self.index, batch, prepared)
        self._uncounted()

    def _uncounted(self) -> None:
        """Word statistics count no profile hidden from anyone: a score must not tell how
        many hidden profiles hold a word."""
        self.index.exclude_from_statistics(self.audiences.hidden("public"))

    # -- privacy -------------------------------------------------------------

    def hidden_from(self, caller: Caller) -> frozenset[str]:
        """Nodes the caller may not find: people they may not see in listings."""
        return self.audiences.hidden_from(caller)

    def _candidates(
        self, caller: Caller, flt: SearchFilter
    ) -> tuple[frozenset[str] | None, frozenset[str]]:
        """(the ids passing ``flt`` that the caller may find, or None when there is no
        filter; the ids to leave out). The ids of a filter are kept, the same object for
        every caller who may not find the same people, so that the indexes remember their
        rows (:class:`embeddings.ranking.RowCache`), and carried to later versions
        (:meth:`_carried`); not those of a community, whose links depend on who asks
        (:func:`graph.visibility.edge_filter`). The caller holds the feed's read lock."""
        graph = self.view.graph
        hidden = self.hidden_from(caller)
        if not flt.given():
            return None, hidden
        key = (self.view.seq, flt, id(hidden))  # (the value holds the set: its id is its own)
        shared = flt.community is None
        if shared:
            with self._filtered_lock:
                kept = self._filtered.get(key)
                if kept is not None and kept.hidden is hidden:
                    self._filtered.move_to_end(key)
                    return kept.ids, frozenset()
        allow_edge = edge_filter(caller, graph)
        targets = link_targets(graph, flt) if shared else None
        carried = self._carried(flt, hidden, key[0], targets, allow_edge)
        if carried is not None:
            found = carried
        else:
            allowed = matching_ids(graph, flt, allow_edge=allow_edge)
            if allowed is None:
                return None, hidden
            found = frozenset(allowed - hidden)
        if shared:
            self._keep(key, _Kept(hidden, found, targets))
        return found, frozenset()

    def _keep(self, key: Filtered, kept: _Kept) -> None:
        with self._filtered_lock:
            for older in [k for k in self._filtered if k[1:] == key[1:] and k[0] < key[0]]:
                del self._filtered[older]
            self._filtered[key] = kept
            self._filtered.move_to_end(key)
            held = sum(len(entry.ids) for entry in self._filtered.values())
            while len(self._filtered) > 1 and (
                len(self._filtered) > FILTERS_KEPT or held > FILTER_IDS_KEPT
            ):
                _, dropped = self._filtered.popitem(last=False)
                held -= len(dropped.ids)

    def _carried(
        self,
        flt: SearchFilter,
        hidden: frozenset[str],
        seq: int,
        targets: Targets | None,
        allow_edge: EdgeFilter,
    ) -> frozenset[str] | None:
        """The ids a filter kept for an earlier version (with the same hidden set and the
        same link targets), brought to version ``seq`` through the nodes the changes since
        touched: the same object when none of them changed whether it passes (the indexes
        then remember its rows still); None when nothing may be carried."""
        if self.touches is None or targets is None:
            return None
        with self._filtered_lock:
            kept = [(k[0], entry) for k, entry in self._filtered.items()
                    if k[1] == flt and entry.hidden is hidden and k[0] < seq]  # fmt: skip
        if not kept:
            return None
        since, before = max(kept, key=lambda found: found[0])
        if before.targets != targets:  # a goal's targets changed: every link may count
            return None
        touched = self.touches.between(since, seq)
        if touched is None or len(touched.nodes) > MAX_CARRY_NODES:
            return None
        graph = self.view.graph
        now = matching_among(graph, flt, touched.nodes, targets=targets, allow_edge=allow_edge)
        now -= hidden
        was = before.ids & touched.nodes
        if now == was:
            return before.ids
        return frozenset((before.ids - was) | now)

    # -- queries ---------------------------------------------------------------

    def search(
        self,
        caller: Caller,
        text: str,
        flt: SearchFilter,
        *,
        mode: Mode,
        limit: int,
        offset: int,
        origin: Found | None = None,
    ) -> Page:
        """The best ``limit`` hits after ``offset`` among the nodes passing ``flt``; with
        an ``origin`` (a place named), each says how far it is from it in words."""
        allowed, exclude = self._candidates(caller, flt)
        hits = self.index.search(text, offset + limit, mode=mode, allowed=allowed, exclude=exclude)
        total = len(allowed) if allowed is not None else None
        items = self._explain(caller, hits[offset:], text, flt, mode, origin)
        return Page(items, total, not hits)

    def nearby(
        self, caller: Caller, flt: SearchFilter, origin: Found, *, limit: int, offset: int
    ) -> Page:
        """Everything passing ``flt`` (which holds the place), nearest first: a search for
        a place alone ("near Sacramento") has no words to rank by. Distances are from
        public places; nodes without one come last."""
        allowed, _ = self._candidates(caller, flt)
        assert allowed is not None, "a place is always a filter"
        nodes = self.view.graph.nodes

        def order(node: str) -> tuple[float, str]:
            lat, lon = nodes[node].get("lat"), nodes[node].get("lon")
            if lat is None or lon is None or origin.lat is None or origin.lon is None:
                return math.inf, node
            return haversine_km(origin.lat, origin.lon, float(lat), float(lon)), node

        ranked = sorted(allowed, key=order)[offset : offset + limit]
        hits = [Hit(node, 0.0) for node in ranked]
        return Page(self._explain(caller, hits, None, flt, "place", origin), len(allowed))

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
        self,
        caller: Caller,
        hits: list[Hit],
        text: str | None,
        flt: SearchFilter,
        mode: str,
        origin: Found | None = None,
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
            # A hit sharing no word with the query has no passage that matched.
            explanation.update(_passage(node, query_terms if hit.matched_terms else set()))
            if flt.near is not None:
                attrs = self.view.graph.nodes[hit.id]
                lat, lon = attrs.get("lat"), attrs.get("lon")
                if lat is not None and lon is not None:
                    km = flt.near.distance_km(lat, lon)
                    explanation["distance_km"] = round(km)
                    explanation["distance_band"] = distance_band(km)
            if origin is not None:
                explanation["distance"] = public_distance(node, origin)
            items.append({"node": present(node, caller), "score": round(hit.score, 6),
                          "explanation": explanation})  # fmt: skip
        return items


def public_distance(node: Node, origin: Found) -> str | None:
    """How far the node is from a named place, in words, from its public place only."""
    place = getattr(node, "place", None)
    if place is None:
        return None
    if node.kind == "person":
        return distance_phrase(
            public_place(place, node.location_precision), str(node.location_precision), origin
        )
    return distance_phrase(place, "exact", origin)


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
    # A term is written in a text only where its stem, less a final "y" (communities:
    # "community"), is: a passage without any of them is not tokenised.
    stems = [term[:-1] if term.endswith("y") else term for term in query_terms]

    def matches(text: str) -> int:
        if not query_terms or (text.isascii() and not any(s in text.lower() for s in stems)):
            return 0
        return len(query_terms & set(terms(text)))

    scored = [(matches(text), -index, field, text) for index, (field, text) in enumerate(passages)]
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


def index_texts(
    store: Store,
    index: SemanticIndex,
    items: list[tuple[str, str]],
    *,
    progress: bool = False,
    defer: bool = False,
    encoder: Encoder | None = None,
) -> Encoded:
    """Vectors for the (id, text) items whose text the index does not hold: the stored
    ones, and the rest encoded (by ``encoder`` if given, else the index's own) and
    stored for the other workers.

    ``defer``: encode nothing now; the items new to the index with no stored vector are
    made searchable by their words at once, their vectors left to the background
    (:mod:`api.indexing`)."""
    known = known_vectors(store, index.encoder, items)
    if defer:
        waiting = [(i, t) for i, t in items if i not in known and i not in index]
        index.add_words_only(waiting)
        later = {i for i, _ in waiting}
        items = [(i, t) for i, t in items if i not in later]
    encoded = index.prepare(items, known=known, progress=progress, encoder=encoder)
    share(store, index.encoder, encoded)
    return encoded


Prepared = tuple[set[str], Encoded]
"""(ids to drop, vectors of the changed texts) of one change batch."""


def prepare_batch(
    store: Store,
    index: SemanticIndex,
    batch: ChangeBatch,
    *,
    progress: bool = False,
    defer: bool = False,
) -> Prepared:
    """What a batch does to the index, for the nodes it touched as they are now. Vectors
    stored by the writer are used; the others are encoded (and stored), or with ``defer``
    left to the background (see :func:`index_texts`)."""
    touched = batch.touched_nodes
    items = [(i, node_text(batch.nodes[i])) for i in sorted(touched & batch.nodes.keys())]
    encoded = index_texts(store, index, items, progress=progress, defer=defer)
    return set(touched - batch.nodes.keys()), encoded


def apply_batch(index: SemanticIndex, batch: ChangeBatch, prepared: Prepared) -> None:
    gone, encoded = prepared
    if batch.erasures:  # names no one: forget who is gone, and the next save keeps nothing
        # whoever the index holds, with a vector or still waiting for one
        index.forget(batch.erased([*index.vectors.ids(), *index.pending_ids()]))
    index.remove(gone)
    index.apply(encoded)
    index.watermark = batch.last_seq


def catch_up(
    store: Store, index: SemanticIndex, *, progress: bool = False, defer: bool = False
) -> int:
    """Apply the store's changes since the index's watermark (before the feed follows it);
    with ``defer`` the new texts without stored vectors are encoded in the background."""
    applied = 0
    while batch := ChangeBatch.read(store, index.watermark, limit=20_000):
        prepared = prepare_batch(store, index, batch, progress=progress, defer=defer)
        apply_batch(index, batch, prepared)
        applied += len(batch.changes)
    return applied


def rebuild(
    store: Store, index: SemanticIndex, *, progress: bool = False, defer: bool = False
) -> int:
    """Index every node of the store (unchanged texts are not re-encoded); how many there
    are. With ``defer`` the texts without stored vectors are encoded in the background."""
    seq = store.last_seq()
    present_ids = set()
    batch: list[tuple[str, str]] = []
    for node in store.iter_nodes():
        present_ids.add(node.id)
        batch.append((node.id, node_text(node)))
        if len(batch) >= 5_000:
            index.apply(index_texts(store, index, batch, progress=progress, defer=defer))
            batch = []
    index.apply(index_texts(store, index, batch, progress=progress, defer=defer))
    index.remove([i for i in list(index.vectors.ids()) if i not in present_ids])
    index.watermark = seq
    return len(present_ids)


def add_missing(store: Store, index: SemanticIndex, ids: Iterable[str]) -> int:
    """Index the nodes among ``ids`` that the index does not hold, their vectors in the
    background where none is stored: a snapshot saved while vectors were still being
    computed left them out. How many were missing."""
    missing = [i for i in ids if not index.knows(i)]
    for start in range(0, len(missing), 5_000):
        nodes = store.get_nodes(missing[start : start + 5_000])
        items = [(i, node_text(node)) for i, node in nodes.items()]
        index.apply(index_texts(store, index, items, defer=True))
    return len(missing)
