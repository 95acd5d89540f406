"""Every malformed-patch class gets its typed DeltaError, before anything is written outside
the staging area (slot B and the checkpoint region; for in-place patches: nothing at all), and
hypothesis-mutated patches never escape as any other exception."""

from __future__ import annotations

import hashlib
import lzma
import struct
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suitlib.delta.apply import apply_patch
from suitlib.delta.applier import ApplyLayout, Region, apply_to_flash
from suitlib.delta.create import CreateOptions, create_patch, lzma_filters
from suitlib.delta.errors import (
    DeltaError,
    DeltaFormatError,
    DeltaLayoutError,
    DeltaRamError,
    DeltaSourceMismatchError,
    DeltaTargetMismatchError,
    DeltaTruncatedError,
    DeltaUnsupportedError,
)
from suitlib.delta.format import (
    InPlacePlan,
    LzmaParams,
    PatchHeader,
    applier_ram,
    encode_varint,
    zigzag,
)
from tests.delta.sweep import fresh_flash, outside, setup_for

PAIR = "simba-due-programmer-0.8.0-to-0.9.0"


@pytest.fixture(scope="module")
def pair(corpus_dir):  # type: ignore[no-untyped-def]
    folder = corpus_dir / PAIR
    old, new = (folder / "old.bin").read_bytes(), (folder / "new.bin").read_bytes()
    return old, new, create_patch(old, new), create_patch(old, new, CreateOptions(in_place=True))


def _recrc(header_and_body: bytes, header_size: int) -> bytes:
    """Fix the header CRC after editing a field (to reach the checks behind it)."""
    body = header_and_body[: header_size - 4]
    return body + struct.pack("<I", zlib.crc32(body)) + header_and_body[header_size:]


