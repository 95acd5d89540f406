"""A loss-emulating UDP relay on loopback: drops, duplicates, delays and reorders datagrams.

Clients send to the relay's port; each client address gets its own upstream socket, so the
server sees one peer per client. Every decision comes from one seeded RNG, so a run with the
same seed and the same traffic makes the same decisions. Both directions are impaired
independently with the same :class:`Impairment` unless ``down`` is given.

In-process::

    relay = LossyRelay(("127.0.0.1", server_port), Impairment(loss=0.1), seed=7)
    port = await relay.start()
    ...
    relay.close()

As a process (for peers in other processes)::

    python -m tests.helpers.lossy_relay LISTEN_PORT SERVER_PORT LOSS [SEED]
"""

from __future__ import annotations

import asyncio
import random
import sys
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Impairment:
    loss: float = 0.0
    """Probability a datagram is dropped."""
    duplicate: float = 0.0
    """Probability a (kept) datagram is sent twice."""
    delay: float = 0.0
    """Probability a datagram is held back by up to ``max_delay`` seconds (reordering it)."""
    max_delay: float = 0.02


@dataclass
class RelayStats:
    up: int = 0
    up_dropped: int = 0
    down: int = 0
    down_dropped: int = 0
    duplicated: int = 0
    delayed: int = 0


class _Upstream(asyncio.DatagramProtocol):
    def __init__(self, relay: LossyRelay, client: tuple[str, int]) -> None:
        self.relay, self.client = relay, client
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        for data in self.pending:
            transport.sendto(data)  # type: ignore[attr-defined]
        self.pending.clear()

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.relay._forward(data, "down", self.client)


class _Front(asyncio.DatagramProtocol):
    def __init__(self, relay: LossyRelay) -> None:
        self.relay = relay

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.relay._front = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.relay._forward(data, "up", addr)


@dataclass
class LossyRelay:
    server: tuple[str, int]
    up: Impairment = Impairment()
    down: Impairment | None = None
    seed: int = 0
    stats: RelayStats = field(default_factory=RelayStats)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._front: asyncio.DatagramTransport | None = None
        self._ups: dict[tuple[str, int], _Upstream] = {}
        self._handles: set[asyncio.TimerHandle] = set()
        self._closed = False

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: _Front(self), local_addr=(host, port))
        assert self._front is not None
        return int(self._front.get_extra_info("sockname")[1])

    def close(self) -> None:
        self._closed = True
        for h in self._handles:
            h.cancel()
        self._handles.clear()
        for up in self._ups.values():
            if up.transport is not None:
                up.transport.close()
        if self._front is not None:
            self._front.close()

    def _forward(self, data: bytes, direction: str, client: tuple[str, int]) -> None:
        if self._closed:
            return
        imp = self.up if direction == "up" else (self.down or self.up)
        rng = self._rng
        if direction == "up":
            self.stats.up += 1
        else:
            self.stats.down += 1
        if rng.random() < imp.loss:
            if direction == "up":
                self.stats.up_dropped += 1
            else:
                self.stats.down_dropped += 1
            return
        copies = 2 if rng.random() < imp.duplicate else 1
        self.stats.duplicated += copies - 1
        for _ in range(copies):
            if rng.random() < imp.delay:
                self.stats.delayed += 1
                wait = rng.uniform(0, imp.max_delay)
                loop = asyncio.get_running_loop()
                handle: asyncio.TimerHandle | None = None

                def later(d: bytes = data) -> None:
                    self._handles.discard(handle)  # type: ignore[arg-type]
                    self._send(d, direction, client)

                handle = loop.call_later(wait, later)
                self._handles.add(handle)
            else:
                self._send(data, direction, client)

    def _send(self, data: bytes, direction: str, client: tuple[str, int]) -> None:
        if self._closed:
            return
        if direction == "down":
            if self._front is not None:
                self._front.sendto(data, client)
            return
        up = self._ups.get(client)
        if up is None:
            up = self._ups[client] = _Upstream(self, client)
            up.pending.append(data)
            loop = asyncio.get_running_loop()
            asyncio.ensure_future(
                loop.create_datagram_endpoint(lambda: up, remote_addr=self.server)
            )
        elif up.transport is None:
            up.pending.append(data)
        else:
            up.transport.sendto(data)


async def _main(argv: list[str]) -> None:
    listen, server, loss = int(argv[0]), int(argv[1]), float(argv[2])
    seed = int(argv[3]) if len(argv) > 3 else 0
    relay = LossyRelay(("127.0.0.1", server), Impairment(loss=loss), seed=seed)
    await relay.start(port=listen)
    print("ready", flush=True)
    try:
        await asyncio.get_running_loop().create_future()
    finally:
        relay.close()


if __name__ == "__main__":
    try:
        asyncio.run(_main(sys.argv[1:]))
    except KeyboardInterrupt:
        pass
