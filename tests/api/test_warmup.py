"""No cold first requests: the per-version structures are built in the background, at
start and after writes, and a request finds them built (it builds nothing itself)."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.analytics import analytics
from api.app import create_app
from api.auth import ANONYMOUS, KeyRing, Role
from api.matching import matching_of
from api.services import Services
from api.warmup import MEMBER, Warmer
from graph.analytics.councils import DEFAULT_SIZE
from graph.demo import demo_records
from graph.listing import NodeFilter, _totals
from graph.model import Person
from graph.visibility import listing_audience
from tests.api.conftest import _settings
from tests.conftest import DATA


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, reference_index: Path) -> Iterator[Services]:
    data_dir = tmp_path_factory.mktemp("warmup") / "var"
    shutil.copytree(reference_index, data_dir / "index")
    services = Services.start(_settings(data_dir))
    services.store.write(demo_records(DATA, seed=3, people=150))
    services.catch_up()
    yield services
    services.close()


@pytest.fixture(scope="module")
def http(demo: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=demo, warm=True)) as test_client:
        assert warmer_of(test_client).wait(timeout=300, councils=True)
        yield test_client


def warmer_of(http: TestClient) -> Warmer:
    warmer = http.app.state.warmer  # type: ignore[attr-defined]
    assert isinstance(warmer, Warmer)
    return warmer


def sectors(services: Services) -> list[str]:
    return sorted(n for n, a in services.view.graph.nodes(data=True) if a["kind"] == "sector")


def council_key(sector: str) -> tuple[object, ...]:
    return ("council", "members", sector, DEFAULT_SIZE, ())


def test_start_warms_every_kind_without_a_request(demo: Services, http: TestClient) -> None:
    seq = demo.view.seq
    version = matching_of(demo, http.app.state)._version  # type: ignore[attr-defined]
    assert version is not None and version.seq == seq
    assert set(version.people) == {"public", "members"}
    assert version.initiatives is not None
    assert demo.counts is not None and demo.counts._totals is not None  # /v1/stats
    engine = analytics(demo)
    for sector in sectors(demo):
        entry = engine._figures.get(council_key(sector))
        assert entry is not None and entry.seq == seq, sector
    deadline = time.monotonic() + 300
    while demo._tagger is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert demo._tagger is not None  # the tagger is fitted once, after the first warming
    assert warmer_of(http).warmed.failures == 0


def test_the_first_requests_build_nothing(demo: Services, http: TestClient) -> None:
    _, secret = KeyRing(demo.store.engine).create(Role.member)
    member = {"Authorization": f"Bearer {secret}"}
    matching = matching_of(demo, http.app.state)  # type: ignore[attr-defined]
    version = matching._version
    assert version is not None
    people = dict(version.people)
    engine = analytics(demo)
    sector = sectors(demo)[0]
    entry = engine._figures[council_key(sector)]
    seed = sorted(version.people["public"].ids)[0]

    found = http.get(f"/v1/people/{seed}/collaborators")
    assert found.status_code == 200, found.text
    proposed = http.post("/v1/councils/propose", json={"sector": sector}, headers=member)
    assert proposed.status_code == 200, proposed.text

    assert matching._version is version  # the same caches, none built again
    assert all(version.people[a] is people[a] for a in people)
    assert engine._figures[council_key(sector)] is entry


def test_the_first_listing_of_a_sector_or_goal_counts_nothing(
    demo: Services, http: TestClient
) -> None:
    _, secret = KeyRing(demo.store.engine).create(Role.member)
    member = {"Authorization": f"Bearer {secret}"}
    totals = _totals(demo.store)
    goal = min(n for n, a in demo.view.graph.nodes(data=True) if a["kind"] == "sdg")
    for query, flt in [
        (f"kind=person&sector={sectors(demo)[0]}", NodeFilter(frozenset({"person"}),
                                                              sector=sectors(demo)[0])),
        (f"kind=initiative&sdg={goal}", NodeFilter(frozenset({"initiative"}), sdg=goal)),
        (f"kind=event&sector={sectors(demo)[-1]}", NodeFilter(frozenset({"event"}),
                                                              sector=sectors(demo)[-1])),
    ]:  # fmt: skip
        for headers, caller in (({}, ANONYMOUS), (member, MEMBER)):
            key = (flt, listing_audience(caller))
            counted = totals.get(key)
            assert counted is not None, (query, caller)  # counted by the warmer
            found = http.get(f"/v1/nodes?{query}&limit=5", headers=headers)
            assert found.status_code == 200, found.text
            assert found.json()["total"] == counted.total
            assert totals.get(key) is counted  # not counted again by the request


def test_a_write_is_warmed_in_the_background(demo: Services, http: TestClient) -> None:
    before = warmer_of(http).warmed.runs
    done = demo.store.write(
        [
            Person(
                id="person:warm-new",
                name="Wren Warm",
                bio="Runs a seed library.",
                open_to_collaborate=True,
            )
        ]
    )
    assert done.last_seq is not None and demo.feed.wait_for(done.last_seq, 30)
    assert warmer_of(http).wait(done.last_seq, timeout=300, councils=True)
    assert warmer_of(http).warmed.runs > before
    version = matching_of(demo, http.app.state)._version  # type: ignore[attr-defined]
    assert version is not None and version.seq >= done.last_seq
    assert "person:warm-new" in version.people["public"].ids
    engine = analytics(demo)
    for sector in sectors(demo):
        entry = engine._figures.get(council_key(sector))
        assert entry is not None and entry.seq >= done.last_seq, sector


def test_a_write_that_comes_while_a_warming_ends_is_warmed_without_another(
    demo: Services, http: TestClient
) -> None:
    """The last write of a burst, applied while the warmer finishes the warming of the
    one before (its listings part, outside the feed's lock; or, at start, its
    once-per-process parts), is warmed: the warmer does not wait for a further write
    first (seen at 100,000 people: both workers left a version behind, unwarmed, after
    the benchmark's last write, until the next write)."""
    warmer = warmer_of(http)
    entered, release = threading.Event(), threading.Event()
    listings = warmer._listings

    def held() -> None:
        entered.set()
        release.wait(60)
        listings()

    warmer._listings = held  # type: ignore[method-assign]
    warmer._listed_at = -float("inf")  # (the listings part is due at the next warming)
    try:
        first = demo.store.write([Person(id="person:warm-first", name="Fern First")])
        assert first.last_seq is not None
        assert entered.wait(120), (warmer.warmed.as_json(), demo.feed.seq, first.last_seq)
        second = demo.store.write([Person(id="person:warm-second", name="Sage Second")])
        assert second.last_seq is not None and demo.feed.wait_for(second.last_seq, 30)
        assert warmer.warmed.seq < second.last_seq  # (still warming the first)
        release.set()
        assert warmer.wait(second.last_seq, timeout=60)
    finally:
        release.set()
        del warmer._listings
    version = matching_of(demo, http.app.state)._version  # type: ignore[attr-defined]
    assert version is not None and version.seq >= second.last_seq


def test_a_request_waits_for_the_figure_being_warmed(demo: Services, http: TestClient) -> None:
    """A proposal asked for while the background computes it is not computed twice."""
    engine = analytics(demo)
    sector = sectors(demo)[1]
    key = council_key(sector)
    with engine._cache_lock:
        engine._figures.pop(key, None)
    engine.warm_proposal("members", demo.similarity, sector)
    runs = engine.background_runs
    with demo.feed.lock.read():
        found = engine.propose("members", demo.similarity, sector)
    assert found.current
    assert engine.settle(60)
    assert engine.background_runs == runs + 1  # the background's, not a second one
    assert engine._figures[key].value is found.value
