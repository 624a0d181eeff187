"""Key phrases of short texts, kept as they are written: the vocabulary of group labels.

A text is cut into *runs*: words separated by nothing but spaces (a comma, a colon, a
bracket or a slash ends a run, since a phrase read across it was never written). A
word keeps its letters, accents, digits, inner hyphens and apostrophes ("co-ops",
"women's", "café", "COVID-19"). A candidate phrase is one to :data:`MAX_WORDS`
consecutive words of a run that

- neither starts nor ends with a stop word (:data:`STOP_WORDS`: function words, which
  never make a label on their own either), nor starts with a vague word
  (:data:`VAGUE_WORDS`: "improve", "find", "people"..., which may end a phrase, as in
  "young people", but never stand alone or lead one);
- holds at most one stop word inside, and that one a preposition or "and"/"or"
  (:data:`INNER_WORDS`: "safe space for girls", not "platform that supports");
- is not a *fragment*: when at least :data:`FRAGMENT_SHARE` of a phrase's occurrences
  (and at least two) have the same content word just before it, or just after it,
  the phrase is a piece of a longer one ("health first" of "mental health first aid",
  "early" of "early childhood"). A stop word next to a phrase does not make it a
  fragment ("bystander training" before "in public spaces" is whole), except "and"
  and "or", which join it to what follows ("dinners between old" before "and new
  residents" is not);
- when it is a single word, is used on its own: English puts the word a phrase is
  about last, so a word followed by another content word in at least
  :data:`MODIFIER_SHARE` of its occurrences qualifies others ("free", "smart",
  "community") and is not a label by itself; nor is a single word that reads as a
  participle or an adverb ("designed", "collaboratively").

Phrases are compared case-insensitively (their *key*) and shown as they were most
often written (:meth:`Phrases.written_by` the members of a group), fewer capitals
first on a tie, so a label reads "Addis Ababa" and "repair café" as the texts do.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from graph.model import Initiative, Node, Person, WisdomEntry

MAX_WORDS = 4
FRAGMENT_SHARE = 0.7
"""A phrase with one content word beside it this often is a piece of a longer phrase."""
MODIFIER_SHARE = 0.5
"""A single word followed by a content word this often qualifies others: not a label alone."""
LEAD_CHARS = 600
"""How much of an initiative's description counts (cut at the last clause end before)."""

_WORD = re.compile(r"[^\W_](?:[\w'’-]*[^\W_])?")
_GAP = re.compile(r"\s+")
_CLAUSE_END = re.compile(r"[.!?;:,)]\s")

STOP_WORDS = frozenset(
    """a about above across after again against all almost along also although always am
    among an and another any are around as at be because been before being below between
    both but by can cannot could did do does doing down during each either else enough
    etc even ever every few for from further had has have having he her here hers herself
    him himself his how however i if in including into is it its itself just least less
    many may me might more most much must my myself neither no nor not now of off often
    on once one only onto or other others otherwise our ours ourselves out over own per
    rather same several shall she should since so some such than that the their theirs
    them themselves then there therefore these they this those though through throughout
    thus to too toward towards under unless until up upon us very via was we were what
    whatever when whenever where whether which while who whoever whom whose why will with
    within without would yet you your yours yourself yourselves""".split()  # noqa: SIM905 - a word list reads better as text
)
"""Function words: never at either end of a phrase, never a label."""

VAGUE_WORDS = frozenset(
    """able aim aimed aims allow allows based become becomes better bring brings build
    builds built come comes create creates creating develop develops different done easy
    easily enable enables everyone find finds get gets give gives go goes help helped
    helping helps improve improved improves improving include includes kind learn learned
    like lesson lessons lot lots make makes making need needs new note notes offer offers ones
    people person provide
    provided provides providing put run runs see set sets start started take takes taught
    county city town village
    thing things together use used uses using way ways well work worked working works""".split()  # noqa: SIM905
)
"""Vague words: they may end a phrase ("young people") but never lead one or stand alone."""

INNER_WORDS = frozenset(
    """about after against among and at between by for from in into of on or over
    through to under with without""".split()  # noqa: SIM905
)
"""The stop words a phrase may hold inside (one at most)."""
JOINING_WORDS = frozenset({"and", "or"})
"""Stop words that tie a phrase to the next word, for the fragment rule."""
_ADVERB_NOT = ("ily", "ply", "aly", "bly")


@dataclass(frozen=True)
class Phrases:
    """The key phrases found in a set of nodes' texts."""

    of: Mapping[str, frozenset[str]]
    """Node id -> the keys of the phrases in its texts (each counted once per node)."""
    written: Mapping[str, str]
    """Phrase key -> the phrase as most often written."""
    forms: Mapping[str, Mapping[str, str]]
    """Node id -> phrase key -> the phrase as the node first wrote it."""

    def written_by(self, key: str, nodes: Iterable[str]) -> str:
        """The phrase as most of these nodes wrote it (as most often written if none did)."""
        forms = Counter(f for n in nodes if (f := self.forms.get(n, {}).get(key)) is not None)
        return _most_written(forms) if forms else self.written[key]

    def words(self, key: str) -> frozenset[str]:
        """The stems of a phrase's content words: phrases sharing one say the same thing."""
        return phrase_words(key)


