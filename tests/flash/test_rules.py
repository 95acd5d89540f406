"""Geometry and NOR rules of the flash emulator (no faults planned)."""

from __future__ import annotations

import pytest

from suitlib.errors import FlashError
from suitlib.flash import (
    FlashAlignmentError,
    FlashBoundsError,
    FlashDevice,
    FlashEmulator,
    FlashWriteRuleError,
    Geometry,
    Sector,
)

KIB = 1024


def nor(**kw: object) -> FlashEmulator:
    return FlashEmulator(Geometry.uniform(64 * KIB, 4 * KIB, write_unit=4), **kw)  # type: ignore[arg-type]


def test_implements_the_flash_device_protocol() -> None:
    flash = nor()
    assert isinstance(flash, FlashDevice)
    assert (flash.size, flash.write_unit, flash.erase_value, flash.write_once) == (64 * KIB, 4, 0xFF, False)
    assert flash.sectors[0] == Sector(0, 4 * KIB) and flash.sectors[-1].end == 64 * KIB


def test_starts_erased_and_reads_back_programs() -> None:
    flash = nor()
    assert flash.read(0, 64 * KIB) == b"\xff" * (64 * KIB)
    flash.program(0x1000, bytes(range(16)))
    assert flash.read(0x1000, 16) == bytes(range(16))
    assert flash.read(0x0FFE, 4) == b"\xff\xff\x00\x01"  # unaligned read across sectors


def test_program_and_read_span_sectors() -> None:
    flash = nor()
    data = bytes(i % 251 for i in range(8 * KIB))
    flash.program(0x0800, data)
    assert flash.read(0x0800, len(data)) == data
    assert flash.read(0, 0x800) == b"\xff" * 0x800


def test_and_rule_clears_bits_only() -> None:
    flash = nor()
    flash.program(0, b"\x0f\xf0\xaa\x55")
    flash.program(0, b"\xf3\xff\x0f\xff")  # asks for 1s over 0s: silicon ANDs
    assert flash.read(0, 4) == bytes([0x0F & 0xF3, 0xF0, 0xAA & 0x0F, 0x55])


def test_strict_rule_raises_on_a_one_over_a_zero_and_writes_nothing() -> None:
    flash = nor(nor_rule="strict")
    flash.program(0, b"\x0f\x0f\x0f\x0f")
    flash.program(0, b"\x0e\x0f\x0f\x0f")  # clearing more bits is fine
    with pytest.raises(FlashWriteRuleError):
        flash.program(0, b"\x1e\x0f\x0f\x0f")
    assert flash.read(0, 4) == b"\x0e\x0f\x0f\x0f"


def test_erase_value_zero_programs_set_bits() -> None:
    flash = FlashEmulator(Geometry.uniform(8 * KIB, 4 * KIB, write_unit=1, erase_value=0x00))
    assert flash.read(0, 4) == b"\x00" * 4
    flash.program(0, b"\x0f\x00")
    flash.program(0, b"\xf0\x01")
    assert flash.read(0, 2) == b"\xff\x01"
    flash.erase(0, 4 * KIB)
    assert flash.read(0, 2) == b"\x00\x00"
    strict = FlashEmulator(Geometry.uniform(8 * KIB, 4 * KIB, write_unit=1, erase_value=0x00),
                           nor_rule="strict")
    strict.program(0, b"\x01")
    with pytest.raises(FlashWriteRuleError):
        strict.program(0, b"\x02")


def test_write_once_refuses_a_second_program_until_erased() -> None:
    flash = FlashEmulator(Geometry.uniform(8 * KIB, 2 * KIB, write_unit=8, program_limit=1))
    assert flash.write_once
    flash.program(0, b"\xff" * 8)  # even all-ones programs the ECC
    with pytest.raises(FlashWriteRuleError):
        flash.program(0, b"\x00" * 8)
    flash.program(8, b"\x00" * 8)  # the neighbour unit is untouched
    with pytest.raises(FlashWriteRuleError):
        flash.program(0, b"\xff" * 16)  # a range that touches a programmed unit
    assert flash.read(0, 16) == b"\xff" * 8 + b"\x00" * 8
    flash.erase(0, 2 * KIB)
    flash.program(0, b"\x00" * 8)
    assert flash.read(0, 8) == b"\x00" * 8


