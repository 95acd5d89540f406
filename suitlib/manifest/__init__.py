"""suitlib.manifest — SUIT envelopes (draft-ietf-suit-manifest-34): model, codec, digests.

Entry points::

    env = decode_envelope(data, limits=DEFAULT_LIMITS)   # strict, bounded
    data = encode_envelope(env)                          # deterministic, == input when decoded
    check_manifest_digest(env); check_severable(env)     # DigestMismatchError
    env.manifest_bstr                                    # what the auth-wrapper digest covers
    env.authentication.digest_bstr / .blocks             # COSE detached payload / COSE blocks
    with_authentication(env, blocks)                     # after changing the manifest
    build_envelope(spec, base_dir=…) / envelope_to_spec(env)   # spec <-> model (round-trips)
    sever(env, {"install"}) ; render_text(env) ; render_diag(env_or_bytes)

See :mod:`suitlib.manifest.model` for walking command sequences and reading parameters.
"""

from suitlib.limits import DEFAULT_LIMITS, Limits
from suitlib.manifest.codec import (
    decode_envelope,
    decode_manifest,
    encode_envelope,
    encode_manifest,
    encode_sequence,
    encode_severable_content,
)
from suitlib.manifest.digests import (
    check_manifest_digest,
    check_severable,
    manifest_digest,
    severable_bstr,
    severable_digest,
    with_authentication,
)
from suitlib.manifest.errors import (
    InvalidValueError,
    MissingKeyError,
    OldDraftError,
    WrongTagError,
    WrongTypeError,
)
from suitlib.manifest.model import (
    SEVERABLE_FIELDS,
    AuthenticationWrapper,
    Command,
    CommandSequence,
    Common,
    ComponentId,
    Digest,
    Envelope,
    Manifest,
    Parameters,
    Severable,
    Text,
    TextEntry,
    TryEach,
    VersionMatch,
)
from suitlib.manifest.numbers import (
    ENVELOPE_TAG,
    SEVERABLE,
    CommonKey,
    Condition,
    DigestAlgorithm,
    Directive,
    EnvelopeKey,
    ManifestKey,
    Parameter,
    RepPolicy,
    TextComponentKey,
    TextKey,
    VersionComparison,
)
from suitlib.manifest.numbers import Command as CommandCode
from suitlib.manifest.render import render_diag, render_text
from suitlib.manifest.sever import attach_elements, needs_resigning, sever
from suitlib.manifest.spec import SpecError, build_envelope, envelope_to_spec, manifest_to_spec

__all__ = [
    "DEFAULT_LIMITS",
    "ENVELOPE_TAG",
    "SEVERABLE",
    "SEVERABLE_FIELDS",
    "AuthenticationWrapper",
    "Command",
    "CommandCode",
    "CommandSequence",
    "Common",
    "CommonKey",
    "ComponentId",
    "Condition",
    "Digest",
    "DigestAlgorithm",
    "Directive",
    "Envelope",
    "EnvelopeKey",
    "InvalidValueError",
    "Limits",
    "Manifest",
    "ManifestKey",
    "MissingKeyError",
    "OldDraftError",
    "Parameter",
    "Parameters",
    "RepPolicy",
    "Severable",
    "Text",
    "TextComponentKey",
    "TextEntry",
    "TextKey",
    "TryEach",
    "VersionComparison",
    "VersionMatch",
    "WrongTagError",
    "SpecError",
    "WrongTypeError",
    "attach_elements",
    "build_envelope",
    "envelope_to_spec",
    "manifest_to_spec",
    "needs_resigning",
    "render_diag",
    "render_text",
    "sever",
    "check_manifest_digest",
    "check_severable",
    "decode_envelope",
    "decode_manifest",
    "encode_envelope",
    "encode_manifest",
    "encode_sequence",
    "encode_severable_content",
    "manifest_digest",
    "severable_bstr",
    "severable_digest",
    "with_authentication",
]
