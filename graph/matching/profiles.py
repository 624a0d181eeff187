"""What matching needs of people and initiatives beyond the graph: their phrases and consent.

The graph view holds structure only; offers, needs, interests, skills and the
``open_to_collaborate`` flag live in the store. :class:`ProfileIndex` keeps them in
memory for every person and initiative, with posting lists from phrase keys to the
nodes that offer or need them, so that "who offers what I need" is a lookup rather
than a pass over everyone. It is a projection of the change feed (:mod:`graph.feed`),
like the graph view: after a write it re-reads only the nodes that changed.
"""

from __future__ import annotations

import json
import logging
import struct
import sys
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graph import code_stamp
from graph.errors import SavedByOtherCode
from graph.feed import ChangeBatch
from graph.matching.phrases import Key, keys_of, meets, phrase_key
from graph.model import Initiative, Node, Person
from graph.store import Store
from graph.view import collection_paused

log = logging.getLogger(__name__)

PROFILE_KINDS = ("person", "initiative")
STATE_FORMAT = 2
"""The form of :meth:`ProfileIndex.state` (a saved state of another form, or saved by
another version of the code, :func:`graph.code_stamp`, is not read)."""


@dataclass(frozen=True, slots=True)
class Profile:
    """The phrases of one person or initiative (an initiative has needs only)."""

    id: str
    kind: str
    interests: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    offers: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    open_to_collaborate: bool = True
    words: int = 0  # words of its own text beyond the name (bio or description, phrases)
    offer_keys: dict[str, Key] = field(default_factory=dict, compare=False)
    need_keys: dict[str, Key] = field(default_factory=dict, compare=False)
    topic_keys: dict[str, Key] = field(default_factory=dict, compare=False)
    offer_words: frozenset[str] = field(default=frozenset(), compare=False)
    need_words: frozenset[str] = field(default=frozenset(), compare=False)
    """Every word of the offers' (needs') keys: an offer meets a need only when one's key
    holds the other's, so two sides that share no word meet nowhere (checked first)."""

    @classmethod
    def of(cls, node: Node) -> Profile | None:
        """The profile of a person or initiative; None for any other kind."""
        if not isinstance(node, Person | Initiative):
            return None
        return cls._of_fields(node.id, node.kind, vars(node))

    @classmethod
    def _of_fields(cls, node_id: str, kind: str, fields: Mapping[str, Any]) -> Profile:
        interests, skills, offers, needs, open_to_collaborate, words = _parts(kind, fields)
        return cls.build(
            node_id, kind, interests=interests, skills=skills, offers=offers, needs=needs,
            open_to_collaborate=open_to_collaborate, words=words,
        )  # fmt: skip

    @classmethod
    def build(
        cls,
        node_id: str,
        kind: str,
        *,
        interests: Iterable[str] = (),
        skills: Iterable[str] = (),
        offers: Iterable[str] = (),
        needs: Iterable[str] = (),
        open_to_collaborate: bool = True,
        words: int = 0,
    ) -> Profile:
        interests, skills = _shared(interests), _shared(skills)
        offers, needs = _shared(offers), _shared(needs)
        return cls(
            node_id, kind, interests, skills, offers, needs, open_to_collaborate, words,
            offer_keys=(offer_keys := keys_of(offers)), need_keys=(need_keys := keys_of(needs)),
            topic_keys=keys_of((*interests, *skills)),
            offer_words=_union(offer_keys.values()), need_words=_union(need_keys.values()),
        )  # fmt: skip


def _shared(phrases: Iterable[str]) -> tuple[str, ...]:
    """The phrases, each the one copy of its text the interpreter keeps (``sys.intern``).
    People reuse phrases ("community gardening", "mentoring"): 100,000 people's profiles
    held 69 MiB of copies of the same few thousand, a quarter of the index, and twice the
    bytes in the state saved for the next start (docs/benchmarks.md, session 30)."""
    return tuple(map(sys.intern, phrases))


def _union(keys: Iterable[Key]) -> frozenset[str]:
    """Every word of these keys; the key itself when there is one (keys are shared
    between profiles, :func:`graph.matching.phrases.phrase_key`), not a copy of it."""
    keys = list(keys)
    if len(keys) == 1:
        return keys[0]
    return frozenset().union(*keys)


