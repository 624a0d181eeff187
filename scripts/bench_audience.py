#!/usr/bin/env python
"""Benchmark: the per-search cost of the audience check, with mixed callers, by network size.

Anonymous, member, editor and admin callers alternate at random (fixed seed), as they do
on a live service. For each size the script measures, one search at a time:

- the check alone: ``SearchService._candidates`` (which asks ``hidden_from``), with no
  filter and with a typical filter (people in one sector);
- what the indexes do with the exclusion: the vector index (random unit vectors, one per
  node: no model is loaded) and the BM25 index (the real node texts) searched with
  ``exclude=`` the caller's hidden set;
- an audience change: one person's visibility written to the store and applied by the
  change feed, then the first searches that meet the new hidden sets.

Each is measured twice: with the audience index (``graph.visibility.AudienceIndex``), and
with the approach it replaced, re-implemented below as ``ScanOnSwitch`` (BASELINE): one
hidden set cached for one audience and graph version, rebuilt by a scan of every node
whenever the audience changes.

The network is made by ``cocreate generate`` and ``cocreate import`` into
``var/bench/audience-<people>-seed<seed>/``; the store and the random-vector index are
kept there, so a second run only loads them. Figures go to ``var/bench/audience.json``.

    .venv/bin/python scripts/bench_audience.py --sizes 10000,100000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from api.auth import Caller, Role
from api.search import SearchService
from api.services import open_store
from api.settings import Settings
from embeddings.encoder import HashingEncoder
from embeddings.ranking import normalise_rows
from embeddings.search import Encoded, SemanticIndex, text_sha1
from embeddings.threads import single_threaded_blas
from graph.feed import ChangeBatch, ChangeFeed, Projection
from graph.filters import SearchFilter, matching_ids
from graph.model import Person, Visibility
from graph.store import Store
from graph.texts import node_text
from graph.view import GraphView
from graph.visibility import AudienceIndex, edge_filter

DIMENSION = 384  # the service's model (all-MiniLM-L6-v2)
KINDS = ("anonymous", "member", "editor", "admin")
NO_FILTER = SearchFilter()


# -- the network -----------------------------------------------------------------------


def cocreate(data_dir: Path, *args: str) -> str:
    """Run one ``cocreate`` command on ``data_dir``; its last output line."""
    env = {**os.environ, "COCREATE_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "api", *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"cocreate {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[-1] if lines else ""


def ensure_store(folder: Path, people: int, seed: int) -> dict[str, Any]:
    """Generate and import the network into ``folder`` unless a finished import is there."""
    marker = folder / "built.json"
    if marker.is_file():
        built: dict[str, Any] = json.loads(marker.read_text())
        return built
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("cocreate.db*"):  # an import that did not finish
        stale.unlink()
    data = folder / "people.jsonl"
    started = time.perf_counter()
    cocreate(folder, "generate", "--people", str(people), "--seed", str(seed), str(data))
    generated = time.perf_counter()
    output = cocreate(folder, "import", str(data))
    built = {
        "people": people,
        "seed": seed,
        "generate_s": round(generated - started, 1),
        "import_s": round(time.perf_counter() - generated, 1),
        "import": output,
    }
    data.unlink()
    marker.write_text(json.dumps(built, indent=2) + "\n")
    return built


def open_index(folder: Path, store: Store, seed: int) -> SemanticIndex:
    """The node texts in BM25 and one random unit vector per node; saved for the next run."""
    index = SemanticIndex.open(HashingEncoder(DIMENSION), folder / "random-index")
    if len(index):
        return index
    nodes = list(store.iter_nodes())
    ids = tuple(node.id for node in nodes)
    texts = tuple(node_text(node) for node in nodes)
    rng = np.random.default_rng(seed)
    vectors = normalise_rows(rng.standard_normal((len(ids), DIMENSION), dtype=np.float32))
    index.apply(Encoded(ids, texts, tuple(map(text_sha1, texts)), vectors))
    index.save(watermark=store.last_seq())
    return index


# -- BASELINE: the approach before the audience index ------------------------------------


class ScanOnSwitch(SearchService):
    """BASELINE (``api/search.py`` before the change feed, commit e2f9357^): one hidden set,
    cached for one audience and graph version, rebuilt by a scan of the whole graph when
    the caller's audience differs from the last one."""

    _last: dict[tuple[str, int], frozenset[str]]

    def hidden_from(self, caller: Caller) -> frozenset[str]:
        if caller.role is Role.admin:
            return frozenset()
        audience = "members" if caller.at_least(Role.member) else "public"
        key = (audience, self.view.seq)
        last = getattr(self, "_last", {})
        hidden = last.get(key)
        if hidden is None:
            shown = {"public"} if audience == "public" else {"public", "members"}
            hidden = frozenset(
                node
                for node, attrs in self.view.graph.nodes(data=True)
                if attrs["kind"] == "person"
                and (attrs["visibility"] not in shown or not attrs["discoverable"])
            )
            self._last = {key: hidden}
        if caller.person_id is not None and caller.person_id in hidden:
            return hidden - {caller.person_id}
        return hidden


