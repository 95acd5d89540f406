"""The update agent's persistent state: a small record ring in flash, safe against power loss.

The ring is two or more erase sectors cut into fixed slots. A record is programmed once into a
blank slot and holds ``magic "SMOT" | seq u32 | length u16 | 0 u16 | CBOR body | crc32``; it is
valid only if its CRC matches, so a torn program leaves the previous record in force. The newest
valid record (highest seq) wins. When the next slot lies in another sector, that sector is
erased first; it never holds the newest record. After a reset the first save skips one slot, so
a slot whose interrupted program reads back as blank is never programmed twice (write-once
flash).

The body is a CBOR map of :class:`AgentState` fields; everything the agent must know after a
reboot is here — nothing lives only in RAM.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import cbor2

from suitlib.errors import FlashError
from suitlib.flash.interface import FlashDevice

MAGIC = b"SMOT"
_HEAD = struct.Struct("<4sIHH")

IDLE = "idle"
INSTALLING = "installing"   # the envelope was accepted for processing; the staging slot is being written
PENDING = "pending"         # the candidate is complete in the staging slot (reports prepared)
REQUESTED = "requested"     # a test swap was requested from the bootloader
DONE = "done"               # outcome known, report waiting to be posted
PHASES = (IDLE, INSTALLING, PENDING, REQUESTED, DONE)

UPDATED, REVERTED, REFUSED = "updated", "reverted", "refused"


@dataclass(frozen=True)
class AgentState:
    """What the agent keeps across reboots."""

    phase: str = IDLE
    envelope: bytes = b""            # sha256 of the envelope being handled
    sequence: int | None = None      # sequence number of the last installed manifest (anti-rollback)
    outcome: str = ""
    reason: str = ""
    report: bytes = b""              # the SUIT_Report to post once the outcome is known
    ok_report: bytes = b""           # prepared at install time: sent if the new image confirms
    revert_report: bytes = b""       # prepared at install time: sent if it is reverted
    reported: bool = True
    handled: tuple[bytes, ...] = field(default_factory=tuple)
    """Envelope digests already handled (installed, refused or reverted): never tried again."""

    def to_cbor(self) -> bytes:
        d = asdict(self)
        d["handled"] = list(self.handled)
        return cbor2.dumps(d, canonical=True)

    @classmethod
    def from_cbor(cls, data: bytes) -> AgentState:
        d = dict(cbor2.loads(data))
        d["handled"] = tuple(d.get("handled", ()))
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

    def but(self, **changes: Any) -> AgentState:
        return replace(self, **changes)


class StateStore:
    """The record ring in ``[offset, offset + length)`` of ``flash``."""

    def __init__(self, flash: FlashDevice, offset: int, length: int, *, slot: int = 2048) -> None:
        first, last = flash.sector_at(offset), flash.sector_at(offset + length - 1)
        if first.offset != offset or last.end != offset + length:
            raise FlashError("state region must be whole sectors", offset=offset)
        self.flash = flash
        sectors = [s for s in flash.sectors if offset <= s.offset < offset + length]
        if len(sectors) < 2:
            raise FlashError("state region needs two sectors or more", offset=offset)
        unit = flash.write_unit
        self.slots: list[tuple[int, int]] = []  # (address, sector index)
        for i, s in enumerate(sectors):
            size = min(slot, s.size)
            size -= size % unit
            for a in range(s.offset, s.end - size + 1, size):
                self.slots.append((a, i))
        self.sectors = sectors
        self.slot_size = min(slot, min(s.size for s in sectors))
        self.slot_size -= self.slot_size % unit
        self._fresh = True

    def _decode(self, raw: bytes) -> tuple[int, bytes] | None:
        if raw[:4] != MAGIC:
            return None
        _, seq, length, _ = _HEAD.unpack_from(raw)
        end = _HEAD.size + length
        if end + 4 > len(raw):
            return None
        (crc,) = struct.unpack_from("<I", raw, end)
        if zlib.crc32(raw[:end]) != crc:
            return None
        return seq, raw[_HEAD.size : end]

    def _scan(self) -> tuple[int, int, bytes | None, int]:
        """(index of newest, its seq, body, index of the last non-blank slot after it in its sector)."""
        best = (-1, -1, None)
        blank = bytes([self.flash.erase_value]) * self.slot_size
        raws = [self.flash.read(a, self.slot_size) for a, _ in self.slots]
        for i, raw in enumerate(raws):
            rec = self._decode(raw)
            if rec is not None and rec[0] > best[1]:
                best = (i, rec[0], rec[1])
        idx = best[0]
        last = idx
        if idx >= 0:
            j = idx + 1
            while j < len(self.slots) and self.slots[j][1] == self.slots[idx][1]:
                if raws[j] != blank:
                    last = j
                j += 1
        return idx, best[1], best[2], last

    def load(self) -> AgentState | None:
        _, _, body, _ = self._scan()
        if body is None:
            return None
        try:
            return AgentState.from_cbor(body)
        except Exception:  # noqa: BLE001 - a record whose CRC holds but whose body we cannot read
            return None

    def save(self, state: AgentState) -> None:
        body = state.to_cbor()
        raw = _HEAD.pack(MAGIC, 0, len(body), 0)
        if len(raw) + len(body) + 4 > self.slot_size:
            raise FlashError("agent state record larger than a slot", size=len(body))
        idx, seq, _, last = self._scan()
        target = last + 1 + (1 if self._fresh and idx >= 0 else 0)
        self._fresh = False
        newest_sector = self.slots[idx][1] if idx >= 0 else -1
        if target >= len(self.slots) or self.slots[target][1] != newest_sector:
            nxt = (newest_sector + 1) % len(self.sectors)
            target = next(i for i, (_, s) in enumerate(self.slots) if s == nxt)
            sector = self.sectors[nxt]
            self.flash.erase(sector.offset, sector.size)
        elif idx < 0:
            target = 0
            self.flash.erase(self.sectors[0].offset, self.sectors[0].size)
        head = _HEAD.pack(MAGIC, seq + 1 if seq >= 0 else 1, len(body), 0) + body
        record = head + struct.pack("<I", zlib.crc32(head))
        unit = self.flash.write_unit
        record += bytes([self.flash.erase_value]) * (-len(record) % unit)
        self.flash.program(self.slots[target][0], record)
