"""Fixtures for the embeddings tests: random unit vectors, the hashing encoder and the real
model."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.encoder import Encoder, HashingEncoder, load_encoder


def unit_vectors(n: int, dimension: int, *, seed: int = 0) -> np.ndarray:
    """``n`` random L2-normalised float32 vectors (a fixed seed gives fixed vectors)."""
    matrix = np.random.default_rng(seed).standard_normal((n, dimension)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


@pytest.fixture
def hashing() -> HashingEncoder:
    return HashingEncoder(64)


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    """The real model (the shipped all-MiniLM-L6-v2), loaded once per test module."""
    return load_encoder()


CORPUS = {
    "mentoring": "Youth mentoring programmes that keep teenagers out of gangs",
    "solar": "Solar panels for rural schools and clinics",
    "gardens": "Community gardens growing food on vacant city lots",
    "circles": "Restorative circles in schools to resolve conflict",
    "water": "Clean drinking water wells for villages",
    "grants": "Grant writing workshops for small nonprofits",
}