def _parts(kind: str, fields: Mapping[str, Any]) -> tuple[Any, ...]:
    """(interests, skills, offers, needs, open to collaborate, words) of a node's fields;
    an initiative has needs only."""
    needs = fields["needs"]
    if kind == "initiative":
        return (), (), (), needs, True, len(fields["description"].split()) + _words(needs)
    interests, skills, offers = fields["interests"], fields["skills"], fields["offers"]
    words = len(fields["bio"].split()) + _words(interests, skills, offers, needs)
    return interests, skills, offers, needs, fields["open_to_collaborate"], words


def _words(*phrase_lists: Iterable[str]) -> int:
    return sum(len(phrase.split()) for phrases in phrase_lists for phrase in phrases)


_DEFAULTS: dict[str, dict[str, Any]] = {
    model.model_fields["kind"].default: {
        name: info.get_default(call_default_factory=True)
        for name, info in model.model_fields.items()
        if not info.is_required()
    }
    for model in (Person, Initiative)
}
"""The fields a stored record leaves out (its defaults), for each kind with a profile."""


@dataclass(frozen=True, slots=True)
class OfferNeed:
    """One offer that meets one need; ``direction`` says whose offer meets whose need."""

    offer: str
    need: str
    direction: str  # "theirs_meets_yours" | "yours_meets_theirs"


def offer_need_pairs(mine: Profile, theirs: Profile) -> list[OfferNeed]:
    """Every need of one side that an offer of the other meets, each need once, stable.

    The definition, on two profiles; requests read the same from the index's rows
    (:meth:`ProfileIndex.pairs_with`), and the tests hold one to the other."""
    found: list[OfferNeed] = []
    if mine.need_words.isdisjoint(theirs.offer_words) and theirs.need_words.isdisjoint(
        mine.offer_words
    ):
        return found  # no word in common: nothing meets (the usual case)
    for need, need_key in mine.need_keys.items():
        offer = _first_meeting(theirs.offer_keys, need_key)
        if offer is not None:
            found.append(OfferNeed(offer, need, "theirs_meets_yours"))
    for need, need_key in theirs.need_keys.items():
        offer = _first_meeting(mine.offer_keys, need_key)
        if offer is not None:
            found.append(OfferNeed(offer, need, "yours_meets_theirs"))
    return found


def _first_meeting(offers: dict[str, Key], need: Key) -> str | None:
    for offer, key in offers.items():
        if meets(key, need):
            return offer
    return None


class _Postings:
    """Phrase key -> nodes, and word -> keys (to find the keys that hold or are held)."""

    def __init__(self) -> None:
        self.nodes: dict[Key, set[str]] = defaultdict(set)
        self.keys_by_word: dict[str, set[Key]] = defaultdict(set)

    def add(self, node_id: str, keys: Iterable[Key]) -> None:
        for key in keys:
            self.nodes[key].add(node_id)
            for word in key:
                self.keys_by_word[word].add(key)

    def discard(self, node_id: str, keys: Iterable[Key]) -> None:
        for key in keys:
            holders = self.nodes.get(key)
            if holders is None:
                continue
            holders.discard(node_id)
            if not holders:
                del self.nodes[key]
                for word in key:
                    self.keys_by_word[word].discard(key)
                    if not self.keys_by_word[word]:
                        del self.keys_by_word[word]

    def meeting(self, key: Key, found: set[str] | None = None, cap: int | None = None) -> set[str]:
        """Nodes holding a phrase that meets (holds or is held by) ``key``, added to
        ``found`` (a new set if None); with ``cap``, they stop once ``found`` passes it."""
        found = set() if found is None else found
        candidates: set[Key] = set()
        for word in key:
            candidates |= self.keys_by_word.get(word, set())
        for other in candidates:
            if meets(other, key):
                found |= self.nodes.get(other, set())  # a key removed by a concurrent write
                if cap is not None and len(found) > cap:
                    break
        return found


class _Phrases:
    """Every distinct phrase the index has met, numbered in the order met, with its key.

    People reuse phrases: 100,000 generated people wrote 176 distinct ones, 1.1 million
    times. A profile is held as the numbers of its phrases (:class:`ProfileIndex`)."""

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self.texts: list[str] = []
        self.keys: list[Key] = []
        self.numbers: dict[str, int] = {}
        for text in texts:
            self.number(text)

    def number(self, phrase: str) -> int:
        found = self.numbers.get(phrase)
        if found is None:
            phrase = sys.intern(phrase)
            found = self.numbers[phrase] = len(self.texts)
            self.texts.append(phrase)
            self.keys.append(phrase_key(phrase))
        return found


