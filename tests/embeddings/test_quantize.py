"""The int8 encoder: made here from the fp32 export, named apart, close to fp32 in meaning."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from embeddings import quantize
from embeddings.encoder import default_model_path, load_encoder
from embeddings.errors import InvalidOption, ModelNotAvailable
from embeddings.onnx import OnnxEncoder, export_path
from embeddings.quantize import (
    has_vnni,
    items_precision_here,
    parse_precision,
    quantized_path,
    query_precision_here,
)

TEXTS = [
    "youth mentoring against gang violence",
    "Clean water for villages, with solar pumps and local maintenance training.",
    "a community garden on an empty lot, with schools and elders",
    "Jugendförderung gegen Gewalt; 教育; تعليم",
]


@pytest.fixture(scope="module")
def fp32_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private cache folder holding a copy of the fp32 export (and no int8 file)."""
    made = load_encoder(precision="fp32")
    assert isinstance(made, OnnxEncoder)
    folder = tmp_path_factory.mktemp("onnx")
    for suffix in (".onnx", ".json", ".weights"):
        shutil.copy(made.onnx_path.with_suffix(suffix), folder)
    return folder


def test_int8_is_quantized_here_named_apart_and_close_to_fp32(fp32_cache: Path) -> None:
    fp32 = load_encoder(precision="fp32", cache_dir=fp32_cache)
    int8 = load_encoder(precision="int8", cache_dir=fp32_cache)
    assert isinstance(fp32, OnnxEncoder) and isinstance(int8, OnnxEncoder)
    assert (fp32.name, int8.name) == ("all-MiniLM-L6-v2", "all-MiniLM-L6-v2+int8")
    assert int8.onnx_path == quantized_path(fp32.onnx_path)
    assert int8.onnx_path.parent == fp32_cache  # made from the local file, beside it
    assert int8.onnx_path.stat().st_size < fp32.onnx_path.with_suffix(".weights").stat().st_size / 3
    sidecar = json.loads(int8.onnx_path.with_suffix(".json").read_text(encoding="utf-8"))
    assert sidecar["precision"] == "int8" and int8.precision == "int8"
    a, b = fp32.encode(TEXTS), int8.encode(TEXTS)
    assert b.shape == a.shape and b.dtype == np.float32
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert np.sum(a * b, axis=1).min() > 0.95  # not the same vectors, the same meaning
    query = int8.encode(["stopping gang shootings among teenagers"])[0]
    assert int(np.argmax(b @ query)) == 0
    assert load_encoder(precision="int8", cache_dir=fp32_cache) is int8  # once per process


def test_a_quantization_that_drifts_is_not_kept(
    tmp_path: Path, fp32_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed check leaves no file; ``auto`` encodes in fp32, ``onnx`` says why."""
    fp32 = export_path(default_model_path().resolve(), fp32_cache)
    for suffix in (".onnx", ".json", ".weights"):
        shutil.copy(fp32.with_suffix(suffix), tmp_path)
    monkeypatch.setattr(quantize, "MIN_COSINE", 1.01)  # no int8 vector is that close
    with pytest.raises(ModelNotAvailable, match="int8 quantization failed"):
        load_encoder(backend="onnx", precision="int8", cache_dir=tmp_path)
    fallback = load_encoder(backend="auto", precision="int8", cache_dir=tmp_path)
    assert fallback.name == "all-MiniLM-L6-v2"  # its vectors are fp32's: named so
    assert not quantized_path(tmp_path / fp32.name).exists()
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".json", ".onnx", ".weights"]


@pytest.mark.parametrize(("given", "expected"), [("fp32", "fp32"), (" INT8 ", "int8")])
def test_a_precision_is_read_loosely(given: str, expected: str) -> None:
    assert parse_precision(given) == expected


@pytest.mark.parametrize("given", ["int4", "fp16", "8", ""])
def test_an_unknown_precision_names_the_setting_and_the_choices(given: str) -> None:
    with pytest.raises(InvalidOption) as caught:
        parse_precision(given)
    assert caught.value.name == "COCREATE_ENCODER_PRECISION"
    assert "fp32 or int8" in str(caught.value)


def test_the_environment_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COCREATE_ENCODER_PRECISION", "int4")
    with pytest.raises(InvalidOption, match="COCREATE_ENCODER_PRECISION='int4'"):
        load_encoder()
    monkeypatch.setenv("COCREATE_ENCODER_PRECISION", "int8")
    assert load_encoder().name == "all-MiniLM-L6-v2+int8"
    with pytest.raises(InvalidOption, match="torch"):
        load_encoder(backend="torch")  # int8 asked of a backend without it


CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
flags\t\t: fpu vme sse2 avx2 {extra} fma
bugs\t\t: sysret_ss_attrs
"""


@pytest.mark.parametrize(
    ("extra", "expected"),
    [("avx512f avx512_vnni avx512bw", True), ("avx_vnni", True), ("avx512f avx512bw", False),
     ("avx512_vnni_x", False)],
)  # fmt: skip
def test_vnni_is_read_from_the_processors_flags(tmp_path: Path, extra: str, expected: bool) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(CPUINFO.format(extra=extra), encoding="utf-8")
    assert has_vnni(cpuinfo) is expected
    assert has_vnni(tmp_path / "absent") is False  # not Linux: never int8 by itself


def test_auto_queries_are_int8_over_fp32_items_on_onnx_with_vnni(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for vnni in (True, False):
        monkeypatch.setattr(quantize, "has_vnni", lambda vnni=vnni: vnni)
        expected = "int8" if vnni else "fp32"
        assert query_precision_here("auto", "fp32", onnx=True) == expected
        assert query_precision_here("auto", "fp32", onnx=False) == "fp32"  # torch: fp32 only
        assert query_precision_here("auto", "int8", onnx=True) == "int8"  # the items'
        assert query_precision_here("fp32", "int8", onnx=True) == "fp32"  # as asked
        assert query_precision_here("int8", "fp32", onnx=True) == "int8"


def test_auto_items_are_int8_on_onnx_with_vnni_unless_fp32_vectors_are_held(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for vnni in (True, False):
        monkeypatch.setattr(quantize, "has_vnni", lambda vnni=vnni: vnni)
        new = "int8" if vnni else "fp32"
        assert items_precision_here("auto", held=None, onnx=True) == new
        assert items_precision_here("auto", held="int8", onnx=True) == new  # no VNNI: again
        assert items_precision_here("auto", held="fp32", onnx=True) == "fp32"  # kept
        assert items_precision_here("auto", held=None, onnx=False) == "fp32"  # torch
        assert items_precision_here("int8", held="fp32", onnx=True) == "int8"  # as asked
        assert items_precision_here("fp32", held="int8", onnx=True) == "fp32"


def test_auto_in_the_environment_is_int8_where_the_processor_has_vnni(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An encoder loaded alone (a script) with COCREATE_ENCODER_PRECISION=auto: int8 with
    VNNI, fp32 without; never the torch backend's int8."""
    monkeypatch.setenv("COCREATE_ENCODER_PRECISION", " auto")
    for vnni, name in ((True, "all-MiniLM-L6-v2+int8"), (False, "all-MiniLM-L6-v2")):
        monkeypatch.setattr(quantize, "has_vnni", lambda vnni=vnni: vnni)
        assert load_encoder().name == name
    monkeypatch.setattr(quantize, "has_vnni", lambda: True)
    assert load_encoder(backend="onnx").name == "all-MiniLM-L6-v2+int8"
