"""suitlib.conformance: the power-loss conformance suite for bootloaders (specs/CONFORMANCE.md).

Typical use::

    suite = Suite(factory, Options(max_points=40))           # factory() -> a Bootloader
    for scenario in SCENARIOS:
        for run in suite.run(scenario, all_devices()["nrf52840"], set(SCHEDULES)):
            run.passed, run.id, run.violations                 # id replays: suite.replay(id, devices)

The protocol a bootloader implements is :class:`~suitlib.conformance.protocol.Bootloader`.
"""

from suitlib.conformance.devices import Device, all_devices
from suitlib.conformance.ids import make_id, parse_id
from suitlib.conformance.protocol import Bootloader, BootloaderFactory
from suitlib.conformance.report import format_text, html_report, summarize
from suitlib.conformance.runner import SCHEDULES, Options, RunResult, Suite
from suitlib.conformance.scenarios import OMITTED, SCENARIOS, Scenario

__all__ = [
    "OMITTED", "SCENARIOS", "SCHEDULES", "Bootloader", "BootloaderFactory", "Device", "Options",
    "RunResult", "Scenario", "Suite", "all_devices", "format_text", "html_report", "make_id",
    "parse_id", "summarize",
]
