"""ECDH-ES + AES Key Wrap key agreement on P-256 (RFC 9053 §6.4, §5.1, §5.2).

The sender makes an ephemeral key pair, agrees a shared secret ``Z`` with the recipient's static
public key, and derives the key-encryption key with HKDF-SHA-256 over the ``COSE_KDF_Context``
that draft-ietf-suit-firmware-encryption §6.2.4 fixes: AlgorithmID is the key-wrap algorithm
(A128KW -3), PartyU/PartyV identities are nil, SuppPubInfo is ``[keyDataLength, protected,
'SUIT Payload Encryption']`` where ``protected`` is the COSE_recipient's serialized protected
header.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from Crypto.Hash import SHA256
from Crypto.Protocol import DH
from Crypto.Protocol.KDF import HKDF
from Crypto.PublicKey import ECC

from suitlib.cose._wire import dumps
from suitlib.cose.encrypt_errors import EncryptionInfoError

KDF_OTHER = b"SUIT Payload Encryption"
"""SuppPubInfo.other (draft-ietf-suit-firmware-encryption §6.2.4), a byte string."""

KTY, CRV, X, Y, D = 1, -1, -2, -3, -4
KTY_EC2, CRV_P256 = 2, 1


def kdf_context(wrap_alg: int, key_bits: int, recipient_protected: bytes, *, other: bytes = KDF_OTHER) -> bytes:
    """The serialized COSE_KDF_Context (RFC 9053 §5.2) for a SUIT payload recipient."""
    return dumps([wrap_alg, [None, None, None], [None, None, None], [key_bits, bytes(recipient_protected), other]])


def shared_secret(private: ECC.EccKey, public: ECC.EccKey) -> bytes:
    """``Z``: the x-coordinate of ``d * Q`` (RFC 9053 §6.3.1), 32 bytes."""
    return DH.key_agreement(static_priv=private, static_pub=public, kdf=lambda z: z)


def derive_kek(z: bytes, context: bytes, *, length: int = 16, salt: bytes | None = None) -> bytes:
    """HKDF-SHA-256 (RFC 5869) of ``Z`` with ``info`` = the COSE_KDF_Context (RFC 9053 §5.1)."""
    return HKDF(z, length, salt or b"", SHA256, context=context)  # type: ignore[return-value]


def ephemeral_map(public: ECC.EccKey) -> dict[int, Any]:
    """The ephemeral public key as a COSE_Key map (EC2, P-256, x and y; RFC 9053 §7.1.1)."""
    point = public.pointQ
    return {KTY: KTY_EC2, CRV: CRV_P256, X: int(point.x).to_bytes(32, "big"), Y: int(point.y).to_bytes(32, "big")}


def parse_ephemeral(value: object, *, path: str) -> ECC.EccKey:
    """A received ephemeral COSE_Key: EC2 on P-256, with a point on the curve."""
    if not isinstance(value, Mapping):
        raise EncryptionInfoError("ephemeral key must be a COSE_Key map", path=path)
    if value.get(KTY) != KTY_EC2 or value.get(CRV) != CRV_P256:
        raise EncryptionInfoError("ephemeral key must be an EC2 P-256 key (kty 2, crv 1)", path=path)
    if D in value:
        raise EncryptionInfoError("ephemeral key must not carry a private part", path=path)
    x = value.get(X)
    y = value.get(Y)
    if not isinstance(x, bytes) or len(x) != 32:
        raise EncryptionInfoError("ephemeral key x must be 32 bytes", path=path)
    try:
        if isinstance(y, bool):  # compressed form: y is the sign bit (RFC 9053 §7.1.1)
            return ECC.import_key(bytes([0x03 if y else 0x02]) + x, curve_name="P-256")
        if not isinstance(y, bytes) or len(y) != 32:
            raise EncryptionInfoError("ephemeral key y must be 32 bytes or a sign bit", path=path)
        return ECC.construct(curve="P-256", point_x=int.from_bytes(x, "big"), point_y=int.from_bytes(y, "big"))
    except ValueError:
        raise EncryptionInfoError("ephemeral key is not a point on P-256", path=path) from None


def generate_ephemeral() -> ECC.EccKey:
    """A fresh P-256 key pair for one ECDH-ES recipient."""
    return ECC.generate(curve="P-256")
