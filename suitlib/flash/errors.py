"""Finer flash errors (all are :class:`suitlib.errors.FlashError`).

Callers that only care that "the flash refused" catch ``FlashError``; tests and the conformance
suite can tell the causes apart.
"""

from __future__ import annotations

from suitlib.errors import FlashError


class FlashBoundsError(FlashError):
    """The operation reaches outside ``[0, size)``."""

    default_hint = "check the slot layout against the device's flash size"


class FlashAlignmentError(FlashError):
    """A program is not aligned to the write unit, or an erase does not cover whole sectors."""

    default_hint = "programs must be write-unit aligned; erases must cover whole sectors"


class FlashWriteRuleError(FlashError):
    """A program breaks the device's rule: a bit moved towards the erased value (strict NOR),
    or a write unit programmed more often than the device allows between erases (ECC/write-once).
    """

    default_hint = "erase the sector before programming these bits again"


class FlashWornError(FlashError):
    """A sector is past its erase endurance and the configured wear mode refuses the operation."""

    default_hint = "the sector is worn out (erase count past the device's endurance)"


class FlashDriverError(FlashError):
    """The driver reported a failure for this operation (fault model F5)."""

    default_hint = "the flash driver reported an error; nothing or part of the data was written"


class FlashEccError(FlashError):
    """A read hit a write unit whose ECC a torn operation broke (opt-in ``ecc_errors``)."""

    default_hint = "erase the sector: a unit torn by a power cut fails its ECC check"
