"""Fault models F0-F9 of the flash emulator: each test fails if the behaviour is missing."""

from __future__ import annotations

import pytest

from suitlib.flash import (
    Fault,
    FaultPlan,
    FlashDriverError,
    FlashEccError,
    FlashEmulator,
    FlashWornError,
    FlashWriteRuleError,
    Geometry,
    PowerLoss,
    ReadFlip,
    TornMode,
    parse_fault_id,
)

KIB = 1024
OLD = bytes((i * 37 + 11) % 256 for i in range(32))  # a mix of 0 and 1 bits
NEW = bytes(o & ((i * 91 + 5) % 256) for i, o in enumerate(OLD))  # clears some of OLD's 1 bits


def geometry(**kw: object) -> Geometry:
    return Geometry.uniform(64 * KIB, 4 * KIB, **{"write_unit": 4, **kw})  # type: ignore[arg-type]


def torn_program(spec: str, **kw: object) -> FlashEmulator:
    """Flash holding OLD at 0x1000 whose op 0 programs NEW over it under ``spec``."""
    flash = FlashEmulator(geometry(**kw), plan=parse_fault_id(spec))
    flash.load(0x1000, OLD)
    with pytest.raises(PowerLoss) as cut:
        flash.program(0x1000, NEW)
    assert cut.value.op_index == 0
    flash.power_cycle()
    return flash


# --- F0 ---------------------------------------------------------------------------------


def test_f0_cut_before_op_k_skips_that_op_and_everything_after() -> None:
    flash = FlashEmulator(geometry(), plan=FaultPlan.cut(2))
    flash.program(0, b"\x00" * 4)
    flash.erase(0x1000, 4 * KIB)
    with pytest.raises(PowerLoss) as cut:
        flash.program(4, b"\x00" * 4)
    assert cut.value.op_index == 2
    assert flash.read.__self__ is flash and not flash.powered
    with pytest.raises(PowerLoss):  # the device stays off: nothing more lands
        flash.program(8, b"\x00" * 4)
    with pytest.raises(PowerLoss):
        flash.read(0, 4)
    flash.power_cycle()
    assert flash.read(0, 12) == b"\x00" * 4 + b"\xff" * 8
    assert [(e.index, e.fault) for e in flash.trace] == [(0, ""), (1, ""), (2, "cut")]
    assert flash.ops == 3 and flash.boots == 1


def test_power_loss_is_not_swallowed_by_except_exception() -> None:
    flash = FlashEmulator(geometry(), plan=FaultPlan.cut(0))

    def careless_driver() -> None:
        try:
            flash.program(0, b"\x00" * 4)
        except Exception:  # noqa: BLE001 - what buggy code under test does
            pass

    with pytest.raises(PowerLoss):
        careless_driver()


# --- F1 torn program --------------------------------------------------------------------


def _units(data: bytes, wu: int = 4) -> list[bytes]:
    return [data[i:i + wu] for i in range(0, len(data), wu)]


def test_f1_torn_bits_touches_only_the_last_unit_and_leaves_neither_old_nor_new() -> None:
    seen_partial = False
    for seed in range(8):
        flash = torn_program(f"cut=0:torn=bits:seed={seed}")
        got = flash.read(0x1000, 32)
        assert got[:28] == NEW[:28]
        last, old, new = got[28:], OLD[28:], NEW[28:]
        for g, o, n in zip(last, old, new):
            assert g & ~o & 0xFF == 0 and n & ~g & 0xFF == 0  # only bits old->new moved
        seen_partial |= last not in (old, new)
        assert flash.read(0x0FFC, 4) == b"\xff" * 4 and flash.read(0x1020, 4) == b"\xff" * 4
    assert seen_partial


def test_f1_torn_prefix_lands_whole_units_only_and_the_cut_point_varies_with_seed() -> None:
    points = set()
    for seed in range(12):
        got = torn_program(f"cut=0:torn=prefix:seed={seed}").read(0x1000, 32)
        m = next(i for i in range(9) if got == NEW[:4 * i] + OLD[4 * i:])
        assert m < 8
        points.add(m)
    assert len(points) >= 3


