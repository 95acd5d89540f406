"""RFC 9124 §4.2.7 THREAT.NET.ONPATH → REQ.SEC.AUTHENTIC (and REPORTING, CONFIDENTIALITY).

An on-path attacker may modify, truncate or withhold manifests and payloads. Every change is
caught: the manifest by its digest and signature, the payload by the image digest over the bytes
written. Withholding is a denial of service the device reports. (Confidentiality of payloads is
THREAT.IMG.DISCLOSURE, of manifests THREAT.MFST.EXPOSURE; signing reports is out of the
processor's scope, see specs/SUIT-PROFILE.md.)
"""

from __future__ import annotations

import pytest

from suitlib.errors import DigestMismatchError, SuitError, TransportError, VerificationError
from suitlib.processor.memory import MemoryFetcher
from suitlib.processor.report import ReportReason, decode_report
from tests.processor.support import build, device, install_of, payload, processor

FW = payload(5000, 70)


class Interceptor(MemoryFetcher):
    """Serves the real resource through a tampering function."""

    def __init__(self, resources, tamper) -> None:  # type: ignore[no-untyped-def]
        super().__init__(resources, chunk_size=512)
        self.tamper = tamper

    def fetch(self, uri, sink, *, fetch_arguments=None):  # type: ignore[no-untyped-def]
        real = self.resources[uri]
        self.resources[uri] = self.tamper(real)
        try:
            super().fetch(uri, sink, fetch_arguments=fetch_arguments)
        finally:
            self.resources[uri] = real


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d[:100] + bytes([d[100] ^ 1]) + d[101:],  # one bit flipped
        lambda d: d[:-10],  # truncated
        lambda d: d[:2500] + payload(2500, 71),  # second half replaced
    ],
    ids=["bitflip", "truncate", "splice"],
)
def test_payload_modified_in_transit_is_rejected(tamper) -> None:  # type: ignore[no-untyped-def]
    platform = device()
    platform.fetcher_impl = Interceptor({"coap://fw": FW}, tamper)
    result = processor(platform).update(build(install=install_of("coap://fw", FW)))
    assert isinstance(result.error, DigestMismatchError)
    assert result.report.result.reason == ReportReason.CONDITION_FAILED
    assert platform.load_sequence_number() is None


@pytest.mark.parametrize("position", [10, 40, 80, 120, -20, -2])
def test_manifest_modified_in_transit_is_rejected(position: int) -> None:
    env = bytearray(build(install=install_of("coap://fw", FW)))
    env[position] ^= 0x01
    platform = device(resources={"coap://fw": FW})
    result = processor(platform).update(bytes(env))
    assert isinstance(result.error, SuitError)
    assert not isinstance(result.error, TransportError)
    assert platform.log == [] and platform.fetcher_impl.requests == []
    # whatever failed (decoding, digest, signature) is reported, and the report encodes
    assert decode_report(result.report.encode())[4][7] in (ReportReason.CBOR_PARSE, ReportReason.UNAUTHORISED,
                                                          ReportReason.CONDITION_FAILED, ReportReason.COMMAND_UNSUPPORTED,
                                                          ReportReason.PARAMETER_UNSUPPORTED)


def test_a_flipped_signature_bit_is_a_verification_error() -> None:
    env = bytearray(build(install=install_of("coap://fw", FW)))
    sig_at = env.index(b"\x58\x40") + 10  # inside the 64-byte ES256 signature
    env[sig_at] ^= 0x80
    result = processor(device(resources={"coap://fw": FW})).update(bytes(env))
    assert isinstance(result.error, VerificationError)
    assert result.report.result.reason == ReportReason.UNAUTHORISED


def test_withheld_payload_is_reported_as_an_operation_failure() -> None:
    platform = device(resources={})
    result = processor(platform).update(build(install=install_of("coap://fw", FW)))
    assert isinstance(result.error, TransportError)
    assert result.report.result.reason == ReportReason.OPERATION_FAILED
    assert platform.content((b"\x00",)) is None  # the partial component was erased
