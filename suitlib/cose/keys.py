"""Asymmetric and symmetric keys for COSE: generation, signing primitives, PEM and C export.

P-256 keys sign ES256/ESP256 (RFC 9053 §2.1, RFC 9864 §2.1) deterministically (RFC 6979);
Ed25519 keys sign EdDSA/Ed25519 (RFC 8032, RFC 9864 §2.2). Private PEM is PKCS#8 (RFC 5958),
optionally encrypted (PBES2, PBKDF2-HMAC-SHA256 + AES-256-CBC); public PEM is SPKI (RFC 5280).
"""

from __future__ import annotations

import enum
import functools
import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from Crypto.Hash import SHA256
from Crypto.PublicKey import ECC
from Crypto.Signature import DSS, eddsa
from Crypto.Util.asn1 import DerSequence

from suitlib.cose.algorithms import Algorithm
from suitlib.errors import KeyFormatError, SignatureError

PBKDF2_ITERATIONS = 600_000
"""Iterations for encrypted PKCS#8 (OWASP 2023 guidance for PBKDF2-HMAC-SHA256)."""

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


class KeyType(enum.Enum):
    """The key types suitlib signs and verifies with."""

    P256 = "p256"
    ED25519 = "ed25519"

    @property
    def default_alg(self) -> Algorithm:
        """ES256 for P-256 and EdDSA for Ed25519: what existing SUIT processors accept most widely."""
        return Algorithm.ES256 if self is KeyType.P256 else Algorithm.EDDSA

    def supports(self, alg: Algorithm) -> bool:
        return alg.is_ecdsa if self is KeyType.P256 else alg.is_eddsa


_CURVES = {"NIST P-256": KeyType.P256, "Ed25519": KeyType.ED25519}
_PYCRYPTO_CURVE = {KeyType.P256: "P-256", KeyType.ED25519: "Ed25519"}


def _key_type_of(ecc: ECC.EccKey) -> KeyType:
    kt = _CURVES.get(ecc.curve)
    if kt is None:
        raise KeyFormatError(
            f"unsupported key type: curve {ecc.curve}",
            hint="suitlib keys are P-256 or Ed25519; make one with `suit keygen`",
        )
    return kt


def _check_alg(key_type: KeyType, alg: Algorithm) -> None:
    if alg.is_mac:
        raise KeyFormatError(f"{alg.cose_name} needs a symmetric key, not a {key_type.value} key")
    if not key_type.supports(alg):
        raise KeyFormatError(
            f"a {key_type.value} key cannot be used with {alg.cose_name}",
            hint="use ES256/ESP256 with P-256 keys and EdDSA/Ed25519 with Ed25519 keys",
        )


