"""Sans-I/O block-wise transfer state machines (RFC 7959).

- :class:`Block` — the Block1/Block2 option value (NUM | M | SZX, RFC 7959 §2.2).
- :class:`Block2Download` — a client's download: early SZX negotiation (§2.4), Size2 (§4),
  ETag pinning with clean restart (§2.4, RFC 7252 §5.10.6), resume at any byte offset, a bounded
  window of outstanding requests, progress events, and typed rejection of duplicate,
  unexpected, wrong-offset and oversized blocks.
- :class:`Block1Upload` — a client's atomic upload (§2.5), adopting a smaller server SZX.
- :class:`Block1Assembly` — a server's atomic reassembly of an upload (4.08 on a gap, 4.13
  over the limit, nothing kept half-written).
- :func:`slice_block2` — a server's stateless random-access Block2 slice (§2.4).

Nothing here does I/O; the CoAP adapter moves bytes between these and the network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from suitlib.transport.errors import (
    BlockOptionError,
    BlockSizeError,
    DuplicateBlockError,
    EntityTooLargeError,
    OversizedBlockError,
    RequestIncompleteError,
    ResourceChangedError,
    TransferFailedError,
    TransferTooLargeError,
    UnexpectedBlockError,
    WrongOffsetError,
)

MIN_SZX = 0
MAX_SZX = 6  # 1024 B; SZX 7 is BERT (RFC 8323), not used over UDP
MAX_NUM = (1 << 20) - 1

# CoAP response codes the upload machine interprets (RFC 7252 §12.1.2, RFC 7959 §2.9).
CODE_CREATED = 65  # 2.01
CODE_CHANGED = 68  # 2.04
CODE_CONTINUE = 95  # 2.31
CODE_REQUEST_ENTITY_INCOMPLETE = 136  # 4.08
CODE_REQUEST_ENTITY_TOO_LARGE = 141  # 4.13


def block_size(szx: int) -> int:
    """Block size in bytes for an SZX (RFC 7959 §2.2: 2**(SZX+4))."""
    if not MIN_SZX <= szx <= MAX_SZX:
        raise BlockOptionError(f"SZX {szx} out of range 0..6", szx=szx)
    return 16 << szx


def szx_for(size: int) -> int:
    """The SZX of a block size in bytes (16, 32, ... 1024)."""
    for szx in range(MIN_SZX, MAX_SZX + 1):
        if 16 << szx == size:
            return szx
    raise BlockOptionError(f"block size {size} is not a power of two in 16..1024", size=size)


@dataclass(frozen=True)
class Block:
    """A Block1/Block2 option value: block number, more flag, size exponent (RFC 7959 §2.2)."""

    num: int
    more: bool
    szx: int

    def __post_init__(self) -> None:
        if not 0 <= self.num <= MAX_NUM:
            raise BlockOptionError(f"block number {self.num} out of range", num=self.num)
        block_size(self.szx)

    @property
    def size(self) -> int:
        return 16 << self.szx

    @property
    def offset(self) -> int:
        return self.num * self.size

    def encode(self) -> int:
        """The option's integer value (NUM << 4 | M << 3 | SZX)."""
        return (self.num << 4) | (int(self.more) << 3) | self.szx

    @classmethod
    def decode(cls, value: int) -> Block:
        """Parse an option's integer value; SZX 7 (BERT) and NUM ≥ 2**20 are rejected."""
        if not 0 <= value < 1 << 24:
            raise BlockOptionError(f"block option value {value} out of range", value=value)
        szx = value & 7
        if szx == 7:
            raise BlockOptionError("SZX 7 (BERT) is only defined for reliable transports", value=value)
        return cls(value >> 4, bool(value & 8), szx)


# --- Block2 download -------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    """Where a download stands: what a device persists to resume after a reboot."""

    offset: int
    """Bytes at the start of the representation already delivered (and stored)."""
    etag: bytes | None = None
    size: int | None = None
    szx: int = MAX_SZX


