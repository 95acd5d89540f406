"""COSE_Key import and export (RFC 9052 §7; EC2 and OKP parameters RFC 9053 §7.1, §7.2; Symmetric §6.1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa

from suitlib.cose._wire import dumps, loads_strict
from suitlib.cose.algorithms import Algorithm, algorithm_from_id
from suitlib.cose.keys import KeyType, PrivateKey, PublicKey, SymmetricKey
from suitlib.errors import DecodeError, KeyFormatError, SuitError

KTY, KID, ALG = 1, 2, 3
CRV, X, Y, D = -1, -2, -3, -4
K = -1
KTY_OKP, KTY_EC2, KTY_SYMMETRIC = 1, 2, 4
CRV_P256, CRV_ED25519 = 1, 6

AnyKey = PrivateKey | PublicKey | SymmetricKey


def _int_bytes(value: int) -> bytes:
    return value.to_bytes(32, "big")


def export_cose_key(
    key: AnyKey, *, kid: bytes | None = None, alg: Algorithm | None = None, include_private: bool = True
) -> bytes:
    """Encode ``key`` as a deterministic COSE_Key map (the private part only if asked and present)."""
    out: dict[int, Any] = {}
    if isinstance(key, SymmetricKey):
        out = {KTY: KTY_SYMMETRIC, K: key.secret}
    else:
        pub = key.public_key() if isinstance(key, PrivateKey) else key
        if pub.key_type is KeyType.P256:
            point = pub.ecc.pointQ
            out = {KTY: KTY_EC2, CRV: CRV_P256, X: _int_bytes(int(point.x)), Y: _int_bytes(int(point.y))}
            if include_private and isinstance(key, PrivateKey):
                out[D] = _int_bytes(int(key.ecc.d))
        else:
            out = {KTY: KTY_OKP, CRV: CRV_ED25519, X: pub.raw}
            if include_private and isinstance(key, PrivateKey):
                out[D] = key.ecc.seed
    if kid is not None:
        out[KID] = bytes(kid)
    if alg is not None:
        out[ALG] = int(alg)
    return dumps(out)


def _field(m: Mapping[Any, Any], label: int, name: str, *, size: int | None = None, required: bool = True) -> bytes | None:
    value = m.get(label)
    if value is None:
        if required:
            raise KeyFormatError(f"COSE_Key has no {name} ({label})")
        return None
    if not isinstance(value, bytes):
        raise KeyFormatError(f"COSE_Key {name} must be a byte string")
    if size is not None and len(value) != size:
        raise KeyFormatError(f"COSE_Key {name} must be {size} bytes, got {len(value)}")
    return value


def import_cose_key(data: bytes) -> tuple[AnyKey, bytes | None, Algorithm | None]:
    """Decode a COSE_Key into ``(key, kid, alg)``; a wrong type or shape raises :class:`KeyFormatError`."""
    try:
        m = loads_strict(data, path="COSE_Key")
    except DecodeError as exc:
        raise KeyFormatError(f"not a COSE_Key: {exc.message}") from None
    if not isinstance(m, Mapping):
        raise KeyFormatError("a COSE_Key must be a CBOR map")
    kid = m.get(KID)
    if kid is not None and not isinstance(kid, bytes):
        raise KeyFormatError("COSE_Key kid must be a byte string")
    alg: Algorithm | None = None
    if ALG in m:
        try:
            alg = algorithm_from_id(m[ALG])
        except SuitError as exc:
            raise KeyFormatError(f"COSE_Key alg: {exc.message}") from None
    kty = m.get(KTY)
    key: AnyKey
    try:
        if kty == KTY_SYMMETRIC:
            secret = _field(m, K, "k")
            assert secret is not None
            key = SymmetricKey(secret)
        elif kty == KTY_EC2:
            if m.get(CRV) != CRV_P256:
                raise KeyFormatError(f"COSE_Key EC2 curve {m.get(CRV)!r} is not P-256 (1)")
            x = _field(m, X, "x", size=32)
            assert x is not None
            yv = m.get(Y)
            if isinstance(yv, bool):  # compressed point: y is the sign bit (RFC 9053 §7.1.1)
                point = ECC.import_key(bytes([0x03 if yv else 0x02]) + x, curve_name="P-256")
            else:
                y = _field(m, Y, "y", size=32)
                assert y is not None
                point = ECC.import_key(b"\x04" + x + y, curve_name="P-256")
            d = _field(m, D, "d", size=32, required=False)
            if d is None:
                key = PublicKey.from_ecc(point)
            else:
                priv = ECC.construct(curve="P-256", d=int.from_bytes(d, "big"))
                if priv.public_key() != point:
                    raise KeyFormatError("COSE_Key d does not match x/y")
                key = PrivateKey.from_ecc(priv)
        elif kty == KTY_OKP:
            if m.get(CRV) != CRV_ED25519:
                raise KeyFormatError(f"COSE_Key OKP curve {m.get(CRV)!r} is not Ed25519 (6)")
            x = _field(m, X, "x", size=32)
            assert x is not None
            point = eddsa.import_public_key(x)
            d = _field(m, D, "d", size=32, required=False)
            if d is None:
                key = PublicKey.from_ecc(point)
            else:
                priv = ECC.construct(curve="Ed25519", seed=d)
                if priv.public_key() != point:
                    raise KeyFormatError("COSE_Key d does not match x")
                key = PrivateKey.from_ecc(priv)
        else:
            raise KeyFormatError(f"COSE_Key kty {kty!r} is not supported (EC2 2, OKP 1, Symmetric 4)")
    except (ValueError, TypeError) as exc:
        raise KeyFormatError(f"invalid COSE_Key: {exc}") from None
    if alg is not None and isinstance(key, (PublicKey, PrivateKey)) and not key.key_type.supports(alg):
        raise KeyFormatError(f"COSE_Key alg {alg.cose_name} does not fit a {key.key_type.value} key")
    return key, kid, alg
