"""Shared helpers of the processor tests: the examples' identities, test devices, hash engines."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from suitlib.processor.memory import InMemoryPlatform
from suitlib.processor.processor import INVOCATION, UPDATE, Processor, ProcessorPolicy, ProcessResult
from suitlib.cose import load_public_pem

from tests.conftest import VECTORS  # noqa: E402  (honours SUITLIB_SHARED)

VENDOR_ID = bytes.fromhex("fa6b4a53d5ad5fdfbe9de663e4d41ffe")  # UUIDv5(DNS, "arm.com")
CLASS_ID = bytes.fromhex("1492af1425695e48bf429b2d51f2ab45")  # UUIDv5(vendor, "suit")
FAKE_DIGEST_A = bytes.fromhex("00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210")
FAKE_DIGEST_B = bytes.fromhex("0123456789abcdeffedcba987654321000112233445566778899aabbccddeeff")
SIZE_A = 34768
SIZE_B = 76834
C0, C1, C2 = (b"\x00",), (b"\x01",), (b"\x02",)


def payload(size: int, seed: int) -> bytes:
    """Deterministic test payload bytes."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(bytes([seed]) + counter.to_bytes(4, "big")).digest()
        counter += 1
    return bytes(out[:size])


PAYLOAD_A = payload(SIZE_A, 1)
PAYLOAD_B = payload(SIZE_B, 2)


class PlaceholderSha256:
    """A SHA-256 engine that reports the spec examples' placeholder digests for known bytes.

    The examples' image digests (``00112233…``, ``01234567…``) are placeholders that no content
    hashes to. This engine stands in for a device hash engine: for exactly the bytes listed in
    ``table`` it returns the placeholder; for anything else, the real SHA-256. Tests that check
    failure paths use real content (and the real engine).
    """

    def __init__(self, table: Mapping[bytes, bytes]) -> None:
        self._table = table
        self._data = bytearray()

    def update(self, chunk: bytes) -> None:
        self._data += chunk

    def digest(self) -> bytes:
        data = bytes(self._data)
        return self._table.get(data) or hashlib.sha256(data).digest()


def placeholder_hashes(table: Mapping[bytes, bytes]) -> dict[int, Any]:
    return {-16: lambda: PlaceholderSha256(table)}


EXAMPLE_TABLE = {PAYLOAD_A: FAKE_DIGEST_A, PAYLOAD_B: FAKE_DIGEST_B}


def vector(name: str) -> bytes:
    return (VECTORS / name).read_bytes()


def device(components=(C0,), **kw: Any) -> InMemoryPlatform:
    kw.setdefault("vendor_id", VENDOR_ID)
    kw.setdefault("class_id", CLASS_ID)
    return InMemoryPlatform.simple(components=components, **kw)


def spec_public_key() -> Any:
    """The P-256 key that verifies the signed spec examples."""
    return load_public_pem(vector("public_key.pem"))


def run_envelope(
    envelope: bytes,
    platform: InMemoryPlatform,
    procedure: str = UPDATE,
    *,
    hashes: Mapping[int, Any] | None = None,
    policy: ProcessorPolicy | None = None,
    trust_anchors: Any = None,
) -> ProcessResult:
    """Authenticate and process an envelope on ``platform`` (spec key by default)."""
    anchors = [spec_public_key()] if trust_anchors is None else trust_anchors
    processor = Processor(platform, anchors, policy=policy or ProcessorPolicy(), hashes=hashes)
    return processor.update(envelope) if procedure == UPDATE else processor.invoke(envelope)


__all__ = ["INVOCATION", "UPDATE"]
