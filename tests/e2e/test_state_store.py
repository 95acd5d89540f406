"""The agent's state ring under power loss: a cut (clean or torn, with unstable bits) at every
flash operation of a run of saves leaves either the previous or the new state, never garbage,
and the ring keeps working afterwards — on NOR (nrf52840) and write-once ECC flash (stm32l4)."""

from __future__ import annotations

import pytest

from suitlib.flash import FaultPlan, FlashEmulator, PowerLoss, TornMode, load_profile
from suitlib.sim.state import AgentState, StateStore

STATES = [AgentState(phase="installing", envelope=bytes([i]) * 32, sequence=i, report=bytes(150 + 40 * i))
          for i in range(20)]


def region(flash: FlashEmulator) -> tuple[int, int]:
    s = flash.sectors
    return s[-2].offset, flash.size - s[-2].offset


def run(flash: FlashEmulator, start: int = 0, *, one_boot: bool = False) -> None:
    """Save STATES[start:], with one store for the whole run (one boot) or a fresh store per
    save (a reboot between saves)."""
    store = StateStore(flash, *region(flash))
    for st in STATES[start:]:
        (store if one_boot else StateStore(flash, *region(flash))).save(st)


@pytest.mark.parametrize("profile", ["nrf52840", "stm32l4"])
@pytest.mark.parametrize("torn", [None, TornMode.PREFIX, TornMode.BITS])
@pytest.mark.parametrize("one_boot", [False, True])
def test_a_cut_at_every_operation_leaves_the_old_or_the_new_state(profile: str, torn, one_boot: bool) -> None:
    prof = load_profile(profile)
    clean = FlashEmulator.from_profile(prof)
    ends = []  # op index after each save
    store = StateStore(clean, *region(clean))
    for st in STATES:
        (store if one_boot else StateStore(clean, *region(clean))).save(st)
        ends.append(clean.ops)
    total = clean.ops
    assert StateStore(clean, *region(clean)).load() == STATES[-1]
    for k in range(total):
        flash = FlashEmulator.from_profile(prof)
        flash.arm(FaultPlan.cut(k, torn=torn, unstable=torn is TornMode.BITS))
        try:
            run(flash, one_boot=one_boot)
            raise AssertionError("the cut did not happen")
        except PowerLoss:
            pass
        flash.power_cycle()
        flash.arm(None)
        got = StateStore(flash, *region(flash)).load()
        interrupted = next(i for i, end in enumerate(ends) if k < end)
        # the interrupted save is either lost (previous state) or complete (its own state)
        previous = STATES[interrupted - 1] if interrupted else None
        assert got in (previous, STATES[interrupted]), (k, interrupted, got)
        # and saving goes on from there (a fresh store, as after the reboot)
        index = -1 if got is None else STATES.index(got)
        run(flash, index + 1)
        assert StateStore(flash, *region(flash)).load() == STATES[-1], k


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as hs  # noqa: E402


@settings(max_examples=150)
@given(noise=hs.binary(min_size=0, max_size=600), at=hs.integers(0, 8191), flip=hs.integers(0, 7))
def test_whatever_the_region_holds_load_returns_a_state_or_nothing(noise: bytes, at: int, flip: int) -> None:
    flash = FlashEmulator.from_profile("nrf52840")
    offset, length = region(flash)
    StateStore(flash, offset, length).save(STATES[3])
    StateStore(flash, offset, length).save(STATES[4])
    raw = bytearray(flash.dump(offset, length))
    raw[at % length] ^= 1 << flip  # one flipped bit somewhere
    raw[(at * 7) % length : (at * 7) % length + len(noise)] = noise
    flash.load(offset, bytes(raw[:length]))
    got = StateStore(flash, offset, length).load()
    assert got in (None, STATES[3], STATES[4])  # never a state that was not saved
