"""Replay ids: ``scenario:device:<fault plan>[:cold]`` (specs/CONFORMANCE.md §Runs)."""

from __future__ import annotations

from suitlib.conformance.devices import Device
from suitlib.conformance.scenarios import BY_ID, Scenario
from suitlib.errors import InputError
from suitlib.flash.faults import FaultPlan, parse_fault_id


def make_id(scenario: Scenario, device: Device, plan: FaultPlan, cold: bool) -> str:
    return f"{scenario.id}:{device.name}:{plan.format()}" + (":cold" if cold else "")


def parse_id(rid: str, devices: dict[str, Device]) -> tuple[Scenario, Device, FaultPlan, bool]:
    """``scenario:device:<fault id>[:cold]`` → its parts (InputError if malformed)."""
    parts = rid.strip().split(":")
    if len(parts) < 3:
        raise InputError(f"replay id {rid!r} is not scenario:device:faults",
                         hint="copy an id from the failures list, e.g. perm-upgrade:nrf52840:cut=417")
    scenario = BY_ID.get(parts[0])
    if scenario is None:
        raise InputError(f"replay id: unknown scenario {parts[0]!r}")
    device = devices.get(parts[1])
    if device is None:
        raise InputError(f"replay id: unknown device {parts[1]!r}",
                         hint="devices: " + ", ".join(sorted(devices)))
    rest = parts[2:]
    cold = "cold" in rest
    rest = [t for t in rest if t != "cold"]
    return scenario, device, parse_fault_id(":".join(rest)), cold
