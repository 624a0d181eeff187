"""Short profile phrases (interests, skills, offers, needs) reduced to comparable keys.

People write "mentors", "mentoring" or "volunteer mentors" for the same thing. A
phrase's *key* is the set of its content words, each cut to a crude stem (case and
accents folded, a few English endings removed, filler words dropped), so that these
compare equal or nested. An offer *meets* a need when one key holds the other: the
offer "mentoring" meets the need "volunteer mentors", "web design" does not meet
"graphic design". This is deliberately literal: it is what an explanation can quote,
while meaning at large is left to the text vectors.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

Key = frozenset[str]

_WORD = re.compile(r"[a-z0-9]+")
_FILLER = frozenset({
    "a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the",
    "to", "with", "our", "their", "your", "my", "help", "helping", "support", "supporting",
    "someone", "people", "person", "work", "working", "more", "new", "local",
})  # fmt: skip
_ENDINGS = ("ings", "ing", "ers", "er", "ies", "es", "s")  # tried longest first
_SIBILANT = ("ss", "x", "z", "ch", "sh")  # "classes" -> "class", but "resources" -> "resource"


def _fold(text: str) -> str:
    if text.isascii():  # nothing to decompose: casefold is lower for ASCII
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def stem(word: str) -> str:
    """A crude English stem: ``mentoring``, ``mentors`` and ``mentor`` all give ``mentor``.

    A stem keeps at least four letters, so short words stay whole.
    """
    for ending in _ENDINGS:
        if not word.endswith(ending) or len(word) - len(ending) < 4:
            continue
        base = word[: -len(ending)]
        if ending == "es" and not base.endswith(_SIBILANT):
            base = word[:-1]
        elif ending == "s" and word.endswith(("ss", "us", "is")):
            return word
        elif ending == "ies":
            base += "y"
        if len(base) > 4 and base[-1] == base[-2] and base[-1] not in "aeiouls":
            base = base[:-1]  # planning -> plann -> plan
        return base
    return word


def words(text: str) -> list[str]:
    """The stemmed content words of a text, in order (repeats kept)."""
    return [stem(w) for w in _WORD.findall(_fold(text)) if w not in _FILLER and len(w) > 1]


@lru_cache(maxsize=1 << 16)
def phrase_key(phrase: str) -> Key:
    """The key of one phrase: its set of stemmed content words (empty for filler only).

    Held for the last 65,536 phrases: people reuse the same phrases ("community
    gardening", "mentoring"), so a network's profiles share their keys, computed once.
    """
    return frozenset(words(phrase))


def meets(offer: Key, need: Key) -> bool:
    """Whether an offer with this key meets a need with that key (one holds the other)."""
    return bool(offer) and bool(need) and (offer <= need or need <= offer)


def related(a: Key, b: Key) -> bool:
    """Whether two phrases share a content word (looser than :func:`meets`, for display)."""
    return bool(a & b)


def keys_of(phrases: Iterable[str]) -> dict[str, Key]:
    """Each phrase with its key, phrases whose key is empty left out (first spelling wins)."""
    found: dict[str, Key] = {}
    for phrase in phrases:
        key = phrase_key(phrase)
        if key and phrase not in found:
            found[phrase] = key
    return found
