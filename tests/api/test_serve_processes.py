"""The processes of ``cocreate serve`` beside its workers, and how connections reach them.

The councils' figures computed by one process for the workers (api/figures.py).

In-process: a warmer in ``publish`` mode writes every sector's proposal (and the groups
and bridges it is made of) to the shared folder, a follower engine answers them without
computing anything, answers the older ones after a quiet write, and never one that
names someone withdrawn from its audience since. On a real ``cocreate serve``: the
process runs at a lower priority, the workers answer what it wrote, and it is started
again when it dies.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from http.client import HTTPConnection
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import psutil
import pytest

from api.analytics import analytics
from api.auth import ANONYMOUS
from api.figures import NICE, PID_FILE
from api.services import Services
from api.serving import ORPHAN_SECONDS
from api.warmup import LISTING_TOTALS, Published, Warmer
from graph import listing
from graph.analytics import SectorAnalytics, load_regions
from graph.analytics.freshness import PrivacyEpochs, Staleness
from graph.analytics.shared import SUFFIX, WITHDRAWALS, SharedFigures, _name, made_by
from graph.feed import ChangeBatch
from graph.store import Change
from graph.visibility import listing_audience
from tests.api.server import (
    COCREATE,
    Server,
    cocreate,
    cocreate_env,
    create_key,
    free_port,
    serving,
)
from tests.api.test_carry_over import AUDIENCE, changed, demo, people_in, sectors, write
from tests.conftest import DATA

__all__ = ["demo"]  # the module's store (tests/api/test_carry_over.py)


def follower(
    services: Services,
    partial_texts: Callable[[], bool] | None = None,
    folder: Path | None = None,
) -> SectorAnalytics:
    """An engine as a worker's, reading what the councils process writes to the folder
    (the service's, or ``folder``)."""
    assert services.figures is not None
    engine = SectorAnalytics(
        services.store, services.view, load_regions(DATA), lock=services.feed.lock,
        epochs=services.epochs, staleness=Staleness(1000, 600.0), touches=services.touches,
        shared=SharedFigures(folder or services.figures.folder), follow=True,
        partial_texts=partial_texts,
    )  # fmt: skip
    engine.LOOK_EVERY = 0.0  # (a test looks again at once)
    return engine


def fresh(services: Services, sector: str) -> object:
    """The proposal computed from nothing at the current version."""
    return (
        SectorAnalytics(services.store, services.view, load_regions(DATA))
        .propose(AUDIENCE, services.similarity, sector)
        .value
    )


def test_workers_answer_what_the_councils_process_wrote_and_nothing_withdrawn_since(
    demo: Services,
) -> None:
    assert demo.figures is not None
    publisher = Warmer(demo, SimpleNamespace(), tagger=False, councils_every=0,
                       councils="publish")  # fmt: skip
    publisher.warm()
    seq = demo.view.seq
    assert publisher.warmed.councils_seq == seq
    assert demo.figures.published() == seq
    worker = follower(demo)
    all_sectors = sectors(demo)
    # Computed by a child process (graph.analytics.apart), which wrote them to the folder,
    # and held by the publisher as if computed there: asked again, it computes nothing.
    engine = analytics(demo)
    assert engine.apart_runs == 1
    assert demo.figures.computed == 0
    runs = engine.background_runs
    assert runs >= len(all_sectors)
    with demo.feed.lock.read():
        for sector in all_sectors:
            assert engine.propose(AUDIENCE, demo.similarity, sector).current
    assert engine.background_runs == runs and demo.figures.computed == 0
    with demo.feed.lock.read():
        for sector in all_sectors:
            found = worker.propose(AUDIENCE, demo.similarity, sector)
            assert found.current and found.seq == seq, sector
            assert found.value == fresh(demo, sector), sector
    # Read, not computed: the proposals alone (not the groups and bridges inside them).
    assert worker.followed == len(all_sectors)
    assert worker.shared is not None and worker.shared.computed == 0
    assert worker.background_runs == 0

    # A quiet write: the proposals of before are answered, marked as older, and nothing
    # is computed here; once the councils process has caught up, the new ones.
    target = all_sectors[1]
    someone = people_in(demo, target)[0]
    write(demo, changed(demo, someone, bio="Teaches bread baking to new neighbours."))
    with demo.feed.lock.read():
        for sector in all_sectors:
            found = worker.propose(AUDIENCE, demo.similarity, sector)
            assert not found.current and found.seq == seq, sector
    assert worker.shared.computed == 0 and worker.background_runs == 0
    publisher.warm()
    after = demo.view.seq
    assert demo.figures.published() == after
    assert engine.apart_runs == 2
    with demo.feed.lock.read():
        for sector in all_sectors:
            found = worker.propose(AUDIENCE, demo.similarity, sector)
            assert found.current and found.seq == after, sector
            assert found.value == fresh(demo, sector), sector
    assert worker.shared.computed == 0

    # Someone who holds a seat goes private: members may no longer see them, so the
    # proposal that seats them is never answered again, though the councils process has
    # not caught up; the worker computes the current one itself.
    with demo.feed.lock.read():
        proposal = worker.propose(AUDIENCE, demo.similarity, target).value
    seated = sorted(seat.candidate.node for seat in proposal.seats)
    assert seated, proposal
    write(demo, changed(demo, seated[0], visibility="private"))
    # A worker that reads it from the folder for the first time (started since, or never
    # asked for it before) computes the current one itself (and shares it); so does one
    # that held the older proposal (or reads the one just shared).
    newcomer = follower(demo)
    for engine in (newcomer, worker):
        with demo.feed.lock.read():
            found = engine.propose(AUDIENCE, demo.similarity, target)
            assert found.current and found.seq == demo.view.seq
            assert seated[0] not in {seat.candidate.node for seat in found.value.seats}
            assert found.value == fresh(demo, target)
    assert newcomer.shared is not None and newcomer.shared.computed > 0

    # A proposal the councils process does not compute (another size) is brought up to
    # date by the worker itself, in the background, once that process has published
    # the version without it.
    with demo.feed.lock.read():
        assert worker.propose(AUDIENCE, demo.similarity, target, size=6).current
    write(demo, changed(demo, people_in(demo, target)[1], bio="Sews costumes for the fair."))
    publisher.warm()
    with demo.feed.lock.read():
        assert not worker.propose(AUDIENCE, demo.similarity, target, size=6).current
    assert worker.settle(120)
    with demo.feed.lock.read():
        found = worker.propose(AUDIENCE, demo.similarity, target, size=6)
    assert found.current and found.seq == demo.view.seq


def test_a_version_is_marked_published_only_once_each_of_its_proposals_is_there(
    demo: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A round computes the proposals of the version it began with. A write that comes
    meanwhile makes a later version: each proposal it touched nothing of is carried
    over to it, and the version is marked as published only if none is left to compute
    (a worker that finds a version published without a figure computes it itself)."""
    assert demo.figures is not None
    publisher = Warmer(demo, SimpleNamespace(), tagger=False, councils_every=0,
                       councils="publish")  # fmt: skip
    publisher.warm()
    before = demo.view.seq
    assert demo.figures.published() == before
    all_sectors = sectors(demo)
    engine = analytics(demo)
    computing = engine.compute_apart
    first, second = people_in(demo, all_sectors[0])[0], people_in(demo, all_sectors[2])[0]

    def while_computing(due: Any, **options: Any) -> bool:
        done = computing(due, **options)
        write(demo, changed(demo, second, bio="Runs a seed library from her porch."))
        return done

    monkeypatch.setattr(engine, "compute_apart", while_computing)
    write(demo, changed(demo, first, bio="Mends nets with the harbour's old hands."))
    publisher.warm()
    assert demo.view.seq > before + 1
    assert demo.figures.published() == before  # (the latest version misses some)
    monkeypatch.undo()
    publisher.warm()
    after = demo.view.seq
    assert demo.figures.published() == after
    worker = follower(demo)
    with demo.feed.lock.read():
        for sector in all_sectors:
            found = worker.propose(AUDIENCE, demo.similarity, sector)
            assert found.current and found.seq == after, sector
    assert worker.background_runs == 0 and worker.shared is not None
    assert worker.shared.computed == 0


def test_figures_a_child_process_did_not_compute_are_computed_here(demo: Services) -> None:
    """A child process that gives no result in time is stopped, and the figures are
    computed by the engine's own background thread, as before there was a child."""
    engine = SectorAnalytics(demo.store, demo.view, load_regions(DATA), lock=demo.feed.lock,
                             epochs=demo.epochs, touches=demo.touches)  # fmt: skip
    all_sectors = sectors(demo)
    with demo.feed.lock.read():
        due = [engine.due_proposal(AUDIENCE, demo.similarity, s) for s in all_sectors]
    assert all(found is not None for found in due)
    assert not engine.compute_apart([found for found in due if found], timeout=0.0)
    assert engine.apart_runs == 0 and engine.background_runs == len(all_sectors)
    with demo.feed.lock.read():
        for sector in all_sectors:
            found = engine.propose(AUDIENCE, demo.similarity, sector)
            assert found.current and found.value == fresh(demo, sector), sector
            assert engine.due_proposal(AUDIENCE, demo.similarity, sector) is None
    assert engine.background_runs == len(all_sectors)  # (nothing computed again)


def test_a_follower_reads_every_published_proposal_before_it_is_asked(demo: Services) -> None:
    """A worker's warmer reads the proposals the councils process published into its
    cache (``read_proposal``), so that no request waits for the file; nothing is computed
    and the requests after it read nothing more."""
    assert demo.figures is not None
    Warmer(demo, SimpleNamespace(), tagger=False, councils_every=0, councils="publish").warm()
    worker = follower(demo)
    all_sectors = sectors(demo)
    with demo.feed.lock.read():
        assert all(worker.read_proposal(AUDIENCE, demo.similarity, s) for s in all_sectors)
        assert not worker.read_proposal(AUDIENCE, demo.similarity, "sdg:1")  # a goal
    assert worker.followed == len(all_sectors)
    with demo.feed.lock.read():
        for sector in all_sectors:
            found = worker.propose(AUDIENCE, demo.similarity, sector)
            assert found.current and found.value == fresh(demo, sector), sector
    assert worker.followed == len(all_sectors)  # answered from the cache
    assert worker.shared is not None and worker.shared.computed == 0
    assert worker.background_runs == 0


def test_workers_take_the_listing_counts_the_councils_process_published(demo: Services) -> None:
    """The councils process counts the sectors' and goals' listings (at its lower
    priority) and publishes the counts; a worker takes them, once per publication, as if
    it had counted them: a listing then answers its exact total without a count. Counts
    published for another store (a folder that outlived it) are not taken."""
    assert demo.figures is not None
    listing._TOTALS.pop(demo.store, None)
    publisher = Warmer(demo, SimpleNamespace(), tagger=False, councils="publish")
    publisher._listings()
    published = dict(listing._totals(demo.store).counts)
    assert len(published) > 100  # (every sector and goal, six kinds, two audiences)
    seq = demo.store.last_seq()
    assert demo.figures.newest(LISTING_TOTALS) == seq

    listing._TOTALS.pop(demo.store, None)  # a worker: a process of its own
    worker = Warmer(demo, SimpleNamespace(), tagger=False, councils="follow")
    worker._take_listings()
    taken = dict(listing._totals(demo.store).counts)

    def figures(counts: dict[Any, listing._Count]) -> dict[Any, tuple[int, int]]:
        return {key: (count.total, count.seq) for key, count in counts.items()}

    # (an earlier publication of this version may be the one in the folder: the same counts)
    assert figures(taken) == figures(published)
    flt, audience = key = next(k for k, c in published.items() if c.total > 0)
    page = listing.list_nodes(demo.store, flt, audience, limit=1)
    assert (page.total, page.total_is_estimate) == (published[key].total, False)
    assert listing._totals(demo.store).get(key) is taken[key]  # (nothing counted)

    listing._TOTALS.pop(demo.store, None)
    worker._looked_at = -float("inf")
    worker._take_listings()  # the same publication: not taken again
    assert listing._totals(demo.store).counts == {}

    bogus = seq + 1000  # a later version, made by a change this store never had
    elsewhere = Published(published, time.time(), time.monotonic())
    demo.figures.put(LISTING_TOTALS, bogus, "put node person:elsewhere", elsewhere)
    try:
        worker._looked_at = -float("inf")
        worker._take_listings()
        assert listing._totals(demo.store).counts == {}
    finally:
        (demo.figures.folder / f"{bogus}-{_name(LISTING_TOTALS)}{SUFFIX}").unlink()
        publisher._listings()  # (the publication the bogus one pruned, again)


def test_published_counts_keep_their_age_across_clocks() -> None:
    """A count's time is on the monotonic clock of the process that made it; a worker
    places it on its own by the publication's wall-clock time, so that a folder that
    outlived a reboot (a monotonic clock started again) gives no count a time to come."""
    key = (listing.NodeFilter(frozenset({"person"}), sector="sector:health"),
           listing_audience(ANONYMOUS))  # fmt: skip
    count = listing._Count(total=12, seq=7, at=5_000.0)
    # Made 10 s before its publication, published 5 s ago, on another boot's clock.
    published = Published({key: count}, time.time() - 5.0, 5_010.0)
    here = published.here()[key]
    assert (here.total, here.seq) == (12, 7)
    assert 14.0 <= time.monotonic() - here.at <= 16.0


def test_figures_computed_while_indexing_are_shared_apart_and_answered_until_complete_ones(
    demo: Services, tmp_path: Path
) -> None:
    """A store being indexed: the councils process shares the proposals it computed while
    some text vectors were missing, apart; a worker reads them (as current while it
    misses some too), and once every vector is in answers them as behind, computing
    nothing, until the complete ones are published and read."""
    folder = tmp_path / "figures"
    seq = demo.view.seq
    indexing = {"councils": True, "worker": True}
    councils = SectorAnalytics(
        demo.store, demo.view, load_regions(DATA), lock=demo.feed.lock, epochs=demo.epochs,
        staleness=Staleness(1000, 600.0), touches=demo.touches, shared=SharedFigures(folder),
        partial_texts=lambda: indexing["councils"],
    )  # fmt: skip
    asked, unasked, warmed = (follower(demo, lambda: indexing["worker"], folder) for _ in range(3))
    target = sectors(demo)[0]
    with demo.feed.lock.read():
        assert councils.propose(AUDIENCE, demo.similarity, target).current
        assert councils.publish() is None  # not every figure of the version is complete
        assert list(folder.glob("*.partial.figure"))
        assert asked.propose(AUDIENCE, demo.similarity, target).current
    assert asked.followed == 1 and asked.background_runs == 0
    assert asked.shared is not None and asked.shared.computed == 0

    # Every vector is in: the partial proposal is answered as behind, computing nothing.
    indexing.update(councils=False, worker=False)
    for engine in (councils, asked, unasked, warmed):
        engine.forget_text_figures()
    with demo.feed.lock.read():  # as a worker's warmer reads them (``read_proposal``)
        assert warmed.read_proposal(AUDIENCE, demo.similarity, target)
        assert not warmed.propose(AUDIENCE, demo.similarity, target).current
    assert warmed.followed == 1 and warmed.shared is not None and warmed.shared.computed == 0
    for worker in (asked, unasked):
        with demo.feed.lock.read():
            found = worker.propose(AUDIENCE, demo.similarity, target)
        assert not found.current and found.seq == seq
        assert worker.background_runs == 0 and worker.shared is not None
        assert worker.shared.computed == 0
    assert unasked.followed == 1

    # The councils process computes the complete one and publishes it: read, current.
    with demo.feed.lock.read():
        councils.warm_proposal(AUDIENCE, demo.similarity, target)
    assert councils.settle(120)
    with demo.feed.lock.read():
        assert councils.publish() is not None  # (computed into the folder already)
    assert councils.shared is not None and councils.shared.computed > 0
    councils.shared.mark_published(seq)
    assert not list(folder.glob("*.partial.figure"))  # each complete one removed its own
    for worker in (asked, unasked):
        with demo.feed.lock.read():
            found = worker.propose(AUDIENCE, demo.similarity, target)
        assert found.current and found.seq == seq and found.value == fresh(demo, target)
        assert worker.background_runs == 0 and worker.shared is not None
        assert worker.shared.computed == 0


def test_what_a_process_cannot_tell_was_withdrawn_is_unknown(demo: Services) -> None:
    """A process knows the withdrawals after the first version it applied changes to;
    a figure of a version before that (computed before it started) is never answered."""
    epochs = PrivacyEpochs(demo.view)
    seq = demo.view.seq
    assert epochs.withdrawn_between(AUDIENCE, seq, seq) is False
    assert epochs.withdrawn_between(AUDIENCE, seq - 1, seq) is None  # nothing applied yet
    quiet = ChangeBatch((Change(seq + 1, "upsert", "node", "person:x"),), {})
    epochs.apply(quiet, set())
    withdrawing = ChangeBatch((Change(seq + 2, "upsert", "node", "person:y"),), {})
    epochs.apply(withdrawing, {"members"})
    assert epochs.withdrawn_between(AUDIENCE, seq - 1, seq + 2) is None  # before the first
    assert epochs.withdrawn_between(AUDIENCE, seq, seq + 1) is False
    assert epochs.withdrawn_between(AUDIENCE, seq, seq + 2) is True
    assert epochs.withdrawn_between("public", seq, seq + 2) is False
    assert epochs.withdrawn_between(AUDIENCE, seq + 2, seq + 2) is False


def test_a_new_start_takes_the_withdrawals_an_earlier_one_recorded(demo: Services) -> None:
    """The record a process keeps of what it judged withdrawn (``PrivacyEpochs.record``,
    kept as JSON in the shared folder) lets a process of a later start tell whether a
    figure of a version before its load may be answered; the entries after the record,
    which nobody judged, count as withdrawals whenever they could be one."""
    seq = demo.view.seq
    before = PrivacyEpochs(demo.view)
    before.apply(ChangeBatch((Change(seq + 1, "upsert", "node", "person:x"),), {}), set())
    before.apply(ChangeBatch((Change(seq + 2, "upsert", "node", "person:y"),), {}), {"members"})
    knows = Change(seq + 3, "upsert", "edge", "person:x|knows|person:y")
    before.apply(ChangeBatch((knows,), {}), set())
    record = json.loads(json.dumps(before.record(seq + 3)))

    later = PrivacyEpochs(SimpleNamespace(seq=seq + 3))  # loaded at seq + 3
    assert later.withdrawn_between(AUDIENCE, seq, seq + 3) is None  # cannot tell
    assert later.behind_since(seq) is None
    assert later.seed(record, seq + 3)
    assert later.withdrawn_between(AUDIENCE, seq, seq + 1) is False
    assert later.withdrawn_between(AUDIENCE, seq + 1, seq + 3) is True
    assert later.withdrawn_between("public", seq, seq + 3) is False
    assert later.withdrawn_between(AUDIENCE, seq + 2, seq + 3) is False
    assert later.behind_since(seq) is not None  # (counted as applied at the start)
    assert not later.seed(record, seq + 3)  # once, at the start only

    for entry, withdraws in [
        (Change(seq + 4, "upsert", "edge", "person:x|knows|person:z"), False),
        (Change(seq + 4, "upsert", "node", "initiative:bakery"), False),
        (Change(seq + 4, "upsert", "node", "person:z"), True),  # its visibility, perhaps
        (Change(seq + 4, "delete", "node", "person:z"), True),
        (Change(seq + 4, "delete", "edge", "person:z|located_in|community:c"), True),
        (Change(seq + 4, "erase", "node", "erased"), True),
    ]:
        after = PrivacyEpochs(SimpleNamespace(seq=seq + 4))
        assert after.seed(record, seq + 4, [entry]), entry
        assert after.withdrawn_between("public", seq, seq + 4) is withdraws, entry
    missing = PrivacyEpochs(SimpleNamespace(seq=seq + 5))  # seq + 5 not among the entries
    assert not missing.seed(record, seq + 5, [Change(seq + 4, "upsert", "node", "sdg:1")])
    assert missing.withdrawn_between("public", seq, seq + 5) is None


def test_after_a_restart_the_figures_of_before_are_answered_unless_withdrawn(
    demo: Services,
) -> None:
    """``serve`` started again on a store written since the councils process last
    published: a worker answers the proposals of before at once (marked as older) while
    they are computed again, because the record the councils process kept says nothing
    was withdrawn since; once someone seated went private, it computes the current one."""
    assert demo.figures is not None and demo.epochs is not None
    with demo.feed.lock.read():
        seq = demo.view.seq
        demo.figures.keep_withdrawals(demo.epochs, seq, made_by(demo.store, seq))
    Warmer(demo, SimpleNamespace(), tagger=False, councils_every=0, councils="publish").warm()
    published_at = demo.figures.published()
    all_sectors = sectors(demo)
    target = all_sectors[2]
    write(demo, changed(demo, people_in(demo, target)[0], bio="Mends nets at the harbour."))
    assert (demo.figures.folder / WITHDRAWALS).exists()

    restarted = Services.load(demo.settings)  # as serve loads, before it forks
    try:
        assert restarted.view.seq > published_at
        worker = follower(restarted)
        with restarted.feed.lock.read():
            for sector in all_sectors:
                found = worker.propose(AUDIENCE, restarted.similarity, sector)
                assert not found.current and found.seq == published_at, sector
            seated = sorted(s.candidate.node for s in worker.propose(
                AUDIENCE, restarted.similarity, target).value.seats)  # fmt: skip
        assert worker.shared is not None and worker.shared.computed == 0
    finally:
        restarted.close()

    # A record this code did not write, or of another store, is not taken: the start
    # goes on, and the figures of before are not answered.
    kept = (demo.figures.folder / WITHDRAWALS).read_text()
    malformed = json.dumps({**json.loads(kept), "withdrawals": 5})
    other_store = kept.replace('"made_by": "', '"made_by": "x')
    for unusable in ('{"through": "x"}', "[1, 2", malformed, other_store):
        (demo.figures.folder / WITHDRAWALS).write_text(unusable)
        assert demo.figures.withdrawals(demo.store) is None
        restarted = Services.load(demo.settings)
        try:
            with restarted.feed.lock.read():
                found = follower(restarted).propose(AUDIENCE, restarted.similarity, target)
            assert found.current and found.seq == restarted.view.seq
        finally:
            restarted.close()
    (demo.figures.folder / WITHDRAWALS).write_text(kept)

    assert seated
    write(demo, changed(demo, seated[0], visibility="private"))
    restarted = Services.load(demo.settings)
    try:
        worker = follower(restarted)
        with restarted.feed.lock.read():
            found = worker.propose(AUDIENCE, restarted.similarity, target)
        assert found.current and found.seq == restarted.view.seq
        assert seated[0] not in {s.candidate.node for s in found.value.seats}
    finally:
        restarted.close()


# -- a real server --------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path, str]]:
    root = tmp_path_factory.mktemp("councils")
    env = cocreate_env(root / "var", rate_limit_per_minute="100000", rate_limit_burst="10000",
                       analytics_refresh_seconds="0")  # fmt: skip
    cocreate(env, "demo", "--people", "120")
    member = create_key(env, "member")
    admin = create_key(env, "admin")
    with serving(env, root / "logs", workers=2) as server:
        yield server, root / "var", json.dumps({"member": member, "admin": admin})


def councils_pid(data_dir: Path, other_than: int | None = None, timeout: float = 120.0) -> int:
    """The councils process's id, once it has written it (one other than ``other_than``)."""
    deadline = time.monotonic() + timeout
    path = data_dir / "figures" / PID_FILE
    while time.monotonic() < deadline:
        text = path.read_text().strip() if path.exists() else ""
        if text and int(text) != other_than:
            return int(text)
        time.sleep(0.2)
    raise AssertionError("no (new) councils process wrote its id")


def published(data_dir: Path) -> int:
    return SharedFigures(data_dir / "figures").published()


def test_serve_runs_the_councils_process_and_starts_it_again(
    served: tuple[Server, Path, str],
) -> None:
    server, data_dir, keys = served
    member = {"Authorization": f"Bearer {json.loads(keys)['member']}"}
    admin = {"Authorization": f"Bearer {json.loads(keys)['admin']}"}
    pid = councils_pid(data_dir)
    with httpx.Client(base_url=server.url, timeout=60) as client:
        state = client.get("/v1/admin/state", headers=admin).json()
        # At a lower priority than the workers (/v1/admin/state names the one answering).
        nice = os.getpriority(os.PRIO_PROCESS, pid)
        assert nice == os.getpriority(os.PRIO_PROCESS, state["pid"]) + NICE
        listed = client.get("/v1/nodes", params={"kind": "sector", "limit": 1}).json()
        sector = listed["items"][0]["id"]

        def proposal_at(seq: int) -> None:
            """Wait until the proposal a member is answered is current at ``seq`` or later."""
            deadline = time.monotonic() + 120
            while True:
                found = client.post("/v1/councils/propose", json={"sector": sector},
                                    headers=member)  # fmt: skip
                assert found.status_code == 200, found.text
                as_of = found.json()["as_of"]
                if as_of["current"] and as_of["seq"] >= seq:
                    return
                assert time.monotonic() < deadline, as_of
                time.sleep(0.5)

        proposal_at(state["seq"])
        # (At nice 10 beside two busy test runs, the councils process may take minutes.)
        deadline = time.monotonic() + 300
        while published(data_dir) < state["seq"]:
            assert time.monotonic() < deadline, "the councils process published nothing"
            time.sleep(0.5)

        os.kill(pid, signal.SIGKILL)
        again = councils_pid(data_dir, other_than=pid)
        assert os.getpriority(os.PRIO_PROCESS, again) == nice
        # A write: the new process computes and publishes the figures of its version.
        person = client.get("/v1/nodes", params={"kind": "person", "limit": 1}).json()
        bio = {"bio": "Mends bicycles on Saturdays."}
        written = client.patch(f"/v1/nodes/{person['items'][0]['id']}", json=bio, headers=admin)
        assert written.status_code == 200, written.text
        seq = int(written.headers["X-Cocreate-Seq"])
        deadline = time.monotonic() + 120
        while published(data_dir) < seq:
            assert time.monotonic() < deadline, "the restarted process published nothing"
            time.sleep(0.5)
        proposal_at(seq)


def test_connections_opened_at_once_are_spread_between_the_workers(
    served: tuple[Server, Path, str],
) -> None:
    """Sixteen connections opened together (as a benchmark or a proxy's pool opens them)
    are answered by both workers, not all by the first to accept (each worker listens on
    a socket of its own: api/serving.py)."""
    server, _, keys = served
    admin = {"Authorization": f"Bearer {json.loads(keys)['admin']}"}
    address = urlsplit(server.url)
    connections = [HTTPConnection(address.hostname or "", address.port, timeout=60)
                   for _ in range(16)]  # fmt: skip
    for connection in connections:
        connection.connect()
    answered_by = set()
    for connection in connections:
        connection.request("GET", "/v1/admin/state", headers=admin)
        answer = connection.getresponse()
        assert answer.status == 200
        answered_by.add(json.loads(answer.read())["pid"])
        connection.close()
    assert len(answered_by) == 2


def test_a_listing_page_every_worker_holds_follows_a_write_at_once(
    served: tuple[Server, Path, str],
) -> None:
    """Both workers hold the first page of a sector's people (graph/listing.py keeps a page
    while no change can alter it). A person on it made private through one worker is gone
    from it in every answer after the write, whichever worker answers."""
    server, _, keys = served
    admin = {"Authorization": f"Bearer {json.loads(keys)['admin']}"}
    address = urlsplit(server.url)

    def pages(path: str) -> list[dict[str, Any]]:
        """The page asked for on sixteen connections opened at once, after asking on each
        which worker answers it: both answer."""
        connections = [HTTPConnection(address.hostname or "", address.port, timeout=60)
                       for _ in range(16)]  # fmt: skip
        for connection in connections:
            connection.connect()
        answered_by, answers = set(), []
        for connection in connections:
            connection.request("GET", "/v1/admin/state", headers=admin)
            state = connection.getresponse()
            assert state.status == 200
            answered_by.add(json.loads(state.read())["pid"])
            connection.request("GET", path)  # the same connection: the same worker
            answer = connection.getresponse()
            assert answer.status == 200
            answers.append(json.loads(answer.read()))
            connection.close()
        assert len(answered_by) == 2
        return answers

    with httpx.Client(base_url=server.url, timeout=60) as client:
        sectors = client.get("/v1/nodes", params={"kind": "sector", "limit": 12}).json()
        for sector in (item["id"] for item in sectors["items"]):
            path = f"/v1/nodes?kind=person&sector={sector}&limit=5"
            if client.get(path).json()["total"] >= 2:
                break
        before = pages(path)
        assert all(answer == before[0] for answer in before)
        person = before[0]["items"][0]["id"]
        private = client.patch(f"/v1/nodes/{person}", json={"visibility": "private"},
                               headers=admin)  # fmt: skip
        assert private.status_code == 200, private.text
        try:
            after = pages(path)
            for answer in after:
                assert person not in [item["id"] for item in answer["items"]]
                assert answer["total"] == before[0]["total"] - 1
        finally:
            public = client.patch(f"/v1/nodes/{person}", json={"visibility": "public"},
                                  headers=admin)  # fmt: skip
            assert public.status_code == 200, public.text


def test_workers_keep_what_they_loaded_out_of_full_collections(
    served: tuple[Server, Path, str],
) -> None:
    """Each worker freezes what it loaded at start (api/app.py): the garbage collector's
    full collections, which walked the whole graph with the interpreter lock held, leave
    it out. Each graph node and edge is at least one object of its own (its attributes)."""
    for state in _workers_states(served):
        loaded = state["graph"]["nodes"] + state["graph"]["edges"]
        assert state["frozen_objects"] > loaded > 0, state


def test_workers_run_their_products_on_one_thread(served: tuple[Server, Path, str]) -> None:
    """Each worker's BLAS (numpy's products) is limited to one thread: with one per core,
    its idle threads spun beside every request (a recommendation took two cores' time)."""
    for state in _workers_states(served):
        assert state["threads"]["blas"] == 1, state


def test_workers_keep_to_two_malloc_arenas(served: tuple[Server, Path, str]) -> None:
    """``serve`` bounds glibc's malloc arenas before it loads anything (api/serving.py): a
    worker's request threads, warmer and encoder share two heaps instead of each growing
    one of its own (up to eight per core)."""
    for state in _workers_states(served):
        assert state["malloc_arenas"] is not None and 1 <= state["malloc_arenas"] <= 2, state


HEAVY = ("numpy", "faiss", "onnxruntime", "torch", "sqlalchemy", "pydantic_core", "tokenizers")
"""Libraries a worker maps and ``serve`` itself need not (a part of each one's path)."""


def test_serve_itself_imports_only_what_supervising_needs(
    served: tuple[Server, Path, str],
) -> None:
    """``serve`` lasts as long as the service: once it has checked its address it becomes
    a new interpreter (api/supervise.py, the same process id) that maps none of the
    libraries the workers load, which the loader imports after it is forked. Its command
    line still names it (``scripts/cluster`` looks for "cocreate" there)."""
    server, _, _ = served
    serve = psutil.Process(server.process.pid)

    def heavy(process: psutil.Process) -> set[str]:
        paths = {m.path for m in process.memory_maps()}
        return {name for name in HEAVY if any(f"/{name}" in path for path in paths)}

    assert heavy(serve) == set()
    for state in _workers_states(served):
        assert heavy(psutil.Process(state["pid"])) >= {"numpy", "faiss", "sqlalchemy"}
    shown = " ".join(serve.cmdline())
    assert "cocreate serve --host" in shown and "--workers 2" in shown, shown


def _workers_states(served: tuple[Server, Path, str]) -> list[dict[str, Any]]:
    """``/v1/admin/state`` from each of the two workers."""
    server, _, keys = served
    admin = {"Authorization": f"Bearer {json.loads(keys)['admin']}"}
    seen: dict[int, dict[str, Any]] = {}
    for _ in range(60):  # a connection of its own each time: either worker may answer
        state = httpx.get(f"{server.url}/v1/admin/state", headers=admin, timeout=60).json()
        seen[state["pid"]] = state
        if len(seen) == 2:
            break
    assert len(seen) == 2, "both workers answer"
    return list(seen.values())


def test_a_worker_started_again_loads_its_own_and_catches_up(
    served: tuple[Server, Path, str],
) -> None:
    """The first workers are forked from one load (api/preload.py: they keep ``serve``'s
    command line, where a spawned process has its own), made by the loader, which has
    ended: ``serve`` adopted them. A worker started again after a crash loads its own, in
    a new interpreter, and answers the writes made since (a bio changed, a person
    erased)."""
    server, data_dir, keys = served
    admin = {"Authorization": f"Bearer {json.loads(keys)['admin']}"}
    serve = psutil.Process(server.process.pid)
    forked = {p.pid for p in forked_from(serve)}
    councils = councils_pid(data_dir)  # (started again by an earlier test: spawned)
    workers = forked - {councils}
    assert len(workers) == 2, (forked, councils)
    bio = "Restores old clocks for the town library."
    with httpx.Client(base_url=server.url, timeout=60) as client:
        people = client.get("/v1/nodes", params={"kind": "person", "limit": 2}).json()["items"]
        kept, erased = people[0]["id"], people[1]
        written = client.patch(f"/v1/nodes/{kept}", json={"bio": bio}, headers=admin)
        assert written.status_code == 200, written.text
        assert client.delete(f"/v1/nodes/{erased['id']}", headers=admin).status_code == 204
    crashed = workers.pop()
    os.kill(crashed, signal.SIGKILL)
    address = urlsplit(server.url)
    deadline = time.monotonic() + 120
    while True:  # a connection of its own each time, until the new worker answers one
        assert time.monotonic() < deadline, "no worker answered in place of the one killed"
        connection = HTTPConnection(address.hostname or "", address.port, timeout=60)
        try:
            try:
                connection.request("GET", "/v1/admin/state", headers=admin)
                state = json.loads(connection.getresponse().read())
            except ConnectionError:  # queued for the killed worker's socket
                time.sleep(0.2)
                continue
            if state["pid"] in (crashed, *workers):
                time.sleep(0.2)
                continue
            assert spawned(psutil.Process(state["pid"]))
            # the same connection: the same, new, worker
            connection.request("GET", f"/v1/nodes/{kept}")
            assert json.loads(connection.getresponse().read())["bio"] == bio
            connection.request("GET", f"/v1/nodes/{erased['id']}")
            read = connection.getresponse()
            read.read()
            assert read.status == 404
            query = urlencode({"q": erased["name"], "kind": "person"})
            connection.request("GET", f"/v1/nodes?{query}")
            found = json.loads(connection.getresponse().read())
            assert erased["id"] not in {item["id"] for item in found["items"]}
            connection.request("GET", f"/v1/search?{urlencode({'q': erased['name']})}")
            assert erased["id"] not in connection.getresponse().read().decode()
            break
        finally:
            connection.close()
    # The save after the erasure removed every older snapshot of the index: no process
    # of serve keeps one on disk by keeping its files mapped (serve itself maps none).
    assert index_files_mapped(serve.pid, data_dir) == set()
    deadline = time.monotonic() + 60
    while deleted := {p.pid: gone for p in serve.children()
                      if (gone := index_files_mapped(p.pid, data_dir, deleted=True))}:  # fmt: skip
        assert time.monotonic() < deadline, deleted
        time.sleep(0.5)


def forked_from(serve: psutil.Process) -> list[psutil.Process]:
    """The running processes of ``serve`` forked from the loader's load (they keep the
    command line ``serve`` had before it became api/supervise.py; a process spawned has
    multiprocessing's)."""
    found = []
    for process in serve.children():
        with contextlib.suppress(psutil.ZombieProcess, psutil.NoSuchProcess):  # (ended)
            if not spawned(process) and process.cmdline() != serve.cmdline():
                found.append(process)
    return found


def spawned(process: psutil.Process) -> bool:
    """Whether ``process`` was started as a new interpreter by multiprocessing (a
    process started again, or its resource tracker)."""
    return "multiprocessing" in " ".join(process.cmdline())


def index_files_mapped(pid: int, data_dir: Path, *, deleted: bool = False) -> set[str]:
    """The files of the search index folder the process maps (only those removed since,
    with ``deleted``)."""
    folder = str((data_dir / "index").resolve())
    found = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        path = line.split(maxsplit=5)[5] if len(line.split(maxsplit=5)) == 6 else ""
        if path.startswith(folder) and (not deleted or path.endswith(" (deleted)")):
            found.add(path)
    return found


def test_a_second_serve_on_the_same_address_is_refused(
    served: tuple[Server, Path, str], tmp_path: Path
) -> None:
    """The workers' sockets share their address with each other only: another ``serve``
    on it fails at once, saying so, instead of taking a share of the connections."""
    server, _, _ = served
    port = str(urlsplit(server.url).port)
    env = cocreate_env(tmp_path / "var")
    done = subprocess.run(
        [str(COCREATE), "serve", "--port", port, "--workers", "2"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr, done.stderr


@pytest.mark.parametrize("preload", ["1", "0"])
def test_the_processes_of_serve_end_with_it(tmp_path: Path, preload: str) -> None:
    """``serve`` killed outright (``kill -9``): its workers and its councils process end
    within seconds rather than serve on alone, whether they were forked from what it
    loaded or each loaded its own (``COCREATE_PRELOAD=0``)."""
    env = cocreate_env(tmp_path / "var", preload=preload)
    with serving(env, tmp_path / "logs", workers=2) as server:
        serve = psutil.Process(server.process.pid)
        children = serve.children()
        forked = forked_from(serve)
        assert len(forked) == (3 if preload == "1" else 0)
        assert len(children) >= 3  # two workers and the councils process
        server.process.kill()
        server.process.wait()
        _, alive = psutil.wait_procs(children, timeout=30)
        assert not alive, [p.cmdline() for p in alive]


def test_a_worker_whose_serve_is_gone_before_it_starts_ends(tmp_path: Path) -> None:
    """``serve`` killed while a worker of its still loads: the worker watches the process
    ``serve`` was (not whoever adopted it since) and ends rather than serve on alone."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a serve that has already ended
    port = free_port()
    worker = subprocess.Popen(
        [sys.executable, "-c",
         "from api.serving import worker\n"
         f"worker('127.0.0.1', {port}, {{}}, parent={gone.pid})\n"],
        env=cocreate_env(tmp_path / "var"), cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        worker.wait(timeout=ORPHAN_SECONDS + 20)
    finally:
        worker.kill()
        worker.wait()
    with pytest.raises(ConnectionRefusedError):  # and it does not listen
        HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/ready")


STUCK = """
import os, signal, time
from api.serving import end_with
signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a shutdown that never finishes
end_with(os.getppid(), then=lambda: os.kill(os.getpid(), signal.SIGTERM))
print("watching", flush=True)
time.sleep(600)
"""


def test_a_process_of_serve_stuck_in_its_shutdown_still_ends_without_serve() -> None:
    """``serve`` gone, a process of its whose shutdown hangs (a warmer in the middle of
    its work) ends anyway, ``ORPHAN_SECONDS`` later, instead of running on alone."""
    middle = subprocess.Popen(
        [sys.executable, "-c",
         "import subprocess, sys, time\n"
         f"child = subprocess.Popen([sys.executable, '-c', {STUCK!r}], stdout=subprocess.PIPE)\n"
         "child.stdout.readline()\n"
         "print(child.pid, flush=True)\n"
         "time.sleep(600)\n"],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    try:
        stuck = psutil.Process(int(middle.stdout.readline()))  # once it watches
        assert stuck.is_running()
        middle.kill()
        middle.wait()
        started = time.monotonic()
        stuck.wait(timeout=ORPHAN_SECONDS + 20)
        assert time.monotonic() - started >= ORPHAN_SECONDS - 1.5  # it waited on its shutdown
    finally:
        middle.kill()
        middle.wait()
        middle.stdout.close()
        for process in psutil.Process().children(recursive=True):
            process.kill()


def test_serve_without_a_councils_process_forks_its_workers_alone(tmp_path: Path) -> None:
    """``COCREATE_COUNCILS_PROCESS=false``: the loader forks the workers only, and both
    answer."""
    env = cocreate_env(tmp_path / "var", councils_process="false")
    cocreate(env, "demo", "--people", "40")
    admin = {"Authorization": f"Bearer {create_key(env, 'admin')}"}
    with serving(env, tmp_path / "logs", workers=2) as server:
        serve = psutil.Process(server.process.pid)
        forked = {p.pid for p in forked_from(serve)}
        answered = set()
        for _ in range(60):  # a connection of its own each time: either worker may answer
            state = httpx.get(f"{server.url}/v1/admin/state", headers=admin, timeout=60)
            answered.add(state.json()["pid"])
            if len(answered) == 2:
                break
        assert answered == forked
        assert not (tmp_path / "var" / "figures" / PID_FILE).exists()


def test_ctrl_c_while_the_network_loads_stops_everything_quietly(tmp_path: Path) -> None:
    """Ctrl-C reaches every process of the terminal's group. While the loader loads,
    ``serve`` (already the supervisor) stops it and every process it forked, says so in
    one line and ends with 130, the code of an interrupted program: no traceback."""
    env = cocreate_env(tmp_path / "var")
    cocreate(env, "demo", "--people", "30")
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    with out.open("wb") as output, err.open("wb") as errors:
        process = subprocess.Popen(
            [str(COCREATE), "serve", "--host", "127.0.0.1", "--port", str(free_port())],
            env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=errors,
            start_new_session=True,
        )  # fmt: skip
    try:
        serve = psutil.Process(process.pid)
        deadline = time.monotonic() + 60
        # (Ctrl-C is ignored while the supervisor's interpreter starts)
        while "api.supervise" not in " ".join(serve.cmdline()) or not _catches_sigint(serve):
            assert time.monotonic() < deadline, "serve never became the supervisor"
            time.sleep(0.01)
        inside = {p.pid for p in serve.children(recursive=True)}
        assert inside, "the loader is running"
        os.killpg(process.pid, signal.SIGINT)
        code = process.wait(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)
    if "Cocreate:" in out.read_text():
        pytest.skip("the network was loaded before Ctrl-C came (a machine faster than this)")
    written = err.read_text()
    assert code == 130, written
    assert "Traceback" not in written and written.strip().endswith("Aborted."), written
    for pid in inside:  # the loader and what it forked: gone
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie", pid


def _catches_sigint(process: psutil.Process) -> bool:
    """Whether the process has a handler for SIGINT (Linux: /proc/PID/status)."""
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))
    return False
