"""A content-addressed cache of text vectors on disk, shared by every process that uses it.

A text's vector depends only on the text and the encoder that computed it, so the same
text need not be encoded twice: the cache keeps each vector under the encoder's identity
(model files, backend, precision, dimension: :func:`encoder_identity`) and the SHA-256
digest of the exact text (:func:`text_digest`). It is one SQLite file in WAL mode, which
any number of processes read and write at once (writers take turns under a busy
timeout); every read and write is best effort, so a busy or broken cache only means
encoding again.

Vectors of people's texts are personal data, and a digest confirms a guessed text: each
such vector is recorded with its owner (:meth:`VectorCache.put`), and
:meth:`VectorCache.forget` removes every vector an owner ever had, whatever the text was
then (an edited bio's earlier text too), and truncates the WAL, with ``secure_delete``
zeroing the freed pages as the store does. A write checks, under the cache's write lock,
that its owners still exist (``alive``), so a vector read just before an erasure cannot
come back after it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.encoder import HashingEncoder, SentenceTransformerEncoder
from embeddings.onnx import OnnxEncoder, export_path
from embeddings.ranking import Vector

log = logging.getLogger(__name__)

FILE = "vectors.sqlite3"
_DTYPE = np.dtype("<f4")
_CHUNK = 500
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS vectors (digest BLOB NOT NULL, model TEXT NOT NULL, "
    "vector BLOB NOT NULL, PRIMARY KEY (digest, model)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS owners (owner TEXT NOT NULL, digest BLOB NOT NULL, "
    "PRIMARY KEY (owner, digest)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS owners_digest ON owners (digest)",
)

Row = tuple[str | None, bytes, Vector]
"""(owner or None, text digest, vector) of one text to keep."""
Alive = Callable[[list[str]], set[str]]
"""Which of these owners still exist (see :meth:`VectorCache.put`)."""


def text_digest(text: str) -> bytes:
    """The key of a text: the SHA-256 of its exact UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def encoder_identity(encoder: object) -> str | None:
    """What makes this encoder's vectors what they are, or None for an encoder the cache
    does not know (a test double may answer differently from one instance to the next).

    The ONNX export's file name holds a digest of the model's configuration and weights'
    sizes, and the int8 copy's name differs from the fp32 one; the torch backend's
    vectors differ from ONNX's in the fifth decimal, so it has keys of its own.
    """
    if isinstance(encoder, OnnxEncoder):
        return f"onnx/{encoder.onnx_path.name}/{encoder.precision}/{encoder.dimension}"
    if isinstance(encoder, SentenceTransformerEncoder):
        files = export_path(encoder.path, Path(".")).stem
        return f"torch/{files}/fp32/{encoder.dimension}"
    if type(encoder) is HashingEncoder:
        return f"hashing/{encoder.name}/{encoder.dimension}"
    return None


class VectorCache:
    """The cache in ``folder`` (created if need be); see the module's doc."""

    def __init__(self, folder: str | Path, *, timeout: float = 30.0) -> None:
        self.folder = Path(folder)
        self.path = self.folder / FILE
        self.timeout = timeout
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self.hits = 0
        self.misses = 0

    def _connection(self) -> sqlite3.Connection:
        """This process's connection (a worker forked after it was opened opens its own)."""
        if self._conn is None or self._pid != os.getpid():
            self.folder.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA secure_delete=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                conn.execute(statement)
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def get(self, model: str, digests: Iterable[bytes]) -> dict[bytes, Vector]:
        """The vectors kept under ``model`` for these text digests (those it has)."""
        wanted = list(dict.fromkeys(digests))
        found: dict[bytes, Vector] = {}
        if not wanted:
            return found
        try:
            with self._lock:
                conn = self._connection()
                for start in range(0, len(wanted), _CHUNK):
                    chunk = wanted[start : start + _CHUNK]
                    marks = ",".join("?" * len(chunk))
                    query = (
                        "SELECT digest, vector FROM vectors"
                        f" WHERE model = ? AND digest IN ({marks})"
                    )
                    rows = conn.execute(query, [model, *chunk])
                    for digest, blob in rows:
                        found[bytes(digest)] = np.frombuffer(blob, dtype=_DTYPE).astype(np.float32)
        except sqlite3.Error as error:
            log.warning("the vector cache could not be read (%s): encoding instead", error)
            return {}
        self.hits += len(found)
        self.misses += len(wanted) - len(found)
        return found

    def put(self, model: str, rows: Sequence[Row], *, alive: Alive | None = None) -> int:
        """Keep these vectors under ``model``; how many were new.

        ``alive`` is asked, under the cache's write lock, which of the rows' owners still
        exist: the vectors of those that do not (erased meanwhile) are forgotten at once.
        """
        if not rows:
            return 0
        owners = sorted({owner for owner, _, _ in rows if owner is not None})
        try:
            with self._lock:
                conn = self._connection()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    before = conn.total_changes
                    conn.executemany(
                        "INSERT OR IGNORE INTO vectors (digest, model, vector) VALUES (?, ?, ?)",
                        [(d, model, np.asarray(v, dtype=_DTYPE).tobytes()) for _, d, v in rows],
                    )
                    added = conn.total_changes - before
                    conn.executemany(
                        "INSERT OR IGNORE INTO owners (owner, digest) VALUES (?, ?)",
                        [(owner, d) for owner, d, _ in rows if owner is not None],
                    )
                    gone = set(owners) - alive(owners) if alive is not None and owners else set()
                    for owner in sorted(gone):
                        _forget(conn, owner)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
        except sqlite3.Error as error:
            log.warning("could not keep %d vectors in the vector cache: %s", len(rows), error)
            return 0
        if gone:
            self.truncate_wal()
        return added

    def forget(self, owner: str, *, truncate: bool = True) -> int:
        """Remove every vector ``owner`` had (under any model); how many. ``truncate``:
        truncate the WAL after (:meth:`truncate_wal`; which may wait for readers).

        Raises:
            sqlite3.Error: the cache could not be written (an erasure must then fail).
        """
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                removed = _forget(conn, owner)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        if removed and truncate:
            self.truncate_wal()
        return removed

    def truncate_wal(self) -> None:
        """Leave the removed vectors in no older page image of the WAL (a few tries: a
        reader in another process keeps the WAL until it is done)."""
        deadline = time.monotonic() + 5.0
        with self._lock:
            conn = self._connection()
            while True:
                busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if not busy:
                    return
                if time.monotonic() >= deadline:
                    log.warning("the vector cache's WAL could not be truncated after an erasure")
                    return
                time.sleep(0.02)

    def count(self) -> int:
        """How many vectors the cache holds (every model)."""
        with self._lock:
            row: Any = self._connection().execute("SELECT count(*) FROM vectors").fetchone()
        return int(row[0])


def _forget(conn: sqlite3.Connection, owner: str) -> int:
    digests = [row[0] for row in conn.execute("SELECT digest FROM owners WHERE owner = ?", [owner])]
    removed = 0
    for start in range(0, len(digests), _CHUNK):
        chunk = digests[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        removed += conn.execute(f"DELETE FROM vectors WHERE digest IN ({marks})", chunk).rowcount
        conn.execute(f"DELETE FROM owners WHERE digest IN ({marks})", chunk)
    return removed