@dataclass(frozen=True)
class BlockRequest:
    """One Block2 request the I/O layer must send (and retransmit until answered)."""

    block: Block
    generation: int
    ask_size: bool = False
    """Send Size2 = 0 to ask the server for the total size (RFC 7959 §4)."""
    etag: bytes | None = None

    @property
    def offset(self) -> int:
        return self.block.offset


@dataclass(frozen=True)
class DataReceived:
    """Contiguous bytes to store at ``offset`` (delivered strictly in order)."""

    offset: int
    data: bytes


@dataclass(frozen=True)
class Progress:
    received: int
    total: int | None


@dataclass(frozen=True)
class Restarted:
    """The representation changed; everything delivered so far must be discarded."""

    reason: str
    old_etag: bytes | None
    new_etag: bytes | None


@dataclass(frozen=True)
class Completed:
    size: int
    etag: bytes | None


Event = Union[DataReceived, Progress, Restarted, Completed]


@dataclass
class Block2Download:
    """Client side of a Block2 GET (RFC 7959 §2.4), sans-I/O.

    Call :meth:`requests` for the requests to send now, and :meth:`receive` with each answer
    (the :class:`BlockRequest` it answers, the response's Block2 option, payload, ETag and
    Size2). ``window`` > 1 keeps several requests outstanding once the server's block size and
    the total size are known (first response); blocks are delivered in order from a reorder
    buffer bounded by the window.
    """

    szx: int = MAX_SZX
    window: int = 1
    max_size: int = 16 << 20
    resume: Position | None = None
    max_restarts: int = 3
    reorder: int = 0
    """Most blocks outstanding plus held for in-order delivery (0: four times ``window``).
    A larger reorder buffer lets the window move past one block stuck in retransmission."""
    offset: int = field(init=False, default=0)
    etag: bytes | None = field(init=False, default=None)
    size: int | None = field(init=False, default=None)
    done: bool = field(init=False, default=False)
    restarts: int = field(init=False, default=0)
    _generation: int = field(init=False, default=0)
    _negotiated: bool = field(init=False, default=False)
    _etag_known: bool = field(init=False, default=False)
    _next_num: int = field(init=False, default=0)
    _outstanding: set[int] = field(init=False, default_factory=set)
    _buffer: dict[int, bytes] = field(init=False, default_factory=dict)
    _deliver_num: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        block_size(self.szx)
        if self.window < 1:
            raise ValueError("window must be at least 1")
        if self.reorder <= 0:
            self.reorder = 4 * self.window
        self.reorder = max(self.reorder, self.window)
        if self.resume is not None:
            r = self.resume
            if r.offset < 0 or r.offset > self.max_size:
                raise TransferTooLargeError("resume offset out of range", offset=r.offset)
            self.offset = r.offset
            self.etag = r.etag
            self._etag_known = r.etag is not None
            self.size = r.size
            self.szx = min(self.szx, r.szx)
        self._reset_cursor()

    # -- queries ------------------------------------------------------------------------

    @property
    def block_size(self) -> int:
        return 16 << self.szx

    def position(self) -> Position:
        return Position(self.offset, self.etag, self.size, self.szx)

    @property
    def outstanding(self) -> frozenset[int]:
        return frozenset(self._outstanding)

    def _reset_cursor(self) -> None:
        num = self.offset // self.block_size
        self._next_num = num
        self._deliver_num = num
        self._outstanding.clear()
        self._buffer.clear()

    def _last_num(self) -> int | None:
        if self.size is None:
            return None
        return max(0, (self.size - 1) // self.block_size)

    # -- the machine --------------------------------------------------------------------

    def requests(self, limit: int | None = None) -> list[BlockRequest]:
        """New requests to send now (each block number is handed out once per generation).

        At most ``window`` (or ``limit``, if smaller) blocks are outstanding or buffered; the
        window opens only once the first response fixed the block size and total size.
        """
        if self.done:
            return []
        cap = self.window if limit is None else max(1, min(limit, self.window))
        opened = self._negotiated and self.size is not None
        limit = cap if opened else 1
        held = self.reorder if opened else 1
        last = self._last_num()
        out: list[BlockRequest] = []
        while len(self._outstanding) < limit and len(self._outstanding) + len(self._buffer) < held:
            if last is not None and self._next_num > last:
                break
            num = self._next_num
            self._next_num += 1
            self._outstanding.add(num)
            out.append(
                BlockRequest(
                    Block(num, False, self.szx),
                    self._generation,
                    ask_size=not self._negotiated,
                    etag=self.etag if self._etag_known else None,
                )
            )
        return out

    def receive(
        self,
        request: BlockRequest,
        block: Block | None,
        payload: bytes,
        *,
        etag: bytes | None = None,
        size2: int | None = None,
    ) -> list[Event]:
        """Feed one 2.05 response to ``request``. Returns the events it causes, in order.

        A response without a Block2 option is the whole representation (RFC 7959 §2.4: the
        server may ignore Block2 for a small resource). Raises a :class:`BlockwiseError`
        subclass for a block that must not be used; the machine is unchanged then.
        """
        if self.done or request.generation != self._generation:
            return []  # stale answer from before a restart, or after completion
        if request.block.num not in self._outstanding:
            if request.block.num < self._deliver_num or request.block.num in self._buffer:
                raise DuplicateBlockError("block already received", num=request.block.num)
            raise UnexpectedBlockError("block was not requested", num=request.block.num)
        if block is None:
            return self._receive_whole(payload, etag, size2)
        if block.szx > request.block.szx:
            raise OversizedBlockError(
                "server answered with a larger block than requested",
                requested_szx=request.block.szx,
                szx=block.szx,
            )
        if block.offset != request.offset:
            raise WrongOffsetError(
                "response carries another block than requested",
                requested=request.block.num,
                got=block.num,
            )
        if self._negotiated and block.szx != self.szx:
            raise UnexpectedBlockError("block size changed mid-transfer", szx=block.szx)
        if len(payload) > block.size:
            raise OversizedBlockError(
                "block payload exceeds its size", length=len(payload), size=block.size
            )
        if block.more and len(payload) != block.size:
            raise BlockSizeError(
                "non-final block shorter than its size", length=len(payload), size=block.size
            )
        end = block.offset + len(payload)
        if end > self.max_size or (size2 is not None and size2 > self.max_size):
            raise TransferTooLargeError(
                "representation exceeds the size limit", size=size2 or end, limit=self.max_size
            )
        # ETag / Size2 pinning: a change means a new representation, restart from zero.
        changed = self._changed(etag, size2)
        if changed is not None:
            return self._restart(changed, etag)
        size = self.size if self.size is not None else size2
        if size is not None and not block.more and end != size:
            raise BlockSizeError("final block does not end at Size2", end=end, size=size)
        if size is not None and block.more and end >= size:
            raise BlockSizeError("block claims more data past Size2", end=end, size=size)
        # Accept.
        if not self._etag_known:
            self.etag, self._etag_known = etag, True
        if size is not None and self.offset > size:
            return self._restart("resume offset is past the end", etag)
        self.size = size
        if not self._negotiated:
            self._negotiated = True
            if block.szx != self.szx:  # the server chose a smaller block (RFC 7959 §2.4)
                self.szx = block.szx
                self._outstanding.discard(request.block.num)
                self._outstanding.add(block.num)
                self._next_num = block.num + 1
                self._deliver_num = block.num
        num = block.num
        self._outstanding.discard(num)
        if not block.more:
            self.size = end
            self._outstanding = {n for n in self._outstanding if n < num}
            self._next_num = min(self._next_num, num + 1)
        self._buffer[num] = payload
        return self._deliver(block.size)

    def _receive_whole(self, payload: bytes, etag: bytes | None, size2: int | None) -> list[Event]:
        """A response without Block2: the server sent the whole representation at once."""
        if self._negotiated:
            raise WrongOffsetError("response without Block2 in the middle of a transfer")
        if len(payload) > self.max_size:
            raise TransferTooLargeError("representation exceeds the size limit", size=len(payload))
        changed = self._changed(etag, len(payload))
        if changed is not None:
            return self._restart(changed, etag)
        self.etag, self._etag_known, self.size = etag, True, len(payload)
        self._negotiated = True
        self._outstanding.clear()
        events: list[Event] = []
        if self.offset < len(payload):
            events.append(DataReceived(self.offset, payload[self.offset :]))
        self.offset = len(payload)
        self.done = True
        return [*events, Progress(self.offset, self.size), Completed(self.size, self.etag)]

    def _changed(self, etag: bytes | None, size2: int | None) -> str | None:
        if self._etag_known and etag != self.etag:
            return "ETag changed"
        if size2 is not None and self.size is not None and size2 != self.size:
            return "Size2 changed"
        return None

    def _restart(self, reason: str, new_etag: bytes | None) -> list[Event]:
        self.restarts += 1
        if self.restarts > self.max_restarts:
            raise ResourceChangedError(
                f"{reason}; gave up after {self.max_restarts} restarts", restarts=self.restarts
            )
        old = self.etag
        self._generation += 1
        self.offset, self.etag, self._etag_known, self.size = 0, None, False, None
        self._negotiated = False
        self._reset_cursor()
        return [Restarted(reason, old, new_etag), Progress(0, None)]

    def _deliver(self, size: int) -> list[Event]:
        events: list[Event] = []
        while self._deliver_num in self._buffer:
            data = self._buffer.pop(self._deliver_num)
            start = self._deliver_num * size
            self._deliver_num += 1
            skip = self.offset - start  # resume inside a block: drop what is stored already
            if skip < 0:
                raise WrongOffsetError("gap in delivery", offset=self.offset, start=start)
            if skip < len(data):
                events.append(DataReceived(self.offset, data[skip:]))
                self.offset = start + len(data)
        if events or self.size is not None:
            events.append(Progress(self.offset, self.size))
        if self.size is not None and self.offset >= self.size:
            self.done = True
            events.append(Completed(self.size, self.etag))
        return events


# --- Block1 upload (client) ------------------------------------------------------------


@dataclass(frozen=True)
class UploadRequest:
    block: Block
    payload: bytes
    size1: int | None


@dataclass
class Block1Upload:
    """Client side of an atomic Block1 upload (RFC 7959 §2.5), sans-I/O."""

    body: bytes
    szx: int = MAX_SZX
    offset: int = field(init=False, default=0)
    done: bool = field(init=False, default=False)
    _sent: UploadRequest | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        block_size(self.szx)

    def next_request(self) -> UploadRequest | None:
        """The block to send now (None once the server accepted the whole body)."""
        if self.done:
            return None
        size = 16 << self.szx
        if self.offset % size:
            raise BlockOptionError("upload offset not aligned to the block size", offset=self.offset)
        chunk = self.body[self.offset : self.offset + size]
        more = self.offset + size < len(self.body)
        req = UploadRequest(
            Block(self.offset // size, more, self.szx),
            chunk,
            len(self.body) if self.offset == 0 else None,
        )
        self._sent = req
        return req

    def receive(self, code: int, block: Block | None, *, size1: int | None = None) -> bool:
        """Feed the response to the last request; True when the upload is complete."""
        sent = self._sent
        if sent is None:
            raise UnexpectedBlockError("response without a pending upload block")
        if code == CODE_REQUEST_ENTITY_TOO_LARGE:
            raise EntityTooLargeError("server refused the upload size (4.13)", size1=size1)
        if code == CODE_REQUEST_ENTITY_INCOMPLETE:
            raise RequestIncompleteError("server lost the upload's earlier blocks (4.08)")
        if code == CODE_CONTINUE:
            if not sent.block.more:
                raise UnexpectedBlockError("2.31 Continue to the final block")
            if block is None or block.num != sent.block.num:
                raise WrongOffsetError("2.31 Continue for another block", sent=sent.block.num)
            if block.szx > sent.block.szx:
                raise OversizedBlockError("server asked for a larger block", szx=block.szx)
            self.offset += len(sent.payload)
            self.szx = block.szx  # adopt a smaller size (RFC 7959 §2.5)
            self._sent = None
            return False
        if code >> 5 == 2:
            if sent.block.more:
                raise UnexpectedBlockError(
                    "server finished the upload before its last block", code=code
                )
            if block is not None and block.num != sent.block.num:
                raise WrongOffsetError("final response for another block", sent=sent.block.num)
            self.offset = len(self.body)
            self.done = True
            self._sent = None
            return True
        raise TransferFailedError(f"upload failed with code {code >> 5}.{code & 31:02d}", code=code)


# --- Block1 reassembly (server) --------------------------------------------------------


@dataclass
class Block1Assembly:
    """Server side of an atomic Block1 upload: in-order reassembly with a hard size cap.

    :meth:`feed` returns ``None`` while more blocks are expected (answer 2.31 with
    :meth:`continue_block`) and the whole body once the final block arrived. Gaps raise
    :class:`RequestIncompleteError` (4.08), oversize :class:`EntityTooLargeError` (4.13).
    """

    max_size: int
    max_szx: int = MAX_SZX
    _data: bytearray = field(init=False, default_factory=bytearray)
    _started: bool = field(init=False, default=False)

    @property
    def received(self) -> int:
        return len(self._data)

    def feed(self, block: Block | None, payload: bytes, *, size1: int | None = None) -> bytes | None:
        if size1 is not None and size1 > self.max_size:
            raise EntityTooLargeError("declared upload size too large", size1=self.max_size)
        if block is None:
            if len(payload) > self.max_size:
                raise EntityTooLargeError("upload too large", size1=self.max_size)
            return bytes(payload)
        if block.num == 0:
            self._data.clear()
            self._started = True
        elif (
            self._started
            and block.more
            and block.offset + len(payload) == len(self._data)
            and self._data[block.offset :] == payload
        ):
            return None  # the client repeated the last block (its 2.31 was lost): Continue again
        elif not self._started or block.offset != len(self._data):
            raise RequestIncompleteError(
                "block does not continue the upload", offset=block.offset, have=len(self._data)
            )
        if len(payload) > block.size or (block.more and len(payload) != block.size):
            raise BlockSizeError("block payload does not match its size", length=len(payload))
        if len(self._data) + len(payload) > self.max_size:
            self._data.clear()
            self._started = False
            raise EntityTooLargeError("upload too large", size1=self.max_size)
        self._data += payload
        if block.more:
            return None
        body = bytes(self._data)
        self._data.clear()
        self._started = False
        return body

    def continue_block(self, block: Block) -> Block:
        """The Block1 value of the 2.31 answer: echo NUM, M, and at most our SZX."""
        szx = min(block.szx, self.max_szx)
        return Block(block.num, True, szx)


# --- Block2 slicing (server) ------------------------------------------------------------


def slice_block2(total: int, requested: Block | None, max_szx: int = MAX_SZX) -> tuple[Block, int, int]:
    """The block to answer a Block2 request with, statelessly: ``(block, start, end)``.

    The size is the smaller of the request's and the server's (RFC 7959 §2.4); no request
    option means block 0 at the server's size. A block starting past the end raises
    :class:`UnexpectedBlockError` (the server answers 4.02 Bad Option).
    """
    if requested is None:
        szx, num = max_szx, 0
    elif requested.szx > max_szx:
        # Smaller server blocks: serve the first of ours inside the block the client asked for.
        szx = max_szx
        num = requested.offset // (16 << szx)
    else:
        szx, num = requested.szx, requested.num
    size = 16 << szx
    start = num * size
    if start >= total and not (total == 0 and num == 0):
        raise UnexpectedBlockError("block starts past the end", num=num, total=total)
    end = min(start + size, total)
    return Block(num, end < total, szx), start, end
