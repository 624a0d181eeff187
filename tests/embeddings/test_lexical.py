from __future__ import annotations

import math
import random
import string
from pathlib import Path

import numpy as np
import pytest

from embeddings.errors import UnknownItem
from embeddings.lexical import LexicalIndex
from embeddings.tokenize import STOP_WORDS, fold, terms, tokens
from tests.embeddings.conftest import CORPUS


@pytest.fixture
def corpus() -> LexicalIndex:
    index = LexicalIndex()
    index.upsert(CORPUS.items())
    return index


@pytest.mark.parametrize(
    ("word", "folded"),
    [
        ("communities", "community"),
        ("gangs", "gang"),
        ("mentoring", "mentor"),
        ("mentors", "mentor"),
        ("funded", "fund"),
        ("planned", "plan"),
        ("running", "run"),
        ("class", "class"),
        ("bus", "bus"),
        ("analysis", "analysis"),
        ("bring", "bring"),
        ("speed", "speed"),
        ("covid19", "covid19"),
    ],
)
def test_suffix_folding(word: str, folded: str) -> None:
    assert fold(word) == folded


def test_related_forms_meet_on_one_term() -> None:
    assert len({fold(w) for w in ("create", "created", "creating", "creates")}) == 1
    assert len({fold(w) for w in ("house", "houses", "housing")}) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Gangs of the city", ["gang", "city"]),
        ("Don't stop!", ["don", "stop"]),
        ("SDG 11 by 2030", ["sdg", "11", "2030"]),
        ("Zürich niños", ["zürich", "niño"]),
        ("river_bank-walks", ["river", "bank", "walk"]),
        ("", []),
    ],
)
def test_tokenizer(text: str, expected: list[str]) -> None:
    assert terms(text) == expected


def test_the_ascii_path_finds_the_terms_of_the_general_one() -> None:
    """``terms`` reads an ASCII text another way: it must index exactly what ``tokens`` does
    (a query and a document must meet), for every kind of character ASCII has."""
    rng = random.Random(3)
    alphabet = string.ascii_letters + string.digits + string.punctuation + " \t\n"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))) for _ in range(500)]
    words = [w for t in CORPUS.values() for w in t.split()] + sorted(STOP_WORDS)
    texts += [" ".join(rng.choice(words) for _ in range(12)).upper() for _ in range(200)]
    for text in texts:
        assert text.isascii()
        assert terms(text) == [term for _, term in tokens(text)], text
    assert terms("İstanbul ﬁsh") == [term for _, term in tokens("İstanbul ﬁsh")]  # not ASCII


def test_tokens_keep_the_words_as_written() -> None:
    assert tokens("Mentoring GANGS") == [("Mentoring", "mentor"), ("GANGS", "gang")]


def test_bm25_scores_follow_the_formula() -> None:
    index = LexicalIndex()
    index.upsert([("a", "gardens gardens water"), ("b", "water wells"), ("c", "solar panels")])
    k1, b, n, average = 1.2, 0.75, 3, 7 / 3

    def part(tf: int, df: int, length: int) -> float:
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        return idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / average))

    hits = dict(index.search("garden water", 10))
    assert hits["a"] == pytest.approx(part(2, 1, 3) + part(1, 2, 3), rel=1e-5)
    assert hits["b"] == pytest.approx(part(1, 2, 2), rel=1e-5)
    assert "c" not in hits
    assert index.scores("garden water", ["a", "c", "zz"]) == pytest.approx(
        {"a": hits["a"], "c": 0.0}
    )


def test_search_ranks_by_score_then_id() -> None:
    index = LexicalIndex()
    index.upsert([("b", "river clean"), ("a", "clean river"), ("c", "dirty river")])
    assert [i for i, _ in index.search("clean", 5)] == ["a", "b"]


def test_a_filter_is_applied_before_ranking() -> None:
    index = LexicalIndex()
    index.upsert((f"d{i:05d}", "food bank volunteers") for i in range(10_000))
    index.upsert([("rare", "a food bank run by volunteers in a small town")])
    assert [i for i, _ in index.search("food bank", 10, allowed={"rare", "missing"})] == ["rare"]
    allowed = {f"d{i:05d}" for i in range(0, 10_000, 600)}
    hits = index.search("food bank", 10, allowed=allowed, exclude={"d00000"})
    assert len(hits) == 10 and {i for i, _ in hits} <= allowed - {"d00000"}