def test_f1_all_but_last_unit() -> None:
    got = torn_program("cut=0:torn=all-but-last").read(0x1000, 32)
    assert got == NEW[:28] + OLD[28:]


def test_f1_torn_unit_on_write_once_flash_cannot_be_programmed_again() -> None:
    flash = FlashEmulator(geometry(write_unit=8, program_limit=1), plan=parse_fault_id("cut=0:torn=bits"))
    with pytest.raises(PowerLoss):
        flash.program(0, b"\x00" * 16)
    flash.power_cycle()
    with pytest.raises(FlashWriteRuleError):
        flash.program(8, b"\x00" * 8)  # the unit in flight is spent until erased
    flash.erase(0, 4 * KIB)
    flash.program(8, b"\x00" * 8)


# --- F2 torn erase ----------------------------------------------------------------------


def test_f2_torn_erase_leaves_neither_old_nor_erased_and_stays_in_its_sector() -> None:
    old = bytes((i * 7) % 256 for i in range(4 * KIB))
    for seed in range(3):
        flash = FlashEmulator(geometry(), plan=parse_fault_id(f"cut=0:torn=bits:seed={seed}"))
        flash.load(0, old * 3)
        with pytest.raises(PowerLoss):
            flash.erase(0x1000, 4 * KIB)
        flash.power_cycle()
        got = flash.read(0x1000, 4 * KIB)
        assert got not in (old, b"\xff" * (4 * KIB))
        assert all(g | o == g for g, o in zip(got, old))  # bits only moved towards erased
        assert flash.read(0, 4 * KIB) == old and flash.read(0x2000, 4 * KIB) == old
        assert flash.erase_counts[1] == 1


def test_f2_torn_erase_prefix_mode_erases_whole_units_from_the_start() -> None:
    old = b"\x00" * (4 * KIB)
    flash = FlashEmulator(geometry(), plan=parse_fault_id("cut=0:torn=prefix:seed=5"))
    flash.load(0, old)
    with pytest.raises(PowerLoss):
        flash.erase(0, 4 * KIB)
    got = flash.dump(0, 4 * KIB)
    m = got.index(0)
    assert m % 4 == 0 and 0 <= m < 4 * KIB and got == b"\xff" * m + old[m:]


# --- F3 unstable bits -------------------------------------------------------------------


def test_f3_unstable_bits_read_differently_until_the_unit_is_programmed_again() -> None:
    flash = torn_program("cut=0:torn=bits:unstable:seed=1")
    reads = {flash.read(0x1000, 32) for _ in range(16)}
    assert len(reads) > 1
    assert all(r[:28] == NEW[:28] for r in reads)  # only the unit in flight is unstable
    flash.program(0x101C, NEW[28:])
    assert len({flash.read(0x1000, 32) for _ in range(16)}) == 1
    assert not flash.unstable_bits()


def test_f3_unstable_erase_reads_differently_until_erased() -> None:
    flash = FlashEmulator(geometry(), plan=parse_fault_id("cut=0:torn=bits:unstable:seed=2"))
    flash.load(0, b"\x00" * (4 * KIB))
    with pytest.raises(PowerLoss):
        flash.erase(0, 4 * KIB)
    flash.power_cycle()
    assert len({flash.read(0, 64) for _ in range(8)}) > 1
    flash.erase(0, 4 * KIB)
    assert {flash.read(0, 64) for _ in range(8)} == {b"\xff" * 64}


def test_f3_without_unstable_torn_bits_read_the_same_every_time() -> None:
    flash = torn_program("cut=0:torn=bits:seed=1")
    assert len({flash.read(0x1000, 32) for _ in range(16)}) == 1


# --- F4 multiple cuts -------------------------------------------------------------------


