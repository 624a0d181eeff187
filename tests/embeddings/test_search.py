from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from embeddings.encoder import Encoder, HashingEncoder
from embeddings.errors import DimensionMismatch, EncoderMismatch, InvalidOption, UnknownItem
from embeddings.options import RankingOptions, VectorOptions
from embeddings.ranking import Matrix
from embeddings.search import Mode, SemanticIndex, text_sha1
from tests.embeddings.conftest import CORPUS


class CountingEncoder:
    """The hashing encoder, remembering every text it was asked to encode."""

    def __init__(self) -> None:
        self.inner = HashingEncoder(64)
        self.name = self.inner.name
        self.dimension = self.inner.dimension
        self.seen: list[str] = []

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False
    ) -> Matrix:
        self.seen.extend(texts)
        return self.inner.encode(texts, batch_size=batch_size, progress=progress)


@pytest.fixture
def counting() -> CountingEncoder:
    return CountingEncoder()


@pytest.fixture
def index(counting: CountingEncoder, tmp_path: Path) -> SemanticIndex:
    built = SemanticIndex(counting, folder=tmp_path / "index")
    built.upsert(CORPUS.items())
    counting.seen.clear()
    return built


def test_the_counting_encoder_is_an_encoder(counting: CountingEncoder) -> None:
    assert isinstance(counting, Encoder)


def test_only_changed_texts_are_encoded(index: SemanticIndex, counting: CountingEncoder) -> None:
    changed = index.upsert([*CORPUS.items(), ("solar", "Wind turbines"), ("new", "Bee keeping")])
    assert changed == 2
    assert counting.seen == ["Wind turbines", "Bee keeping"]
    assert index.text_hash("solar") == text_sha1("Wind turbines")
    assert index.text_hash("missing") is None
    assert len(index) == len(CORPUS) + 1


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_an_updated_item_is_found_by_its_new_text_not_its_old(
    index: SemanticIndex, mode: Mode
) -> None:
    old_text = "solar panels rural"
    before = {hit.id: hit.score for hit in index.search(old_text, 10, mode=mode)}
    assert max(before, key=before.__getitem__) == "solar"
    index.upsert([("solar", "Beekeeping cooperatives for honey")])
    assert index.search("beekeeping cooperatives honey", 1, mode=mode)[0].id == "solar"
    after = {hit.id: hit.score for hit in index.search(old_text, 10, mode=mode)}
    assert after.get("solar", 0.0) < 0.5 * before["solar"]


def test_hybrid_hits_explain_themselves(index: SemanticIndex) -> None:
    index.ranking = RankingOptions(method="weighted", alpha=0.8)
    hit = index.search("Mentoring teenagers", 3)[0]
    assert hit.id == "mentoring"
    assert hit.matched_terms == ("Mentoring", "teenagers")
    assert hit.dense is not None and hit.lexical is not None
    assert (hit.dense_rank, hit.lexical_rank) == (1, 1)
    alpha = index.ranking.alpha  # the lexical side is normalised by its top score: 1.0
    assert hit.score == pytest.approx(alpha * hit.dense + (1 - alpha) * 1.0)


def test_filters_apply_to_every_mode(index: SemanticIndex) -> None:
    modes: list[Mode] = ["hybrid", "dense", "lexical"]
    for mode in modes:
        hits = index.search(
            "schools, gardens and water wells", 5, mode=mode,
            allowed={"gardens", "water", "unknown"}, exclude={"water"},
        )  # fmt: skip
        assert [hit.id for hit in hits] == ["gardens"]


def test_a_removed_item_is_never_returned(index: SemanticIndex) -> None:
    assert index.remove(["circles", "nope"]) == 1
    assert "circles" not in {hit.id for hit in index.search("restorative circles", 10)}
    with pytest.raises(UnknownItem):
        index.vector("circles")
    with pytest.raises(UnknownItem, match="circles"):
        index.similar("circles")


@pytest.mark.parametrize("text", ["", "   ", "?!"])
def test_a_query_without_words_returns_nothing(index: SemanticIndex, text: str) -> None:
    assert index.search(text, 5) == []


def test_similar_never_returns_the_item_and_uses_no_encoding(
    index: SemanticIndex, counting: CountingEncoder
) -> None:
    hits = index.similar("mentoring", 10)
    assert len(hits) == len(CORPUS) - 1 and "mentoring" not in {h.id for h in hits}
    assert counting.seen == []
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_positives_and_negatives_steer_similar(index: SemanticIndex) -> None:
    index.upsert([("kids", "Teenagers mentoring after school"), ("sun", "Solar energy panels")])
    base = [h.id for h in index.similar("circles", 10)]
    toward = [h.id for h in index.similar("circles", 10, positive=["solar"])]
    away = [h.id for h in index.similar("circles", 10, negative=["solar"])]
    assert "solar" not in toward and "solar" not in away
    assert toward.index("sun") < base.index("sun") <= away.index("sun")


