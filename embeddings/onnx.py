"""Run a sentence-transformers model with ONNX Runtime: the same vectors, a fraction of the time.

A sentence-transformers model made of a transformer, a mean or CLS pooling and an
optional normalisation (all-MiniLM-L6-v2 among them) is exported once, from its local
weights, to an ONNX file in a cache folder. From then on a process needs neither torch
nor sentence-transformers to encode: the tokenizer comes from the model's
``tokenizer.json`` and inference from ONNX Runtime, so loading takes well under a second
and one short query encodes in about 4 ms on two cores instead of 13 ms.

An export is checked before it is used: a few probe texts must encode to the vectors
the torch model gives (largest difference below :data:`TOLERANCE`). The file name holds
a digest of the model's configuration and weights, so a changed model is exported
anew. Any other pipeline (max pooling, dense layers, ...) is not exported and
:func:`embeddings.encoder.load_encoder` keeps the torch backend for it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from embeddings.errors import MissingDependency
from embeddings.ranking import Matrix, normalise_rows
from embeddings.threads import usable_cores

BATCH_SIZE = 4
"""Texts per call of the model, for texts of :data:`ROW_TOKENS` tokens: a call holds at
most ``batch_size * ROW_TOKENS`` tokens, padding included, so shorter texts go more to a
call and longer ones fewer. Small calls of texts sorted by length were the fastest on 2
cores: calls of 4 encoded 1.2 to 1.3 times the texts a second of calls of 16, in int8 and
fp32 (docs/benchmarks.md, "Smaller calls of the encoder"); bigger ones spill out of the
CPU's caches."""
ROW_TOKENS = 128

log = logging.getLogger(__name__)

TOLERANCE = 1e-4
FORMAT = 2  # bump when the export or its sidecar changes shape
WEIGHTS_SUFFIX = ".weights"
"""The export's weights live in a file of their own beside it (see :func:`_weights_apart`)."""
PAGE = 4096
PROBES = (
    "youth mentoring against gang violence",
    "Clean water for villages, with solar pumps and local maintenance training.",
    "",
    "Éducation pour tous — 教育 — تعليم",
)
_POOLING = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}


class UnsupportedModel(Exception):
    """This model's pipeline cannot run on ONNX Runtime here (the reason is the message)."""


@dataclass(frozen=True, slots=True)
class Pipeline:
    """What inference needs to know about a sentence-transformers model folder."""

    pooling: Literal["mean", "cls"]
    max_seq_length: int
    dimension: int


