"""Producing COSE_Sign1 / COSE_Mac0 messages through a :class:`Signer` (a key here, or an HSM)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from suitlib.cose.algorithms import Algorithm
from suitlib.cose.headers import Headers
from suitlib.cose.keys import PrivateKey, SymmetricKey
from suitlib.cose.messages import Mac0, Sign1, mac_structure, sig_structure
from suitlib.errors import SignatureError


@runtime_checkable
class Signer(Protocol):
    """Anything that turns to-be-signed bytes into a raw COSE signature (or MAC tag).

    ``sign`` receives the complete ``Sig_structure`` / ``MAC_structure`` bytes (RFC 9052 §4.4,
    §6.3) and returns 64 bytes for ES256/ESP256 (r || s) and EdDSA/Ed25519, 32 for HMAC 256/256.
    """

    @property
    def alg(self) -> Algorithm: ...

    @property
    def kid(self) -> bytes | None: ...

    def sign(self, tbs: bytes) -> bytes: ...


@dataclass(frozen=True)
class KeySigner:
    """A :class:`Signer` backed by a private key held in memory (``alg`` defaults by key type)."""

    key: PrivateKey
    alg: Algorithm = None  # type: ignore[assignment]  # resolved in __post_init__
    kid: bytes | None = None

    def __post_init__(self) -> None:
        if self.alg is None:
            object.__setattr__(self, "alg", self.key.key_type.default_alg)
        # fail at construction, not at the first signature, when key and alg do not fit
        self.key.sign(self.alg, b"")

    def sign(self, tbs: bytes) -> bytes:
        return self.key.sign(self.alg, tbs)


@dataclass(frozen=True)
class MacSigner:
    """A :class:`Signer` that produces HMAC 256/256 tags for COSE_Mac0."""

    key: SymmetricKey
    kid: bytes | None = None
    alg: Algorithm = Algorithm.HMAC_256_256

    def __post_init__(self) -> None:
        self.key.mac(self.alg, b"")

    def sign(self, tbs: bytes) -> bytes:
        return self.key.mac(self.alg, tbs)


def expected_length(alg: Algorithm) -> int:
    return 32 if alg.is_mac else 64


def to_be_signed(alg: Algorithm, payload: bytes, *, kid: bytes | None = None, kid_protected: bool = False,
                 external_aad: bytes = b"") -> tuple[Headers, bytes]:
    """Headers for a new message and the exact bytes its signer must sign."""
    headers = Headers.build(alg, kid=kid, kid_protected=kid_protected)
    build = mac_structure if alg.is_mac else sig_structure
    return headers, build(headers.protected, payload, external_aad)


def assemble(headers: Headers, signature: bytes) -> Sign1 | Mac0:
    """A detached-payload message from headers and a raw signature/tag of the right length."""
    alg = headers.alg
    if len(signature) != expected_length(alg):
        raise SignatureError(
            f"{alg.cose_name} {'tag' if alg.is_mac else 'signature'} must be {expected_length(alg)} bytes, got {len(signature)}"
        )
    cls = Mac0 if alg.is_mac else Sign1
    return cls(headers=headers, payload=None, signature=bytes(signature))


def create_message(payload: bytes, signer: Signer, *, kid_protected: bool = False,
                   external_aad: bytes = b"") -> Sign1 | Mac0:
    """Sign (or MAC) a detached ``payload`` with ``signer``."""
    headers, tbs = to_be_signed(signer.alg, payload, kid=signer.kid, kid_protected=kid_protected,
                                external_aad=external_aad)
    return assemble(headers, signer.sign(tbs))
