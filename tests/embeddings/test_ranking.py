"""The remembered rows of large id sets (``embeddings.ranking.RowCache``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from embeddings.ranking import RowCache


class Gathered(list[int]):
    """The sizes of the row sets gathered, in order; :meth:`gather` is the gatherer."""

    def gather(self, found: np.ndarray) -> np.ndarray:
        self.append(found.size)
        return np.ones((found.size, 4), dtype=np.float32)


def test_a_set_in_use_stays_remembered_while_one_off_sets_come_and_go() -> None:
    """The hidden profiles of the public are asked for search after search; the sets of
    callers who see themselves come one at a time. They must not push the first one out."""
    rows = {f"person:{i}": i for i in range(2_000)}
    cache = RowCache()
    public = frozenset(f"person:{i}" for i in range(0, 2_000, 2))
    remembered = cache.lookup(rows, public)
    for other in range(3 * RowCache.ENTRIES):
        cache.lookup(rows, public - {f"person:{2 * other}"})
        assert cache.lookup(rows, public) is remembered
    assert remembered.tolist() == list(range(0, 2_000, 2))


def test_remembered_rows_stay_within_their_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sets are remembered up to ``ROWS`` rows in all, the least recently used going first;
    the set just looked up is kept whatever its size."""
    monkeypatch.setattr(RowCache, "ROWS", 1_000)
    rows = {f"n{i}": i for i in range(5_000)}
    cache = RowCache()
    sets = [frozenset(f"n{i}" for i in range(start, start + 400)) for start in (0, 400, 800)]
    first, second = cache.lookup(rows, sets[0]), cache.lookup(rows, sets[1])
    assert cache.lookup(rows, sets[0]) is first  # 800 rows: both kept, the first used last
    cache.lookup(rows, sets[2])  # 1,200 rows: the least recently used goes
    assert cache.lookup(rows, sets[0]) is first
    assert cache.lookup(rows, sets[1]) is not second
    everything = frozenset(rows)
    kept = cache.lookup(rows, everything)
    assert cache.lookup(rows, everything) is kept
    assert cache.lookup(rows, sets[0]) is not first
    assert kept.tolist() == list(range(5_000))


def test_only_sets_within_the_bound_have_their_vectors_held() -> None:
    """The vectors of a remembered set are held up to ``HELD_BYTES``, of ``HELD`` sets at
    most (the least recently used dropped first), and gathered again after a clear; a
    larger set is looked up, not held."""
    rows = {f"n{i}": i for i in range(4_000)}
    cache = RowCache()
    cache.HELD_SHARE = 1.0  # (the bound by share: the test below)
    gathered = Gathered()
    gather: Callable[[np.ndarray], np.ndarray] = gathered.gather

    small = frozenset(f"n{i}" for i in range(300))
    row_bytes = RowCache.HELD_BYTES // 1_000  # 1,000 rows fit, 300 do, 3,000 do not
    held = cache.held(rows, small, gather, row_bytes)
    assert held is not None and held[0].tolist() == list(range(300))
    assert cache.held(rows, small, gather, row_bytes) is not None and gathered == [300]
    large = frozenset(f"n{i}" for i in range(3_000))
    assert cache.held(rows, large, gather, row_bytes) is None and gathered == [300]
    assert cache.held(rows, set(small), gather, row_bytes) is None  # not frozen: not held
    others = [frozenset(f"n{i}" for i in range(start, start + 300)) for start in (300, 600)]
    cache.held(rows, others[0], gather, row_bytes)
    cache.held(rows, small, gather, row_bytes)  # used again: the last to be dropped
    cache.held(rows, others[1], gather, row_bytes)  # pushes out others[0]: HELD is 2
    assert len(gathered) == 3
    cache.held(rows, small, gather, row_bytes)
    assert len(gathered) == 3
    cache.held(rows, others[0], gather, row_bytes)
    assert len(gathered) == 4
    cache.clear()
    cache.held(rows, small, gather, row_bytes)
    assert gathered == [300] * 5


def test_a_set_of_more_than_a_share_of_the_items_is_not_held() -> None:
    """A sector's members (a fifth of the network) are looked up, not held: holding them
    cost tens of MiB a worker, replaced at the next sector's search."""
    rows = {f"n{i}": i for i in range(10_000)}
    cache = RowCache()
    gathered = Gathered()
    share = int(RowCache.HELD_SHARE * len(rows))
    within = frozenset(f"n{i}" for i in range(share))
    beyond = frozenset(f"n{i}" for i in range(share + 1))
    assert cache.held(rows, within, gathered.gather, 8) is not None
    assert cache.held(rows, beyond, gathered.gather, 8) is None and gathered == [share]
    assert cache.lookup(rows, beyond).size == share + 1  # its rows are still remembered


def test_rows_follow_their_ids_and_sets_not_moved_keep_theirs() -> None:
    """After an update (ids to new rows at the end) or a removal, a remembered set's rows
    are those a fresh look-up gives; a set none of the ids is in keeps its rows and its
    held vectors, not gathered again."""
    rows = {f"n{i}": i for i in range(1_000)}
    cache = RowCache()
    cache.HELD_SHARE = 1.0
    gathered = Gathered()
    gather: Callable[[np.ndarray], np.ndarray] = gathered.gather

    evens = frozenset(f"n{i}" for i in range(0, 1_000, 2))
    odds = frozenset(f"n{i}" for i in range(1, 1_000, 2))
    odd_rows = cache.lookup(rows, odds)
    cache.held(rows, odds, gather, 8)
    cache.held(rows, evens, gather, 8)
    # n4 and n10 updated (to rows 1000 and 1001), n7 removed, n2000 new (row 1002)
    cache.moved(["n4", "n10", "n2000"], [4, 10, None], [1_000, 1_001, 1_002])
    cache.moved(["n7"], [7], [None])
    rows.update({"n4": 1_000, "n10": 1_001, "n2000": 1_002})
    del rows["n7"]
    fresh = RowCache()
    assert cache.lookup(rows, evens).tolist() == fresh.lookup(rows, evens).tolist()
    assert cache.lookup(rows, odds).tolist() == fresh.lookup(rows, odds).tolist()
    assert 7 not in cache.lookup(rows, odds).tolist()
    cache.moved(["n4"], [1_000], [1_003])
    assert cache.lookup(rows, odds) is not odd_rows  # n7 was odd
    untouched = frozenset(f"n{i}" for i in range(500, 800))
    kept = cache.lookup(rows, untouched)
    cache.moved(["n4"], [1_003], [1_004])
    assert cache.lookup(rows, untouched) is kept
    assert gathered == [500, 500]
    cache.held(rows, odds, gather, 8)  # odds was touched by n7: gathered again
    cache.held(rows, evens, gather, 8)  # evens by n4
    assert gathered == [500, 500, 499, 500]
