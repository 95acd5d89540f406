"""Slot layouts on the shipped profiles (specs/FLASH-LAYOUT.md §Layout rules)."""

from __future__ import annotations

import pytest

from suitlib.bootloader import LayoutError, plan_layout
from suitlib.bootloader.layout import trailer_bytes
from suitlib.conformance.devices import all_devices, physical_block
from suitlib.flash import FlashEmulator, Geometry

DEVICES = all_devices()


@pytest.mark.parametrize("name", sorted(DEVICES))
@pytest.mark.parametrize("scratch", [True, False])
def test_layout_is_disjoint_paired_and_fits(name: str, scratch: bool) -> None:
    flash = FlashEmulator(DEVICES[name].geometry)
    lay = plan_layout(flash, scratch=scratch)
    spans = sorted((a.offset, a.end) for a in lay.areas().values())
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
    assert spans[0][0] >= flash.sectors[1].offset  # sector 0 stays with the bootloader
    assert spans[-1][1] <= flash.size
    p, s = lay.primary, lay.secondary
    assert [x.size for x in p.image_sectors] == [x.size for x in s.image_sectors]
    assert p.trailer.size >= trailer_bytes(len(p.image_sectors), lay.record_unit)
    if scratch:
        assert lay.scratch is not None
        assert lay.scratch.size >= max(x.size for x in p.image_sectors)
    assert p.capacity >= (16 if name == "tiny" else 64) * 1024


WITH_PHYSICAL_BLOCK = sorted(n for n in DEVICES if physical_block(DEVICES[n].geometry) is not None)


def test_some_devices_have_a_physical_erase_block() -> None:
    assert WITH_PHYSICAL_BLOCK, "no device geometry admits a larger physical erase block"


@pytest.mark.parametrize("name", WITH_PHYSICAL_BLOCK)
def test_erase_block_layout_never_shares_a_physical_block(name: str) -> None:
    g = DEVICES[name].geometry
    block = physical_block(g)
    assert block is not None
    flash = FlashEmulator(Geometry(g.sectors, g.write_unit, g.erase_value, physical_erase_size=block))
    try:
        lay = plan_layout(flash, erase_block=block)
    except LayoutError:
        return  # rejected at configuration time is an allowed outcome
    for area in lay.areas().values():
        assert area.offset % block == 0 or area.size >= block
        assert area.end % block == 0


def test_too_small_device_is_rejected() -> None:
    with pytest.raises(LayoutError):
        plan_layout(FlashEmulator(Geometry.uniform(16 * 1024, 4096)))
