"""Power loss at every flash operation of a delta apply (clean cut, torn program, torn erase
with unstable bits), for sequential (slot B) and in-place patches on two device profiles: the
next boot resumes and produces the exact target, and nothing outside the target and checkpoint
regions changes. `make test` sweeps a 12 KiB prefix of a real firmware pair (every op clean,
every third op torn); the full pairs and every op in every mode are marked slow."""

from __future__ import annotations

import pytest

from suitlib.delta.create import CreateOptions, create_patch
from suitlib.flash import FaultPlan, PowerLoss
from suitlib.delta.applier import apply_to_flash
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
