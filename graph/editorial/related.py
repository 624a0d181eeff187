"""Related Wisdom Book entries for a draft or a filed entry, and its near-duplicates.

The entries closest in meaning are found through :class:`~graph.similarity.TextSimilarity`
(nearest-k over the entries only). Among the :data:`DUPLICATE_DEPTH` closest, an entry
whose body shares at least :data:`NEAR_DUPLICATE` of its word shingles with the query's
body (see :func:`graph.editorial.text.resemblance`) is a *near-duplicate*: the same
text filed again with a few words changed. The threshold was measured on the demo's
generated near-duplicates (``scripts/evaluate_duplicates.py``, ``docs/editors.md``).

The other candidates are *related*, ranked by :data:`RANKING`:
``0.6375 * text similarity + 0.25 * title match + 0.1125 * topic share`` (the title
takes a quarter; text and topics share the rest as they did before it, 85 to 15).
The *title match* (:mod:`graph.editorial.titles`) says how well the entry's title
names what the draft is about, word by word, rare words counting most; the *topic
share* is the part of the query's goals and sectors (its own tags, or the ones
suggested for a draft) that the entry is tagged with too. Text similarity alone ranks
by theme: issue 11 saw a violence-interrupter draft whose body speaks of mentoring
teenagers find five peer-mentoring entries and not the entry on violence
interrupters, whose title names the practice. The candidates are the
:data:`CANDIDATE_DEPTH` entries closest in meaning and the :data:`TITLE_DEPTH` best by
title match. Measured before and after in ``docs/editors.md``
(``scripts/evaluate_related.py``). Each entry is shown with its passages that best
match the query's, the words they share, the title words they share, and the shared
goals and sectors.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import networkx as nx

from graph.editorial.explain import (
    Item,
    NodeSource,
    listing,
    quoted,
    rounded,
    split_topics,
    topic_name,
    topic_order,
    topics_of,
)
from graph.editorial.passages import PassageMatch, PassageVectors, match_passages
from graph.editorial.text import Tokenizer, resemblance, shared_words, shingles
from graph.editorial.titles import EntryTitles, TitleMatch
from graph.model import Node, WisdomEntry
from graph.similarity import TextSimilarity
from graph.texts import Passage, node_passages

NEAR_DUPLICATE = 0.65
"""Least word resemblance (shared 3-term shingles over all) for a near-duplicate."""
DUPLICATE_DEPTH = 10
"""How many of the closest entries are checked for near-duplication."""
CANDIDATE_DEPTH = 30
"""How many of the closest entries are re-ranked for the related list (at least)."""
TITLE_DEPTH = 10
"""How many entries best by title match join the candidates."""


@dataclass(frozen=True, slots=True)
class Ranking:
    """The weights of a related entry's score."""

    text: float
    title: float
    topics: float


RANKING = Ranking(text=0.6375, title=0.25, topics=0.1125)
BEFORE = Ranking(text=0.85, title=0.0, topics=0.15)
"""The ranking before the title match (text similarity and topics alone), for evaluation."""


@dataclass(frozen=True, slots=True)
class Draft:
    """What the entries are related to: a draft's fields, or a filed entry (``node_id``)."""

    passages: tuple[Passage, ...]
    node_id: str | None = None

    @classmethod
    def written(cls, title: str, body: str) -> Draft:
        """A draft not filed yet."""
        return cls((("title", " ".join(title.split())), ("body", body.strip())))

    @classmethod
    def filed(cls, entry: Node) -> Draft:
        """An entry of the book, compared by its stored vector and its fields."""
        return cls(tuple(node_passages(entry)), entry.id)

    @property
    def text(self) -> str:
        """The whole text, as the index would hold it."""
        return "\n\n".join(text for _, text in self.passages)

    @property
    def body(self) -> str:
        """The text compared word by word with an entry's body."""
        return "\n\n".join(text for field, text in self.passages if field == "body") or self.text

    @property
    def title(self) -> str:
        """What the draft is called (a filed entry's name)."""
        return next((text for field, text in self.passages if field in ("title", "name")), "")

    @property
    def noun(self) -> str:
        return "your draft" if self.node_id is None else "this entry"


