"""Branch transforms (DELTA-FORMAT §4.3): the Thumb-2 field mapping is a bijection, relocated
branches and pointers round-trip exactly, the creator picks the transform that fits the
architecture, and the transform pays for itself on real relinked firmware."""

from __future__ import annotations

import random
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from suitlib.delta.apply import apply_patch, describe
from suitlib.delta.create import CreateOptions, create_patch
from suitlib.delta.transform import (
    TRANSFORM_AARCH64,
    TRANSFORM_THUMB2,
    AddressMap,
    thumb_bytes,
    thumb_fields,
    thumb_value,
)


@given(st.binary(min_size=4, max_size=4))
def test_thumb_fields_is_a_bijection(four: bytes) -> None:
    op, imm = thumb_fields(*four)
    assert -(1 << 23) <= imm < (1 << 23)
    assert thumb_bytes(thumb_value(op, imm)) == four


def test_thumb_bl_decodes_the_architectural_offset() -> None:
    # Well-known encodings (ARMv7-M ARM A7.7.18): f000 f800 = "bl" to the next instruction
    # (offset 0), f7ff fffe = "bl ." (offset -4 bytes = -2 halfwords).
    assert thumb_fields(*bytes.fromhex("00f000f8"))[1] == 0
    assert thumb_fields(*bytes.fromhex("fff7feff"))[1] == -2
    assert thumb_fields(*_bl(0x1000, 0x2000))[1] * 2 + 0x1000 + 4 == 0x2000
    assert thumb_fields(*_bl(0x2000, 0x100))[1] * 2 + 0x2000 + 4 == 0x100


def test_address_map_lookup() -> None:
    amap = AddressMap([100, 200], [8, -4])
    assert [amap(a) for a in (0, 99, 100, 150, 199, 200, 1000)] == [0, 99, 108, 158, 207, 196, 996]


def _bl(at: int, dest: int) -> bytes:
    off = (dest - at - 4) >> 1
    s = (off >> 23) & 1
    i1, i2 = (off >> 22) & 1, (off >> 21) & 1
    j1, j2 = (1 - i1) ^ s, (1 - i2) ^ s
    hw1 = 0xF000 | s << 10 | (off >> 11) & 0x3FF
    hw2 = 0xD000 | j1 << 13 | j2 << 11 | off & 0x7FF
    return struct.pack("<HH", hw1, hw2)


def _firmware(rng: random.Random, funcs: list[int], sizes: list[int], base: int) -> bytes:
    """Functions of random 'code' with calls to each other and a literal pool of pointers."""
    starts, pos = [], 0
    for size in sizes:
        starts.append(pos)
        pos += size
    out = bytearray()
    for k, size in enumerate(sizes):
        body = bytearray()
        local = random.Random(funcs[k])
        while len(body) < size - 8:
            r = local.random()
            at = starts[k] + len(body)
            if r < 0.15:
                body += _bl(at, starts[local.randrange(len(sizes))])
            elif r < 0.22 and (at % 4 == 0):
                body += struct.pack("<I", base + starts[local.randrange(len(sizes))] + 1)
            else:
                body += struct.pack("<H", local.randrange(0x4000))
        body += b"\x00" * (size - len(body))
        out += body
    return bytes(out)


@settings(max_examples=25)
@given(st.integers(0, 1 << 30), st.integers(2, 12), st.integers(0, 11), st.integers(1, 64))
def test_relocated_code_round_trips(seed: int, nfuncs: int, grow: int, by: int) -> None:
    rng = random.Random(seed)
    funcs = [rng.randrange(1 << 30) for _ in range(nfuncs)]
    sizes = [rng.randrange(64, 1024) & ~3 for _ in range(nfuncs)]
    old = _firmware(rng, funcs, sizes, 0x08000000)
    sizes2 = list(sizes)
    sizes2[grow % nfuncs] += by * 4  # one function grows: everything after it moves
    new = _firmware(rng, funcs, sizes2, 0x08000000)
    for transform in (0, TRANSFORM_THUMB2, TRANSFORM_AARCH64):
        for in_place in (False, True):
            patch = create_patch(old, new, CreateOptions(transform=transform, in_place=in_place,
                                                         segment_size=1024))
            assert apply_patch(old, patch) == new


def test_transform_pays_on_relocated_code() -> None:
    rng = random.Random(7)
    funcs = [rng.randrange(1 << 30) for _ in range(40)]
    sizes = [rng.randrange(256, 2048) & ~3 for _ in range(40)]
    old = _firmware(rng, funcs, sizes, 0x08000000)
    sizes[3] += 200
    new = _firmware(rng, funcs, sizes, 0x08000000)
    plain = create_patch(old, new, CreateOptions(transform=0))
    thumb = create_patch(old, new, CreateOptions(transform=TRANSFORM_THUMB2))
    assert apply_patch(old, thumb) == new
    assert describe(thumb)["transform"] == "thumb2-branch"
    assert len(thumb) < 0.6 * len(plain), (len(thumb), len(plain))


def test_creator_picks_the_architecture(load_pair) -> None:  # type: ignore[no-untyped-def]
    for name, kind, gain in (("simba-due-shell", "thumb2-branch", 0.7),
                             ("simba-rpi3-shell-aarch64", "aarch64-branch", 0.8)):
        old, new = load_pair(name)
        auto = create_patch(old, new)
        plain = create_patch(old, new, CreateOptions(transform=0))
        assert describe(auto)["transform"] == kind
        assert apply_patch(old, auto) == new
        # Measured on the corpus: 682 vs 1,357 bytes and 780 vs 1,233 bytes.
        assert len(auto) < gain * len(plain), (name, len(auto), len(plain))
    old, new = load_pair("esp8266-nonos-at-2020-01-to-2020-03")  # Xtensa: no transform wins
    assert describe(create_patch(old, new))["transform"] == "none"
