"""The ONNX Runtime backend: the same vectors as sentence-transformers, or no ONNX at all."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from embeddings.encoder import (
    HashingEncoder,
    SentenceTransformerEncoder,
    default_model_path,
    load_encoder,
)
from embeddings.errors import ModelNotAvailable
from embeddings.onnx import OnnxEncoder, UnsupportedModel, export_path, read_pipeline

TEXTS = [
    "youth mentoring against gang violence",
    "Turning vacant lots into community vegetable gardens, with schools and elders " * 30,
    "",
    "Jugendförderung gegen Gewalt; 教育; تعليم",
]


@pytest.fixture(scope="module")
def model_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the shipped model folder, to change its configuration safely."""
    folder = tmp_path_factory.mktemp("model") / "minilm"
    shutil.copytree(default_model_path(), folder)
    return folder


def test_the_default_backend_is_onnx_with_the_torch_vectors() -> None:
    fast = load_encoder()
    slow = load_encoder(backend="torch")
    assert isinstance(fast, OnnxEncoder) and isinstance(slow, SentenceTransformerEncoder)
    assert fast.name == slow.name == "all-MiniLM-L6-v2" and fast.dimension == 384
    fast_vectors, slow_vectors = fast.encode(TEXTS), slow.encode(TEXTS)
    assert np.abs(fast_vectors - slow_vectors).max() < 1e-4
    # One at a time (no padding) gives what a batch gives.
    single = np.stack([fast.encode([text])[0] for text in TEXTS])
    assert np.abs(single - fast_vectors).max() < 1e-5


