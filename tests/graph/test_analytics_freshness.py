"""Figures of an older version answered while the new one is computed, and when they are not."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pytest

from graph.analytics import SectorAnalytics
from graph.analytics import background as background_module
from graph.analytics.freshness import PrivacyEpochs, Staleness
from graph.analytics.pinned import freeze
from graph.analytics.shared import WITHDRAWALS, SharedFigures
from graph.analytics.versions import Versioned
from graph.demo import demo_records
from graph.edges import Edge
from graph.feed import ChangeFeed
from graph.model import Community, LocationPrecision, Person, Visibility
from graph.similarity import VectorSimilarity
from graph.store import Store
from graph.view import GraphView
from tests.conftest import DATA
from tests.graph.test_analytics import REGIONS, overlap_world, person

LENIENT = Staleness(max_changes=10_000, max_seconds=3600.0)
EDU, RJ, BIZ = "sector:education", "sector:restorative-justice", "sector:business"


def following(
    store: Store, view: GraphView, staleness: Staleness = LENIENT
) -> tuple[SectorAnalytics, ChangeFeed]:
    epochs = PrivacyEpochs(view)
    feed = ChangeFeed(store, [view, epochs], seq=view.seq)
    engine = SectorAnalytics(store, view, REGIONS, lock=feed.lock, epochs=epochs,
                             staleness=staleness)  # fmt: skip
    return engine, feed


def shared(found: Versioned[object], a: str, b: str) -> int:
    overlap = found.value
    at = overlap.sectors.index  # type: ignore[attr-defined]
    return int(overlap.shared_people[at(a), at(b)])  # type: ignore[attr-defined]


def test_after_a_write_the_older_figure_is_answered_then_the_new_one(store: Store) -> None:
    view, similarity = overlap_world(store)
    engine, feed = following(store, view)
    first = engine.overlap("public", similarity)
    assert first.current and first.seq == view.seq
    store.write(person("fay", ["business", "restorative-justice"], [8]))
    feed.catch_up()
    answers = [engine.overlap("public", similarity) for _ in range(3)]
    stale = answers[0]
    assert not stale.current and stale.seq == first.seq and stale.value is first.value
    assert shared(stale, BIZ, RJ) == 0  # the figure of the version before the write
    assert engine.settle()
    assert engine.background_runs == 1  # asked three times, computed once
    fresh = engine.overlap("public", similarity)
    assert fresh.current and fresh.seq == view.seq > first.seq
    assert shared(fresh, BIZ, RJ) == 1


def test_without_staleness_allowed_every_figure_is_current(store: Store) -> None:
    view, similarity = overlap_world(store)
    engine, feed = following(store, view, Staleness())
    engine.overlap("public", similarity)
    store.write(person("fay", ["business", "restorative-justice"], [8]))
    feed.catch_up()
    found = engine.overlap("public", similarity)
    assert found.current and shared(found, BIZ, RJ) == 1
    assert engine.background_runs == 0


@pytest.mark.parametrize(
    ("staleness", "writes"),
    [
        (Staleness(max_changes=2, max_seconds=3600.0), 3),  # too many changes behind
        (Staleness(max_changes=10_000, max_seconds=1e-9), 1),  # behind for too long
    ],
)
def test_past_either_bound_the_request_waits_for_the_new_figure(
    store: Store, staleness: Staleness, writes: int
) -> None:
    view, similarity = overlap_world(store)
    engine, feed = following(store, view, staleness)
    engine.overlap("public", similarity)
    for n in range(writes):
        store.write([Person(id=f"person:new-{n}", name=f"New {n}")])
    feed.catch_up()
    assert engine.overlap("public", similarity).current


def withdrawals(store: Store) -> dict[str, Callable[[], object]]:
    """Changes that take something from what the public audience may see of person:ben."""

    def ben(**update: object) -> Callable[[], object]:
        return lambda: store.write([store.get_node("person:ben").model_copy(update=update)])

    return {
        "goes private": ben(visibility=Visibility.private),
        "goes members-only": ben(visibility=Visibility.members),
        "becomes undiscoverable": ben(discoverable=False),
        "shares a coarser place": ben(location_precision=LocationPrecision.country),
        "moves": ben(place=None),
        "leaves a community": lambda: store.delete_edge(
            "person:ben", "located_in", "community:davis"
        ),
        "is erased": lambda: store.delete_node("person:ben"),
        "someone else is erased": lambda: store.delete_node("person:cy"),
    }


@pytest.mark.parametrize(
    "change",
    [
        "goes private",
        "goes members-only",
        "becomes undiscoverable",
        "shares a coarser place",
        "moves",
        "leaves a community",
        "is erased",
        "someone else is erased",
    ],
)
def test_a_figure_from_before_a_privacy_change_is_never_answered(store: Store, change: str) -> None:
    view, similarity = overlap_world(store)
    store.write([
        Community(id="community:davis", name="Davis", scope="city"),
        Edge(kind="located_in", source="person:ben", target="community:davis"),
    ])  # fmt: skip
    engine, feed = following(store, view)
    feed.catch_up()
    figures = {
        "overlap": lambda: engine.overlap("public", similarity),
        "bridges": lambda: engine.bridges("public", EDU),
        "gaps": lambda: engine.gaps("public", EDU),
        "groups": lambda: engine.groups("public", similarity, EDU),
        "synergies": lambda: engine.synergies("public", similarity, EDU, other=None,
                                              kind="person"),
        "council": lambda: engine.propose("public", similarity, EDU, size=5),
    }  # fmt: skip
    before = {name: ask() for name, ask in figures.items()}
    withdrawals(store)[change]()
    feed.catch_up()
    for name, ask in figures.items():
        found = ask()
        assert found.current and found.seq > before[name].seq, (change, name)
    if change in ("goes private", "becomes undiscoverable", "is erased"):
        assert "person:ben" not in engine.snapshot("public").kind


def test_a_change_that_hides_nobody_from_an_audience_keeps_its_older_figures(
    store: Store,
) -> None:
    """A members-only person going private withdraws nothing from the public."""
    view, similarity = overlap_world(store)
    store.write(person("mo", ["education"], [4], visibility="members"))
    engine, feed = following(store, view)
    feed.catch_up()
    public, members = engine.overlap("public", similarity), engine.overlap("members", similarity)
    store.write([store.get_node("person:mo").model_copy(update={"visibility": Visibility.private})])
    feed.catch_up()
    assert not engine.overlap("public", similarity).current
    assert engine.overlap("members", similarity).current
    assert engine.settle()
    assert public.seq < engine.overlap("public", similarity).seq == members.seq + 1


def test_figures_computed_in_the_background_equal_those_computed_at_once(store: Store) -> None:
    """The background reads a frozen copy of the nodes' edges and vectors read under the
    lock: it must give exactly what the live view gives."""
    store.write(list(demo_records(DATA, seed=5, people=120)))
    view = GraphView.from_store(store)
    rng = np.random.default_rng(5)
    similarity = VectorSimilarity({n: rng.standard_normal(8) for n in view.graph})
    engine, feed = following(store, view)
    sectors = ["sector:education", "sector:health"]

    def ask(e: SectorAnalytics) -> list[Versioned[object]]:
        found: list[Versioned[object]] = [e.overlap("public", similarity)]
        for s in sectors:
            found += [
                e.bridges("members", s), e.gaps("public", s), e.groups("members", similarity, s),
                e.synergies("public", similarity, s, other=None, kind="initiative"),
                e.synergies("members", similarity, s, other="sector:arts", kind="person"),
                e.propose("members", similarity, s, size=6),
            ]  # fmt: skip
        return found

    ask(engine)
    store.write([Person(id="person:newcomer", name="Newcomer")])
    feed.catch_up()
    assert not any(v.current for v in ask(engine))
    assert engine.settle()
    background = ask(engine)
    assert all(v.current for v in background) and engine.background_runs == len(background)
    at_once = ask(SectorAnalytics(store, view, REGIONS))
    overlap, *rest = background
    assert np.array_equal(overlap.value.matrix, at_once[0].value.matrix)  # type: ignore[attr-defined]
    for index, (mine, theirs) in enumerate(zip(rest, at_once[1:], strict=True)):
        if index % 6 == 1:  # gaps: arrays
            assert np.array_equal(mine.value.counts, theirs.value.counts)  # type: ignore[attr-defined]
        else:
            assert mine.value == theirs.value, index


def test_a_frozen_graph_shares_nothing_a_write_changes(store: Store) -> None:
    view, _ = overlap_world(store)
    frozen = freeze(view.graph, ["person:ben"])
    before = {t: set(k) for t, k in frozen._succ["person:ben"].items()}
    view.graph.add_edge("person:ben", "sector:business", key="interested_in")
    view.graph.add_edge("person:ben", "sector:education", key="partners_with")
    view.graph.nodes["person:ben"]["visibility"] = "private"
    assert {t: set(k) for t, k in frozen._succ["person:ben"].items()} == before
    assert frozen.nodes["person:ben"]["visibility"] == "public"


def test_a_background_read_that_meets_a_write_is_read_again_under_the_lock(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snapshot is read without the lock, then checked: a write that landed meanwhile
    throws the read away, and it is read again holding the lock."""
    view, similarity = overlap_world(store)
    engine, feed = following(store, view)
    engine.overlap("public", similarity)
    store.write(person("fay", ["business", "restorative-justice"], [8]))
    feed.catch_up()
    read_at: list[int] = []
    real = background_module.build_snapshot

    def meddled(graph: object, **options: object) -> object:
        read_at.append(int(options["seq"]))  # type: ignore[call-overload]
        if len(read_at) == 1:  # a write lands in the middle of the first read
            store.write(person("gus", ["business", "restorative-justice"], [8]))
            feed.step()
        return real(graph, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(background_module, "build_snapshot", meddled)
    behind = view.seq
    assert not engine.overlap("public", similarity).current
    assert engine.settle()
    fresh = engine.overlap("public", similarity)
    assert read_at == [behind, view.seq] and view.seq > behind
    assert fresh.current and fresh.seq == view.seq and shared(fresh, BIZ, RJ) == 2
    assert engine.background_runs == 1


class Arriving:
    """Text vectors some of which come in later, as a store's being indexed do: before
    :meth:`arrive`, ``missing`` have none (and ``partial`` says so)."""

    def __init__(self, full: VectorSimilarity, missing: set[str]) -> None:
        self.full = full
        self.missing = missing
        self.partial = True
        self.on_read: Callable[[], None] | None = None

    def arrive(self) -> None:
        self.partial = False

    def vectors(self, ids: Iterable[str]) -> dict[str, object]:
        found = self.full.vectors(i for i in ids if not self.partial or i not in self.missing)
        if self.on_read is not None:
            self.on_read()
        return found  # type: ignore[return-value]

    def scores(self, node_id: str, others: Iterable[str]) -> dict[str, float]:
        if self.partial and node_id in self.missing:
            return {}
        return self.full.scores(
            node_id, [o for o in others if not self.partial or o not in self.missing]
        )

    def __getattr__(self, name: str) -> object:
        return getattr(self.full, name)


def indexing(
    store: Store, staleness: Staleness = LENIENT
) -> tuple[SectorAnalytics, ChangeFeed, Arriving]:
    """The engine of a store whose initiatives' vectors are still being computed."""
    view, full = overlap_world(store)
    texts = Arriving(full, {"initiative:restorative-conferences", "initiative:reading-club"})
    epochs = PrivacyEpochs(view)
    feed = ChangeFeed(store, [view, epochs], seq=view.seq)
    engine = SectorAnalytics(store, view, REGIONS, lock=feed.lock, epochs=epochs,
                             staleness=staleness, partial_texts=lambda: texts.partial)  # fmt: skip
    return engine, feed, texts


def complete(store: Store, texts: Arriving) -> np.ndarray:
    """The overlap computed from every vector, by an engine of its own."""
    found = SectorAnalytics(store, GraphView.from_store(store), REGIONS).overlap("public", texts)
    return found.value.matrix  # type: ignore[no-any-return]


def test_figures_read_while_vectors_were_missing_are_answered_as_older_once_they_are_in(
    store: Store,
) -> None:
    engine, _, texts = indexing(store)
    partial = engine.overlap("public", texts)  # type: ignore[arg-type]
    assert partial.current
    texts.arrive()
    assert engine.forget_text_figures() == 1
    assert not np.array_equal(partial.value.matrix, complete(store, texts))  # type: ignore[attr-defined]
    # Answered at once, said to be behind, while the complete one is computed aside.
    behind = engine.overlap("public", texts)  # type: ignore[arg-type]
    assert not behind.current and behind.value is partial.value and behind.seq == partial.seq
    assert engine.settle()
    whole = engine.overlap("public", texts)  # type: ignore[arg-type]
    assert whole.current and whole.seq == partial.seq and engine.background_runs == 1
    assert np.array_equal(whole.value.matrix, complete(store, texts))  # type: ignore[attr-defined]


def test_without_staleness_a_figure_read_while_vectors_were_missing_is_computed_again(
    store: Store,
) -> None:
    engine, _, texts = indexing(store, Staleness())
    engine.overlap("public", texts)  # type: ignore[arg-type]
    texts.arrive()
    engine.forget_text_figures()
    found = engine.overlap("public", texts)  # type: ignore[arg-type]
    assert found.current and engine.background_runs == 0
    assert np.array_equal(found.value.matrix, complete(store, texts))  # type: ignore[attr-defined]


def test_a_background_figure_whose_reading_the_last_vectors_overtook_is_not_taken_as_complete(
    store: Store,
) -> None:
    """The last vectors come in (and the figures are marked) while a background
    computation reads: what it computed lacks them, and must not be answered as current."""
    engine, feed, texts = indexing(store)
    engine.overlap("public", texts)  # type: ignore[arg-type]
    store.write(person("fay", ["business", "restorative-justice"], [8]))
    feed.catch_up()

    def arrives_after_this_read() -> None:
        texts.on_read = None
        texts.arrive()
        engine.forget_text_figures()

    texts.on_read = arrives_after_this_read
    assert not engine.overlap("public", texts).current  # type: ignore[arg-type]
    assert engine.settle() and engine.background_runs == 1
    read_early = engine.overlap("public", texts)  # type: ignore[arg-type]
    assert not read_early.current and read_early.seq == feed.seq
    assert engine.settle() and engine.background_runs == 2
    whole = engine.overlap("public", texts)  # type: ignore[arg-type]
    assert whole.current
    assert np.array_equal(whole.value.matrix, complete(store, texts))  # type: ignore[attr-defined]
    assert not np.array_equal(read_early.value.matrix, whole.value.matrix)  # type: ignore[attr-defined]


def test_no_record_of_withdrawals_names_a_change_from_before_an_erasure(
    store: Store, tmp_path: Path
) -> None:
    """The record of withdrawals names the change that made its version (which may name
    a person): the first process to apply an erasure removes it, and none of a version
    before the erasure is written again; one of the erasure's version is."""
    view = GraphView.from_store(store)
    figures = SharedFigures(tmp_path / "figures")
    figures.keep_withdrawals(PrivacyEpochs(view), view.seq, "upsert node person:someone")
    record = figures.folder / WITHDRAWALS
    assert "person:someone" in record.read_text()
    figures.clear(view.seq + 1)  # an erasure applied by another process
    assert not record.exists()
    figures._keep(view.seq, "upsert edge person:someone|knows|person:other")
    assert not record.exists()  # of a version before the erasure: not written again
    figures._keep(view.seq + 1, "erase node -")
    assert record.exists()
