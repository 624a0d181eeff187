"""The remembered rows of large id sets (``embeddings.ranking.RowCache``)."""

from __future__ import annotations

from embeddings.ranking import RowCache


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
