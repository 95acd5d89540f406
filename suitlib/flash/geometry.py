"""Flash geometry: the sector map and the physical rules of one NOR part.

A :class:`Geometry` holds facts about the silicon only (sizes, write unit, erased value, how often
a write unit may be programmed between erases, erase endurance, physical erase block). Policies
that are choices of the emulator (strict or AND-ing NOR rule, wear-out behaviour) are arguments of
:class:`suitlib.flash.emulator.FlashEmulator`.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field

from suitlib.flash.errors import FlashAlignmentError, FlashBoundsError
from suitlib.flash.interface import Sector


@dataclass(frozen=True)
class Geometry:
    """The sector map and physical rules of a flash part.

    - ``sectors``: the logical erase units, contiguous from 0 (uniform or not).
    - ``write_unit``: program granularity and alignment in bytes.
    - ``erase_value``: 0xFF (most NOR: program clears bits) or 0x00 (program sets bits).
    - ``program_limit``: programs allowed per write unit between erases; ``1`` is the
      write-once/ECC rule (STM32L4), ``2`` is nRF52's nWRITE, ``None`` unlimited.
    - ``endurance``: erase cycles per sector before the sector is worn (``None``: never).
    - ``physical_erase_size``: when set, the silicon erases blocks of this size, each a union of
      whole logical sectors (fault model F9); ``None`` means physical == logical.
    """

    sectors: tuple[Sector, ...]
    write_unit: int = 4
    erase_value: int = 0xFF
    program_limit: int | None = None
    endurance: int | None = None
    physical_erase_size: int | None = None
    _offsets: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _uniform: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.sectors:
            raise ValueError("a flash geometry needs at least one sector")
        if self.write_unit < 1:
            raise ValueError("write_unit must be >= 1")
        if self.erase_value not in (0x00, 0xFF):
            raise ValueError("erase_value must be 0x00 or 0xFF")
        if self.program_limit is not None and not 1 <= self.program_limit <= 254:
            raise ValueError("program_limit must be in 1..254 or None")
        if self.endurance is not None and self.endurance < 1:
            raise ValueError("endurance must be >= 1 or None")
        pos = 0
        for s in self.sectors:
            if s.offset != pos or s.size <= 0:
                raise ValueError(f"sectors must be contiguous from 0 (gap or overlap at {s.offset:#x})")
            if s.size % self.write_unit:
                raise ValueError(f"sector at {s.offset:#x} is not a multiple of the write unit")
            pos = s.end
        offsets = tuple(s.offset for s in self.sectors)
        sizes = {s.size for s in self.sectors}
        object.__setattr__(self, "_offsets", offsets)
        object.__setattr__(self, "_uniform", sizes.pop() if len(sizes) == 1 else 0)
        if self.physical_erase_size is not None:
            p = self.physical_erase_size
            if p <= 0 or self.size % p:
                raise ValueError("physical_erase_size must divide the flash size")
            for block in range(0, self.size, p):
                if block not in offsets:
                    raise ValueError(f"physical block at {block:#x} does not start on a sector")

    # --- construction -------------------------------------------------------------------

    @classmethod
    def uniform(cls, size: int, sector_size: int, **kw: object) -> Geometry:
        """``size // sector_size`` sectors of ``sector_size`` bytes."""
        if sector_size <= 0 or size <= 0 or size % sector_size:
            raise ValueError("size must be a positive multiple of sector_size")
        return cls(tuple(Sector(o, sector_size) for o in range(0, size, sector_size)), **kw)  # type: ignore[arg-type]

    @classmethod
    def from_sizes(cls, sizes: Iterable[int], **kw: object) -> Geometry:
        """Sectors of the given sizes, in address order from 0."""
        out, pos = [], 0
        for size in sizes:
            out.append(Sector(pos, size))
            pos += size
        return cls(tuple(out), **kw)  # type: ignore[arg-type]

    # --- queries ------------------------------------------------------------------------

    @property
    def size(self) -> int:
        return self.sectors[-1].end

    @property
    def write_once(self) -> bool:
        return self.program_limit == 1

    @property
    def uniform_sector_size(self) -> int | None:
        """The sector size if all sectors are equal, else ``None``."""
        return self._uniform or None

    def sector_index(self, address: int) -> int:
        """Index of the sector holding ``address`` (FlashBoundsError outside the device)."""
        if not 0 <= address < self.size:
            raise FlashBoundsError(f"address {address:#x} outside flash [0, {self.size:#x})",
                                   address=address, size=self.size)
        if self._uniform:
            return address // self._uniform
        return bisect.bisect_right(self._offsets, address) - 1

    def sector_at(self, address: int) -> Sector:
        return self.sectors[self.sector_index(address)]

    def sector_range(self, address: int, length: int) -> range:
        """Indices of the sectors that exactly cover ``[address, address+length)``.

        Raises FlashAlignmentError if the range does not start and end on sector boundaries.
        """
        end = address + length
        if address < 0 or length <= 0 or end > self.size:
            raise FlashBoundsError(f"erase [{address:#x}, {end:#x}) outside flash [0, {self.size:#x})",
                                   address=address, length=length, size=self.size)
        first = self.sector_index(address)
        last = self.sector_index(end - 1)
        if self.sectors[first].offset != address or self.sectors[last].end != end:
            raise FlashAlignmentError(
                f"erase [{address:#x}, {end:#x}) does not cover whole sectors",
                address=address, length=length)
        return range(first, last + 1)

    def physical_block(self, index: int) -> range:
        """Indices of the logical sectors erased together with sector ``index`` (F9)."""
        if self.physical_erase_size is None:
            return range(index, index + 1)
        p = self.physical_erase_size
        start = self.sectors[index].offset // p * p
        return range(self.sector_index(start), self.sector_index(start + p - 1) + 1)
