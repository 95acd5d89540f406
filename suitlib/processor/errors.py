"""Finer errors of the manifest processor (all :class:`~suitlib.errors.SuitError` leaves).

Each carries a ``reason`` field with the SUIT_Report reason code it maps to
(draft-ietf-suit-report-18), so the report names the cause precisely.
"""

from __future__ import annotations

from typing import Any

from suitlib.errors import (
    ConditionFailedError,
    DigestMismatchError,
    PolicyError,
    UnsupportedError,
    ValidationError,
)

REASON_UNAUTHORISED = 4
REASON_COMMAND_UNSUPPORTED = 5
REASON_COMPONENT_UNSUPPORTED = 6
REASON_COMPONENT_UNAUTHORISED = 7
REASON_PARAMETER_UNSUPPORTED = 8
REASON_SEVERING_UNSUPPORTED = 9
REASON_CONDITION_FAILED = 10
REASON_OPERATION_FAILED = 11


class ImageMismatchError(DigestMismatchError, ConditionFailedError):
    """suit-condition-image-match failed: the component's digest is not the expected one."""

    default_hint = "the payload on the device is not the one the manifest describes"

    def __init__(self, message: str, **fields: Any) -> None:
        fields.setdefault("reason", REASON_CONDITION_FAILED)
        super().__init__(message, **fields)


class ConditionNotMetError(ConditionFailedError):
    """A condition (vendor, class, device, slot, content, battery, use-before …) is false."""

    def __init__(self, message: str, **fields: Any) -> None:
        fields.setdefault("reason", REASON_CONDITION_FAILED)
        super().__init__(message, **fields)


class UnsupportedConditionError(UnsupportedError):
    """A condition this processor does not implement: reported as a (soft-able) failure."""

    def __init__(self, message: str, **fields: Any) -> None:
        fields.setdefault("reason", REASON_COMMAND_UNSUPPORTED)
        super().__init__(message, **fields)


class UnsupportedCommandError(UnsupportedError):
    """A directive (or unknown command code) this processor refuses: processing aborts."""

    def __init__(self, message: str, **fields: Any) -> None:
        fields.setdefault("reason", REASON_COMMAND_UNSUPPORTED)
        super().__init__(message, **fields)


class UnsupportedParameterError(UnsupportedError):
    """A parameter that changes a directive's meaning and that we do not implement."""

    def __init__(self, message: str, **fields: Any) -> None:
        fields.setdefault("reason", REASON_PARAMETER_UNSUPPORTED)
        super().__init__(message, **fields)


class UnsupportedComponentError(UnsupportedError):
    """The manifest names a component the device does not have."""

    def __init__(self, message: str, **fields: Any) -> None:
        fields.setdefault("reason", REASON_COMPONENT_UNSUPPORTED)
        super().__init__(message, **fields)


class MissingParameterError(ValidationError):
    """A directive needs a parameter the manifest never set (§6.4: the author's duty)."""

    def __init__(self, message: str, **fields: Any) -> None:
        fields.setdefault("reason", REASON_PARAMETER_UNSUPPORTED)
        super().__init__(message, **fields)


class ManifestAbortError(ValidationError):
    """The manifest broke a processing rule that mandates an Abort (e.g. soft-failure at top level)."""

    def __init__(self, message: str, **fields: Any) -> None:
        fields.setdefault("reason", REASON_OPERATION_FAILED)
        super().__init__(message, **fields)


class UnverifiedPayloadError(PolicyError):
    """A fetched payload was left, copied or invoked without a successful image-match."""

    default_hint = "a manifest must check every fetched payload with suit-condition-image-match"

    def __init__(self, message: str, **fields: Any) -> None:
        fields.setdefault("reason", REASON_COMPONENT_UNAUTHORISED)
        super().__init__(message, **fields)


class SeveredMemberMissingError(ValidationError):
    """A sequence the procedure needs was severed and the envelope does not carry it (§8.4.12)."""

    default_hint = "send the full envelope (with its severable members) to the device"

    def __init__(self, message: str, **fields: Any) -> None:
        fields.setdefault("reason", REASON_SEVERING_UNSUPPORTED)
        super().__init__(message, **fields)
