"""The loss-emulating relay used by the tests: the product's own, :mod:`suitlib.sim.relay`.

As a process: ``python -m tests.helpers.lossy_relay LISTEN_PORT SERVER_PORT LOSS [SEED]``.
"""

from __future__ import annotations

import asyncio
import sys

from suitlib.sim.relay import Impairment, LossyRelay, RelayStats, serve

__all__ = ["Impairment", "LossyRelay", "RelayStats"]

if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit("usage: python -m suitlib.sim.relay LISTEN_PORT SERVER_PORT LOSS [SEED]")
    try:
        asyncio.run(serve(sys.argv[1:]))
    except KeyboardInterrupt:
        pass
