"""suitlib.trust — trust that outlives the vendor (see specs/TRUST-MODEL.md).

- :class:`TrustPolicy` / :class:`Anchor` / :class:`Scope`: k-of-n trust anchors with per-anchor
  scopes (multi-tenant components) and admin anchors for policy updates.
- :func:`authorize`: an envelope under a policy (threshold by distinct root anchors, delegation
  chains, scope against the components the manifest actually touches).
- :func:`issue_delegation`, :func:`encode_delegation`, :func:`verify_delegation`,
  :func:`with_delegation`: draft-ietf-suit-trust-domains delegation chains of CWTs.
- :class:`AnchorStore`: the policy on flash, power-safe (two banks, sequence number, digest);
  :class:`CounterStore`: per-component anti-rollback numbers, same layout.
- :func:`policy_update`: the envelope that transfers ownership or rotates keys.
- :class:`TrustedDevice`: the processor's authenticator and a guarded platform in one.
"""

from suitlib.trust.authorize import TRUST_COMPONENT, Authorization, Signature, authorize
from suitlib.trust.cwt import CLAIM_SUIT_SCOPE, Delegation, decode_token
from suitlib.trust.cwt import issue as issue_delegation
from suitlib.trust.delegation import DelegatedKey, encode_delegation, verify_delegation
from suitlib.trust.device import Counters, GuardedPlatform, PolicyStore, TrustedDevice
from suitlib.trust.errors import AnchorStoreError, DelegationError, PolicyUpdateError, ScopeError, ThresholdError
from suitlib.trust.manage import POLICY_URI, policy_update, with_delegation
from suitlib.trust.policy import Anchor, TrustPolicy
from suitlib.trust.scope import ANY, Scope
from suitlib.trust.store import AnchorStore, BankedStore, CounterStore, MemoryCounters, MemoryPolicyStore, StoredRecord
from suitlib.trust.touched import Touch, touched_components

__all__ = [
    "ANY", "Anchor", "AnchorStore", "AnchorStoreError", "Authorization", "BankedStore", "CLAIM_SUIT_SCOPE",
    "CounterStore", "Counters", "DelegatedKey", "Delegation", "DelegationError", "GuardedPlatform", "MemoryCounters",
    "MemoryPolicyStore", "POLICY_URI", "PolicyStore", "PolicyUpdateError", "Scope", "ScopeError", "Signature",
    "StoredRecord", "TRUST_COMPONENT", "ThresholdError",
    "Touch", "TrustPolicy", "TrustedDevice", "authorize", "decode_token", "encode_delegation", "issue_delegation",
    "policy_update", "touched_components", "verify_delegation", "with_delegation",
]