def test_matched_terms_are_in_query_order_as_typed(corpus: LexicalIndex) -> None:
    query = "GANGS and Mentoring for the teenager, gangs again"
    assert corpus.matched_terms(query, "mentoring") == ["GANGS", "Mentoring", "teenager"]
    assert corpus.matched_terms(query, "solar") == []
    with pytest.raises(UnknownItem):
        corpus.matched_terms(query, "nope")
    ids = list(CORPUS)
    firsts = {term: surface for surface, term in reversed(tokens(query))}
    expected = {
        i: [s for term, s in sorted(firsts.items(), key=lambda f: query.index(f[1]))
            if term in set(terms(CORPUS[i]))]
        for i in ids
    }  # fmt: skip
    assert corpus.matched_terms_of(query, ids) == expected
    assert any(expected.values()) and not all(expected.values())
    assert corpus.matched_terms_of("zzz unknown words", ids) == {i: [] for i in ids}
    with pytest.raises(UnknownItem):
        corpus.matched_terms_of(query, ["mentoring", "nope"])


def test_an_update_is_found_by_its_new_text_only(corpus: LexicalIndex) -> None:
    corpus.upsert([("solar", "Wind turbines on farms")])
    assert len(corpus) == len(CORPUS)
    assert "solar" not in {i for i, _ in corpus.search("solar panels", 10)}
    assert corpus.search("turbines", 10)[0][0] == "solar"
    assert corpus.remove(["solar", "unknown"]) == 1
    assert corpus.search("turbines", 10) == []


def test_removals_past_the_compaction_mark_keep_results(corpus: LexicalIndex) -> None:
    before = corpus.search("schools water gardens", 10)
    corpus.upsert([("x1", "schools"), ("x2", "water"), ("x3", "gardens")])
    corpus.remove(["x1", "x2", "x3"])
    after = corpus.search("schools water gardens", 10)
    assert [i for i, _ in after] == [i for i, _ in before]
    assert [s for _, s in after] == pytest.approx([s for _, s in before])


def test_save_and_load_give_identical_results(corpus: LexicalIndex, tmp_path: Path) -> None:
    corpus.remove(["water"])
    corpus.upsert([("grants", "Grant writing help for gardens")])
    corpus.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    for query in ["gardens", "schools conflict", "grant writing", "nothing here"]:
        assert loaded.search(query, 10) == corpus.search(query, 10)
    loaded.upsert([("new", "gardens gardens gardens")])
    assert loaded.search("gardens", 1)[0][0] == "new"
    assert loaded.matched_terms("community gardens", "gardens") == ["community", "gardens"]


def test_a_remembered_exclusion_follows_the_index_as_it_changes() -> None:
    index = LexicalIndex()
    index.upsert((f"d{i}", f"garden number{i}") for i in range(1_000))
    hidden = frozenset(f"d{i}" for i in range(600))
    assert not {i for i, _ in index.search("garden", 1_000, exclude=hidden)} & hidden
    index.remove([f"d{i}" for i in range(600, 990)])  # compaction renumbers rows
    index.upsert([("d5", "garden kept out"), ("e1", "garden new")])
    found = {i for i, _ in index.search("garden", 1_000, exclude=hidden)}
    assert found == {f"d{i}" for i in range(990, 1_000)} | {"e1"}


def test_documents_left_out_of_the_statistics_change_no_score() -> None:
    shown = {"a": "beekeeping in the city", "b": "city gardens and bees", "c": "river cleanup"}
    index = LexicalIndex()
    index.upsert(shown.items())
    before = index.scores("beekeeping city", shown)
    hidden = {"h1": "beekeeping beekeeping", "h2": "beekeeping course", "h3": "city city city"}
    index.upsert(hidden.items())
    assert index.scores("beekeeping city", shown) != before  # they count by default
    index.exclude_from_statistics(frozenset(hidden))
    assert index.scores("beekeeping city", shown) == pytest.approx(before)
    # Still searchable: whoever may see them finds them.
    assert "h1" in [i for i, _ in index.search("beekeeping", 10)]
    index.remove(["h3"])
    index.upsert([("d", "a quiet city")])
    alone = LexicalIndex()
    alone.upsert([*shown.items(), ("d", "a quiet city")])
    assert index.scores("beekeeping city", shown) == pytest.approx(
        alone.scores("beekeeping city", shown)
    )


def test_a_compacted_index_answers_as_one_built_from_the_live_documents() -> None:
    rng = np.random.default_rng(3)
    words = [f"word{i}" for i in range(300)]
    docs = {f"d{i:04d}": " ".join(rng.choice(words, 6)) for i in range(2_000)}
    index = LexicalIndex()
    index.upsert(docs.items())
    gone = [f"d{i:04d}" for i in range(0, 2_000, 3)]  # a third: compacted within the removal
    index.remove(gone)
    live = {i: text for i, text in docs.items() if i not in set(gone)}
    assert index._size == len(live)  # compacted
    index.upsert([("late", "word1 word2 word299")])  # and it goes on growing
    live["late"] = "word1 word2 word299"
    scratch = LexicalIndex()
    scratch.upsert(live.items())
    for query in ["word1", "word7 word8", "word299 word2 word1", "word150", "absent"]:
        ours, theirs = index.search(query, 50), scratch.search(query, 50)
        assert [i for i, _ in ours] == [i for i, _ in theirs]
        assert [s for _, s in ours] == pytest.approx([s for _, s in theirs])
    for item_id in ["late", "d0001", "d1999"]:
        assert index.matched_terms("word1 word7", item_id) == scratch.matched_terms(
            "word1 word7", item_id
        )