def test_f4_a_second_and_third_cut_during_recovery() -> None:
    flash = FlashEmulator(geometry(), plan=parse_fault_id("cut=1:cut=3:torn=prefix:cut=4"))
    cuts = []
    for boot in range(4):
        try:
            for i in range(3):
                flash.program(0x100 * boot + 4 * i, b"\x00" * 4)
        except PowerLoss as cut:
            cuts.append((cut.op_index, flash.boots))
            flash.power_cycle()
    assert cuts == [(1, 0), (3, 1), (4, 2)]
    assert [e.boot for e in flash.trace] == [0, 0, 1, 1, 2, 3, 3, 3]
    assert [e.fault for e in flash.trace][:5] == ["", "cut", "", "cut:torn=prefix", "cut"]


# --- F5 driver errors -------------------------------------------------------------------


def test_f5_driver_error_writes_nothing_and_keeps_power() -> None:
    flash = FlashEmulator(geometry(), plan=parse_fault_id("err=1"))
    flash.program(0, b"\x00" * 4)
    with pytest.raises(FlashDriverError) as err:
        flash.program(4, b"\x00" * 8)
    assert err.value.op_index == 1 and flash.powered
    assert flash.read(0, 12) == b"\x00" * 4 + b"\xff" * 8
    flash.program(4, b"\x00" * 8)  # a retry succeeds
    assert flash.read(0, 12) == b"\x00" * 12


def test_f5_driver_error_after_a_partial_write() -> None:
    flash = FlashEmulator(geometry(), plan=parse_fault_id("err=0:torn=all-but-last"))
    with pytest.raises(FlashDriverError):
        flash.program(0, b"\x00" * 16)
    assert flash.read(0, 16) == b"\x00" * 12 + b"\xff" * 4


def test_f5_erase_driver_error_leaves_the_sector() -> None:
    flash = FlashEmulator(geometry(), plan=parse_fault_id("err=0"))
    flash.load(0, b"\x00" * 8)
    with pytest.raises(FlashDriverError):
        flash.erase(0, 4 * KIB)
    assert flash.read(0, 8) == b"\x00" * 8


# --- F6 wear ----------------------------------------------------------------------------


def test_f6_erase_fails_past_the_endurance() -> None:
    flash = FlashEmulator(geometry(endurance=3))
    flash.program(0, b"\x00" * 4)
    for _ in range(3):
        flash.erase(0, 4 * KIB)
    assert flash.erase_counts[0] == 3 and flash.is_worn(0)
    flash.program(0, b"\x00" * 4)
    with pytest.raises(FlashWornError):
        flash.erase(0, 4 * KIB)
    assert flash.read(0, 4) == b"\x00" * 4
    flash.erase(0x1000, 4 * KIB)  # other sectors are fine


def test_f6_program_noop_on_a_worn_sector() -> None:
    flash = FlashEmulator(geometry(endurance=1), wear_mode="program-noop")
    flash.erase(0, 4 * KIB)
    flash.program(0, b"\x00" * 4)
    flash.program(0x1000, b"\x00" * 4)
    assert flash.read(0, 4) == b"\xff" * 4 and flash.read(0x1000, 4) == b"\x00" * 4
    assert flash.trace[1].fault == "worn:noop"


def test_f6_read_errors_on_a_worn_sector() -> None:
    flash = FlashEmulator(geometry(endurance=2), wear_mode="read-errors")
    flash.set_wear(1, 2)
    flash.read(0, 4 * KIB)
    with pytest.raises(FlashWornError):
        flash.read(0x0FFC, 8)


# --- F7 read flips ----------------------------------------------------------------------


def test_f7_reads_in_the_region_flip_one_bit_and_storage_is_unchanged() -> None:
    plan = FaultPlan(flips=(ReadFlip(0x1000, 0x1010),), seed=4)
    flash = FlashEmulator(geometry(), plan=plan)
    got = flash.read(0x0FF0, 0x30)
    diff = [a ^ b for a, b in zip(got, b"\xff" * 0x30)]
    assert sum(bin(d).count("1") for d in diff) == 1
    assert any(diff[0x10:0x20]) and not any(diff[:0x10]) and not any(diff[0x20:])
    assert flash.read(0x2000, 16) == b"\xff" * 16 and flash.dump(0x1000, 16) == b"\xff" * 16


