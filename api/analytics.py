"""The councils' analytics as the service answers them: audiences, presented nodes, payloads.

Audiences: every figure is computed for one of two audiences, never per caller.
Anonymous callers get the ``public`` audience (public, discoverable people only);
members, editors and admins get ``members`` (public and members-only, discoverable).
Private and undiscoverable people are in no figure for anybody, admins and the people
themselves included: these are recommendations and aggregates, not profile views.

Nodes are presented as the audience may see them (:func:`graph.visibility.present` for a
viewer of that audience who owns nothing), so no payload here carries contact details or
a place finer than its owner's precision, whoever calls. Each person is checked against
their current record before being shown, so a profile hidden a moment ago never
appears, even from a figure computed just before.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from api.auth import Caller
from api.services import Services
from graph.analytics import Audience, SectorAnalytics, load_regions
from graph.analytics.bridges import explain_bridge, explain_failure_point
from graph.analytics.councils import explain_proposal, explain_seat
from graph.analytics.freshness import Staleness
from graph.analytics.gaps import explain_gap
from graph.analytics.groups import explain_group
from graph.analytics.names import join_words, node_ref, plural, sdg_phrase, sdg_ref
from graph.analytics.overlap import WEIGHTS as OVERLAP_WEIGHTS
from graph.analytics.synergies import MAX_PAIRS, PER_NODE, SynergyKind, explain_synergy
from graph.analytics.versions import Versioned
from graph.model import Node
from graph.visibility import AS_AUDIENCE, may_see_node, present

_ENGINES: dict[int, SectorAnalytics] = {}
_ENGINES_LOCK = threading.Lock()
_KIND_PLURAL = {"initiative": "initiatives", "person": "people",
                "wisdom_entry": "Wisdom Book entries"}  # fmt: skip
_KIND_SINGULAR = {"initiative": "initiative", "person": "person",
                  "wisdom_entry": "entry"}  # fmt: skip


def partial_texts(services: Services) -> Callable[[], bool]:
    """Whether some text vectors are still being computed (``/ready``'s ``indexing``);
    holds the search service, not ``services`` (whose engine it goes into)."""
    search = services.search
    return lambda: search.index.progress is not None


def analytics(services: Services) -> SectorAnalytics:
    """The analytics engine of these services (one per process, made on first use)."""
    key = id(services)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None or engine.store is not services.store:
            settings = services.settings
            regions = load_regions(settings.reference_dir)
            staleness = Staleness(
                settings.analytics_stale_changes, settings.analytics_stale_seconds
            )
            engine = SectorAnalytics(services.store, services.view, regions,
                                     lock=services.feed.lock, epochs=services.epochs,
                                     staleness=staleness, touches=services.touches,
                                     shared=services.figures,
                                     partial_texts=partial_texts(services),
                                     follow=settings.councils_followed)  # fmt: skip
            _ENGINES[key] = engine
            weakref.finalize(services, _ENGINES.pop, key, None)
    return engine


def as_of(found: Versioned[Any]) -> dict[str, Any]:
    """Which version of the view a figure is from, and whether that is the current one."""
    return {"seq": found.seq, "current": found.current}


def audience_of(caller: Caller) -> Audience:
    return caller.audience


class Presenter:
    """Presents nodes for one audience, dropping anyone the audience may not list now."""

    def __init__(self, services: Services, audience: Audience) -> None:
        self.services = services
        self.audience = audience
        self.engine = analytics(services)
        self._viewer = AS_AUDIENCE[audience]

    def listable(self, node: Node) -> bool:
        return may_see_node(self._viewer, node, listing=True)

    def nodes(self, ids: Iterable[str]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        """(presented record by id, name by id) of the listable nodes among ``ids``."""
        found = self.services.store.get_nodes(ids)
        shown = {i: present(n, self._viewer) for i, n in found.items() if self.listable(n)}
        return shown, {i: found[i].name for i in shown}

    def names(self, ids: Iterable[str]) -> dict[str, str]:
        return self.engine.names(ids)


def _float(value: Any) -> float:
    return round(float(value), 4)


def _grid(matrix: Any) -> list[list[float]]:
    return [[_float(v) for v in row] for row in np.asarray(matrix)]


# -- overlap -------------------------------------------------------------------


def overlap_payload(
    services: Services, caller: Caller, detail: tuple[str, str] | None
) -> dict[str, Any]:
    audience = audience_of(caller)
    engine = analytics(services)
    versioned = engine.overlap(audience, services.similarity)
    found = versioned.value
    names = engine.names(found.sectors)
    n = len(found.sectors)
    payload: dict[str, Any] = {
        "sectors": [node_ref(s, names) for s in found.sectors],
        "matrix": _grid(found.matrix),
        "components": {name: _grid(m) for name, m in found.components.items()},
        "weights": {k: round(v, 4) for k, v in OVERLAP_WEIGHTS.items()},
        "ranges": {
            k: {"min": _float(lo), "max": _float(hi)} for k, (lo, hi) in found.ranges.items()
        },
        "shared_sdgs": [
            [[int(s.partition(":")[2]) for s in found.shared_sdgs(i, j)] for j in range(n)]
            for i in range(n)
        ],
        "shared_people": [[int(v) for v in row] for row in found.shared_people],
        "people": [int(v) for v in found.people],
        "audience": audience,
        "explanation": {"summary": found.summary(names)},
        "as_of": as_of(versioned),
    }
    if detail is not None:
        i, j = (found.sectors.index(s) for s in detail)
        payload["detail"] = found.cell(i, j, names)
    return payload


# -- synergies -----------------------------------------------------------------


def synergies_payload(
    services: Services,
    caller: Caller,
    sector: str,
    *,
    other: str | None,
    kind: SynergyKind,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    audience = audience_of(caller)
    presenter = Presenter(services, audience)
    versioned = presenter.engine.synergies(
        audience, services.similarity, sector, other=other, kind=kind
    )
    ranked = versioned.value
    window = ranked[offset : offset + limit]
    shown, node_names = presenter.nodes([i for p in window for i in (p.a, p.b)])
    places = {c for p in window for c in p.shared_communities}
    names = {**presenter.names([sector, *places, *(s for p in window for s in p.b_sectors)])}
    names.update(node_names)
    items = [
        {
            "a": shown[p.a],
            "b": shown[p.b],
            "score": p.score,
            "explanation": explain_synergy(p, sector, names, people=kind == "person"),
        }
        for p in window
        if p.a in shown and p.b in shown
    ]
    here = names.get(sector, sector)
    there = names.get(other, other) if other else "the other sectors"
    return {
        "sector": node_ref(sector, names),
        "with": node_ref(other, names) if other else "all",
        "kind": kind,
        "items": items,
        "total": len(ranked),
        "limit": limit,
        "offset": offset,
        "explanation": {
            "summary": (
                f"{plural(len(ranked), 'pair')} of {_KIND_PLURAL[kind]} from {here} and "
                f"{there} that share a goal or a community are ranked (at most {MAX_PAIRS}, "
                f"each {_KIND_SINGULAR[kind]} in at most {PER_NODE}), closest first: how alike "
                "their work reads counts most, then the goals they share, then the places."
            )
        },
        "as_of": as_of(versioned),
    }


# -- bridges ---------------------------------------------------------------------


def bridges_payload(
    services: Services, caller: Caller, sector: str, *, kind: str, limit: int
) -> dict[str, Any]:
    audience = audience_of(caller)
    presenter = Presenter(services, audience)
    versioned = presenter.engine.bridges(audience, sector)
    found = versioned.value
    chosen = [b for b in found.bridges if b.node.partition(":")[0] == kind][: limit * 2]
    points = list(found.failure_points[: limit * 2])
    shown, node_names = presenter.nodes([*(b.node for b in chosen), *(p.node for p in points)])
    names = presenter.names([sector, *found.linked, *found.unlinked])
    names.update(node_names)
    person = kind == "person"
    items = [
        {"node": shown[b.node], "score": b.score,
         "explanation": explain_bridge(b, sector, names, person=person)}
        for b in chosen if b.node in shown
    ][:limit]  # fmt: skip
    failures = [
        {"node": shown[p.node], "score": float(len(p.sectors)),
         "explanation": explain_failure_point(p, sector, names)}
        for p in points if p.node in shown
    ][:limit]  # fmt: skip
    here = names.get(sector, sector)
    size = plural(found.size, "person, initiative or council", "people, initiatives and councils")
    others = len(found.linked) + len(found.unlinked)
    summary = f"{here}'s network has {size}; {len(found.linked)} of the other {others} sectors"
    summary += " link into its core"
    if found.unlinked:
        summary += f" ({join_words([names.get(s, s) for s in found.unlinked])} do not)"
    if found.failure_points:
        spof = plural(len(found.failure_points), "single point", "single points")
        summary += f", and {spof} of failure keep some of them linked."
    else:
        summary += ", and no single person or initiative is the only link for any of them."
    return {
        "sector": node_ref(sector, names),
        "kind": kind,
        "items": items,
        "single_points_of_failure": failures,
        "linked_sectors": [node_ref(s, names) for s in found.linked],
        "unlinked_sectors": [node_ref(s, names) for s in found.unlinked],
        "network_size": found.size,
        "explanation": {"summary": summary},
        "as_of": as_of(versioned),
    }


# -- groups ------------------------------------------------------------------------


def groups_payload(
    services: Services, caller: Caller, sector: str, *, members: int, limit: int
) -> dict[str, Any]:
    audience = audience_of(caller)
    presenter = Presenter(services, audience)
    versioned = presenter.engine.groups(audience, services.similarity, sector)
    found = versioned.value
    listed_groups = found.groups[:limit]
    wanted = [m for g in listed_groups for m in g.members[: members * 2]]
    shown, _ = presenter.nodes(wanted)
    names = presenter.names([sector, *(s for g in listed_groups for s, _ in g.sdgs)])
    items = []
    for group in listed_groups:
        listed = [shown[m] for m in group.members if m in shown][:members]
        items.append(
            {
                "id": group.id,
                "label": group.label,
                "size": sum(group.kinds.values()),
                "kinds": group.kinds,
                "members": listed,
                "explanation": explain_group(group, names),
            }
        )
    here = names.get(sector, sector)
    summary = (
        f"{plural(len(found.groups), 'group')} of at least 3 in {here}, found among "
        f"{found.analysed} of its {found.total} people, initiatives and entries"
        f" ({found.ungrouped} left in smaller clusters)."
    )
    return {
        "sector": node_ref(sector, names),
        "items": items,
        "groups": len(found.groups),
        "analysed": found.analysed,
        "total": found.total,
        "ungrouped": found.ungrouped,
        "explanation": {"summary": summary},
        "as_of": as_of(versioned),
    }


# -- gaps ------------------------------------------------------------------------------


def gaps_payload(services: Services, caller: Caller, sector: str) -> dict[str, Any]:
    audience = audience_of(caller)
    engine = analytics(services)
    versioned = engine.gaps(audience, sector)
    found = versioned.value
    names = engine.names([sector, *found.sdgs])
    cells = [
        [
            {
                "count": int(found.counts[g, r]),
                "people": int(found.people[g, r]),
                "content": int(found.content[g, r]),
                "expected": _float(found.expected[g, r]),
                "gap": found.is_gap(g, r),
            }
            for r in range(len(found.regions))
        ]
        for g in range(len(found.sdgs))
    ]
    gaps = found.gaps()
    here = names.get(sector, sector)
    worst = [f"{sdg_phrase(found.sdgs[g], names)} in {found.regions[r]}" for g, r in gaps[:3]]
    summary = (
        f"{plural(len(gaps), 'gap')} in {here}'s work on its key goals "
        f"({join_words([sdg_phrase(s, names) for s in found.key_sdgs])})"
        + (f"; the largest: {join_words(worst)}." if worst else ".")
    )
    return {
        "sector": node_ref(sector, names),
        "regions": list(found.regions),
        "sdgs": [sdg_ref(s, names) for s in found.sdgs],
        "cells": cells,
        "key_sdgs": [sdg_ref(s, names) for s in found.key_sdgs],
        "network_share": dict(zip(found.regions, found.network_share, strict=True)),
        "unplaced": found.unplaced,
        "gaps": [explain_gap(found, g, r, names) for g, r in gaps],
        "explanation": {"summary": summary},
        "as_of": as_of(versioned),
    }


# -- councils ----------------------------------------------------------------------------


def proposal_payload(
    services: Services, caller: Caller, sector: str, *, size: int, exclude: list[str]
) -> dict[str, Any]:
    audience = audience_of(caller)
    presenter = Presenter(services, audience)
    versioned = presenter.engine.propose(
        audience, services.similarity, sector, size=size, exclude=exclude
    )
    proposal = versioned.value
    shown, node_names = presenter.nodes(s.candidate.node for s in proposal.seats)
    bridged = {s for seat in proposal.seats for s in seat.candidate.bridged}
    names = presenter.names([sector, *proposal.sdgs, *bridged])
    names.update(node_names)
    members = [
        {"node": shown[s.candidate.node], "score": s.score,
         "explanation": explain_seat(s, proposal, names)}
        for s in proposal.seats if s.candidate.node in shown
    ]  # fmt: skip
    covered, missing = proposal.covered, proposal.uncovered

    def groups(ids: list[str]) -> list[dict[str, str]]:
        return [{"id": g, "label": proposal.group_labels.get(g, g)} for g in ids]

    return {
        "sector": node_ref(sector, names),
        "members": members,
        "coverage": {
            "regions": covered["regions"],
            "sdgs": [sdg_ref(s, names) for s in covered["sdgs"]],
            "groups": groups(covered["groups"]),
            "board_member": proposal.board_member,
        },
        "uncovered": {
            "regions": missing["regions"],
            "sdgs": [sdg_ref(s, names) for s in missing["sdgs"]],
            "groups": groups(missing["groups"]),
        },
        "candidates": proposal.pool,
        "explanation": {"summary": explain_proposal(proposal, names)},
        "as_of": as_of(versioned),
    }
