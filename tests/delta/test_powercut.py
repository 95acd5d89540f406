"""Power loss at every flash operation of a delta apply (clean cut, torn program, torn erase
with unstable bits), for sequential (slot B) and in-place patches on two device profiles: the
next boot resumes and produces the exact target, and nothing outside the target and checkpoint
regions changes. `make test` sweeps a 12 KiB prefix of a real firmware pair (every op clean,
every third op torn); the full pairs and every op in every mode are marked slow."""

from __future__ import annotations

import pytest

from suitlib.delta.create import CreateOptions, create_patch
from suitlib.flash import FaultPlan, PowerLoss
from suitlib.delta.applier import DeltaApplier, apply_to_flash
from suitlib.delta.errors import DeltaError
from tests.delta.sweep import fresh_flash, setup_for, sweep

PAIR = "simba-due-programmer-0.8.0-to-0.9.0"


def _patch(old: bytes, new: bytes, in_place: bool) -> bytes:
    return create_patch(old, new, CreateOptions(in_place=in_place, segment_size=4096,
                                                chunk_size=8192))


CASES = [("nrf52840", False), ("nrf52840", True), ("stm32l4", False), ("stm32l4", True),
         ("stm32f4", False)]  # stm32f4: 16-128 KiB sectors, byte writes; sequential only


@pytest.mark.parametrize("profile,in_place", CASES)
def test_cut_at_every_op_small(load_pair, profile: str, in_place: bool) -> None:
    old, new = load_pair(PAIR)
    old, new = old[:12 * 1024], new[:12 * 1024 - 300]
    patch = _patch(old, new, in_place)
    setup = setup_for(profile, in_place=in_place)
    tried, failures = sweep(setup, old, new, patch, modes=((None, False),))
    assert tried > 10 and failures == []
    tried, failures = sweep(setup, old, new, patch, modes=(("prefix", False), ("bits", True)),
                            stride=3)
    assert tried > 6 and failures == []


def test_sequential_verify_first_survives_cuts(load_pair) -> None:
    old, new = load_pair(PAIR)
    old, new = old[:12 * 1024], new[:12 * 1024]
    patch = _patch(old, new, False)
    setup = setup_for("stm32l4", in_place=False)
    tried, failures = sweep(setup, old, new, patch, modes=((None, False), ("bits", True)),
                            stride=2, verify_first=True)
    assert tried > 10 and failures == []


@pytest.mark.parametrize("in_place", [False, True], ids=["sequential", "in-place"])
def test_second_cut_during_recovery(load_pair, in_place: bool) -> None:
    """F4: the resume itself is cut (torn), then a third boot finishes the job."""
    old, new = load_pair(PAIR)
    old, new = old[:12 * 1024], new[:12 * 1024]
    patch = _patch(old, new, in_place)
    setup = setup_for("stm32l4", in_place=in_place)
    for first in (3, 11, 19, 27):
        flash = fresh_flash(setup, old)
        start = flash.ops
        flash.arm(FaultPlan.cut(start + first, torn="bits", seed=first))
        with pytest.raises(PowerLoss):
            apply_to_flash(flash, setup.layout, patch, ram_budget=setup.ram_budget)
        flash.power_cycle()
        flash.arm(FaultPlan.cut(flash.ops + 5, torn="prefix", seed=first))
        with pytest.raises(PowerLoss):
            apply_to_flash(flash, setup.layout, patch, ram_budget=setup.ram_budget)
        flash.power_cycle()
        flash.arm(None)
        apply_to_flash(flash, setup.layout, patch, ram_budget=setup.ram_budget)
        assert flash.dump(setup.layout.target.offset, len(new)) == new


@pytest.mark.slow
@pytest.mark.parametrize("profile,in_place", CASES)
def test_cut_at_every_op_full(load_pair, profile: str, in_place: bool) -> None:
    old, new = load_pair(PAIR)
    patch = _patch(old, new, in_place)
    setup = setup_for(profile, in_place=in_place)
    tried, failures = sweep(setup, old, new, patch,
                            modes=((None, False), ("prefix", False), ("all-but-last", False),
                                   ("bits", False), ("bits", True)))
    assert tried > 100 and failures == []


@pytest.mark.parametrize("profile,in_place", [("nrf52840", False), ("stm32l4", True)])
def test_resume_downloads_from_resume_offset(load_pair, profile: str, in_place: bool) -> None:
    """§6.3: the resumed boot is fed the header and map, then the patch from
    ``resume_offset()`` (the first unfinished chunk) on; the result is byte-exact, and a
    cut late in the apply re-downloads much less than the whole patch."""
    old, new = load_pair(PAIR)
    old, new = old[:16 * 1024], new[:16 * 1024 - 200]
    patch = create_patch(old, new, CreateOptions(in_place=in_place, segment_size=4096,
                                                 chunk_size=4096))
    setup = setup_for(profile, in_place=in_place)
    refed: list[int] = []
    tried, failures = sweep(setup, old, new, patch, modes=((None, False), ("bits", True)),
                            stride=2 if in_place else 1, from_resume_offset=True, refed=refed)
    assert tried > 10 and failures == []
    assert len(refed) == tried
    # At most the whole patch again (in-place: twice when the cut hit the dry run).
    assert max(refed) <= len(patch) * (2 if in_place else 1)
    # Cuts after the first chunk is durable resume past it: strictly less than the patch.
    assert min(refed) < len(patch) * 0.6
    assert sum(1 for n in refed if n < len(patch)) > len(refed) // 8


def test_resume_offset_names_the_first_unfinished_chunk(load_pair) -> None:
    old, new = load_pair(PAIR)
    old, new = old[:16 * 1024], new[:16 * 1024]
    patch = create_patch(old, new, CreateOptions(chunk_size=4096))
    setup = setup_for("nrf52840", in_place=False)
    flash = fresh_flash(setup, old)
    # Cut in the middle of the apply, then resume by hand.
    total_ops = flash.ops
    apply_to_flash(flash, setup.layout, patch, ram_budget=setup.ram_budget)
    total_ops = flash.ops - total_ops
    flash = fresh_flash(setup, old)
    flash.arm(FaultPlan.cut(flash.ops + total_ops * 9 // 10))  # after two sectors
    with pytest.raises(PowerLoss):
        apply_to_flash(flash, setup.layout, patch, ram_budget=setup.ram_budget)
    flash.power_cycle()
    flash.arm(None)
    applier = DeltaApplier(flash, setup.layout, ram_budget=setup.ram_budget)
    applier.begin_pass()
    assert applier.resume_offset() == 0
    applier.feed(patch[:40])  # part of the header: keep going
    assert applier.resume_offset() == 40
    with pytest.raises(DeltaError):
        applier.seek(41)
    applier.feed(patch[40:200])
    offset = applier.resume_offset()
    assert offset is not None and offset > 200
    # The offset is a chunk's length prefix: the chunks before it are complete in flash.
    rec = applier.log.latest
    assert rec is not None and rec.chunk_offset == offset and rec.chunk >= 1
    assert rec.chunk * 4096 <= rec.progress < (rec.chunk + 1) * 4096
    with pytest.raises(DeltaError):
        applier.seek(offset + 1)
    applier.seek(offset)
    applier.feed(patch[offset:])
    assert applier.resume_offset() is None
    assert applier.end_pass()
    assert flash.dump(setup.layout.target.offset, len(new)) == new