def test_f7_flip_probability_is_honoured() -> None:
    flash = FlashEmulator(geometry(), plan=parse_fault_id("flip=0-0x10@0.25:seed=9"))
    flipped = sum(flash.read(0, 16) != b"\xff" * 16 for _ in range(400))
    assert 50 < flipped < 150


# --- F8 power cycles --------------------------------------------------------------------


def test_f8_power_cycle_counts_boots_and_keeps_contents() -> None:
    flash = FlashEmulator(geometry())
    flash.program(0, b"\x00" * 4)
    flash.power_cycle()
    flash.power_cycle()
    flash.program(4, b"\x00" * 4)
    assert flash.boots == 2 and flash.read(0, 8) == b"\x00" * 8
    assert [e.boot for e in flash.trace] == [0, 2]


# --- F9 physical erase block > logical sector -------------------------------------------


def test_f9_erase_of_a_logical_sector_erases_the_block_and_rewrites_neighbours() -> None:
    flash = FlashEmulator(geometry(physical_erase_size=16 * KIB))
    flash.load(0, b"\x00" * (20 * KIB))
    flash.erase(0x1000, 4 * KIB)
    assert flash.read(0x1000, 4 * KIB) == b"\xff" * (4 * KIB)
    assert flash.read(0, 4 * KIB) == b"\x00" * (4 * KIB)
    assert flash.read(0x2000, 8 * KIB) == b"\x00" * (8 * KIB)
    assert [(e.kind, e.address) for e in flash.trace] == [
        ("erase", 0), ("rewrite", 0), ("rewrite", 0x2000), ("rewrite", 0x3000)]
    assert flash.erase_counts[:5] == (1, 1, 1, 1, 0)


def test_f9_a_cut_between_block_erase_and_rewrite_destroys_the_neighbours() -> None:
    flash = FlashEmulator(geometry(physical_erase_size=16 * KIB), plan=FaultPlan.cut(2))
    flash.load(0, b"\x00" * (20 * KIB))
    with pytest.raises(PowerLoss):
        flash.erase(0x1000, 4 * KIB)
    assert flash.dump(0, 4 * KIB) == b"\x00" * (4 * KIB)  # rewritten before the cut
    assert flash.dump(0x2000, 8 * KIB) == b"\xff" * (8 * KIB)  # neighbours lost
    assert flash.dump(0x4000, 4 * KIB) == b"\x00" * (4 * KIB)  # another block


def test_f9_block_mode_always_destroys_the_neighbours() -> None:
    flash = FlashEmulator(geometry(physical_erase_size=8 * KIB), erase_mode="block")
    flash.load(0, b"\x00" * (8 * KIB))
    flash.erase(0, 4 * KIB)
    assert flash.read(0, 8 * KIB) == b"\xff" * (8 * KIB)


def test_f9_rewrites_keep_erased_units_programmable_on_write_once_flash() -> None:
    flash = FlashEmulator(geometry(write_unit=8, program_limit=1, physical_erase_size=8 * KIB))
    flash.program(0x1000, b"\x00" * 8)
    flash.erase(0, 4 * KIB)
    flash.program(0x1008, b"\x00" * 8)  # erased before, erased after the rewrite
    with pytest.raises(FlashWriteRuleError):
        flash.program(0x1000, b"\x00" * 8)  # rewritten: programmed once


# --- determinism ------------------------------------------------------------------------


def workload(flash: FlashEmulator) -> list[bytes]:
    """A small bootloader-like sequence: read status, erase, copy, status writes."""
    seen = []
    for _ in range(4):
        try:
            seen.append(flash.read(0xF000, 32))
            for s in range(4):
                flash.erase(0x8000 + s * 0x1000, 4 * KIB)
                flash.program(0x8000 + s * 0x1000, flash.read(s * 0x1000, 4 * KIB))
                if flash.read(0xF000 + 8 * s, 8) == b"\xff" * 8:
                    flash.program(0xF000 + 8 * s, bytes([s]) * 8)
            break
        except PowerLoss:
            flash.power_cycle()
    return seen


