"""Start `suit serve` in-process (127.0.0.1, ephemeral port) for a test, always stopped."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import AsyncIterator

from suitlib.server.app import ServerLimits, UpdateServer
from suitlib.transport.coap.client import Timing

FAST = Timing(ack_timeout=0.05, ack_random_factor=1.5, max_retransmit=4, reissues=6,
              max_wait_separate=2.0)
"""RFC 7252 timers scaled down 40x, so lossy loopback transfers finish in seconds."""


@contextlib.asynccontextmanager
async def running_server(store: Path, limits: ServerLimits = ServerLimits(rate=0)) -> AsyncIterator[UpdateServer]:
    server = UpdateServer(store, limits)
    await server.start(("127.0.0.1", 0))
    try:
        yield server
    finally:
        await server.stop()