_OPEN, _INITIATIVE = 1, 2  # a row's flags
_FLAGS_BYTE = 4 if sys.byteorder == "little" else 7  # the flags' low byte in a row
_FIRST = struct.Struct("=I")  # a row's first number (its words), as array("I") wrote it
_HEAD = 6  # a row: words, flags, then how many interests, skills, offers and needs


class ProfileIndex:
    """Profiles of every person and initiative, with offer and need postings; ``seq`` is the
    last change-log entry applied.

    Each profile is held as one row of 32-bit numbers in a ``bytes``: its word count, its
    flags, how many phrases of each field it has, and the numbers of its phrases
    (:class:`_Phrases`). A :class:`Profile` is made from its row when asked for, and the
    last ``BUILT_KEPT`` made are kept. 100,000 people's profiles held as objects took
    168 MiB in each process of ``serve``, their rows take a sixth of it
    (docs/benchmarks.md, session 31).
    """

    BUILT_KEPT = 8_192

    def __init__(self) -> None:
        self.seq = 0
        self._rows: dict[str, bytes] = {}
        self._phrases = _Phrases()
        self._built: dict[str, tuple[bytes, Profile]] = {}
        self._offers = _Postings()
        self._needs = _Postings()

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._rows

    def __iter__(self) -> Iterator[str]:
        """The ids of every profile held."""
        return iter(self._rows)

    def get(self, node_id: str) -> Profile | None:
        row = self._rows.get(node_id)
        if row is None:
            return None
        built = self._built.get(node_id)
        if built is not None and built[0] is row:  # (made from the row held now)
            return built[1]
        found = self._profile_of(node_id, row)
        if len(self._built) >= self.BUILT_KEPT:
            self._built.clear()  # (requests of other people than the last few come next)
        self._built[node_id] = (row, found)
        return found

    def open_to_collaborate(self, node_id: str) -> bool:
        """Whether the node has a profile and is open to collaborate (without making it:
        the warmer asks it of every person at each version)."""
        row = self._rows.get(node_id)
        return row is not None and bool(row[_FLAGS_BYTE] & _OPEN)

    def words(self, node_id: str) -> int | None:
        """The words of the node's own text beyond its name (None: no profile)."""
        row = self._rows.get(node_id)
        return None if row is None else int(_FIRST.unpack_from(row)[0])

    def upsert(self, profiles: Iterable[Profile]) -> None:
        for profile in profiles:
            self._set(profile.id, profile.kind, profile.interests, profile.skills,
                      profile.offers, profile.needs, profile.open_to_collaborate,
                      profile.words)  # fmt: skip

    def remove(self, ids: Iterable[str]) -> None:
        for node_id in ids:
            self._drop(node_id)

    def _set(
        self,
        node_id: str,
        kind: str,
        interests: Iterable[str],
        skills: Iterable[str],
        offers: Iterable[str],
        needs: Iterable[str],
        open_to_collaborate: bool,
        words: int,
    ) -> None:
        self._drop(node_id)
        number = self._phrases.number
        fields = [[number(p) for p in phrases] for phrases in (interests, skills, offers, needs)]
        flags = (_OPEN if open_to_collaborate else 0) | (_INITIATIVE if kind == "initiative" else 0)
        head = [words, flags, *map(len, fields)]
        self._rows[node_id] = array("I", head + [n for f in fields for n in f]).tobytes()
        keys = self._phrases.keys
        self._offers.add(node_id, {keys[n] for n in fields[2]} - {EMPTY})
        self._needs.add(node_id, {keys[n] for n in fields[3]} - {EMPTY})

    def _drop(self, node_id: str) -> None:
        row = self._rows.pop(node_id, None)
        self._built.pop(node_id, None)
        if row is not None:
            numbers, keys = _numbers(row), self._phrases.keys
            offers, needs = _fields(numbers)[2:]
            self._offers.discard(node_id, {keys[n] for n in offers})
            self._needs.discard(node_id, {keys[n] for n in needs})

    def _profile_of(self, node_id: str, row: bytes) -> Profile:
        """The :class:`Profile` a row describes."""
        numbers, texts = _numbers(row), self._phrases.texts
        interests, skills, offers, needs = ([texts[n] for n in f] for f in _fields(numbers))
        return Profile.build(
            node_id, "initiative" if numbers[1] & _INITIATIVE else "person",
            interests=interests, skills=skills, offers=offers, needs=needs,
            open_to_collaborate=bool(numbers[1] & _OPEN), words=numbers[0],
        )  # fmt: skip

    def pairs_with(self, mine: Profile) -> Callable[[str], list[OfferNeed]]:
        """``offer_need_pairs(mine, theirs)`` for the profile of any node id (no pair for a
        node without one), read from its row: a collaborators request asks it of every
        candidate, hundreds, and making each :class:`Profile` cost more than the rest of
        the request's reading. What each of the phrases met means for ``mine`` is worked
        out once (:class:`_Meeting`); phrases are few and shared."""
        meeting = _Meeting(mine, self._phrases)
        rows = self._rows

        def pairs(node_id: str) -> list[OfferNeed]:
            row = rows.get(node_id)
            return [] if row is None else meeting.pairs(_numbers(row))

        return pairs

    def offering(self, needs: Iterable[Key]) -> set[str]:
        """Nodes offering something that meets one of these needs."""
        return _meeting(self._offers, needs, set(), None)

    def needing(self, offers: Iterable[Key]) -> set[str]:
        """Nodes needing something that one of these offers meets."""
        return _meeting(self._needs, offers, set(), None)

    def complements(self, profile: Profile, *, cap: int) -> set[str] | None:
        """Nodes offering what meets the profile's needs or needing what its offers meet
        (:meth:`offering` and :meth:`needing` together), or None when they are more than
        ``cap``: then the reading stops there (at 100,000 people a common skill is
        offered by thousands)."""
        found = _meeting(self._offers, profile.need_keys.values(), set(), cap)
        if len(found) <= cap:
            found = _meeting(self._needs, profile.offer_keys.values(), found, cap)
        return None if len(found) > cap else found

    # -- keeping in step with the store ---------------------------------------

    @classmethod
    def from_nodes(cls, nodes: Iterable[Node], *, seq: int = 0) -> ProfileIndex:
        index = cls()
        index.upsert(p for p in map(Profile.of, nodes) if p is not None)
        index.seq = seq
        return index

    def state(self) -> tuple[Any, ...]:
        """What :meth:`from_state` makes this index again from: the phrases, and each
        profile's row (the phrases no profile holds any more left out)."""
        rows, texts = self._rows, self._phrases.texts
        used = {n for row in rows.values() for n in _numbers(row)[_HEAD:]}
        if len(used) < len(texts):
            again = _Phrases(texts[n] for n in sorted(used))
            renumber = [again.numbers.get(text, 0) for text in texts]
            rows = {node_id: _renumbered(row, renumber) for node_id, row in rows.items()}
            texts = again.texts
        return ((STATE_FORMAT, code_stamp()), self.seq, list(texts), rows)

    @classmethod
    def from_state(cls, state: tuple[Any, ...]) -> ProfileIndex:
        """The index :meth:`state` describes (at its ``seq``)."""
        SavedByOtherCode.check("profile index", state, (STATE_FORMAT, code_stamp()))
        _, seq, texts, rows = state
        index = cls()
        index._phrases = phrases = _Phrases(texts)
        keys = phrases.keys
        with collection_paused():
            index._rows = rows
            for node_id, row in rows.items():
                offers, needs = _fields(_numbers(row))[2:]
                index._offers.add(node_id, {keys[n] for n in offers} - {EMPTY})
                index._needs.add(node_id, {keys[n] for n in needs} - {EMPTY})
        index.seq = seq
        return index

    @classmethod
    def from_store(cls, store: Store) -> ProfileIndex:
        """Every person's and initiative's profile, as of the store's last change."""
        seq = store.last_seq()
        index = cls()
        with collection_paused():
            for kind in PROFILE_KINDS:
                for row in store.iter_records(kind=kind):
                    index._set_record(row[0], kind, row[3])
        index.seq = seq
        log.info("profile index: %d profiles at change %d", len(index), seq)
        # Writes committed while reading are set again (idempotently) by the change feed.
        return index

    def _set_record(self, node_id: str, kind: str, data: str) -> None:
        """A profile from a stored record: the node's fields as canonical JSON, defaults
        left out (:mod:`graph.codec`), read without validating the node again (it was when
        written; validating 100,000 nodes took three of the four seconds of a start)."""
        self._set(node_id, kind, *_parts(kind, {**_DEFAULTS[kind], **json.loads(data)}))

    # -- a projection of the change feed (graph.feed) ---------------------------

    def prepare(self, batch: ChangeBatch) -> tuple[set[str], list[Profile]]:
        """(ids to drop, profiles to set) for the people and initiatives the batch touched."""
        touched = {i for i in batch.touched_nodes if i.partition(":")[0] in PROFILE_KINDS}
        touched |= batch.erased(self._rows)
        current = [p for i in sorted(touched) if (p := _profile(batch.nodes.get(i)))]
        return touched - {p.id for p in current}, current

    def apply(self, batch: ChangeBatch, prepared: tuple[set[str], list[Profile]]) -> None:
        gone, current = prepared
        self.remove(gone)
        self.upsert(current)
        self.seq = batch.last_seq


