"""Shared test configuration: paths to the shared vectors and corpus, hypothesis profiles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SUITLIB_SHARED", REPO.parent / "shared"))
VECTORS = SHARED / "vectors" / "suit"
CORPUS = SHARED / "corpus" / "firmware"

# "ci" (default): bounded and derandomized so `make test` is reproducible and fits its budget;
# "deep": many more examples for a local soak (`HYPOTHESIS_PROFILE=deep`).
settings.register_profile(
    "ci", max_examples=150, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("deep", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    assert VECTORS.is_dir(), f"shared SUIT vectors missing at {VECTORS}"
    return VECTORS


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    assert CORPUS.is_dir(), f"shared firmware corpus missing at {CORPUS}"
    return CORPUS
