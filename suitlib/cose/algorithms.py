"""COSE algorithm identifiers used for SUIT authentication (RFC 9053, RFC 9864, IANA COSE registry)."""

from __future__ import annotations

import enum

from suitlib.errors import UnsupportedError


class Algorithm(enum.IntEnum):
    """The COSE ``alg`` values suitlib implements for COSE_Sign1 and COSE_Mac0."""

    ES256 = -7
    """ECDSA P-256 with SHA-256 (RFC 9053 §2.1); we sign deterministically (RFC 6979)."""
    ESP256 = -9
    """ECDSA P-256 with SHA-256, fully specified (RFC 9864 §2.1); deterministic signing (RFC 6979)."""
    EDDSA = -8
    """EdDSA (RFC 9053 §2.2); suitlib accepts only Ed25519 keys with it."""
    ED25519 = -19
    """Ed25519, fully specified (RFC 9864 §2.2)."""
    HMAC_256_256 = 5
    """HMAC with SHA-256, 256-bit tag (RFC 9053 §3.1)."""

    @property
    def is_mac(self) -> bool:
        return self is Algorithm.HMAC_256_256

    @property
    def is_ecdsa(self) -> bool:
        return self in (Algorithm.ES256, Algorithm.ESP256)

    @property
    def is_eddsa(self) -> bool:
        return self in (Algorithm.EDDSA, Algorithm.ED25519)

    @property
    def cose_name(self) -> str:
        return _NAMES[self]


_NAMES = {
    Algorithm.ES256: "ES256",
    Algorithm.ESP256: "ESP256",
    Algorithm.EDDSA: "EdDSA",
    Algorithm.ED25519: "Ed25519",
    Algorithm.HMAC_256_256: "HMAC-256/256",
}
_BY_NAME = {name.lower(): alg for alg, name in _NAMES.items()}
_BY_NAME["hmac256"] = Algorithm.HMAC_256_256
_BY_ID = {int(alg): alg for alg in Algorithm}


def algorithm_from_id(value: object) -> Algorithm:
    """The :class:`Algorithm` for a COSE ``alg`` header value, or :class:`UnsupportedError`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise UnsupportedError(
            f"COSE algorithm {value!r} is not supported",
            hint="suitlib supports ES256 (-7), ESP256 (-9), EdDSA (-8), Ed25519 (-19), HMAC 256/256 (5)",
            alg=repr(value),
        )
    alg = _BY_ID.get(value)
    if alg is None:
        raise UnsupportedError(
            f"COSE algorithm {value} is not supported",
            hint="suitlib supports ES256 (-7), ESP256 (-9), EdDSA (-8), Ed25519 (-19), HMAC 256/256 (5)",
            alg=value,
        )
    return alg


def algorithm_from_name(name: str) -> Algorithm:
    """Parse a COSE algorithm name (``ES256``, ``ESP256``, ``EdDSA``, ``Ed25519``, ``HMAC-256/256``)."""
    alg = _BY_NAME.get(name.strip().lower())
    if alg is None:
        raise UnsupportedError(
            f"unknown algorithm name {name!r}",
            hint="use one of ES256, ESP256, EdDSA, Ed25519, HMAC-256/256",
        )
    return alg