def read_pipeline(path: Path) -> Pipeline:
    """The pipeline of this model folder, if it is one ONNX inference reproduces.

    Raises:
        UnsupportedModel: the modules are not transformer, pooling (mean or CLS) and
            an optional normalisation, or a configuration file is missing.
    """
    try:
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
        config = json.loads((path / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UnsupportedModel(f"no readable sentence-transformers configuration: {exc}") from exc
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise UnsupportedModel(f"modules {kinds} are not transformer, pooling[, normalize]")
    pooling_folder = path / modules[1].get("path", "1_Pooling")
    try:
        pooling = json.loads((pooling_folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UnsupportedModel(f"no readable pooling configuration: {exc}") from exc
    modes = [mode for key, mode in _POOLING.items() if pooling.get(key)]
    others = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
    if len(modes) != 1 or len(others) != 1:
        raise UnsupportedModel(f"pooling {others} is not exactly one of mean or CLS")
    if not (path / "tokenizer.json").is_file():
        raise UnsupportedModel("the model has no tokenizer.json")
    return Pipeline(
        pooling="mean" if modes[0] == "mean" else "cls",
        max_seq_length=int(config.get("max_seq_length") or 512),
        dimension=int(pooling["word_embedding_dimension"]),
    )


def export_path(model_path: Path, cache_dir: Path) -> Path:
    """Where the export of this model lives: named by a digest of its files' identity."""
    digest = hashlib.sha1(f"format {FORMAT}\n".encode(), usedforsecurity=False)
    for name in sorted(p.name for p in model_path.iterdir() if p.is_file()):
        stat = (model_path / name).stat()
        digest.update(f"{name} {stat.st_size}\n".encode())
        if name.endswith(".json"):
            digest.update((model_path / name).read_bytes())
    return cache_dir / f"{model_path.name}-{digest.hexdigest()[:16]}.onnx"


class OnnxEncoder:
    """A sentence-transformers model run by ONNX Runtime from an export (see the module doc)."""

    def __init__(
        self,
        model_path: Path,
        onnx_path: Path,
        *,
        name: str,
        threads: int | None = None,
        bucketing: bool = True,
        sessions: int = 1,
    ) -> None:
        """``threads``: ONNX Runtime's intra-op threads (default :func:`_threads`);
        ``bucketing``: sort a call's texts by length so that a batch holds similar lengths
        (off only to measure what it saves); ``sessions``: how many sessions of ``threads``
        threads each encode a call's batches side by side (:func:`with_every_core`)."""
        try:
            import onnxruntime  # noqa: F401 (here: a missing package is said at load)
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise MissingDependency("onnxruntime", purpose="fast encoding") from exc
        self.path = model_path
        self.onnx_path = onnx_path
        self.name = name
        self.pipeline = read_pipeline(model_path)
        self.dimension = self.pipeline.dimension
        self.bucketing = bucketing
        sidecar = json.loads(onnx_path.with_suffix(".json").read_text(encoding="utf-8"))
        self._inputs: list[str] = list(sidecar["inputs"])
        self.precision: str = str(sidecar.get("precision", "fp32"))
        self.threads = threads if threads is not None else _threads()
        self._tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=self.pipeline.max_seq_length)
        self._tokenizer.no_padding()
        self.sessions = max(1, sessions)
        self._session: Any = None
        self._others: list[Any] = []
        self._opening = threading.Lock()

    def _opened(self, lane: int = 0) -> Any:
        """ONNX Runtime's session (``lane``: the side-by-side one), made on first use: its
        threads belong to the process that encodes, so a process that loaded the index
        (``serve``, before it forks its workers: api/preload.py) never starts threads its
        children would lack."""
        if lane == 0 and self._session is not None:
            return self._session
        with self._opening:
            if self._session is None:
                self._session = self._new_session()
            while len(self._others) < lane:
                self._others.append(self._new_session())
        return self._session if lane == 0 else self._others[lane - 1]

    def _new_session(self) -> Any:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle threads would spin for a while after each call, taking the CPU from the
        # server's other work on a small machine.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(
            str(self.onnx_path), options, providers=["CPUExecutionProvider"]
        )

    def encode(
        self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE, progress: bool = False
    ) -> Matrix:
        """Vectors of shape (len(texts), dimension), rows L2-normalised."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        # Similar lengths share a batch, so little time goes on padding.
        order = list(range(len(texts)))
        if self.bucketing:
            order.sort(key=lambda row: len(encodings[row].ids))
        bar = _bar(len(texts)) if progress else None
        lengths = [len(encoding.ids) for encoding in encodings]
        calls = list(_calls(order, lengths, batch_size * ROW_TOKENS))
        lanes = min(self.sessions, len(calls))
        waiting = iter(calls)
        taking = threading.Lock()
        failed = threading.Event()  # a lane failed: the others stop at their next call

        def run(lane: int) -> None:
            # Each lane takes the next call once done with its own, so a lane slowed by
            # other work on its core leaves the rest to the others instead of to the end.
            try:
                session = self._opened(lane)
                while not failed.is_set():
                    with taking:
                        rows = next(waiting, None)
                    if rows is None:
                        return
                    out[rows] = self._run([encodings[row] for row in rows], session)
                    if bar is not None:
                        bar.update(len(rows))
            except BaseException:
                failed.set()
                raise

        if lanes <= 1:
            run(0)
        else:  # ONNX Runtime lets the GIL go while it runs: the lanes run at once
            with ThreadPoolExecutor(lanes, thread_name_prefix="cocreate-encode") as pool:
                list(pool.map(run, range(lanes)))
        if bar is not None:
            bar.close()
        return normalise_rows(out)

    def _run(self, encodings: list[Any], session: Any = None) -> Matrix:
        width = max(len(e.ids) for e in encodings)
        arrays = {
            "input_ids": np.zeros((len(encodings), width), dtype=np.int64),
            "attention_mask": np.zeros((len(encodings), width), dtype=np.int64),
            "token_type_ids": np.zeros((len(encodings), width), dtype=np.int64),
        }
        for row, encoding in enumerate(encodings):
            n = len(encoding.ids)
            arrays["input_ids"][row, :n] = encoding.ids
            arrays["attention_mask"][row, :n] = encoding.attention_mask
            arrays["token_type_ids"][row, :n] = encoding.type_ids
        feed = {name: arrays[name] for name in self._inputs}
        (hidden,) = (session or self._opened()).run(None, feed)
        if self.pipeline.pooling == "cls":
            return np.asarray(hidden[:, 0], dtype=np.float32)
        mask = arrays["attention_mask"][..., None].astype(np.float32)
        summed = (hidden * mask).sum(axis=1)
        return np.asarray(summed / np.maximum(mask.sum(axis=1), 1e-9), dtype=np.float32)

    def __repr__(self) -> str:
        return f"OnnxEncoder({str(self.path)!r}, precision={self.precision!r})"


def export(model_path: Path, target: Path, torch_model: Any) -> None:
    """Export ``torch_model`` (a loaded SentenceTransformer of ``model_path``) to ``target``.

    The file appears only once written and checked against the torch model; a failed
    check leaves nothing behind.

    Raises:
        UnsupportedModel: the pipeline is not supported, or the export's vectors differ.
    """
    with warnings.catch_warnings():
        # The exporter and the tracer warn about their own future (TorchScript export
        # is deprecated, traced shapes are constants); the check below is what counts.
        warnings.simplefilter("ignore")
        difference = _export_checked(model_path, target, torch_model)
    log.info("exported %s to %s (largest difference %.1g)", model_path.name, target, difference)


def _export_checked(model_path: Path, target: Path, torch_model: Any) -> float:
    import torch

    pipeline = read_pipeline(model_path)
    transformer = torch_model[0].auto_model.eval()
    sample = torch_model.tokenize(["an example"])
    inputs = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    wrapped = _exportable(transformer, inputs)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as staging:
        staged = Path(staging) / target.name
        axes = {name: {0: "batch", 1: "tokens"} for name in [*inputs, "hidden"]}
        with torch.inference_mode():
            torch.onnx.export(
                wrapped,
                tuple(sample[name] for name in inputs),
                str(staged),
                input_names=inputs,
                output_names=["hidden"],
                dynamic_axes=axes,
                opset_version=17,
                dynamo=False,
            )
        weights = _weights_apart(staged, f"{target.stem}{WEIGHTS_SUFFIX}")
        sidecar = {"format": FORMAT, "inputs": inputs, "pipeline": asdict(pipeline)}
        staged.with_suffix(".json").write_text(json.dumps(sidecar), encoding="utf-8")
        exported = OnnxEncoder(model_path, staged, name="probe")
        expected = torch_model.encode(list(PROBES), normalize_embeddings=True)
        difference = float(np.abs(exported.encode(PROBES) - expected).max())
        if not difference < TOLERANCE:
            raise UnsupportedModel(f"the export differs from the model by {difference:.2g}")
        # The weights and the sidecar first: a reader only trusts an .onnx file whose
        # sidecar and weights exist (:func:`exported`).
        os.replace(weights, target.with_name(weights.name))
        os.replace(staged.with_suffix(".json"), target.with_suffix(".json"))
        os.replace(staged, target)
    return difference


def exported(target: Path) -> bool:
    """Whether the export ``target`` is whole: the model, its sidecar and its weights."""
    weights = target.with_name(f"{target.stem}{WEIGHTS_SUFFIX}")
    return all(p.is_file() for p in (target, target.with_suffix(".json"), weights))


def _weights_apart(model_file: Path, name: str) -> Path:
    """Move the weights of ``model_file`` into the file ``name`` beside it; returns it.

    Each tensor starts on a page of its own. ONNX Runtime maps such a file instead of
    reading it into its own memory, so the processes that encode share the weights; the
    session itself keeps only what it derives from them (about 44 MiB instead of 119 for
    all-MiniLM-L6-v2: docs/benchmarks.md, "The encoder's weights shared")."""
    import onnx
    from onnx.external_data_helper import set_external_data

    model = onnx.load(str(model_file))
    target = model_file.with_name(name)
    with target.open("wb") as out:
        for tensor in model.graph.initializer:
            if not tensor.HasField("raw_data") or len(tensor.raw_data) < PAGE:
                continue
            out.write(b"\0" * (-out.tell() % PAGE))
            offset = out.tell()
            out.write(tensor.raw_data)
            set_external_data(tensor, name, offset=offset, length=len(tensor.raw_data))
            tensor.ClearField("raw_data")
            tensor.data_location = onnx.TensorProto.EXTERNAL
    onnx.save(model, str(model_file))
    return target


def _exportable(transformer: Any, inputs: list[str]) -> Any:
    """The transformer with positional inputs and its last hidden state as the one output."""
    import torch

    class Exportable(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, *tensors: Any) -> Any:
            named = dict(zip(inputs, tensors, strict=True))
            return self.transformer(**named).last_hidden_state

    return Exportable()


def _calls(order: list[int], lengths: list[int], budget: int) -> Iterator[list[int]]:
    """``order`` cut into runs whose padded size (rows x the longest) stays within
    ``budget`` tokens; a text longer than the budget goes alone."""
    rows: list[int] = []
    width = 0
    for row in order:
        wider = max(width, lengths[row])
        if rows and wider * (len(rows) + 1) > budget:
            yield rows
            rows, wider = [], lengths[row]
        rows.append(row)
        width = wider
    if rows:
        yield rows


def with_every_core(encoder: Any) -> Any:
    """The same model on every core (at most 8), for encoding many texts in the background.

    A served worker's own session has only its share of the cores (``cocreate serve``
    divides them between the workers, for queries), so the one worker that encodes a
    whole store would leave the other cores idle. The encoder returned runs a session of
    one thread per core side by side, each on its own batches, which encoded more texts a
    second than one session of every core's threads (docs/benchmarks.md, "Encoding").
    Another encoder is returned as it is."""
    cores = usable_cores(8)
    if not isinstance(encoder, OnnxEncoder) or encoder.threads * encoder.sessions >= cores:
        return encoder
    return OnnxEncoder(
        encoder.path, encoder.onnx_path, name=encoder.name, threads=1, sessions=cores,
        bucketing=encoder.bucketing,
    )  # fmt: skip


def _threads() -> int:
    """ONNX Runtime's threads per process: COCREATE_ENCODER_THREADS, else every core (max 8)."""
    given = os.environ.get("COCREATE_ENCODER_THREADS", "").strip()
    if given.isdigit() and int(given) > 0:
        return int(given)
    return usable_cores(8)


def _bar(total: int) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="text", desc="encoding")