def run_with(spec: str) -> tuple[FlashEmulator, list[bytes]]:
    flash = FlashEmulator(geometry(), plan=parse_fault_id(spec))
    flash.load(0, bytes((i * 13) % 256 for i in range(16 * KIB)))
    seen = workload(flash)
    return flash, seen


@pytest.mark.parametrize("spec", ["cut=5:torn=bits:unstable:cut=9:torn=prefix:seed=7",
                                  "cut=1:torn=bits:seed=7:flip=0x1000-0x2000"])
def test_same_seed_same_trace_and_contents(spec: str) -> None:
    (a, seen_a), (b, seen_b) = run_with(spec), run_with(spec)
    assert a.trace == b.trace and a.dump() == b.dump() and seen_a == seen_b
    assert a.boots >= 1 and any(e.fault for e in a.trace)
    c, seen_c = run_with(spec.replace("seed=7", "seed=8"))
    assert seen_c != seen_a or c.dump() != a.dump()


def test_fault_plan_from_builders_matches_the_text_form() -> None:
    plan = FaultPlan.cut(5, 9, torn="bits", unstable=True, seed=3)
    assert plan == parse_fault_id("cut=5:torn=bits:unstable:cut=9:seed=3")
    assert plan.then(Fault(12, torn=TornMode.PREFIX)).cuts == (5, 9, 12)


# --- ECC read errors on torn units (opt-in, ECC parts) ----------------------------------


def test_ecc_errors_on_a_torn_unit_until_erased() -> None:
    flash = FlashEmulator(geometry(write_unit=8, program_limit=1), ecc_errors=True,
                          plan=parse_fault_id("cut=0:torn=all-but-last"))
    with pytest.raises(PowerLoss):
        flash.program(0x100, b"\x00" * 24)
    flash.power_cycle()
    assert flash.ecc_bad_units() == (0x110,)
    assert flash.read(0x100, 16) == b"\x00" * 16  # completed units read fine
    snap = flash.snapshot()
    with pytest.raises(FlashEccError):
        flash.read(0x114, 1)
    flash.erase(0, 4 * KIB)
    assert flash.read(0x110, 8) == b"\xff" * 8 and flash.ecc_bad_units() == ()
    flash.restore(snap)
    with pytest.raises(FlashEccError):
        flash.read(0x100, 0x20)


def test_ecc_errors_after_a_torn_erase_only_on_units_neither_old_nor_erased() -> None:
    flash = FlashEmulator(geometry(write_unit=8, program_limit=1), ecc_errors=True,
                          plan=parse_fault_id("cut=0:torn=bits:seed=1"))
    flash.load(0, b"\x00" * 16 + b"\xff" * (4 * KIB - 16))
    with pytest.raises(PowerLoss):
        flash.erase(0, 4 * KIB)
    flash.power_cycle()
    assert set(flash.ecc_bad_units()) == {0, 8}
    assert flash.read(16, 4 * KIB - 16) == b"\xff" * (4 * KIB - 16)
    with pytest.raises(FlashEccError):
        flash.read(0, 16)


def test_without_ecc_errors_torn_units_read_normally() -> None:
    flash = FlashEmulator(geometry(write_unit=8, program_limit=1), plan=parse_fault_id("cut=0:torn=bits"))
    with pytest.raises(PowerLoss):
        flash.program(0, b"\x00" * 8)
    flash.power_cycle()
    flash.read(0, 8)
    assert flash.ecc_bad_units() == ()


def test_a_cut_planned_at_a_refused_operation_still_cuts() -> None:
    flash = FlashEmulator(geometry(write_unit=8, program_limit=1),
                          plan=parse_fault_id("cut=1:torn=bits"))
    flash.program(0, b"\x00" * 8)
    with pytest.raises(PowerLoss):
        flash.program(0, b"\x00" * 8)  # would be refused (write-once); the power dies first
    assert flash.trace[-1].fault == "cut:torn=bits" and not flash.powered
    worn = FlashEmulator(geometry(endurance=1), plan=FaultPlan.cut(1))
    worn.erase(0, 4 * KIB)
    with pytest.raises(PowerLoss):
        worn.erase(0, 4 * KIB)
