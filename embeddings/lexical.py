"""A BM25 index over string-keyed documents, with its postings in numpy arrays.

Scoring is Okapi BM25 with k1 = 1.2 and b = 0.75 and the non-negative idf
``ln(1 + (N - df + 0.5) / (df + 0.5))`` (as in Lucene), over the live documents only;
a term repeated in the query counts once. Documents may be excluded from the statistics
(N, df, the average length) while staying searchable: hidden profiles, so that no score
says how many of them hold a word. Terms come from :mod:`embeddings.tokenize`.

Each term's postings are two growable arrays (document rows, term frequencies) in row
order. An update appends the document under a new row and retires the old row; a
removal retires it. Retired rows get an infinite length norm, so they score zero
without touching the postings, and a compaction drops them once they pass 20% of the
rows. A query is a handful of vectorised gathers over the postings of its terms.
Not thread-safe on its own: :class:`embeddings.search.SemanticIndex` serialises access.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from collections.abc import Collection, Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt

from embeddings.errors import IndexFormatError, UnknownItem
from embeddings.postings import Postings
from embeddings.ranking import Ranked, RowCache, top_k
from embeddings.storage import (
    check_format,
    current_snapshot,
    read_array,
    read_json,
    write_json,
    writing_snapshot,
)
from embeddings.tokenize import terms, tokens

_KIND, _FORMAT = "lexical-index", 1
_COMPACT_AT = 0.2
_WEIGHTS_HELD = 4_000_000
"""Postings whose weights are held at most (16 MB of float32; the rows are views)."""
Scores = npt.NDArray[np.float32]
Weighted = tuple[npt.NDArray[np.int32], Scores, int]
"""A term's rows, the BM25 weight of the term in each (its idf included) and its df."""


