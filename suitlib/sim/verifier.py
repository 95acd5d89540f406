"""Boot-time verification of a slot image through the signed SUIT envelope stored with it.

The reference bootloader asks an :class:`~suitlib.bootloader.verify.ImageVerifier` whether an
image may boot. The mote's verifier authenticates the envelope against the device's trust
anchors (draft-ietf-suit-manifest-34 §6.2, authenticate first), then checks the image against
the SUIT_Digest and image size of component 0 in the shared sequence (§8.4.8.6, §8.4.8.7).
The security counter is the manifest sequence number (§8.4.3), so the bootloader's
anti-rollback counter follows the manifests.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

from suitlib.bootloader.verify import Verdict
from suitlib.errors import SuitError
from suitlib.manifest import Parameter, Parameters, decode_envelope
from suitlib.manifest.auth import verify_envelope

HASHES = {-16: hashlib.sha256, -43: hashlib.sha384, -44: hashlib.sha512}


def image_claims(envelope: Any) -> tuple[Any, int | None]:
    """(SUIT_Digest, image size) that the shared sequence sets for component 0."""
    digest, size = None, None
    for command in envelope.manifest.common.shared_sequence or ():
        arg = command.argument
        if isinstance(arg, Parameters):
            digest = arg.get(Parameter.IMAGE_DIGEST, digest)
            size = arg.get(Parameter.IMAGE_SIZE, size)
    return digest, size


class SuitImageVerifier:
    """An :class:`ImageVerifier` over signed SUIT envelopes; never raises for bad input."""

    def __init__(self, trust_anchors: Sequence[Any]) -> None:
        self.trust_anchors = tuple(trust_anchors)

    def verify(self, image: bytes, envelope: bytes) -> Verdict:
        try:
            env = decode_envelope(envelope)
            verify_envelope(env, self.trust_anchors)
        except SuitError as exc:
            return Verdict(False, reason=f"envelope refused: {exc.message}")
        counter = int(env.manifest.sequence_number)
        digest, size = image_claims(env)
        if digest is None or digest.algorithm not in HASHES:
            return Verdict(False, counter, reason="envelope carries no usable image digest")
        if size is not None and size != len(image):
            return Verdict(False, counter, reason="image size differs from the envelope")
        actual = HASHES[digest.algorithm](image).digest()
        if not hmac.compare_digest(actual, digest.value):
            return Verdict(False, counter, reason="image digest mismatch")
        return Verdict(True, counter)
