"""The words a text model knows: the whole-word entries of its WordPiece vocabulary.

The relevance floor (:meth:`embeddings.search.SemanticIndex.search`) asks whether a query
is made of words at all. The index's own vocabulary answers for names and domain terms;
the model's vocabulary (about 21,700 whole alphabetic words for all-MiniLM-L6-v2) answers
for ordinary words the indexed texts happen not to use, so that a paraphrase is not
mistaken for random letters in a small collection.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from embeddings.encoder import Encoder


def model_words(encoder: Encoder) -> frozenset[str]:
    """The encoder's whole words (lower case), or none when it has no ``vocab.txt``."""
    folder = getattr(encoder, "path", None)
    if not isinstance(folder, Path):
        return frozenset()
    return _read(folder / "vocab.txt")


@lru_cache(maxsize=8)
def _read(path: Path) -> frozenset[str]:
    if not path.is_file():
        return frozenset()
    entries = path.read_text(encoding="utf-8").split("\n")
    return frozenset(w for w in entries if len(w) > 1 and w.isalpha() and not w.startswith("["))