# -- the workload ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Search:
    kind: str
    caller: Caller
    flt: SearchFilter
    text: str
    vector: np.ndarray


@dataclass
class Network:
    people: int
    store: Store
    view: GraphView
    audiences: AudienceIndex
    index: SemanticIndex
    service: SearchService
    baseline: ScanOnSwitch
    setup: dict[str, float]


def open_network(folder: Path, people: int, seed: int) -> Network:
    setup: dict[str, float] = {}
    with timed_into(setup, "open_store_s"):
        store = open_store(Settings(data_dir=folder))
    with timed_into(setup, "graph_view_s"):
        view = GraphView.from_store(store)
    with timed_into(setup, "audience_index_from_graph_s"):
        audiences = AudienceIndex.from_graph(view.graph)
    with timed_into(setup, "random_index_s"):
        index = open_index(folder, store, seed)
    service = SearchService(store, view, index, audiences)
    baseline = ScanOnSwitch(store, view, index, audiences)
    return Network(people, store, view, audiences, index, service, baseline, setup)


def workload(network: Network, count: int, seed: int) -> list[Search]:
    """``count`` searches by callers of the four kinds in random order, each with a
    query text (some person's interests), a query vector and a sector to filter on."""
    rng = random.Random(seed)
    graph = network.view.graph
    people = sorted(n for n, a in graph.nodes(data=True) if a["kind"] == "person")
    sectors = sorted(n for n, a in graph.nodes(data=True) if a["kind"] == "sector")
    hidden = network.audiences.hidden("members")
    listed = [p for p in people if p not in hidden]
    unlisted = sorted(hidden)
    # A member whose own profile members may list; an editor whose own profile they may
    # not (private, or not discoverable): the case where "hidden minus oneself" is needed.
    callers = {
        "anonymous": Caller(),
        "member": Caller(role=Role.member, person_id=rng.choice(listed), key_id="bench-member"),
        "editor": Caller(
            role=Role.editor, person_id=rng.choice(unlisted or listed), key_id="bench-editor"
        ),
        "admin": Caller(role=Role.admin, key_id="bench-admin"),
    }
    askers = network.store.get_nodes(rng.sample(people, min(300, len(people))))
    texts = [", ".join(p.interests) for p in askers.values() if isinstance(p, Person)]
    texts = [t for t in texts if t] or ["education"]
    vectors = normalise_rows(np.random.default_rng(seed).standard_normal((count, DIMENSION)))
    searches = []
    for i in range(count):
        kind = rng.choice(KINDS)
        flt = SearchFilter(kinds=frozenset({"person"}), sector=rng.choice(sectors))
        searches.append(Search(kind, callers[kind], flt, rng.choice(texts), vectors[i]))
    return searches


# -- measuring ---------------------------------------------------------------------------


Samples = dict[str, dict[str, list[float]]]
"""Milliseconds by measure, then by caller kind (or by step)."""
CLOCK = time.perf_counter_ns


def since(started: int) -> float:
    """Milliseconds since a ``CLOCK`` reading."""
    return (CLOCK() - started) / 1e6


def samples() -> Samples:
    return defaultdict(lambda: defaultdict(list))