def _crafted(old: bytes, new: bytes, stream: bytes, *, plan: InPlacePlan | None = None,
             ram: int | None = None, target_size: int | None = None) -> bytes:
    """A patch whose single chunk carries ``stream`` (raw command bytes)."""
    lz = LzmaParams(dict_size=4096)
    size = len(new) if target_size is None else target_size
    header = PatchHeader(
        source_size=len(old), target_size=size, source_digest=hashlib.sha256(old).digest(),
        target_digest=hashlib.sha256(new).digest(),
        chunk_size=-(-max(size, 1) // 4096) * 4096 if plan else max(size, 1),
        ram_bytes=ram if ram is not None else applier_ram(1, 4096, 0, 0), lzma=lz, in_place=plan)
    packed = lzma.compress(stream, format=lzma.FORMAT_RAW, filters=lzma_filters(lz))
    return header.encode() + encode_varint(len(packed)) + packed


def _cmd(diff_len: int, extra_len: int, seek: int) -> bytes:
    return encode_varint(diff_len) + encode_varint(extra_len) + encode_varint(zigzag(seek))


def _header_size(patch: bytes) -> int:
    from suitlib.delta.apply import read_header

    return read_header(patch).header_size


def _classes(old: bytes, new: bytes, seq: bytes, plan: InPlacePlan | None = None
             ) -> list[tuple[str, bytes, type[DeltaError]]]:
    hs = _header_size(seq)
    flipped_header = bytearray(seq)
    flipped_header[hs // 2] ^= 0x40
    version = bytearray(seq)
    version[4] = 9
    compression = bytearray(seq)
    compression[6] = 7
    corrupt_body = bytearray(seq)
    for i in range(hs + 8, len(seq) - 8, 5):
        corrupt_body[i] ^= 0xA5
    return [
        ("bad magic", b"XDLT" + seq[4:], DeltaFormatError),
        ("header checksum", bytes(flipped_header), DeltaFormatError),
        ("unknown version", _recrc(bytes(version), hs), DeltaUnsupportedError),
        ("unknown compression", _recrc(bytes(compression), hs), DeltaUnsupportedError),
        ("truncated header", seq[: hs - 5], DeltaTruncatedError),
        ("truncated body", seq[: len(seq) - 7], DeltaTruncatedError),
        ("empty", b"", DeltaTruncatedError),
        ("corrupt body", bytes(corrupt_body), DeltaFormatError),
        ("trailing bytes", seq + b"\x00\x01", DeltaFormatError),
        ("diff beyond source", _crafted(old, new, encode_varint(len(old) - 4) + _cmd(64, 0, 0), plan=plan),
         DeltaFormatError),
        ("chunk overrun", _crafted(old, new, encode_varint(0) + _cmd(0, len(new) + 1, 0)
                                   + new + b"x", plan=plan), DeltaFormatError),
        ("chunk underrun", _crafted(old, new, encode_varint(0) + _cmd(0, 10, 0) + new[:10], plan=plan),
         DeltaFormatError),
        ("seek outside source", _crafted(old, new, encode_varint(0) + _cmd(0, 10, -5) + new[:10], plan=plan),
         DeltaFormatError),
        ("wrong target", _crafted(old, new, encode_varint(0) + _cmd(0, len(new), 0)
                                  + bytes(len(new)), plan=plan), DeltaTargetMismatchError),
        ("ram below its parameters", _crafted(old, new, b"", ram=100, plan=plan), DeltaRamError),
    ]


def test_host_apply_types_every_class(pair) -> None:  # type: ignore[no-untyped-def]
    old, new, seq, _ = pair
    for name, patch, error in _classes(old, new, seq):
        with pytest.raises(error):
            apply_patch(old, patch)
        assert name


def test_wrong_source_is_refused(pair) -> None:  # type: ignore[no-untyped-def]
    old, new, seq, inp = pair
    for patch in (seq, inp):
        with pytest.raises(DeltaSourceMismatchError):
            apply_patch(new, patch)


@pytest.mark.parametrize("in_place,verify_first", [(False, False), (False, True), (True, False)],
                         ids=["sequential", "sequential-verify-first", "in-place"])
def test_flash_applier_writes_nothing_outside_staging(pair, in_place: bool,  # type: ignore[no-untyped-def]
                                                      verify_first: bool) -> None:
    old, new, seq, inp = pair
    setup = setup_for("nrf52840", in_place=in_place)
    base = seq if not in_place else inp
    plan = InPlacePlan(segment_size=4096, shift=8192) if in_place else None
    cases = _classes(old, new, base, plan)
    if in_place:
        # A plan violation: without a shift, segment 0's erase destroys the source it reads.
        plan = InPlacePlan(segment_size=4096, shift=0)
        cases.append(("reads overwritten source",
                      _crafted(old, new, encode_varint(0) + _cmd(len(new), 0, 0)
                               + bytes(a - b & 0xFF for a, b in zip(new, old)), plan=plan),
                      DeltaFormatError))
    for name, patch, error in cases:
        flash = fresh_flash(setup, old)
        before = outside(setup, flash)
        ops = flash.ops
        with pytest.raises(error):
            apply_to_flash(flash, setup.layout, patch, ram_budget=setup.ram_budget,
                           verify_first=verify_first)
        assert outside(setup, flash) == before, name
        if in_place or verify_first:
            assert flash.ops == ops, f"{name}: a write happened before the patch was verified"
            assert flash.dump(setup.layout.source.offset, len(old)) == old


def test_refusals_before_the_first_write(pair) -> None:  # type: ignore[no-untyped-def]
    old, new, seq, inp = pair
    setup = setup_for("nrf52840", in_place=False)
    # Wrong source in the slot.
    flash = fresh_flash(setup, new)
    with pytest.raises(DeltaSourceMismatchError):
        apply_to_flash(flash, setup.layout, seq)
    assert flash.ops == 0
    # RAM above the device budget.
    flash = fresh_flash(setup, old)
    with pytest.raises(DeltaRamError):
        apply_to_flash(flash, setup.layout, seq, ram_budget=8 * 1024)
    assert flash.ops == 0
    # Target larger than the slot.
    lay = setup.layout
    small = ApplyLayout(lay.source, Region(lay.target.offset, 16 * 1024), lay.state)
    flash = fresh_flash(setup, old)
    with pytest.raises(DeltaLayoutError):
        apply_to_flash(flash, small, seq)
    assert flash.ops == 0
    # An in-place patch on a two-slot layout, and the reverse.
    flash = fresh_flash(setup, old)
    with pytest.raises(DeltaLayoutError):
        apply_to_flash(flash, lay, inp)
    single = setup_for("nrf52840", in_place=True).layout
    with pytest.raises(DeltaLayoutError):
        apply_to_flash(flash, single, seq)
    # In-place plan larger than the slot (image + shift).
    tight = ApplyLayout.single_slot(Region(single.source.offset, 24 * 1024), single.state)
    with pytest.raises(DeltaLayoutError):
        apply_to_flash(flash, tight, inp)
    # In-place segments smaller than the erase sectors (stm32f4: 16 KiB+ sectors).
    f4 = setup_for("stm32f4", in_place=True)
    flash = fresh_flash(f4, old)
    with pytest.raises(DeltaLayoutError):
        apply_to_flash(flash, f4.layout, inp, ram_budget=f4.ram_budget)
    assert flash.ops == 0


def test_another_patch_half_applied_in_place_is_not_overwritten(pair) -> None:  # type: ignore[no-untyped-def]
    from suitlib.flash import FaultPlan, PowerLoss

    old, new, _, inp = pair
    other_new = new[:-100] + b"\x5a" * 100
    other = create_patch(old, other_new, CreateOptions(in_place=True))
    setup = setup_for("nrf52840", in_place=True)
    # Op 30 is inside the shift, after source segments were recorded as moved and one was
    # overwritten: the slot no longer holds a whole source image.
    flash = fresh_flash(setup, old)
    flash.arm(FaultPlan.cut(flash.ops + 30))
    with pytest.raises(PowerLoss):
        apply_to_flash(flash, setup.layout, inp)
    flash.power_cycle()
    flash.arm(None)
    ops = flash.ops
    with pytest.raises(DeltaSourceMismatchError):
        apply_to_flash(flash, setup.layout, other)
    assert flash.ops == ops
    apply_to_flash(flash, setup.layout, inp)
    assert flash.dump(setup.layout.target.offset, len(new)) == new
    # Op 12: verified, and only flash above the image was touched: another patch may start.
    flash = fresh_flash(setup, old)
    flash.arm(FaultPlan.cut(flash.ops + 12))
    with pytest.raises(PowerLoss):
        apply_to_flash(flash, setup.layout, inp)
    flash.power_cycle()
    flash.arm(None)
    apply_to_flash(flash, setup.layout, other)
    assert flash.dump(setup.layout.target.offset, len(other_new)) == other_new


@given(st.data())
def test_mutated_patches_raise_only_delta_errors(pair, data) -> None:  # type: ignore[no-untyped-def]
    old, new, seq, inp = pair
    patch = bytearray(data.draw(st.sampled_from([seq, inp])))
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        pos = data.draw(st.integers(0, max(0, len(patch) - 1)))
        if kind == "flip" and patch:
            patch[pos] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "cut":
            del patch[pos:]
        elif kind == "insert":
            patch[pos:pos] = data.draw(st.binary(min_size=1, max_size=8))
        elif patch:
            del patch[pos : pos + data.draw(st.integers(1, 8))]
    try:
        out = apply_patch(old, bytes(patch))
    except DeltaError:
        return
    assert out == new  # a mutation the format tolerates must still give the exact target


@given(st.binary(max_size=400))
def test_random_bytes_raise_only_delta_errors(blob: bytes) -> None:
    for patch in (blob, b"SDLT" + blob):
        with pytest.raises(DeltaError):
            apply_patch(b"old image", patch)


@given(st.data())
def test_body_mutations_raise_only_delta_errors(pair, data) -> None:  # type: ignore[no-untyped-def]
    """Mutations behind an intact header reach the decompressor and the command decoder."""
    old, new, seq, inp = pair
    base = data.draw(st.sampled_from([seq, inp]))
    hs = _header_size(base)
    patch = bytearray(base)
    for _ in range(data.draw(st.integers(1, 3))):
        pos = data.draw(st.integers(hs, len(patch) - 1))
        kind = data.draw(st.sampled_from(["flip", "byte", "delete", "insert"]))
        if kind == "flip":
            patch[pos] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "byte":
            patch[pos] = data.draw(st.integers(0, 255))
        elif kind == "delete":
            del patch[pos : pos + data.draw(st.integers(1, 4))]
        else:
            patch[pos:pos] = data.draw(st.binary(min_size=1, max_size=4))
        if len(patch) <= hs + 1:
            break
    try:
        out = apply_patch(old, bytes(patch))
    except DeltaError:
        return
    assert out == new


def test_done_is_trusted_only_while_the_slot_holds_the_target(pair) -> None:  # type: ignore[no-untyped-def]
    old, new, seq, _ = pair
    setup = setup_for("nrf52840", in_place=False)
    flash = fresh_flash(setup, old)
    apply_to_flash(flash, setup.layout, seq)
    ops = flash.ops
    apply_to_flash(flash, setup.layout, seq)  # done: nothing is written again
    assert flash.ops == ops
    target = setup.layout.target.offset
    flash.erase(target, 4096)  # the slot changed since (e.g. the bootloader reused it)
    apply_to_flash(flash, setup.layout, seq)
    assert flash.dump(target, len(new)) == new
