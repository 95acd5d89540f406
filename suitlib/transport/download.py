"""A resumable download: the Block2 machine, a sink, and the resume record, glued (sans-I/O).

:class:`Downloader` is what a device's fetch loop drives: ask it for :meth:`~Downloader.requests`,
send them, feed each answer to :meth:`~Downloader.receive`. Data goes to the sink in order; the
position is checkpointed to flash (:class:`~suitlib.transport.resume.FlashResumeStore`) only
after the sink reports the bytes durable, so a reboot resumes at a position whose bytes are
really stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol, runtime_checkable

from suitlib.errors import FlashError
from suitlib.flash.interface import FlashDevice
from suitlib.transport.blockwise import (
    MAX_SZX,
    Block,
    Block2Download,
    BlockRequest,
    Completed,
    DataReceived,
    Event,
    Position,
    Progress,
    Restarted,
)
from suitlib.transport.resume import FlashResumeStore


@runtime_checkable
class Sink(Protocol):
    """Where downloaded bytes go: ``write(offset, data)`` in increasing, contiguous order.

    Optional: ``restart()`` (the representation changed: forget everything, offsets start
    at 0 again), ``committed`` (bytes durably stored, for the resume record),
    ``prepare_resume(offset)`` and ``finish()``. A plain sink sees offset 0 again on a restart.
    """

    def write(self, offset: int, data: bytes) -> None: ...


class _CallableSink:
    def __init__(self, fn: Callable[[int, bytes], None]) -> None:
        self.write = fn


def as_sink(target: Sink | Callable[[int, bytes], None]) -> Sink:
    """Accept a sink object or a plain ``fn(offset, data)`` callable."""
    if hasattr(target, "write"):
        return target  # type: ignore[return-value]
    if callable(target):
        return _CallableSink(target)  # type: ignore[return-value]
    raise TypeError("sink must have write(offset, data) or be callable")


class BytesSink:
    """An in-memory sink (for envelopes and tests)."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def write(self, offset: int, data: bytes) -> None:
        if offset != len(self.buffer):
            del self.buffer[offset:]
        self.buffer += data

    def restart(self) -> None:
        self.buffer.clear()

    @property
    def committed(self) -> int:
        return len(self.buffer)

    def getvalue(self) -> bytes:
        return bytes(self.buffer)


class FlashSink:
    """Writes a download into ``[base, base + length)`` of a flash device (e.g. slot B).

    A sector is erased when the download writes its first byte, so a resumed download never
    erases what it already stored. Every program is read back (``verify``). Data is programmed in whole write units; the tail below a
    unit waits in RAM and is padded with the erase value by :meth:`finish`. :attr:`committed`
    is the number of bytes really in flash.
    """

    def __init__(self, flash: FlashDevice, base: int, length: int, *, verify: bool = True) -> None:
        self.verify = verify
        if flash.sector_at(base).offset != base:
            raise FlashError("download region must start on a sector boundary", base=base)
        self.flash, self.base, self.length = flash, base, length
        self.committed = 0
        self._tail = b""

    def prepare_resume(self, offset: int) -> int:
        """The offset a resumed download may continue from (≤ ``offset``).

        Bytes past ``offset`` may have been programmed (or torn) before the cut without being
        recorded. On ordinary NOR, programming the same bytes again completes a torn program
        (it only clears the bits still missing), and the pinned ETag guarantees the same bytes,
        so the download continues at ``offset``. On write-once (ECC) flash a unit cannot be
        programmed twice, and an interrupted program may have used a unit that still reads as
        erased, so the download backs off to the start of the sector (erased again on write).
        """
        unit = self.flash.write_unit
        offset = min(offset, self.length) // unit * unit
        if offset and self.flash.write_once:
            offset = self.flash.sector_at(self.base + offset).offset - self.base
        self.committed, self._tail = offset, b""
        return offset

    def restart(self) -> None:
        self.committed, self._tail = 0, b""

    def write(self, offset: int, data: bytes) -> None:
        if offset != self.committed + len(self._tail):
            raise FlashError("flash sink writes must be contiguous", offset=offset)
        if offset + len(data) > self.length:
            raise FlashError("download larger than its flash region", end=offset + len(data))
        buf = self._tail + data
        unit = self.flash.write_unit
        whole = len(buf) // unit * unit
        self._program(self.committed, buf[:whole])
        self.committed += whole
        self._tail = buf[whole:]

    def _program(self, offset: int, data: bytes) -> None:
        pos = 0
        while pos < len(data):
            addr = self.base + offset + pos
            sector = self.flash.sector_at(addr)
            if addr == sector.offset:
                self.flash.erase(sector.offset, sector.size)
            n = min(len(data) - pos, sector.end - addr)
            chunk = data[pos : pos + n]
            self.flash.program(addr, chunk)
            if self.verify and self.flash.read(addr, n) != chunk:
                raise FlashError("flash read-back differs from what was programmed", address=addr)
            pos += n

    def finish(self) -> None:
        """Program the last partial write unit, padded with the erase value."""
        if self._tail:
            unit = self.flash.write_unit
            padded = self._tail.ljust(unit, bytes([self.flash.erase_value]))
            self._program(self.committed, padded)
            self.committed += len(self._tail)
            self._tail = b""


