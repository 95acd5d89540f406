"""Round trips: every pair of the shared firmware corpus (sequential and in-place, in memory
and through the flash applier) and hypothesis-generated pairs (random, inserted, deleted and
shifted blocks, all-equal, empty source, empty target)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suitlib.delta.applier import apply_to_flash
from suitlib.delta.apply import apply_patch, describe
from suitlib.delta.create import CreateOptions, create_patch
from tests.delta.conftest import corpus_pairs
from tests.delta.sweep import fresh_flash, setup_for
from tests.conftest import CORPUS

PAIRS = corpus_pairs(CORPUS)


@pytest.mark.parametrize("name", PAIRS)
def test_corpus_pair_round_trip(load_pair, name: str) -> None:
    old, new = load_pair(name)
    seq = create_patch(old, new)
    assert apply_patch(old, seq) == new
    info = describe(seq)
    assert info["source_digest"] == hashlib.sha256(old).hexdigest()
    assert info["target_digest"] == hashlib.sha256(new).hexdigest()
    assert info["ram_bytes"] <= 32 * 1024 and not info["in_place"]
    # A delta is worth sending: far smaller than the image itself.
    assert len(seq) < len(new) // 5
    inp = create_patch(old, new, CreateOptions(in_place=True))
    assert apply_patch(old, inp) == new
    assert describe(inp)["in_place"]
    # In-place costs at most 5 % over sequential (the plan's price).
    assert len(inp) <= len(seq) * 1.05 + 64


@pytest.mark.parametrize("name,profile,in_place", [
    ("mbed-blinky-k64f", "nrf52840", False), ("mbed-blinky-k64f", "nrf52840", True),
    ("micropython-pybv11-v1.10-to-1f5d945af", "nrf52840", False),
    ("micropython-pybv11-v1.10-to-1f5d945af", "stm32l4", True),
    # 16-128 KiB sectors: sequential only (in-place segments must be whole sectors).
    ("micropython-pybv11-v1.10-to-1f5d945af", "stm32f4", False),
])
def test_corpus_pair_through_flash(load_pair, name: str, profile: str, in_place: bool) -> None:
    old, new = load_pair(name)
    patch = create_patch(old, new, CreateOptions(in_place=in_place))
    setup = setup_for(profile, in_place=in_place)
    flash = fresh_flash(setup, old)
    applier = apply_to_flash(flash, setup.layout, patch, ram_budget=setup.ram_budget, block=1024)
    assert flash.dump(setup.layout.target.offset, len(new)) == new
    assert applier.passes == (2 if in_place else 1)
    if not in_place:
        assert flash.dump(setup.layout.source.offset, len(old)) == old


def _mutate_blocks(base: bytes, edits: list[tuple[str, int, bytes]]) -> bytes:
    out = bytearray(base)
    for kind, pos, blob in edits:
        if not out:
            out += blob
            continue
        pos %= len(out) + 1
        if kind == "insert":
            out[pos:pos] = blob
        elif kind == "delete":
            del out[pos : pos + len(blob)]
        elif kind == "replace":
            out[pos : pos + len(blob)] = blob
        else:  # "shift": move a block elsewhere
            block = bytes(out[pos : pos + len(blob)])
            del out[pos : pos + len(blob)]
            dest = (pos * 7 + 13) % (len(out) + 1)
            out[dest:dest] = block
    return bytes(out)


_edit = st.tuples(st.sampled_from(["insert", "delete", "replace", "shift"]),
                  st.integers(0, 1 << 16), st.binary(min_size=1, max_size=300))


def _check(old: bytes, new: bytes, **kw) -> None:  # type: ignore[no-untyped-def]
    for in_place in (False, True):
        patch = create_patch(old, new, CreateOptions(in_place=in_place, segment_size=1024, **kw))
        assert apply_patch(old, patch) == new


@given(st.binary(max_size=3000), st.binary(max_size=3000))
def test_random_pairs(old: bytes, new: bytes) -> None:
    _check(old, new)


@given(st.binary(min_size=0, max_size=4000), st.lists(_edit, max_size=6),
       st.sampled_from([0, 512, 2048]))
def test_edited_pairs(old: bytes, edits, chunk_size: int) -> None:  # type: ignore[no-untyped-def]
    new = _mutate_blocks(old, edits)
    _check(old, new, chunk_size=chunk_size)


@settings(max_examples=40)
@given(st.binary(min_size=1, max_size=64), st.integers(1, 200), st.integers(-2000, 2000))
def test_repetitive_and_shifted_images(unit: bytes, reps: int, shift: int) -> None:
    old = unit * reps
    new = (b"\x00" * shift + old) if shift >= 0 else old[-shift:]
    _check(old, new)


@pytest.mark.parametrize("old,new", [
    (b"", b""), (b"", b"fresh image" * 100), (b"old image" * 100, b""),
    (b"same" * 500, b"same" * 500), (b"\xff" * 5000, b"\xff" * 5000), (b"a", b"b"),
])
def test_edge_pairs(old: bytes, new: bytes) -> None:
    _check(old, new)


def _small_flash():  # type: ignore[no-untyped-def]
    from suitlib.flash import FlashEmulator, Geometry

    return FlashEmulator(Geometry.uniform(64 * 1024, 1024, write_unit=8, program_limit=1))


@settings(max_examples=60)
@given(st.binary(min_size=0, max_size=4000), st.lists(_edit, max_size=5), st.booleans())
def test_edited_pairs_through_the_flash_applier(old: bytes, edits, in_place: bool) -> None:  # type: ignore[no-untyped-def]
    from suitlib.delta.applier import ApplyLayout, Region

    new = _mutate_blocks(old, edits)
    patch = create_patch(old, new, CreateOptions(in_place=in_place, segment_size=1024))
    flash = _small_flash()
    flash.load(0, old)
    state = Region(60 * 1024, 4096)
    layout = (ApplyLayout.single_slot(Region(0, 24 * 1024), state) if in_place
              else ApplyLayout(Region(0, 16 * 1024), Region(16 * 1024, 16 * 1024), state))
    apply_to_flash(flash, layout, patch, block=97)
    assert flash.dump(layout.target.offset, len(new)) == new
