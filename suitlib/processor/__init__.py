"""suitlib.processor — the SUIT manifest processor (draft-ietf-suit-manifest-34 §6–§8).

Typical use::

    processor = Processor(platform, trust_anchors)      # platform: a Platform implementation
    result = processor.update(envelope_bytes)           # fetch / install / validate
    result = processor.invoke(envelope_bytes)           # validate / load / invoke
    result.ok, result.error, result.report.encode()     # SUIT_Report, success or not

See :mod:`.platform` for what a device provides and :class:`.memory.InMemoryPlatform` for the
in-memory device used by tests and ``suit run``.
"""

from suitlib.processor.adapter import authenticate_envelope, program_from_envelope
from suitlib.processor.errors import (
    ConditionNotMetError,
    ImageMismatchError,
    ManifestAbortError,
    MissingParameterError,
    SeveredMemberMissingError,
    UnsupportedCommandError,
    UnsupportedComponentError,
    UnsupportedConditionError,
    UnsupportedParameterError,
    UnverifiedPayloadError,
)
from suitlib.processor.interpreter import TraceEvent, Transformer
from suitlib.processor.memory import InMemoryPlatform, MemoryComponent, MemoryFetcher, MemoryStore
from suitlib.processor.platform import ChunkSink, ComponentId, ComponentWriter, Fetcher, Platform
from suitlib.processor.processor import (
    INVOCATION,
    UPDATE,
    Processor,
    ProcessorPolicy,
    ProcessResult,
)
from suitlib.processor.program import Program
from suitlib.processor.report import Failure, Record, Report, ReportReason, SystemInfo, decode_report

__all__ = [
    "INVOCATION", "UPDATE", "ChunkSink", "ComponentId", "ComponentWriter", "ConditionNotMetError", "Failure",
    "Fetcher", "ImageMismatchError", "InMemoryPlatform", "ManifestAbortError", "MemoryComponent", "MemoryFetcher",
    "MemoryStore", "MissingParameterError", "Platform", "ProcessResult", "Processor", "ProcessorPolicy", "Program",
    "Record", "Report", "ReportReason", "SeveredMemberMissingError", "SystemInfo", "TraceEvent", "Transformer",
    "UnsupportedCommandError", "UnsupportedComponentError", "UnsupportedConditionError",
    "UnsupportedParameterError", "UnverifiedPayloadError", "authenticate_envelope", "decode_report",
    "program_from_envelope",
]
