"""What a start saves for the next one. The profile index: read back and caught up, never
of another store, and gone with an erased person. The search index: saved again only once
enough changed since its snapshot."""

from __future__ import annotations

import gc
import json
import logging
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import api.services
from api import preload
from api.cli import _prepare_to_serve
from api.services import PROFILES, VIEW, Services, open_profiles, open_store, open_view
from api.settings import Settings
from api.warmup import Warmer
from graph.analytics.shared import SharedFigures, _temporary, made_by
from graph.feed import Saved, catch_up_saved
from graph.matching.profiles import STATE_FORMAT as PROFILES_FORM
from graph.matching.profiles import Profile, ProfileIndex
from graph.model import Person
from graph.store import Store
from graph.view import STATE_FORMAT as VIEW_FORM
from graph.view import GraphView
from tests.graph.test_matching import same_profiles
from tests.graph.test_view import same_view
from tests.postgres import copy_data_dir

NEEDLE = "person:saved-profile-needle"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The networkx view, the one saved for the next start, whatever the default (the
    compact view is its own files: ``tests/graph/test_compact_view.py``)."""
    return settings.model_copy(update={"graph": "networkx"})


def holding(folder: Path, text: str) -> list[str]:
    """The files under ``folder`` holding ``text``."""
    return [
        p.name for p in sorted(folder.rglob("*")) if p.is_file() and text.encode() in p.read_bytes()
    ]


def load_reading_saved(settings: Settings, caplog: pytest.LogCaptureFixture) -> Services:
    """A start that reads the saved profile index and graph view (its log says so)."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="api.services"):
        loaded = Services.load(settings)
    if "profiles saved at change" in caplog.text and "graph-view saved at change" in caplog.text:
        return loaded
    loaded.close()
    raise AssertionError(f"a saved state was not read: {caplog.text}")


