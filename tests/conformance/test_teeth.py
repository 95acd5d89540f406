"""The suite has teeth: each deliberately broken bootloader fails with a replayable id, the
replay reproduces the failure, and the reference passes the same runs."""

from __future__ import annotations

import re

import pytest

from suitlib.bootloader import swap_scratch
from suitlib.conformance.devices import all_devices
from suitlib.conformance.runner import Options, Suite
from suitlib.conformance.scenarios import BY_ID
from tests.conformance import broken

DEVICES = all_devices()
ID = re.compile(r"^[a-z0-9-]+:[a-z0-9]+:(none|(cut|err)=\d+.*)$")


def _runs(factory, scenario: str, schedule: str, max_points: int | None):  # noqa: ANN001, ANN202
    suite = Suite(factory, Options(max_points=max_points))
    # F9 needs room for whole erase blocks: the smallest real profile instead of tiny
    device = DEVICES["nrf52832" if BY_ID[scenario].f9 else "tiny"]
    return suite, list(suite.run(BY_ID[scenario], device, {schedule}))


@pytest.mark.parametrize("name", sorted(broken.BROKEN))
def test_broken_bootloader_fails_with_replayable_id(name: str) -> None:
    scenario, schedule = broken.BROKEN[name]
    suite, runs = _runs(getattr(broken, name), scenario, schedule,
                        max_points=16 if schedule == "cold" else None)
    failures = [r for r in runs if not r.passed]
    assert failures, f"the suite did not catch {name}"
    first = failures[0]
    assert ID.match(first.id), first.id
    again = suite.replay(first.id, DEVICES, pictures=False)
    assert not again.passed
    assert again.violations == first.violations


@pytest.mark.parametrize("scenario,schedule", sorted(set(broken.BROKEN.values())))
def test_reference_passes_the_same_runs(scenario: str, schedule: str) -> None:
    _, runs = _runs(swap_scratch, scenario, schedule,
                    max_points=16 if schedule == "cold" else None)
    assert runs
    assert [r.id for r in runs if not r.passed] == []


@pytest.mark.parametrize("name", ["trailer_before_data", "torn_flag_trusted", "pre_1966_table"])
def test_sweep_verdicts_match_runs_from_scratch(name: str) -> None:
    """The snapshot fast path (prefix replayed from the trace, suffix executed) and a run from
    scratch with the same fault plan agree, failing points included (sampled)."""
    scenario, schedule = broken.BROKEN[name]
    suite, runs = _runs(getattr(broken, name), scenario, schedule, max_points=None)
    assert any(not r.passed for r in runs)
    for r in runs[::5]:
        again = suite.replay(r.id, DEVICES, pictures=False)
        assert (again.passed, again.violations) == (r.passed, r.violations), r.id
