"""The relevance floor and the matched words, with the real model on a small corpus."""

from __future__ import annotations

import random
import string

import pytest

from embeddings.encoder import Encoder
from embeddings.options import RankingOptions
from embeddings.search import Mode, SemanticIndex
from embeddings.tokenize import STOP_WORDS

TEXTS = {
    "mentoring": "Youth mentoring programmes that keep teenagers out of gangs",
    "interrupters": "Violence interrupters trained from the neighbourhood stop shootings",
    "solar": "Solar panels for rural schools and clinics",
    "gardens": "Community gardens growing food on vacant city lots",
    "water": "Clean drinking water wells for villages",
    "elders": "Volunteers visiting isolated elderly neighbours",
    # short texts like names are the nearest neighbours of random letters
    "maria": "Maria Lopez",
    "kofi": "Kofi Mensah",
    "acme": "ACME Ltd",
}


@pytest.fixture(scope="module")
def index(encoder: Encoder) -> SemanticIndex:
    built = SemanticIndex(encoder)
    built.upsert(TEXTS.items())
    return built


def _random_letters(count: int) -> list[str]:
    rng = random.Random(1)
    return [
        " ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 9)))
                 for _ in range(rng.randint(1, 3)))
        for _ in range(count)
    ]  # fmt: skip


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
@pytest.mark.parametrize("query", ["xqzv kplmw", "qwrtzp", *_random_letters(20)])
def test_random_letters_get_no_hit(index: SemanticIndex, query: str, mode: Mode) -> None:
    assert index.search(query, 10, mode=mode) == []


def test_without_the_floor_random_letters_get_ten_nearest(encoder: Encoder) -> None:
    # the floor is what removes them: with it at -1 (no floor) every item comes back
    open_index = SemanticIndex(encoder, ranking=RankingOptions(floor=-1.0))
    open_index.upsert(TEXTS.items())
    assert len(open_index.search("xqzv kplmw", 10)) == len(TEXTS)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("youth mentoring against gang violence", "mentoring"),
        ("growing food in the city", "gardens"),
        ("loneliness of elderly neighbours", "elders"),  # 2 of 3 words in common
        ("Maria", "maria"),
    ],
)
def test_real_queries_keep_their_hits(index: SemanticIndex, query: str, expected: str) -> None:
    hits = index.search(query, 10)
    assert hits and hits[0].id == expected
    assert len(hits) == len(TEXTS)  # a query with known words is answered as ranked


@pytest.mark.parametrize("floor", [0.2, 0.3, 0.4])
def test_with_unknown_words_only_hits_close_in_meaning_pass(encoder: Encoder, floor: float) -> None:
    # no indexed text holds a word of "Trinkwasserbrunnen Dorf" (German for village wells)
    everything = SemanticIndex(encoder, ranking=RankingOptions(floor=-1.0))
    everything.upsert(TEXTS.items())
    floored = SemanticIndex(encoder, ranking=RankingOptions(floor=floor))
    floored.upsert(TEXTS.items())
    query = "Trinkwasserbrunnen Dorf"
    kept = [h.id for h in everything.search(query, 10) if (h.dense or 0.0) >= floor]
    assert [h.id for h in floored.search(query, 10)] == kept
    assert len(kept) < len(TEXTS)


def test_stop_words_are_never_matched_terms(index: SemanticIndex) -> None:
    query = "What are the programmes that keep the teenagers out of THE gangs?"
    hits = {h.id: h for h in index.search(query, 10)}
    terms = hits["mentoring"].matched_terms
    assert terms == ("programmes", "keep", "teenagers", "gangs")
    for hit in hits.values():
        assert not {t.casefold() for t in hit.matched_terms} & STOP_WORDS


def test_matched_terms_are_the_words_as_typed_not_stems(index: SemanticIndex) -> None:
    hits = {h.id: h for h in index.search("Violence Interrupters, shooting", 10)}
    # the index holds "violenc", "interrupt" and "shoot"; the answer shows what was typed
    assert hits["interrupters"].matched_terms == ("Violence", "Interrupters", "shooting")
    mentoring = {h.id: h for h in index.search("mentored teenager", 10)}["mentoring"]
    assert mentoring.matched_terms == ("mentored", "teenager")


def test_a_mostly_unknown_query_keeps_only_hits_sharing_its_word(index: SemanticIndex) -> None:
    # one word of three is known: only the texts holding it come back, not ten nearest
    hits = index.search("qwzrt gardens xkplv", 10)
    assert [h.id for h in hits] == ["gardens"]
    assert hits[0].matched_terms == ("gardens",)


def test_a_typo_in_a_longer_query_keeps_every_hit(index: SemanticIndex) -> None:
    hits = index.search("youth mentorng against gangs", 10)  # 3 of 4 words known
    assert hits[0].id == "mentoring" and len(hits) == len(TEXTS)
