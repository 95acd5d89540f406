"""The device-side CoAP fetcher: resumable, windowed Block2 download and Block1 upload.

A lean CoAP/UDP request layer (RFC 7252) built on aiocoap's message codec: confirmable
requests retransmitted with exponential back-off (§4.2, §4.8), empty ACKs and separate
responses (§5.2.2), resets. On top of it, :class:`CoapFetcher` drives the sans-I/O
:class:`~suitlib.transport.download.Downloader`:

- ``window`` > 1 keeps several Block2 requests outstanding (NSTART > 1, RFC 7252 §4.7 — only
  against servers known to cope, e.g. ``suit serve``). The window follows AIMD: it halves
  (at most once per ACK_TIMEOUT period) when a request needed a retransmission and grows by
  one per window of clean answers, so loss slows the sender down as congestion control asks,
  while blocks behind a stuck one keep arriving into a bounded reorder buffer. A request
  overtaken by three later answers is retransmitted at once (fast retransmit, as TCP's
  RFC 5681 §3.2) instead of after its ACK_TIMEOUT; that is what keeps the link busy under loss.
- A request whose retransmissions are exhausted is reissued after an exponential back-off, a
  bounded number of times; then the fetch fails with :class:`TransferFailedError` and the
  resume record lets the next attempt continue at the stored offset.
- 4.29 / 5.03 answers are honoured by waiting Max-Age (RFC 8516, RFC 7252 §5.9.3.4).
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import time
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import unquote, urlsplit

from aiocoap import Message
from aiocoap.numbers.codes import Code
from aiocoap.numbers.types import Type
from aiocoap.optiontypes import BlockOption

from suitlib.transport.blockwise import MAX_SZX, Block, Block1Upload, BlockRequest
from suitlib.transport.download import BytesSink, Downloader, Sink
from suitlib.transport.errors import TransferFailedError
from suitlib.transport.resume import FlashResumeStore

DEFAULT_PORT = 5683


@dataclass(frozen=True)
class Timing:
    """RFC 7252 §4.8 transmission parameters, plus the fetcher's reissue policy."""

    ack_timeout: float = 2.0
    ack_random_factor: float = 1.5
    max_retransmit: int = 4
    reissues: int = 3
    """How often a request whose retransmissions ran out is sent again (after back-off)."""
    max_wait_separate: float = 93.0
    """How long to wait for a separate response after an empty ACK (MAX_TRANSMIT_WAIT)."""
    max_overload_waits: int = 20
    """How many 4.29/5.03 answers (each waited out for Max-Age) a request tolerates."""


RFC7252 = Timing()


@dataclass
class FetchStats:
    """What a fetch did: for progress displays and the benchmark."""

    size: int = 0
    etag: bytes | None = None
    requests: int = 0
    retransmissions: int = 0
    fast_retransmits: int = 0
    reissues: int = 0
    restarts: int = 0
    resumed_from: int = 0
    seconds: float = 0.0
    max_window: int = 1


@dataclass(frozen=True)
class CoapUri:
    host: str
    port: int
    path: tuple[str, ...]
    query: tuple[str, ...]

    @classmethod
    def parse(cls, uri: str) -> CoapUri:
        """Split a ``coap://host[:port]/path?query`` URI (RFC 7252 §6.4); typed errors only."""
        try:
            parts = urlsplit(uri)
            port = parts.port
            host = parts.hostname
        except ValueError as exc:
            raise TransferFailedError(f"malformed URI {uri!r}: {exc}", hint="use coap://HOST:PORT/PATH") from None
        if parts.scheme != "coap":
            raise TransferFailedError(f"unsupported URI scheme in {uri!r}", hint="use coap://HOST:PORT/PATH")
        if not host:
            raise TransferFailedError(f"no host in {uri!r}")
        path = tuple(unquote(p) for p in parts.path.split("/")[1:] if p != "") if parts.path else ()
        query = tuple(unquote(q) for q in parts.query.split("&") if q) if parts.query else ()
        return cls(host, port or DEFAULT_PORT, path, query)


class _Timeout(Exception):
    pass


@dataclass
class _Slot:
    """Bookkeeping of one outstanding block request for fast retransmit."""

    order: int
    token: bytes | None = None
    overtaken: int = 0
    nudges: int = 0


FAST_RETRANSMIT_AFTER = 3
"""Answers to later requests that make an unanswered earlier one count as lost (cf. RFC 5681)."""
MAX_NUDGES = 2


@dataclass
class _Exchange:
    token: bytes
    mid: int
    future: asyncio.Future[Message]
    raw: bytes
    acked: bool = False
    retransmissions: int = 0
    timer: asyncio.TimerHandle | None = None