def test_a_start_reads_the_saved_profiles_and_the_changes_since(
    services: Services, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    services.store.write([Person(id=NEEDLE, name="Nee", offers=["kintsugi repair"])])
    services.catch_up()
    assert services.keep_for_next_start()
    assert not services.keep_for_next_start()  # one of this version is there already
    folder = settings.data_dir / "figures"
    assert holding(folder, NEEDLE)
    services.store.write([Person(id="person:later", name="Later", needs=["kintsugi"])])
    services.store.write([Person(id=NEEDLE, name="Nee", offers=["bookbinding"])])

    loaded = load_reading_saved(settings, caplog)
    try:
        same_profiles(loaded.profiles, ProfileIndex.from_store(services.store))
        same_view(loaded.view, GraphView.from_store(services.store))
        assert loaded.view.graph.has_node("person:later")
        assert loaded.profiles.seq == services.store.last_seq()
        needle = loaded.profiles.get(NEEDLE)
        assert needle is not None and needle.offers == ("bookbinding",)
    finally:
        loaded.close()


def test_a_saved_graph_view_of_another_store_is_not_read(
    services: Services, settings: Settings
) -> None:
    store = services.store
    seq = store.last_seq()
    figures = SharedFigures(settings.data_dir / "figures")
    planted = GraphView.from_store(store)
    planted.graph.add_node(NEEDLE, kind="person")
    assert figures.put(VIEW, seq, "upsert node person:someone-else", planted.state())
    assert NEEDLE not in open_view(settings, store, figures).graph
    # Filed under the change that made its version, the same state is read: the name of
    # that change is what told them apart.
    store.write([Person(id="person:later", name="Later")])
    planted.seq = seq = store.last_seq()
    assert figures.put(VIEW, seq, made_by(store, seq), planted.state())
    assert NEEDLE in open_view(settings, store, figures).graph


def test_saved_profiles_of_another_store_or_another_form_are_not_read(
    services: Services, settings: Settings
) -> None:
    store = services.store
    seq = store.last_seq()
    figures = SharedFigures(settings.data_dir / "figures")
    planted = ProfileIndex.from_store(store)
    planted.upsert([Profile.build(NEEDLE, "person")])
    # A folder that outlived its store: the version's number names another change.
    assert figures.put(PROFILES, seq, "upsert node person:someone-else", planted.state())
    read = open_profiles(store, figures)
    assert NEEDLE not in read
    same_profiles(read, ProfileIndex.from_store(store))
    # Of this store, but of a form this code does not read.
    store.write([Person(id="person:later", name="Later")])
    planted.seq = seq = store.last_seq()
    assert figures.put(PROFILES, seq, made_by(store, seq), (-1, *planted.state()[1:]))
    read = open_profiles(store, figures)
    assert NEEDLE not in read and "person:later" in read
    # Of the right form, but not of the version it is filed as.
    store.write([Person(id="person:later-still", name="Later still")])
    seq = store.last_seq()
    assert figures.put(PROFILES, seq, made_by(store, seq), planted.state())
    read = open_profiles(store, figures)
    assert NEEDLE not in read and "person:later-still" in read
    # And the state planted, filed as what it is, is read (the checks above are the cause).
    store.write([Person(id="person:last", name="Last")])
    planted.seq = seq = store.last_seq()
    assert figures.put(PROFILES, seq, made_by(store, seq), planted.state())
    assert NEEDLE in open_profiles(store, figures)


def test_states_saved_by_other_code_give_way_to_this_codes(
    services: Services, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """After an upgrade, with no write since, the folder holds the version's states as the
    code before saved them: this code reads none of them, and they must not stop it from
    saving its own (every start would then read the store)."""
    services.catch_up()
    seq = services.store.last_seq()
    maker = made_by(services.store, seq)
    figures = SharedFigures(settings.data_dir / "figures")
    now = time.time_ns()
    figures.discard(PROFILES, seq, written_before=now)
    figures.discard(VIEW, seq, written_before=now)
    before = "the code before"
    profiles, view = services.profiles.state(), services.view.state()
    assert figures.put(PROFILES, seq, maker, ((PROFILES_FORM, before), *profiles[1:]))
    assert figures.put(VIEW, seq, maker, ((VIEW_FORM, before), *view[1:]))
    assert not services.keep_for_next_start()  # (one of each is there)
    figures.discard(VIEW, seq, written_before=0)  # written after that time: kept
    assert not figures.writable(VIEW, seq)
    services.feed.stop()
    with caplog.at_level(logging.INFO, logger="api.services"):
        upgraded = Services.load(settings)
    try:
        assert "saved by other code" in caplog.text and "saved at change" not in caplog.text
        assert figures.writable(PROFILES, seq) and figures.writable(VIEW, seq)  # removed
        assert upgraded.keep_for_next_start()
    finally:
        upgraded.close()
    again = load_reading_saved(settings, caplog)
    try:
        same_view(again.view, GraphView.from_store(services.store))
    finally:
        again.close()


def test_an_erasure_removes_the_saved_profiles_and_none_older_is_saved_again(
    services: Services, settings: Settings
) -> None:
    services.store.write([Person(id=NEEDLE, name="Nee", offers=["kintsugi repair"])])
    services.catch_up()
    state, before = services.profiles.state(), services.profiles.seq
    assert services.keep_for_next_start()
    folder = settings.data_dir / "figures"
    assert holding(folder, NEEDLE)

    services.store.delete_node(NEEDLE)  # a person deleted is erased
    services.catch_up()  # the shared folder is a projection of the feed: it is emptied
    assert holding(folder, NEEDLE) == []
    figures = services.figures
    assert figures is not None
    # A process that took the state before the erasure cannot write it after.
    assert not figures.put(PROFILES, before, made_by(services.store, before), state)
    assert holding(folder, NEEDLE) == []
    assert not services.keep_for_next_start()  # not even of the erasure's own version
    services.store.write([Person(id="person:later", name="Later")])
    services.catch_up()
    assert services.keep_for_next_start()  # a version after the erasure, without the person
    assert holding(folder, NEEDLE) == []
    read = open_profiles(services.store, figures)
    assert NEEDLE not in read
    same_profiles(read, ProfileIndex.from_store(services.store))


def test_the_process_that_publishes_the_councils_figures_saves_the_profiles(
    services: Services,
) -> None:
    figures = services.figures
    assert figures is not None and figures.latest(PROFILES, until=10**9) is None
    warmer = Warmer(services, SimpleNamespace(), tagger=False, councils="publish")
    warmer.warm()
    assert "profiles" in warmer.warmed.seconds and not warmer.warmed.failures
    found = figures.latest(PROFILES, until=10**9)
    assert found is not None and found[0] == services.profiles.seq == services.feed.seq
    saved = ProfileIndex.from_state(found[2])
    same_profiles(saved, services.profiles)
    # Once every PROFILES_EVERY seconds: a write and a warming later, the same save.
    services.store.write([Person(id="person:later", name="Later")])
    services.catch_up()
    warmer.warm()
    assert figures.latest(PROFILES, until=10**9)[0] == found[0]  # type: ignore[index]


def test_an_erasure_no_process_applied_clears_the_folder_at_the_next_start(
    services: Services, settings: Settings
) -> None:
    services.store.write([Person(id=NEEDLE, name="Nee", offers=["kintsugi repair"])])
    services.store.write([Person(id="person:later", name="Later")])
    services.catch_up()
    assert services.keep_for_next_start()
    folder = settings.data_dir / "figures"
    services.feed.stop()  # as if stopped: nobody follows the log
    other = Store.open(settings.store_url)
    other.delete_node(NEEDLE)  # erased while the service is down
    other.close()
    assert holding(folder, NEEDLE)
    loaded = Services.load(settings)
    try:
        assert holding(folder, NEEDLE) == []
        assert NEEDLE not in loaded.profiles
    finally:
        loaded.close()


def test_an_erasure_while_a_start_reads_the_view_clears_the_folder(
    services: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Committed after the start's first look at the log and before the view it starts
    the feed at: no process will apply it to the folder, so the start clears it."""
    services.store.write([Person(id=NEEDLE, name="Nee", offers=["kintsugi repair"])])
    services.store.write([Person(id="person:later", name="Later")])
    services.catch_up()
    assert services.keep_for_next_start()
    folder = settings.data_dir / "figures"
    services.feed.stop()

    def erased_meanwhile(saved: Saved, store: Store, *, most: int) -> bool:
        if isinstance(saved, GraphView):
            other = Store.open(settings.store_url)
            other.delete_node(NEEDLE)  # (another process, or another replica)
            other.close()
        return catch_up_saved(saved, store, most=most)

    monkeypatch.setattr(api.services, "catch_up_saved", erased_meanwhile)
    assert holding(folder, NEEDLE)
    loaded = Services.load(settings)
    try:
        assert NEEDLE not in loaded.view.graph and loaded.view.seq == loaded.store.last_seq()
        assert holding(folder, NEEDLE) == []
    finally:
        loaded.close()


def test_what_a_killed_writer_left_half_written_is_removed(
    services: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = settings.data_dir / "figures"
    (folder / ".writing-abc").write_text(NEEDLE)  # a writer that named no process
    (folder / f".writing-{os.getpid()}-x").write_text(NEEDLE)  # one that still runs
    dead = _ended_pid()
    (folder / f".writing-{dead}-y").write_text(NEEDLE)
    assert SharedFigures(folder).sweep() == 0  # (opening the folder swept them already)
    assert holding(folder, NEEDLE) == [f".writing-{os.getpid()}-x"]
    (folder / f".writing-{os.getpid()}-x").unlink()

    def killed_while_writing(self: SharedFigures, *args: object) -> bool:
        handle, _ = _temporary(self.folder)
        os.write(handle, NEEDLE.encode())
        os.kill(os.getpid(), signal.SIGKILL)
        return True

    services.store.write([Person(id=NEEDLE, name="Nee")])
    services.catch_up()
    monkeypatch.setattr(SharedFigures, "put", killed_while_writing)
    assert not services.keep_for_next_start()  # the child was killed: its file removed
    assert holding(folder, NEEDLE) == []


def _ended_pid() -> int:
    """The id of a process that has ended."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


@pytest.mark.parametrize("start", ["preload", "serve"])
def test_a_start_saves_the_search_index_again_only_once_enough_changed(
    settings: Settings, start: str
) -> None:
    """``serve`` loading what its processes are forked from (``preload``), or preparing
    the folder for workers that load their own (``serve``)."""

    def started(resave_after: int) -> str:
        """The snapshot the folder holds after a start (its name changes with a save)."""
        setting = settings.model_copy(update={"index_resave_after": resave_after})
        if start == "serve":
            _prepare_to_serve(setting)
        else:
            try:
                loaded, _, _ = preload.load(setting)
                loaded.close()
            finally:
                gc.unfreeze()  # (this test process goes on collecting as before)
        return (settings.data_dir / "index" / "CURRENT").read_text(encoding="utf-8").strip()

    first = started(0)  # the reference data's snapshot, in step with the fresh store
    store = open_store(settings)
    try:
        store.write([Person(id=f"person:resave-{i}", name=f"Re {i}") for i in range(3)])
        changed = store.last_seq()
    finally:
        store.close()
    assert started(3) == first  # three changes: the next start applies them again
    saved = started(2)
    assert saved != first  # more than two: saved
    meta = json.loads((settings.data_dir / "index" / saved / "semantic.json").read_text())
    assert meta["watermark"] == changed
    assert started(0) == saved  # in step: nothing to save, however low the bound


def test_closing_waits_for_the_graph_files_being_written(
    settings: Settings, seeded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The compact view writes its files from the store in the background; closing the
    service waits for that read to end before it closes the store (on PostgreSQL a
    connection left to the collector was a failure of the suite)."""
    shutil.rmtree(settings.data_dir)
    copy_data_dir(seeded, settings.data_dir)
    compact = Services.start(settings.model_copy(update={"graph": "compact"}))
    files = compact.view.files
    assert files is not None
    ended: list[bool] = []
    refresh = type(files).refresh

    def slow(self: Any, store: Store, **kwargs: Any) -> bool:
        time.sleep(1.0)
        written = refresh(self, store, **kwargs)
        ended.append(store.engine.pool.checkedout() == 0)
        return written

    monkeypatch.setattr(type(files), "refresh", slow)
    compact.view._rewrite(compact.store.last_seq() + 1)
    compact.close()
    assert ended == [True]  # the write had ended, its connection back, when close returned