class LexicalIndex:
    """BM25 keyword search with incremental add, update and remove."""

    def __init__(self, *, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._postings = Postings()
        self._selections = RowCache()  # cleared whenever ids move between rows
        self._doc_len = np.zeros(0, dtype=np.float32)
        self._alive = np.zeros(0, dtype=bool)
        self._size = 0
        self._ids: list[str] = []
        self._rows: dict[str, int] = {}
        self._norm: Scores | None = None  # per row k1 * (1 - b + b * len / avg); inf if retired
        self._uncounted: frozenset[str] = frozenset()
        self._counted: npt.NDArray[np.bool_] | None = None  # live rows the statistics count
        # Each term's weights, as they are for the statistics of ``_weighted_by`` (the
        # length norm, replaced at every change): a query's terms are mostly others' too.
        self._weighted: OrderedDict[str, Weighted] = OrderedDict()
        self._weighted_by: Scores | None = None
        self._weighted_size = 0
        self._weighted_live = 0  # documents the statistics count

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._rows

    def upsert(self, items: Iterable[tuple[str, str]]) -> None:
        """Add or replace documents; within one batch the last text of an id wins."""
        batch = dict(items)
        old = [self._rows.get(item_id) for item_id in batch]
        for item_id in batch:
            self._retire(item_id)
        start = self._size
        self._reserve(start + len(batch))
        batch_postings: dict[str, tuple[list[int], list[int]]] = {}
        for row, (item_id, text) in enumerate(batch.items(), start=start):
            counts = Counter(terms(text))
            length = sum(counts.values())
            self._doc_len[row] = length
            self._alive[row] = True
            self._ids.append(item_id)
            self._rows[item_id] = row
            for term, tf in counts.items():
                rows, tfs = batch_postings.setdefault(term, ([], []))
                rows.append(row)
                tfs.append(tf)
        self._size += len(batch)
        self._postings.extend(batch_postings)
        self._changed(list(batch), old, list(range(start, self._size)))

    def remove(self, ids: Iterable[str]) -> int:
        """Remove these ids (unknown ones are ignored); returns how many were removed."""
        ids = list(dict.fromkeys(ids))
        old = [self._rows.get(item_id) for item_id in ids]
        removed = sum(self._retire(item_id) for item_id in ids)
        if removed:
            self._changed(ids, old, [None] * len(ids))
        return removed

    def exclude_from_statistics(self, ids: frozenset[str]) -> None:
        """Let the documents of ``ids`` be found but not count in the statistics.

        The document frequencies, the number of documents and the average length behind
        every score then come from the other documents only, so no score reveals how many
        of these documents hold a word (the service passes the profiles hidden from anyone).
        """
        if ids is not self._uncounted and ids != self._uncounted:
            self._uncounted = ids
            self._norm = None
            self._counted = None

    def scrub(self) -> None:
        """Drop retired documents and the terms only they held, so that a save writes none."""
        if self._size > len(self._rows):
            self._compact()

    def search(
        self,
        query: str,
        k: int,
        *,
        allowed: Collection[str] | None = None,
        exclude: Collection[str] = (),
        scored: Scores | None = None,
    ) -> Ranked:
        """The best k (id, BM25 score) among ``allowed`` (all if None) minus ``exclude``.

        Only documents holding at least one query term are returned. ``scored``: the
        query's :meth:`score_all`, when the caller has it already (it is not changed).
        """
        if k <= 0 or not self._rows:
            return []
        scores = self.score_all(query) if scored is None else scored
        if allowed is None:
            if exclude:
                scores = scores.copy()
                scores[self._selections.lookup(self._rows, exclude)] = 0.0
            rows = np.flatnonzero(scores > 0)
        else:
            rows = self._selections.lookup(self._rows, allowed, exclude)
            rows = rows[scores[rows] > 0]
        return top_k(scores[rows], self._ids, k, rows=rows)

    def scores(
        self, query: str, ids: Iterable[str], scored: Scores | None = None
    ) -> dict[str, float]:
        """The BM25 score of each of these ids for the query (unknown ids are left out);
        ``scored`` as in :meth:`search`."""
        known = [item_id for item_id in ids if item_id in self._rows]
        if not known:
            return {}
        scores = self.score_all(query) if scored is None else scored
        return {item_id: float(scores[self._rows[item_id]]) for item_id in known}

    def known_share(self, query: str, lexicon: Collection[str] = frozenset()) -> float:
        """The share of the query's distinct words that are known: held by a document the
        statistics count, or (lower-cased) in ``lexicon``; 0 for a query without words."""
        words = {term: surface.casefold() for surface, term in tokens(query)}
        if not words:
            return 0.0
        known = 0
        for term, word in words.items():
            if word in lexicon or ((found := self._weights(term)) is not None and found[2] > 0):
                known += 1
        return known / len(words)

    def matched_terms(self, query: str, item_id: str) -> list[str]:
        """The query's words found in this document, in query order, as written in the query."""
        return self.matched_terms_of(query, [item_id])[item_id]

    def matched_terms_of(self, query: str, ids: Iterable[str]) -> dict[str, list[str]]:
        """:meth:`matched_terms` of each of these documents, the query read once."""
        ids = list(ids)
        rows = np.empty(len(ids), dtype=np.int32)
        for at, item_id in enumerate(ids):
            row = self._rows.get(item_id)
            if row is None:
                raise UnknownItem(item_id)
            rows[at] = row
        first_surface: dict[str, str] = {}
        for surface, term in tokens(query):
            first_surface.setdefault(term, surface)
        held = [(s, self._postings.holding(term, rows)) for term, s in first_surface.items()]
        return {
            item_id: [s for s, holding in held if holding[at]] for at, item_id in enumerate(ids)
        }

    def save(self, folder: str | Path) -> None:
        """Save as a crash-safe snapshot in ``folder`` (see :mod:`embeddings.storage`)."""
        with writing_snapshot(Path(folder)) as staging:
            self.write_files(staging)

    @classmethod
    def load(cls, folder: str | Path) -> LexicalIndex:
        """Load the current snapshot saved in ``folder``."""
        return cls.read_files(current_snapshot(Path(folder)))

    def write_files(self, folder: Path) -> None:
        """Write the index into an existing, empty folder (JSON and .npy, no pickle)."""
        terms, offsets, rows, tfs = self._postings.to_arrays()
        alive = self._alive[: self._size]
        write_json(
            folder / "lexical.json",
            {
                "kind": _KIND,
                "format": _FORMAT,
                "k1": self.k1,
                "b": self.b,
                "terms": terms,
                "ids": [i if a else None for i, a in zip(self._ids, alive.tolist(), strict=True)],
            },
        )
        np.save(folder / "offsets.npy", offsets, allow_pickle=False)
        np.save(folder / "rows.npy", rows, allow_pickle=False)
        np.save(folder / "tfs.npy", tfs, allow_pickle=False)
        np.save(folder / "doc_len.npy", self._doc_len[: self._size], allow_pickle=False)

    @classmethod
    def read_files(cls, folder: Path, *, mapped: bool = True) -> LexicalIndex:
        """Read an index written by :meth:`write_files`, its postings memory-mapped
        read-only unless ``mapped`` is false (a term's postings that grow are copied into
        memory then; see :class:`embeddings.postings.Postings`)."""
        meta = check_format(folder, read_json(folder / "lexical.json"), _KIND, _FORMAT)
        index = cls(k1=float(meta["k1"]), b=float(meta["b"]))
        offsets = read_array(folder / "offsets.npy", np.int64, 1)
        rows = read_array(folder / "rows.npy", np.int32, 1, mapped=mapped)
        tfs = read_array(folder / "tfs.npy", np.float32, 1, mapped=mapped)
        doc_len = read_array(folder / "doc_len.npy", np.float32, 1)
        ids, vocab = meta["ids"], meta["terms"]
        if len(offsets) != len(vocab) + 1 or offsets[-1] != rows.size or rows.size != tfs.size:
            raise IndexFormatError(folder, "the postings do not match the term list")
        if len(ids) != doc_len.size or (rows.size and int(rows.max()) >= doc_len.size):
            raise IndexFormatError(folder, "the postings do not match the document list")
        # Plain views of the maps: a np.memmap view carries a dict of its own, and there
        # are two per term.
        index._postings = Postings.from_arrays(
            vocab, offsets, np.asarray(rows), np.asarray(tfs), mapped=mapped
        )
        index._alive = np.fromiter((i is not None for i in ids), dtype=bool, count=len(ids))
        index._doc_len, index._size = doc_len, len(ids)
        index._ids = [i if i is not None else "" for i in ids]
        index._rows = {i: row for row, i in enumerate(ids) if i is not None}
        return index

    @property
    def mapped(self) -> bool:
        """Whether postings are read from memory-mapped files."""
        return self._postings.mapped

    def remapped(self, folder: Path, waiting: Iterable[tuple[str, str]] = ()) -> LexicalIndex:
        """The index just written into ``folder`` by :meth:`write_files`, mapped, with the
        same statistics exclusions, and these documents (left out of the write) added."""
        fresh = LexicalIndex.read_files(folder)
        fresh.exclude_from_statistics(self._uncounted)
        fresh.upsert(waiting)
        return fresh

    def score_all(self, query: str) -> Scores:
        """The BM25 score of every row for this query (retired rows score zero); a caller
        that runs :meth:`search` and :meth:`scores` for one query passes it to both."""
        scores = np.zeros(self._size, dtype=np.float32)
        for term in dict.fromkeys(terms(query)):
            found = self._weights(term)
            if found is not None:
                scores[found[0]] += found[1]
        return scores

    def _weights(self, term: str) -> Weighted | None:
        """The term's rows, its BM25 weight in each (idf included) and its df; None for a
        term never seen. Held, most recently used first, until the statistics change (a
        write, an exclusion, a compaction), for at most ``_WEIGHTS_HELD`` postings."""
        norm = self._length_norm()
        if self._weighted_by is not norm:
            self._weighted.clear()
            self._weighted_by, self._weighted_size = norm, 0
            self._weighted_live = int(np.count_nonzero(self._counted_rows()))
        held = self._weighted.get(term)
        if held is not None:
            self._weighted.move_to_end(term)
            return held
        found = self._postings.get(term)
        if found is None:
            return None
        rows, tf = found
        live = self._weighted_live
        df = rows.size if live == self._size else int(np.count_nonzero(self._counted_rows()[rows]))
        idf = math.log(1.0 + (live - df + 0.5) / (df + 0.5))
        weights: Scores = (idf * (self.k1 + 1.0)) * tf / (tf + norm[rows])
        held = self._weighted[term] = (rows, weights, df)
        self._weighted_size += rows.size
        while self._weighted_size > _WEIGHTS_HELD and len(self._weighted) > 1:
            _, (dropped, _, _) = self._weighted.popitem(last=False)
            self._weighted_size -= dropped.size
        return held

    def _counted_rows(self) -> npt.NDArray[np.bool_]:
        """The rows the statistics count: live, and not excluded from them."""
        if self._counted is None:
            counted = self._alive[: self._size].copy()
            if self._uncounted:
                rows = [row for i in self._uncounted if (row := self._rows.get(i)) is not None]
                counted[rows] = False
            self._counted = counted
        return self._counted

    def _length_norm(self) -> Scores:
        if self._norm is None:
            counted = self._counted_rows()
            lengths = self._doc_len[: self._size]
            total = float(lengths[counted].sum())
            average = total / int(np.count_nonzero(counted)) if total > 0 else 1.0
            norm = self.k1 * (1.0 - self.b + self.b * lengths / average)
            norm[~self._alive[: self._size]] = np.inf
            self._norm = norm.astype(np.float32)
        return self._norm

    def _reserve(self, rows: int) -> None:
        if rows <= self._doc_len.size:
            return
        capacity = max(rows, 2 * self._doc_len.size, 1024)
        self._doc_len = np.concatenate(
            [self._doc_len[: self._size], np.zeros(capacity - self._size, np.float32)]
        )
        self._alive = np.concatenate(
            [self._alive[: self._size], np.zeros(capacity - self._size, bool)]
        )

    def _retire(self, item_id: str) -> bool:
        row = self._rows.pop(item_id, None)
        if row is None:
            return False
        self._alive[row] = False
        return True

    def _changed(self, ids: list[str], old: list[int | None], new: list[int | None]) -> None:
        """``ids`` moved from their ``old`` rows to their ``new`` ones (None: none).

        The remembered sets' rows and the rows the statistics count follow them rather
        than being read again: at a million people, reading the rows of the profiles
        hidden from anyone after every new bio took most of a search's time.
        """
        self._norm = None
        if self._size - len(self._rows) > _COMPACT_AT * self._size:
            self._compact()
            return
        self._selections.moved(ids, old, new)
        counted = self._counted
        if counted is not None:
            grown = np.zeros(self._size, dtype=bool)
            grown[: counted.size] = counted
            grown[[row for row in old if row is not None]] = False
            uncounted = self._uncounted
            grown[
                [r for i, r in zip(ids, new, strict=True) if r is not None and i not in uncounted]
            ] = True
            self._counted = grown

    def _compact(self) -> None:
        """Drop retired rows and the terms left without postings, renumbering rows in order."""
        keep = np.flatnonzero(self._alive[: self._size])
        self._postings.compact(self._alive[: self._size])
        self._doc_len = self._doc_len[keep]
        self._alive = np.ones(keep.size, dtype=bool)
        self._ids = [self._ids[row] for row in keep]
        self._rows = {item_id: row for row, item_id in enumerate(self._ids)}
        self._size = keep.size
        self._norm = None
        self._counted = None
        self._selections.clear()  # every row renumbered
