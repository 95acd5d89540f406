"""A sans-I/O Block2 "server" for driving download machines in tests (no sockets)."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

from suitlib.transport.blockwise import MAX_SZX, Block, BlockRequest, slice_block2


@dataclass
class SimServer:
    """Answers BlockRequests from ``data`` like ``suit serve`` does (stateless slicing)."""

    data: bytes
    max_szx: int = MAX_SZX
    send_size2: bool = True
    etag: bytes | None = None

    def __post_init__(self) -> None:
        if self.etag is None:
            self.etag = hashlib.sha256(self.data).digest()[:8]

    def answer(self, req: BlockRequest) -> tuple[Block, bytes, bytes | None, int | None]:
        block, start, end = slice_block2(len(self.data), req.block, self.max_szx)
        size2 = len(self.data) if (self.send_size2 and (block.num == 0 or req.ask_size)) else None
        return block, self.data[start:end], self.etag, size2


def run(dl, server: SimServer, *, rng: random.Random | None = None, limit: int = 1_000_000) -> int:
    """Drive ``dl`` (Block2Download or Downloader) to completion; answers out of order if rng.

    Returns the number of requests answered.
    """
    pending: list[BlockRequest] = []
    answered = 0
    while not dl.done:
        pending.extend(dl.requests())
        if not pending:
            raise AssertionError("machine stalled")
        i = rng.randrange(len(pending)) if rng else 0
        req = pending.pop(i)
        block, payload, etag, size2 = server.answer(req)
        dl.receive(req, block, payload, etag=etag, size2=size2)
        answered += 1
        if answered > limit:
            raise AssertionError("too many requests")
    return answered
