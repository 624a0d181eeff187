"""Related wisdom and community learning: the graph's editorial code wired to the service.

This is where :mod:`graph.editorial` meets the index, the tagger and the visibility
rule (:mod:`graph.visibility`):

- **who may be recommended**: a person is a practitioner or connector only when the
  caller's audience may list them (discoverable, and a visibility the audience sees).
  Private profiles and people who are not discoverable are never recommended, to any
  role, admins included; nobody is recommended to themselves. Recommended people are
  shown as a member who is not them sees them (no contact details, places coarsened),
  whoever asks;
- **bounded requests**: the ids of each kind that may be returned, and the people each
  audience may be recommended, are worked out once per version of the graph view (as
  :meth:`api.search.SearchService.hidden_from` does), so a request ranks by nearest-k
  over the index and walks only the neighbourhoods of what it found;
- **one encoding per text**: a draft or a community's issues are encoded once per
  request and the vector serves every ranking and the tag suggestions;
- **drafts stay in the request**: a draft's text is neither stored nor logged; only the
  vectors of stored entries' passages are cached (by their text).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from api.auth import Caller
from api.search import SearchService
from api.services import Services
from api.similarity import IndexSimilarity
from embeddings.search import SemanticIndex
from embeddings.tagging_results import NO_TAGS, Suggestions, Tags
from embeddings.tokenize import tokens
from graph.editorial import (
    Draft,
    Item,
    PassageVectors,
    find_practitioners,
    learn_from_communities,
    related_wisdom,
)
from graph.editorial.explain import topics_of
from graph.editorial.titles import EntryTitles
from graph.model import Node
from graph.store import Store
from graph.texts import node_text
from graph.view import GraphView
from graph.visibility import AS_AUDIENCE, AudienceName, edge_filter, listable, present

Vector = npt.NDArray[np.float32]
Scored = list[tuple[str, float]]
KINDS = ("wisdom_entry", "initiative", "community")

# How recommended people are shown: as a member who is not them sees them.
_SHOWN_AS = AS_AUDIENCE["members"]


@dataclass
class _Sets:
    seq: int = -1
    kinds: dict[str, frozenset[str]] = field(default_factory=dict)
    people: dict[AudienceName, frozenset[str]] = field(default_factory=dict)


class _State:
    """What outlives a request: the passage vector cache, the candidate sets, the titles."""

    def __init__(self) -> None:
        self.passages = PassageVectors()
        self._sets = _Sets()
        self._titles: tuple[int, EntryTitles | None] = (-1, None)
        self._lock = threading.Lock()

    def titles(self, view: GraphView, store: Store) -> EntryTitles:
        """The entries' titles and their word weights, of the current graph version."""
        sets = self.sets(view)
        seq, titles = self._titles
        if seq == sets.seq and titles is not None:
            return titles
        with self._lock:
            seq, titles = self._titles
            if seq != sets.seq or titles is None:
                entries = store.get_nodes(sorted(sets.kinds["wisdom_entry"]))
                titles = EntryTitles.build(((i, n.name) for i, n in entries.items()), tokens)
                self._titles = (sets.seq, titles)
            return titles

    def sets(self, view: GraphView) -> _Sets:
        """The candidate ids of the current graph version (one pass per version)."""
        seq = view.seq
        if self._sets.seq == seq:
            return self._sets
        with self._lock:
            if self._sets.seq != seq:
                self._sets = _candidate_sets(view, seq)
            return self._sets


def _candidate_sets(view: GraphView, seq: int) -> _Sets:
    kinds: dict[str, set[str]] = {kind: set() for kind in KINDS}
    people: dict[AudienceName, set[str]] = {"public": set(), "members": set()}
    for node, attrs in view.graph.nodes(data=True):
        kind = attrs["kind"]
        if kind in kinds:
            kinds[kind].add(node)
        elif kind == "person":
            for audience, listed in people.items():
                if listable(audience, attrs["visibility"], attrs["discoverable"]):
                    listed.add(node)
    return _Sets(seq, {k: frozenset(v) for k, v in kinds.items()},
                 {k: frozenset(v) for k, v in people.items()})  # fmt: skip


_STATES: weakref.WeakKeyDictionary[SearchService, _State] = weakref.WeakKeyDictionary()
_STATES_LOCK = threading.Lock()


def _state(search: SearchService) -> _State:
    with _STATES_LOCK:
        state = _STATES.get(search)
        if state is None:
            state = _STATES[search] = _State()
        return state


class RequestSimilarity(IndexSimilarity):
    """The index's text similarity for one request: each free text is encoded once."""

    def __init__(self, index: SemanticIndex) -> None:
        super().__init__(index)
        self._texts: dict[str, Vector] = {}

    def vector(self, text: str) -> Vector:
        """The text's vector (encoded once per request)."""
        return np.asarray(self.encode([text])[0], dtype=np.float32)

    def encode(self, texts: Sequence[str]) -> Vector:
        missing = list(dict.fromkeys(t for t in texts if t not in self._texts))
        if missing:
            fresh = self.index.encoder.encode(missing)
            self._texts.update(zip(missing, fresh, strict=True))
        if not texts:
            return np.zeros((0, self.index.encoder.dimension), dtype=np.float32)
        return np.stack([self._texts[t] for t in texts]).astype(np.float32)


