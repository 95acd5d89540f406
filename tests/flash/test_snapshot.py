"""Copy-on-write snapshots, restore, and the sweep pattern (snapshot before op k, replay op k)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suitlib.flash import (
    Action,
    Fault,
    FaultPlan,
    FlashDriverError,
    FlashEmulator,
    FlashWriteRuleError,
    Geometry,
    PowerLoss,
    Snapshot,
    TornMode,
    parse_fault_id,
)

KIB = 1024


def geometry(**kw: object) -> Geometry:
    return Geometry.uniform(64 * KIB, 4 * KIB, **{"write_unit": 4, **kw})  # type: ignore[arg-type]


def state(flash: FlashEmulator) -> tuple:
    return (flash.dump(), flash.erase_counts, flash.ops, flash.boots, flash.powered, flash.trace,
            flash.unstable_bits())


def test_restore_is_exact_including_wear_trace_and_unstable_bits() -> None:
    flash = FlashEmulator(geometry(program_limit=1), plan=parse_fault_id("cut=2:torn=bits:unstable:seed=3"))
    flash.program(0, b"\x00" * 8)
    flash.erase(0x1000, 4 * KIB)
    with pytest.raises(PowerLoss):
        flash.program(0x10, b"\x00" * 8)
    flash.power_cycle()
    before = state(flash)
    snap = flash.snapshot()
    reads_before = [flash.read(0x10, 8) for _ in range(4)]
    flash.erase(0, 8 * KIB)
    flash.program(0x10, b"\x12" * 8)
    flash.power_cycle()
    assert state(flash) != before
    flash.restore(snap)
    assert state(flash) == before
    assert flash.erase_counts[1] == 1
    assert [flash.read(0x10, 8) for _ in range(4)] == reads_before  # noise replays too
    with pytest.raises(Exception):
        flash.program(0, b"\x00" * 8)  # program counts restored: still programmed once


def test_snapshot_is_copy_on_write_per_sector() -> None:
    flash = FlashEmulator(geometry())
    for s in range(16):
        flash.program(s * 4 * KIB, bytes([s]) * 16)
    copies = flash.stats.sector_copies
    snap = flash.snapshot()
    assert flash.stats.sector_copies == copies  # taking a snapshot copies no sector
    flash.program(0x3010, b"\x00" * 4)
    flash.program(0x3020, b"\x00" * 4)
    assert flash.stats.sector_copies == copies + 1  # one copy, of the sector written
    assert snap.data[3][0x10:0x14] == b"\xff" * 4  # the snapshot did not change
    snap2 = flash.snapshot()
    flash.restore(snap)
    flash.restore(snap2)
    assert flash.stats.sector_copies == copies + 1  # restores copy nothing either
    assert flash.read(0x3010, 4) == b"\x00" * 4


def test_erase_shares_one_erased_buffer_and_costs_no_copy() -> None:
    flash = FlashEmulator(geometry())
    flash.program(0, b"\x00" * 4)
    copies = flash.stats.sector_copies
    flash.snapshot()
    flash.erase(0, 16 * KIB)
    assert flash.stats.sector_copies == copies
    assert flash.read(0, 16 * KIB) == b"\xff" * (16 * KIB)


def test_interleaved_snapshots_stay_independent() -> None:
    flash = FlashEmulator(geometry())
    s1 = flash.snapshot()
    flash.program(0, b"\x00" * 4)
    s2 = flash.snapshot()
    flash.restore(s1)
    flash.program(4, b"\x00" * 4)
    s3 = flash.snapshot()
    flash.restore(s2)
    assert flash.read(0, 8) == b"\x00" * 4 + b"\xff" * 4 and len(flash.trace) == 1
    flash.restore(s3)
    assert flash.read(0, 8) == b"\xff" * 4 + b"\x00" * 4 and len(flash.trace) == 1
    flash.restore(s1)
    assert flash.read(0, 8) == b"\xff" * 8 and flash.trace == () and flash.ops == 0


def test_a_snapshot_from_another_flash_is_refused() -> None:
    with pytest.raises(ValueError):
        FlashEmulator(geometry()).restore(FlashEmulator(geometry()).snapshot())


def copy_job(flash: FlashEmulator) -> None:
    """A swap-like job: copy 4 sectors to the upper half, then mark done."""
    for s in range(4):
        flash.erase(0x8000 + s * 0x1000, 4 * KIB)
        data = flash.read(s * 0x1000, 4 * KIB)
        for off in range(0, 4 * KIB, 1 * KIB):
            flash.program(0x8000 + s * 0x1000 + off, data[off:off + 1 * KIB])
    flash.program(0xF000, b"\x00" * 4)


@pytest.mark.parametrize("torn", [None, "prefix", "bits", "all-but-last"])
def test_sweep_by_snapshot_and_replay_matches_a_full_rerun(torn: str | None) -> None:
    """The suffix sweep pattern: snapshot before each op in one clean run, then for each k
    restore and replay op k under the fault; the state equals a full re-run with that plan."""
    image = bytes((i * 29 + 3) % 256 for i in range(16 * KIB))
    snaps: list[Snapshot] = []
    flash = FlashEmulator(geometry(), trace_data=True,
                          before_op=lambda f, k: snaps.append(f.snapshot()))
    flash.load(0, image)
    copy_job(flash)
    clean = flash.trace
    assert len(snaps) == len(clean) == flash.ops == 4 * 5 + 1
    flash.before_op = None
    for k, entry in enumerate(clean):
        plan = FaultPlan.cut(k, torn=torn, seed=11)
        flash.arm(plan)
        flash.restore(snaps[k])
        with pytest.raises(PowerLoss):
            flash.replay(entry)
        swept = state(flash)

        fresh = FlashEmulator(geometry(), plan=plan, trace_data=True)
        fresh.load(0, image)
        with pytest.raises(PowerLoss):
            copy_job(fresh)
        assert state(fresh) == swept, f"op {k}"


def test_read_noise_after_a_fault_does_not_depend_on_reads_before_it() -> None:
    """A replay id re-run from scratch must see the same unstable/flip noise as the sweep that
    reached op k by restore + replay (which skipped the prefix's reads)."""
    plan = parse_fault_id("cut=3:torn=bits:unstable:flip=0x2000-0x2100@0.5:seed=5")

    def after_cut(flash: FlashEmulator) -> list[bytes]:
        flash.power_cycle()
        return [flash.read(0x1000, 16) + flash.read(0x2000, 0x100) for _ in range(6)]

    scratch = FlashEmulator(geometry(), plan=plan, trace_data=True)
    for i in range(3):
        scratch.read(0x1000, 16)
        scratch.read(0x2000, 0x100)  # noisy reads in the prefix
        scratch.program(0x100 * i, b"\x00" * 4)
    with pytest.raises(PowerLoss):
        scratch.program(0x1000, bytes(range(16)))
    expected = after_cut(scratch)
    assert len(set(expected)) > 1

    swept = FlashEmulator(geometry(), trace_data=True)
    for entry in scratch.trace[:3]:
        swept.replay(entry)  # no reads at all before the fault
    swept.arm(plan)
    with pytest.raises(PowerLoss):
        swept.replay(scratch.trace[3])
    assert after_cut(swept) == expected


ops_strategy = st.lists(st.one_of(
    st.tuples(st.just("p"), st.integers(0, 16 * KIB // 8 - 4), st.integers(1, 4), st.integers(0, 255)),
    st.tuples(st.just("e"), st.integers(0, 3), st.just(0), st.just(0)),
), min_size=1, max_size=25)


@given(ops=ops_strategy, k=st.integers(0, 30), torn=st.sampled_from([None, "prefix", "bits", "all-but-last"]),
       unstable=st.booleans(), err=st.booleans(), seed=st.integers(0, 99),
       f9=st.booleans(), limit=st.sampled_from([None, 1]))
def test_restore_and_replay_equals_a_run_from_scratch(ops, k, torn, unstable, err, seed, f9, limit) -> None:  # type: ignore[no-untyped-def]
    """For random workloads and a random fault: snapshot-before-op-k + replay == from scratch."""
    g = geometry(write_unit=8, program_limit=limit, physical_erase_size=8 * KIB if f9 else None)
    fault = Fault(k, Action.ERROR if err else Action.CUT, TornMode(torn) if torn else None,
                  unstable and torn is not None)
    plan = FaultPlan((fault,), seed=seed)

    def workload(flash: FlashEmulator, stop_after: int | None = None) -> None:
        for kind, a, n, v in ops:
            try:
                if kind == "p":
                    flash.program(a * 8, bytes([(v * (i + 3)) % 256 for i in range(n * 8)]))
                else:
                    flash.erase(a * 4 * KIB, 4 * KIB)
            except FlashWriteRuleError:
                if stop_after is not None and flash.ops > stop_after:
                    raise

    snaps: list[Snapshot] = []
    clean = FlashEmulator(g, trace_data=True, before_op=lambda f, i: snaps.append(f.snapshot()))
    workload(clean)
    clean.before_op = None
    trace = clean.trace
    if k >= len(trace):
        return
    scratch = FlashEmulator(g, trace_data=True, plan=plan)
    try:
        workload(scratch, stop_after=k)  # stops at the fault (cut, driver error or refusal)
    except (PowerLoss, FlashDriverError, FlashWriteRuleError):
        pass
    clean.restore(snaps[k])
    clean.arm(plan)
    with pytest.raises((PowerLoss, FlashDriverError, FlashWriteRuleError)):
        clean.replay(trace[k])
    assert clean.dump() == scratch.dump()
    assert clean.erase_counts == scratch.erase_counts
    assert clean.unstable_bits() == scratch.unstable_bits()
    assert clean.trace == scratch.trace and clean.powered == scratch.powered == err
