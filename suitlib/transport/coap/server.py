"""Reusable aiocoap server parts for update servers.

- :class:`StaticBlock2Resource` — stateless, random-access Block2 (RFC 7959 §2.4) of an
  immutable representation: ETag on every block, Size2 on block 0 and on request (§4),
  2.03 Valid on a matching ETag, 4.02 for a block past the end. Any block can be asked for
  first, so a rebooted device resumes without the server remembering it.
- :class:`Block1Resource` — atomic Block1 POST (§2.5) with bounded assemblies: 2.31 Continue,
  4.08 on a gap, 4.13 + Size1 over the limit, the handler called once with the whole body.
- :class:`GuardedSite` — a :class:`aiocoap.resource.Site` with a per-address rate limit
  (4.29 Too Many Requests + Max-Age, RFC 8516) in front of every resource.
- :func:`bound_deduplication` — caps aiocoap's duplicate-detection cache (it otherwise keeps
  every response and a timer for EXCHANGE_LIFETIME = 247 s, RFC 7252 §4.5).
- :func:`bound_port` — the UDP port a server context listens on (after binding port 0).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Hashable

import aiocoap
import aiocoap.error as coap_error
import aiocoap.resource as resource
from aiocoap import Message
from aiocoap.messagemanager import MessageManager
from aiocoap.numbers.codes import Code
from aiocoap.numbers.types import Type
from aiocoap.optiontypes import BlockOption

from suitlib.errors import TransportError
from suitlib.transport.blockwise import MAX_SZX, Block, Block1Assembly, slice_block2
from suitlib.transport.errors import (
    BlockwiseError,
    EntityTooLargeError,
    RequestIncompleteError,
    UnexpectedBlockError,
)


def block_of(opt: object) -> Block | None:
    """Our :class:`Block` from an aiocoap BlockwiseTuple (None if absent)."""
    if opt is None:
        return None
    return Block(opt.block_number, bool(opt.more), opt.size_exponent)  # type: ignore[attr-defined]


def remote_host(request: Message) -> str:
    """The sender's IP address (port dropped), the unit of rate limiting."""
    sockaddr = getattr(request.remote, "sockaddr", None)
    if sockaddr:
        host = str(sockaddr[0])
        return host[7:] if host.startswith("::ffff:") else host
    return str(getattr(request.remote, "hostinfo", "?"))


class _ErrorResponse(coap_error.RenderableError):
    def __init__(self, code: Code, text: str = "", **options: object) -> None:
        self.code, self.text, self.options = code, text, options

    def to_message(self) -> Message:
        m = Message(code=self.code, payload=self.text.encode("utf-8"))
        for k, v in self.options.items():
            setattr(m.opt, k, v)
        return m


def error_response(code: Code, text: str = "", **options: object) -> _ErrorResponse:
    """An exception a resource raises to answer with ``code`` (and e.g. ``max_age``, ``size1``)."""
    return _ErrorResponse(code, text, **options)


# --- Block2 -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Representation:
    """What a Block2 resource serves: a reader for random access, its size and ETag."""

    size: int
    etag: bytes
    read: Callable[[int, int], bytes]
    content_format: int | None = None
    max_age: int | None = None


class StaticBlock2Resource(resource.Resource):
    """Serves an immutable representation block by block, statelessly (RFC 7959 §2.4)."""

    max_szx = MAX_SZX

    async def needs_blockwise_assembly(self, request: Message) -> bool:
        return False

    async def representation(self, request: Message) -> Representation:
        """The representation for ``request`` (raise :func:`error_response` for 4.xx)."""
        raise error_response(Code.NOT_FOUND)

    async def render_get(self, request: Message) -> Message:
        rep = await self.representation(request)
        return block2_response(request, rep, self.max_szx)


def block2_response(request: Message, rep: Representation, max_szx: int = MAX_SZX) -> Message:
    """The Block2 answer to ``request`` for ``rep`` (stateless slicing, ETag, Size2)."""
    try:
        asked = block_of(request.opt.block2)
    except BlockwiseError as exc:
        raise error_response(Code.BAD_OPTION, exc.message) from None
    if asked is not None and asked.more:
        raise error_response(Code.BAD_OPTION, "Block2 request with M set")
    if rep.etag in (request.opt.etags or ()) and (asked is None or asked.num == 0):
        m = Message(code=Code.VALID)
        m.opt.etag = rep.etag
        if rep.max_age is not None:
            m.opt.max_age = rep.max_age
        return m
    try:
        block, start, end = slice_block2(rep.size, asked, max_szx)
    except UnexpectedBlockError as exc:
        raise error_response(Code.BAD_OPTION, exc.message) from None
    m = Message(code=Code.CONTENT, payload=rep.read(start, end - start))
    m.opt.etag = rep.etag
    if rep.content_format is not None:
        m.opt.content_format = rep.content_format
    if rep.max_age is not None:
        m.opt.max_age = rep.max_age
    if block.more or block.num or asked is not None:
        m.opt.block2 = BlockOption.BlockwiseTuple(block.num, block.more, block.szx)
    if block.num == 0 or request.opt.size2 is not None:
        m.opt.size2 = rep.size
    return m


