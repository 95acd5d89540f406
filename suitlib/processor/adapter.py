"""From envelope bytes to an authenticated :class:`Program` (draft-ietf-suit-manifest-34 §6.2, §8.3).

§6.2: "The manifest processor MUST verify the signature of the manifest prior to
parsing/executing any section of the manifest." So authentication happens in two stages over
one private copy of the input:

1. Only the outer envelope map and the authentication wrapper are decoded; the manifest stays
   an opaque byte string. Its SUIT_Digest is checked over the manifest bstr, then the
   COSE_Sign1 / COSE_Mac0 blocks are verified against the device's trust anchors (and the
   signature policy). An unsigned envelope stops here unless explicitly allowed.
2. Only then is the whole envelope decoded (strict and bounded) and the severable members and
   integrated payloads it carries checked against the digests the manifest holds; members that
   nothing authenticates are refused.

The result is a :class:`Program`: nothing in the manifest is acted on before both stages pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from suitlib.cbor import Tag, bstr, decode
from suitlib.cose import ANY_ONE, decode_message, verify_blocks
from suitlib.errors import DecodeError, DigestMismatchError, SignatureError
from suitlib.limits import DEFAULT_LIMITS, Limits
from suitlib.manifest import Digest, Envelope, decode_envelope
from suitlib.manifest.auth import as_verifier, check_members_covered
from suitlib.manifest.digests import check_severable
from suitlib.manifest.model import CommandSequence, frozen_map
from suitlib.processor.program import Program, Section

ENVELOPE_TAG = 107

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


def _outer(data: bytes, limits: Limits) -> tuple[bytes, bytes]:
    """Stage 1 decoding: (authentication wrapper content, manifest bstr content), nothing more."""
    top = decode(data, limits=limits)
    if isinstance(top, Tag) and top.number == ENVELOPE_TAG:
        top = top.value
    if not isinstance(top, Mapping):
        raise DecodeError("a SUIT envelope is a map")
    wrapper, manifest = top.get(2), top.get(3)
    if not isinstance(wrapper, bytes) or not isinstance(manifest, bytes):
        raise DecodeError("the envelope needs an authentication wrapper (2) and a manifest (3), both bstr")
    return wrapper, manifest


def _authenticate_manifest(
    data: bytes, verifier: Any, allow_unsigned: bool, limits: Limits, policy: Any
) -> bool:
    """Stage 1: digest and signatures over the still opaque manifest; True if signed."""
    wrapper_raw, manifest_raw = _outer(data, limits)
    wrapper = decode(wrapper_raw, limits=limits, path="authentication-wrapper")
    if not isinstance(wrapper, (tuple, list)) or not wrapper or not isinstance(wrapper[0], bytes):
        raise DecodeError("the authentication wrapper is [bstr .cbor SUIT_Digest, * bstr]", path="authentication-wrapper")
    if len(wrapper) - 1 > limits.max_signatures:
        raise DecodeError(f"{len(wrapper) - 1} authentication blocks exceed the limit of {limits.max_signatures}",
                          path="authentication-wrapper")
    digest_bstr = wrapper[0]
    digest = decode(digest_bstr, limits=limits, path="authentication-wrapper[0]")
    if (not isinstance(digest, (tuple, list)) or len(digest) < 2 or not isinstance(digest[0], int)
            or isinstance(digest[0], bool) or not isinstance(digest[1], bytes)):
        raise DecodeError("the first element of the authentication wrapper is not a SUIT_Digest",
                          path="authentication-wrapper[0]")
    if not Digest(digest[0], digest[1]).matches(bstr(manifest_raw)):
        raise DigestMismatchError("the manifest does not match the digest in the authentication wrapper",
                                  path="authentication-wrapper[0]", reason=4)
    blocks = wrapper[1:]
    if not blocks:
        if allow_unsigned:
            return False
        raise SignatureError("the envelope is not signed",
                             hint="sign it with `suit sign`, or explicitly allow unsigned envelopes")
    messages = []
    for index, block in enumerate(blocks, start=1):
        if not isinstance(block, bytes):
            raise DecodeError("an authentication block is not a bstr", path=f"authentication-wrapper[{index}]")
        messages.append(decode_message(block, path=f"authentication-wrapper[{index}]"))
    verify_blocks(verifier, messages, digest_bstr, policy=policy)
    return True


def authenticate_envelope(
    data: bytes,
    trust_anchors: Sequence[Any] | Any,
    *,
    allow_unsigned: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    signature_policy: Any = None,
) -> Program:
    """Authenticate, then decode, then reduce an envelope; raises only :class:`~suitlib.errors.SuitError`."""
    private = bytes(data)  # what is checked is what is used (REQ.SEC.MFST.CONST)
    if len(private) > limits.max_envelope_size:
        raise DecodeError(f"envelope of {len(private)} bytes exceeds the limit of {limits.max_envelope_size}")
    verifier = as_verifier(trust_anchors)
    signed = _authenticate_manifest(private, verifier, allow_unsigned, limits, signature_policy or ANY_ONE)
    envelope = decode_envelope(private, limits=limits)
    check_severable(envelope)
    check_members_covered(envelope)
    return program_from_envelope(envelope, authenticated=signed)


__all__ = ["authenticate_envelope", "program_from_envelope"]
