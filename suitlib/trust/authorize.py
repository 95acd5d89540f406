"""Authorising an envelope under a :class:`~suitlib.trust.policy.TrustPolicy`.

Order of work (draft-ietf-suit-manifest-34 §6.2 "authenticate first"):

1. Only the outer envelope map is decoded; the manifest stays an opaque bstr. The wrapper's
   SUIT_Digest must cover it.
2. Delegation chains (key 1) are verified back to the policy's anchors (:mod:`.delegation`).
3. Each COSE_Sign1 block is checked against the anchors and the delegated keys. Every key that
   verifies counts for its *root anchor*; distinct roots are counted, so two signatures by one
   key, or a delegate plus its own delegator, count once. Nothing more is parsed unless at least
   one root stands behind the envelope.
4. The whole envelope is decoded, severable members and integrated payloads checked, and the
   components the manifest actually touches are worked out (:mod:`.touched`).
5. A firmware envelope needs ``threshold`` (or the touched components' own threshold) distinct
   roots whose verified key's scope covers every touched component and every class the manifest
   names. A policy-update envelope (its only
   component is :data:`TRUST_COMPONENT`) needs ``admin_threshold`` distinct admin anchors that
   signed directly; delegated keys never change the policy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from suitlib.cbor import Tag, bstr, decode
from suitlib.cose import CoseMessage, PublicKey, TrustAnchor, decode_message
from suitlib.errors import DecodeError, DigestMismatchError, SignatureError, UnsupportedError
from suitlib.limits import DEFAULT_LIMITS, Limits
from suitlib.manifest import Digest, decode_envelope
from suitlib.manifest.auth import check_members_covered
from suitlib.manifest.digests import check_severable
from suitlib.processor.adapter import program_from_envelope
from suitlib.processor.program import Program
from suitlib.trust.delegation import DelegatedKey, verify_delegation
from suitlib.trust.errors import PolicyUpdateError, ScopeError, ThresholdError
from suitlib.trust.policy import Anchor, TrustPolicy
from suitlib.trust.scope import Scope
from suitlib.trust.touched import Touch, touched_components

ENVELOPE_TAG = 107
TRUST_COMPONENT: tuple[bytes, ...] = (b"suit-trust", b"policy")
"""The component a policy-update manifest installs (its payload is a TrustPolicy record)."""


@dataclass(frozen=True)
class Signature:
    """One authentication block that verified, and the root anchor it counts for."""

    block: int
    root: Anchor
    scope: Scope
    delegated: bool
    name: str


@dataclass(frozen=True)
class Authorization:
    """An envelope the policy accepts: its program, what it touches and who stood behind it."""

    program: Program
    touch: Touch
    signatures: tuple[Signature, ...]
    counted: tuple[str, ...]
    """Names of the root anchors that counted towards the threshold."""
    policy_update: bool


@dataclass(frozen=True)
class _Candidate:
    anchor: TrustAnchor
    root: Anchor
    scope: Scope
    delegated: bool


def _outer(data: bytes, limits: Limits) -> tuple[bytes, bytes, bytes | None]:
    top = decode(data, limits=limits)
    if isinstance(top, Tag) and top.number == ENVELOPE_TAG:
        top = top.value
    if not isinstance(top, Mapping):
        raise DecodeError("a SUIT envelope is a map")
    wrapper, manifest, delegation = top.get(2), top.get(3), top.get(1)
    if not isinstance(wrapper, bytes) or not isinstance(manifest, bytes):
        raise DecodeError("the envelope needs an authentication wrapper (2) and a manifest (3), both bstr")
    if delegation is not None and not isinstance(delegation, bytes):
        raise DecodeError("suit-delegation (1) must be a bstr", path="delegation")
    return wrapper, manifest, delegation


def _blocks(wrapper_raw: bytes, manifest_raw: bytes, limits: Limits) -> tuple[bytes, list[CoseMessage]]:
    wrapper = decode(wrapper_raw, limits=limits, path="authentication-wrapper")
    if not isinstance(wrapper, Sequence) or isinstance(wrapper, (bytes, str)) or not wrapper \
            or not isinstance(wrapper[0], bytes):
        raise DecodeError("the authentication wrapper is [bstr .cbor SUIT_Digest, * bstr]",
                          path="authentication-wrapper")
    if len(wrapper) - 1 > limits.max_signatures:
        raise DecodeError(f"{len(wrapper) - 1} authentication blocks exceed the limit of {limits.max_signatures}",
                          path="authentication-wrapper")
    digest = decode(wrapper[0], limits=limits, path="authentication-wrapper[0]")
    if (not isinstance(digest, Sequence) or isinstance(digest, (bytes, str)) or len(digest) < 2
            or isinstance(digest[0], bool) or not isinstance(digest[0], int) or not isinstance(digest[1], bytes)):
        raise DecodeError("the first element of the authentication wrapper is not a SUIT_Digest",
                          path="authentication-wrapper[0]")
    if not Digest(digest[0], digest[1]).matches(bstr(manifest_raw)):
        raise DigestMismatchError("the manifest does not match the digest in the authentication wrapper",
                                  path="authentication-wrapper[0]", reason=4)
    messages: list[CoseMessage] = []
    for index, block in enumerate(wrapper[1:], start=1):
        if not isinstance(block, bytes):
            raise DecodeError("an authentication block is not a bstr", path=f"authentication-wrapper[{index}]")
        messages.append(decode_message(block, path=f"authentication-wrapper[{index}]"))
    if not messages:
        raise SignatureError("the envelope is not signed", hint="sign it with `suit sign`", reason=4)
    return wrapper[0], messages


def _candidates(policy: TrustPolicy, delegated: Sequence[DelegatedKey]) -> list[_Candidate]:
    out = [_Candidate(a.trust_anchor, a, a.scope, False) for a in policy.anchors]
    out += [_Candidate(d.trust_anchor, d.root, d.scope, True) for d in delegated]
    return out


def _verify(messages: Sequence[CoseMessage], payload: bytes,
            candidates: Sequence[_Candidate]) -> tuple[list[Signature], list[str]]:
    """Each block against the keys that fit it; a key is tried at most once per block."""
    verified: list[Signature] = []
    reasons: list[str] = []
    for index, message in enumerate(messages, start=1):
        fitting = [c for c in candidates if c.anchor.fits(message)]
        if not fitting:
            reasons.append(f"block {index}: no trusted key fits")
            continue
        for candidate in fitting:
            try:
                candidate.anchor.check(message, payload)
            except (SignatureError, UnsupportedError):
                continue
            verified.append(Signature(index, candidate.root, candidate.scope, candidate.delegated,
                                      candidate.anchor.label))
            break
        else:
            reasons.append(f"block {index}: does not verify")
    return verified, reasons


def _distinct_roots(signatures: Sequence[Signature]) -> list[Anchor]:
    roots: dict[PublicKey, Anchor] = {}
    for s in signatures:
        roots.setdefault(s.root.key, s.root)
    return list(roots.values())


def authorize(data: bytes, policy: TrustPolicy, *, now: int | None, limits: Limits = DEFAULT_LIMITS) -> Authorization:
    """Authorise envelope bytes under ``policy`` at device time ``now`` (see module docstring).

    Raises only :class:`~suitlib.errors.SuitError`: :class:`ThresholdError` (too few distinct
    anchors), :class:`ScopeError` (signers verified but may not touch what the manifest touches),
    :class:`~suitlib.trust.errors.DelegationError`, :class:`PolicyUpdateError`, decode errors.
    """
    private = bytes(data)
    if len(private) > limits.max_envelope_size:
        raise DecodeError(f"envelope of {len(private)} bytes exceeds the limit of {limits.max_envelope_size}")
    wrapper_raw, manifest_raw, delegation_raw = _outer(private, limits)
    payload, messages = _blocks(wrapper_raw, manifest_raw, limits)
    delegated = verify_delegation(delegation_raw, policy, now=now, limits=limits) if delegation_raw is not None else ()
    signatures, reasons = _verify(messages, payload, _candidates(policy, delegated))
    roots = _distinct_roots(signatures)
    needed = min(policy.threshold, policy.admin_threshold, *(k for _, k in policy.component_thresholds))
    if len(roots) < needed:
        detail = f": {'; '.join(reasons)}" if reasons else ""
        raise ThresholdError(
            f"{len(roots)} distinct trust anchor(s) stand behind the envelope, {needed} required{detail}",
            verified=len(roots), required=needed, reason=4,
        )
    # only now is the manifest parsed: trusted keys signed it
    envelope = decode_envelope(private, limits=limits)
    check_severable(envelope)
    check_members_covered(dataclasses.replace(envelope, delegation=None))
    program = program_from_envelope(envelope, authenticated=True)
    touch = touched_components(program)
    if TRUST_COMPONENT in program.components:
        return _authorize_policy_update(program, touch, signatures, policy)
    covering = [s for s in signatures if s.scope.covers(touch.components, touch.classes)]
    counted = _distinct_roots(covering)
    required = policy.threshold_for(touch.components)
    if len(counted) < required:
        outside = [s for s in signatures if s not in covering]
        if outside and len(roots) >= required:
            first = outside[0]
            raise ScopeError(
                f"{first.name} verified but may not touch "
                f"{', '.join(first.scope.missing(touch.components, touch.classes))}",
                signer=first.name, reason=4,
            )
        raise ThresholdError(
            f"{len(counted)} distinct trust anchor(s) with the right scope stand behind the envelope, "
            f"{required} required",
            verified=len(counted), required=required, reason=4,
        )
    return Authorization(program, touch, tuple(signatures), tuple(a.name for a in counted), False)


def _authorize_policy_update(program: Program, touch: Touch, signatures: Sequence[Signature],
                             policy: TrustPolicy) -> Authorization:
    if program.components != (TRUST_COMPONENT,):
        raise PolicyUpdateError("a trust-policy update must not touch any other component", reason=4)
    admins = _distinct_roots([s for s in signatures if not s.delegated and s.root.admin])
    if len(admins) < policy.admin_threshold:
        raise ThresholdError(
            f"{len(admins)} admin trust anchor(s) signed the policy update directly, "
            f"{policy.admin_threshold} required",
            hint="a policy update (owner transfer, key rotation) needs the current admin anchors' signatures",
            verified=len(admins), required=policy.admin_threshold, reason=4,
        )
    return Authorization(program, touch, tuple(signatures), tuple(a.name for a in admins), True)


__all__ = ["TRUST_COMPONENT", "Authorization", "Signature", "authorize"]