@dataclass(frozen=True, slots=True)
class Related:
    """Related entries and near-duplicates, best first."""

    related: list[Item]
    near_duplicates: list[Item]

    def weights(self) -> dict[str, float]:
        """How related each entry found is, the best at 1 (near-duplicates by text similarity)."""
        found = {item.node_id: item.score for item in self.related}
        for item in self.near_duplicates:
            found[item.node_id] = float(item.explanation["components"]["text"])
        top = max(found.values(), default=0.0)
        return {i: w / top for i, w in found.items()} if top > 0 else {}


def nearest_entries(
    similarity: TextSimilarity, draft: Draft, k: int, entries: Collection[str]
) -> list[tuple[str, float]]:
    """The k entries closest to the draft in meaning (never the filed entry itself)."""
    if draft.node_id is not None:
        return similarity.nearest(draft.node_id, k, among=entries)
    return similarity.nearest_text(draft.text, k, among=entries)


def wording_resemblance(
    draft: Draft,
    ranked: Sequence[tuple[str, float]],
    found: Mapping[str, Node],
    tokens: Tokenizer,
) -> dict[str, float]:
    """The word resemblance of the draft's body to each of the closest entries' bodies."""
    mine = shingles(draft.body, tokens)
    resembling: dict[str, float] = {}
    for node_id, _ in ranked[:DUPLICATE_DEPTH]:
        entry = found.get(node_id)
        if isinstance(entry, WisdomEntry):
            resembling[node_id] = resemblance(mine, shingles(entry.body or entry.name, tokens))
    return resembling


def near_duplicates(
    draft: Draft,
    ranked: Sequence[tuple[str, float]],
    found: Mapping[str, Node],
    tokens: Tokenizer,
) -> dict[str, float]:
    """The entries among the closest ``ranked`` that are near-duplicates, with their resemblance.

    ``ranked``: entries by text similarity, best first (:func:`nearest_entries`);
    ``found``: their nodes.
    """
    scores = wording_resemblance(draft, ranked, found, tokens)
    return {node_id: share for node_id, share in scores.items() if share >= NEAR_DUPLICATE}


def related_wisdom(
    graph: nx.MultiDiGraph,
    nodes: NodeSource,
    similarity: TextSimilarity,
    draft: Draft,
    *,
    entries: Collection[str],
    topics: Collection[str],
    tokens: Tokenizer,
    limit: int = 5,
    cache: PassageVectors | None = None,
    titles: EntryTitles | None = None,
    ranking: Ranking = RANKING,
) -> Related:
    """The ``limit`` entries most related to ``draft`` and its near-duplicates, explained.

    ``entries``: the ids of the entries that may be returned; ``topics``: the query's
    goals and sectors (``sdg:<n>``, ``sector:<slug>``); ``titles``: the entries' titles
    for the title match (without them, and with ``ranking.title`` 0, there is none).
    """
    ranked = nearest_entries(similarity, draft, max(CANDIDATE_DEPTH, limit + DUPLICATE_DEPTH),
                             entries)  # fmt: skip
    named = _title_matches(titles, draft, entries) if ranking.title > 0 else {}
    extra = [i for i, _ in _best(named, TITLE_DEPTH) if i not in dict(ranked)]
    found = nodes.get_nodes([*(node_id for node_id, _ in ranked), *extra])
    ranked = [(i, cos) for i, cos in ranked if isinstance(found.get(i), WisdomEntry)]
    wording = near_duplicates(draft, ranked, found, tokens)
    cosine = dict(ranked)
    cosine.update((i, c) for i, c in _cosines(similarity, draft, extra).items()
                  if isinstance(found.get(i), WisdomEntry))  # fmt: skip
    asked = frozenset(topics)
    shared = {i: asked & topics_of(graph, i) for i in cosine if i not in wording}
    none = TitleMatch(0.0, ())
    rows = [
        (i, cos, named.get(i, none), len(shared[i]) / len(asked) if asked else 0.0)
        for i, cos in cosine.items() if i not in wording
    ]  # fmt: skip
    scored = sorted(rows, key=lambda row: (-_score(ranking, *row[1:]), row[0]))[:limit]
    duplicates = sorted(wording, key=lambda i: (-wording[i], i))
    matches = match_passages(
        similarity, draft.passages,
        {i: node_passages(found[i]) for i in [*duplicates, *(row[0] for row in scored)]},
        cache=cache,
    )  # fmt: skip
    names = nodes.get_nodes({t for i, *_ in scored for t in shared[i]})
    related = [
        _related(draft, i, cos, title, share, matches.get(i, []), shared[i], names, tokens,
                 ranking)
        for i, cos, title, share in scored
    ]  # fmt: skip
    near = [_duplicate(draft, i, wording[i], cosine[i], matches.get(i, [])) for i in duplicates]
    return Related(related, near)


