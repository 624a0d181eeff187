"""How well an entry's title names what a draft is about: the key-phrase match of related wisdom.

An entry's title names its practice ("Violence interrupters trained from the
neighbourhood in Placer County"); a draft on the same practice names it too, in its
title or in its body. Text similarity of whole texts misses this when the body leans
towards a neighbouring theme: a violence-interrupter draft that speaks of mentoring
teenagers lands among the peer-mentoring entries. So the titles are matched word by
word, each word weighted by how rare it is among the titles (the idf of BM25,
``ln(1 + (N - df + 0.5) / (df + 0.5))``), so that a title's rare words ("interrupters")
count and its common ones ("lessons", "notes", "year") hardly do.

The match of an entry with a draft is the share of its title's weight that the draft
names: a word of the entry's title counts fully when the draft's title holds it too,
:data:`BODY_CREDIT` of it when only the draft's body does (a plain title, "Looking
back", with the practice told in the body), nothing otherwise. So the draft's title
weighs most, as an editor's title says what the entry is about.

Words are the :data:`~graph.editorial.text.Tokenizer`'s terms, so "interrupters" and
"interrupter" meet as they would in search.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from graph.editorial.text import Tokenizer

BODY_CREDIT = 0.5
"""What a title word counts for when only the draft's body holds it."""


@dataclass(frozen=True)
class TitleMatch:
    """An entry's match with a draft, and the draft's words it shares (as written)."""

    score: float
    words: tuple[str, ...]


@dataclass(frozen=True)
class EntryTitles:
    """The terms of the entries' titles and how rare each is: built once per graph version."""

    terms: Mapping[str, frozenset[str]]
    idf: Mapping[str, float]
    unseen: float
    """The idf of a term no title holds."""
    tokens: Tokenizer

    @classmethod
    def build(cls, titles: Iterable[tuple[str, str]], tokens: Tokenizer) -> EntryTitles:
        """From (entry id, title) pairs."""
        terms = {i: frozenset(term for _, term in tokens(title)) for i, title in titles}
        df = Counter(t for found in terms.values() for t in found)
        n = len(terms)
        idf = {t: _idf(n, count) for t, count in df.items()}
        return cls(terms, idf, _idf(n, 0), tokens)

    def weight(self, term: str) -> float:
        return self.idf.get(term, self.unseen)

    def match(
        self, title: str, text: str, among: Collection[str] | None = None
    ) -> dict[str, TitleMatch]:
        """Each entry (of ``among``, or all) whose title shares a word with the draft.

        ``title``: the draft's title; ``text``: its whole text (title and body).
        """
        named = {term: surface for surface, term in reversed(self.tokens(title))}
        told = {term: surface for surface, term in reversed(self.tokens(text))} | named
        if not told:
            return {}
        candidates = self.terms.keys() if among is None else among
        found: dict[str, TitleMatch] = {}
        for entry in candidates:
            theirs = self.terms.get(entry)
            if not theirs or theirs.isdisjoint(told):
                continue
            shared = theirs & told.keys()
            credit = sum(self.weight(t) * (1.0 if t in named else BODY_CREDIT) for t in shared)
            score = credit / sum(self.weight(t) for t in theirs)
            words = tuple(told[t] for t in sorted(shared, key=lambda t: (-self.weight(t), t)))
            found[entry] = TitleMatch(score, words)
        return found


def _idf(n: int, df: int) -> float:
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))
