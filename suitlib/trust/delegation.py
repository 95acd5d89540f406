"""Delegation chains (draft-ietf-suit-trust-domains, envelope key 1 ``suit-delegation``).

``SUIT_Delegation = [+ [+ bstr .cbor CWT]]``: a list of chains, each a list of delegation tokens
(:mod:`.cwt`). The first token of a chain is signed by a trust anchor of the device policy; each
following token by the key the previous one confirmed (``cnf``). The last ``cnf`` key may sign
envelopes, with the intersection of the anchor's scope and every link's scope, until the
earliest ``exp`` of the chain. A chain that is malformed, not rooted in an anchor, expired or not
yet valid refuses the whole envelope (:class:`DelegationError`).

Every delegated key belongs to exactly one root anchor: a key delegated twice, or a delegated key
that is itself an anchor, is refused, so one key can never count for two anchors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from suitlib.cbor import decode, encode
from suitlib.cose import PublicKey, TrustAnchor
from suitlib.errors import DecodeError, SignatureError, UnsupportedError
from suitlib.limits import DEFAULT_LIMITS, Limits
from suitlib.trust.cwt import decode_token
from suitlib.trust.errors import DelegationError
from suitlib.trust.policy import Anchor, TrustPolicy
from suitlib.trust.scope import Scope

MAX_CHAINS = 4
MAX_CHAIN_LENGTH = 4
PATH = "delegation"


@dataclass(frozen=True)
class DelegatedKey:
    """A key a verified chain authorises: whose rights it carries and how far they reach."""

    key: PublicKey
    kid: bytes | None
    root: Anchor
    scope: Scope
    depth: int
    name: str

    @property
    def trust_anchor(self) -> TrustAnchor:
        return TrustAnchor(self.key, kid=self.kid, name=self.name)


def encode_delegation(chains: Sequence[Sequence[bytes]]) -> bytes:
    """The content of envelope key 1 for ``chains`` (each a list of tokens from :func:`.cwt.issue`)."""
    return encode([list(chain) for chain in chains])


def _signed_by(anchor: TrustAnchor, message: object, payload: bytes) -> bool:
    if not anchor.fits(message):  # type: ignore[arg-type]
        return False
    try:
        anchor.check(message, payload)  # type: ignore[arg-type]
    except (SignatureError, UnsupportedError):
        return False
    return True


def verify_delegation(raw: bytes, policy: TrustPolicy, *, now: int | None,
                      limits: Limits = DEFAULT_LIMITS) -> tuple[DelegatedKey, ...]:
    """Verify every chain of ``raw`` (envelope key 1 content) back to ``policy``'s anchors.

    Returns the delegated keys; raises :class:`DelegationError` (or :class:`DecodeError` for a
    malformed structure) for any chain that does not hold. Only :class:`SuitError` escapes.
    """
    chains = decode(bytes(raw), limits=limits, path=PATH)
    if not isinstance(chains, Sequence) or isinstance(chains, (bytes, str)) or not chains:
        raise DecodeError("suit-delegation is [+ [+ bstr .cbor CWT]]", path=PATH)
    if len(chains) > MAX_CHAINS:
        raise DecodeError(f"more than {MAX_CHAINS} delegation chains", path=PATH)
    anchor_keys = {a.key for a in policy.anchors}
    out: list[DelegatedKey] = []
    seen: set[PublicKey] = set()
    for c, chain in enumerate(chains):
        path = f"{PATH}[{c}]"
        if not isinstance(chain, Sequence) or isinstance(chain, (bytes, str)) or not chain:
            raise DecodeError("a delegation chain is a non-empty array of CWTs", path=path)
        if len(chain) > MAX_CHAIN_LENGTH:
            raise DelegationError(f"delegation chain longer than {MAX_CHAIN_LENGTH} links", path=path)
        delegated = _verify_chain(chain, policy, now, limits, path)
        if delegated.key in anchor_keys:
            raise DelegationError("a chain delegates to a key that is already a trust anchor", path=path)
        if delegated.key in seen:
            raise DelegationError("the same key is delegated by two chains", path=path)
        seen.add(delegated.key)
        out.append(delegated)
    return tuple(out)


def _verify_chain(chain: Sequence[object], policy: TrustPolicy, now: int | None, limits: Limits,
                  path: str) -> DelegatedKey:
    root: Anchor | None = None
    signer: TrustAnchor | None = None
    scope = Scope()
    keys_in_chain: set[PublicKey] = set()
    name = ""
    kid: bytes | None = None
    key: PublicKey | None = None
    for i, token in enumerate(chain):
        link = f"{path}[{i}]"
        if not isinstance(token, bytes):
            raise DecodeError("a delegation token is a bstr-wrapped CWT", path=link)
        message, claims = decode_token(token, path=link, limits=limits)
        assert message.payload is not None
        if root is None:
            root = next((a for a in policy.anchors if _signed_by(a.trust_anchor, message, message.payload)), None)
            if root is None:
                raise DelegationError("the delegation chain is not rooted in a trust anchor of this device",
                                      path=link)
            scope = root.scope
        elif signer is None or not _signed_by(signer, message, message.payload):
            raise DelegationError("a delegation token is not signed by the key the previous link confirmed",
                                  path=link)
        claims.check_time(now, path=link)
        if claims.key in keys_in_chain or claims.key == root.key:
            raise DelegationError("a delegation chain loops back to one of its own keys", path=link)
        keys_in_chain.add(claims.key)
        scope = scope.intersect(claims.scope)
        signer = claims.trust_anchor
        key, kid = claims.key, claims.kid
        name = claims.subject or f"delegate:{claims.key.fingerprint()}"
    assert root is not None and key is not None
    return DelegatedKey(key, kid, root, scope, len(chain), f"{name} (delegated by {root.name})")


__all__ = ["DelegatedKey", "encode_delegation", "verify_delegation"]