def _title_matches(
    titles: EntryTitles | None, draft: Draft, entries: Collection[str]
) -> dict[str, TitleMatch]:
    if titles is None:
        return {}
    found = titles.match(draft.title, draft.text, among=entries)
    found.pop(draft.node_id or "", None)
    return found


def _best(named: Mapping[str, TitleMatch], k: int) -> list[tuple[str, float]]:
    return sorted(((i, m.score) for i, m in named.items()), key=lambda p: (-p[1], p[0]))[:k]


def _cosines(similarity: TextSimilarity, draft: Draft, ids: Sequence[str]) -> dict[str, float]:
    """The text similarity of the draft with these entries (ones without a vector left out)."""
    if not ids:
        return {}
    if draft.node_id is not None:
        return similarity.scores(draft.node_id, ids)
    return dict(similarity.nearest_text(draft.text, len(ids), among=ids))


def _score(ranking: Ranking, cosine: float, title: TitleMatch, share: float) -> float:
    return ranking.text * cosine + ranking.title * title.score + ranking.topics * share


def _related(
    draft: Draft,
    node_id: str,
    cosine: float,
    title: TitleMatch,
    share: float,
    matches: Sequence[PassageMatch],
    shared: frozenset[str],
    names: dict[str, Node],
    tokens: Tokenizer,
    ranking: Ranking,
) -> Item:
    score = _score(ranking, cosine, title, share)
    words: list[str] = []
    for match in matches:
        words += [w for w in shared_words(match.query_text, match.text, tokens) if w not in words]
    # In words only: the numbers stay in ``components`` (issue 13: no raw scores shown).
    summary = f"Close in meaning to {draft.noun}"
    if matches:
        best = matches[0]
        summary += (f": its passage {quoted(best.text)} comes closest to "
                    f"{quoted(best.query_text, 70)} in {draft.noun}")  # fmt: skip
    if title.words and ranking.title > 0:
        named = listing([quoted(w) for w in title.words[:3]])
        summary += f"; its title names {named}, as {draft.noun} does"
    about = [topic_name(names[t]) for t in sorted(shared, key=topic_order) if t in names]
    if about:
        summary += f"; both are about {listing(about)}"
    explanation = {
        "summary": summary + ".",
        "components": {
            "text": rounded(cosine),
            "title": rounded(title.score),
            "topics": rounded(share),
        },
        "title_terms": list(title.words),
        "passages": [part for match in matches for part in match.as_json()],
        "matched_terms": words[:10],
        **split_topics(shared, names),
    }
    return Item(node_id, rounded(score), explanation)


def _duplicate(
    draft: Draft, node_id: str, wording: float, cosine: float, matches: Sequence[PassageMatch]
) -> Item:
    summary = (
        f"Nearly the same text as {draft.noun}: {wording:.0%} of their three-word runs are "
        f"shared (a near-duplicate from {NEAR_DUPLICATE:.0%})."
    )
    explanation = {
        "summary": summary,
        "components": {"wording": rounded(wording), "text": rounded(cosine)},
        "threshold": NEAR_DUPLICATE,
        "passages": [part for match in matches for part in match.as_json()],
    }
    return Item(node_id, rounded(wording), explanation)
