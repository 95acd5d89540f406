"""The anti-rollback counter: monotonic, compacts when full, survives a cut at every op."""

from __future__ import annotations

import pytest

from suitlib.bootloader import plan_layout
from suitlib.bootloader.counter import read_counter, update_counter
from suitlib.flash import FaultPlan, FlashEmulator, Geometry, PowerLoss


def _flash(limit: int | None = 1) -> FlashEmulator:
    return FlashEmulator(Geometry.uniform(32 * 1024, 1024, write_unit=8, program_limit=limit),
                         trace_data=True)


def test_monotonic_and_compacts_when_full() -> None:
    f = _flash()
    lay = plan_layout(f)
    assert read_counter(f, lay) == 0
    for v in range(1, 200):
        assert update_counter(f, lay, v)
        assert read_counter(f, lay) == v
    assert not update_counter(f, lay, 5)
    assert read_counter(f, lay) == 199
    assert max(f.erase_counts) >= 2  # both logs were compacted at least once


@pytest.mark.parametrize("torn", [None, "prefix", "bits", "all-but-last"])
def test_cut_anywhere_leaves_old_or_new(torn: str | None) -> None:
    base = _flash()
    lay = plan_layout(base)
    for v in range(1, 61):  # fill log A up to compaction
        update_counter(base, lay, v)
    snap = base.snapshot()
    start = base.ops
    update_counter(base, lay, 1000)
    end = base.ops
    for k in range(start, end):
        base.restore(snap)
        base.arm(FaultPlan.cut(k, torn=torn, seed=k))
        with pytest.raises(PowerLoss):
            update_counter(base, lay, 1000)
        base.power_cycle()
        base.arm(None)
        assert read_counter(base, lay) in (60, 1000)
        update_counter(base, lay, 1000)  # the retry works (write-once part: no re-program)
        assert read_counter(base, lay) == 1000