# --- Block1 -------------------------------------------------------------------------------


@dataclass
class _Assemblies:
    """Bounded set of in-progress uploads, keyed by (remote, path, Request-Tag); LRU + expiry."""

    max_count: int
    lifetime: float
    clock: Callable[[], float] = time.monotonic
    _items: OrderedDict[Hashable, tuple[float, Block1Assembly]] = field(default_factory=OrderedDict)

    def get(self, key: Hashable, create: Callable[[], Block1Assembly] | None) -> Block1Assembly | None:
        now = self.clock()
        while self._items:
            k, (t, _) = next(iter(self._items.items()))
            if now - t <= self.lifetime:
                break
            del self._items[k]
        hit = self._items.pop(key, None)
        if hit is None:
            if create is None:
                return None
            while len(self._items) >= self.max_count:
                self._items.popitem(last=False)
            asm = create()
        else:
            asm = hit[1]
        self._items[key] = (now, asm)
        return asm

    def drop(self, key: Hashable) -> None:
        self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)


class Block1Resource(resource.Resource):
    """Accepts an atomic Block1 POST and hands the whole body to :meth:`complete` once."""

    max_body = 64 * 1024
    max_szx = MAX_SZX
    max_assemblies = 256
    assembly_lifetime = 93.0  # MAX_TRANSMIT_WAIT

    def __init__(self) -> None:
        super().__init__()
        self._assemblies = _Assemblies(self.max_assemblies, self.assembly_lifetime)

    async def needs_blockwise_assembly(self, request: Message) -> bool:
        return False

    async def complete(self, request: Message, body: bytes) -> Message:
        """Act on the whole body; return the final (2.01/2.04) response."""
        raise NotImplementedError

    async def render_post(self, request: Message) -> Message:
        try:
            block = block_of(request.opt.block1)
        except BlockwiseError as exc:
            raise error_response(Code.BAD_OPTION, exc.message) from None
        key = (request.remote, tuple(request.opt.uri_path), tuple(request.opt.uri_query),
               request.opt.request_tag)
        size1 = request.opt.size1
        try:
            if block is None:
                body = Block1Assembly(self.max_body, self.max_szx).feed(None, request.payload, size1=size1)
            else:
                create = (lambda: Block1Assembly(self.max_body, self.max_szx)) if block.num == 0 else None
                asm = self._assemblies.get(key, create)
                if asm is None:
                    raise RequestIncompleteError("no upload in progress for this block", num=block.num)
                body = asm.feed(block, request.payload, size1=size1)
                if body is None:
                    m = Message(code=Code.CONTINUE)
                    echo = asm.continue_block(block)
                    m.opt.block1 = BlockOption.BlockwiseTuple(echo.num, True, echo.szx)
                    return m
                self._assemblies.drop(key)
        except EntityTooLargeError:
            self._assemblies.drop(key)
            raise error_response(Code.REQUEST_ENTITY_TOO_LARGE, "upload too large", size1=self.max_body) from None
        except RequestIncompleteError as exc:
            self._assemblies.drop(key)
            raise error_response(Code.REQUEST_ENTITY_INCOMPLETE, exc.message) from None
        except BlockwiseError as exc:
            self._assemblies.drop(key)
            raise error_response(Code.BAD_REQUEST, exc.message) from None
        response = await self.complete(request, body)
        if block is not None:
            response.opt.block1 = BlockOption.BlockwiseTuple(block.num, False, block.szx)
        return response


# --- rate limiting ------------------------------------------------------------------------


