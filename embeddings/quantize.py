"""An int8 copy of an ONNX export, made on this machine from the fp32 one, never downloaded.

ONNX Runtime's dynamic quantization stores the weights of the matrix products as 8-bit
integers, one scale per output channel, and quantizes the activations on the fly: the
file is a quarter of the size and a batch encodes in about half the time on a CPU
without wide float units. The vectors are close to the fp32 ones but not the same
(cosine about 0.99), so an int8 encoder has its own name (``<model>+int8``): a search
index or a stored vector built with one precision is never mixed with the other's
queries. Whether the loss matters is measured, not assumed: ``scripts/evaluate.py
precision`` (``docs/evaluation.md``).

A quantized file is checked before it is used: the probe texts must come out within
:data:`MIN_COSINE` of the fp32 export's vectors.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import numpy as np

from embeddings.errors import InvalidOption, MissingDependency
from embeddings.onnx import PROBES, OnnxEncoder, UnsupportedModel

log = logging.getLogger(__name__)

Precision = Literal["fp32", "int8"]
PRECISIONS: tuple[Precision, ...] = ("fp32", "int8")
MIN_COSINE = 0.95
"""The least cosine between a probe's int8 and fp32 vectors for the int8 file to be kept."""


def parse_precision(value: str, *, name: str = "COCREATE_ENCODER_PRECISION") -> Precision:
    """``fp32`` or ``int8`` (any case, blanks ignored).

    Raises:
        InvalidOption: anything else, naming ``name`` and the allowed values.
    """
    given = value.strip().lower()
    for precision in PRECISIONS:
        if given == precision:
            return precision
    raise InvalidOption(name, value, "fp32 or int8")


AutoPrecision = Literal["fp32", "int8", "auto"]
VNNI_FLAGS = frozenset({"avx512_vnni", "avx_vnni"})
"""The processor flags of the 8-bit dot products (VNNI) ONNX Runtime's int8 kernels use."""
EncoderPrecision = AutoPrecision
QueryPrecision = AutoPrecision


def parse_auto_precision(value: str, *, name: str) -> AutoPrecision:
    """``fp32``, ``int8`` or ``auto`` (any case, blanks ignored; blank is ``auto``).

    Raises:
        InvalidOption: anything else, naming ``name`` and the allowed values.
    """
    given = value.strip().lower()
    if given in ("", "auto"):
        return "auto"
    if given in PRECISIONS:
        return parse_precision(given, name=name)
    raise InvalidOption(name, value, "auto, fp32 or int8")


def parse_encoder_precision(value: str) -> EncoderPrecision:
    """``COCREATE_ENCODER_PRECISION``: see :func:`parse_auto_precision`."""
    return parse_auto_precision(value, name="COCREATE_ENCODER_PRECISION")


def parse_query_precision(value: str) -> QueryPrecision:
    """``COCREATE_QUERY_PRECISION``: see :func:`parse_auto_precision`."""
    return parse_auto_precision(value, name="COCREATE_QUERY_PRECISION")


def items_precision_here(
    asked: EncoderPrecision, *, held: Precision | None, onnx: bool
) -> Precision:
    """The precision the items of an index are encoded in.

    ``held`` is the precision of the vectors this index already has (its saved snapshot,
    or the store's), None where it has none. ``auto`` is int8 on a processor with VNNI
    when the model runs on ONNX Runtime, unless the vectors held are fp32 (they are kept:
    changing the precision encodes every text again); fp32 elsewhere, whatever is held,
    because on processors without VNNI the int8 encoder lost beyond the retrieval
    evaluation's interval (docs/evaluation.md, "Encoder precision"), and on both with
    VNNI it did not.
    """
    if asked != "auto":
        return asked
    if not onnx or not has_vnni():
        return "fp32"
    return "fp32" if held == "fp32" else "int8"


def has_vnni(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this processor has the 8-bit dot products (AVX-512 VNNI or AVX-VNNI); False
    where its flags cannot be read (not Linux)."""
    try:
        with cpuinfo.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if line.startswith("flags"):
                    return not VNNI_FLAGS.isdisjoint(line.partition(":")[2].split())
    except OSError:
        return False
    return False


def query_precision_here(asked: QueryPrecision, items: Precision, *, onnx: bool) -> Precision:
    """The precision a search's query is encoded in, for the items' ``items`` precision.

    ``auto`` is int8 over fp32 items on a processor with VNNI when the items are encoded
    by ONNX Runtime, else the items' own. The retrieval evaluation measured int8 queries
    over fp32 items within its confidence interval on every set on the processors with
    VNNI it ran on, and beyond it on two sets on one without (docs/evaluation.md,
    "Encoder precision"): their int8 kernels differ.
    """
    if asked != "auto":
        return asked
    if items == "fp32" and onnx and has_vnni():
        return "int8"
    return items


def int8_name(name: str) -> str:
    """The name of the int8 encoder of the model whose fp32 encoder is named ``name``."""
    return f"{name}+int8"


def quantized_path(fp32_path: Path) -> Path:
    """Where the int8 copy of this fp32 export lives: beside it, named after it."""
    return fp32_path.with_name(f"{fp32_path.stem}-int8.onnx")


def quantize(model_path: Path, fp32_path: Path, target: Path) -> float:
    """Write the int8 copy of the export ``fp32_path`` (of ``model_path``) to ``target``.

    The file appears only once written and checked; a failed check leaves nothing
    behind. Returns the least cosine of a probe's vectors between the two.

    Raises:
        MissingDependency: ONNX Runtime's quantization tools (and ``onnx``) are missing.
        UnsupportedModel: the int8 vectors are too far from the fp32 ones.
    """
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise MissingDependency("onnx", purpose="int8 encoding") from exc
    with tempfile.TemporaryDirectory(dir=target.parent) as staging:
        staged = Path(staging) / target.name
        with _quiet_root_logger():
            quantize_dynamic(
                str(fp32_path), str(staged), per_channel=True, weight_type=QuantType.QInt8
            )
        sidecar = json.loads(fp32_path.with_suffix(".json").read_text(encoding="utf-8"))
        sidecar["precision"] = "int8"
        staged.with_suffix(".json").write_text(json.dumps(sidecar), encoding="utf-8")
        reference = OnnxEncoder(model_path, fp32_path, name="probe").encode(PROBES)
        quantized = OnnxEncoder(model_path, staged, name="probe").encode(PROBES)
        least = float(np.min(np.sum(reference * quantized, axis=1)))
        if not least >= MIN_COSINE:
            raise UnsupportedModel(f"the int8 copy's vectors are {least:.3f} close to fp32's")
        # The sidecar first: a reader only trusts an .onnx file whose sidecar exists.
        os.replace(staged.with_suffix(".json"), target.with_suffix(".json"))
        os.replace(staged, target)
    log.info("quantized %s to int8 at %s (least probe cosine %.3f)", fp32_path, target, least)
    return least


class _DropQuantizerAdvice(logging.Filter):
    """The quantizer advises "pre-processing" on the root logger at every call; for a
    dynamic quantization of a transformer it changes nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing before quantization" not in record.getMessage()


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    advice = _DropQuantizerAdvice()
    root.addFilter(advice)
    try:
        yield
    finally:
        root.removeFilter(advice)
