"""Semantic search over (id, text) items: a vector index and a BM25 index kept in step.

The caller (the composition root) feeds it the items' texts as they change and
records, with each save, the change-log sequence number (``watermark``) the index
reflects, so that after a restart it only replays the changes since then. Search
methods may run concurrently with each other and with writes: one lock guards the
indexes, and texts are encoded outside it. After :meth:`SemanticIndex.rebuild_in_background`
the vector index's slow rebuilds (building the HNSW graph, compacting) are built in a
background thread and swapped in under the lock in a moment (:mod:`embeddings.rebuild`).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from embeddings.encoder import BATCH_SIZE, Encoder
from embeddings.errors import (
    DimensionMismatch,
    EmbeddingsError,
    EncoderMismatch,
    IndexFormatError,
    InvalidOption,
)
from embeddings.hybrid import Fused, Method, fuse, mmr
from embeddings.lexical import LexicalIndex
from embeddings.lexicon import model_words
from embeddings.options import RankingOptions, VectorOptions
from embeddings.ranking import Matrix, Vector, normalise
from embeddings.rebuild import BackgroundRebuilds
from embeddings.storage import (
    check_format,
    current_snapshot,
    has_snapshot,
    read_json,
    write_json,
    writing_snapshot,
)
from embeddings.vectors import VectorIndex

Mode = Literal["hybrid", "dense", "lexical"]
_KIND, _FORMAT = "semantic-index", 1


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: the score it was ranked by, and each side's score and rank."""

    id: str
    score: float
    dense: float | None = None
    lexical: float | None = None
    dense_rank: int | None = None
    lexical_rank: int | None = None
    matched_terms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Encoded:
    """Items whose text changed, with their new vectors (see :meth:`SemanticIndex.prepare`)."""

    ids: tuple[str, ...]
    texts: tuple[str, ...]
    hashes: tuple[str, ...]
    vectors: Matrix
    fresh: tuple[str, ...] = ()
    """The ids whose vectors were encoded here (not given as known)."""

    def fresh_rows(self) -> list[tuple[str, str, Vector]]:
        """(id, text digest, vector) of each freshly encoded item."""
        at = {item_id: row for row, item_id in enumerate(self.ids)}
        return [(i, self.hashes[at[i]], self.vectors[at[i]]) for i in self.fresh]


def text_sha1(text: str) -> str:
    """The hash kept for each indexed text, to tell whether it changed."""
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()


