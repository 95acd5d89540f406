"""From envelope bytes to an authenticated :class:`Program` (draft-ietf-suit-manifest-34 §6.2, §8.3).

The codec decodes the envelope (strict and bounded), then ``verify_envelope`` checks, in this
order, the manifest digest over the manifest bstr, the COSE_Sign1 / COSE_Mac0 blocks against
the device's trust anchors, and every severable member the envelope carries against the digest
the manifest holds for it. Only then is a :class:`Program` built; nothing in the manifest is
acted on before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from suitlib.limits import DEFAULT_LIMITS, Limits
from suitlib.manifest import Digest, Envelope, ManifestKey, decode_envelope
from suitlib.manifest.auth import verify_envelope
from suitlib.manifest.model import CommandSequence, frozen_map
from suitlib.processor.program import Program, Section

# manifest key -> Manifest attribute, for every sequence the processor may run
_SEQUENCES: dict[int, str] = {
    Section.VALIDATE: "validate",
    Section.LOAD: "load",
    Section.INVOKE: "invoke",
    Section.DEPENDENCY_RESOLUTION: "dependency_resolution",
    Section.PAYLOAD_FETCH: "payload_fetch",
    Section.CANDIDATE_VERIFICATION: "candidate_verification",
    Section.INSTALL: "install",
}


def program_from_envelope(envelope: Envelope, *, authenticated: bool) -> Program:
    """Gather an (already verified) envelope's sequences, components and payloads."""
    manifest = envelope.manifest
    sections: dict[int, CommandSequence] = {}
    severed: set[int] = set()
    for key, attribute in _SEQUENCES.items():
        value = getattr(manifest, attribute)
        if value is None:
            continue
        if isinstance(value, Digest):
            content = envelope.elements.get(key)
            if isinstance(content, CommandSequence):
                sections[key] = content
            else:
                severed.add(key)
        else:
            sections[key] = value
    return Program(
        sequence_number=manifest.sequence_number,
        components=tuple(component.parts for component in manifest.common.components),
        shared=manifest.common.shared_sequence,
        sections=frozen_map(sections),
        integrated_payloads=envelope.integrated,
        manifest_digest=envelope.authentication.digest,  # verified to cover the manifest bstr
        reference_uri=manifest.reference_uri,
        authenticated=authenticated,
        severed=frozenset(severed),
    )


def authenticate_envelope(
    data: bytes,
    trust_anchors: Sequence[Any],
    *,
    allow_unsigned: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    signature_policy: Any = None,
) -> Program:
    """Decode, authenticate and reduce an envelope; raises only :class:`~suitlib.errors.SuitError`."""
    envelope = decode_envelope(bytes(data), limits=limits)
    if signature_policy is None:
        verified = verify_envelope(envelope, trust_anchors, allow_unsigned=allow_unsigned)
    else:
        verified = verify_envelope(envelope, trust_anchors, allow_unsigned=allow_unsigned, policy=signature_policy)
    return program_from_envelope(envelope, authenticated=bool(verified))


__all__ = ["ManifestKey", "authenticate_envelope", "program_from_envelope"]
