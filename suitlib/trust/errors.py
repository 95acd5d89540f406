"""Typed refusals of the trust layer (all are :class:`~suitlib.errors.SuitError`).

Callers that only care that "the device said no" catch :class:`~suitlib.errors.VerificationError`
(exit code 1); tests tell the causes apart.
"""

from __future__ import annotations

from suitlib.errors import FlashError, PolicyError, SignatureError, VerificationError


class ThresholdError(SignatureError):
    """Fewer distinct trust anchors than the policy requires stand behind the envelope."""

    default_hint = "collect signatures from enough distinct trust anchors (see specs/TRUST-MODEL.md)"


class DelegationError(VerificationError):
    """A delegation chain is malformed, not rooted in a trust anchor, expired or not yet valid."""

    default_hint = "issue a fresh delegation chain from a current trust anchor"


class ScopeError(PolicyError):
    """A signer verified, but the components or classes the manifest touches are outside its scope."""

    default_hint = "each signer may only update the components its trust anchor or delegation covers"


class PolicyUpdateError(PolicyError):
    """A trust-policy update is stale (replay or downgrade) or not allowed under the current policy."""

    default_hint = "a new trust policy needs a higher version and the current policy's admin signers"


class AnchorStoreError(FlashError):
    """The anchor store on flash holds no valid trust policy, or a commit could not be confirmed."""

    default_hint = "provision the device's trust policy (AnchorStore.provision)"
