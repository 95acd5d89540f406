"""Slot trailers: magic plus an append-only record log (specs/FLASH-LAYOUT.md §Trailer).

Reading turns the raw units into a :class:`TrailerState`; nothing here decides anything.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from suitlib.bootloader.layout import MAGIC_SIZE, Slot, SlotLayout
from suitlib.bootloader.records import Log, decode, encode, majority, read_agreed
from suitlib.flash.interface import FlashDevice, Sector

MAGIC_PAYLOAD = b"SUITBOOT"


class SwapType(enum.IntEnum):
    """Operation types (numbered as MCUboot's BOOT_SWAP_TYPE_*)."""

    NONE = 1
    TEST = 2
    PERM = 3
    REVERT = 4


class Kind(enum.IntEnum):
    """Record kinds (first payload byte)."""

    SWAP_INFO = 0x11   # primary: arg = type << 20 | swapped image sectors
    PROGRESS = 0x12    # primary: arg = steps completed
    COPY_DONE = 0x13   # primary: the operation finished
    IMAGE_OK = 0x14    # primary: the image is confirmed
    REQUEST = 0x21     # secondary: arg = requested SwapType (TEST, PERM, REVERT)


class Magic(enum.Enum):
    UNSET = "unset"
    GOOD = "good"
    BAD = "bad"


@dataclass(frozen=True)
class SwapInfo:
    type: SwapType
    sectors: int


@dataclass(frozen=True)
class TrailerState:
    """What one trailer says (torn or garbage units already dropped)."""

    magic: Magic = Magic.UNSET
    touched: bool = False          # any unit of the trailer reads non-erased
    swap: SwapInfo | None = None
    progress: int = 0
    copy_done: bool = False
    image_ok: bool = False
    request: SwapType | None = None


def payload(kind: Kind, arg: int = 0) -> bytes:
    return bytes([kind]) + arg.to_bytes(3, "little")


def magic_bytes(flash: FlashDevice, unit: int) -> bytes:
    size = -(-MAGIC_SIZE // unit) * unit
    return encode(MAGIC_PAYLOAD, size, flash.erase_value)


def read_magic(flash: FlashDevice, slot: Slot, unit: int, reads: int) -> Magic:
    size = -(-MAGIC_SIZE // unit) * unit
    raw = majority(read_agreed(flash, slot.trailer.offset, size, reads))
    if raw is not None and raw.count(flash.erase_value) == size:
        return Magic.UNSET
    ok = raw is not None and decode(raw, len(MAGIC_PAYLOAD), flash.erase_value) == MAGIC_PAYLOAD
    return Magic.GOOD if ok else Magic.BAD


def open_log(flash: FlashDevice, layout: SlotLayout, slot: Slot, reads: int) -> Log:
    off = slot.trailer.offset + layout.log_offset
    return Log.open(flash, off, slot.trailer.end - off, reads=reads)


def fresh_log(flash: FlashDevice, layout: SlotLayout, slot: Slot) -> Log:
    off = slot.trailer.offset + layout.log_offset
    return Log.fresh(flash, off, slot.trailer.end - off)


_STATES: dict[tuple[Magic, object], TrailerState] = {}


def state_of(magic: Magic, log: Log) -> TrailerState:
    """:func:`fold` memoised on the raw log content (a pure function of it)."""
    if log.key is None:
        return fold(magic, log)
    key = (magic, log.key)
    hit = _STATES.get(key)
    if hit is None:
        if len(_STATES) > 1024:
            _STATES.clear()
        hit = _STATES[key] = fold(magic, log)
    return hit


def fold(magic: Magic, log: Log) -> TrailerState:
    """Fold the valid records of a log into a :class:`TrailerState`.

    Records count only under a GOOD magic: a trailer erase cut part-way (magic erased first)
    or torn (magic garbage) must not resurrect the records of an earlier operation.
    """
    touched = magic is not Magic.UNSET or bool(log.entries)
    if magic is not Magic.GOOD:
        return TrailerState(magic, touched)
    swap, progress, copy_done, image_ok, request = None, 0, False, False, None
    for p in log.payloads():
        kind, arg = p[0], int.from_bytes(p[1:4], "little")
        if kind == Kind.SWAP_INFO and swap is None:
            t = arg >> 20
            if t in (SwapType.TEST, SwapType.PERM, SwapType.REVERT):
                swap = SwapInfo(SwapType(t), arg & 0xFFFFF)
        elif kind == Kind.PROGRESS:
            progress = max(progress, arg)
        elif kind == Kind.COPY_DONE:
            copy_done = True
        elif kind == Kind.IMAGE_OK:
            image_ok = True
        elif kind == Kind.REQUEST and arg in (SwapType.TEST, SwapType.PERM, SwapType.REVERT):
            request = SwapType(arg)
    return TrailerState(magic, touched, swap, progress, copy_done, image_ok, request)


def read_trailer(flash: FlashDevice, layout: SlotLayout, slot: Slot,
                 reads: int = 4) -> tuple[TrailerState, Log]:
    magic = read_magic(flash, slot, layout.record_unit, reads)
    log = open_log(flash, layout, slot, reads)
    return state_of(magic, log), log


def format_trailer(flash: FlashDevice, layout: SlotLayout, slot: Slot) -> Log:
    """Erase the trailer sectors and write the magic; returns the empty log (ops: erases + 1)."""
    erase_area(flash, slot.trailer.sectors)
    flash.program(slot.trailer.offset, magic_bytes(flash, layout.record_unit))
    return fresh_log(flash, layout, slot)


def erase_area(flash: FlashDevice, sectors: tuple[Sector, ...]) -> None:
    """Erase sectors one operation each, first to last: a trailer loses its magic (and a slot
    its container header) before anything else, so a cut part-way never leaves old records or
    an old header that could be taken as current."""
    for s in sectors:
        flash.erase(s.offset, s.size)