class SemanticIndex:
    """Dense, lexical and hybrid search over (id, text) items, saved with a watermark.

    Hybrid search fuses the two rankings (see :func:`embeddings.hybrid.fuse`);
    ``similar`` works from stored vectors only. :class:`RankingOptions` says how.
    """

    def __init__(
        self,
        encoder: Encoder,
        *,
        folder: str | Path | None = None,
        vectors: VectorOptions | None = None,
        ranking: RankingOptions | None = None,
    ) -> None:
        self.encoder = encoder
        self.query_encoder = encoder
        """What encodes a search's text (:meth:`ask_with`); the items' vectors are
        ``encoder``'s."""
        self.folder = Path(folder) if folder is not None else None
        self.ranking = ranking or RankingOptions()
        self.watermark = 0
        self._vectors = VectorIndex(encoder.dimension, **asdict(vectors or VectorOptions()))
        self._lexical = LexicalIndex()
        self._hashes: dict[str, str] = {}
        self._pending: dict[str, str] = {}
        """Items searchable by their words only, their vectors not computed yet (id: text)."""
        self._waited = 0  # items added words-only since none was waiting
        self._lock = threading.RLock()
        self._queries: OrderedDict[str, Vector] = OrderedDict()
        self.query_cache = _query_cache_size()
        self._forgotten = False  # an erasure since the last save
        self._words = model_words(encoder)  # for the relevance floor
        self._rebuilds = BackgroundRebuilds(self._lock)
        self._snapshot = ""  # the name of the snapshot last loaded, saved or adopted
        self._saved: tuple[str, int] | None = None  # (snapshot, watermark) loaded or saved

    def __len__(self) -> int:
        return len(self._hashes)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._hashes

    def rebuild_in_background(
        self, *, swap_under: Callable[[], AbstractContextManager[Any]] | None = None
    ) -> None:
        """From now on, rebuild the vector index in a background thread (one now if due).

        A write then never waits for a graph to be built: searches use the old structure
        until the new one, with every change made meanwhile, is swapped in. ``swap_under``:
        a lock the swap holds besides the index's own (the change feed's write side, for
        the readers of :attr:`vectors` that hold only the feed's shared side).
        """
        if swap_under is not None:
            self._rebuilds.swap_under = swap_under
        with self._lock:
            self._vectors.defer_rebuilds = True
            self._rebuilds.start_if_due(self._vectors)

    def wait_for_graph(self, waits: bool, *, build: bool = True) -> None:
        """Hold off building the vectors' HNSW graph (``waits``) while a backlog of vectors
        comes in, or let it be built (``build``: now, in the background when rebuilds are;
        else at the next change) (:meth:`embeddings.vectors.VectorIndex.wait_for_graph`)."""
        with self._lock:
            self._vectors.wait_for_graph(waits, build=build)
            if not waits and build:
                self._rebuilds.start_if_due(self._vectors)

    def build_graph(self, threads: int, *, cancelled: Callable[[], bool] = lambda: False) -> bool:
        """Let the graph that waited be built now on ``threads`` threads, and wait for it
        (the backlog's encoder is done with the cores); False if ``cancelled`` first."""
        self._rebuilds.threads = threads
        try:
            self.wait_for_graph(False)
            while not self._rebuilds.wait(1.0):
                if cancelled():
                    return False
            return True
        finally:
            self._rebuilds.threads = None

    @property
    def rebuilding(self) -> bool:
        """Whether a background rebuild is in flight."""
        return self._rebuilds.busy

    def wait_for_rebuilds(self, timeout: float | None = None) -> bool:
        """Wait until no background rebuild is in flight; whether none is."""
        return self._rebuilds.wait(timeout)

    def close(self) -> None:
        """Stop a background rebuild (the index stays usable, rebuilding within writes)."""
        self._rebuilds.close()
        with self._lock:
            self._vectors.defer_rebuilds = False

    @property
    def vectors(self) -> VectorIndex:
        """The underlying vector index."""
        return self._vectors

    @property
    def lexical(self) -> LexicalIndex:
        """The underlying BM25 index."""
        return self._lexical

    def upsert(
        self,
        items: Iterable[tuple[str, str]],
        *,
        known: Mapping[str, Vector] | None = None,
        progress: bool = False,
        batch_size: int = BATCH_SIZE,
    ) -> int:
        """Index (id, text) items, encoding only texts that changed; returns how many did."""
        encoded = self.prepare(items, known=known, progress=progress, batch_size=batch_size)
        return self.apply(encoded)

    def prepare(
        self,
        items: Iterable[tuple[str, str]],
        *,
        known: Mapping[str, Vector] | None = None,
        progress: bool = False,
        batch_size: int = BATCH_SIZE,
        encoder: Encoder | None = None,
    ) -> Encoded:
        """Vectors for the texts among ``items`` that differ from the indexed ones.

        ``known`` gives vectors already computed for some of these texts (by another
        process); the rest are encoded here, by ``encoder`` if given (the same model
        with other settings, such as more threads), else the index's own. No lock is
        held while encoding: the result goes to :meth:`apply`, and meanwhile searches run
        against the index as it was.
        """
        latest = {item_id: (text, text_sha1(text)) for item_id, text in items}
        with self._lock:
            changed = {i: t for i, (t, h) in latest.items() if self._hashes.get(i) != h}
        ids = list(changed)
        known = known or {}
        missing = [i for i in ids if i not in known]
        vectors = np.zeros((len(ids), self.encoder.dimension), dtype=np.float32)
        if missing:
            fresh = (encoder or self.encoder).encode(
                [changed[i] for i in missing], batch_size=batch_size, progress=progress
            )
            at = {item_id: row for row, item_id in enumerate(missing)}
        for row, item_id in enumerate(ids):
            vectors[row] = known[item_id] if item_id in known else fresh[at[item_id]]
        hashes = tuple(latest[i][1] for i in ids)
        return Encoded(tuple(ids), tuple(changed.values()), hashes, vectors, tuple(missing))

    def apply(self, encoded: Encoded, *, words: bool = True) -> int:
        """Index what :meth:`prepare` encoded; returns how many items it held. ``words``:
        index their words too (False: the lexical index holds these very texts)."""
        if not encoded.ids:
            return 0
        with self._lock:
            self._vectors.upsert(list(encoded.ids), encoded.vectors)
            if words:
                self._lexical.upsert(zip(encoded.ids, encoded.texts, strict=True))
            self._hashes.update(zip(encoded.ids, encoded.hashes, strict=True))
            for item_id in encoded.ids:
                self._pending.pop(item_id, None)
            self._rebuilds.start_if_due(self._vectors)
        return len(encoded.ids)

    # -- words first, vectors later ------------------------------------------------

    def add_words_only(self, items: Iterable[tuple[str, str]]) -> int:
        """Make new (id, text) items searchable by their words at once, their vectors to
        come (:meth:`apply_pending`): a new store is served while it is encoded. Items the
        index holds already are left as they are; how many were added."""
        with self._lock:
            fresh = [(i, t) for i, t in items if i not in self._hashes]
            if not self._pending:
                self._waited = 0
            self._waited += sum(1 for i, _ in fresh if i not in self._pending)
            self._lexical.upsert(fresh)
            self._pending.update(fresh)
        return len(fresh)

    def knows(self, item_id: str) -> bool:
        """Whether the item is indexed, with its vector or waiting for it."""
        return item_id in self._hashes or item_id in self._pending

    @property
    def pending(self) -> int:
        """How many items wait for their vectors (searched by their words only)."""
        return len(self._pending)

    @property
    def progress(self) -> dict[str, int] | None:
        """{"done": N, "total": M} while items wait for their vectors, None once none does."""
        with self._lock:
            waiting = len(self._pending)
            if not waiting:
                return None
            total = max(self._waited, waiting)
            return {"done": total - waiting, "total": total}

    def pending_ids(self) -> list[str]:
        """The ids waiting for their vectors."""
        with self._lock:
            return list(self._pending)

    def pending_items(self, limit: int) -> list[tuple[str, str]]:
        """Up to ``limit`` (id, text) items waiting for their vectors."""
        with self._lock:
            return list(itertools.islice(self._pending.items(), limit))

    def apply_pending(self, encoded: Encoded) -> int:
        """Apply vectors computed for waiting items, those whose text is still the one
        waiting (a write meanwhile applied its own); how many were applied."""
        with self._lock:
            keep = [
                n for n, i in enumerate(encoded.ids) if self._pending.get(i) == encoded.texts[n]
            ]
            if not keep:
                return 0
            return self.apply(
                Encoded(
                    tuple(encoded.ids[n] for n in keep),
                    tuple(encoded.texts[n] for n in keep),
                    tuple(encoded.hashes[n] for n in keep),
                    encoded.vectors[keep],
                    tuple(i for i in encoded.fresh if i in self._pending),
                ),
                words=False,  # their words went in with add_words_only: the same texts
            )

    def remove(self, ids: Iterable[str]) -> int:
        """Remove these ids (unknown ones are ignored); returns how many were removed."""
        with self._lock:
            ids = list(ids)
            waiting = [item_id for item_id in ids if self._pending.pop(item_id, None) is not None]
            gone = [item_id for item_id in ids if self._hashes.pop(item_id, None) is not None]
            self._vectors.remove(gone)
            self._lexical.remove([*gone, *(i for i in waiting if i not in gone)])
            self._rebuilds.start_if_due(self._vectors)
        return len(gone)

    def forget(self, ids: Iterable[str]) -> int:
        """Remove these ids as an erasure; returns how many were held.

        The next :meth:`save` writes nothing of them (no retired vector, no word only
        they used) and removes every older snapshot, even when nothing was held here:
        an older snapshot may still hold them.
        """
        with self._lock:
            ids = list(ids)
            mapped = self._vectors.maps_any(ids)
            removed = self.remove(ids)
            self._forgotten = True
            if mapped or (removed and self._lexical.mapped):
                # The files this process maps (the snapshot it loaded) hold them: copy into
                # memory without them now, rather than read those files until the next save
                # (a worker that does not save maps the one saved without them later:
                # :meth:`adopt_saved`).
                self._vectors.scrub()
                self._lexical.scrub()
        return removed

    def exclude_from_statistics(self, ids: frozenset[str]) -> None:
        """Keep these items searchable but out of the lexical statistics (see
        :meth:`embeddings.lexical.LexicalIndex.exclude_from_statistics`)."""
        with self._lock:
            self._lexical.exclude_from_statistics(ids)

    def vector(self, item_id: str) -> Vector:
        """The stored vector of this id."""
        with self._lock:
            return self._vectors.vector(item_id)

    def text_hash(self, item_id: str) -> str | None:
        """The sha1 (see :func:`text_sha1`) of the text indexed for this id, if any."""
        return self._hashes.get(item_id)

    def search(
        self,
        text: str,
        k: int = 10,
        *,
        mode: Mode = "hybrid",
        allowed: Collection[str] | None = None,
        exclude: Collection[str] = (),
        alpha: float | None = None,
        method: Method | None = None,
    ) -> list[Hit]:
        """The k items best matching ``text`` among ``allowed`` (all if None).

        A text without any letter or digit returns nothing; ``lexical`` mode never runs
        the model. The relevance floor (see :class:`RankingOptions`): when no more than
        half of the query's words are known (to an indexed text or to the model's
        vocabulary, :mod:`embeddings.lexicon`), as with random letters, a hit must share a
        word with the query or be at least ``ranking.floor`` close in meaning.
        """
        if mode not in ("hybrid", "dense", "lexical"):
            raise InvalidOption("mode", mode, "'hybrid', 'dense' or 'lexical'")
        if k <= 0 or not any(ch.isalnum() for ch in text):
            return []
        query = None if mode == "lexical" else self.query_vector(text)
        with self._lock:
            if query is None:
                ranked = self._lexical.search(text, k, allowed=allowed, exclude=exclude)
                fused = [Fused(i, s, None, s, None, r) for r, (i, s) in enumerate(ranked, 1)]
            elif mode == "dense":
                ranked = self._vectors.search(
                    query, k, allowed=allowed, exclude=exclude, ef_search=self._walk(allowed)
                )
                fused = [Fused(i, s, s, None, r, None) for r, (i, s) in enumerate(ranked, 1)]
            else:
                fused = self._hybrid(text, query, k, allowed, exclude, alpha, method)
            if query is not None and self._lexical.known_share(text, self._words) <= 0.5:
                floor = self.ranking.floor
                fused = [f for f in fused if (f.lexical or 0.0) > 0 or (f.dense or 0.0) >= floor]
            matched = self._lexical.matched_terms_of(text, [f.id for f in fused])
            return [
                Hit(
                    f.id,
                    f.score,
                    dense=f.dense,
                    lexical=f.lexical,
                    dense_rank=f.dense_rank,
                    lexical_rank=f.lexical_rank,
                    matched_terms=tuple(matched[f.id]),
                )
                for f in fused
            ]

    def ask_with(self, encoder: Encoder) -> None:
        """Encode the searches' texts with ``encoder`` (the items keep theirs): the int8
        copy of the same model, whose queries over fp32 items the retrieval evaluation
        measured (docs/evaluation.md, "Encoder precision").

        Raises:
            DimensionMismatch: its vectors are not of the items' dimension.
        """
        if encoder.dimension != self.encoder.dimension:
            raise DimensionMismatch(self.encoder.dimension, encoder.dimension)
        with self._lock:
            self.query_encoder = encoder
            self._queries.clear()

    def query_vector(self, text: str) -> Vector:
        """The vector of a query text. The last ``query_cache`` distinct ones are kept
        (``COCREATE_QUERY_CACHE``, default 1024; 0 keeps none), so the next page of the same
        search, or the same search by someone else, is not encoded again."""
        if self.query_cache <= 0:
            vector: Vector = self.query_encoder.encode([text])[0]
            return vector
        with self._lock:
            cached = self._queries.get(text)
            if cached is not None:
                self._queries.move_to_end(text)
                return cached
        vector = self.query_encoder.encode([text])[0]
        with self._lock:
            self._queries[text] = vector
            while len(self._queries) > self.query_cache:
                self._queries.popitem(last=False)
        return vector

    def similar(
        self,
        item_id: str,
        k: int = 10,
        *,
        allowed: Collection[str] | None = None,
        exclude: Collection[str] = (),
        mmr_lambda: float | None = None,
        positive: Collection[str] = (),
        negative: Collection[str] = (),
    ) -> list[Hit]:
        """Items like this one (and the positives, unlike the negatives), from stored vectors.

        The item, positives and negatives are never returned. With ``mmr_lambda`` the
        best candidates are re-ranked by :func:`embeddings.hybrid.mmr` for diversity.
        """
        with self._lock:
            query = np.stack([self._vectors.vector(i) for i in [item_id, *positive]]).mean(0)
            if negative:
                disliked = np.stack([self._vectors.vector(i) for i in negative]).mean(0)
                query = query - self.ranking.negative_weight * disliked
            # The examples are left out after ranking (a few extra are asked for), so that
            # ``exclude`` reaches the index as given: the service passes the same frozenset
            # of hidden profiles every time, whose rows the index remembers.
            examples = {item_id, *positive, *negative}
            depth = k if mmr_lambda is None else max(k, self.ranking.depth)
            ranked = self._vectors.search(
                normalise(query), depth + len(examples), allowed=allowed, exclude=exclude
            )
            ranked = [(i, score) for i, score in ranked if i not in examples][:depth]
            rank_of = {i: r for r, (i, _) in enumerate(ranked, start=1)}
            if mmr_lambda is not None and ranked:
                vectors = np.stack([self._vectors.vector(i) for i, _ in ranked])
                ranked = mmr(ranked, vectors, lambda_=mmr_lambda, k=k)
            return [Hit(i, s, dense=s, dense_rank=rank_of[i]) for i, s in ranked]

    def save(self, *, watermark: int | None = None) -> None:
        """Save everything as one crash-safe snapshot in ``folder``, with the watermark."""
        if self.folder is None:
            raise InvalidOption("folder", None, "a folder given to SemanticIndex to save into")
        with self._lock:  # held while the snapshot is written and published
            forgotten = self._forgotten
            with writing_snapshot(self.folder, keep_previous=not forgotten) as staging:
                if watermark is not None:
                    self.watermark = watermark
                if forgotten:
                    self._vectors.scrub()
                    self._lexical.scrub()
                (staging / "vectors").mkdir()
                (staging / "lexical").mkdir()
                self._vectors.write_files(staging / "vectors")
                # Items waiting for their vectors are not saved: the service finds them
                # missing at its next start and adds them again (see api.search).
                waiting = list(self._pending.items())
                self._lexical.remove([i for i, _ in waiting])
                try:
                    self._lexical.write_files(staging / "lexical")
                finally:
                    self._lexical.upsert(waiting)
                write_json(staging / "hashes.json", self._hashes)
                write_json(staging / "semantic.json", self._meta())
                # From now on read what was just written, mapped (shared with every process
                # that loads this snapshot); the files keep their inodes when published.
                self._vectors.remap(staging / "vectors")
                self._lexical = self._lexical.remapped(staging / "lexical", waiting)
            self._forgotten = False
            self._snapshot = current_snapshot(self.folder).name
            self._saved = (self._snapshot, self.watermark)

    @property
    def as_saved(self) -> bool:
        """Whether this index is the snapshot it was loaded from or last saved, as far as
        the change log goes: its watermark has not moved since and nobody was forgotten.
        (``serve`` then does not write the same snapshot again at every start.)"""
        return self._saved == (self._snapshot, self.watermark) and not self._forgotten

    def worth_saving(self, *, moved: int) -> bool:
        """Whether a start should save this index rather than leave the next start to apply
        the same changes again: it was never saved, someone was forgotten since (an
        erasure: the snapshot on disk may hold them), or its watermark moved by more than
        ``moved`` since the snapshot it was loaded from or last saved."""
        if self.as_saved:
            return False
        return self._saved is None or self._forgotten or self.watermark - self._saved[1] > moved

    def saved_elsewhere(self) -> bool:
        """Whether the folder's current snapshot is not the one this index last loaded,
        saved or adopted (another process saved since): cheap, one small file read."""
        if self.folder is None:
            return False
        try:
            name = (self.folder / "CURRENT").read_text(encoding="utf-8").strip()
        except OSError:
            return False
        return bool(name) and name != self._snapshot

    def adopt_saved(self) -> bool:
        """Map the vectors of the snapshot another process saved last, where they are the
        ones held here (same item, same text), in place of this process's own copies;
        whether there was a newer snapshot to adopt. The caller holds off the readers of
        :attr:`vectors` (the service: the change feed's write side)."""
        if self.folder is None or not has_snapshot(self.folder):
            return False
        path = current_snapshot(self.folder)
        if path.name == self._snapshot:
            return False
        self._snapshot = path.name  # tried once, whatever comes of it
        meta = check_format(path, read_json(path / "semantic.json"), _KIND, _FORMAT)
        if meta.get("encoder") != self.encoder.name:
            return False  # another model's vectors
        hashes = read_json(path / "hashes.json")
        saved = VectorIndex.read_files(path / "vectors")
        with self._lock:
            same = {i for i, h in hashes.items() if self._hashes.get(i) == h}
            self._vectors.adopt(saved, same)
            self._rebuilds.start_if_due(self._vectors)
        return True

    @classmethod
    def load(
        cls, encoder: Encoder, folder: str | Path, *, ranking: RankingOptions | None = None
    ) -> SemanticIndex:
        """Load the snapshot saved in ``folder``; it must have been built with this encoder."""
        path = current_snapshot(Path(folder))
        meta = check_format(path, read_json(path / "semantic.json"), _KIND, _FORMAT)
        if meta.get("encoder") != encoder.name:
            raise EncoderMismatch(str(meta.get("encoder")), encoder.name)
        if meta.get("dimension") != encoder.dimension:
            raise DimensionMismatch(encoder.dimension, int(meta.get("dimension", 0)))
        index = cls(encoder, folder=folder, ranking=ranking)
        index._snapshot = path.name
        index.watermark = int(meta["watermark"])
        index._saved = (path.name, index.watermark)
        index._vectors = VectorIndex.read_files(path / "vectors")
        index._lexical = LexicalIndex.read_files(path / "lexical")
        index._hashes = dict(read_json(path / "hashes.json"))
        if not len(index._vectors) == len(index._lexical) == len(index._hashes):
            raise IndexFormatError(path, "the vector and lexical indexes hold different items")
        return index

    @staticmethod
    def saved_encoder(folder: str | Path) -> str | None:
        """The name of the encoder the index saved in ``folder`` was built with; None when
        nothing readable is saved there."""
        if not has_snapshot(Path(folder)):
            return None
        try:
            path = current_snapshot(Path(folder))
            meta = check_format(path, read_json(path / "semantic.json"), _KIND, _FORMAT)
        except (OSError, ValueError, EmbeddingsError):
            return None
        name = meta.get("encoder")
        return name if isinstance(name, str) else None

    @classmethod
    def open(
        cls,
        encoder: Encoder,
        folder: str | Path,
        *,
        vectors: VectorOptions | None = None,
        ranking: RankingOptions | None = None,
    ) -> SemanticIndex:
        """The index saved in ``folder``, or a new empty one that will save there.

        ``vectors`` applies to a new index only; a saved one keeps the options it was
        built with.
        """
        if has_snapshot(Path(folder)):
            return cls.load(encoder, folder, ranking=ranking)
        return cls(encoder, folder=folder, vectors=vectors, ranking=ranking)

    def _hybrid(
        self,
        text: str,
        query: Vector,
        k: int,
        allowed: Collection[str] | None,
        exclude: Collection[str],
        alpha: float | None,
        method: Method | None,
    ) -> list[Fused]:
        depth = max(k, self.ranking.depth)
        dense = self._vectors.search(
            query, depth, allowed=allowed, exclude=exclude, ef_search=self._walk(allowed)
        )
        waiting = self._pending
        neutral = float(np.mean([score for _, score in dense])) if dense else 0.0

        def dense_scores(ids: Iterable[str]) -> dict[str, float]:
            # An item still waiting for its vector counts as average in meaning (not as
            # unrelated), so that its words alone can rank it while the index is partial.
            ids = list(ids)
            found = self._vectors.scores(query, [i for i in ids if i not in waiting])
            found.update((i, neutral) for i in ids if i in waiting)
            return found

        scored = self._lexical.score_all(text)
        fused = fuse(
            dense,
            self._lexical.search(text, depth, allowed=allowed, exclude=exclude, scored=scored),
            method=method or self.ranking.method,
            alpha=self.ranking.alpha if alpha is None else alpha,
            k=k,
            dense_scores=dense_scores,
            lexical_scores=lambda ids: self._lexical.scores(text, ids, scored),
        )
        if not waiting:
            return fused
        return [replace(f, dense=None) if f.id in waiting else f for f in fused]

    def _walk(self, allowed: Collection[str] | None) -> int | None:
        """efSearch of a search's graph walk: the ranking's without a filter, else the
        index's own (a walk among a share of the rows needs a wider look)."""
        return self.ranking.walk if allowed is None else None

    def _meta(self) -> dict[str, object]:
        return {
            "kind": _KIND,
            "format": _FORMAT,
            "encoder": self.encoder.name,
            "dimension": self.encoder.dimension,
            "watermark": self.watermark,
            "items": len(self._hashes),
        }


def _query_cache_size() -> int:
    given = os.environ.get("COCREATE_QUERY_CACHE", "").strip()
    return int(given) if given.isdigit() else 1024
