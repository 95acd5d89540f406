"""Shared pieces of the end-to-end tests: keys, corpus images, a server on loopback."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from suitlib.cose import KeyType, PrivateKey
from suitlib.server.app import ServerLimits, UpdateServer
from suitlib.server.publish import publish
from suitlib.sim.manufacturer import Release

from tests.conftest import CORPUS  # noqa: F401  (honours SUITLIB_SHARED)

KEY = PrivateKey.generate(KeyType.P256)


def corpus_pair(name: str) -> tuple[bytes, bytes]:
    folder = CORPUS / name
    return (folder / "old.bin").read_bytes(), (folder / "new.bin").read_bytes()


@contextlib.asynccontextmanager
async def update_server(tmp: Path, *releases: Release) -> AsyncIterator[UpdateServer]:
    server = UpdateServer(tmp, ServerLimits(rate=0, poll_interval=0.2))
    await server.start(("127.0.0.1", 0))
    try:
        for rel in releases:
            publish(server.store, server.db, rel.envelope, payloads=(rel.payload,))
        yield server
    finally:
        await asyncio.wait_for(server.stop(), 10)
