"""Recommendations in the service: the graph's matching code wired to privacy and the index.

:class:`MatchingService` turns a caller into the matching code's audience (what walks
may pass through, who may be recommended) using :mod:`graph.visibility` and the search
service's hidden set, keeps the profile index in step with the store, and keeps per
``view.seq`` caches (degrees, the recommendable people of each audience and their public
places), so that a request never passes over the whole graph. Then it presents each
result as :func:`graph.visibility.present_recommended` shows the node, with its explanation.

Consent holds for every role: a person who is private or not discoverable, or not open
to collaborate, is never recommended, not even to an admin, and contact details are
never part of a recommendation.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from api.auth import Caller, Role
from api.marks import Marks
from api.search import public_distance
from api.services import Services
from api.similarity import IndexSimilarity
from graph.geo import EARTH_RADIUS_KM, public_place
from graph.matching.context import Audience, Degrees, MatchContext, Neighbourhoods
from graph.matching.explain import Described, explanation, ids_to_describe
from graph.matching.features import Near, Relation
from graph.matching.profiles import ProfileIndex
from graph.matching.recommend import Result, recommend
from graph.matching.scoring import Mode
from graph.model import Node, Sdg
from graph.places import Found
from graph.similarity import Scored, TextSimilarity
from graph.texts import node_text
from graph.touches import MAX_CARRY_NODES
from graph.visibility import (
    PLACING_EDGES,
    AudienceName,
    edge_filter,
    listable,
    present_recommended,
)

log = logging.getLogger(__name__)

Scope = Literal["global", "local"]
OVERFETCH = 1.3  # unfiltered answers fetched per wanted one, over the pool's share
MIN_SHARE = 0.5  # a pool smaller than this share of the index is searched with a filter
CANDIDATE_EF_SEARCH = 64
"""How widely candidate generation's HNSW walks look (search's own look wider): at
100,000 people 98.7% of the exact 31 nearest are found in 0.48 ms, against 99.5% in
1.18 ms at the index's 256 (``docs/benchmarks.md``)."""
CIRCLES = 256  # local pools kept per view.seq
AUDIENCES: tuple[AudienceName, ...] = ("public", "members")


class NoPublicPlace(Exception):
    """Local recommendations for a node that has no public position."""

    def __init__(self, node_id: str) -> None:
        super().__init__(node_id)
        self.node_id = node_id


@dataclass(frozen=True)
class People:
    """The people one audience may be recommended, with their public places (arrays)."""

    ids: frozenset[str]
    placed: list[str]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]

    def within(self, lat: float, lon: float, radius_km: float) -> frozenset[str]:
        """The placed ones within ``radius_km`` of a point (great-circle distance)."""
        if not self.placed:
            return frozenset()
        p1, p2 = np.radians(lat), np.radians(self.lat)
        dp, dl = p2 - p1, np.radians(self.lon - lon)
        a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
        km = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
        return frozenset(self.placed[i] for i in np.flatnonzero(km <= radius_km))


class _Version:
    """Caches valid for one ``view.seq``."""

    def __init__(self, seq: int, degrees: Degrees) -> None:
        self.seq = seq
        self.degrees = degrees
        self.people: dict[str, People] = {}
        self.initiatives: frozenset[str] | None = None
        self.shared: dict[str, Neighbourhoods] = {}  # by audience: "public", "members", "all"
        self.circles: OrderedDict[tuple[str, float, float, float], frozenset[str]] = OrderedDict()

    def within(self, audience: str, people: People, near: Near) -> frozenset[str]:
        """The audience's people in a circle; the last ``CIRCLES`` circles are kept (public
        places are grid centres, so the same circles come back)."""
        key = (audience, near.lat, near.lon, near.radius_km)
        found = self.circles.get(key)
        if found is None:
            found = self.circles[key] = people.within(near.lat, near.lon, near.radius_km)
            if len(self.circles) > CIRCLES:
                self.circles.popitem(last=False)
        return found


