"""Fixtures of the delta tests: the shared firmware corpus pairs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def corpus_pairs(corpus: Path) -> list[str]:
    index = json.loads((corpus / "pairs.json").read_text())
    return [p["name"] for p in index["pairs"]]


@pytest.fixture(scope="session")
def pair_names(corpus_dir: Path) -> list[str]:
    return corpus_pairs(corpus_dir)


@pytest.fixture(scope="session")
def load_pair(corpus_dir: Path):  # type: ignore[no-untyped-def]
    cache: dict[str, tuple[bytes, bytes]] = {}

    def load(name: str) -> tuple[bytes, bytes]:
        if name not in cache:
            folder = corpus_dir / name
            cache[name] = ((folder / "old.bin").read_bytes(), (folder / "new.bin").read_bytes())
        return cache[name]

    return load