def _probe(code: str) -> str:
    """What ``code`` prints, run by a fresh interpreter (which must end well)."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_later_process_encodes_without_importing_torch() -> None:
    load_encoder()  # makes sure the export exists
    probe = (
        "import sys; from embeddings.encoder import load_encoder; "
        "v = load_encoder().encode(['clean water']); "
        "print(v.shape, 'torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    assert _probe(probe).split() == ["(1,", "384)", "False", "False"]


def test_a_fresh_export_is_checked_and_kept(tmp_path: Path) -> None:
    """Exporting into an empty cache works under the test suite's warnings-as-errors, and
    the export is then used as it is."""
    model = tmp_path / "model"
    shutil.copytree(default_model_path(), model)  # a path no earlier test has loaded
    encoder = load_encoder(model, cache_dir=tmp_path / "cache")
    assert isinstance(encoder, OnnxEncoder) and encoder.onnx_path.parent == tmp_path / "cache"
    files = sorted((tmp_path / "cache").iterdir(), key=lambda p: p.suffix)
    assert [p.suffix for p in files] == [".json", ".onnx", ".weights"]
    # The weights are apart: the model file is its graph alone.
    assert files[1].stat().st_size < files[2].stat().st_size / 100
    reference = load_encoder(backend="torch").encode(TEXTS)
    assert np.abs(encoder.encode(TEXTS) - reference).max() < 1e-4


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc/self/maps")
def test_the_weights_are_mapped_from_their_file_not_copied() -> None:
    """A process that encodes maps the export's weights file: pages every worker shares
    (what a session then holds of its own is measured in docs/benchmarks.md)."""
    probe = (
        "import sys; from embeddings.encoder import load_encoder; "
        "e = load_encoder(); e.encode(['clean water']); "
        "print(e.onnx_path); sys.stdout.write(open('/proc/self/maps').read())"
    )
    onnx_path, maps = _probe(probe).split("\n", 1)
    weights = Path(onnx_path).with_suffix(".weights")
    assert weights.stat().st_size > 80 * 2**20  # all-MiniLM-L6-v2's 22.7 million floats
    assert str(weights) in maps


def test_the_export_is_named_by_the_model_configuration(model_copy: Path, tmp_path: Path) -> None:
    before = export_path(model_copy, tmp_path)
    assert export_path(model_copy, tmp_path) == before
    config = model_copy / "sentence_bert_config.json"
    original = config.read_text(encoding="utf-8")
    try:
        config.write_text(json.dumps({"max_seq_length": 128, "do_lower_case": False}))
        assert export_path(model_copy, tmp_path) != before
    finally:
        config.write_text(original, encoding="utf-8")


def test_an_unsupported_pipeline_keeps_torch(model_copy: Path, tmp_path: Path) -> None:
    pooling = model_copy / "1_Pooling" / "config.json"
    original = pooling.read_text(encoding="utf-8")
    settings = json.loads(original)
    settings.update(pooling_mode_mean_tokens=False, pooling_mode_max_tokens=True)
    try:
        pooling.write_text(json.dumps(settings), encoding="utf-8")
        with pytest.raises(UnsupportedModel, match="pooling"):
            read_pipeline(model_copy)
        chosen = load_encoder(model_copy, cache_dir=tmp_path)
        assert isinstance(chosen, SentenceTransformerEncoder)
        with pytest.raises(ModelNotAvailable, match="ONNX"):
            load_encoder(model_copy, backend="onnx", cache_dir=tmp_path)
        assert list(tmp_path.iterdir()) == []  # nothing was exported
    finally:
        pooling.write_text(original, encoding="utf-8")


def test_an_unknown_backend_is_named() -> None:
    with pytest.raises(ModelNotAvailable, match="'tensorflow'"):
        load_encoder(backend="tensorflow")  # type: ignore[arg-type]


def test_calls_hold_a_budget_of_padded_tokens_and_every_text_once() -> None:
    from embeddings.onnx import _calls

    lengths = [3, 5, 5, 9, 40, 41, 200, 7]
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    calls = list(_calls(order, lengths, budget=80))
    assert [row for call in calls for row in call] == order  # each once, in order
    for call in calls:
        padded = len(call) * max(lengths[row] for row in call)
        assert padded <= 80 or len(call) == 1  # a text over the budget goes alone
    assert calls[-1] == [6]  # 200 tokens
    # Short texts share a call; long ones do not.
    assert len(calls[0]) == 5 and [5] in calls and [4] in calls


def test_a_call_of_many_short_texts_and_few_long_ones_gives_the_same_vectors() -> None:
    from embeddings.onnx import ROW_TOKENS

    encoder = load_encoder()
    assert isinstance(encoder, OnnxEncoder)
    texts = [f"garden {n}" for n in range(40)] + ["water for towns " * 60] * 3
    together = encoder.encode(texts, batch_size=2)  # 256 tokens a call: the long ones alone
    alone = np.stack([encoder.encode([text])[0] for text in texts])
    assert len(texts[-1].split()) > ROW_TOKENS  # two long texts never share a call
    assert np.abs(together - alone).max() < 1e-5


def test_the_backlog_encoder_has_every_core_and_the_same_vectors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from embeddings.onnx import with_every_core

    encoder = load_encoder()
    assert isinstance(encoder, OnnxEncoder)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1, 2, 3})
    one = OnnxEncoder(encoder.path, encoder.onnx_path, name=encoder.name, threads=1)
    every = with_every_core(one)
    assert isinstance(every, OnnxEncoder) and every is not one
    assert (every.sessions, every.threads) == (4, 1)  # a session of one thread per core
    texts = [*TEXTS, *(f"{text} in town {n}" * (n % 7 + 1) for n, text in enumerate(TEXTS * 9))]
    encoded = every.encode(texts, batch_size=2)  # many calls: each session takes some
    assert 1 + len(every._others) == 4  # every session was opened (each lane opens its own)
    assert np.abs(encoded - one.encode(texts, batch_size=2)).max() < 1e-6
    assert with_every_core(every) is every  # already on every core
    hashing = HashingEncoder()  # not ONNX: returned as it is
    assert with_every_core(hashing) is hashing


def two_lanes() -> tuple[OnnxEncoder, OnnxEncoder, object]:
    """The shipped model, and it in two sessions side by side, both opened (before any
    call is timed), with the first session: the one a test slows or breaks."""
    encoder = load_encoder()
    assert isinstance(encoder, OnnxEncoder)
    two = OnnxEncoder(encoder.path, encoder.onnx_path, name=encoder.name, threads=1, sessions=2)
    two._opened(1)
    return encoder, two, two._opened(0)


def test_a_slowed_session_leaves_its_share_of_the_calls_to_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    encoder, two, first = two_lanes()
    calls: list[bool] = []  # whether each call ran on the first session
    run = OnnxEncoder._run

    def slowed(self: OnnxEncoder, encodings: list[object], session: object = None) -> object:
        calls.append(session is first)
        if session is first:  # as if another process took its core
            time.sleep(0.2)
        return run(self, encodings, session)

    monkeypatch.setattr(OnnxEncoder, "_run", slowed)
    texts = [f"{TEXTS[0]} in town {n}. " * 8 for n in range(40)]
    vectors = two.encode(texts, batch_size=1)  # a call a text (each over half the budget)
    assert len(calls) == len(texts)
    # Dealt out in turn, the first session would have had half of them (20).
    assert 0 < calls.count(True) < 15
    monkeypatch.setattr(OnnxEncoder, "_run", run)
    assert np.abs(vectors - encoder.encode(texts)).max() < 1e-5


def test_a_lane_that_fails_stops_the_others_and_the_error_is_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, two, first = two_lanes()
    calls: list[bool] = []
    run = OnnxEncoder._run

    def failing(self: OnnxEncoder, encodings: list[object], session: object = None) -> object:
        calls.append(session is first)
        if session is first:  # while the other lane runs
            time.sleep(0.05)
            raise RuntimeError("the first session broke")
        time.sleep(0.01)
        return run(self, encodings, session)

    monkeypatch.setattr(OnnxEncoder, "_run", failing)
    texts = [f"{TEXTS[0]} in town {n}. " * 8 for n in range(40)]
    with pytest.raises(RuntimeError, match="the first session broke"):
        two.encode(texts, batch_size=1)
    assert calls.count(True) == 1 and len(calls) < len(texts)  # the rest were not encoded


FORKED = """
import os
import psutil
from embeddings.encoder import load_encoder
from embeddings.onnx import OnnxEncoder
base = load_encoder()
me = psutil.Process()
before = me.num_threads()
encoder = OnnxEncoder(base.path, base.onnx_path, name=base.name, threads=3)
loaded = me.num_threads()
child = os.fork()
if child == 0:
    os._exit(0 if encoder.encode(["clean water"]).shape == (1, 384) else 3)
_, status = os.waitpid(child, 0)
encoder.encode(["clean water"])
print(loaded - before, os.waitstatus_to_exitcode(status), me.num_threads() - before)
"""


def test_an_encoder_starts_its_threads_on_first_use_in_the_process_that_encodes() -> None:
    """ONNX Runtime's session, with its threads, is made on first use: loading the
    encoder starts none, so that a process forked after the load (``serve``'s workers,
    api/preload.py) has every thread its encoder uses; the child and the parent encode."""
    load_encoder()  # makes sure the export exists
    done = subprocess.run([sys.executable, "-c", FORKED], capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    started_by_load, child, started_by_use = map(int, done.stdout.split())
    assert (started_by_load, child) == (0, 0)
    assert started_by_use >= 2  # the session's intra-op threads, besides the caller