@dataclass(frozen=True, eq=False)
class PublicKey:
    """A P-256 or Ed25519 public key. Equal when type and point are equal."""

    key_type: KeyType
    ecc: ECC.EccKey = field(repr=False)

    @classmethod
    def from_ecc(cls, ecc: ECC.EccKey) -> PublicKey:
        key_type = _key_type_of(ecc)
        if ecc.pointQ.is_point_at_infinity():
            raise KeyFormatError("the public key is the point at infinity")
        return cls(key_type, ecc.public_key() if ecc.has_private() else ecc)

    @functools.cached_property
    def raw(self) -> bytes:
        """SEC1 uncompressed point (65 bytes, ``04 || x || y``) for P-256; 32 bytes for Ed25519.

        Computed once per key object: equality and hashing (e.g. counting distinct signers in
        a threshold policy) use it on every verification."""
        if self.key_type is KeyType.P256:
            return self.ecc.export_key(format="SEC1", compress=False)
        return self.ecc.export_key(format="raw")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and (self.key_type, self.raw) == (other.key_type, other.raw)

    def __hash__(self) -> int:
        return hash((self.key_type, self.raw))

    def fingerprint(self) -> str:
        """First 16 hex digits of SHA-256 over the SPKI DER: a short name for humans."""
        return hashlib.sha256(self.ecc.export_key(format="DER")).hexdigest()[:16]

    def to_pem(self) -> bytes:
        """SubjectPublicKeyInfo PEM (RFC 5280 §4.1.2.7, RFC 8410)."""
        return (self.ecc.export_key(format="PEM") + "\n").encode()

    @functools.cached_property
    def _verifier(self) -> Any:
        """The pycryptodome verifier for this key, built once (it holds no per-message state)."""
        if self.key_type is KeyType.P256:
            return DSS.new(self.ecc, "fips-186-3", encoding="binary")
        return eddsa.new(self.ecc, "rfc8032")

    def verify(self, alg: Algorithm, message: bytes, signature: bytes) -> None:
        """Check a raw COSE signature over ``message``; :class:`SignatureError` if it does not verify."""
        _check_alg(self.key_type, alg)
        if len(signature) != 64:
            raise SignatureError(f"{alg.cose_name} signature must be 64 bytes, got {len(signature)}")
        try:
            if alg.is_ecdsa:
                self._verifier.verify(SHA256.new(message), signature)
            else:
                self._verifier.verify(message, signature)
        except ValueError:
            raise SignatureError(f"{alg.cose_name} signature does not verify") from None

    def to_c_array(self, name: str = "suit_public_key") -> str:
        """The public key as a C array (SEC1 uncompressed point, or the raw Ed25519 key)."""
        raw = self.raw
        what = "P-256 SEC1 uncompressed point (04 || x || y)" if self.key_type is KeyType.P256 else "Ed25519 public key (RFC 8032)"
        lines = [f"/* {what}, {len(raw)} bytes; SHA-256(SPKI) {self.fingerprint()} */"]
        lines.append(f"const unsigned char {name}[{len(raw)}] = {{")
        for i in range(0, len(raw), 12):
            chunk = ", ".join(f"0x{b:02x}" for b in raw[i : i + 12])
            lines.append(f"    {chunk},")
        lines.append("};")
        lines.append(f"const unsigned int {name}_len = {len(raw)};")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True, eq=False)
class PrivateKey:
    """A P-256 or Ed25519 private key."""

    key_type: KeyType
    ecc: ECC.EccKey = field(repr=False)

    @classmethod
    def generate(cls, key_type: KeyType) -> PrivateKey:
        return cls(key_type, ECC.generate(curve=_PYCRYPTO_CURVE[key_type]))

    @classmethod
    def from_ecc(cls, ecc: ECC.EccKey) -> PrivateKey:
        if not ecc.has_private():
            raise KeyFormatError("a private key is needed here, but this is a public key")
        return cls(_key_type_of(ecc), ecc)

    def public_key(self) -> PublicKey:
        return PublicKey(self.key_type, self.ecc.public_key())

    def sign(self, alg: Algorithm, message: bytes) -> bytes:
        """A raw COSE signature (64 bytes): r || s for ECDSA (RFC 6979 nonces), R || S for EdDSA."""
        _check_alg(self.key_type, alg)
        if alg.is_ecdsa:
            return DSS.new(self.ecc, "deterministic-rfc6979", encoding="binary").sign(SHA256.new(message))
        return eddsa.new(self.ecc, "rfc8032").sign(message)

    def to_pem(self, password: bytes | None = None, *, iterations: int = PBKDF2_ITERATIONS) -> bytes:
        """PKCS#8 PEM; encrypted with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) when ``password`` is given."""
        if password is None:
            text = self.ecc.export_key(format="PEM", use_pkcs8=True) if self.key_type is KeyType.P256 else self.ecc.export_key(format="PEM")
        else:
            if not password:
                raise KeyFormatError("the password is empty", hint="set a non-empty password")
            text = self.ecc.export_key(
                format="PEM",
                use_pkcs8=True,
                passphrase=password,
                protection="PBKDF2WithHMAC-SHA256AndAES256-CBC",
                prot_params={"iteration_count": iterations},
            )
        return (text + "\n").encode()


