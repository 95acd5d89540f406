"""Delegation CWTs (RFC 8392) with a proof-of-possession key (RFC 8747 ``cnf``) and a scope.

A delegation token is a COSE_Sign1 (tag 18, optionally inside the CWT tag 61) with an attached
payload, the claims map::

    {
      ? 1 (iss): tstr,          issuer name (informational)
      ? 2 (sub): tstr,          delegate name (informational)
        4 (exp): int,           required: delegations always expire
      ? 5 (nbf): int,
      ? 6 (iat): int,
        8 (cnf): {1: COSE_Key}, the delegated public key (RFC 8747 §3.1)
        -65537 (suit-scope): {? 1: [+ component-id], ? 2: [+ class-id]}   private use, required
    }

The issuer signs the token with its own key (a trust anchor for the first link of a chain, the
previous link's ``cnf`` key after that). See specs/TRUST-MODEL.md "Delegation".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from suitlib.cbor import decode, encode
from suitlib.cose import PublicKey, Sign1, Signer, TrustAnchor, decode_message, export_cose_key
from suitlib.cose.signer import to_be_signed
from suitlib.errors import DecodeError, KeyFormatError, SuitError
from suitlib.limits import DEFAULT_LIMITS, Limits
from suitlib.trust.errors import DelegationError
from suitlib.trust.policy import public_key_from_cose
from suitlib.trust.scope import Scope

CWT_TAG = 61
CLAIM_ISS, CLAIM_SUB, CLAIM_EXP, CLAIM_NBF, CLAIM_IAT, CLAIM_CNF = 1, 2, 4, 5, 6, 8
CNF_COSE_KEY = 1
CLAIM_SUIT_SCOPE = -65537
"""Private-use CWT claim key (RFC 8392 §9.1: integers below -65536) for the delegated scope."""

KNOWN_CLAIMS = frozenset({CLAIM_ISS, CLAIM_SUB, CLAIM_EXP, CLAIM_NBF, CLAIM_IAT, CLAIM_CNF, CLAIM_SUIT_SCOPE})
MAX_TOKEN_SIZE = 2048


@dataclass(frozen=True)
class Delegation:
    """The claims of one delegation token, decoded (its signature is checked separately)."""

    key: PublicKey
    kid: bytes | None
    scope: Scope
    exp: int
    nbf: int | None = None
    issuer: str | None = None
    subject: str | None = None

    def check_time(self, now: int | None, *, path: str) -> None:
        """``nbf <= now < exp`` (RFC 8392 §3.1.4-§3.1.5); no clock means no delegation."""
        if now is None:
            raise DelegationError("the device has no trusted clock to check the delegation's expiry", path=path)
        if now >= self.exp:
            raise DelegationError(f"delegation expired at {self.exp} (device time {now})", path=path,
                                  exp=self.exp, now=now)
        if self.nbf is not None and now < self.nbf:
            raise DelegationError(f"delegation not valid before {self.nbf} (device time {now})", path=path,
                                  nbf=self.nbf, now=now)

    @property
    def trust_anchor(self) -> TrustAnchor:
        return TrustAnchor(self.key, kid=self.kid, name=self.subject or f"delegate:{self.key.fingerprint()}")


def issue(issuer: Signer, delegate: PublicKey, scope: Scope, *, exp: int, nbf: int | None = None,
          delegate_kid: bytes | None = None, iss: str | None = None, sub: str | None = None) -> bytes:
    """Sign a delegation token granting ``delegate`` the rights of ``scope`` until ``exp``."""
    if scope.unrestricted:
        raise KeyFormatError("a delegation must state its scope (components and/or classes)")
    cose_key = decode(export_cose_key(delegate, kid=delegate_kid))
    claims: dict[int, Any] = {CLAIM_EXP: exp, CLAIM_CNF: {CNF_COSE_KEY: cose_key}, CLAIM_SUIT_SCOPE: scope.to_cbor()}
    if nbf is not None:
        claims[CLAIM_NBF] = nbf
    if iss is not None:
        claims[CLAIM_ISS] = iss
    if sub is not None:
        claims[CLAIM_SUB] = sub
    payload = encode(claims)
    headers, tbs = to_be_signed(issuer.alg, payload, kid=issuer.kid)
    return Sign1(headers=headers, payload=payload, signature=issuer.sign(tbs)).encode()


def decode_token(data: bytes, *, path: str, limits: Limits = DEFAULT_LIMITS) -> tuple[Sign1, Delegation]:
    """The token's COSE_Sign1 and its decoded claims; only :class:`SuitError` escapes."""
    if not isinstance(data, bytes):
        raise DecodeError("a delegation token is a bstr-wrapped CWT", path=path)
    if len(data) > MAX_TOKEN_SIZE:
        raise DecodeError(f"delegation token of {len(data)} bytes exceeds {MAX_TOKEN_SIZE}", path=path)
    body = data
    if body[:2] == b"\xd8\x3d":  # CWT tag 61 (RFC 8392 §6) around the COSE_Sign1
        body = body[2:]
    message = decode_message(body, path=path, require_detached=False)
    if not isinstance(message, Sign1) or message.payload is None:
        raise DecodeError("a delegation token is a COSE_Sign1 with an attached claims payload", path=path)
    claims = decode(message.payload, limits=limits, path=f"{path}/claims")
    return message, _claims(claims, path=f"{path}/claims")