class _Meeting:
    """How the phrases of other profiles meet one profile's needs and offers (for
    :meth:`ProfileIndex.pairs_with`), each phrase number worked out once."""

    def __init__(self, mine: Profile, phrases: _Phrases) -> None:
        self.needs = list(mine.need_keys.items())
        self.offers = list(mine.offer_keys.items())
        self.phrases = phrases
        self.needs_met: dict[int, tuple[bool, ...]] = {}
        self.useful: dict[int, bool] = {}
        self.offer_meeting: dict[int, str | None] = {}

    def _needs_met(self, number: int) -> tuple[bool, ...]:
        """Which of my needs their offer with this phrase number meets."""
        found = self.needs_met.get(number)
        if found is None:
            key = self.phrases.keys[number]
            found = self.needs_met[number] = tuple(meets(key, need) for _, need in self.needs)
        return found

    def _offer_meeting(self, number: int) -> str | None:
        """My first offer that meets their need with this phrase number."""
        if number not in self.offer_meeting:
            key = self.phrases.keys[number]
            self.offer_meeting[number] = next(
                (offer for offer, mine in self.offers if meets(mine, key)), None
            )
        return self.offer_meeting[number]

    def pairs(self, numbers: array[int]) -> list[OfferNeed]:
        """As :func:`offer_need_pairs`: each of my needs with their first offer meeting it,
        then each of their needs with my first offer meeting it, each phrase once."""
        at = _HEAD + numbers[2] + numbers[3]
        offers = numbers[at : at + numbers[4]]
        needs = numbers[at + numbers[4] : at + numbers[4] + numbers[5]]
        useful = self.useful
        if not any(useful[n] if n in useful else self._useful(n) for n in offers) and all(
            self._offer_meeting(n) is None for n in needs
        ):
            return []  # nothing meets (the usual case: read no further)
        found: list[OfferNeed] = []
        texts = self.phrases.texts
        if self.needs and offers:
            distinct = list(dict.fromkeys(offers))
            met = [self._needs_met(n) for n in distinct]
            for i, (need, _) in enumerate(self.needs):
                for n, by in zip(distinct, met, strict=True):
                    if by[i]:
                        found.append(OfferNeed(texts[n], need, "theirs_meets_yours"))
                        break
        if self.offers and needs:
            for n in dict.fromkeys(needs):
                offer = self._offer_meeting(n)
                if offer is not None:
                    found.append(OfferNeed(offer, texts[n], "yours_meets_theirs"))
        return found

    def _useful(self, number: int) -> bool:
        """Whether their offer with this phrase number meets any of my needs."""
        found = self.useful[number] = any(self._needs_met(number))
        return found


EMPTY: Key = frozenset()


def _numbers(row: bytes) -> array[int]:
    numbers = array("I")
    numbers.frombytes(row)
    return numbers


def _fields(numbers: array[int]) -> list[array[int]]:
    """The phrase numbers of a row's interests, skills, offers and needs."""
    found, at = [], _HEAD
    for count in numbers[2:_HEAD]:
        found.append(numbers[at : at + count])
        at += count
    return found


def _renumbered(row: bytes, renumber: list[int]) -> bytes:
    numbers = _numbers(row)
    return array("I", [*numbers[:_HEAD], *(renumber[n] for n in numbers[_HEAD:])]).tobytes()


def _profile(node: Node | None) -> Profile | None:
    return None if node is None else Profile.of(node)


def _meeting(
    postings: _Postings, keys: Iterable[Key], found: set[str], cap: int | None
) -> set[str]:
    """``found`` with the nodes of ``postings`` holding a phrase that meets one of ``keys``;
    with ``cap``, read no further once it holds more."""
    for key in keys:
        postings.meeting(key, found, cap)
        if cap is not None and len(found) > cap:
            break
    return found
