"""Boot-time verification of a slot's image through the envelope stored with it.

:class:`ImageVerifier` is the seam: given the image bytes and the envelope stored next to them,
say whether the image may boot and which security counter it carries (the anti-rollback value,
a SUIT manifest's sequence number). :class:`DigestVerifier` ships now: its envelope binds a
SHA-256 digest, the image size and a security counter (integrity only, no authenticity; a
signed SUIT envelope verifier plugs in through the same protocol).
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Verdict:
    """The result of verifying one image."""

    accepted: bool
    security_counter: int = 0
    reason: str = ""


@runtime_checkable
class ImageVerifier(Protocol):
    """Accept or refuse an image given the envelope stored with it (what a device runs)."""

    def verify(self, image: bytes, envelope: bytes) -> Verdict:
        """Never raises for bad input: a malformed envelope is a refusal."""
        ...


@runtime_checkable
class EnvelopeMaker(Protocol):
    """Host side: build an envelope a verifier accepts (tests, tools, the conformance suite)."""

    def make_envelope(self, image: bytes, security_counter: int) -> bytes:
        """An envelope the matching verifier accepts for ``image``."""
        ...


_DIGEST_ENV = struct.Struct("<4sQI32s")
DIGEST_MAGIC = b"SDG1"


class DigestVerifier:
    """Envelope ``b"SDG1" | u64 security_counter | u32 image_size | sha256(image)``."""

    def make_envelope(self, image: bytes, security_counter: int) -> bytes:
        return _DIGEST_ENV.pack(DIGEST_MAGIC, security_counter, len(image),
                                hashlib.sha256(image).digest())

    def verify(self, image: bytes, envelope: bytes) -> Verdict:
        if len(envelope) != _DIGEST_ENV.size:
            return Verdict(False, reason="envelope has the wrong size")
        magic, counter, size, digest = _DIGEST_ENV.unpack(envelope)
        if magic != DIGEST_MAGIC:
            return Verdict(False, reason="not a digest envelope")
        if size != len(image):
            return Verdict(False, counter, reason="image size differs from the envelope")
        if not hmac.compare_digest(hashlib.sha256(image).digest(), digest):
            return Verdict(False, counter, reason="image digest mismatch")
        return Verdict(True, counter)
