"""Property: whatever the seed, a torn operation stays inside its physical envelope.

Program (erase value 0xFF): outside the range nothing changes; inside, every bit is between old
and old AND data; prefix modes land whole units as a prefix; ``bits`` only differs in the last
unit. Erase: only the target sector changes, and bits only move towards the erased value.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suitlib.flash import FaultPlan, FlashEmulator, Geometry, PowerLoss, TornMode

SECTOR = 256


@given(wu=st.sampled_from([1, 4, 8]), units=st.integers(1, 12), at=st.integers(0, 20),
       old=st.binary(min_size=SECTOR * 2, max_size=SECTOR * 2), data=st.binary(min_size=96, max_size=96),
       mode=st.sampled_from(TornMode), seed=st.integers(0, 1000), ev=st.sampled_from([0xFF, 0x00]))
def test_torn_program_envelope(wu, units, at, old, data, mode, seed, ev) -> None:  # type: ignore[no-untyped-def]
    flash = FlashEmulator(Geometry.uniform(SECTOR * 2, SECTOR, write_unit=wu, erase_value=ev),
                          plan=FaultPlan.cut(0, torn=mode, seed=seed))
    flash.load(0, old)
    address, n = at * wu, units * wu
    payload = data[:n]
    with pytest.raises(PowerLoss):
        flash.program(address, payload)
    got = flash.dump()
    assert got[:address] == old[:address] and got[address + n:] == old[address + n:]
    target = bytes((o & d) if ev == 0xFF else (o | d) for o, d in zip(old[address:], payload))
    region = got[address:address + n]
    for g, o, t in zip(region, old[address:], target):
        changed = o ^ t
        assert (g ^ o) & ~changed & 0xFF == 0  # only bits that the program changes moved
    if mode is TornMode.BITS:
        assert region[:n - wu] == target[:n - wu]
    else:
        m = next(i for i in range(units + 1) if region == target[:i * wu] + old[address + i * wu:address + n])
        assert m < units or target == old[address:address + n]
        if mode is TornMode.ALL_BUT_LAST:
            assert region[:n - wu] == target[:n - wu]


@given(old=st.binary(min_size=SECTOR * 3, max_size=SECTOR * 3), sector=st.integers(0, 2),
       mode=st.sampled_from(TornMode), seed=st.integers(0, 1000), ev=st.sampled_from([0xFF, 0x00]))
def test_torn_erase_envelope(old, sector, mode, seed, ev) -> None:  # type: ignore[no-untyped-def]
    flash = FlashEmulator(Geometry.uniform(SECTOR * 3, SECTOR, write_unit=4, erase_value=ev),
                          plan=FaultPlan.cut(0, torn=mode, seed=seed))
    flash.load(0, old)
    lo, hi = sector * SECTOR, (sector + 1) * SECTOR
    with pytest.raises(PowerLoss):
        flash.erase(lo, SECTOR)
    got = flash.dump()
    assert got[:lo] == old[:lo] and got[hi:] == old[hi:]
    for g, o in zip(got[lo:hi], old[lo:hi]):
        assert (g ^ o) & ~(o ^ ev) & 0xFF == 0  # bits only moved towards the erased value
    assert flash.erase_counts[sector] == 1


def test_random_plans_are_seeded_and_well_formed() -> None:
    plans = [FaultPlan.random(s, 500) for s in range(50)]
    assert plans == [FaultPlan.random(s, 500) for s in range(50)]
    assert len({p.format() for p in plans}) > 40
    for p in plans:
        at = [f.at for f in p.faults]
        assert at == sorted(set(at)) and all(0 <= k < 500 for k in at) and 1 <= len(at) <= 3
        assert all(f.torn is None for f in p.faults[1:])
    assert {p.faults[0].torn for p in plans} == {None, TornMode.PREFIX, TornMode.BITS}
