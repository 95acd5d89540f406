"""A lossy UDP relay on loopback between motes (or any CoAP client) and the update server.

It drops, duplicates, delays and reorders datagrams, and counts what goes on the air. Clients
send to the relay's port; each client address gets its own upstream socket, so the server sees
one peer per client. Every decision comes from one seeded RNG, so a run with the same seed and
the same traffic makes the same decisions. Both directions are impaired independently with the
same :class:`Impairment` unless ``down`` is given.

In-process::

    relay = LossyRelay(("127.0.0.1", server_port), Impairment(loss=0.1), seed=7)
    relay = LossyRelay(("127.0.0.1", server_port), loss=0.1, seed=7)      # the same
    port = await relay.start()
    ...
    relay.close()

As a process (for peers in other processes, e.g. libcoap's tools or a benchmark)::

    python -m suitlib.sim.relay LISTEN_PORT SERVER_PORT LOSS [SEED]
"""

from __future__ import annotations

import asyncio
import random
import sys
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Impairment:
    """What happens to datagrams in one direction."""

    loss: float = 0.0
    """Probability a datagram is dropped."""
    duplicate: float = 0.0
    """Probability a (kept) datagram is sent twice."""
    delay: float = 0.0
    """Probability a datagram is held back by up to ``max_delay`` seconds (reordering it)."""
    max_delay: float = 0.02


@dataclass
class RelayStats:
    """Datagrams and bytes that reached the relay (were sent on air), and what it did to them."""

    up: int = 0
    up_bytes: int = 0
    up_dropped: int = 0
    down: int = 0
    down_bytes: int = 0
    down_dropped: int = 0
    duplicated: int = 0
    delayed: int = 0

    @property
    def datagrams(self) -> int:
        return self.up + self.down

    @property
    def bytes(self) -> int:
        return self.up_bytes + self.down_bytes

    @property
    def dropped(self) -> int:
        return self.up_dropped + self.down_dropped


class _Upstream(asyncio.DatagramProtocol):
    """The relay's socket towards the server for one client."""

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
    """The relay's socket the clients talk to."""

    def __init__(self, relay: LossyRelay) -> None:
        self.relay = relay

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.relay._front = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:  # type: ignore[override]
        self.relay._forward(data, "up", addr)


class LossyRelay:
    """A seeded impairing relay in front of ``server``; see the module docstring."""

    def __init__(self, server: tuple[str, int], up: Impairment | None = None, down: Impairment | None = None,
                 *, loss: float = 0.0, seed: int = 0) -> None:
        self.server = server
        self.up = up if up is not None else Impairment(loss=loss)
        self.down = down
        self.seed = seed
        self.stats = RelayStats()
        self._rng = random.Random(seed)
        self._front: asyncio.DatagramTransport | None = None
        self._ups: dict[tuple[str, int], _Upstream] = {}
        self._handles: set[asyncio.TimerHandle] = set()
        self._closed = False

    @property
    def loss(self) -> float:
        """Drop probability upstream (and downstream unless ``down`` differs)."""
        return self.up.loss

    @loss.setter
    def loss(self, value: float) -> None:
        """Change the drop probability of both directions from now on (a link going dead)."""
        self.up = replace(self.up, loss=value)
        if self.down is not None:
            self.down = replace(self.down, loss=value)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on ``host:port`` (0: any free port); returns the port."""
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
        self._ups.clear()
        if self._front is not None:
            self._front.close()

    def _forward(self, data: bytes, direction: str, client: tuple[str, int]) -> None:
        if self._closed:
            return
        imp = self.up if direction == "up" else (self.down or self.up)
        rng, stats = self._rng, self.stats
        if direction == "up":
            stats.up += 1
            stats.up_bytes += len(data)
        else:
            stats.down += 1
            stats.down_bytes += len(data)
        if rng.random() < imp.loss:
            if direction == "up":
                stats.up_dropped += 1
            else:
                stats.down_dropped += 1
            return
        copies = 2 if imp.duplicate and rng.random() < imp.duplicate else 1
        stats.duplicated += copies - 1
        for _ in range(copies):
            if imp.delay and rng.random() < imp.delay:
                stats.delayed += 1
                self._later(rng.uniform(0, imp.max_delay), data, direction, client)
            else:
                self._send(data, direction, client)

    def _later(self, wait: float, data: bytes, direction: str, client: tuple[str, int]) -> None:
        handle: asyncio.TimerHandle | None = None

        def fire() -> None:
            self._handles.discard(handle)  # type: ignore[arg-type]
            self._send(data, direction, client)

        handle = asyncio.get_running_loop().call_later(wait, fire)
        self._handles.add(handle)

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
            asyncio.ensure_future(loop.create_datagram_endpoint(lambda: up, remote_addr=self.server))
        elif up.transport is None:
            up.pending.append(data)
        else:
            up.transport.sendto(data)


async def serve(argv: list[str]) -> None:
    """``LISTEN_PORT SERVER_PORT LOSS [SEED]``: relay until cancelled; prints ``ready`` once listening."""
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
    if len(sys.argv) < 4:
        sys.exit("usage: python -m suitlib.sim.relay LISTEN_PORT SERVER_PORT LOSS [SEED]")
    try:
        asyncio.run(serve(sys.argv[1:]))
    except KeyboardInterrupt:
        pass
