"""Sentences, phrases and word overlap of texts: the raw material of passages and duplicates.

Words are counted by a :data:`Tokenizer` the caller gives (the service wires the search
index's own, so a word matches here exactly when it would match in search). Texts are
cut into *passages*: prose fields into sentences, list fields (issues, interests...)
into their phrases, so that a match can be shown as the sentence or phrase it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from graph.texts import Passage

Tokenizer = Callable[[str], Sequence[tuple[str, str]]]
"""``tokens(text)``: (word as written, normalised term) pairs, in order, stop words dropped."""

SHINGLE_WORDS = 3
"""Near-duplicates compare the sets of runs of this many consecutive terms (shingles)."""
MAX_PASSAGES = 60
"""At most this many passages of one text take part in matching (the rest are ignored)."""
MAX_CHARS = 400
"""A longer sentence is cut at a word boundary."""

PHRASE_FIELDS = frozenset(
    {"issues", "interests", "skills", "offers", "needs", "aliases", "indicators"}
)
"""Fields that :func:`graph.texts.node_passages` joins from a list with ``"; "``."""

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\s*\n+\s*")
_PHRASE_BREAK = re.compile(r"\s*(?:[;,\n]|(?<=[.!?])\s)\s*")
_MIN_SENTENCE_WORDS = 4


def clip(text: str, limit: int = MAX_CHARS) -> str:
    """The text, cut at a word boundary with an ellipsis when longer than ``limit``."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip(",;:") + "…"


def sentences(text: str) -> list[str]:
    """The sentences of a text; a fragment of fewer than four words joins the one before."""
    found: list[str] = []
    for piece in _SENTENCE_END.split(text):
        piece = " ".join(piece.split())
        if not piece:
            continue
        if found and len(piece.split()) < _MIN_SENTENCE_WORDS:
            found[-1] = f"{found[-1]} {piece}"
        else:
            found.append(piece)
    return [clip(s) for s in found]


def phrases(text: str) -> list[str]:
    """The phrases of a list-like free text: cut at commas, semicolons, lines and sentences."""
    return [clip(p) for p in (" ".join(p.split()) for p in _PHRASE_BREAK.split(text)) if p]


def split_passages(passages: Iterable[Passage]) -> list[Passage]:
    """Each field cut into sentences, or into phrases for list fields, in order (bounded)."""
    found: list[Passage] = []
    for field, text in passages:
        parts = text.split("; ") if field in PHRASE_FIELDS else sentences(text)
        found.extend((field, clip(part)) for part in parts if part.strip())
    return found[:MAX_PASSAGES]


def shingles(text: str, tokens: Tokenizer) -> frozenset[tuple[str, ...]]:
    """The runs of :data:`SHINGLE_WORDS` consecutive terms of a text (the whole, if shorter)."""
    terms = [term for _, term in tokens(text)]
    if len(terms) < SHINGLE_WORDS:
        return frozenset({tuple(terms)}) if terms else frozenset()
    n = SHINGLE_WORDS
    return frozenset(tuple(terms[i : i + n]) for i in range(len(terms) - n + 1))


def resemblance(a: frozenset[tuple[str, ...]], b: frozenset[tuple[str, ...]]) -> float:
    """Shared shingles over all shingles of either text (Jaccard); 0 when either is empty."""
    if not a or not b:
        return 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared)


def shared_words(query: str, other: str, tokens: Tokenizer, *, limit: int = 8) -> list[str]:
    """Words of ``query`` (as written there, first time each) whose term ``other`` holds."""
    theirs = {term for _, term in tokens(other)}
    found: dict[str, str] = {}
    for surface, term in tokens(query):
        if term in theirs and term not in found:
            found[term] = surface.lower()
            if len(found) == limit:
                break
    return list(found.values())