def test_similar_with_mmr_diversifies(index: SemanticIndex) -> None:
    index.upsert([("m2", CORPUS["mentoring"] + " today"), ("m3", CORPUS["mentoring"] + " now")])
    plain = [h.id for h in index.similar("mentoring", 2)]
    diverse = [h.id for h in index.similar("mentoring", 2, mmr_lambda=0.3)]
    assert plain == ["m2", "m3"] or plain == ["m3", "m2"]
    assert diverse[0] in {"m2", "m3"} and diverse[1] not in {"m2", "m3"}


def test_save_and_load_round_trip_with_the_watermark(index: SemanticIndex) -> None:
    index.save(watermark=42)
    assert index.folder is not None
    loaded = SemanticIndex.load(index.encoder, index.folder)
    assert loaded.watermark == 42 and len(loaded) == len(index)
    for query in ("community gardens", "schools", "clean water wells"):
        assert loaded.search(query, 5) == index.search(query, 5)
    assert np.array_equal(loaded.vector("water"), index.vector("water"))
    assert loaded.text_hash("water") == text_sha1(CORPUS["water"])


def test_a_saved_index_only_opens_with_the_same_encoder(
    index: SemanticIndex, tmp_path: Path
) -> None:
    index.save(watermark=1)
    with pytest.raises(EncoderMismatch, match="hashing-64"):
        SemanticIndex.load(HashingEncoder(32), tmp_path / "index")
    reopened = SemanticIndex.open(index.encoder, tmp_path / "index")
    assert reopened.watermark == 1
    fresh = SemanticIndex.open(index.encoder, tmp_path / "other", vectors=VectorOptions(10))
    assert len(fresh) == 0 and fresh.vectors.exact_below == 10


def test_options_are_validated(index: SemanticIndex) -> None:
    with pytest.raises(InvalidOption, match="mode"):
        index.search("x", mode="fuzzy")  # type: ignore[arg-type]
    with pytest.raises(InvalidOption, match="folder"):
        SemanticIndex(HashingEncoder(), ranking=RankingOptions()).save()


def test_a_repeated_query_is_encoded_once(index: SemanticIndex, counting: CountingEncoder) -> None:
    before = len(counting.seen)
    first = index.search("youth mentoring", 3)
    assert len(counting.seen) == before + 1
    assert index.search("youth mentoring", 3, mode="dense") and len(counting.seen) == before + 1
    assert [h.id for h in index.search("youth mentoring", 3)] == [h.id for h in first]
    index.query_cache = 0
    index.search("youth mentoring", 3)
    assert len(counting.seen) == before + 2  # with no cache, every search encodes


def test_the_query_cache_keeps_the_latest(index: SemanticIndex, counting: CountingEncoder) -> None:
    index.query_cache = 2
    for text in ("water", "gardens", "water", "music"):  # "gardens" is the oldest now
        index.search(text, 1)
    before = len(counting.seen)
    index.search("water", 1)
    assert len(counting.seen) == before
    index.search("gardens", 1)
    assert len(counting.seen) == before + 1


@pytest.mark.parametrize("exact_below", [20_000, 3], ids=["exact", "hnsw"])
def test_a_save_after_forgetting_keeps_no_trace_of_the_forgotten(
    tmp_path: Path, exact_below: int
) -> None:
    folder = tmp_path / "index"
    vectors = VectorOptions(exact_below)
    index = SemanticIndex(HashingEncoder(64), folder=folder, vectors=vectors)
    index.upsert([("person:zq", "glockenspiel lessons"), ("b", "community gardens"),
                  ("c", "clean water wells"), ("d", "youth mentoring")])  # fmt: skip
    index.save(watermark=1)
    old = index.vector("person:zq").tobytes()
    index.upsert([("person:zq", "kintsugi and glockenspiel")])  # the old row is retired
    newer = index.vector("person:zq").tobytes()
    index.save(watermark=2)  # two snapshots on disk, both holding the person
    assert index.vectors.uses_hnsw is (exact_below == 3)

    assert index.forget(["person:zq", "unknown"]) == 1
    index.save(watermark=3)

    assert [p.name for p in sorted(folder.glob("snapshot-*"))] == ["snapshot-000003"]
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for needle in (b"glockenspiel", b"kintsugi", b"person:zq", old, newer):
                assert needle not in data, (path, needle[:20])
    loaded = SemanticIndex.load(index.encoder, folder)
    assert "person:zq" not in loaded and len(loaded) == 3
    assert [h.id for h in loaded.search("community gardens", 1)] == ["b"]
    index.upsert([("e", "solar panels")])
    index.save(watermark=4)  # an ordinary save keeps the previous snapshot again
    assert [p.name for p in sorted(folder.glob("snapshot-*"))] == [
        "snapshot-000003",
        "snapshot-000004",
    ]


