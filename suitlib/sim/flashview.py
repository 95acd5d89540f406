"""Views of one flash device for the parts of a mote that share it.

- :class:`PrefixFlash`: the first sectors of a device. The reference bootloader plans its slot
  layout over the whole device it is given; the mote hands it the flash minus the sectors kept
  for the update agent's own records (``storage``), so the two never overlap.
- :class:`SplitSectorFlash`: the same bytes at the same addresses, with one erase sector
  presented as two (a head of ``split`` bytes and the rest). The delta applier requires its
  target region to start on an erase boundary, while the slot image container
  (specs/FLASH-LAYOUT.md §Image container) puts the image ``header_size`` bytes into the slot;
  splitting the first slot sector at that point lets the applier write the image in place.
  Erasing either half erases the whole physical sector: the head holds only the container
  header, which is programmed last, after the image is complete and verified.
"""

from __future__ import annotations

import bisect

from suitlib.errors import FlashError
from suitlib.flash.interface import FlashDevice, Sector


class _Delegate:
    def __init__(self, flash: FlashDevice) -> None:
        self.base = flash

    @property
    def write_unit(self) -> int:
        return self.base.write_unit

    @property
    def erase_value(self) -> int:
        return self.base.erase_value

    @property
    def write_once(self) -> bool:
        return self.base.write_once


class PrefixFlash(_Delegate):
    """The sectors of ``flash`` below ``end`` (a sector boundary), as a device of their own."""

    def __init__(self, flash: FlashDevice, end: int) -> None:
        super().__init__(flash)
        if flash.sector_at(end - 1).end != end:
            raise FlashError("a flash prefix must end on a sector boundary", end=end)
        self._end = end
        self._sectors = tuple(s for s in flash.sectors if s.end <= end)
        # the bootloader reads the physical erase size of the geometry when it has one
        self.geometry = getattr(flash, "geometry", None)

    @property
    def size(self) -> int:
        return self._end

    @property
    def sectors(self) -> tuple[Sector, ...]:
        return self._sectors

    def _check(self, address: int, length: int) -> None:
        if address < 0 or length < 0 or address + length > self._end:
            raise FlashError("access beyond the flash prefix", address=address, length=length)

    def sector_at(self, address: int) -> Sector:
        self._check(address, 1)
        return self.base.sector_at(address)

    def read(self, address: int, length: int) -> bytes:
        self._check(address, length)
        return self.base.read(address, length)

    def program(self, address: int, data: bytes) -> None:
        self._check(address, len(data))
        self.base.program(address, data)

    def erase(self, address: int, length: int) -> None:
        self._check(address, length)
        self.base.erase(address, length)


class SplitSectorFlash(_Delegate):
    """``flash`` with the sector starting at ``sector_offset`` split after ``split`` bytes."""

    def __init__(self, flash: FlashDevice, sector_offset: int, split: int) -> None:
        super().__init__(flash)
        whole = flash.sector_at(sector_offset)
        if whole.offset != sector_offset or not 0 < split < whole.size:
            raise FlashError("split point must lie inside a sector", offset=sector_offset, split=split)
        self._whole = whole
        head, tail = Sector(whole.offset, split), Sector(whole.offset + split, whole.size - split)
        sectors = list(flash.sectors)
        i = sectors.index(whole)
        sectors[i : i + 1] = [head, tail]
        self._sectors = tuple(sectors)
        self._starts = [s.offset for s in self._sectors]

    @property
    def size(self) -> int:
        return self.base.size

    @property
    def sectors(self) -> tuple[Sector, ...]:
        return self._sectors

    def sector_at(self, address: int) -> Sector:
        if not 0 <= address < self.base.size:
            raise FlashError("address out of bounds", address=address)
        return self._sectors[bisect.bisect_right(self._starts, address) - 1]

    def read(self, address: int, length: int) -> bytes:
        return self.base.read(address, length)

    def program(self, address: int, data: bytes) -> None:
        self.base.program(address, data)

    def erase(self, address: int, length: int) -> None:
        w = self._whole
        if address < w.end and w.offset < address + length:
            # a part of the split sector: the device erases the whole of it
            lo, hi = min(address, w.offset), max(address + length, w.end)
            self.base.erase(lo, hi - lo)
            return
        self.base.erase(address, length)
