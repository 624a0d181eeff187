"""The tokenizer of the lexical index: words, stop words and light suffix folding.

A text is NFKC-normalised and case-folded, then split into Unicode words: runs of
letters and digits (``_`` and punctuation separate words, so "don't" gives "don" and
"t"). English stop words and one-letter words are dropped. Each remaining word is
folded by a few deterministic suffix rules, applied in this order, so that plural,
"-ing" and "-ed" forms meet their stem:

1. ``-ies`` becomes ``-y`` (communities → community); ``-sses`` becomes ``-ss``; a
   final ``-s`` goes unless the word ends in ``ss``, ``us`` or ``is`` (gangs → gang).
2. ``-ing`` goes when at least three letters remain (mentoring → mentor), else
   ``-ed`` goes when at least three letters remain and the word does not end in
   ``eed`` (funded → fund); a doubled final consonant left behind is undoubled,
   except ``ll``, ``ss`` and ``zz`` (planned → plan).
3. A final ``-e`` goes from words of five letters or more (create, created and
   creating all give "creat").

Words of three letters or fewer, and words containing digits, are never folded. This
is not a linguistic stemmer: it only has to treat a query and a document alike.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+")
_VOWELS = frozenset("aeiouy")
_NO_UNDOUBLE = frozenset("lsz")

_STOP_WORDS = """
    a about above after again against all am an and any are as at be because been
    before being below between both but by can could did do does doing down during each
    few for from further had has have having he her here hers herself him himself his
    how i if in into is it its itself just me more most my myself no nor not now of off
    on once only or other our ours ourselves out over own same she should so some such
    than that the their theirs them themselves then there these they this those through
    to too under until up very was we were what when where which while who whom why will
    with would you your yours yourself yourselves also may might must shall us via per
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())


def tokens(text: str) -> list[tuple[str, str]]:
    """The (word as written, indexed term) pairs of a text, in order, stop words dropped."""
    normalised = unicodedata.normalize("NFKC", text)
    pairs = []
    for match in _WORD.finditer(normalised):
        surface = match.group()
        word = surface.casefold()
        if len(word) > 1 and word not in STOP_WORDS:
            pairs.append((surface, fold(word)))
    return pairs


def terms(text: str) -> list[str]:
    """The indexed terms of a text, in order (repeats kept): those of :func:`tokens`."""
    if text.isascii():
        # The same words, found in half the time: NFKC leaves ASCII as it is, and an ASCII
        # text's words lower-cased are the lower-cased text's words.
        return [fold(w) for w in _WORD.findall(text.lower()) if len(w) > 1 and w not in STOP_WORDS]
    return [term for _, term in tokens(text)]


@lru_cache(maxsize=200_000)
def fold(word: str) -> str:
    """Fold the suffix of one lower-case word (see the module docstring)."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    stripped = ""
    if word.endswith("ing") and len(word) >= 6 and _has_vowel(word[:-3]):
        stripped = word[:-3]
    elif word.endswith("ed") and len(word) >= 5 and not word.endswith("eed"):
        stripped = word[:-2] if _has_vowel(word[:-2]) else ""
    if stripped:
        word = stripped
        if len(word) >= 3 and word[-1] == word[-2] and word[-1] not in _VOWELS | _NO_UNDOUBLE:
            word = word[:-1]
    if word.endswith("e") and len(word) >= 5:
        word = word[:-1]
    return word


def _has_vowel(stem: str) -> bool:
    return any(letter in _VOWELS for letter in stem)