def test_an_index_knows_whether_it_is_its_saved_snapshot(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    index = SemanticIndex(HashingEncoder(64), folder=folder)
    index.upsert([("a", "community gardens"), ("b", "clean water wells")])
    assert not index.as_saved  # never saved
    assert index.worth_saving(moved=100)
    index.save(watermark=5)
    assert index.as_saved and not index.worth_saving(moved=0)
    loaded = SemanticIndex.load(index.encoder, folder)
    assert loaded.as_saved and loaded.watermark == 5
    loaded.upsert([("c", "youth mentoring")])
    loaded.watermark = 8  # what applying the change log does
    assert not loaded.as_saved
    # A start saves it once the log moved on by more than it would apply again.
    assert not loaded.worth_saving(moved=3) and loaded.worth_saving(moved=2)
    loaded.save(watermark=8)
    assert loaded.as_saved
    assert loaded.forget(["a"]) == 1
    assert not loaded.as_saved  # the snapshot on disk still holds who was forgotten
    assert loaded.worth_saving(moved=1_000)  # saved at once, however little moved


def test_queries_are_asked_of_an_encoder_of_the_items_dimension() -> None:
    index = SemanticIndex(HashingEncoder(64))
    index.upsert([("a", "community gardens in the city"), ("b", "river clean-up days")])
    other = HashingEncoder(64)
    other.name = "hashing-64-queries"
    index.ask_with(other)
    assert index.query_encoder is other and index.encoder.name == "hashing-64"
    assert index.search("community gardens", 1, mode="dense")[0].id == "a"
    with pytest.raises(DimensionMismatch):
        index.ask_with(HashingEncoder(32))
    assert index.query_encoder is other


def test_vectors_for_items_searched_by_their_words_leave_the_words_as_they_are(
    counting: CountingEncoder,
) -> None:
    """A waiting item's vector comes in without its words indexed again: the lexical index
    holds that very text since add_words_only (no row retired and appended per item)."""
    index = SemanticIndex(counting)
    items = list(CORPUS.items())
    assert index.add_words_only(items) == len(items)
    rows = index.lexical._size
    query = CORPUS["gardens"]
    by_words = [h.id for h in index.search(query, 3, mode="lexical")]
    assert by_words[0] == "gardens"
    assert index.apply_pending(index.prepare(items)) == len(items)
    assert index.pending == 0 and index.lexical._size == rows  # nothing appended
    assert [h.id for h in index.search(query, 3, mode="lexical")] == by_words
    assert index.search(query, 1, mode="dense")[0].id == "gardens"
    # A text changed later is a write: its words are indexed again.
    index.upsert([("gardens", "an entirely new text about bees")])
    assert index.lexical._size == rows + 1


@pytest.mark.parametrize("mode", ["hybrid", "dense"])
def test_a_search_without_a_filter_walks_as_the_ranking_says_a_filtered_one_wider(
    tmp_path: Path, mode: Mode, monkeypatch: pytest.MonkeyPatch
) -> None:
    """efSearch: the ranking's ``walk`` without a filter; the index's own with one (a walk
    among a share of the rows needs to look wider to find as many of its nearest)."""
    index = SemanticIndex(HashingEncoder(64), folder=tmp_path, vectors=VectorOptions(3),
                          ranking=RankingOptions(walk=40))  # fmt: skip
    index.upsert(CORPUS.items())
    assert index.vectors.uses_hnsw
    walks: list[int | None] = []
    searched = type(index.vectors).search

    def recording(self, query, k, **kwargs):  # type: ignore[no-untyped-def]
        walks.append(kwargs.get("ef_search"))
        return searched(self, query, k, **kwargs)

    monkeypatch.setattr(type(index.vectors), "search", recording)
    unfiltered = index.search("community gardens", 3, mode=mode)
    index.search("community gardens", 3, mode=mode, allowed=set(CORPUS))
    assert walks == [40, None]
    assert unfiltered  # and it found something