def test_program_limit_two_like_nrf_nwrite() -> None:
    flash = FlashEmulator(Geometry.uniform(8 * KIB, 4 * KIB, write_unit=4, program_limit=2))
    flash.program(0, b"\xf0\xff\xff\xff")
    flash.program(0, b"\x00\xff\xff\xff")
    with pytest.raises(FlashWriteRuleError):
        flash.program(0, b"\x00\x00\xff\xff")


def test_misaligned_programs_and_partial_erases_are_refused() -> None:
    flash = nor()
    with pytest.raises(FlashAlignmentError):
        flash.program(2, b"\x00" * 4)
    with pytest.raises(FlashAlignmentError):
        flash.program(0, b"\x00" * 6)
    with pytest.raises(FlashAlignmentError):
        flash.erase(0x100, 4 * KIB)
    with pytest.raises(FlashAlignmentError):
        flash.erase(0, 6 * KIB)
    assert flash.ops == 0  # argument errors consume no operation index
    assert flash.read(0, 64 * KIB) == b"\xff" * (64 * KIB)


@pytest.mark.parametrize("call", [
    lambda f: f.read(64 * KIB - 2, 4),
    lambda f: f.read(-1, 1),
    lambda f: f.program(64 * KIB, b"\x00" * 4),
    lambda f: f.erase(64 * KIB, 4 * KIB),
    lambda f: f.erase(60 * KIB, 8 * KIB),
    lambda f: f.sector_at(64 * KIB),
])
def test_out_of_bounds_is_a_flash_error(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FlashBoundsError) as info:
        call(nor())
    assert isinstance(info.value, FlashError)


def test_non_uniform_sectors_lookup_and_erase() -> None:
    g = Geometry.from_sizes([16 * KIB] * 4 + [64 * KIB] + [128 * KIB] * 7, write_unit=1)
    assert g.size == 1024 * KIB and g.uniform_sector_size is None
    flash = FlashEmulator(g)
    assert flash.sector_at(0x0000) == Sector(0, 16 * KIB)
    assert flash.sector_at(0x10000) == Sector(0x10000, 64 * KIB)
    assert flash.sector_at(0x20000) == Sector(0x20000, 128 * KIB)
    assert flash.sector_at(0xFFFFF) == Sector(0xE0000, 128 * KIB)
    flash.program(0x1FFFE, b"\x00" * 4)  # spans the 64 KiB and the first 128 KiB sector
    flash.erase(0x10000, 64 * KIB)
    assert flash.read(0x1FFFE, 4) == b"\xff\xff\x00\x00"
    with pytest.raises(FlashAlignmentError):
        flash.erase(0x10000, 16 * KIB)
    assert [e.kind for e in flash.trace] == ["program", "erase"]


def test_multi_sector_erase_is_one_operation_per_sector() -> None:
    flash = nor()
    flash.erase(0x2000, 12 * KIB)
    assert [(e.kind, e.address, e.length) for e in flash.trace] == [
        ("erase", 0x2000, 4 * KIB), ("erase", 0x3000, 4 * KIB), ("erase", 0x4000, 4 * KIB)]
    assert flash.erase_counts[2:5] == (1, 1, 1) and flash.erase_counts[1] == 0


@pytest.mark.parametrize("bad", [
    dict(sectors=()),
    dict(sectors=(Sector(0, 4096), Sector(8192, 4096))),
    dict(sectors=(Sector(0, 4096),), write_unit=3),
    dict(sectors=(Sector(0, 4096),), erase_value=0x0F),
    dict(sectors=(Sector(0, 4096), Sector(4096, 4096), Sector(8192, 4096)), physical_erase_size=8192),
])
def test_invalid_geometries_are_rejected(bad: dict) -> None:
    with pytest.raises(ValueError):
        Geometry(**bad)
