"""The reference bootloaders pass every scenario on every profile (reduced sweep here; the
exhaustive sweeps are marked slow)."""

from __future__ import annotations

import pytest

from suitlib.bootloader import overwrite_only, swap_scratch
from suitlib.conformance.devices import all_devices
from suitlib.conformance.runner import SCHEDULES, Options, Suite
from suitlib.conformance.scenarios import OMITTED, SCENARIOS

DEVICES = all_devices()
FACTORIES = {"swap": swap_scratch, "overwrite": overwrite_only}


def test_every_listed_scenario_is_run_or_has_a_reason() -> None:
    numbers = {s.number for s in SCENARIOS} | {o.number for o in OMITTED}
    # 4, 5 and 8 are schedules of the core scripts (random, double, cold) and have their own ids
    assert numbers == set(range(1, 41))
    assert all(len(o.reason) > 40 for o in OMITTED)


@pytest.mark.parametrize("device", sorted(DEVICES))
@pytest.mark.parametrize("strategy", sorted(FACTORIES))
def test_reference_passes_reduced_sweep(strategy: str, device: str) -> None:
    suite = Suite(FACTORIES[strategy], Options(max_points=2, random_runs=2, flip_runs=1,
                                               double_points=2))
    runs = failed = 0
    seen = set()
    for scenario in SCENARIOS:
        for r in suite.run(scenario, DEVICES[device], set(SCHEDULES)):
            runs += 1
            seen.add(r.scenario)
            if not r.passed:
                failed += 1
                pytest.fail(f"{r.id}: {r.violations}")
    assert runs > 0 and failed == 0
    assert "perm-upgrade" in seen


@pytest.mark.slow
@pytest.mark.parametrize("device", sorted(DEVICES))
@pytest.mark.parametrize("strategy", sorted(FACTORIES))
def test_reference_passes_full_sweep(strategy: str, device: str) -> None:
    """Exhaustive on the small geometry (every point, every pair of double faults); 40 points
    per scenario and schedule on the real profiles (their exhaustive sweeps take hours)."""
    points = None if DEVICES[device].small else 40
    suite = Suite(FACTORIES[strategy], Options(max_points=points))
    bad = [r.id for s in SCENARIOS for r in suite.run(s, DEVICES[device], set(SCHEDULES))
           if not r.passed]
    assert bad == []
