"""The spec's examples 0–5 (draft-ietf-suit-manifest-34 Appendix A) on the in-memory device."""

from __future__ import annotations

import pytest

from suitlib.errors import ConditionFailedError, DigestMismatchError, RollbackError
from suitlib.processor.memory import InMemoryPlatform
from suitlib.processor.program import Cmd, Section
from suitlib.processor.report import ReportReason, decode_report
from tests.processor.support import (
    C0,
    C1,
    C2,
    CLASS_ID,
    EXAMPLE_TABLE,
    INVOCATION,
    PAYLOAD_A,
    PAYLOAD_B,
    SIZE_B,
    UPDATE,
    VENDOR_ID,
    device,
    placeholder_hashes,
    run_envelope,
    vector,
)

HASHES = placeholder_hashes(EXAMPLE_TABLE)
URI = "http://example.com/file.bin"
URI1 = "http://example.com/file1.bin"
URI2 = "http://example.com/file2.bin"
URI_LONG = "http://example.com/very/long/path/to/file/file.bin"


def writes(platform: InMemoryPlatform) -> list[tuple]:
    return [(entry[1], entry[2]) for entry in platform.actions("write")]


# --- example 0: secure boot --------------------------------------------------------------------


def test_example0_invocation_validates_then_invokes() -> None:
    platform = device(contents={C0: PAYLOAD_A})
    result = run_envelope(vector("example0-signed.cbor"), platform, INVOCATION, hashes=HASHES)
    assert result.ok, result.error
    assert platform.actions("invoke") == [("invoke", C0, None)]
    assert platform.fetcher_impl.requests == []
    # vendor, class, image-match have policy 15: a record and a sysinfo each, on success;
    # the shared sequence runs before validate and again before invoke (§6.2)
    shared = [
        (Cmd.CONDITION_VENDOR_IDENTIFIER, "Record", Section.COMMON),
        (Cmd.CONDITION_VENDOR_IDENTIFIER, "SystemInfo", None),
        (Cmd.CONDITION_CLASS_IDENTIFIER, "Record", Section.COMMON),
        (Cmd.CONDITION_CLASS_IDENTIFIER, "SystemInfo", None),
    ]
    codes = [(r.command, type(r).__name__, getattr(r, "section", None)) for r in result.report.records]
    assert codes == shared + [
        (Cmd.CONDITION_IMAGE_MATCH, "Record", Section.VALIDATE),
        (Cmd.CONDITION_IMAGE_MATCH, "SystemInfo", None),
    ] + shared


def test_example0_wrong_image_is_not_invoked() -> None:
    platform = device(contents={C0: PAYLOAD_A[:-1] + b"\xff"})
    result = run_envelope(vector("example0-signed.cbor"), platform, INVOCATION, hashes=HASHES)
    assert isinstance(result.error, DigestMismatchError)
    assert platform.actions("invoke") == []
    failure = result.report.result
    assert failure.code == Cmd.CONDITION_IMAGE_MATCH
    assert failure.reason == ReportReason.CONDITION_FAILED
    assert failure.record.section == Section.VALIDATE


# --- example 1: download and install ----------------------------------------------------------


def test_example1_fetches_and_installs() -> None:
    platform = device(resources={URI: PAYLOAD_A})
    result = run_envelope(vector("example1-signed.cbor"), platform, UPDATE, hashes=HASHES)
    assert result.ok, result.error
    assert platform.fetcher_impl.requests == [URI]
    assert writes(platform) == [(C0, len(PAYLOAD_A))]
    assert platform.content(C0) == PAYLOAD_A
    assert platform.load_sequence_number() == 1


def test_example1_real_content_fails_on_the_placeholder_digest() -> None:
    """Without the placeholder engine, real SHA-256 of the payload never equals 00112233…"""
    platform = device(resources={URI: PAYLOAD_A})
    result = run_envelope(vector("example1-signed.cbor"), platform, UPDATE)
    assert isinstance(result.error, DigestMismatchError)
    assert result.error.expected.hex().startswith("00112233")
    assert result.report.result.record.section == Section.INSTALL
    assert platform.load_sequence_number() is None  # not stored on failure