@dataclass
class TokenBucket:
    """Per-key token buckets (``rate`` requests/s, ``burst`` deep), bounded in keys."""

    rate: float
    burst: float
    max_keys: int = 4096
    clock: Callable[[], float] = time.monotonic
    _buckets: OrderedDict[Hashable, tuple[float, float]] = field(default_factory=OrderedDict)

    def take(self, key: Hashable) -> float:
        """0.0 if a request may proceed now, else the seconds until one token is back."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait


class GuardedSite(resource.Site):
    """A Site that answers 4.29 Too Many Requests (with Max-Age) to an address over its rate,
    and, with ``require_auth``, 4.01 Unauthorized to requests that carry no authenticated
    claims (i.e. were not OSCORE-protected), except for ``/.well-known/core``."""

    PUBLIC = ((".well-known", "core"),)

    def __init__(self, limiter: TokenBucket | None = None, *, require_auth: bool = False) -> None:
        super().__init__()
        self.limiter = limiter
        self.require_auth = require_auth
        self.throttled = 0
        self.refused = 0

    async def render_to_pipe(self, pipe: object) -> None:
        request = pipe.request  # type: ignore[attr-defined]
        if self.require_auth and tuple(request.opt.uri_path) not in self.PUBLIC:
            claims = getattr(request.remote, "authenticated_claims", None)
            if not claims:
                self.refused += 1
                m = Message(code=Code.UNAUTHORIZED, payload=b"OSCORE required")
                pipe.add_response(m, is_last=True)  # type: ignore[attr-defined]
                return
        if self.limiter is not None:
            wait = self.limiter.take(remote_host(request))
            if wait > 0:
                self.throttled += 1
                m = Message(code=Code.TOO_MANY_REQUESTS, payload=b"rate limit")
                m.opt.max_age = max(1, int(wait + 0.999))
                pipe.add_response(m, is_last=True)  # type: ignore[attr-defined]
                return
        await super().render_to_pipe(pipe)  # type: ignore[arg-type]


# --- deduplication bound ------------------------------------------------------------------


class _BoundedRecent(OrderedDict):  # type: ignore[type-arg]
    """aiocoap's (remote, MID) → response map, capped in entries and age."""

    def __init__(self, max_entries: int, lifetime: float, clock: Callable[[], float]) -> None:
        super().__init__()
        self.max_entries, self.lifetime, self.clock = max_entries, lifetime, clock
        self._born: dict[Hashable, float] = {}

    def expire(self) -> None:
        now = self.clock()
        while self:
            key = next(iter(self))
            if now - self._born.get(key, now) <= self.lifetime and len(self) <= self.max_entries:
                break
            super().pop(key, None)
            self._born.pop(key, None)

    def __setitem__(self, key: Hashable, value: object) -> None:
        if key not in self:
            self._born[key] = self.clock()
        super().__setitem__(key, value)
        self.expire()

    def pop(self, key: Hashable, default: object = None) -> object:  # type: ignore[override]
        self._born.pop(key, None)
        return super().pop(key, default)


def bound_deduplication(
    context: aiocoap.Context,
    *,
    max_entries: int = 4096,
    lifetime: float = 247.0,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Cap every message manager's duplicate cache of ``context``; returns how many were bound.

    aiocoap 0.4.17 keeps each (remote, MID) → response for EXCHANGE_LIFETIME with a loop timer
    per entry. We replace the map by an LRU capped at ``max_entries`` that also ages entries
    out itself, and stop scheduling the per-entry timers. A duplicate that arrives after its
    entry was evicted is processed again; for GET that is harmless (idempotent), for a Block1
    POST the assembly refuses an out-of-place block.
    """
    bound = 0
    for tman in context.request_interfaces:
        mm = getattr(tman, "token_interface", None)
        if not isinstance(mm, MessageManager):
            continue
        recent = _BoundedRecent(max_entries, lifetime, clock)

        def dedup(message: Message, mm: MessageManager = mm, recent: _BoundedRecent = recent) -> bool:
            key = (message.remote, message.mid)
            if key in recent:
                stored = recent[key]
                if message.mtype is Type.CON and stored is not None:
                    mm._send_initially(stored)
                return True
            recent[key] = None
            return False

        mm._recent_messages = recent
        mm._deduplicate_message = dedup  # type: ignore[method-assign]
        bound += 1
    return bound


def dedup_entries(context: aiocoap.Context) -> int:
    """How many responses the context currently keeps for duplicate detection."""
    total = 0
    for tman in context.request_interfaces:
        mm = getattr(tman, "token_interface", None)
        if isinstance(mm, MessageManager):
            total += len(mm._recent_messages)
    return total


def bound_port(context: aiocoap.Context) -> int:
    """The local UDP port of a server context (useful after binding port 0)."""
    for tman in context.request_interfaces:
        mm = getattr(tman, "token_interface", None)
        iface = getattr(mm, "message_interface", None)
        transport = getattr(iface, "transport", None)
        if transport is not None:
            return int(transport.get_extra_info("socket").getsockname()[1])
    raise TransportError("server context has no UDP transport")


Handler = Callable[[Message, bytes], Awaitable[Message]]
