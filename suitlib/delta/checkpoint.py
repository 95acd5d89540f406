"""Progress checkpoints of a delta apply, kept in a small flash region (DELTA-FORMAT §6).

The region is two or more erase sectors used as a ring of fixed-size record slots. A record is
programmed once into a blank slot (write-once/ECC safe) and is valid only if its magic and
CRC-32 hold, so a torn program or a torn erase leaves either a valid older record or garbage that
is ignored. The newest valid record (highest sequence number) wins. After a reset, appending
starts two slots after the last slot that does not read blank, so a slot whose torn program
reads back as erased (unstable bits) is never programmed twice. When a sector is full the next
sector is erased first; records of the newest sector survive a torn erase of another.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from suitlib.delta.errors import DeltaLayoutError
from suitlib.flash.interface import FlashDevice

RECORD_MAGIC = b"SDCK"
_RECORD = struct.Struct("<4sII8sBxxxIII")  # magic seq patch_crc target8 phase progress chunk chunk_off
RECORD_BODY = _RECORD.size + 4  # + crc32

PHASE_WRITE = 1
"""Writing the target; ``progress`` bytes of it are durable."""
PHASE_VERIFIED = 2
"""In-place: source and patch verified by a dry run; nothing written to the slot yet."""
PHASE_SHIFT = 3
"""In-place: ``progress`` source segments (from the top) have been moved up by the shift."""
PHASE_DONE = 4
"""The target is complete and its digest checked."""
PHASE_NAMES = {PHASE_WRITE: "write", PHASE_VERIFIED: "verified", PHASE_SHIFT: "shift",
               PHASE_DONE: "done"}


@dataclass(frozen=True)
class Checkpoint:
    """One decoded record (§6.1)."""

    seq: int
    patch_crc: int
    target_prefix: bytes
    phase: int
    progress: int = 0
    chunk: int = 0
    chunk_offset: int = 0

    def belongs_to(self, patch_crc: int, target_digest: bytes) -> bool:
        return self.patch_crc == patch_crc and self.target_prefix == target_digest[:8]


class CheckpointLog:
    """The record ring in ``[offset, offset + size)`` of ``flash``."""

    def __init__(self, flash: FlashDevice, offset: int, size: int) -> None:
        self.flash = flash
        self.offset = offset
        self.size = size
        sectors = []
        pos = offset
        while pos < offset + size:
            sector = flash.sector_at(pos)
            if sector.offset != pos or sector.end > offset + size:
                raise DeltaLayoutError("the checkpoint region must be whole erase sectors",
                                       offset=offset, size=size)
            sectors.append(sector)
            pos = sector.end
        if len(sectors) < 2:
            raise DeltaLayoutError("the checkpoint region needs at least two erase sectors",
                                   offset=offset, size=size)
        wu = flash.write_unit
        self.record_size = -(-RECORD_BODY // wu) * wu
        self.sectors = tuple(sectors)
        self._blank = bytes([flash.erase_value]) * self.record_size
        self.latest: Checkpoint | None = None
        self._next: tuple[int, int] | None = None  # (sector index, slot index)
        self._scan()

    def _slots(self, si: int) -> int:
        return self.sectors[si].size // self.record_size

    def _slot_addr(self, si: int, slot: int) -> int:
        return self.sectors[si].offset + slot * self.record_size

    def _decode(self, raw: bytes) -> Checkpoint | None:
        body, crc = raw[: _RECORD.size], raw[_RECORD.size : RECORD_BODY]
        if body[:4] != RECORD_MAGIC or struct.unpack("<I", crc)[0] != zlib.crc32(body):
            return None
        _, seq, patch_crc, target8, phase, progress, chunk, chunk_off = _RECORD.unpack(body)
        if phase not in PHASE_NAMES:
            return None
        return Checkpoint(seq, patch_crc, target8, phase, progress, chunk, chunk_off)

    def _scan(self) -> None:
        best: tuple[int, int, int] | None = None  # (seq, sector, slot)
        last_used: dict[int, int] = {}
        for si in range(len(self.sectors)):
            for slot in range(self._slots(si)):
                rec_raw = self.flash.read(self._slot_addr(si, slot), self.record_size)
                if rec_raw != self._blank:
                    last_used[si] = slot
                rec = self._decode(rec_raw)
                if rec is not None and (best is None or rec.seq > best[0]):
                    best = (rec.seq, si, slot)
                    self.latest = rec
        if best is None:
            self._next = None
            return
        _, si, _ = best
        # Two slots past the last non-blank one: skips a torn slot that reads blank.
        nxt = last_used.get(si, -1) + 2
        self._next = (si, nxt) if nxt < self._slots(si) else None
        self._active = si

    def reset(self) -> None:
        """Forget every record: erase the whole region (a fresh apply)."""
        for sector in self.sectors:
            self.flash.erase(sector.offset, sector.size)
        self.latest = None
        self._active = 0
        self._next = (0, 0)

    def append(self, *, patch_crc: int, target_digest: bytes, phase: int, progress: int = 0,
               chunk: int = 0, chunk_offset: int = 0) -> Checkpoint:
        """Program the next record (erasing the next sector first when the current is full)."""
        seq = self.latest.seq + 1 if self.latest else 1
        if self._next is None:
            si = (getattr(self, "_active", -1) + 1) % len(self.sectors)
            sector = self.sectors[si]
            self.flash.erase(sector.offset, sector.size)
            self._next = (si, 0)
        si, slot = self._next
        body = _RECORD.pack(RECORD_MAGIC, seq, patch_crc, target_digest[:8], phase, progress,
                            chunk, chunk_offset)
        raw = body + struct.pack("<I", zlib.crc32(body))
        raw += bytes([self.flash.erase_value]) * (self.record_size - len(raw))
        self.flash.program(self._slot_addr(si, slot), raw)
        rec = Checkpoint(seq, patch_crc, target_digest[:8], phase, progress, chunk, chunk_offset)
        self.latest = rec
        self._active = si
        self._next = (si, slot + 1) if slot + 1 < self._slots(si) else None
        return rec
