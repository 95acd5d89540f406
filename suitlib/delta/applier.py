"""The device-side applier: stream a patch into flash, resumable after power loss (DELTA-FORMAT §5-§7).

Sans-I/O apart from the :class:`~suitlib.flash.interface.FlashDevice` it is given. One
:class:`DeltaApplier` lives for one boot; after a reset, build a new one on the same flash and
feed the patch again from its first byte: it finds its checkpoint and fast-forwards.

A *pass* is one feeding of the patch (``begin_pass``, ``feed`` ..., ``end_pass``).
A resumed pass need not re-feed what is already in flash: once the header (and address map)
are in, :meth:`DeltaApplier.resume_offset` names the patch offset to continue from (the first
unfinished chunk, §6.3) and :meth:`DeltaApplier.seek` moves there; ``None`` means no more patch
bytes are needed. Feeding everything from byte 0 works too (finished chunks are skipped).
Sequential patches take one pass. A fresh in-place patch takes two: a dry run that checks the
whole patch against the intact source without writing anything, then the apply pass.
``end_pass`` returns ``True`` once the target is complete and verified.

Everything that can refuse a patch (header checksum, version, RAM above the budget, target
larger than the slot, wrong source digest, an in-place patch whose plan does not fit the
flash) is checked when the header arrives, before the first flash write.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from suitlib.delta.body import ChunkDecoder
from suitlib.delta.checkpoint import (
    PHASE_DONE,
    PHASE_SHIFT,
    PHASE_VERIFIED,
    PHASE_WRITE,
    Checkpoint,
    CheckpointLog,
)
from suitlib.delta.errors import (
    DeltaError,
    DeltaFormatError,
    DeltaLayoutError,
    DeltaRamError,
    DeltaSourceMismatchError,
    DeltaTargetMismatchError,
)
from suitlib.delta.format import (
    APPLIER_STATE,
    COMPRESSION_LZMA,
    COMPRESSION_LZSS,
    LZSS_DECODER_STATE,
    LZMA_DECODER_STATE,
    MAP_ENTRY_BYTES,
    SOURCE_BUFFER,
    PatchHeader,
    applier_ram,
    lzma_probs_bytes,
)
from suitlib.delta.stream import PatchStream
from suitlib.flash.interface import FlashDevice
from suitlib.limits import DEFAULT_LIMITS

COPY_PIECE = SOURCE_BUFFER
"""Bytes moved per read/program while shifting the source of an in-place patch."""


@dataclass(frozen=True)
class Region:
    """``size`` bytes of flash from ``offset``."""

    offset: int
    size: int

    @property
    def end(self) -> int:
        return self.offset + self.size

    def overlaps(self, other: Region) -> bool:
        return self.offset < other.end and other.offset < self.end


@dataclass(frozen=True)
class ApplyLayout:
    """Where the source image, the target slot and the checkpoint records live.

    Sequential patches read ``source`` and write ``target`` (two disjoint slots); in-place
    patches use one slot, ``source == target``. ``state`` is two or more erase sectors
    outside both.
    """

    source: Region
    target: Region
    state: Region

    @classmethod
    def single_slot(cls, slot: Region, state: Region) -> ApplyLayout:
        return cls(source=slot, target=slot, state=state)

    @property
    def in_place(self) -> bool:
        return self.source == self.target


@dataclass
class RamMeter:
    """Explicit buffer accounting: the high-water mark of every buffer the applier holds.

    ``model`` is the decompressor's state as a C decoder would allocate it (dictionary +
    probability slots + range decoder); every other entry is measured from the real buffers.
    """

    model: int = 0
    marks: dict[str, int] = field(default_factory=dict)

    def observe(self, name: str, size: int) -> None:
        if size > self.marks.get(name, 0):
            self.marks[name] = size

    @property
    def peak(self) -> int:
        return self.model + APPLIER_STATE + sum(self.marks.values())


class _Writer:
    """Programs target bytes at ``base + pos``: erases each sector on first touch (this boot),
    buffers less than one write unit, and reports every completed sector."""

    def __init__(self, flash: FlashDevice, base: int, start: int, meter: RamMeter,
                 on_sector_done: Callable[[int], None]) -> None:
        self.flash = flash
        self.base = base
        self.pos = start
        self.meter = meter
        self.on_sector_done = on_sector_done
        self.wu = flash.write_unit
        self.pending = bytearray()
        self.erased_end = base + start  # sectors below this address are not ours to erase
        self.sector_end = base + start

    def _enter(self, addr: int) -> None:
        sector = self.flash.sector_at(addr)
        if addr >= self.erased_end:
            self.flash.erase(sector.offset, sector.size)
            self.erased_end = sector.end
        self.sector_end = sector.end

    def write(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            addr = self.base + self.pos
            if addr >= self.sector_end:
                self._enter(addr)
            n = min(len(view), self.sector_end - addr)
            part = view[:n]
            view = view[n:]
            start_addr = addr - len(self.pending)
            if self.pending:
                need = self.wu - len(self.pending)
                self.pending += part[:need]
                part = part[need:]
                if len(self.pending) == self.wu:
                    self.flash.program(start_addr, bytes(self.pending))
                    start_addr += self.wu
                    self.pending.clear()
            whole = len(part) - len(part) % self.wu
            if whole:
                self.flash.program(start_addr, bytes(part[:whole]))
            if whole < len(part):
                self.pending += part[whole:]
            self.meter.observe("write-unit", len(self.pending))
            self.pos += n
            if self.base + self.pos == self.sector_end:
                self.on_sector_done(self.pos)

    def flush(self) -> None:
        if self.pending:
            addr = self.base + self.pos - len(self.pending)
            pad = bytes([self.flash.erase_value]) * (self.wu - len(self.pending))
            self.flash.program(addr, bytes(self.pending) + pad)
            self.pending.clear()


class DeltaApplier:
    """Apply one patch into flash across any number of resets (see the module docstring)."""

    def __init__(self, flash: FlashDevice, layout: ApplyLayout, *,
                 ram_budget: int = DEFAULT_LIMITS.patch_ram, verify_first: bool = False) -> None:
        for name, region in (("source", layout.source), ("target", layout.target),
                             ("state", layout.state)):
            if region.offset < 0 or region.size < 0 or region.end > flash.size:
                raise DeltaLayoutError(f"the {name} region is outside the flash", region=name)
        if layout.state.overlaps(layout.source) or layout.state.overlaps(layout.target):
            raise DeltaLayoutError("the checkpoint region overlaps a slot")
        if not layout.in_place and layout.source.overlaps(layout.target):
            raise DeltaLayoutError("source and target slots overlap but are not the same slot")
        self.flash = flash
        self.layout = layout
        self.ram_budget = ram_budget
        self.verify_first = verify_first
        """Sequential patches too get the dry run first, so a corrupt or truncated patch is
        refused before the staging slot is touched (costs one more pass over the patch)."""
        self.log = CheckpointLog(flash, layout.state.offset, layout.state.size)
        self.meter = RamMeter()
        self.header: PatchHeader | None = None
        self.finished = False
        self.passes = 0
        self.fed = 0
        """Patch bytes a driver delivered (bookkeeping for callers and tests)."""
        self._stream: PatchStream | None = None
        self._mode = ""  # "verify" | "apply" | "done"
        self._resume = 0
        self._jump: tuple[int, int] | None = None  # (patch offset, chunk) to continue at
        self._writer: _Writer | None = None
        self._hash: "hashlib._Hash | None" = None
        self._produced = 0

    # --- the pass protocol ----------------------------------------------------------------

    def begin_pass(self) -> None:
        """Start feeding the patch from its first byte."""
        if self.finished:
            raise DeltaError("the patch is already applied")
        self.passes += 1
        self._stream = PatchStream(on_header=self._on_header, open_chunk=self._open_chunk)
        self._writer = None
        self._hash = None
        self._produced = 0

    def feed(self, data: bytes) -> None:
        """The next bytes of the patch (any size)."""
        stream = self._stream
        if stream is None:
            raise DeltaError("feed() before begin_pass()")
        try:
            stream.feed(data)
        finally:
            self.meter.observe("header", stream.buffer_peak)

    def resume_offset(self) -> int | None:
        """The patch offset the next :meth:`feed` should start at, or ``None`` when no more
        patch bytes are needed (the target is complete, or the stream is).

        Until the header and address map are in, this is simply the next byte. After them, on
        a resumed apply, it is the start of the first chunk not yet durable in flash (from the
        checkpoint, §6.3): call :meth:`seek` with it and feed from there.
        """
        stream = self._stream
        if stream is None:
            raise DeltaError("resume_offset() outside a pass")
        if self._mode == "done" or stream.complete:
            return None
        jump = self._jump
        if jump is not None and stream.at_body_boundary and stream.offset <= jump[0]:
            return jump[0]
        return stream.offset

    def seek(self, offset: int) -> None:
        """The next fed byte is patch byte ``offset``: the current offset, or the one
        :meth:`resume_offset` names."""
        stream = self._stream
        if stream is None:
            raise DeltaError("seek() outside a pass")
        if offset == stream.offset:
            return
        jump = self._jump
        if jump is None or offset != self.resume_offset():
            raise DeltaError(f"cannot continue the patch at offset {offset}; "
                             f"continue at {self.resume_offset()}", offset=offset)
        header = self.header
        assert header is not None
        stream.jump(*jump)
        self._jump = None
        chunk = jump[1]
        self._produced = (header.chunk_span(chunk)[0] if chunk < header.chunk_count
                          else header.target_size)

    def end_pass(self) -> bool:
        """The patch has ended. ``True``: target complete and verified; ``False``: feed again."""
        stream = self._stream
        if stream is None:
            raise DeltaError("end_pass() before begin_pass()")
        if not (self._mode == "done" and stream.header is not None):
            stream.finish()
        header = stream.header
        assert header is not None
        self._stream = None
        if self._mode == "done":
            self.finished = True
            return True
        if self._mode == "verify":
            self._check_produced(header)
            digest = self._hash.digest() if self._hash else b""
            if not hmac.compare_digest(digest, header.target_digest):
                raise DeltaTargetMismatchError(
                    "dry run: the patch does not produce its target from this source; "
                    "nothing was written", expected=header.target_digest.hex(), actual=digest.hex())
            self.log.reset()
            self.log.append(patch_crc=header.header_crc, target_digest=header.target_digest,
                            phase=PHASE_VERIFIED)
            return False
        writer = self._writer
        if writer is not None:
            writer.flush()
        self._check_produced(header)
        digest = self._read_digest(self.layout.target.offset, header.target_size)
        if not hmac.compare_digest(digest, header.target_digest):
            raise DeltaTargetMismatchError("the image in the slot does not match the target digest",
                                           expected=header.target_digest.hex(), actual=digest.hex())
        self.log.append(patch_crc=header.header_crc, target_digest=header.target_digest,
                        phase=PHASE_DONE, progress=header.target_size)
        self.finished = True
        return True

    def _check_produced(self, header: PatchHeader) -> None:
        if self._produced != header.target_size:
            raise DeltaFormatError("the patch produced a target of the wrong size")

    # --- header: every refusal happens here, before any write -----------------------------

    def _on_header(self, header: PatchHeader) -> None:
        self.header = header
        lz = header.lzma
        wu = self.flash.write_unit
        needed = applier_ram(header.compression, header.window, lz.lc, lz.lp, write_unit=wu,
                             map_entries=header.map_entries)
        if header.ram_bytes > self.ram_budget:
            raise DeltaRamError(f"the patch needs {header.ram_bytes} bytes of applier RAM; "
                                f"this device allows {self.ram_budget}",
                                declared=header.ram_bytes, budget=self.ram_budget)
        if needed > header.ram_bytes:
            raise DeltaRamError(f"the patch declares {header.ram_bytes} bytes of RAM but its "
                                f"parameters need {needed} on this flash", declared=header.ram_bytes,
                                needed=needed)
        if header.compression == COMPRESSION_LZMA:
            self.meter.model = lz.dict_size + lzma_probs_bytes(lz.lc, lz.lp) + LZMA_DECODER_STATE
        elif header.compression == COMPRESSION_LZSS:
            self.meter.model = header.window + LZSS_DECODER_STATE
        plan = header.in_place
        layout = self.layout
        if (plan is not None) != layout.in_place:
            raise DeltaLayoutError(
                "an in-place patch needs a single-slot layout" if plan is not None else
                "a sequential patch needs separate source and target slots")
        if header.target_size > layout.target.size:
            raise DeltaLayoutError(f"the target ({header.target_size} bytes) is larger than the "
                                   f"slot ({layout.target.size} bytes)",
                                   target_size=header.target_size, slot_size=layout.target.size)
        if header.target_size:
            first = self.flash.sector_at(layout.target.offset)
            last = self.flash.sector_at(layout.target.offset + header.target_size - 1)
            if first.offset != layout.target.offset or last.end > layout.target.end:
                raise DeltaLayoutError("the target slot does not cover whole erase sectors",
                                       slot_offset=layout.target.offset)
        if header.source_size > layout.source.size:
            raise DeltaSourceMismatchError("the patch's source is larger than the source slot")
        if plan is not None:
            region = plan.region_size(header.source_size, header.target_size)
            if region > layout.target.size:
                raise DeltaLayoutError(f"the in-place plan needs {region} bytes of slot "
                                       f"(image + shift); the slot has {layout.target.size}",
                                       region_size=region, slot_size=layout.target.size)
            for boundary in range(0, region + 1, plan.segment_size):
                addr = layout.target.offset + boundary
                if addr < self.flash.size and self.flash.sector_at(addr).offset != addr:
                    raise DeltaLayoutError(f"in-place segments of {plan.segment_size} bytes do not "
                                           "fall on erase-sector boundaries of this flash",
                                           segment_size=plan.segment_size)
        latest = self.log.latest
        ours = latest is not None and latest.belongs_to(header.header_crc, header.target_digest)
        if ours and latest is not None and latest.phase == PHASE_DONE:
            # Done before; trust it only if the slot still holds the target.
            digest = self._read_digest(layout.target.offset, header.target_size)
            if hmac.compare_digest(digest, header.target_digest):
                self._mode = "done"
                return
            ours = False
            latest = None
        if ours:
            assert latest is not None
            if plan is None:
                self._check_source(header)  # the source slot is never written: check every boot
            self._resume_from(header, latest)
            return
        # Only a shift or write in progress has touched the slot (a verified record means the
        # slot still holds its whole source: the shift erases source segments only after it
        # recorded their move); the source digest check below decides in that case.
        if (latest is not None and latest.phase in (PHASE_SHIFT, PHASE_WRITE)
                and plan is not None):
            raise DeltaSourceMismatchError(
                "the slot holds a partly applied in-place update of another patch",
                hint="finish that update first (feed its patch again)")
        self._check_source(header)
        if plan is not None or self.verify_first:
            self._mode = "verify"
            self._hash = hashlib.sha256()
            return
        # Sequential, fresh start: the slot is staging space.
        self.log.reset()
        self._start_writing(header, 0)

    def _check_source(self, header: PatchHeader) -> None:
        digest = self._read_digest(self.layout.source.offset, header.source_size)
        if not hmac.compare_digest(digest, header.source_digest):
            raise DeltaSourceMismatchError(
                "the patch was made for another source image; nothing was written",
                hint="apply it to the image it was made from (see `suit delta info`)",
                expected=header.source_digest.hex(), actual=digest.hex())

    def _read_digest(self, offset: int, length: int) -> bytes:
        h = hashlib.sha256()
        for pos in range(0, length, SOURCE_BUFFER):
            n = min(SOURCE_BUFFER, length - pos)
            h.update(self.flash.read(offset + pos, n))
        return h.digest()

    def _resume_from(self, header: PatchHeader, rec: Checkpoint) -> None:
        if rec.phase in (PHASE_VERIFIED, PHASE_SHIFT):
            self._shift(header, rec.progress if rec.phase == PHASE_SHIFT else 0)
            self._start_writing(header, 0)
            return
        self._start_writing(header, rec.progress)
        # The record names the first unfinished chunk and where its section starts (§6.1);
        # a record inconsistent with the header only loses the shortcut.
        count = header.chunk_count
        if rec.chunk < count:
            start, end = header.chunk_span(rec.chunk)
            consistent = start <= rec.progress < end
        else:
            consistent = rec.chunk == count and rec.progress == header.target_size
        if consistent and rec.chunk_offset >= header.header_size:
            self._jump = (rec.chunk_offset, rec.chunk)

    def _shift(self, header: PatchHeader, moved: int) -> None:
        """Move the source up by the plan's shift, top segment first (§5.1)."""
        plan = header.in_place
        if plan is None or not plan.shift or not header.source_size:
            return
        seg = plan.segment_size
        base = self.layout.source.offset
        count = -(-header.source_size // seg)
        for j in range(count - 1 - moved, -1, -1):
            src = base + j * seg
            dst = src + plan.shift
            self.flash.erase(dst, seg)
            for pos in range(0, seg, COPY_PIECE):
                self.flash.program(dst + pos, self.flash.read(src + pos, COPY_PIECE))
            self.log.append(patch_crc=header.header_crc, target_digest=header.target_digest,
                            phase=PHASE_SHIFT, progress=count - j)

    def _start_writing(self, header: PatchHeader, resume: int) -> None:
        self._mode = "apply"
        self._resume = resume

        def sector_done(pos: int) -> None:
            # Record the first chunk that is not complete in flash and its patch offset (§6.1).
            stream = self._stream
            assert stream is not None
            chunk, offset = stream.chunk, stream.chunk_offset
            if pos >= header.chunk_span(chunk)[1]:
                chunk, offset = chunk + 1, stream.chunk_end
            self.log.append(patch_crc=header.header_crc, target_digest=header.target_digest,
                            phase=PHASE_WRITE, progress=pos, chunk=chunk, chunk_offset=offset)

        self._writer = _Writer(self.flash, self.layout.target.offset, resume, self.meter,
                               sector_done)

    # --- body -----------------------------------------------------------------------------

    def _open_chunk(self, index: int, _offset: int) -> ChunkDecoder | None:
        header = self.header
        assert header is not None
        start, end = header.chunk_span(index)
        if self._mode == "done" or end <= self._resume:
            self._produced = end
            return None
        self._produced = end
        skip = max(0, self._resume - start)
        base = self.layout.source.offset
        if self._mode == "apply" and header.in_place is not None:
            base += header.in_place.shift
        meter = self.meter
        flash = self.flash
        if self._stream is not None:
            meter.observe("map", MAP_ENTRY_BYTES * len(self._stream.amap))

        def read(offset: int, length: int) -> bytes:
            meter.observe("source", length)
            meter.observe("sum", length)
            meter.observe("window", length)
            return flash.read(base + offset, length)

        if self._mode == "verify":
            h = self._hash
            assert h is not None

            def emit(data: bytes | memoryview) -> None:
                h.update(data)
        else:
            writer = self._writer
            assert writer is not None
            emit = writer.write
        return _MeteredDecoder(meter, length=end - start, source_size=header.source_size,
                               read=read, emit=emit, skip=skip, chunk_index=index,
                               target_base=start, plan=header.in_place,
                               sites=self._stream.sites if self._stream else None,
                               amap=self._stream.amap if self._stream else None)


class _MeteredDecoder(ChunkDecoder):
    """A chunk decoder that reports the size of its partial-command buffer."""

    def __init__(self, meter: RamMeter, **kw: Any) -> None:
        super().__init__(**kw)
        self._meter = meter

    def feed(self, data: bytes | memoryview) -> None:
        self._meter.observe("decoded", len(data))
        super().feed(data)
        self._meter.observe("command", len(self._pending))
        self._meter.observe("window", len(self._win))


def apply_to_flash(flash: FlashDevice, layout: ApplyLayout, patch: bytes, *,
                   ram_budget: int = DEFAULT_LIMITS.patch_ram, block: int = 1024,
                   max_passes: int = 3, verify_first: bool = False,
                   from_resume_offset: bool = False) -> DeltaApplier:
    """Drive a :class:`DeltaApplier` over ``patch`` delivered in ``block``-byte pieces.

    With ``from_resume_offset`` the driver behaves like a download that can start anywhere:
    it asks :meth:`DeltaApplier.resume_offset` before every block and skips there.
    ``applier.fed`` counts the patch bytes delivered (over all passes).
    """
    applier = DeltaApplier(flash, layout, ram_budget=ram_budget, verify_first=verify_first)
    for _ in range(max_passes):
        applier.begin_pass()
        pos = 0
        while pos < len(patch):
            if from_resume_offset:
                nxt = applier.resume_offset()
                if nxt is None:
                    break
                applier.seek(nxt)
                pos = nxt
            piece = patch[pos : pos + block]
            applier.fed += len(piece)
            applier.feed(piece)
            pos += block
        if applier.end_pass():
            return applier
    raise DeltaError("the patch did not complete in the expected number of passes")


__all__ = ["ApplyLayout", "DeltaApplier", "RamMeter", "Region", "apply_to_flash"]