# --- example 2: severable install, secure boot ------------------------------------------------


def test_example2_full_envelope_installs_and_boots() -> None:
    platform = device(resources={URI_LONG: PAYLOAD_A})
    update = run_envelope(vector("example2-signed.cbor"), platform, UPDATE, hashes=HASHES)
    assert update.ok, update.error
    assert platform.fetcher_impl.requests == [URI_LONG]
    boot = run_envelope(vector("example2-signed.cbor"), platform, INVOCATION, hashes=HASHES)
    assert boot.ok, boot.error
    assert platform.actions("invoke") == [("invoke", C0, None)]
    assert update.report.reference_uri == "https://git.io/JJYoj"


def test_example2_severed_envelope_cannot_update_but_can_boot() -> None:
    platform = device(resources={URI_LONG: PAYLOAD_A}, contents={C0: PAYLOAD_A})
    update = run_envelope(vector("example2-severed-signed.cbor"), platform, UPDATE, hashes=HASHES)
    assert not update.ok
    assert update.report.result.reason == ReportReason.SEVERING_UNSUPPORTED
    assert platform.fetcher_impl.requests == []
    boot = run_envelope(vector("example2-severed-signed.cbor"), platform, INVOCATION, hashes=HASHES)
    assert boot.ok, boot.error
    assert platform.actions("invoke") == [("invoke", C0, None)]


# --- example 3: A/B images (try-each on component-slot) ----------------------------------------


@pytest.mark.parametrize(("slot", "uri", "content"), [(0, URI1, PAYLOAD_A), (1, URI2, PAYLOAD_B)])
def test_example3_chooses_the_image_for_the_slot(slot: int, uri: str, content: bytes) -> None:
    platform = device(slots={C0: slot}, resources={URI1: PAYLOAD_A, URI2: PAYLOAD_B})
    result = run_envelope(vector("example3-signed.cbor"), platform, UPDATE, hashes=HASHES)
    assert result.ok, result.error
    assert platform.fetcher_impl.requests == [uri]
    assert platform.content(C0) == content
    # the slot condition (policy 5 = record + sysinfo on success) recorded the winning slot only
    slot_infos = [r for r in result.report.records if r.command == Cmd.CONDITION_COMPONENT_SLOT]
    assert all(r.success for r in slot_infos)
    assert {r.properties.get(5) for r in slot_infos} == {slot}


def test_example3_slot_image_mismatch_is_caught() -> None:
    """The device is in slot 1 but the server hands out the slot-0 image under file2.bin."""
    platform = device(slots={C0: 1}, resources={URI1: PAYLOAD_A, URI2: PAYLOAD_A})
    result = run_envelope(vector("example3-signed.cbor"), platform, UPDATE, hashes=HASHES)
    assert isinstance(result.error, DigestMismatchError)
    assert platform.fetcher_impl.requests == [URI2]


def test_example3_no_slot_matches() -> None:
    platform = device(slots={C0: 7}, resources={URI1: PAYLOAD_A, URI2: PAYLOAD_B})
    result = run_envelope(vector("example3-signed.cbor"), platform, UPDATE, hashes=HASHES)
    assert isinstance(result.error, ConditionFailedError)
    assert result.report.result.code == Cmd.DIRECTIVE_TRY_EACH
    assert platform.fetcher_impl.requests == []


# --- example 4: load from external storage ----------------------------------------------------


class LoaderPlatform(InMemoryPlatform):
    """Copy into the RAM component [01] expands the stored image to the example's load size
    (the example's load step turns a 34768-byte stored image into a 76834-byte RAM image)."""

    def copy(self, destination, source):  # type: ignore[override]
        super().copy(destination, source)
        if destination == C1:
            self._components[C1].content = bytearray(PAYLOAD_B)


