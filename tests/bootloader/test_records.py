"""Records and logs (specs/FLASH-LAYOUT.md §Records, §Logs): torn values never read as another
record, appends never program a unit twice, a refused unit is skipped."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suitlib.bootloader.records import Log, decode, encode, majority
from suitlib.flash import FaultPlan, FlashEmulator, Geometry, PowerLoss


@given(st.binary(min_size=4, max_size=4), st.sampled_from([8, 16, 32]),
       st.sampled_from([0x00, 0xFF]))
def test_roundtrip_and_erased_never_decodes(payload: bytes, unit: int, ev: int) -> None:
    word = encode(payload, unit, ev)
    assert len(word) == unit
    assert decode(word, 4, ev) == payload
    assert decode(bytes([ev]) * unit, 4, ev) is None


@given(st.binary(min_size=4, max_size=4), st.binary(min_size=4, max_size=4),
       st.integers(min_value=0, max_value=(1 << 64) - 1), st.sampled_from([0x00, 0xFF]))
def test_partial_program_is_never_another_record(a: bytes, b: bytes, mask: int, ev: int) -> None:
    """A torn program lands a subset of the changing bits: it reads as the intended record,
    as nothing, or as garbage — never as a different valid record."""
    word = int.from_bytes(encode(a, 8, ev), "little")
    erased = int.from_bytes(bytes([ev]) * 8, "little")
    changing = word ^ erased
    landed = (erased ^ (changing & mask)).to_bytes(8, "little")
    got = decode(landed, 4, ev)
    assert got in (None, a)
    if a != b:
        assert decode(encode(b, 8, ev), 4, ev) != a


def test_majority_needs_two_thirds_of_the_reads() -> None:
    assert majority([b"x", b"x"]) == b"x"
    assert majority([b"x", b"y"]) is None
    assert majority([b"x", b"x", b"y"]) == b"x"
    assert majority([b"x", b"y", b"x", b"x", b"z"]) is None
    assert majority([b"x"] * 14 + [b"y"] * 5) == b"x"
    assert majority([b"a", b"b", b"c", b"d"]) is None


@given(st.binary(min_size=4, max_size=4), st.sampled_from([1, 2, 4, 8]), st.sampled_from([0x00, 0xFF]))
def test_every_write_unit_is_balanced(payload: bytes, wu: int, ev: int) -> None:
    """Any torn write unit has at least 4 bits in flight (so unstable reads rarely agree)."""
    word = encode(payload, 8, ev)
    for i in range(0, 8, wu):
        unit = word[i:i + wu]
        changed = sum(bin(b ^ ev).count("1") for b in unit)
        assert changed == 4 * wu


def _flash(limit: int | None = 1) -> FlashEmulator:
    return FlashEmulator(Geometry.uniform(8192, 1024, write_unit=8, program_limit=limit))


def test_log_appends_in_order_and_reopens() -> None:
    f = _flash()
    log = Log.fresh(f, 0, 1024)
    for i in range(5):
        log.append(bytes([0x12]) + i.to_bytes(3, "little"))
    again = Log.open(f, 0, 1024)
    assert [p[1] for p in again.payloads()] == [0, 1, 2, 3, 4]
    assert again.cursor == 6  # one guard unit after the last touched unit


@pytest.mark.parametrize("torn", ["prefix", "bits", "all-but-last"])
def test_torn_append_is_skipped_not_reprogrammed(torn: str) -> None:
    f = _flash()
    log = Log.fresh(f, 0, 1024)
    log.append(b"\x12\x01\x00\x00")
    for seed in range(8):
        f2 = _flash()
        f2.load(0, f.dump(0, 1024))
        f2.arm(FaultPlan.cut(0, torn=torn, seed=seed))
        with pytest.raises(PowerLoss):
            Log.open(f2, 0, 1024).append(b"\x12\x02\x00\x00")
        f2.power_cycle()
        f2.arm(None)
        reopened = Log.open(f2, 0, 1024)
        assert [p[1] for p in reopened.payloads()] in ([1], [1, 2])
        reopened.append(b"\x12\x03\x00\x00")   # write-once part: must not raise
        assert Log.open(f2, 0, 1024).payloads()[-1] == b"\x12\x03\x00\x00"


def test_unstable_unit_is_not_a_record() -> None:
    f = _flash()
    f.arm(FaultPlan.cut(0, torn="bits", unstable=True, seed=3))
    with pytest.raises(PowerLoss):
        Log.fresh(f, 0, 1024).append(b"\x12\x07\x00\x00")
    f.power_cycle()
    for _ in range(20):
        assert Log.open(f, 0, 1024).payloads() == []
