"""The devices the suite runs on: the shipped profiles plus a tiny geometry for exhaustive
double-fault sweeps, and the geometry variants some scenarios need (F9, write-once, erase 0x00).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from suitlib.flash.geometry import Geometry
from suitlib.flash.profiles import list_profiles, load_profile


@dataclass(frozen=True)
class Device:
    """A named geometry (``small`` devices get exhaustive double-fault sweeps)."""

    name: str
    geometry: Geometry
    small: bool = False

    def variant(self, **overrides: object) -> Geometry:
        return replace(self.geometry, **overrides)  # type: ignore[arg-type]


TINY = Device("tiny", Geometry.uniform(64 * 1024, 2048, write_unit=8), small=True)


def all_devices() -> dict[str, Device]:
    """Every shipped profile by name, plus ``tiny``."""
    out = {name: Device(name, load_profile(name).geometry()) for name in list_profiles()}
    out[TINY.name] = TINY
    return out


def physical_block(geometry: Geometry) -> int | None:
    """A physical erase block 8× the smallest sector that the geometry accepts (F9), if any."""
    smallest = min(s.size for s in geometry.sectors)
    offsets = {s.offset for s in geometry.sectors}
    for mult in (8, 4, 2):
        p = smallest * mult
        if geometry.size % p == 0 and all(b in offsets for b in range(0, geometry.size, p)):
            return p
    return None
