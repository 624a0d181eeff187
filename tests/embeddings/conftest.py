"""Fixtures for the embeddings tests: random unit vectors and the hashing encoder."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.encoder import HashingEncoder


def unit_vectors(n: int, dimension: int, *, seed: int = 0) -> np.ndarray:
    """``n`` random L2-normalised float32 vectors (a fixed seed gives fixed vectors)."""
    matrix = np.random.default_rng(seed).standard_normal((n, dimension)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


@pytest.fixture
def hashing() -> HashingEncoder:
    return HashingEncoder(64)


CORPUS = {
    "mentoring": "Youth mentoring programmes that keep teenagers out of gangs",
    "solar": "Solar panels for rural schools and clinics",
    "gardens": "Community gardens growing food on vacant city lots",
    "circles": "Restorative circles in schools to resolve conflict",
    "water": "Clean drinking water wells for villages",
    "grants": "Grant writing workshops for small nonprofits",
}