@dataclass(frozen=True, eq=False, repr=False)
class SymmetricKey:
    """A shared secret for COSE_Mac0 (HMAC 256/256, RFC 9053 §3.1)."""

    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) < 32:
            raise KeyFormatError(f"HMAC 256/256 keys must be at least 32 bytes, got {len(self.secret)}")

    def __repr__(self) -> str:
        return f"SymmetricKey(<{len(self.secret)} bytes>)"

    def mac(self, alg: Algorithm, message: bytes) -> bytes:
        if alg is not Algorithm.HMAC_256_256:
            raise KeyFormatError(f"a symmetric key cannot be used with {alg.cose_name}")
        return hmac.new(self.secret, message, hashlib.sha256).digest()

    def verify(self, alg: Algorithm, message: bytes, tag: bytes) -> None:
        """Constant-time tag comparison; :class:`SignatureError` on mismatch."""
        expected = self.mac(alg, message)
        if not hmac.compare_digest(expected, tag):
            raise SignatureError(f"{alg.cose_name} tag does not verify")


# --- PEM import -------------------------------------------------------------------------


def _import_ecc(data: bytes, password: bytes | None, what: str) -> ECC.EccKey:
    import Crypto

    text = bytes(data)
    try:
        return ECC.import_key(text, passphrase=password)
    except getattr(Crypto, "PassphraseRequiredError", ()) as exc:  # pragma: no branch
        raise KeyFormatError(
            f"{what} is encrypted and no password was given",
            hint="pass --password-env VAR or --password-file FILE",
        ) from exc
    except getattr(Crypto, "IncorrectPassphraseError", ()) as exc:
        raise KeyFormatError(f"{what}: wrong password or corrupted encrypted key", hint="check the password") from exc
    except (ValueError, TypeError, IndexError, KeyError, UnicodeError) as exc:
        if b"ENCRYPTED" in text and password is None:
            raise KeyFormatError(
                f"{what} is encrypted and no password was given",
                hint="pass --password-env VAR or --password-file FILE",
            ) from exc
        if b"ENCRYPTED" in text:
            raise KeyFormatError(f"{what}: wrong password or corrupted encrypted key", hint="check the password") from exc
        if b"RSA" in text:
            raise KeyFormatError(f"{what} is an RSA key; suitlib signs with P-256 or Ed25519") from exc
        raise KeyFormatError(f"{what} is not a P-256 or Ed25519 key in PEM ({exc})") from exc


def load_pem(data: bytes, *, password: bytes | None = None, what: str = "key") -> PrivateKey | PublicKey:
    """Import a PKCS#8 / SEC1 private key or an SPKI public key from PEM (or DER)."""
    ecc = _import_ecc(data, password, what)
    if ecc.has_private():
        return PrivateKey.from_ecc(ecc)
    return PublicKey.from_ecc(ecc)


def load_private_pem(data: bytes, *, password: bytes | None = None, what: str = "private key") -> PrivateKey:
    key = load_pem(data, password=password, what=what)
    if not isinstance(key, PrivateKey):
        raise KeyFormatError(f"{what} is a public key; signing needs the private key")
    return key


def load_public_pem(data: bytes, *, what: str = "public key") -> PublicKey:
    """An SPKI public key; a private key is accepted and reduced to its public half."""
    key = load_pem(data, what=what)
    return key.public_key() if isinstance(key, PrivateKey) else key


# --- external signatures ------------------------------------------------------------------


def signature_to_raw(alg: Algorithm, signature: bytes) -> bytes:
    """Accept an ECDSA signature as raw r||s or DER (what HSMs and OpenSSL emit); return r||s."""
    if not alg.is_ecdsa or len(signature) == 64:
        return bytes(signature)
    try:
        seq = DerSequence()
        seq.decode(bytes(signature), strict=True)
        if len(seq) != 2 or not seq.hasOnlyInts():
            raise ValueError("not a sequence of two integers")
        r, s = int(seq[0]), int(seq[1])
    except (ValueError, TypeError, IndexError, EOFError) as exc:
        raise SignatureError(
            f"{alg.cose_name} signature is neither 64 raw bytes nor DER ({len(signature)} bytes)",
            hint="give the raw r||s signature or an ASN.1 DER ECDSA-Sig-Value",
        ) from exc
    if not (0 < r < P256_ORDER and 0 < s < P256_ORDER):
        raise SignatureError("ECDSA signature values out of range")
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")

