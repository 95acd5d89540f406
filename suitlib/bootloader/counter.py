"""The anti-rollback security counter in flash (specs/FLASH-LAYOUT.md §Security counter).

Two one-sector logs A and B of 8-byte-payload records ``0x31 | u56 value``. The value is the
maximum over every valid record of both; it never decreases. An update appends to the log that
holds the current maximum; when that log is full it writes the new value to the other log (after
erasing it) and only then erases the full one. A torn record is ignored, so a cut leaves the old
or the new value, never less.
"""

from __future__ import annotations

from suitlib.bootloader.layout import SlotLayout
from suitlib.bootloader.records import Log
from suitlib.flash.interface import FlashDevice

COUNTER_KIND = 0x31
PAYLOAD = 8
MAX_VALUE = (1 << 56) - 1


def _open(flash: FlashDevice, layout: SlotLayout, reads: int) -> list[tuple[Log, int]]:
    out = []
    for area in layout.counter:
        log = Log.open(flash, area.offset, area.size, payload_size=PAYLOAD, reads=reads)
        best = max((int.from_bytes(p[1:], "little") for p in log.payloads() if p[0] == COUNTER_KIND),
                   default=-1)
        out.append((log, best))
    return out


def read_counter(flash: FlashDevice, layout: SlotLayout, reads: int = 4) -> int:
    """The stored value (0 when nothing was ever stored)."""
    return max(0, max(best for _, best in _open(flash, layout, reads)))


def update_counter(flash: FlashDevice, layout: SlotLayout, value: int, reads: int = 4) -> bool:
    """Raise the stored value to ``value``; returns whether anything was written."""
    if not 0 <= value <= MAX_VALUE:
        raise ValueError("security counter out of range")
    logs = _open(flash, layout, reads)
    current = max(best for _, best in logs)
    if value <= max(0, current):
        return False
    record = bytes([COUNTER_KIND]) + value.to_bytes(7, "little")
    i = 0 if logs[0][1] >= logs[1][1] else 1
    log = logs[i][0]
    if log.free > 0:
        log.append(record)
        return True
    other_area = layout.counter[1 - i]
    flash.erase(other_area.offset, other_area.size)
    Log.fresh(flash, other_area.offset, other_area.size, payload_size=PAYLOAD).append(record)
    full = layout.counter[i]
    flash.erase(full.offset, full.size)
    return True
