"""The compact view over shared files: it follows the store as the networkx view does,
workers take new files as one writes them, and an erasure leaves nothing in a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from graph import view as view_module
from graph.compact import CompactGraph
from graph.compact_files import GraphFiles
from graph.edges import Edge
from graph.feed import ChangeFeed
from graph.model import Person
from graph.store import Store
from graph.view import GraphView, _load


def _reference(store: Store) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    _load(store, graph)
    return graph


def _same_as_store(view: GraphView, store: Store) -> None:
    reference = _reference(store)
    assert isinstance(view.graph, CompactGraph)
    assert dict(view.graph.nodes(data=True)) == dict(reference.nodes(data=True))
    assert set(view.graph.edges(keys=True)) == set(reference.edges(keys=True))
    assert view.graph.number_of_edges() == reference.number_of_edges()


def _files_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def _writes(store: Store, n: int) -> list[Any]:
    return [
        Person(id=f"person:new-{n}", name=f"New {n}", visibility="members"),
        Edge(kind="knows", source=f"person:new-{n}", target="person:maria"),
        Edge(kind="knows", source="person:lena", target=f"person:new-{n}"),
    ]


def test_the_compact_view_follows_the_store(network: Store, tmp_path: Path) -> None:
    view = GraphView.open_compact(network, tmp_path / "graph")
    feed = ChangeFeed(network, [view], seq=view.seq)
    _same_as_store(view, network)
    network.write(_writes(network, 1))
    network.write([Person(id="person:maria", name="Maria", visibility="private")])
    network.delete_edge("person:ahmed", "knows", "person:lena")
    network.delete_node("community:sacramento")
    feed.catch_up()
    _same_as_store(view, network)
    assert view.graph.nodes["person:maria"]["visibility"] == "private"


def test_a_view_started_from_older_files_replays_the_log(network: Store, tmp_path: Path) -> None:
    GraphView.open_compact(network, tmp_path / "graph")
    network.write(_writes(network, 2))
    network.delete_node("initiative:safe-streets")
    later = GraphView.open_compact(network, tmp_path / "graph")
    assert later.graph.arrays.seq < later.seq == network.last_seq()
    _same_as_store(later, network)


def test_an_erasure_rewrites_the_files_and_workers_move_to_them(
    network: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "graph"
    first = GraphView.open_compact(network, folder)
    second = GraphView.open_compact(network, folder)  # another worker on the same files
    feeds = [ChangeFeed(network, [v], seq=v.seq) for v in (first, second)]
    assert b"person:ahmed" in _files_bytes(folder)

    network.delete_node("person:ahmed")
    for view, feed in zip((first, second), feeds, strict=True):
        feed.catch_up()
        view.wait_for_files()
        assert "person:ahmed" not in view.graph

    assert b"person:ahmed" not in _files_bytes(folder)
    assert GraphFiles(folder).current_seq() == network.last_seq()
    network.write(_writes(network, 3))
    for view, feed in zip((first, second), feeds, strict=True):
        feed.catch_up()
        assert view.version == GraphFiles(folder).current()  # the old mapping is let go
        _same_as_store(view, network)


def test_files_older_than_an_erasure_are_not_started_from(network: Store, tmp_path: Path) -> None:
    folder = tmp_path / "graph"
    GraphView.open_compact(network, folder)
    network.delete_node("person:ahmed")  # no worker is running to rewrite the files
    assert b"person:ahmed" in _files_bytes(folder)
    view = GraphView.open_compact(network, folder)
    assert b"person:ahmed" not in _files_bytes(folder)
    _same_as_store(view, network)


def test_a_grown_delta_is_written_out_by_one_worker(
    network: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(view_module, "REWRITE_MIN", 10)
    monkeypatch.setattr(view_module, "REWRITE_SHARE", 10**9)
    folder = tmp_path / "graph"
    views = [GraphView.open_compact(network, folder) for _ in range(2)]
    feeds = [ChangeFeed(network, [v], seq=v.seq) for v in views]
    started = GraphFiles(folder).current()
    for n in range(10):
        network.write(_writes(network, 10 + n))
    for view, feed in zip(views, feeds, strict=True):
        feed.catch_up()
        view.wait_for_files()
    grown = views[0].graph.delta_size
    assert GraphFiles(folder).current() != started
    # The next batch must not start another rewrite, or the files could move on again
    # while the views are compared with them.
    monkeypatch.setattr(view_module, "REWRITE_MIN", 10**9)
    network.write(_writes(network, 99))
    for view, feed in zip(views, feeds, strict=True):
        feed.catch_up()
        assert view.version == GraphFiles(folder).current()
        assert view.graph.delta_size < grown
        _same_as_store(view, network)


def test_a_new_version_removes_older_versions_and_nothing_else(
    network: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "graph"
    other = folder / "notes"
    other.mkdir(parents=True)
    (other / "kept.txt").write_text("not the view's")
    GraphView.open_compact(network, folder)
    first = {p.name for p in folder.iterdir() if p.is_dir()} - {"notes"}
    network.delete_node("person:ahmed")  # an erasure: the next start writes a new version
    GraphView.open_compact(network, folder)
    now = {p.name for p in folder.iterdir() if p.is_dir()}
    assert len(first) == 1 and not first & now and len(now) == 2  # the new version, notes
    assert (other / "kept.txt").read_text() == "not the view's"