class PoolSimilarity:
    """The service's text similarity, answering nearest-neighbour questions among the large
    people pool from a search filtered only by what is excluded: people are most of the
    index, so a few more answers than wanted nearly always hold enough of them, where a
    search filtered by the pool would first look up every id of it. When they do not (a node whose
    nearest texts are mostly initiatives), the search is widened once, and what it holds
    is the answer: candidate generation needs good candidates, not exactly k."""

    def __init__(self, inner: TextSimilarity, large: Collection[str], total: int) -> None:
        self.inner = inner
        self.large = large
        self.share = len(large) / max(total, 1)

    def vectors(self, ids: Iterable[str]) -> dict[str, npt.NDArray[np.float32]]:
        return self.inner.vectors(ids)

    def scores(self, node_id: str, others: Iterable[str]) -> dict[str, float]:
        return self.inner.scores(node_id, others)

    def nearest(
        self,
        node_id: str,
        k: int,
        *,
        among: Collection[str] | None = None,
        exclude: Collection[str] = (),
    ) -> Scored:
        if among is not self.large or self.share < MIN_SHARE:
            return self.inner.nearest(node_id, k, among=among, exclude=exclude)
        kept: Scored = []
        for widen in (1, 4):
            fetch = int(widen * k / self.share * OVERFETCH) + 10
            found = self.inner.nearest(node_id, fetch, exclude=exclude)
            kept = [(i, s) for i, s in found if i in among]
            if len(kept) >= k or len(found) < fetch:
                break
        return kept[:k]

    def nearest_text(
        self,
        text: str,
        k: int,
        *,
        among: Collection[str] | None = None,
        exclude: Collection[str] = (),
    ) -> Scored:
        return self.inner.nearest_text(text, k, among=among, exclude=exclude)

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self.inner.encode(texts)


