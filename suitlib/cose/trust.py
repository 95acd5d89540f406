"""Trust anchors and verification of COSE authentication blocks (RFC 9052 §4.4, §6.3).

A :class:`TrustAnchors` set verifies each block against the anchors whose key type, algorithms
and ``kid`` fit; a :class:`Policy` then decides whether the verified signers are enough
(any one by default; :class:`Threshold` counts distinct anchors for k-of-n).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from suitlib.cose.algorithms import Algorithm
from suitlib.cose.keys import PublicKey, SymmetricKey
from suitlib.cose.messages import CoseMessage, Mac0
from suitlib.errors import SignatureError, UnsupportedError


@dataclass(frozen=True)
class TrustAnchor:
    """A key the verifier trusts, optionally bound to a ``kid`` and a set of algorithms."""

    key: PublicKey | SymmetricKey
    kid: bytes | None = None
    name: str = ""
    algorithms: frozenset[Algorithm] = field(default_factory=frozenset)
    """Allowed algorithms; empty means every algorithm that fits the key type."""

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if isinstance(self.key, PublicKey):
            return f"{self.key.key_type.value}:{self.key.fingerprint()}"
        return "hmac-key"

    def fits(self, message: CoseMessage) -> bool:
        """Whether this anchor may check ``message`` (key type, algorithm, kid)."""
        alg = message.alg
        if self.algorithms and alg not in self.algorithms:
            return False
        if isinstance(self.key, SymmetricKey):
            if not isinstance(message, Mac0):
                return False
        elif isinstance(message, Mac0) or not self.key.key_type.supports(alg):
            return False
        kid = message.kid
        return self.kid is None or kid is None or kid == self.kid

    def check(self, message: CoseMessage, payload: bytes, external_aad: bytes = b"") -> None:
        """Raise :class:`SignatureError` unless ``message`` verifies with this anchor's key."""
        self.key.verify(message.alg, message.to_be_signed(payload, external_aad), message.signature)


@dataclass(frozen=True)
class VerifiedSigner:
    """One authentication block that verified: its position, algorithm, kid and anchor."""

    index: int
    alg: Algorithm
    kid: bytes | None
    anchor: TrustAnchor


class Verifier(Protocol):
    """What checks one COSE message; :class:`TrustAnchors` is the reference implementation."""

    def verify(self, message: CoseMessage, payload: bytes, *, external_aad: bytes = b"") -> TrustAnchor: ...


class Policy(Protocol):
    """Decides whether the verified blocks are enough; raises :class:`SignatureError` if not."""

    def check(self, verified: Sequence[VerifiedSigner], blocks: int) -> None: ...


@dataclass(frozen=True)
class Threshold:
    """At least ``k`` distinct keys must have verified a block (k = 1: any one).

    Keys are compared by value, so one key listed twice (say under two kids) counts once.
    """

    k: int = 1

    def check(self, verified: Sequence[VerifiedSigner], blocks: int) -> None:
        distinct = {_key_identity(v.anchor.key) for v in verified}
        if len(distinct) < self.k:
            raise SignatureError(
                f"{len(distinct)} of {blocks} authentication blocks verified by distinct trust anchors; {self.k} required",
                verified=len(distinct),
                required=self.k,
            )


def _key_identity(key: PublicKey | SymmetricKey) -> object:
    if isinstance(key, PublicKey):
        return key
    return ("hmac", hashlib.sha256(key.secret).digest())


ANY_ONE = Threshold(1)


class TrustAnchors:
    """A set of trusted keys; verifies COSE_Sign1/COSE_Mac0 messages against them."""

    def __init__(self, anchors: Iterable[TrustAnchor | PublicKey | SymmetricKey]) -> None:
        self.anchors: tuple[TrustAnchor, ...] = tuple(
            a if isinstance(a, TrustAnchor) else TrustAnchor(a) for a in anchors
        )

    def __len__(self) -> int:
        return len(self.anchors)

    def verify(self, message: CoseMessage, payload: bytes, *, external_aad: bytes = b"") -> TrustAnchor:
        """The first anchor that verifies ``message``; :class:`SignatureError` if none does."""
        candidates = [a for a in self.anchors if a.fits(message)]
        if not candidates:
            kid = f" with kid {message.kid.hex()}" if message.kid is not None else ""
            raise SignatureError(f"no trust anchor fits a {message.alg.cose_name} block{kid}")
        for anchor in candidates:
            try:
                anchor.check(message, payload, external_aad)
            except SignatureError:
                continue
            return anchor
        raise SignatureError(
            f"{message.alg.cose_name} block does not verify with any of {len(candidates)} trust anchor(s)"
        )

    def verify_messages(
        self, messages: Sequence[CoseMessage], payload: bytes, *, policy: Policy = ANY_ONE,
        external_aad: bytes = b"",
    ) -> tuple[VerifiedSigner, ...]:
        """Verify every block, then apply ``policy``; returns the blocks that verified."""
        return verify_blocks(self, messages, payload, policy=policy, external_aad=external_aad)


def verify_blocks(
    verifier: Verifier, messages: Sequence[CoseMessage], payload: bytes, *, policy: Policy = ANY_ONE,
    external_aad: bytes = b"",
) -> tuple[VerifiedSigner, ...]:
    """Check each block with ``verifier`` (any :class:`Verifier`: trust anchors, an HSM, a
    remote service), then apply ``policy``. Blocks with unsupported algorithms are skipped;
    if none verifies, :class:`SignatureError` (or :class:`UnsupportedError` if every block
    used an unsupported algorithm)."""
    if not messages:
        raise SignatureError("the envelope is not signed", hint="sign it with `suit sign`")
    verified: list[VerifiedSigner] = []
    reasons: list[str] = []
    unsupported: list[UnsupportedError] = []
    for index, message in enumerate(messages):
        try:
            anchor = verifier.verify(message, payload, external_aad=external_aad)
        except UnsupportedError as exc:
            unsupported.append(exc)
            reasons.append(f"block {index}: {exc.message}")
            continue
        except SignatureError as exc:
            reasons.append(f"block {index}: {exc.message}")
            continue
        verified.append(VerifiedSigner(index, message.alg, message.kid, anchor))
    if not verified and unsupported and len(unsupported) == len(messages):
        raise unsupported[0]
    if not verified:
        raise SignatureError(f"no authentication block verifies: {'; '.join(reasons)}", reasons=reasons)
    policy.check(verified, len(messages))
    return tuple(verified)