class Editorial:
    """Related wisdom and community learning for one caller."""

    def __init__(self, services: Services, caller: Caller) -> None:
        self.services = services
        self.caller = caller
        self.search = services.search
        self.state = _state(self.search)
        self.similarity = RequestSimilarity(self.search.index)

    def people(self, sets: _Sets) -> frozenset[str]:
        """The people this caller may be recommended (never themselves)."""
        found = sets.people[self.caller.audience]
        me = self.caller.person_id
        return found - {me} if me is not None and me in found else found

    def tags(self, text: str, vector: Vector | None, existing: Tags = NO_TAGS) -> Suggestions:
        """Suggested SDGs and sectors, reusing the text's vector when the models agree;
        ``existing`` (a node's own tags) are never suggested as new."""
        tagger = self.services.tagger
        return tagger.suggest_reusing(text, vector, self.search.index.encoder, existing=existing)

    def related(self, draft: Draft, node: Node | None, *, limit: int) -> dict[str, Any]:
        """Related entries, near-duplicates, tags and practitioners for a draft or an entry."""
        view = self.services.view
        sets = self.state.sets(view)
        if node is not None:
            vector = self.search.index.vector(node.id)
            topics = topics_of(view.graph, node.id)
            tags = self.tags(node_text(node), vector, existing_tags(topics))
        else:
            tags = self.tags(draft.text, self.similarity.vector(draft.text))
            topics = suggested_topics(tags)
        found = related_wisdom(
            view.graph, self.services.store, self.similarity, draft,
            entries=sets.kinds["wisdom_entry"], topics=topics, tokens=tokens, limit=limit,
            cache=self.state.passages, titles=self.state.titles(view, self.services.store),
        )  # fmt: skip
        practitioners = find_practitioners(
            view.graph, self.services.store, self.similarity, draft, found.weights(),
            people=self.people(sets), limit=limit,
        )  # fmt: skip
        shown = self.present([*found.related, *found.near_duplicates, *practitioners])
        return {
            "related": shown(found.related),
            "near_duplicates": shown(found.near_duplicates),
            "tags": tags,
            "practitioners": shown(practitioners),
        }

    def learn(self, community: str, issues: str, *, limit: int) -> dict[str, Any]:
        """Similar communities, initiatives and connectors for a community's issues."""
        view = self.services.view
        sets = self.state.sets(view)
        tags = self.tags(issues, self.similarity.vector(issues))
        goals = issue_goals(tags)
        found = learn_from_communities(
            view.graph, self.services.store, self.similarity, community, issues,
            communities=sets.kinds["community"], initiatives=sets.kinds["initiative"],
            entries=sets.kinds["wisdom_entry"], people=self.people(sets), goals=goals,
            tokens=tokens,
            allow_edge=edge_filter(self.caller, view.graph), limit=limit,
            cache=self.state.passages,
        )  # fmt: skip
        items = [*found.communities, *found.initiatives, *found.entries, *found.connectors]
        shown = self.present(items)
        communities = shown(found.communities)
        for similar in communities:
            for deed in similar["explanation"]["did"]:
                deed["href"] = web_path(deed["id"])
        return {
            "communities": communities,
            "initiatives": shown(found.initiatives),
            "entries": shown(found.entries),
            "connectors": shown(found.connectors),
            "goals": self.goals(tags),
        }

    def goals(self, tags: Suggestions) -> list[dict[str, Any]]:
        """The goals the issues were read as, with the confidence that weights each."""
        chosen = issue_goals(tags)
        names = self.services.store.get_nodes(chosen)
        return [
            {"id": goal, "number": int(goal.partition(":")[2]), "confidence": round(weight, 4),
             "name": names[goal].name if goal in names else None}
            for goal, weight in chosen.items()
        ]  # fmt: skip

    def present(self, items: Sequence[Item]) -> Callable[[Sequence[Item]], list[dict[str, Any]]]:
        """A function from items to their JSON, the nodes read once for all of them."""
        nodes = self.services.store.get_nodes(item.node_id for item in items)

        def shown(chosen: Sequence[Item]) -> list[dict[str, Any]]:
            return [
                {"node": present(nodes[item.node_id], _SHOWN_AS), "score": item.score,
                 "explanation": item.explanation}
                for item in chosen
                if item.node_id in nodes
            ]  # fmt: skip

        return shown


def web_path(node_id: str) -> str:
    """The address of a node's page in the web app (as ``web/src/kinds.ts`` builds it)."""
    kind, _, slug = node_id.partition(":")
    if kind == "person":
        return f"/people/{slug}"
    if kind == "initiative":
        return f"/initiatives/{slug}"
    if kind == "sector":
        return f"/sectors/{slug}"
    return f"/nodes/{node_id}"


def suggested_topics(tags: Suggestions) -> frozenset[str]:
    """The goals and sectors suggested (above the tagger's thresholds) for a text."""
    goals = {f"sdg:{s.goal}" for s in tags.sdgs if s.suggested}
    return frozenset(goals | {f"sector:{s.slug}" for s in tags.sectors if s.suggested})


def existing_tags(topics: frozenset[str]) -> Tags:
    """Goals and sectors from topic ids such as ``sdg:16`` and ``sector:peace``."""
    kinds = [topic.partition(":") for topic in topics]
    return Tags(
        goals=frozenset(int(rest) for kind, _, rest in kinds if kind == "sdg" and rest.isdigit()),
        sectors=frozenset(rest for kind, _, rest in kinds if kind == "sector"),
    )


ISSUE_GOAL_CONFIDENCE = 0.25


def issue_goals(tags: Suggestions) -> dict[str, float]:
    """The goals a community's issues touch: suggested, or read with some confidence.

    Each is weighted by its confidence: the tagger reads short phrases less surely than
    whole texts, so a goal only sways the ranking as much as the reading is sure.
    """
    return {
        f"sdg:{s.goal}": s.confidence
        for s in tags.sdgs
        if s.suggested or s.confidence >= ISSUE_GOAL_CONFIDENCE
    }