@lru_cache(maxsize=1 << 16)
def phrase_words(key: str) -> frozenset[str]:
    """:meth:`Phrases.words`, kept for the phrases asked most (labels ask each phrase's
    words many times over, for every group of every sector)."""
    return frozenset(_stem(w) for w in re.split(r"[\s-]+", key) if w and w not in STOP_WORDS)


def node_texts(node: Node) -> list[str]:
    """The short fields that say what a node is about.

    A person's interests (their skills say what someone can do anywhere, not which part
    of the sector they work in); an initiative's name, types and the start of its
    description; an entry's title.
    """
    if isinstance(node, Person):
        return list(node.interests)
    if isinstance(node, Initiative):
        return [node.name, *node.types, lead(node.description)]
    if isinstance(node, WisdomEntry):
        return [node.name]
    return []


def lead(text: str, limit: int = LEAD_CHARS) -> str:
    """The text up to the last clause end within ``limit`` characters (or the first clause)."""
    if len(text) <= limit:
        return text
    ends = [m.end() for m in _CLAUSE_END.finditer(text, 0, limit + 1)]
    if ends:
        return text[: ends[-1]]
    first = _CLAUSE_END.search(text)
    return text[: first.end()] if first else ""


def runs(text: str) -> list[list[str]]:
    """The runs of a text: its words, split wherever anything but spaces stands between two."""
    found: list[list[str]] = []
    end = -1
    for match in _WORD.finditer(text):
        word = match.group()
        if not any(ch.isalpha() for ch in word):
            end = -1  # a number ends a run: "2 schools" is not a phrase of "schools"
            continue
        if found and end >= 0 and _GAP.fullmatch(text[end : match.start()]):
            found[-1].append(word)
        else:
            found.append([word])
        end = match.end()
    return found


def key_phrases(texts: Mapping[str, Sequence[str]]) -> Phrases:
    """The key phrases of each node's texts (``node id -> texts``), fragments left out."""
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    before: dict[str, Counter[str | None]] = defaultdict(Counter)
    after: dict[str, Counter[str | None]] = defaultdict(Counter)
    forms: dict[str, dict[str, str]] = {}
    for node in sorted(texts):
        mine = forms.setdefault(node, {})
        for text in texts[node]:
            for run in runs(text):
                folded = [_fold(w) for w in run]
                for start, stop in _spans(folded):
                    key = " ".join(folded[start:stop])
                    form = " ".join(run[start:stop])
                    mine.setdefault(key, form)
                    seen[key][form] += 1
                    before[key][_content(folded, start - 1)] += 1
                    after[key][_content(folded, stop)] += 1
    whole = {
        key for key in seen
        if not _fragment(before[key]) and not _fragment(after[key])
        and (" " in key or (not _modifier(after[key]) and not _inflected(key)))
    }  # fmt: skip
    written = {key: _most_written(seen[key]) for key in whole}
    kept = {n: {k: f for k, f in found.items() if k in whole} for n, found in forms.items()}
    return Phrases({n: frozenset(found) for n, found in kept.items()}, written, kept)


def _spans(words: Sequence[str]) -> Iterable[tuple[int, int]]:
    for start, first in enumerate(words):
        if first in STOP_WORDS or first in VAGUE_WORDS:
            continue
        inside = 0
        for stop in range(start + 1, min(start + MAX_WORDS, len(words)) + 1):
            last = words[stop - 1]
            if last in STOP_WORDS:
                inside += 1
                if inside > 1 or last not in INNER_WORDS:
                    break
                continue
            if stop - start == 1 and last in VAGUE_WORDS:
                continue
            yield start, stop


def _content(words: Sequence[str], at: int) -> str | None:
    """The word at ``at`` when it ties to the phrase (None at a run's end or a stop word)."""
    if 0 <= at < len(words) and (words[at] not in STOP_WORDS or words[at] in JOINING_WORDS):
        return words[at]
    return None


def _modifier(after: Counter[str | None]) -> bool:
    followed = sum(c for w, c in after.items() if w is not None and w not in JOINING_WORDS)
    return followed >= MODIFIER_SHARE * sum(after.values())


def _inflected(word: str) -> bool:
    """A participle ("designed") or an adverb ("collaboratively") by its ending."""
    if len(word) > 4 and word.endswith("ed") and not word.endswith("eed"):
        return True
    return len(word) > 5 and word.endswith("ly") and not word.endswith(_ADVERB_NOT)


def _fragment(beside: Counter[str | None]) -> bool:
    total = sum(beside.values())
    word, count = max(((w, c) for w, c in beside.items() if w is not None),
                      key=lambda p: (p[1], p[0]), default=(None, 0))  # fmt: skip
    return word is not None and count >= 2 and count >= FRAGMENT_SHARE * total


def _most_written(forms: Counter[str]) -> str:
    return min(forms, key=lambda f: (-forms[f], sum(ch.isupper() for ch in f), f))


def _fold(word: str) -> str:
    return word.casefold().replace("’", "'")


def _stem(word: str) -> str:
    """A light plural and possessive stripping, enough to see two phrases repeat a word."""
    word = word.removesuffix("'s")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word
