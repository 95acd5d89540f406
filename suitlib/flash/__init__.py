"""suitlib.flash: the flash contract, an emulated NOR flash with fault injection, and device
profiles of real parts.

- :mod:`~suitlib.flash.interface`: ``FlashDevice``, ``Sector``, ``PowerLoss``.
- :mod:`~suitlib.flash.geometry`: ``Geometry`` (sector map and physical rules).
- :mod:`~suitlib.flash.faults`: ``FaultPlan``, ``Fault``, ``TornMode``, ``ReadFlip`` and the
  ``cut=417:torn=prefix`` identifier (``parse_fault_id`` / ``format_fault_id``).
- :mod:`~suitlib.flash.emulator`: ``FlashEmulator``, ``Snapshot``, ``TraceEntry``.
- :mod:`~suitlib.flash.errors`: the ``FlashError`` subclasses.
- :mod:`~suitlib.flash.profiles`: ``DeviceProfile``, ``load_profile``, ``list_profiles`` for
  ``firmware-sim/profiles/*.toml``; ``FlashEmulator.from_profile(load_profile("nrf52840"))``.
"""

from suitlib.errors import FlashError
from suitlib.flash.emulator import FlashEmulator, FlashStats, Snapshot, TraceEntry
from suitlib.flash.errors import (
    FlashAlignmentError,
    FlashBoundsError,
    FlashDriverError,
    FlashEccError,
    FlashWornError,
    FlashWriteRuleError,
)
from suitlib.flash.faults import (
    Action,
    Fault,
    FaultPlan,
    ReadFlip,
    TornMode,
    format_fault_id,
    parse_fault_id,
)
from suitlib.flash.geometry import Geometry
from suitlib.flash.interface import FlashDevice, PowerLoss, Sector
from suitlib.flash.profiles import DeviceProfile, SlotHint, list_profiles, load_profile, parse_profile

__all__ = [
    "Action", "DeviceProfile", "Fault", "FaultPlan", "FlashAlignmentError", "FlashBoundsError", "FlashDevice",
    "FlashDriverError", "FlashEccError", "FlashEmulator", "FlashError", "FlashStats", "FlashWornError", "FlashWriteRuleError",
    "Geometry", "PowerLoss", "ReadFlip", "Sector", "SlotHint", "Snapshot", "TornMode", "TraceEntry",
    "format_fault_id", "list_profiles", "load_profile", "parse_fault_id", "parse_profile",
]
