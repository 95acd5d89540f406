"""Building the envelopes the trust layer consumes: policy updates and delegated envelopes.

A policy update (owner transfer, vendor succession, key rotation, threshold change) is an
ordinary SUIT manifest (draft-ietf-suit-manifest-34) whose only component is
:data:`~suitlib.trust.authorize.TRUST_COMPONENT`; the new :class:`TrustPolicy` record travels
as an integrated payload that the install sequence fetches and image-matches. It is then
signed by enough admin anchors of the *current* policy (:func:`suitlib.manifest.auth.sign_envelope`
with ``mode="append"``, once per signer).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from suitlib.cbor import Tag, decode, encode
from suitlib.errors import DecodeError
from suitlib.limits import DEFAULT_LIMITS, Limits
from suitlib.manifest import (
    AuthenticationWrapper,
    Command,
    CommandSequence,
    Common,
    ComponentId,
    Digest,
    Envelope,
    Manifest,
    Parameters,
    with_authentication,
)
from suitlib.manifest.model import frozen_map
from suitlib.manifest.numbers import Command as Cmd
from suitlib.manifest.numbers import Parameter as Param
from suitlib.trust.authorize import ENVELOPE_TAG, TRUST_COMPONENT
from suitlib.trust.delegation import encode_delegation
from suitlib.trust.policy import TrustPolicy

POLICY_URI = "#trust-policy"


def _seq(*pairs: object) -> CommandSequence:
    return CommandSequence(tuple(Command(int(pairs[i]), pairs[i + 1]) for i in range(0, len(pairs), 2)))  # type: ignore[call-overload]


def policy_update(policy: TrustPolicy, *, sequence_number: int, vendor_id: bytes, class_id: bytes) -> Envelope:
    """An unsigned envelope that installs ``policy`` (sign it with the current admin anchors)."""
    record = policy.encode()
    shared = _seq(
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, Parameters({Param.VENDOR_IDENTIFIER: vendor_id, Param.CLASS_IDENTIFIER: class_id}),
        Cmd.CONDITION_VENDOR_IDENTIFIER, 15,
        Cmd.CONDITION_CLASS_IDENTIFIER, 15,
    )
    install = _seq(
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, Parameters({
            Param.URI: POLICY_URI,
            Param.IMAGE_DIGEST: Digest(-16, hashlib.sha256(record).digest()),
            Param.IMAGE_SIZE: len(record),
        }),
        Cmd.DIRECTIVE_FETCH, 2,
        Cmd.CONDITION_IMAGE_MATCH, 15,
    )
    manifest = Manifest(
        sequence_number=sequence_number,
        common=Common(components=(ComponentId(TRUST_COMPONENT),), shared_sequence=shared),
        install=install,
    )
    envelope = Envelope(AuthenticationWrapper(Digest(-16, b"\0" * 32)), manifest,
                        integrated=frozen_map({POLICY_URI: record}))
    return with_authentication(envelope)


def with_delegation(envelope: bytes, chains: Sequence[Sequence[bytes]], *, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """``envelope`` with ``suit-delegation`` (key 1) set to ``chains``; nothing else changes.

    The delegation member is not covered by the manifest digest: its tokens are signed themselves.
    """
    top = decode(bytes(envelope), limits=limits)
    tagged = isinstance(top, Tag) and top.number == ENVELOPE_TAG
    body = top.value if tagged else top
    if not isinstance(body, Mapping):
        raise DecodeError("a SUIT envelope is a map")
    items = dict(body)
    items[1] = encode_delegation(chains)
    out = {k: items[k] for k in items}
    return encode(Tag(ENVELOPE_TAG, out) if tagged else out)


__all__ = ["POLICY_URI", "policy_update", "with_delegation"]
