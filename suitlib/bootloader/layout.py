"""Slot layout: where the primary and secondary slots, the scratch sector and the security
counter live on a device (specs/FLASH-LAYOUT.md §Layout rules).

Every area is a run of whole logical sectors. A slot is its *image sectors* followed by its
*trailer sectors*; trailer sectors never hold image data, so a swap moves image sectors only and
each trailer stays where it is. Primary and secondary image sectors pair up by index and have
equal sizes; the scratch sector is at least as large as any image sector.
"""

from __future__ import annotations

from dataclasses import dataclass

from suitlib.bootloader.errors import LayoutError
from suitlib.bootloader.records import record_unit
from suitlib.flash.interface import FlashDevice, Sector

MAGIC_SIZE = 16
LOG_SLACK = 32          # trailer log units reserved beyond one complete swap (torn retries, guards)
RECORDS_PER_SECTOR = 3  # progress records per swapped image sector (swap with scratch)


@dataclass(frozen=True)
class Area:
    """A run of whole sectors."""

    sectors: tuple[Sector, ...]

    @property
    def offset(self) -> int:
        return self.sectors[0].offset

    @property
    def size(self) -> int:
        return self.sectors[-1].end - self.sectors[0].offset

    @property
    def end(self) -> int:
        return self.sectors[-1].end


@dataclass(frozen=True)
class Slot:
    """An image slot: image sectors then trailer sectors."""

    name: str
    image_sectors: tuple[Sector, ...]
    trailer: Area

    @property
    def offset(self) -> int:
        return self.image_sectors[0].offset

    @property
    def capacity(self) -> int:
        """Bytes available for the image container (header + image + envelope)."""
        return self.trailer.offset - self.offset

    @property
    def area(self) -> Area:
        return Area(self.image_sectors + self.trailer.sectors)

    def sectors_for(self, length: int) -> int:
        """How many image sectors hold the first ``length`` bytes."""
        n, end = 0, self.offset + length
        for s in self.image_sectors:
            if s.offset >= end:
                break
            n += 1
        return n


@dataclass(frozen=True)
class SlotLayout:
    """The areas the bootloader owns on one device."""

    primary: Slot
    secondary: Slot
    scratch: Area | None
    counter: tuple[Area, Area]
    record_unit: int

    def areas(self) -> dict[str, Area]:
        """Every area by name (for configuration checks and reports)."""
        out = {
            "primary": Area(self.primary.image_sectors), "primary-trailer": self.primary.trailer,
            "secondary": Area(self.secondary.image_sectors),
            "secondary-trailer": self.secondary.trailer,
            "counter-a": self.counter[0], "counter-b": self.counter[1],
        }
        if self.scratch is not None:
            out["scratch"] = self.scratch
        return out

    @property
    def log_offset(self) -> int:
        """Offset of the record log inside a trailer (after the magic)."""
        return -(-MAGIC_SIZE // self.record_unit) * self.record_unit


def _runs(sectors: tuple[Sector, ...]) -> list[tuple[int, int]]:
    """(first index, count) of maximal runs of equal-size sectors."""
    runs: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(sectors) + 1):
        if i == len(sectors) or sectors[i].size != sectors[start].size:
            runs.append((start, i - start))
            start = i
    return runs


def trailer_bytes(image_sectors: int, unit: int) -> int:
    """Trailer size needed for a slot with ``image_sectors`` image sectors."""
    magic = -(-MAGIC_SIZE // unit) * unit
    records = 1 + RECORDS_PER_SECTOR * image_sectors + 2 + LOG_SLACK
    return magic + records * unit


def _slot(name: str, sectors: tuple[Sector, ...], unit: int) -> Slot:
    for t in range(1, len(sectors)):
        tail = sectors[len(sectors) - t:]
        if sum(s.size for s in tail) >= trailer_bytes(len(sectors) - t, unit):
            return Slot(name, sectors[:len(sectors) - t], Area(tail))
    raise LayoutError(f"{name} slot of {len(sectors)} sectors cannot hold an image and its trailer")


def merge_sectors(sectors: tuple[Sector, ...], block: int) -> tuple[Sector, ...]:
    """Group logical sectors into erase blocks of ``block`` bytes ("logical sectors" sized to
    the physical erase unit, fault model F9); sectors already larger stay as they are."""
    out: list[Sector] = []
    start = None
    for s in sectors:
        if start is None:
            start = s.offset
        if s.end % block == 0 or s.end - start >= block:
            out.append(Sector(start, s.end - start))
            start = None
    if start is not None:
        out.append(Sector(start, sectors[-1].end - start))
    return tuple(out)


_PLANNED: dict[tuple[int, int, int, bool, bool, int | None], tuple[object, SlotLayout]] = {}


def plan_layout(flash: FlashDevice, *, scratch: bool = True, reserve_boot: bool = True,
                erase_block: int | None = None) -> SlotLayout:
    """The layout of ``flash`` (memoised per sector map: a pure function of the geometry)."""
    sectors = flash.sectors
    key = (id(sectors), flash.write_unit, flash.erase_value, scratch, reserve_boot, erase_block)
    hit = _PLANNED.get(key)
    if hit is not None and hit[0] is sectors:
        return hit[1]
    if len(_PLANNED) > 64:
        _PLANNED.clear()
    lay = _plan_layout(flash, scratch=scratch, reserve_boot=reserve_boot, erase_block=erase_block)
    _PLANNED[key] = (sectors, lay)
    return lay


def _plan_layout(flash: FlashDevice, *, scratch: bool, reserve_boot: bool,
                 erase_block: int | None) -> SlotLayout:
    """The layout of specs/FLASH-LAYOUT.md §Layout rules for ``flash``.

    The largest run of equal-size sectors holds the slots (and the scratch sector); the
    counter takes two sectors outside it when there are any, else the first two of the run.
    Sector 0 is left to the bootloader's own code when ``reserve_boot``. ``erase_block`` (the
    part's physical erase unit, when larger than its sectors) makes every area whole blocks.
    """
    sectors = tuple(flash.sectors)
    if erase_block:
        sectors = merge_sectors(sectors, erase_block)
    first = 1 if reserve_boot and len(sectors) > 1 else 0
    runs = [(max(a, first), n - (max(a, first) - a)) for a, n in _runs(sectors) if a + n > first]
    start, count = max(runs, key=lambda r: (r[1] * sectors[r[0]].size, r[1]))
    main = list(sectors[start:start + count])
    others = [s for i, s in enumerate(sectors) if i >= first and not start <= i < start + count]
    if len(others) >= 2:
        counter_sectors = others[:2]
    else:
        counter_sectors, main = main[:2], main[2:]
    scratch_area = None
    if scratch:
        if not main:
            raise LayoutError("no sector left for the scratch area")
        scratch_area = Area((main.pop(),))
    k = len(main) // 2
    if k < 2:
        raise LayoutError(f"device has too few equal-size sectors for two slots ({len(main)} left)",
                          sectors=len(sectors))
    unit = record_unit(flash)
    primary = _slot("primary", tuple(main[:k]), unit)
    secondary = _slot("secondary", tuple(main[k:2 * k]), unit)
    if scratch_area is not None and any(s.size > scratch_area.size for s in primary.image_sectors):
        raise LayoutError("scratch sector smaller than an image sector")
    return SlotLayout(primary, secondary, scratch_area,
                      (Area((counter_sectors[0],)), Area((counter_sectors[1],))), unit)
