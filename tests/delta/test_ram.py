"""The applier's RAM stays within what the patch header declares (DELTA-FORMAT §2.4).

Two measurements. Explicit buffer accounting: the applier's RamMeter records the high-water
mark of every buffer it really holds, plus the C decoder's modelled state, and must not exceed
the declared figure. tracemalloc over a whole apply: minus what the host's liblzma decoder
itself allocates for the same parameters, the peak must fit the declared non-decoder part plus
a fixed allowance for CPython object overhead (which a C applier does not have), and it must be
the same for a 23 KB and an 868 KB image: the patch is streamed, never stored."""

from __future__ import annotations

import lzma
import tracemalloc

import pytest

from suitlib.delta.applier import ApplyLayout, DeltaApplier, Region
from suitlib.delta.apply import read_header
from suitlib.delta.create import CreateOptions, create_patch, lzma_filters
from suitlib.delta.format import LZMA_DECODER_STATE, lzma_probs_bytes
from suitlib.flash.interface import Sector
from tests.delta.sweep import fresh_flash, setup_for


class PlainFlash:
    """A minimal in-memory FlashDevice that allocates nothing but the bytes it returns."""

    def __init__(self, size: int, sector: int = 4096) -> None:
        self.mem = bytearray(b"\xff" * size)
        self.size = size
        self.write_unit = 4
        self.erase_value = 0xFF
        self.write_once = False
        self.sectors = tuple(Sector(o, sector) for o in range(0, size, sector))
        self._sector = sector
        self._erased = b"\xff" * sector

    def sector_at(self, address: int) -> Sector:
        return self.sectors[address // self._sector]

    def read(self, address: int, length: int) -> bytes:
        return bytes(self.mem[address : address + length])

    def program(self, address: int, data: bytes) -> None:
        self.mem[address : address + len(data)] = data

    def erase(self, address: int, length: int) -> None:
        for pos in range(address, address + length, self._sector):
            self.mem[pos : pos + self._sector] = self._erased


@pytest.mark.parametrize("name", ["simba-due-programmer-0.8.0-to-0.9.0",
                                  "micropython-pybv11-v1.10-to-1f5d945af"])
@pytest.mark.parametrize("ram", [16 * 1024, 32 * 1024])
def test_buffer_accounting_within_declared(load_pair, name: str, ram: int) -> None:
    old, new = load_pair(name)
    for in_place in (False, True):
        patch = create_patch(old, new, CreateOptions(ram=ram, in_place=in_place))
        header = read_header(patch)
        assert header.ram_bytes <= ram
        setup = setup_for("nrf52840", in_place=in_place)
        flash = fresh_flash(setup, old)
        applier = DeltaApplier(flash, setup.layout, ram_budget=ram)
        done = False
        while not done:
            applier.begin_pass()
            for pos in range(0, len(patch), 4096):  # big network blocks do not grow buffers
                applier.feed(patch[pos : pos + 4096])
            done = applier.end_pass()
        assert flash.dump(setup.layout.target.offset, len(new)) == new
        lz = header.lzma
        assert applier.meter.model == lz.dict_size + lzma_probs_bytes(lz.lc, lz.lp) + LZMA_DECODER_STATE
        assert {"header", "decoded", "source", "sum", "write-unit"} <= set(applier.meter.marks)
        assert applier.meter.peak <= header.ram_bytes, applier.meter.marks


def _host_decoder_bytes(patch: bytes) -> int:
    """What liblzma itself allocates for a decoder with this patch's parameters."""
    header = read_header(patch)
    sample = lzma.compress(bytes(range(256)) * 64, format=lzma.FORMAT_RAW,
                           filters=lzma_filters(header.lzma))
    tracemalloc.start()
    try:
        dec = lzma.LZMADecompressor(format=lzma.FORMAT_RAW, filters=[{
            "id": lzma.FILTER_LZMA1, "dict_size": header.lzma.dict_size,
            "lc": header.lzma.lc, "lp": header.lzma.lp, "pb": header.lzma.pb}])
        dec.decompress(sample, max_length=1024)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


PY_OVERHEAD = 20 * 1024
"""CPython objects around the buffers: bytes headers, the big ints of the SWAR add, regex match
objects of the branch scan, frames and closures (measured 16-20 KiB; a C applier has none)."""


def _traced_peak(old: bytes, new: bytes) -> tuple[int, int, int]:
    """(traced peak of one apply, liblzma's own share, declared non-decoder RAM)."""
    patch = create_patch(old, new, CreateOptions(transform=1))  # like with like: Thumb-2 both
    header = read_header(patch)
    flash = PlainFlash(4 << 20)
    flash.mem[0 : len(old)] = old
    layout = ApplyLayout(Region(0, 1 << 20), Region(1 << 20, 1 << 20), Region(3 << 20, 8192))
    blocks = [patch[pos : pos + 1024] for pos in range(0, len(patch), 1024)]
    decoder_host = _host_decoder_bytes(patch)
    model = header.lzma.dict_size + lzma_probs_bytes(header.lzma.lc, header.lzma.lp) + LZMA_DECODER_STATE
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        applier = DeltaApplier(flash, layout, ram_budget=32 * 1024)
        applier.begin_pass()
        for block in blocks:
            applier.feed(block)
        assert applier.end_pass()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert bytes(flash.mem[1 << 20 : (1 << 20) + len(new)]) == new
    return peak, decoder_host, header.ram_bytes - model


def test_traced_memory_is_bounded_and_independent_of_image_size(load_pair) -> None:
    small = _traced_peak(*load_pair("simba-due-programmer-0.8.0-to-0.9.0"))
    large = _traced_peak(*load_pair("openmv2-v3.4.1-to-v3.4.2"))
    for peak, decoder, declared_rest in (small, large):
        assert peak - decoder <= declared_rest + PY_OVERHEAD, (peak, decoder, declared_rest)
    # 37x more image, about the same memory: nothing grows with the image or the patch.
    assert abs((large[0] - large[1]) - (small[0] - small[1])) <= 4096, (small, large)
