"""The device trust policy: who may sign what, and how many must agree (see specs/TRUST-MODEL.md).

A :class:`TrustPolicy` lists trust anchors (public keys with a name, an optional ``kid``, a
:class:`~suitlib.trust.scope.Scope` and an ``admin`` flag) and two thresholds:

- ``threshold``: distinct anchors that must stand behind a firmware envelope (k of n), each
  one's scope covering every component the manifest touches; ``component_thresholds`` raise
  (or lower) k for particular components (the highest among the touched ones applies);
- ``admin_threshold``: distinct *admin* anchors that must sign a policy update (owner
  transfer, key rotation, threshold change). Delegated keys never count here.

The policy is a CBOR record (``TrustPolicy.encode`` / ``TrustPolicy.decode``); ``version`` only
grows, so an old policy cannot be replayed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from suitlib.cbor import decode, encode
from suitlib.cose import PublicKey, TrustAnchor, export_cose_key, import_cose_key
from suitlib.errors import DecodeError, KeyFormatError, SuitError, ValidationError
from suitlib.limits import DEFAULT_LIMITS, Limits
from suitlib.trust.scope import ANY, Scope, component_id

MAX_ANCHORS = 16
MAX_COMPONENT_THRESHOLDS = 64
MAX_POLICY_SIZE = 8192

P_VERSION, P_THRESHOLD, P_ADMIN_THRESHOLD, P_ANCHORS, P_COMPONENT_THRESHOLDS = 1, 2, 3, 4, 5
A_NAME, A_KEY, A_KID, A_SCOPE, A_ADMIN = 1, 2, 3, 4, 5


@dataclass(frozen=True)
class Anchor:
    """One trust anchor of the policy."""

    name: str
    key: PublicKey
    kid: bytes | None = None
    scope: Scope = ANY
    admin: bool = False
    """May sign trust-policy updates (owner transfer, rotation)."""

    @property
    def trust_anchor(self) -> TrustAnchor:
        """The COSE-layer view of this anchor (key, kid, name)."""
        return TrustAnchor(self.key, kid=self.kid, name=self.name)

    def to_cbor(self) -> dict[int, Any]:
        out: dict[int, Any] = {A_NAME: self.name, A_KEY: export_cose_key(self.key)}
        if self.kid is not None:
            out[A_KID] = self.kid
        if not self.scope.unrestricted:
            out[A_SCOPE] = self.scope.to_cbor()
        if self.admin:
            out[A_ADMIN] = True
        return out


@dataclass(frozen=True)
class TrustPolicy:
    """k-of-n trust anchors with scopes; see the module docstring."""

    version: int
    anchors: tuple[Anchor, ...]
    threshold: int = 1
    admin_threshold: int = 1
    component_thresholds: tuple[tuple[tuple[bytes, ...], int], ...] = ()
    """Per-component k overriding ``threshold`` (e.g. the radio needs vendor AND operator)."""
    _by_key: Mapping[PublicKey, Anchor] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.version, bool) or not isinstance(self.version, int) or not 0 <= self.version < 2**63:
            raise ValidationError("policy version must be an unsigned 63-bit integer")
        anchors = tuple(self.anchors)
        object.__setattr__(self, "anchors", anchors)
        if not 1 <= len(anchors) <= MAX_ANCHORS:
            raise ValidationError(f"a trust policy needs 1..{MAX_ANCHORS} anchors, got {len(anchors)}")
        names = [a.name for a in anchors]
        if len(set(names)) != len(names):
            raise ValidationError("trust anchor names must be distinct")
        by_key = {a.key: a for a in anchors}
        if len(by_key) != len(anchors):
            raise ValidationError("a key is listed twice in the trust policy (each key counts once)")
        for what, k, pool in (("threshold", self.threshold, len(anchors)),
                              ("admin_threshold", self.admin_threshold, sum(a.admin for a in anchors))):
            if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= pool:
                raise ValidationError(f"{what} {k!r} must be between 1 and {pool}",
                                      hint="the policy could never be satisfied (or would accept nothing)")
        per = tuple(sorted((tuple(bytes(p) for p in c), k) for c, k in self.component_thresholds))
        if len({c for c, _ in per}) != len(per):
            raise ValidationError("a component has two thresholds")
        for component, k in per:
            if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(anchors):
                raise ValidationError(f"threshold {k!r} of component {list(component)} must be between 1 and {len(anchors)}")
        object.__setattr__(self, "component_thresholds", per)
        object.__setattr__(self, "_by_key", by_key)

    def threshold_for(self, components: Iterable[tuple[bytes, ...]]) -> int:
        """Distinct anchors a firmware envelope touching ``components`` needs: the highest
        per-component threshold among them, ``threshold`` for components without one."""
        per = dict(self.component_thresholds)
        return max((per.get(tuple(c), self.threshold) for c in components), default=self.threshold)

    def anchor_for(self, key: PublicKey) -> Anchor | None:
        return self._by_key.get(key)

    # --- wire form -------------------------------------------------------------------------
    def encode(self) -> bytes:
        """Deterministic CBOR record (what the anchor store and policy updates carry)."""
        out: dict[int, Any] = {
            P_VERSION: self.version,
            P_THRESHOLD: self.threshold,
            P_ADMIN_THRESHOLD: self.admin_threshold,
            P_ANCHORS: [a.to_cbor() for a in self.anchors],
        }
        if self.component_thresholds:
            out[P_COMPONENT_THRESHOLDS] = [[list(c), k] for c, k in self.component_thresholds]
        return encode(out)

    @classmethod
    def decode(cls, data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> TrustPolicy:
        """Decode and validate a policy record; only :class:`SuitError` escapes."""
        if len(data) > MAX_POLICY_SIZE:
            raise DecodeError(f"trust policy of {len(data)} bytes exceeds {MAX_POLICY_SIZE}", path="policy")
        top = decode(bytes(data), limits=limits, path="policy")
        required = {P_VERSION, P_THRESHOLD, P_ADMIN_THRESHOLD, P_ANCHORS}
        if not isinstance(top, Mapping) or not required <= set(top) <= required | {P_COMPONENT_THRESHOLDS}:
            raise DecodeError("a trust policy is {1: version, 2: threshold, 3: admin-threshold, 4: anchors, "
                              "? 5: component-thresholds}", path="policy")
        raw = top[P_ANCHORS]
        if not isinstance(raw, Sequence) or isinstance(raw, (bytes, str)):
            raise DecodeError("anchors must be an array", path="policy/4")
        if len(raw) > MAX_ANCHORS:
            raise DecodeError(f"more than {MAX_ANCHORS} anchors", path="policy/4")
        anchors = tuple(_anchor(item, f"policy/4/{i}") for i, item in enumerate(raw))
        for key in (P_VERSION, P_THRESHOLD, P_ADMIN_THRESHOLD):
            if isinstance(top[key], bool) or not isinstance(top[key], int):
                raise DecodeError("policy numbers are unsigned integers", path=f"policy/{key}")
        per = _component_thresholds(top.get(P_COMPONENT_THRESHOLDS, ()))
        return cls(top[P_VERSION], anchors, top[P_THRESHOLD], top[P_ADMIN_THRESHOLD], per)


def _component_thresholds(value: Any) -> tuple[tuple[tuple[bytes, ...], int], ...]:
    path = "policy/5"
    if not isinstance(value, Sequence) or isinstance(value, (bytes, str)) or len(value) > MAX_COMPONENT_THRESHOLDS:
        raise DecodeError(f"component thresholds are [* [component-id, uint]] (at most {MAX_COMPONENT_THRESHOLDS})",
                          path=path)
    out = []
    for entry in value:
        if (not isinstance(entry, Sequence) or isinstance(entry, (bytes, str)) or len(entry) != 2
                or isinstance(entry[1], bool) or not isinstance(entry[1], int)):
            raise DecodeError("a component threshold is [component-id, uint]", path=path)
        out.append((component_id(entry[0], path), entry[1]))
    return tuple(out)


def _anchor(item: Any, path: str) -> Anchor:
    if not isinstance(item, Mapping) or not {A_NAME, A_KEY} <= set(item) or not set(item) <= {
            A_NAME, A_KEY, A_KID, A_SCOPE, A_ADMIN}:
        raise DecodeError("an anchor is {1: name, 2: COSE_Key, ? 3: kid, ? 4: scope, ? 5: admin}", path=path)
    name, key_bytes, kid = item[A_NAME], item[A_KEY], item.get(A_KID)
    if not isinstance(name, str) or not 0 < len(name) <= 64:
        raise DecodeError("anchor name must be a text string of 1..64 characters", path=f"{path}/1")
    if not isinstance(key_bytes, bytes):
        raise DecodeError("anchor key must be a bstr-wrapped COSE_Key", path=f"{path}/2")
    if kid is not None and not isinstance(kid, bytes):
        raise DecodeError("anchor kid must be a byte string", path=f"{path}/3")
    admin = item.get(A_ADMIN, False)
    if not isinstance(admin, bool):
        raise DecodeError("anchor admin flag must be a boolean", path=f"{path}/5")
    scope = Scope.from_cbor(item[A_SCOPE], path=f"{path}/4") if A_SCOPE in item else ANY
    return Anchor(name, public_key_from_cose(key_bytes, what=f"anchor {name!r}"), kid, scope, admin)


def public_key_from_cose(data: bytes, *, what: str = "key") -> PublicKey:
    """A public COSE_Key (private halves and symmetric keys are refused)."""
    try:
        key, _, _ = import_cose_key(data)
    except SuitError:
        raise
    except Exception as exc:  # a malformed point the crypto library rejects in its own way
        raise KeyFormatError(f"{what}: invalid COSE_Key ({type(exc).__name__})") from None
    if not isinstance(key, PublicKey):
        raise KeyFormatError(f"{what} must be a public key (COSE_Key without private part)")
    return key