class CoapEndpoint(asyncio.DatagramProtocol):
    """One UDP socket talking to one server: CON requests, retransmissions, response matching."""

    def __init__(self, timing: Timing) -> None:
        self.timing = timing
        self.transport: asyncio.DatagramTransport | None = None
        self._by_token: dict[bytes, _Exchange] = {}
        self._by_mid: dict[int, _Exchange] = {}
        self._mid = random.randrange(1 << 16)
        self.retransmissions = 0
        self.closed = False

    @classmethod
    async def connect(cls, host: str, port: int, timing: Timing) -> CoapEndpoint:
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        if not infos:
            raise TransferFailedError(f"cannot resolve {host}")
        family, _, _, _, addr = infos[0]
        _, proto = await loop.create_datagram_endpoint(
            lambda: cls(timing), remote_addr=addr, family=family
        )
        return proto

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail_all(TransferFailedError("socket closed"))

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable and the like: let retransmission decide (the path may recover).
        pass

    def close(self) -> None:
        self.closed = True
        self._fail_all(TransferFailedError("endpoint closed"))
        if self.transport is not None:
            self.transport.close()

    def _fail_all(self, exc: Exception) -> None:
        for ex in list(self._by_token.values()):
            self._finish(ex)
            if not ex.future.done():
                ex.future.set_exception(exc)

    def _next_mid(self) -> int:
        self._mid = (self._mid + 1) & 0xFFFF
        return self._mid

    def nudge(self, token: bytes | None) -> bool:
        """Retransmit a pending request now (fast retransmit); its timer runs on unchanged."""
        ex = self._by_token.get(token) if token is not None else None
        if ex is None or ex.acked or ex.future.done() or self.transport is None:
            return False
        ex.retransmissions += 1
        self.retransmissions += 1
        self.transport.sendto(ex.raw)
        return True

    async def request(
        self, msg: Message, on_token: Callable[[bytes], None] | None = None
    ) -> tuple[Message, int]:
        """Send ``msg`` as CON and wait for its response: (response, retransmissions)."""
        if self.closed or self.transport is None:
            raise TransferFailedError("endpoint closed")
        loop = asyncio.get_running_loop()
        token = os.urandom(4)
        while token in self._by_token:
            token = os.urandom(4)
        mid = self._next_mid()
        msg.token, msg.mid, msg.mtype = token, mid, Type.CON
        raw = msg.encode()
        ex = _Exchange(token, mid, loop.create_future(), raw)
        self._by_token[token] = ex
        self._by_mid[mid] = ex
        if on_token is not None:
            on_token(token)
        t = self.timing
        timeout = random.uniform(t.ack_timeout, t.ack_timeout * t.ack_random_factor)
        self.transport.sendto(raw)
        ex.timer = loop.call_later(timeout, self._retransmit, ex, timeout)
        try:
            return await ex.future, ex.retransmissions
        finally:
            self._finish(ex)

    def _finish(self, ex: _Exchange) -> None:
        if ex.timer is not None:
            ex.timer.cancel()
            ex.timer = None
        self._by_token.pop(ex.token, None)
        if self._by_mid.get(ex.mid) is ex:
            del self._by_mid[ex.mid]

    def _retransmit(self, ex: _Exchange, timeout: float) -> None:
        if ex.future.done() or self.transport is None:
            return
        if ex.acked:  # empty ACK seen, separate response never came
            ex.future.set_exception(_Timeout())
            return
        if ex.retransmissions >= self.timing.max_retransmit:
            ex.future.set_exception(_Timeout())
            return
        ex.retransmissions += 1
        self.retransmissions += 1
        self.transport.sendto(ex.raw)
        timeout *= 2
        ex.timer = asyncio.get_running_loop().call_later(timeout, self._retransmit, ex, timeout)

    def datagram_received(self, data: bytes, addr: object) -> None:
        try:
            msg = Message.decode(data)
        except Exception:  # noqa: BLE001 - a malformed datagram is dropped (RFC 7252 §4.2)
            return
        if msg.mtype in (Type.ACK, Type.RST):
            ex = self._by_mid.get(msg.mid)
            if ex is None:
                return
            if msg.mtype is Type.RST:
                self._finish(ex)
                if not ex.future.done():
                    ex.future.set_exception(TransferFailedError("server reset the request"))
                return
            if msg.code == Code.EMPTY:
                ex.acked = True  # separate response follows (RFC 7252 §5.2.2)
                if ex.timer is not None:
                    ex.timer.cancel()
                ex.timer = asyncio.get_running_loop().call_later(
                    self.timing.max_wait_separate, self._retransmit, ex, 0.0
                )
                return
        if not msg.code.is_response():
            if msg.mtype is Type.CON:
                self._send_empty(Type.RST, msg.mid)
            return
        ex = self._by_token.get(msg.token)
        if msg.mtype is Type.CON:
            self._send_empty(Type.ACK if ex is not None else Type.RST, msg.mid)
        if ex is None or ex.future.done():
            return
        self._finish(ex)
        ex.future.set_result(msg)

    def _send_empty(self, mtype: Type, mid: int) -> None:
        if self.transport is None:
            return
        m = Message(code=Code.EMPTY)
        m.mtype, m.mid, m.token = mtype, mid, b""
        self.transport.sendto(m.encode())