@contextmanager
def timed_into(into: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    into[name] = round(time.perf_counter() - started, 3)


def measure_searches(
    service: SearchService, index: SemanticIndex, searches: list[Search]
) -> Samples:
    """Each search once per measure, in the workload's order, so that callers alternate."""
    found = samples()
    depth = index.ranking.depth  # what a hybrid search asks of each index
    for search in searches[:20]:  # warm-up: rows and statistics as a running service has them
        allowed, exclude = service._candidates(search.caller, NO_FILTER)
        index.vectors.search(search.vector, depth, allowed=allowed, exclude=exclude)
        index.lexical.search(search.text, depth, allowed=allowed, exclude=exclude)
    for search in searches:
        started = CLOCK()
        service._candidates(search.caller, NO_FILTER)
        found["check, no filter"][search.kind].append(since(started))
    for search in searches:
        started = CLOCK()
        service._candidates(search.caller, search.flt)
        found["check, kind=person + sector"][search.kind].append(since(started))
    graph = service.view.graph
    for search in searches:  # the line above in its two parts: the filter, then the audience
        started = CLOCK()
        allowed = matching_ids(graph, search.flt, allow_edge=edge_filter(search.caller, graph))
        filtered = CLOCK()
        assert allowed is not None
        allowed = allowed - service.hidden_from(search.caller)
        found["of which the filter"][search.kind].append((filtered - started) / 1e6)
        found["of which the audience"][search.kind].append(since(filtered))
    for search in searches:  # as the service searches: the check, then each index
        started = CLOCK()
        allowed, exclude = service._candidates(search.caller, NO_FILTER)
        checked = CLOCK()
        index.vectors.search(search.vector, depth, allowed=allowed, exclude=exclude)
        vector = CLOCK()
        index.lexical.search(search.text, depth, allowed=allowed, exclude=exclude)
        lexical = CLOCK()
        found["vector search"][search.kind].append((vector - checked) / 1e6)
        found["lexical search"][search.kind].append((lexical - vector) / 1e6)
        found["check + vector + lexical"][search.kind].append((lexical - started) / 1e6)
    return found


class Timed:
    """A projection that records how long the one it wraps takes to prepare and apply."""

    def __init__(self, name: str, projection: Projection, into: dict[str, float]) -> None:
        self.name, self.projection, self.into = name, projection, into

    def prepare(self, batch: ChangeBatch) -> Any:
        started = CLOCK()
        prepared = self.projection.prepare(batch)
        self.into[self.name] = since(started)
        return prepared

    def apply(self, batch: ChangeBatch, prepared: Any) -> None:
        started = CLOCK()
        self.projection.apply(batch, prepared)
        self.into[self.name] += since(started)


def one_search(
    found: Samples, step: str, service: SearchService, index: SemanticIndex, caller: Caller,
    search: Search,
) -> None:  # fmt: skip
    """Time the check, the vector search and the lexical search of one search."""
    depth = index.ranking.depth
    started = CLOCK()
    allowed, exclude = service._candidates(caller, NO_FILTER)
    found[step]["check"].append(since(started))
    started = CLOCK()
    index.vectors.search(search.vector, depth, allowed=allowed, exclude=exclude)
    found[step]["vector search"].append(since(started))
    started = CLOCK()
    index.lexical.search(search.text, depth, allowed=allowed, exclude=exclude)
    found[step]["lexical search"].append(since(started))


EDITS: dict[str, Callable[[Person], Person]] = {
    # who may list them changes: the audience index makes new sets
    "visibility": lambda p: p.model_copy(update={"visibility": Visibility.private}),
    # only a text changes: the same sets, but the indexes forget the rows of every set
    "text": lambda p: p.model_copy(update={"bio": f"{p.bio} Also keeps bees."}),
}


def measure_changes(network: Network, searches: list[Search], count: int, seed: int) -> Samples:
    """For ``count`` public people, one write at a time, each applied by a change feed: make
    them private and public again, then change their text and change it back; after each
    write, time the first searches that meet the new state."""
    store, view, index, service = network.store, network.view, network.index, network.service
    found = samples()
    took: dict[str, float] = {}
    feed = ChangeFeed(
        store,
        [Timed("graph view", view, took), Timed("audience index", network.audiences, took),
         Timed("search index", service, took)],
        seq=view.seq,
    )  # fmt: skip
    feed.catch_up()
    graph = view.graph
    public = sorted(
        n
        for n, a in graph.nodes(data=True)
        if a["kind"] == "person" and a["visibility"] == "public" and a["discoverable"]
    )
    anonymous, member = Caller(), Caller(role=Role.member, key_id="bench-member")
    rng = random.Random(seed)
    for person_id in rng.sample(public, min(count, len(public))):
        original = store.get_node(person_id)
        assert isinstance(original, Person)
        for what, edit in EDITS.items():
            for version in (edit(original), original):
                probe = rng.choice(searches)
                started = CLOCK()
                store.write([version])
                found[f"{what}: write"]["store write (not the audience check)"].append(
                    since(started)
                )
                started = CLOCK()
                feed.step()
                found[f"{what}: feed"]["feed step, all three projections"].append(since(started))
                for name, ms in took.items():
                    found[f"{what}: feed"][f"{name}: prepare + apply"].append(ms)
                for step, caller in (("first anonymous", anonymous), ("first member", member),
                                     ("next anonymous", anonymous)):  # fmt: skip
                    one_search(found, f"{what}: {step} search", service, index, caller, probe)
                one_search(found, f"{what}: BASELINE first anonymous search", network.baseline,
                           index, anonymous, probe)  # fmt: skip
    return found


# -- reporting ---------------------------------------------------------------------------


def summary(values: list[float]) -> dict[str, float]:
    p50, p90, p99 = np.percentile(values, [50, 90, 99])
    return {
        "n": len(values),
        "p50_ms": round(float(p50), 4),
        "p90_ms": round(float(p90), 4),
        "p99_ms": round(float(p99), 4),
        "max_ms": round(max(values), 4),
    }


def summarise(found: Samples) -> dict[str, dict[str, dict[str, float]]]:
    return {m: {k: summary(v) for k, v in by.items()} for m, by in found.items()}


def fmt(ms: float) -> str:
    if ms >= 100:
        return f"{ms:,.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    if ms >= 0.1:
        return f"{ms:.2f}"
    return f"{ms:.3f}"


def three(figures: dict[str, float]) -> str:
    return " / ".join(fmt(figures[f"{p}_ms"]) for p in ("p50", "p90", "p99"))


CALLERS = {
    "anonymous": "anonymous",
    "member": "member",
    "editor": "editor, own profile hidden",
    "admin": "admin",
}
CHECKS = [
    "check, no filter",
    "check, kind=person + sector",
    "of which the filter",
    "of which the audience",
]
INDEXES = ["vector search", "lexical search", "check + vector + lexical"]


def print_tables(results: list[dict[str, Any]]) -> None:
    for title, measures in (("The audience check", CHECKS), ("The indexes", INDEXES)):
        print(f"\n{title}, mixed callers: p50 / p90 / p99 in ms")
        print("| people | approach | caller | " + " | ".join(measures) + " |")
        print("|---:|---|---|" + "---:|" * len(measures))
        for result in results:
            for approach in ("audience index", "BASELINE: scan on switch"):
                figures = result["searches"][approach]
                for kind in KINDS:
                    cells = " | ".join(three(figures[m][kind]) for m in measures)
                    print(f"| {result['people']:,} | {approach} | {CALLERS[kind]} | {cells} |")
    print("\nOne write applied by the change feed (a visibility or a text), then searches: ms")
    print("| people | step | part | n | p50 / p90 / p99 | max |")
    print("|---:|---|---|---:|---:|---:|")
    for result in results:
        for step, parts in result["changes"].items():
            for part, figures in parts.items():
                print(
                    f"| {result['people']:,} | {step} | {part} | {figures['n']} | "
                    f"{three(figures)} | {fmt(figures['max_ms'])} |"
                )


def run_size(people: int, options: argparse.Namespace) -> dict[str, Any]:
    folder = options.bench_dir / f"audience-{people}-seed{options.seed}"
    built = ensure_store(folder, people, options.seed)
    network = open_network(folder, people, options.seed)
    try:
        graph = network.view.graph
        searches = workload(network, options.searches, options.seed)
        for search in searches[:8]:  # both approaches exclude the same people
            if network.service.hidden_from(search.caller) != network.baseline.hidden_from(
                search.caller
            ):
                raise SystemExit(f"the baseline disagrees on who is hidden from {search.kind}")
        result: dict[str, Any] = {
            "people": people,
            "nodes": graph.number_of_nodes(),
            "edges": graph.number_of_edges(),
            "hidden": {a: len(network.audiences.hidden(a)) for a in ("public", "members")},
            "vector_index": "HNSW" if network.index.vectors.uses_hnsw else "exact",
            "callers": {k: sum(s.kind == k for s in searches) for k in KINDS},
            "built": built,
            "setup_s": network.setup,
            "searches": {
                "audience index": summarise(
                    measure_searches(network.service, network.index, searches)
                ),
                "BASELINE: scan on switch": summarise(
                    measure_searches(network.baseline, network.index, searches)
                ),
            },
            "changes": summarise(measure_changes(network, searches, options.changes, options.seed)),
        }
    finally:
        network.store.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="people, comma-separated")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--searches", type=int, default=800, help="per approach and size")
    parser.add_argument("--changes", type=int, default=15, help="people made private and back")
    parser.add_argument("--bench-dir", type=Path, default=Path("var/bench"))
    parser.add_argument("--json", type=Path, default=Path("var/bench/audience.json"))
    options = parser.parse_args()
    single_threaded_blas()  # as the service runs
    load_before = os.getloadavg()
    started = datetime.now(UTC)
    results = [run_size(int(size), options) for size in options.sizes.split(",")]
    report = {
        "started": started.isoformat(timespec="seconds"),
        "seconds": round((datetime.now(UTC) - started).total_seconds(), 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "searches": options.searches,
        "seed": options.seed,
        "sizes": results,
    }
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"{report['machine']}; load average {report['load_average_before'][0]} before, "
        f"{report['load_average_after'][0]} after; {report['seconds']} s; {options.json}"
    )
    for result in results:
        print(
            f"{result['people']:,} people: {result['nodes']:,} nodes, {result['edges']:,} edges, "
            f"hidden from the public {result['hidden']['public']:,}, from members "
            f"{result['hidden']['members']:,}; vector index {result['vector_index']}; "
            f"setup {result['setup_s']}"
        )
    print_tables(results)


if __name__ == "__main__":
    main()
