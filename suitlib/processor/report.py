"""SUIT_Report (draft-ietf-suit-report-18): what the processor did, as CBOR.

A report names the manifest (``suit-reference``: optional URI + SUIT_Digest), lists records
(SUIT_Record for commands whose reporting policy asks for one, system-property-claims for the
``sysinfo`` bits) and ends with a result: ``true`` or ``{5: code, 6: record, 7: reason}``.

Our conventions (specs/SUIT-PROFILE.md, "Reports"): ``suit-record-manifest-section`` is the
manifest key of the sequence (3 for the shared sequence, which lives in suit-common);
``suit-record-section-offset`` is the index of the command within its (possibly nested)
sequence; ``suit-report-result-code`` is the code of the command that failed, or 0 when the
envelope failed before any command ran (decoding, authentication, rollback).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import cbor2

from suitlib.errors import (
    ConditionFailedError,
    DecodeError,
    DigestMismatchError,
    LimitExceededError,
    PolicyError,
    RollbackError,
    SignatureError,
    SuitError,
    UnsupportedError,
    ValidationError,
)

# report map keys (draft-ietf-suit-report-18 CDDL)
REPORT_NONCE = 2
REPORT_RECORDS = 3
REPORT_RESULT = 4
REPORT_RESULT_CODE = 5
REPORT_RESULT_RECORD = 6
REPORT_RESULT_REASON = 7
REPORT_CAPABILITY = 8
REPORT_REFERENCE = 99
SYSTEM_COMPONENT_ID = 0


class ReportReason(IntEnum):
    """SUIT_Report_Reasons (draft-ietf-suit-report-18)."""

    OK = 0
    CBOR_PARSE = 1
    COSE_UNSUPPORTED = 2
    ALG_UNSUPPORTED = 3
    UNAUTHORISED = 4
    COMMAND_UNSUPPORTED = 5
    COMPONENT_UNSUPPORTED = 6
    COMPONENT_UNAUTHORISED = 7
    PARAMETER_UNSUPPORTED = 8
    SEVERING_UNSUPPORTED = 9
    CONDITION_FAILED = 10
    OPERATION_FAILED = 11
    INVOKE_PENDING = 12


class ReportingPolicy:
    """SUIT_Rep_Policy bits (draft-ietf-suit-manifest-34 §8.4.7)."""

    RECORD_ON_SUCCESS = 1
    RECORD_ON_FAILURE = 2
    SYSINFO_ON_SUCCESS = 4
    SYSINFO_ON_FAILURE = 8


def reason_for(error: BaseException) -> ReportReason:
    """The report reason for an error: its ``reason`` field if it carries one, else by type."""
    if isinstance(error, SuitError):
        explicit = error.fields.get("reason")
        if isinstance(explicit, int):
            return ReportReason(explicit)
    if isinstance(error, DecodeError):
        return ReportReason.CBOR_PARSE
    if isinstance(error, (SignatureError, RollbackError)):
        return ReportReason.UNAUTHORISED
    if isinstance(error, PolicyError):
        return ReportReason.COMPONENT_UNAUTHORISED
    if isinstance(error, (ConditionFailedError, DigestMismatchError)):
        return ReportReason.CONDITION_FAILED
    if isinstance(error, UnsupportedError):
        return ReportReason.COMMAND_UNSUPPORTED
    if isinstance(error, ValidationError):
        return ReportReason.PARAMETER_UNSUPPORTED
    if isinstance(error, LimitExceededError):
        return ReportReason.OPERATION_FAILED
    return ReportReason.OPERATION_FAILED


@dataclass(frozen=True)
class Record:
    """One SUIT_Record: where a command sits and the parameters it consumed.

    ``command`` and ``success`` are kept for rendering; the CBOR form carries only the five
    standard fields (the outcome is implied by the policy bit that produced the record and by
    the result).
    """

    section: int
    offset: int
    component_index: int
    properties: Mapping[int, Any] = field(default_factory=dict)
    command: int = 0
    success: bool = True
    manifest_id: tuple[int, ...] = ()

    def to_cbor_value(self) -> list[Any]:
        return [list(self.manifest_id), self.section, self.offset, self.component_index, dict(self.properties)]


@dataclass(frozen=True)
class SystemInfo:
    """A system-property-claims map: what the device asserted for one component."""

    component: tuple[bytes, ...]
    properties: Mapping[int, Any]
    command: int = 0
    success: bool = True

    def to_cbor_value(self) -> dict[int, Any]:
        out: dict[int, Any] = {SYSTEM_COMPONENT_ID: list(self.component)}
        out.update(self.properties)
        return out


@dataclass(frozen=True)
class Failure:
    """The failing command: its code, its record, and the reason."""

    code: int
    record: Record
    reason: ReportReason


@dataclass(frozen=True)
class Report:
    """A SUIT_Report. ``result`` is ``True`` on success, else a :class:`Failure`."""

    manifest_digest: tuple[int, bytes] | None
    records: tuple[Record | SystemInfo, ...]
    result: bool | Failure
    reference_uri: str | None = None
    nonce: bytes | None = None
    capabilities: Mapping[int, Any] | None = None
    """A SUIT_Capability_Report (key 8), when the device chose to send one."""

    @property
    def succeeded(self) -> bool:
        return self.result is True

    def to_cbor_value(self) -> dict[int, Any]:
        reference: list[Any] = []
        if self.reference_uri is not None:
            reference.append(self.reference_uri)
        alg, value = self.manifest_digest if self.manifest_digest is not None else (-16, b"")
        reference.append([alg, value])
        out: dict[int, Any] = {
            REPORT_REFERENCE: reference,
            REPORT_RECORDS: [record.to_cbor_value() for record in self.records],
        }
        if self.nonce is not None:
            out[REPORT_NONCE] = self.nonce
        if self.capabilities is not None:
            out[REPORT_CAPABILITY] = dict(self.capabilities)
        if isinstance(self.result, Failure):
            out[REPORT_RESULT] = {
                REPORT_RESULT_CODE: self.result.code,
                REPORT_RESULT_RECORD: self.result.record.to_cbor_value(),
                REPORT_RESULT_REASON: int(self.result.reason),
            }
        else:
            out[REPORT_RESULT] = True
        return out

    def encode(self) -> bytes:
        """Deterministic CBOR (RFC 8949 §4.2) of the SUIT_Report."""
        return cbor2.dumps(self.to_cbor_value(), canonical=True)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly rendering (bytes as hex) for the CLI."""

        def plain(value: Any) -> Any:
            if isinstance(value, (bytes, bytearray)):
                return value.hex()
            if isinstance(value, Mapping):
                return {str(k): plain(v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [plain(v) for v in value]
            return value

        records = []
        for record in self.records:
            if isinstance(record, Record):
                records.append(
                    {
                        "kind": "record",
                        "command": record.command,
                        "success": record.success,
                        "section": record.section,
                        "offset": record.offset,
                        "component_index": record.component_index,
                        "properties": plain(record.properties),
                    }
                )
            else:
                records.append(
                    {
                        "kind": "sysinfo",
                        "command": record.command,
                        "success": record.success,
                        "component": plain(record.component),
                        "properties": plain(record.properties),
                    }
                )
        result: Any = True
        if isinstance(self.result, Failure):
            result = {
                "code": self.result.code,
                "reason": self.result.reason.name.lower().replace("_", "-"),
                "section": self.result.record.section,
                "offset": self.result.record.offset,
                "component_index": self.result.record.component_index,
            }
        return {
            "reference_uri": self.reference_uri,
            "manifest_digest": plain(list(self.manifest_digest)) if self.manifest_digest else None,
            "records": records,
            "result": result,
        }


def decode_report(data: bytes) -> dict[int, Any]:
    """Decode a SUIT_Report's CBOR into plain maps/lists (for tests and tools)."""
    try:
        value = cbor2.loads(data)
    except Exception as exc:  # noqa: BLE001 - cbor2 raises many types
        raise DecodeError(f"report is not CBOR: {exc}") from None
    if not isinstance(value, Mapping):
        raise DecodeError("report is not a map")
    return dict(value)
