"""A lossy UDP relay on loopback between motes and the update server, counting bytes on air.

Each client address gets its own upstream socket, so the server sees one peer per client
endpoint. Datagrams are dropped independently in each direction with probability ``loss``,
decided by one seeded RNG.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass


@dataclass
class AirStats:
    """Datagrams and bytes that reached the relay (sent on air), and how many were dropped."""

    up_datagrams: int = 0
    up_bytes: int = 0
    down_datagrams: int = 0
    down_bytes: int = 0
    dropped: int = 0

    @property
    def bytes(self) -> int:
        return self.up_bytes + self.down_bytes


class _Upstream(asyncio.DatagramProtocol):
    def __init__(self, relay: LossyRelay, client: tuple[str, int]) -> None:
        self.relay, self.client = relay, client
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: object) -> None:
        r = self.relay
        r.stats.down_datagrams += 1
        r.stats.down_bytes += len(data)
        if r.rng.random() < r.loss:
            r.stats.dropped += 1
            return
        if r.transport is not None:
            r.transport.sendto(data, self.client)


class LossyRelay(asyncio.DatagramProtocol):
    """``relay = LossyRelay(("127.0.0.1", server_port), loss=0.1, seed=1); port = await relay.start()``."""

    def __init__(self, server: tuple[str, int], *, loss: float = 0.0, seed: int = 0) -> None:
        self.server, self.loss = server, loss
        self.rng = random.Random(seed)
        self.stats = AirStats()
        self.transport: asyncio.DatagramTransport | None = None
        self._upstreams: dict[tuple[str, int], _Upstream] = {}
        self._pending: dict[tuple[str, int], list[bytes]] = {}

    async def start(self, host: str = "127.0.0.1") -> int:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(host, 0))
        return int(transport.get_extra_info("sockname")[1])

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:  # type: ignore[override]
        self.stats.up_datagrams += 1
        self.stats.up_bytes += len(data)
        if self.rng.random() < self.loss:
            self.stats.dropped += 1
            return
        up = self._upstreams.get(addr)
        if up is not None and up.transport is not None:
            up.transport.sendto(data)
            return
        if addr in self._pending:
            self._pending[addr].append(data)
            return
        self._pending[addr] = [data]
        asyncio.ensure_future(self._open(addr))

    async def _open(self, client: tuple[str, int]) -> None:
        loop = asyncio.get_running_loop()
        _, up = await loop.create_datagram_endpoint(lambda: _Upstream(self, client), remote_addr=self.server)
        self._upstreams[client] = up
        for data in self._pending.pop(client, []):
            up.transport.sendto(data)  # type: ignore[union-attr]

    def close(self) -> None:
        for up in self._upstreams.values():
            if up.transport is not None:
                up.transport.close()
        self._upstreams.clear()
        if self.transport is not None:
            self.transport.close()
