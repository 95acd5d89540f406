"""The download position a device keeps in flash, safe against power loss.

Layout (``specs/COAP-TRANSPORT.md`` §"Resume record"): a region of two equal halves, each one
or more erase sectors. Each half is an append-only log of fixed-size slots; a slot holds one
record::

    magic "SRSM" | version u8 | szx u8 | etag_len u8 | reserved u8 | seq u32 | offset u32 |
    size u32 (0xFFFFFFFF = unknown) | transfer_id 8 B | etag 8 B | crc32 u32     (all big endian)

A record is valid only if its CRC-32 over all preceding bytes matches. The newest valid record
(highest ``seq``) wins. A save appends to the half holding the newest record; when that half is
full, the *other* half is erased and the record goes to its first slot. A cut during a program
leaves a torn slot whose CRC fails (the previous record still stands); a cut during an erase
only touches the half that does not hold the newest record. Slots are programmed once between
erases, so write-once (ECC) flash works too; there the first save after a reboot skips one
slot, because an interrupted program may have consumed a slot that still reads as erased.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from suitlib.errors import FlashError
from suitlib.flash.interface import FlashDevice
from suitlib.transport.blockwise import Position

MAGIC = b"SRSM"
VERSION = 1
_FMT = ">4sBBBBIII8s8s"
_BODY = struct.calcsize(_FMT)
RECORD_SIZE = _BODY + 4
UNKNOWN_SIZE = 0xFFFFFFFF


@dataclass(frozen=True)
class ResumeRecord:
    """What a device needs to continue a download after a reboot."""

    transfer_id: bytes
    """8 bytes naming the transfer (e.g. the payload digest prefix); a record for another
    transfer is ignored."""
    position: Position
    seq: int = 0

    def encode(self) -> bytes:
        p = self.position
        etag = p.etag or b""
        if len(etag) > 8:
            raise ValueError("ETag longer than 8 bytes (RFC 7252 §5.10.6)")
        if len(self.transfer_id) != 8:
            raise ValueError("transfer_id must be 8 bytes")
        body = struct.pack(
            _FMT,
            MAGIC,
            VERSION,
            p.szx,
            len(etag) if p.etag is not None else 0xFF,
            0,
            self.seq & 0xFFFFFFFF,
            p.offset,
            UNKNOWN_SIZE if p.size is None else p.size,
            self.transfer_id,
            etag.ljust(8, b"\0"),
        )
        return body + struct.pack(">I", zlib.crc32(body))

    @classmethod
    def decode(cls, raw: bytes) -> ResumeRecord | None:
        """The record in ``raw``, or None if it is erased, torn or not a record."""
        if len(raw) < RECORD_SIZE or raw[:4] != MAGIC:
            return None
        body, crc = raw[:_BODY], raw[_BODY:RECORD_SIZE]
        if struct.unpack(">I", crc)[0] != zlib.crc32(body):
            return None
        _, version, szx, etag_len, _, seq, offset, size, tid, etag = struct.unpack(_FMT, body)
        if version != VERSION or szx > 6 or (etag_len > 8 and etag_len != 0xFF):
            return None
        return cls(
            tid,
            Position(
                offset,
                None if etag_len == 0xFF else etag[:etag_len],
                None if size == UNKNOWN_SIZE else size,
                szx,
            ),
            seq,
        )


class FlashResumeStore:
    """Keeps the newest :class:`ResumeRecord` in ``[base, base + length)`` of a flash device.

    ``length`` must be two or more whole erase sectors that split into two halves on sector
    boundaries.
    """

    def __init__(self, flash: FlashDevice, base: int, length: int) -> None:
        self.flash = flash
        half = length // 2
        for start in (base, base + half):
            if flash.sector_at(start).offset != start:
                raise FlashError("resume region halves must start on sector boundaries", at=start)
        end_sector = flash.sector_at(base + length - 1)
        if end_sector.end != base + length:
            raise FlashError("resume region must end on a sector boundary", end=base + length)
        unit = flash.write_unit
        self.slot = -(-RECORD_SIZE // unit) * unit
        self.halves = (base, base + half)
        self.half_size = half
        self.slots_per_half = half // self.slot
        if self.slots_per_half < 2:
            raise FlashError("resume region too small for two records per half", length=length)
        self._fresh = True

    def _slot_addr(self, half: int, index: int) -> int:
        return self.halves[half] + index * self.slot

    def _scan(self) -> tuple[ResumeRecord | None, int | None, int]:
        """(newest record, its half, index of the first free slot after it in that half)."""
        best: tuple[ResumeRecord, int] | None = None
        used = [0, 0]
        erased = bytes([self.flash.erase_value]) * self.slot
        for half in (0, 1):
            raw = self.flash.read(self.halves[half], self.slots_per_half * self.slot)
            for i in range(self.slots_per_half):
                chunk = raw[i * self.slot : (i + 1) * self.slot]
                if chunk != erased:
                    used[half] = i + 1
                rec = ResumeRecord.decode(chunk)
                if rec is not None and (best is None or rec.seq > best[0].seq):
                    best = (rec, half)
        if best is None:
            return None, None, 0
        return best[0], best[1], used[best[1]]

    def load(self, transfer_id: bytes | None = None) -> ResumeRecord | None:
        """The newest valid record (for ``transfer_id`` if given), or None."""
        rec, _, _ = self._scan()
        if rec is None or (transfer_id is not None and rec.transfer_id != transfer_id):
            return None
        return rec

    def save(self, transfer_id: bytes, position: Position) -> ResumeRecord:
        """Append a new newest record (erasing the other half first when this one is full)."""
        newest, half, free = self._scan()
        if self._fresh and self.flash.write_once:
            # A program cut before this boot may have used a slot that still reads as erased;
            # on write-once flash that slot must not be programmed again, so skip one.
            free += 1
        self._fresh = False
        seq = 1 if newest is None else newest.seq + 1
        rec = ResumeRecord(transfer_id, position, seq)
        raw = rec.encode().ljust(self.slot, bytes([self.flash.erase_value]))
        if half is None or free >= self.slots_per_half:
            target = 0 if half is None else 1 - half
            if half is None and self._dirty(0):
                target = 1 if not self._dirty(1) else 0
            if self._dirty(target):
                self.flash.erase(self.halves[target], self.half_size)
            self.flash.program(self._slot_addr(target, 0), raw)
        else:
            self.flash.program(self._slot_addr(half, free), raw)
        return rec

    def _dirty(self, half: int) -> bool:
        raw = self.flash.read(self.halves[half], self.half_size)
        return raw != bytes([self.flash.erase_value]) * self.half_size

    def clear(self) -> None:
        """Forget any download (erase both halves; a cut leaves either state, both valid)."""
        for half in (1, 0):
            if self._dirty(half):
                self.flash.erase(self.halves[half], self.half_size)
