"""Errors of the reference bootloader (all are :class:`suitlib.errors.SuitError`)."""

from __future__ import annotations

from suitlib.errors import FlashError, ValidationError


class LayoutError(ValidationError):
    """The flash geometry cannot hold the slot layout a strategy needs (rejected at
    configuration time, specs/FLASH-LAYOUT.md §Layout rules)."""

    default_hint = "see specs/FLASH-LAYOUT.md for the geometries each strategy supports"


class LogFullError(FlashError):
    """A trailer or counter log has no free unit left (more interrupted writes than its
    slack allows; specs/FLASH-LAYOUT.md §Log capacity)."""

    default_hint = "erase the area; the log reserves slack for a bounded number of torn writes"