def _int_claim(claims: Mapping[Any, Any], key: int, path: str, *, required: bool) -> int | None:
    value = claims.get(key)
    if value is None:
        if required:
            raise DecodeError(f"claim {key} is required", path=path)
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise DecodeError(f"claim {key} must be an integer NumericDate", path=f"{path}/{key}")
    return value


def _claims(claims: Any, *, path: str) -> Delegation:
    if not isinstance(claims, Mapping):
        raise DecodeError("CWT claims must be a map", path=path)
    unknown = [k for k in claims if k not in KNOWN_CLAIMS]
    if unknown:
        raise DecodeError(f"unknown claim(s) {unknown!r} in a delegation token", path=path)
    exp = _int_claim(claims, CLAIM_EXP, path, required=True)
    nbf = _int_claim(claims, CLAIM_NBF, path, required=False)
    _int_claim(claims, CLAIM_IAT, path, required=False)
    names = {}
    for key in (CLAIM_ISS, CLAIM_SUB):
        value = claims.get(key)
        if value is not None and not isinstance(value, str):
            raise DecodeError(f"claim {key} must be a text string", path=f"{path}/{key}")
        names[key] = value
    cnf = claims.get(CLAIM_CNF)
    if not isinstance(cnf, Mapping) or set(cnf) != {CNF_COSE_KEY} or not isinstance(cnf[CNF_COSE_KEY], Mapping):
        raise DecodeError("cnf must be {1: COSE_Key} (RFC 8747 §3.1)", path=f"{path}/8")
    cose_key = cnf[CNF_COSE_KEY]
    try:
        raw_key = encode(_plain(cose_key))
    except SuitError as exc:
        raise DecodeError(f"cnf COSE_Key cannot be re-encoded ({exc.message})", path=f"{path}/8") from None
    key = public_key_from_cose(raw_key, what="delegated key")
    kid = cose_key.get(2)
    if kid is not None and not isinstance(kid, bytes):
        raise DecodeError("cnf COSE_Key kid must be a byte string", path=f"{path}/8")
    if CLAIM_SUIT_SCOPE not in claims:
        raise DecodeError("a delegation token must carry the suit-scope claim (-65537)", path=path)
    scope = Scope.from_cbor(claims[CLAIM_SUIT_SCOPE], path=f"{path}/-65537")
    if scope.unrestricted:
        raise DecodeError("the suit-scope claim must restrict components or classes", path=f"{path}/-65537")
    assert exp is not None
    return Delegation(key, kid, scope, exp, nbf, names[CLAIM_ISS], names[CLAIM_SUB])


def _plain(value: Any) -> Any:
    """Decoded CBOR (frozen maps, tuples) back to plain containers for re-encoding."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


__all__ = ["CLAIM_SUIT_SCOPE", "Delegation", "decode_token", "issue"]
