"""Related wisdom on the demo's own Wisdom Book with the real model: the same practice first.

The demo of 2,000 people (seed 7) has 166 entries, one of them on violence interrupters
and four on peer mentoring: the case of issue 11, where a violence-interrupter draft
whose body speaks of mentoring teenagers must still find the one entry on violence
interrupters first. The entries' vectors are kept in ``var/test-cache`` between runs,
keyed by their texts, so they cannot go stale; the tagger's encoded reference texts
too, as the service keeps them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest

from api.editors import suggested_topics
from embeddings.encoder import Encoder, load_encoder
from embeddings.tagging import fit_on_shipped_data
from embeddings.tokenize import tokens
from graph.demo import demo_records
from graph.edges import Edge
from graph.editorial import Draft, related_wisdom
from graph.editorial.titles import EntryTitles
from graph.model import Node, WisdomEntry
from graph.similarity import VectorSimilarity
from graph.texts import node_text
from tests.api.conftest import SHARED_CACHE
from tests.conftest import DATA

PEOPLE = 2_000
PRACTICE = "violence interrupters trained from the neighbourhood"
DRAFTS = [
    ("Violence interrupters", "We mentor teenagers after shootings in our neighbourhood."),
    ("Violence interrupters on our block",
     "After three shootings in one summer we started mentoring teenagers who were close to "
     "the groups involved. Older men who grew up on these streets meet them after school, "
     "talk them down when tempers rise and help them find jobs."),
    ("Our violence interrupters",
     "Young people mentoring younger teenagers: after each shooting our mentors visit the "
     "families and keep the teenagers close."),
]  # fmt: skip


class Book:
    def __init__(self, entries: list[WisdomEntry], graph: nx.MultiDiGraph,
                 similarity: VectorSimilarity, encoder: Encoder) -> None:  # fmt: skip
        self.nodes = {e.id: e for e in entries}
        self.graph = graph
        self.similarity = similarity
        self.tagger = fit_on_shipped_data(encoder, Path(DATA), cache=SHARED_CACHE / "tagging")
        self.titles = EntryTitles.build(((e.id, e.name) for e in entries), tokens)

    def get_nodes(self, ids: Iterable[str]) -> dict[str, Node]:
        return {i: self.nodes[i] for i in ids if i in self.nodes}


def vectors(encoder: Encoder, texts: list[str]) -> Any:
    key = hashlib.sha256("\x1e".join([encoder.name, *texts]).encode()).hexdigest()[:16]
    path = SHARED_CACHE / f"related-demo-{PEOPLE}-{key}.npy"
    if path.exists():
        return np.load(path)
    found = np.asarray(encoder.encode(texts), dtype=np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, found)
    return found


@pytest.fixture(scope="module")
def book() -> Book:
    records = list(demo_records(DATA, seed=7, people=PEOPLE))
    entries = [r for r in records if isinstance(r, WisdomEntry)]
    graph = nx.MultiDiGraph()
    for edge in records:
        if isinstance(edge, Edge) and edge.kind in ("in_sector", "addresses"):
            graph.add_node(edge.source, kind="wisdom_entry")
            graph.add_node(edge.target, kind=edge.target.partition(":")[0])
            graph.add_edge(edge.source, edge.target, key=edge.kind)
    encoder = load_encoder()
    stored = vectors(encoder, [node_text(e) for e in entries])
    similarity = VectorSimilarity(
        {e.id: v for e, v in zip(entries, stored, strict=True)}, encoder=encoder
    )
    return Book(entries, graph, similarity, encoder)


def test_the_demo_has_the_case_of_the_issue(book: Book) -> None:
    names = [e.name.lower() for e in book.nodes.values()]
    assert sum(PRACTICE in n for n in names) == 1
    assert sum("peer mentoring" in n for n in names) >= 4


@pytest.mark.parametrize(("title", "body"), DRAFTS)
def test_a_violence_interrupter_draft_finds_the_violence_interrupter_entry_first(
    book: Book, title: str, body: str
) -> None:
    draft = Draft.written(title, body)
    found = related_wisdom(
        book.graph, book, book.similarity, draft, entries=frozenset(book.nodes),
        topics=suggested_topics(book.tagger.suggest(draft.text)), tokens=tokens, limit=5,
        titles=book.titles,
    )  # fmt: skip
    first = found.related[0]
    assert PRACTICE in book.nodes[first.node_id].name.lower(), [
        book.nodes[i.node_id].name for i in found.related
    ]
    why = first.explanation
    assert "interrupters" in why["title_terms"]
    assert "its title names " in why["summary"]
