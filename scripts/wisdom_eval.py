"""What ``evaluate_related.py`` and ``evaluate_duplicates.py`` share: their options over the
demo, vectors cached per list of texts, and an encoder that knows the drafts' vectors."""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.encoder import Encoder

REPO = Path(__file__).resolve().parents[1]


def add_demo_options(parser: argparse.ArgumentParser, *, people: int, report: str) -> None:
    """``--people`` (default ``people``), ``--seed``, ``--data``, ``--cache`` and ``--json``
    (default ``var/eval/<report>``)."""
    parser.add_argument(
        "--people",
        type=int,
        default=people,
        help="demo people (one entry per 12, at most 3000 entries)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=REPO / "data")
    parser.add_argument("--cache", type=Path, default=REPO / "var" / "eval")
    parser.add_argument("--json", type=Path, default=REPO / "var" / "eval" / report)


def encode_cached(
    encoder: Encoder, texts: list[str], cache: Path, *, prefix: str
) -> np.ndarray[Any, Any]:
    """The vectors of ``texts``, cached under ``cache`` in one file per model and list."""
    key = hashlib.sha256("\x1e".join([encoder.name, *texts]).encode()).hexdigest()[:16]
    path = cache / f"{prefix}-{encoder.name.replace('/', '_')}-{key}.npy"
    if path.exists():
        return np.asarray(np.load(path), dtype=np.float32)
    vectors = np.asarray(encoder.encode(texts, batch_size=64, progress=True), dtype=np.float32)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


class KnownVectors:
    """An encoder that knows the vectors of some texts (the drafts, encoded once and cached
    on disk) and encodes any other text with ``encoder`` (without one, it knows only those)."""

    def __init__(
        self, texts: Sequence[str], vectors: np.ndarray[Any, Any], encoder: Encoder | None = None
    ) -> None:
        self._table = dict(zip(texts, vectors, strict=True))
        self._encoder = encoder

    def encode(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._table]
        if missing and self._encoder is not None:
            fresh = self._encoder.encode(missing)
            self._table.update(zip(missing, np.asarray(fresh, dtype=np.float32), strict=True))
        return np.stack([self._table[t] for t in texts])
