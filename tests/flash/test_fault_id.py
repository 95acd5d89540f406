"""The fault-point identifier: format/parse round trip, and typed errors on bad text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suitlib.errors import InputError
from suitlib.flash import Action, Fault, FaultPlan, ReadFlip, TornMode, format_fault_id, parse_fault_id


@pytest.mark.parametrize("text, plan", [
    ("none", FaultPlan()),
    ("cut=417", FaultPlan((Fault(417),))),
    ("cut=417:torn=prefix", FaultPlan((Fault(417, torn=TornMode.PREFIX),))),
    ("cut=5:torn=bits:unstable:cut=9:seed=3",
     FaultPlan((Fault(5, torn=TornMode.BITS, unstable=True), Fault(9)), seed=3)),
    ("err=12:torn=all-but-last", FaultPlan((Fault(12, Action.ERROR, TornMode.ALL_BUT_LAST),))),
    ("flip=0x1000-0x2000@0.5", FaultPlan(flips=(ReadFlip(0x1000, 0x2000, 0.5),))),
])
def test_known_identifiers(text: str, plan: FaultPlan) -> None:
    assert parse_fault_id(text) == plan
    assert format_fault_id(plan) == text


def test_a_conformance_id_suffix_parses() -> None:
    scenario, profile, rest = "revert-interrupted:stm32l4:cut=417:torn=prefix".split(":", 2)
    assert parse_fault_id(rest).faults == (Fault(417, torn=TornMode.PREFIX),)


faults = st.builds(
    lambda at, action, torn, unstable: Fault(at, action, torn, unstable and torn is not None),
    st.integers(0, 10**6), st.sampled_from(Action), st.none() | st.sampled_from(TornMode),
    st.booleans())
flips = st.builds(lambda a, n, p: ReadFlip(a, a + n, p), st.integers(0, 1 << 24),
                  st.integers(1, 1 << 16),
                  st.sampled_from([1.0, 0.5, 0.125, 0.001]) | st.floats(1e-9, 1.0))


@given(st.lists(faults, max_size=4, unique_by=lambda f: f.at), st.lists(flips, max_size=2),
       st.integers(0, 2**32))
def test_round_trip(fs: list[Fault], fl: list[ReadFlip], seed: int) -> None:
    plan = FaultPlan(tuple(fs), tuple(fl), seed)
    assert parse_fault_id(plan.format()) == plan


@pytest.mark.parametrize("bad", ["cut", "cut=x", "cut=-1", "torn=bits", "cut=1:torn=half",
                                 "cut=1:unstable", "cut=1:cut=1", "flip=5", "flip=9-3",
                                 "seed=", "bogus=1", "cut=1:unstable=1", "flip=0-1@2"])
def test_bad_identifiers_raise_input_error(bad: str) -> None:
    with pytest.raises(InputError):
        parse_fault_id(bad)


@given(st.text(alphabet="cuterrnflipsdob=:-@0123456789x.", max_size=40))
def test_garbage_raises_input_error_or_parses(text: str) -> None:
    try:
        plan = parse_fault_id(text)
    except InputError:
        return
    assert parse_fault_id(plan.format()) == plan