def _block_of(opt: object) -> Block | None:
    if opt is None:
        return None
    return Block(opt.block_number, bool(opt.more), opt.size_exponent)  # type: ignore[attr-defined]


ProgressFn = Callable[[int, "int | None"], None]


@dataclass
class CoapFetcher:
    """Fetch envelopes and payloads over CoAP into sinks, block by block; post reports.

    ``szx`` picks the block size (6 = 1024 B … 2 = 64 B); ``window`` the most outstanding
    Block2 requests (1 = RFC 7252 NSTART=1 lock-step, safe with any server).
    """

    timing: Timing = RFC7252
    szx: int = MAX_SZX
    window: int = 1
    reorder: int = 0
    """Blocks held for in-order delivery (0: 4 × window); bounds the device's RAM use."""
    max_size: int = 16 << 20
    checkpoint: int = 1024
    _rng: random.Random = field(default_factory=random.Random)

    async def fetch(
        self,
        uri: str,
        sink: Sink | Callable[[int, bytes], None],
        *,
        szx: int | None = None,
        window: int | None = None,
        store: FlashResumeStore | None = None,
        transfer_id: bytes | None = None,
        resume_offset: int | None = None,
        progress: ProgressFn | None = None,
        max_size: int | None = None,
    ) -> FetchStats:
        """Download ``uri`` into ``sink``; resumes from ``store``'s record or ``resume_offset``."""
        target = CoapUri.parse(uri)
        szx = self.szx if szx is None else szx
        window = self.window if window is None else window
        tid = transfer_id if transfer_id is not None else _transfer_id(uri)
        dl = Downloader.start(
            sink,
            store=store,
            transfer_id=tid,
            szx=szx,
            window=window,
            reorder=self.reorder,
            max_size=self.max_size if max_size is None else max_size,
            resume_offset=resume_offset,
            checkpoint=self.checkpoint,
            progress=progress,
        )
        stats = FetchStats(resumed_from=dl.machine.offset)
        t0 = time.perf_counter()
        ep = await CoapEndpoint.connect(target.host, target.port, self.timing)
        inflight: dict[asyncio.Task[tuple[Message, int]], tuple[BlockRequest, _Slot]] = {}
        order = 0
        cwnd = float(window)
        last_cut = -1e9
        try:
            while not dl.done:
                for req in dl.requests(int(cwnd)):
                    slot = _Slot(order)
                    order += 1
                    task = asyncio.ensure_future(self._block(ep, target, req, stats, slot))
                    inflight[task] = (req, slot)
                    stats.requests += 1
                stats.max_window = max(stats.max_window, len(inflight))
                if not inflight:
                    raise TransferFailedError("download stalled with nothing to request")
                finished, _ = await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
                newest = max(inflight[t][1].order for t in finished)
                for task in finished:
                    req, _ = inflight.pop(task)
                    response, retransmitted = task.result()
                    now = time.monotonic()
                    if retransmitted:
                        # one multiplicative decrease per loss event (an ACK_TIMEOUT period)
                        if now - last_cut > self.timing.ack_timeout:
                            cwnd = max(1.0, cwnd / 2)
                            last_cut = now
                    else:
                        cwnd = min(float(window), cwnd + 1.0 / cwnd)
                    dl.receive(
                        req,
                        _block_of(response.opt.block2),
                        response.payload,
                        etag=response.opt.etag,
                        size2=response.opt.size2,
                    )
                    if dl.done:
                        break
                self._fast_retransmit(ep, inflight.values(), newest, stats)
        finally:
            for task in inflight:
                task.cancel()
            ep.close()
        stats.size = dl.machine.size or 0
        stats.etag = dl.machine.etag
        stats.restarts = dl.machine.restarts
        stats.retransmissions = ep.retransmissions
        stats.seconds = time.perf_counter() - t0
        return stats

    @staticmethod
    def _fast_retransmit(
        ep: CoapEndpoint, pending: object, newest: int, stats: FetchStats
    ) -> None:
        """Resend requests overtaken by FAST_RETRANSMIT_AFTER later answers (likely lost).

        Our server answers in request order, so an earlier request still unanswered after
        three later ones were answered most likely lost its request or its response; resending
        it now rather than after ACK_TIMEOUT keeps the reorder buffer from stalling. It counts
        as a retransmission (the window shrinks), and each request is nudged at most twice.
        """
        for _, slot in pending:  # type: ignore[attr-defined]
            if slot.order < newest:
                slot.overtaken += 1
                if slot.overtaken >= FAST_RETRANSMIT_AFTER and slot.nudges < MAX_NUDGES:
                    if ep.nudge(slot.token):
                        slot.nudges += 1
                        stats.fast_retransmits += 1
                    slot.overtaken = 0

    async def fetch_bytes(self, uri: str, **kw: object) -> bytes:
        """Download a whole (small) resource, e.g. an envelope, into memory."""
        sink = BytesSink()
        await self.fetch(uri, sink, **kw)  # type: ignore[arg-type]
        return sink.getvalue()

    async def _block(
        self,
        ep: CoapEndpoint,
        target: CoapUri,
        req: BlockRequest,
        stats: FetchStats,
        slot: _Slot | None = None,
    ) -> tuple[Message, int]:
        """One block: retransmitted by the endpoint, reissued with back-off, overload waited out."""
        retrans = 0
        reissues = 0
        overloads = 0
        while True:
            msg = Message(code=Code.GET, uri_path=target.path, uri_query=target.query)
            msg.opt.block2 = BlockOption.BlockwiseTuple(req.block.num, False, req.block.szx)
            if req.ask_size:
                msg.opt.size2 = 0
            try:
                on_token = None if slot is None else (lambda t: setattr(slot, "token", t))
                if slot is not None:
                    slot.overtaken = 0
                response, n = await ep.request(msg, on_token)
            except _Timeout:
                retrans += self.timing.max_retransmit
                reissues += 1
                stats.reissues += 1
                if reissues > self.timing.reissues:
                    raise TransferFailedError(
                        f"no answer for block {req.block.num} after {reissues} attempts",
                        block=req.block.num,
                    ) from None
                backoff = self.timing.ack_timeout * (2**reissues) * self._rng.uniform(1.0, 1.5)
                await asyncio.sleep(backoff)
                continue
            retrans += n
            code = response.code
            if code == Code.CONTENT:
                return response, retrans
            if code in (Code.TOO_MANY_REQUESTS, Code.SERVICE_UNAVAILABLE):
                overloads += 1
                if overloads > self.timing.max_overload_waits:
                    raise TransferFailedError(f"server overloaded ({code})", code=str(code))
                max_age = response.opt.max_age if response.opt.max_age is not None else 1
                await asyncio.sleep(min(float(max_age), 60.0) * self._rng.uniform(1.0, 1.25))
                retrans += 1  # treat as a congestion signal
                continue
            raise TransferFailedError(
                f"server answered {code} to block {req.block.num}",
                code=str(code),
                detail=response.payload[:120].decode("utf-8", "replace"),
            )

    async def post(
        self,
        uri: str,
        body: bytes,
        *,
        szx: int | None = None,
        content_format: int | None = None,
    ) -> Message:
        """POST ``body`` with atomic Block1 (RFC 7959 §2.5); returns the final response."""
        target = CoapUri.parse(uri)
        up = Block1Upload(body, szx=self.szx if szx is None else szx)
        ep = await CoapEndpoint.connect(target.host, target.port, self.timing)
        try:
            while True:
                part = up.next_request()
                if part is None:
                    raise TransferFailedError("upload finished without a final response")
                msg = Message(code=Code.POST, uri_path=target.path, uri_query=target.query, payload=part.payload)
                if content_format is not None:
                    msg.opt.content_format = content_format
                if len(body) > part.block.size or part.block.num:
                    msg.opt.block1 = BlockOption.BlockwiseTuple(part.block.num, part.block.more, part.block.szx)
                if part.size1 is not None and part.block.more:
                    msg.opt.size1 = part.size1
                response = await self._request_with_reissue(ep, msg)
                block = _block_of(response.opt.block1)
                if block is None and not part.block.more and response.code.is_successful():
                    up.receive(int(response.code), None)
                    return response
                if up.receive(int(response.code), block, size1=response.opt.size1):
                    return response
        finally:
            ep.close()

    async def _request_with_reissue(self, ep: CoapEndpoint, msg: Message) -> Message:
        for attempt in range(self.timing.reissues + 1):
            try:
                fresh = Message(code=msg.code, payload=msg.payload)
                fresh.opt = msg.opt
                response, _ = await ep.request(fresh)
                return response
            except _Timeout:
                await asyncio.sleep(self.timing.ack_timeout * (2 ** (attempt + 1)))
        raise TransferFailedError("no answer to the upload after retries")


def _transfer_id(uri: str) -> bytes:
    import hashlib

    return hashlib.sha256(uri.encode("utf-8")).digest()[:8]
