"""The tagger's learnt parameters as a small JSON file, written by ``scripts/learn_tagger.py``.

The file holds, for the SDG and the sector model, the logistic combiner (feature means,
scales, weights, bias), the calibrator's knots and values and the ``suggested``
threshold, with the encoder they were learnt with and the feature names in order. The
service loads it instead of fitting at start; it still encodes the training texts,
whose neighbour votes are part of the evidence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.calibration import Calibrator, LogisticModel
from embeddings.tagging_inputs import TaggingDataError

MODEL_FILE = "tagger.json"
FORMAT = 1
SDG_FEATURES = (
    "best target cosine",
    "mean of the best three target cosines",
    "best target cosine minus the best of any goal",
    "Aurora keywords (log1p of the summed weights)",
    "neighbour vote",
    "neighbour vote times the closest neighbour's cosine",
    "keywords times the best target cosine",
)
SECTOR_FEATURES = (
    "cosine with the description",
    "that minus the best sector's",
    "cosine with the keyword list",
    "that minus the best sector's",
    "sector keywords (log1p of the summed weights)",
    "SDG model's probability of the sector's typical goals",
)


@dataclass(frozen=True, slots=True)
class Learnt:
    """One learnt model: combiner, calibrator, threshold."""

    combiner: LogisticModel
    calibrator: Calibrator
    threshold: float


def to_json(sdg: Learnt, sector: Learnt, *, encoder: str, training: int) -> dict[str, Any]:
    """The parameters as plain JSON values (floats round-trip exactly)."""

    def one(model: Learnt, features: tuple[str, ...]) -> dict[str, Any]:
        c, k = model.combiner, model.calibrator
        return {
            "features": list(features),
            "mean": c.mean.tolist(),
            "scale": c.scale.tolist(),
            "weights": c.weights.tolist(),
            "bias": c.bias,
            "calibration": {"knots": k.knots.tolist(), "values": k.values.tolist()},
            "threshold": model.threshold,
        }

    return {
        "format": FORMAT,
        "encoder": encoder,
        "training_texts": training,
        "sdg": one(sdg, SDG_FEATURES),
        "sector": one(sector, SECTOR_FEATURES),
    }


def from_json(data: Any, *, encoder: str, where: str | Path) -> tuple[Learnt, Learnt]:
    """The SDG and sector models; :class:`TaggingDataError` when the file does not fit."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TaggingDataError(where, f"not a tagger parameter file of format {FORMAT}")
    if data.get("encoder") != encoder:
        raise TaggingDataError(where, f"learnt with {data.get('encoder')!r}, not {encoder!r}")

    def one(part: Any, features: tuple[str, ...]) -> Learnt:
        if tuple(part["features"]) != features:
            raise TaggingDataError(where, "its features are not the ones this code computes")
        arrays = [np.asarray(part[k], dtype=np.float64) for k in ("mean", "scale", "weights")]
        if any(a.shape != (len(features),) for a in arrays):
            raise TaggingDataError(where, "a coefficient vector of the wrong length")
        knots = np.asarray(part["calibration"]["knots"], dtype=np.float64)
        values = np.asarray(part["calibration"]["values"], dtype=np.float64)
        if knots.shape != values.shape or knots.size == 0:
            raise TaggingDataError(where, "calibration knots and values do not match")
        return Learnt(
            LogisticModel(arrays[0], arrays[1], arrays[2], float(part["bias"])),
            Calibrator(knots, values),
            float(part["threshold"]),
        )

    try:
        return one(data["sdg"], SDG_FEATURES), one(data["sector"], SECTOR_FEATURES)
    except (KeyError, TypeError, ValueError) as exc:
        raise TaggingDataError(where, f"unexpected parameters ({exc!r})") from None


def read_model(path: Path) -> Any:
    """The parsed file (checked by :func:`from_json`)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TaggingDataError(path, str(exc)) from None


def write_model(path: Path, data: dict[str, Any]) -> None:
    """Write the file deterministically (sorted by construction, two-space indent)."""
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