class MatchingService:
    """Collaborators, initiatives to join and people to help, for one :class:`Services`."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._version: _Version | None = None
        self._lock = threading.Lock()  # guards the per-version caches
        self._computing = threading.Lock()
        """Held while a recommendation is computed: a worker computes one at a time. The
        computation is Python holding the interpreter lock; four threads interleaving
        it in one process took 64 ms of CPU a request against 49 ms alone, for no
        answer sooner: at 100,000 people, 8 connections on 2 workers, 27 against 23
        collaborators a second under writes, p99 565 against 810 ms
        (docs/benchmarks.md)."""
        self.carried = 0
        """Versions whose caches were carried over from the one before (not built anew)."""

    # -- state kept in step with the store ----------------------------------------

    @property
    def profiles(self) -> ProfileIndex:
        """The profile index (a projection of the change feed)."""
        return self.services.profiles

    def _current(self) -> _Version:
        view = self.services.view
        version = self._version
        if version is None or version.seq != view.seq:
            version = self._next(version, view.seq)
            self._version = version
        return version

    def _next(self, old: _Version | None, seq: int) -> _Version:
        """The caches of version ``seq``: those of ``old`` with what the changes since
        touched read again (:mod:`graph.touches`), or empty when that is not known."""
        graph = self.services.view.graph
        version = _Version(seq, Degrees(graph))
        touches = self.services.touches
        if old is None or touches is None:
            return version
        touched = touches.between(old.seq, seq)
        if touched is None or len(touched.nodes) > MAX_CARRY_NODES:
            return version
        nodes = touched.nodes
        version.degrees.carry(old.degrees, nodes)
        for audience, people in old.people.items():
            version.people[audience] = self._people_after(people, audience, nodes)
        for audience, shared in old.shared.items():
            version.shared[audience] = Neighbourhoods()
            version.shared[audience].carry(shared, nodes, graph)
        if old.initiatives is not None:
            # The same object when no write changed it: the vector index holds the
            # vectors of a set by identity (RowCache.held), gathered once
            active = {n for n in nodes if self._active_initiative(n)}
            if all((n in old.initiatives) == (n in active) for n in nodes):
                version.initiatives = old.initiatives
            else:
                version.initiatives = (old.initiatives - nodes) | active
        self.carried += 1
        return version

    def _recommendable(self, node: str, audience: str) -> tuple[float, float] | bool:
        """Whether ``node`` is a person the audience may be recommended (consent,
        visibility, open to it); their public place when they have one."""
        attrs = self.services.view.graph._node.get(node)
        if attrs is None or attrs["kind"] != "person":
            return False
        if not listable(audience, attrs["visibility"], attrs["discoverable"]):
            return False
        if not self.profiles.open_to_collaborate(node):
            return False
        if attrs.get("lat") is not None and attrs.get("lon") is not None:
            return float(attrs["lat"]), float(attrs["lon"])
        return True

    def _people(self, version: _Version, audience: str) -> People:
        """Recommendable people for an audience: consent, visibility, and open to it."""
        found = version.people.get(audience)
        if found is None:
            graph = self.services.view.graph
            found = version.people[audience] = self._people_with(audience, graph, set(), [], [], [])
        return found

    def _people_after(self, old: People, audience: str, nodes: frozenset[str]) -> People:
        """``old`` with the ``nodes`` a write touched read again; ``old`` itself when none
        of them changed what it holds (a new bio, a new link: the usual write). Runs
        while every request of the worker waits for the new version: it copies nothing
        it need not (copying 100,000 people took some 30 ms per audience)."""
        removed: list[str] = []  # those to read again
        gone: list[int] = []  # their positions in ``placed``
        added: list[tuple[str, tuple[float, float] | None]] = []
        for node in sorted(nodes):
            at = self._recommendable(node, audience)
            place = at if isinstance(at, tuple) else None
            if node in old.ids:
                position = None
                with contextlib.suppress(ValueError):
                    position = old.placed.index(node)
                was = None
                if position is not None:
                    was = (float(old.lat[position]), float(old.lon[position]))
                if at is not False and place == was:
                    continue  # recommendable as before, at the same place
                removed.append(node)
                if position is not None:
                    gone.append(position)
            if at is not False:
                added.append((node, place))
        if not removed and not added:
            return old
        ids = set(old.ids)
        ids.difference_update(removed)
        ids.update(node for node, _ in added)
        placed = list(old.placed)
        for position in sorted(gone, reverse=True):
            del placed[position]
        spots = [(node, place) for node, place in added if place is not None]
        placed.extend(node for node, _ in spots)
        lat = np.concatenate([np.delete(old.lat, gone), [p[0] for _, p in spots]])
        lon = np.concatenate([np.delete(old.lon, gone), [p[1] for _, p in spots]])
        return People(frozenset(ids), placed, lat, lon)

    def _people_with(
        self,
        audience: str,
        nodes: Iterable[str],
        ids: set[str],
        placed: list[str],
        lat: list[float],
        lon: list[float],
    ) -> People:
        """The people kept so far (``ids``, and the ``placed`` ones' coordinates) with
        those of ``nodes`` the audience may be recommended."""
        for node in nodes:
            at = self._recommendable(node, audience)
            if at is False:
                continue
            ids.add(node)
            if isinstance(at, tuple):
                placed.append(node)
                lat.append(at[0])
                lon.append(at[1])
        return People(frozenset(ids), placed, np.array(lat), np.array(lon))

    def _active_initiative(self, node: str) -> bool:
        attrs = self.services.view.graph._node.get(node)
        return attrs is not None and attrs["kind"] == "initiative" and attrs.get("active", True)

    def _initiatives(self, version: _Version) -> frozenset[str]:
        if version.initiatives is None:
            version.initiatives = frozenset(
                node
                for node, attrs in self.services.view.graph.nodes(data=True)
                if attrs["kind"] == "initiative" and attrs.get("active", True)
            )
        return version.initiatives

    def _shared(
        self, version: _Version, caller: Caller, hidden: frozenset[str]
    ) -> Neighbourhoods | None:
        """The neighbourhoods as the caller's audience sees them, shared with every caller
        who sees the same nodes; None for a caller who sees themselves where their
        audience does not (a private person: read for the request alone)."""
        if caller.role is Role.admin:
            key = "all"
        elif hidden is self.services.search.audiences.hidden(caller.audience):
            key = caller.audience
        else:
            return None
        found = version.shared.get(key)
        if found is None:
            found = version.shared[key] = Neighbourhoods()
        return found

    def warm(self) -> int:
        """Build the caches of the current version (degrees of every node, each audience's
        recommendable people, the active initiatives) so that the first request after a
        start or a write does not; the caller holds the feed's read lock. The version warmed."""
        with self._lock:
            version = self._current()
            for audience in AUDIENCES:
                self._people(version, audience)
            self._initiatives(version)
            degrees = version.degrees
        degrees.fill()
        return version.seq

    # -- a request -------------------------------------------------------------------

    def context(
        self,
        caller: Caller,
        seed: str,
        *,
        scope: Scope = "global",
        radius_km: float = 100.0,
        origin: Found | None = None,
        target: str = "person",
    ) -> tuple[MatchContext, Near | None]:
        """The matching context of a caller (and, for ``local``, the circle to stay in:
        around the ``origin`` named, or the seed's public place; a country named keeps
        to the people, or for ``target="initiative"`` the initiatives, whose public place
        is in it). People's initiatives stay whole when people are asked for: what they
        work on anywhere still says who is alike."""
        services = self.services
        audience_name = caller.audience
        hidden = services.search.hidden_from(caller)
        with self._lock:
            version = self._current()
            people = self._people(version, audience_name)
            initiatives = self._initiatives(version)
            shared = self._shared(version, caller, hidden)
        graph = services.view.graph
        near = None
        pool: Collection[str] = people.ids
        if scope == "local" and origin is not None and origin.kind == "country":
            nodes = graph.nodes
            if target == "initiative":
                initiatives = frozenset(
                    i for i in initiatives if nodes[i].get("country") == origin.country
                )
            else:
                pool = frozenset(p for p in people.ids if nodes[p].get("country") == origin.country)
        elif scope == "local":
            if origin is not None and origin.lat is not None and origin.lon is not None:
                near = Near(origin.lat, origin.lon, radius_km)
            else:
                attrs = graph.nodes[seed]
                if attrs.get("lat") is None or attrs.get("lon") is None:
                    raise NoPublicPlace(seed)
                near = Near(float(attrs["lat"]), float(attrs["lon"]), radius_km)
            with self._lock:
                pool = version.within(audience_name, people, near)
        people_ids = people.ids

        def allow(node: str) -> bool:
            return node not in hidden

        def recommendable(node: str) -> bool:
            return node in people_ids or node in initiatives

        audience = Audience(allow, edge_filter(caller, graph), recommendable, PLACING_EDGES)
        inner = IndexSimilarity(services.search.index, ef_search=CANDIDATE_EF_SEARCH)
        similarity = PoolSimilarity(inner, people.ids, len(inner.index))
        personal = frozenset({caller.person_id}) if caller.person_id else frozenset()
        ctx = MatchContext(graph, similarity, self.profiles, audience, version.degrees, pool,
                           initiatives, shared, personal)  # fmt: skip
        return ctx, near

    def recommend(
        self,
        caller: Caller,
        seed: str,
        target: str,
        *,
        mode: Mode = "similar",
        scope: Scope = "global",
        radius_km: float = 100.0,
        limit: int = 10,
        offset: int = 0,
        relation: Relation = "new",
        origin: Found | None = None,
    ) -> list[dict[str, Any]]:
        """The page of recommendations, each presented with its explanation. For the
        caller's own person, what they said they are not interested in is left out.
        Local ones (and any near a named ``origin``) say how far they are in words."""
        ctx, near = self.context(
            caller, seed, scope=scope, radius_km=radius_km, origin=origin, target=target
        )
        hidden = Marks(self.services.store.engine).hidden(seed) if caller.owns(seed) else ()
        with self._computing:
            result = recommend(ctx, seed, target, mode=mode, limit=limit, offset=offset,
                               near=near, relation=relation, exclude=hidden)  # fmt: skip
        return self._present(caller, result, origin, local=scope == "local")

    def _present(
        self, caller: Caller, result: Result, origin: Found | None = None, *, local: bool = False
    ) -> list[dict[str, Any]]:
        store = self.services.store
        nodes = store.get_nodes(sorted(ids_to_describe(result.pool, result.items)))
        describe = {}
        for node_id, node in nodes.items():
            number = node.number if isinstance(node, Sdg) else None
            text = node_text(node) if node.kind != "person" else ""
            describe[node_id] = Described(node_id, node.kind, node.name, number, text)
        if result.pool.seed.id not in nodes:  # deleted since the view saw it: nothing to explain
            return []
        if origin is None and local:
            origin = seed_origin(nodes[result.pool.seed.id])
        profiles = self.profiles
        seed_profile = profiles.get(result.pool.seed.id)
        items = []
        for item in result.items:
            recommended = nodes.get(item.id)
            if recommended is None:  # deleted since the view saw it
                continue
            sides = (seed_profile, profiles.get(item.id))
            found = explanation(result.pool, item, describe, sides, mode=result.mode)
            shown = present_recommended(recommended, caller)
            if origin is not None:
                found["distance"] = public_distance(recommended, origin)
            items.append({"node": shown, "score": round(item.score, 6), "explanation": found})
        return items


def seed_origin(node: Node) -> Found | None:
    """The public place of the node recommendations are for, as a place to measure from."""
    place = getattr(node, "place", None)
    if place is None:
        return None
    if node.kind == "person":
        place = public_place(place, node.location_precision)
    if place.lat is None or place.lon is None:
        return None
    country = place.country or ""
    return Found("town", place.name or "", country, country, None, place.lat, place.lon)


_registry_lock = threading.Lock()


def matching_of(services: Services, holder: Any) -> MatchingService:
    """The matching service of these services, kept on ``holder`` (the app's state)."""
    found = getattr(holder, "matching", None)
    if isinstance(found, MatchingService) and found.services is services:
        return found
    with _registry_lock:
        found = getattr(holder, "matching", None)
        if not isinstance(found, MatchingService) or found.services is not services:
            found = MatchingService(services)
            holder.matching = found
        return found
