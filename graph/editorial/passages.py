"""The passages of stored nodes that best match a query, found by sentence vectors.

A query (a draft, an entry, a community's issues) and each stored node are cut into
passages (:func:`graph.editorial.text.split_passages`); every passage is encoded and
each of the node's passages is paired with the query passage closest to it in meaning.
The best pairs show a person *where* two texts meet.

Vectors of stored passages are kept in a bounded cache (:class:`PassageVectors`), keyed
by the passage text, so a popular entry is encoded once; a query's passages are encoded
for the request only and never kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from graph.editorial.text import clip, split_passages
from graph.similarity import TextSimilarity
from graph.texts import Passage

Matrix = npt.NDArray[np.float32]
SHOWN_CHARS = 240


@dataclass(frozen=True, slots=True)
class PassageMatch:
    """A passage of a stored node and the query passage closest to it."""

    field: str
    text: str
    query_field: str
    query_text: str
    similarity: float

    def as_json(self) -> list[dict[str, Any]]:
        """The pair as two passages: the stored node's, then the query's."""
        return [
            {"from": "related", "field": self.field, "text": clip(self.text, SHOWN_CHARS),
             "similarity": round(self.similarity, 4)},
            {"from": "query", "field": self.query_field,
             "text": clip(self.query_text, SHOWN_CHARS)},
        ]  # fmt: skip


class PassageVectors:
    """Vectors of stored passages, the most recently used ``size`` of them kept."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._cache: OrderedDict[str, Matrix] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._cache)

    def encode(self, similarity: TextSimilarity, texts: Sequence[str]) -> Matrix:
        """One row per text, encoding only the texts not held yet."""
        with self._lock:
            known = {t: self._cache[t] for t in texts if t in self._cache}
            for text in known:
                self._cache.move_to_end(text)
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            fresh = similarity.encode(missing)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    known[text] = vector
                    self._cache[text] = vector
                while len(self._cache) > self.size:
                    self._cache.popitem(last=False)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([known[t] for t in texts]).astype(np.float32)


def match_passages(
    similarity: TextSimilarity,
    query: Sequence[Passage],
    nodes: Mapping[str, Sequence[Passage]],
    *,
    cache: PassageVectors | None = None,
    per_node: int = 2,
) -> dict[str, list[PassageMatch]]:
    """For each node, its ``per_node`` passages closest to a query passage, best first.

    ``query`` and ``nodes`` hold whole fields; they are cut into passages here. Nodes
    without any passage are left out of the answer.
    """
    asked = split_passages(query)
    theirs = {node_id: split_passages(nodes[node_id]) for node_id in sorted(nodes)}
    stored = [text for parts in theirs.values() for _, text in parts]
    if not asked or not stored:
        return {}
    query_vectors = similarity.encode([text for _, text in asked])
    vectors = cache if cache is not None else PassageVectors(len(stored))
    stored_vectors = vectors.encode(similarity, stored)
    found: dict[str, list[PassageMatch]] = {}
    row = 0
    for node_id, parts in theirs.items():
        block = stored_vectors[row : row + len(parts)] @ query_vectors.T
        row += len(parts)
        if not parts:
            continue
        best_query = block.argmax(axis=1)
        best = block.max(axis=1)
        order = sorted(range(len(parts)), key=lambda i: (-float(best[i]), i))
        matches: list[PassageMatch] = []
        seen: set[str] = set()
        for i in order:
            field, text = parts[i]
            if text in seen:
                continue
            seen.add(text)
            q_field, q_text = asked[int(best_query[i])]
            matches.append(PassageMatch(field, text, q_field, q_text, float(best[i])))
            if len(matches) == per_node:
                break
        found[node_id] = matches
    return found


def coverage(
    similarity: TextSimilarity,
    query: Sequence[str],
    nodes: Mapping[str, Sequence[str]],
    *,
    cache: PassageVectors | None = None,
) -> dict[str, float]:
    """How well each node's phrases cover the query's: the mean over the query's phrases
    of the best cosine with one of the node's (0 for a node without phrases)."""
    if not query:
        return dict.fromkeys(nodes, 0.0)
    asked = similarity.encode(list(query))
    stored = [phrase for node_id in sorted(nodes) for phrase in nodes[node_id]]
    vectors = cache if cache is not None else PassageVectors(len(stored))
    matrix = vectors.encode(similarity, stored)
    found: dict[str, float] = {}
    row = 0
    for node_id in sorted(nodes):
        count = len(nodes[node_id])
        if count == 0:
            found[node_id] = 0.0
            continue
        block = asked @ matrix[row : row + count].T
        row += count
        found[node_id] = float(np.clip(block.max(axis=1), 0.0, 1.0).mean())
    return found