def test_example4_fetch_install_load_invoke() -> None:
    base = device(components=(C0, C2, C1), resources={URI: PAYLOAD_A})
    platform = LoaderPlatform(components_map=base.components_map, fetcher_impl=base.fetcher_impl)
    update = run_envelope(vector("example4-signed.cbor"), platform, UPDATE, hashes=HASHES)
    assert update.ok, update.error
    assert platform.fetcher_impl.requests == [URI]
    assert writes(platform) == [(C2, len(PAYLOAD_A))]  # fetched into external storage [02]
    assert platform.actions("copy") == [("copy", C0, C2)]  # installed [02] -> [00]
    boot = run_envelope(vector("example4-signed.cbor"), platform, INVOCATION, hashes=HASHES)
    assert boot.ok, boot.error
    assert platform.actions("copy")[-1] == ("copy", C1, C0)  # loaded [00] -> [01]
    assert platform.actions("invoke") == [("invoke", C1, None)]
    assert len(platform.content(C1)) == SIZE_B


# --- example 5: two images ---------------------------------------------------------------------


def test_example5_two_components() -> None:
    platform = device(components=(C0, C1), resources={URI1: PAYLOAD_A, URI2: PAYLOAD_B})
    update = run_envelope(vector("example5-signed.cbor"), platform, UPDATE, hashes=HASHES)
    assert update.ok, update.error
    assert platform.fetcher_impl.requests == [URI1, URI2]
    assert platform.content(C0) == PAYLOAD_A and platform.content(C1) == PAYLOAD_B
    boot = run_envelope(vector("example5-signed.cbor"), platform, INVOCATION, hashes=HASHES)
    assert boot.ok, boot.error
    assert platform.actions("invoke") == [("invoke", C0, None)]


# --- rejections ----------------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(6))
def test_wrong_vendor_stops_before_any_effect(n: int) -> None:
    platform = device(
        components=(C0, C2, C1) if n == 4 else (C0, C1) if n == 5 else (C0,),
        vendor_id=b"\x11" * 16,
        slots={C0: 0},
        resources={URI: PAYLOAD_A, URI1: PAYLOAD_A, URI2: PAYLOAD_B, URI_LONG: PAYLOAD_A},
    )
    name = f"example{n}-signed.cbor"
    result = run_envelope(vector(name), platform, UPDATE, hashes=HASHES)
    assert isinstance(result.error, ConditionFailedError)
    assert result.report.result.code == Cmd.CONDITION_VENDOR_IDENTIFIER
    assert result.report.result.record.section == Section.COMMON
    assert platform.fetcher_impl.requests == [] and platform.log == []
    decoded = decode_report(result.report.encode())
    assert decoded[4][5] == Cmd.CONDITION_VENDOR_IDENTIFIER and decoded[4][7] == ReportReason.CONDITION_FAILED


def test_wrong_class_stops_processing() -> None:
    platform = device(class_id=b"\x22" * 16, resources={URI: PAYLOAD_A})
    result = run_envelope(vector("example1-signed.cbor"), platform, UPDATE, hashes=HASHES)
    assert isinstance(result.error, ConditionFailedError)
    assert result.report.result.code == Cmd.CONDITION_CLASS_IDENTIFIER
    # the class record (policy 15) carries what the device asserted
    sysinfo = [r for r in result.report.records if type(r).__name__ == "SystemInfo" and not r.success]
    assert sysinfo and sysinfo[-1].properties[2] == b"\x22" * 16
    assert platform.fetcher_impl.requests == []


def test_replayed_sequence_number_is_refused() -> None:
    platform = device(resources={URI: PAYLOAD_A})
    assert run_envelope(vector("example1-signed.cbor"), platform, UPDATE, hashes=HASHES).ok
    platform.fetcher_impl.requests.clear()
    replay = run_envelope(vector("example1-signed.cbor"), platform, UPDATE, hashes=HASHES)
    assert isinstance(replay.error, RollbackError)
    assert replay.report.result.reason == ReportReason.UNAUTHORISED
    assert platform.fetcher_impl.requests == []
    older = run_envelope(vector("example0-signed.cbor"), platform, UPDATE, hashes=HASHES)
    assert isinstance(older.error, RollbackError)


def test_vendor_and_class_ids_match_the_examples_uuids() -> None:
    import uuid

    vendor = uuid.uuid5(uuid.NAMESPACE_DNS, "arm.com")
    assert vendor.bytes == VENDOR_ID
    assert uuid.uuid5(vendor, "suit").bytes == CLASS_ID
