"""Finer delta errors (all are :class:`suitlib.errors.DeltaError`).

Callers that only care that "the patch cannot be applied" catch ``DeltaError``; the applier, the
CLI and the tests tell the causes apart. ``DeltaSourceMismatchError`` (wrong source image, exit
1) lives in :mod:`suitlib.errors`.
"""

from __future__ import annotations

from suitlib.errors import DeltaError, DeltaSourceMismatchError

__all__ = [
    "DeltaError",
    "DeltaSourceMismatchError",
    "DeltaFormatError",
    "DeltaTruncatedError",
    "DeltaUnsupportedError",
    "DeltaRamError",
    "DeltaLayoutError",
    "DeltaTargetMismatchError",
]


class DeltaFormatError(DeltaError):
    """The patch bytes are malformed: bad magic, header checksum, body stream (DELTA-FORMAT §3-5)."""

    default_hint = "the patch is corrupt or not a suitlib delta (specs/DELTA-FORMAT.md)"


class DeltaTruncatedError(DeltaFormatError):
    """The patch ended before its header or body was complete."""

    default_hint = "the patch is truncated; fetch it again"


class DeltaUnsupportedError(DeltaFormatError):
    """A well-formed patch using a version, compression or transform this applier lacks."""

    default_hint = "make the patch with options this device supports (suit delta make --help)"


class DeltaRamError(DeltaError):
    """The patch declares more applier RAM than the device's budget (DELTA-FORMAT §2.4)."""

    default_hint = "recreate the patch with `suit delta make --ram <device budget>`"


class DeltaLayoutError(DeltaError):
    """The target (or in-place region) does not fit the slot, or the regions are inconsistent."""

    default_hint = "check the slot sizes and that in-place patches go to a single-slot layout"


class DeltaTargetMismatchError(DeltaError):
    """The image produced does not have the target digest the patch declares."""

    default_hint = "the patch or the source image is corrupt; the slot holds no valid image"