def test_remembered_sets_and_statistics_follow_every_change() -> None:
    """Sets whose rows are remembered (large frozensets, to find among or to leave out)
    and the documents left out of the statistics follow each update and removal, without
    being read again: every search answers as an index built from the live documents
    would, also after a scrub renumbers the rows."""
    rng = random.Random(11)
    words = [f"w{i}" for i in range(60)]

    def text() -> str:
        return " ".join(rng.choices(words, k=5))

    docs = {f"d{i:04d}": text() for i in range(1_500)}
    index = LexicalIndex()
    index.upsert(docs.items())
    among = frozenset(rng.sample(sorted(docs), 700))
    hidden = frozenset(rng.sample(sorted(docs), 400))
    index.exclude_from_statistics(hidden)
    queries = ["w1 w2", "w30", "w59 w7 w8"]
    for step in range(40):
        if step % 3 == 2:
            gone = rng.sample(sorted(docs), 3)
            index.remove([*gone, gone[0], "never-there"])
            for item_id in gone:
                del docs[item_id]
        else:
            changed = {item_id: text() for item_id in rng.sample(sorted(docs), 4)}
            changed[f"n{step}"] = text()  # a new one, counted
            index.upsert(changed.items())
            docs.update(changed)
        if step == 30:
            index.scrub()  # rows renumbered
        scratch = LexicalIndex()
        scratch.upsert(docs.items())
        scratch.exclude_from_statistics(hidden)
        for query in queries:
            for allowed, exclude in ((among, frozenset()), (None, hidden), (among, hidden)):
                ours = index.search(query, 2_000, allowed=allowed, exclude=exclude)
                theirs = scratch.search(query, 2_000, allowed=allowed, exclude=exclude)
                assert [i for i, _ in ours] == [i for i, _ in theirs], (step, query)
                assert [s for _, s in ours] == pytest.approx([s for _, s in theirs])
    assert index._selections._entries  # the sets were remembered, not read each time


def test_held_term_weights_are_bounded_and_follow_the_statistics(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A term's weights are held between queries, within a bound of postings; a write or
    an exclusion from the statistics replaces them, so every score stays the formula's."""
    import embeddings.lexical as lexical

    monkeypatch.setattr(lexical, "_WEIGHTS_HELD", 50)
    rng = random.Random(5)
    words = [f"w{i}" for i in range(40)]
    docs = {f"d{i:03d}": " ".join(rng.choices(words, k=6)) for i in range(300)}
    index = LexicalIndex()
    index.upsert(docs.items())
    queries = ["w1 w2", "w3", "w1 w39 w20", "w7 w8 w9 w10"]

    def fresh(hidden: frozenset[str] = frozenset()) -> LexicalIndex:
        scratch = LexicalIndex()
        scratch.upsert(docs.items())
        scratch.exclude_from_statistics(hidden)
        return scratch

    def same(scratch: LexicalIndex) -> None:
        for query in queries * 2:  # the second time from the held weights
            ours, theirs = index.search(query, 300), scratch.search(query, 300)
            assert ours == theirs
            assert index.known_share(query) == scratch.known_share(query)
        assert index._weighted_size <= 50 or len(index._weighted) == 1

    same(fresh())
    assert index._weighted  # held
    docs["d000"] = "w1 w1 w1 w2"
    index.upsert([("d000", docs["d000"])])
    same(fresh())
    hidden = frozenset(i for i in docs if "w3" in docs[i].split())
    index.exclude_from_statistics(hidden)
    same(fresh(hidden))
    assert index.known_share("w3") == 0.0  # held only by documents left out of the statistics


def test_a_stem_less_a_final_y_is_written_in_its_word() -> None:
    """What lets an explanation skip the passages that cannot hold a query's term: every
    folded word, less a final "y", is a substring of the word as written (lower case)."""
    rng = random.Random(7)
    endings = ["", "s", "es", "ies", "ing", "ed", "e", "ly", "sses", "nning", "tted", "y"]
    stems = ["communit", "mentor", "garden", "plan", "creat", "class", "bus", "speed",
             "analys", "bring", "run", "fund", "water", "heal", "bla", "yy", "covid19"]  # fmt: skip
    words = [stem + end for stem in stems for end in endings]
    words += ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 12)))
              for _ in range(20_000)]  # fmt: skip
    for word in words:
        for term in terms(word):
            key = term[:-1] if term.endswith("y") else term
            assert key in word, (word, term)
