"""The flash device contract every flash user codes against (sans-I/O).

The emulator in :mod:`suitlib.flash.emulator` implements it; so can a real driver. Addresses
are absolute byte offsets in the device. NOR semantics: ``erase`` sets a whole erase unit to
``erase_value``; ``program`` may only clear bits (or, on write-once/ECC parts, may touch a
write unit only once between erases). A power cut is signalled by :class:`PowerLoss`, which
derives from ``BaseException`` so code under test cannot swallow it with ``except Exception``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


class PowerLoss(BaseException):
    """The power went away during (or before) a flash operation.

    ``op_index`` is the index of the interrupted operation in the flash's trace.
    """

    def __init__(self, op_index: int, detail: str = "") -> None:
        super().__init__(f"power lost at flash op {op_index}{': ' + detail if detail else ''}")
        self.op_index = op_index
        self.detail = detail


@dataclass(frozen=True)
class Sector:
    """One erase unit of the logical sector map."""

    offset: int
    size: int

    @property
    def end(self) -> int:
        return self.offset + self.size


@runtime_checkable
class FlashDevice(Protocol):
    """What a bootloader, a delta applier or a download writer needs from flash."""

    @property
    def size(self) -> int:
        """Total size in bytes."""
        ...

    @property
    def write_unit(self) -> int:
        """Program granularity and alignment in bytes (1, 4, 8, 16 ...)."""
        ...

    @property
    def erase_value(self) -> int:
        """Byte value of erased flash (0xFF for most NOR, sometimes 0x00)."""
        ...

    @property
    def write_once(self) -> bool:
        """True if a write unit may be programmed only once between erases (ECC parts)."""
        ...

    @property
    def sectors(self) -> tuple[Sector, ...]:
        """The logical erase units, in address order, covering ``[0, size)``."""
        ...

    def sector_at(self, address: int) -> Sector:
        """The erase unit containing ``address`` (raises FlashError out of bounds)."""
        ...

    def read(self, address: int, length: int) -> bytes:
        """Read ``length`` bytes (any alignment)."""
        ...

    def program(self, address: int, data: bytes) -> None:
        """Program ``data``; ``address`` and ``len(data)`` are multiples of ``write_unit``."""
        ...

    def erase(self, address: int, length: int) -> None:
        """Erase whole sectors covering exactly ``[address, address + length)``."""
        ...