@dataclass
class Downloader:
    """A Block2 download into a sink, checkpointed to a resume store every ``checkpoint`` bytes."""

    machine: Block2Download
    sink: Sink
    store: FlashResumeStore | None = None
    transfer_id: bytes = b"\0" * 8
    checkpoint: int = 1024
    progress: Callable[[int, int | None], None] | None = None
    _saved: int = 0

    @classmethod
    def start(
        cls,
        sink: Sink | Callable[[int, bytes], None],
        *,
        store: FlashResumeStore | None = None,
        transfer_id: bytes = b"\0" * 8,
        szx: int = MAX_SZX,
        window: int = 1,
        reorder: int = 0,
        max_size: int = 16 << 20,
        resume_offset: int | None = None,
        checkpoint: int = 1024,
        progress: Callable[[int, int | None], None] | None = None,
    ) -> Downloader:
        """Begin (or resume, from the store's record or ``resume_offset``) a download."""
        sink = as_sink(sink)
        position: Position | None = None
        if store is not None:
            rec = store.load(transfer_id)
            if rec is not None:
                position = rec.position
        if resume_offset is not None:
            position = Position(resume_offset, None, None, szx)
        if position is not None and hasattr(sink, "prepare_resume"):
            usable = sink.prepare_resume(position.offset)
            position = Position(usable, position.etag, position.size, position.szx)
        machine = Block2Download(
            szx=szx, window=window, reorder=reorder, max_size=max_size, resume=position
        )
        dl = cls(machine, sink, store, transfer_id, checkpoint, progress)
        dl._saved = machine.offset
        return dl

    @property
    def done(self) -> bool:
        return self.machine.done

    def requests(self, limit: int | None = None) -> list[BlockRequest]:
        return self.machine.requests(limit)

    def receive(
        self,
        request: BlockRequest,
        block: Block | None,
        payload: bytes,
        *,
        etag: bytes | None = None,
        size2: int | None = None,
    ) -> list[Event]:
        events = self.machine.receive(request, block, payload, etag=etag, size2=size2)
        for ev in events:
            self._apply(ev)
        return events

    def _committed(self) -> int:
        return int(getattr(self.sink, "committed", self.machine.offset))

    def _apply(self, ev: Event) -> None:
        if isinstance(ev, DataReceived):
            self.sink.write(ev.offset, ev.data)
            durable = self._committed()
            if self.store is not None and durable - self._saved >= self.checkpoint:
                self._save(durable)
        elif isinstance(ev, Restarted):
            restart = getattr(self.sink, "restart", None)
            if restart is not None:
                restart()
            self._saved = 0
            if self.store is not None:
                self.store.save(self.transfer_id, Position(0, None, None, self.machine.szx))
        elif isinstance(ev, Completed):
            finish = getattr(self.sink, "finish", None)
            if finish is not None:
                finish()
            if self.store is not None:
                self._save(ev.size)
        elif isinstance(ev, Progress) and self.progress is not None:
            self.progress(ev.received, ev.total)

    def _save(self, offset: int) -> None:
        m = self.machine
        assert self.store is not None
        self.store.save(self.transfer_id, Position(offset, m.etag, m.size, m.szx))
        self._saved = offset
