"""COSE_Encrypt as SUIT_Encryption_Info (RFC 9052 §5; draft-ietf-suit-firmware-encryption §4–§7).

A payload is encrypted once with a random content-encryption key (CEK); each COSE_recipient
carries the CEK wrapped for one recipient, with AES Key Wrap under a pre-shared key (A128KW -3,
A256KW -5; §6.1) or with ECDH-ES + A128KW (-29) towards a P-256 public key (§6.2). The ciphertext
is detached: ``suit-parameter-encryption-info`` holds ``COSE_Encrypt_Tagged`` with a nil
ciphertext, and the payload travels separately.

Content algorithms (§6.3, §7.2): A128GCM (1), authenticated with the Enc_structure
``["Encrypt", protected, h'']`` as AAD and the 16-byte tag appended to the ciphertext; A128CTR
(-65534, RFC 9459), which has no integrity of its own — the manifest's
``suit-parameter-image-digest`` over the plaintext is what protects it.

Public API: :func:`encrypt_payload`, :func:`decode_encryption_info`, :func:`unwrap_cek`,
:func:`open_decryptor` (streaming), :func:`decrypt_payload`; keys :class:`KeyWrapKey`
(pre-shared KEK, both sides), :class:`EcdhRecipient` (sender: the device's public key),
:class:`EcdhKey` (device: its private key), :func:`import_kek` (a symmetric COSE_Key).
"""

from __future__ import annotations

import enum
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import cbor2
from Crypto.Cipher import AES
from Crypto.PublicKey import ECC
from Crypto.Random import get_random_bytes

from suitlib.cose import ecdh, kw
from suitlib.cose._wire import dumps, loads_strict
from suitlib.cose.encrypt_errors import (
    DecryptionError,
    EncryptionInfoError,
    KeyUnwrapError,
    NoRecipientError,
    TagMismatchError,
    TruncatedCiphertextError,
    UnsupportedEncryptionError,
)
from suitlib.cose.keys import KeyType, PrivateKey, PublicKey
from suitlib.errors import KeyFormatError, SuitError

TAG_ENCRYPT = 96
MAX_RECIPIENTS = 16
MAX_INFO_SIZE = 4096
GCM_TAG_SIZE = 16

# COSE header labels (RFC 9052 §3.1, RFC 9053 §6.4)
ALG, CRIT, KID, IV, PARTIAL_IV = 1, 2, 4, 5, 6
EPHEMERAL_KEY, SALT = -1, -20
_PARTY_LABELS = frozenset({-21, -22, -23, -24, -25, -26})


class ContentAlgorithm(enum.IntEnum):
    """Content encryption algorithms for the payload."""

    A128GCM = 1
    """AES-GCM, 128-bit key, 128-bit tag (RFC 9053 §4.1)."""
    A128CTR = -65534
    """AES-CTR, 128-bit key (RFC 9459 §4); no integrity of its own."""

    @property
    def key_size(self) -> int:
        return 16

    @property
    def is_aead(self) -> bool:
        return self is ContentAlgorithm.A128GCM

    @property
    def cose_name(self) -> str:
        return self.name


class KeyDistribution(enum.IntEnum):
    """COSE_recipient algorithms (content key distribution, draft §6)."""

    A128KW = -3
    A256KW = -5
    ECDH_ES_A128KW = -29

    @property
    def kek_size(self) -> int:
        return 32 if self is KeyDistribution.A256KW else 16

    @property
    def cose_name(self) -> str:
        return "ECDH-ES+A128KW" if self is KeyDistribution.ECDH_ES_A128KW else self.name


CONTENT_BY_NAME = {alg.cose_name.lower(): alg for alg in ContentAlgorithm}
KEY_DISTRIBUTION_BY_NAME = {alg.cose_name.lower(): alg for alg in KeyDistribution}


# --- keys -----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class KeyWrapKey:
    """A pre-shared AES key-encryption key (16 bytes: A128KW, 32 bytes: A256KW) and its kid."""

    secret: bytes
    kid: bytes | None = None

    def __post_init__(self) -> None:
        if len(self.secret) not in (16, 32):
            raise KeyFormatError(
                f"an AES-KW key-encryption key is 16 (A128KW) or 32 (A256KW) bytes, got {len(self.secret)}",
                hint="make one with: head -c 16 /dev/urandom > kek.bin",
            )

    @property
    def alg(self) -> KeyDistribution:
        return KeyDistribution.A256KW if len(self.secret) == 32 else KeyDistribution.A128KW

    def __repr__(self) -> str:
        return f"KeyWrapKey(<{len(self.secret)} bytes>, kid={self.kid!r})"


@dataclass(frozen=True)
class EcdhRecipient:
    """The sender's view of an ECDH-ES recipient: its static P-256 public key."""

    public_key: PublicKey
    kid: bytes | None = None

    def __post_init__(self) -> None:
        if self.public_key.key_type is not KeyType.P256:
            raise KeyFormatError("ECDH-ES+A128KW needs a P-256 public key")


@dataclass(frozen=True)
class EcdhKey:
    """The device's static P-256 private key for ECDH-ES+A128KW recipients."""

    private_key: PrivateKey
    kid: bytes | None = None

    def __post_init__(self) -> None:
        if self.private_key.key_type is not KeyType.P256:
            raise KeyFormatError("ECDH-ES+A128KW needs a P-256 private key")


DecryptionKey = KeyWrapKey | EcdhKey


def import_kek(data: bytes) -> KeyWrapKey:
    """A COSE_Key of kty Symmetric (4) as a :class:`KeyWrapKey` (``k`` 16 or 32 bytes, optional kid)."""
    try:
        m = loads_strict(data, path="COSE_Key")
    except SuitError as exc:
        raise KeyFormatError(f"not a key-encryption key: {exc.message}") from None
    if not isinstance(m, Mapping) or m.get(1) != 4:
        raise KeyFormatError("a COSE_Key for AES-KW must be a map with kty Symmetric (4)")
    secret, kid = m.get(-1), m.get(2)
    if not isinstance(secret, bytes):
        raise KeyFormatError("the COSE_Key has no k (-1) byte string")
    if kid is not None and not isinstance(kid, bytes):
        raise KeyFormatError("the COSE_Key kid must be a byte string")
    return KeyWrapKey(secret, kid=kid)
RecipientKey = KeyWrapKey | EcdhRecipient


# --- the model ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """One COSE_recipient (RFC 9052 §5.1). ``alg`` is None for an algorithm we do not implement."""

    alg_id: int | str
    alg: KeyDistribution | None
    protected: bytes
    kid: bytes | None
    wrapped_key: bytes
    ephemeral: ECC.EccKey | None = field(default=None, repr=False, compare=False)
    salt: bytes | None = None


@dataclass(frozen=True)
class EncryptionInfo:
    """A decoded SUIT_Encryption_Info; ``encoded`` is the exact COSE_Encrypt_Tagged bytes."""

    alg: ContentAlgorithm
    protected: bytes
    iv: bytes
    recipients: tuple[Recipient, ...]
    encoded: bytes = field(repr=False)

    def enc_structure(self, external_aad: bytes = b"") -> bytes:
        """The AAD of an AEAD content algorithm (RFC 9052 §5.3; draft §6.3: external_aad is h'')."""
        return dumps(["Encrypt", self.protected, external_aad])

    @property
    def overhead(self) -> int:
        """Bytes the ciphertext has beyond the plaintext (the GCM tag)."""
        return GCM_TAG_SIZE if self.alg.is_aead else 0


# --- decoding -------------------------------------------------------------------------------


def _bucket_map(protected: object, path: str) -> dict[Any, Any]:
    if not isinstance(protected, bytes):
        raise EncryptionInfoError("protected header must be a byte string", path=path)
    if not protected:
        return {}
    try:
        value = loads_strict(protected, path=path)
    except SuitError as exc:
        raise EncryptionInfoError(exc.message) from None
    if not isinstance(value, Mapping):
        raise EncryptionInfoError("protected header must encode a map", path=path)
    return dict(value)


def _headers(protected: object, unprotected: object, path: str) -> tuple[dict[Any, Any], dict[Any, Any]]:
    prot = _bucket_map(protected, f"{path}/protected")
    if not isinstance(unprotected, Mapping):
        raise EncryptionInfoError("unprotected header must be a map", path=f"{path}/unprotected")
    unprot = dict(unprotected)
    for bucket in (prot, unprot):
        for label in bucket:
            if isinstance(label, bool) or not isinstance(label, (int, str)):
                raise EncryptionInfoError(f"header label {label!r} is not an int or text", path=path)
    both = set(prot) & set(unprot)
    if both:
        raise EncryptionInfoError(f"header labels {sorted(map(str, both))} appear in both buckets", path=path)
    if CRIT in prot or CRIT in unprot:
        raise UnsupportedEncryptionError("critical header parameters (crit) are not supported", path=path)
    return prot, unprot


def _get(prot: Mapping[Any, Any], unprot: Mapping[Any, Any], label: int) -> Any:
    return prot[label] if label in prot else unprot.get(label)


def _opt_bytes(value: Any, what: str, path: str) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, bytes):
        raise EncryptionInfoError(f"{what} must be a byte string", path=path)
    return value


def _alg_id(value: Any, path: str) -> int | str:
    if value is None:
        raise EncryptionInfoError("no alg header", path=path)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise EncryptionInfoError("alg must be an int or text", path=path)
    return value


def _recipient(item: Any, path: str) -> Recipient:
    if not isinstance(item, Sequence) or isinstance(item, (bytes, str)):
        raise EncryptionInfoError("COSE_recipient must be an array", path=path)
    if len(item) == 4:
        raise UnsupportedEncryptionError("nested COSE_recipient layers are not supported", path=path)
    if len(item) != 3:
        raise EncryptionInfoError("COSE_recipient must have 3 items", path=path)
    protected, unprotected, wrapped = item
    prot, unprot = _headers(protected, unprotected, path)
    alg_id = _alg_id(_get(prot, unprot, ALG), path)
    if not isinstance(wrapped, bytes):
        raise EncryptionInfoError("COSE_recipient ciphertext (the wrapped CEK) must be a byte string", path=path)
    kid = _opt_bytes(_get(prot, unprot, KID), "kid", path)
    alg = KeyDistribution(alg_id) if alg_id in KeyDistribution._value2member_map_ else None
    ephemeral = None
    salt = None
    if alg is KeyDistribution.ECDH_ES_A128KW:
        if _PARTY_LABELS & (set(prot) | set(unprot)):
            raise UnsupportedEncryptionError("PartyU/PartyV header parameters are not supported", path=path)
        if EPHEMERAL_KEY not in prot and EPHEMERAL_KEY not in unprot:
            raise EncryptionInfoError("ECDH-ES recipient has no ephemeral key (-1)", path=path)
        ephemeral = ecdh.parse_ephemeral(_get(prot, unprot, EPHEMERAL_KEY), path=f"{path}/ephemeral")
        salt = _opt_bytes(_get(prot, unprot, SALT), "salt", path)
    elif alg is not None and prot:
        # RFC 9053 §6.2.1: AES Key Wrap has no protected header parameters
        raise EncryptionInfoError("an AES-KW recipient must have an empty protected header", path=path)
    return Recipient(
        alg_id=alg_id, alg=alg, protected=bytes(protected), kid=kid, wrapped_key=wrapped,
        ephemeral=ephemeral, salt=salt,
    )


def decode_encryption_info(data: bytes, *, max_recipients: int = MAX_RECIPIENTS) -> EncryptionInfo:
    """Decode ``suit-parameter-encryption-info`` (the bstr content): COSE_Encrypt_Tagged, detached.

    Raises :class:`EncryptionInfoError` (a :class:`~suitlib.errors.DecodeError`) for malformed
    input and :class:`UnsupportedEncryptionError` for a content algorithm we do not implement.
    """
    path = "encryption-info"
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise EncryptionInfoError(f"expected a byte string, got {type(data).__name__}", path=path)
    data = bytes(data)
    try:
        item = loads_strict(data, path=path, max_size=MAX_INFO_SIZE)
    except EncryptionInfoError:
        raise
    except SuitError as exc:
        raise EncryptionInfoError(exc.message) from None
    if not isinstance(item, cbor2.CBORTag) or item.tag != TAG_ENCRYPT:
        raise EncryptionInfoError("not a COSE_Encrypt_Tagged (tag 96)", path=path)
    body = item.value
    if not isinstance(body, Sequence) or isinstance(body, (bytes, str)) or len(body) != 4:
        raise EncryptionInfoError("COSE_Encrypt must be an array of 4 items", path=path)
    protected, unprotected, ciphertext, recipients = body
    prot, unprot = _headers(protected, unprotected, path)
    alg_id = _alg_id(_get(prot, unprot, ALG), path)
    if alg_id not in ContentAlgorithm._value2member_map_:
        raise UnsupportedEncryptionError(f"content encryption algorithm {alg_id!r} is not supported", alg=repr(alg_id))
    alg = ContentAlgorithm(alg_id)
    if PARTIAL_IV in prot or PARTIAL_IV in unprot:
        raise UnsupportedEncryptionError("Partial IV is not supported; give the full IV (5)", path=path)
    iv = _get(prot, unprot, IV)
    if not isinstance(iv, bytes):
        raise EncryptionInfoError("no IV (5) byte string", path=path)
    if alg is ContentAlgorithm.A128CTR and len(iv) != 16:
        raise EncryptionInfoError(f"A128CTR needs a 16-byte IV, got {len(iv)}", path=path)
    if alg is ContentAlgorithm.A128GCM and not 12 <= len(iv) <= 16:
        raise EncryptionInfoError(f"A128GCM needs a 12 to 16 byte IV, got {len(iv)}", path=path)
    if ciphertext is not None:
        raise EncryptionInfoError("the ciphertext must be detached (nil) in SUIT_Encryption_Info", path=path)
    if not isinstance(recipients, Sequence) or isinstance(recipients, (bytes, str)) or not recipients:
        raise EncryptionInfoError("recipients must be a non-empty array", path=path)
    if len(recipients) > max_recipients:
        raise EncryptionInfoError(f"{len(recipients)} recipients exceed the limit of {max_recipients}", path=path)
    parsed = tuple(_recipient(r, f"{path}/recipients[{i}]") for i, r in enumerate(recipients))
    return EncryptionInfo(alg=alg, protected=bytes(protected), iv=iv, recipients=parsed, encoded=data)


# --- key distribution -----------------------------------------------------------------------


def _kek_for(recipient: Recipient, key: DecryptionKey) -> bytes | None:
    """The KEK ``key`` yields for ``recipient``, or None when they do not fit together."""
    if recipient.alg is None:
        return None
    if recipient.kid is not None and key.kid is not None and not hmac.compare_digest(recipient.kid, key.kid):
        return None
    if recipient.alg is KeyDistribution.ECDH_ES_A128KW:
        if not isinstance(key, EcdhKey) or recipient.ephemeral is None:
            return None
        z = ecdh.shared_secret(key.private_key.ecc, recipient.ephemeral)
        context = ecdh.kdf_context(int(KeyDistribution.A128KW), 128, recipient.protected)
        return ecdh.derive_kek(z, context, length=16, salt=recipient.salt)
    if isinstance(key, KeyWrapKey) and key.alg is recipient.alg:
        return key.secret
    return None


def unwrap_cek(info: EncryptionInfo, keys: Sequence[DecryptionKey]) -> bytes:
    """Find a recipient for one of ``keys`` and unwrap the CEK (draft §6.1, §6.2).

    :class:`NoRecipientError` when no recipient fits any key (algorithm, kid);
    :class:`KeyUnwrapError` when every fitting pair fails the key-wrap integrity check.
    """
    tried = 0
    for recipient in info.recipients:
        for key in keys:
            try:
                kek = _kek_for(recipient, key)
            except ValueError:  # degenerate ECDH input
                kek = None
            if kek is None:
                continue
            tried += 1
            try:
                cek = kw.unwrap(kek, recipient.wrapped_key)
            except KeyUnwrapError:
                continue
            if len(cek) != info.alg.key_size:
                raise DecryptionError(
                    f"unwrapped key is {len(cek)} bytes, {info.alg.cose_name} needs {info.alg.key_size}"
                )
            return cek
    if not tried:
        algs = sorted({str(r.alg_id) for r in info.recipients})
        raise NoRecipientError(
            f"no recipient of the encryption info fits the device keys (recipient algorithms {algs})",
            hint="the payload was encrypted for another key or key id",
        )
    raise KeyUnwrapError(
        "no device key unwraps the content-encryption key (wrong key or modified encryption info)",
        hint="check that the payload was encrypted for this device's key",
    )


# --- content --------------------------------------------------------------------------------


class PayloadDecryptor:
    """Streaming decryption of a detached payload: ``update(chunk)`` then ``finalize()``.

    For A128GCM the last 16 bytes of the stream are the tag, so ``update`` holds back 16 bytes;
    the plaintext it returns is **unauthenticated** until ``finalize`` returns (it raises
    :class:`TagMismatchError` otherwise). A128CTR plaintext is never authenticated here.
    """

    def __init__(self, info: EncryptionInfo, cek: bytes) -> None:
        self.alg = info.alg
        self._tail = b""
        self._done = False
        if info.alg is ContentAlgorithm.A128GCM:
            self._cipher: Any = AES.new(cek, AES.MODE_GCM, nonce=info.iv, mac_len=GCM_TAG_SIZE)
            self._cipher.update(info.enc_structure())
        else:
            self._cipher = AES.new(cek, AES.MODE_CTR, initial_value=info.iv, nonce=b"")
        self._aead = info.alg.is_aead

    @property
    def holdback(self) -> int:
        """Bytes of ciphertext :meth:`update` keeps back at the end of the stream (the GCM tag)."""
        return GCM_TAG_SIZE if self._aead else 0

    def update(self, chunk: bytes) -> bytes:
        """Decrypt the next ciphertext chunk; returns the plaintext available so far."""
        if self._done:
            raise DecryptionError("decryption already finished")
        if not self._aead:
            return self._decrypt(chunk)
        buf = self._tail + chunk if self._tail else bytes(chunk)
        if len(buf) <= GCM_TAG_SIZE:
            self._tail = buf
            return b""
        self._tail = buf[-GCM_TAG_SIZE:]
        return self._decrypt(buf[:-GCM_TAG_SIZE])  # a bytes slice: faster in pycryptodome than a view

    def _decrypt(self, data: bytes) -> bytes:
        return self._cipher.decrypt(data)  # type: ignore[no-any-return]

    def finalize(self) -> bytes:
        """End of the ciphertext: verify the GCM tag (constant time). Returns no further plaintext."""
        if self._done:
            raise DecryptionError("decryption already finished")
        self._done = True
        if self._aead:
            if len(self._tail) != GCM_TAG_SIZE:
                raise TruncatedCiphertextError("the ciphertext is shorter than the A128GCM tag")
            try:
                self._cipher.verify(self._tail)
            except ValueError:
                raise TagMismatchError(
                    "A128GCM tag does not verify: the ciphertext, tag or encryption info was modified"
                ) from None
        return b""


def open_decryptor(info: EncryptionInfo, cek: bytes) -> PayloadDecryptor:
    """A :class:`PayloadDecryptor` for ``info`` under the content-encryption key ``cek``."""
    if len(cek) != info.alg.key_size:
        raise DecryptionError(f"{info.alg.cose_name} needs a {info.alg.key_size}-byte key")
    return PayloadDecryptor(info, cek)


def decrypt_payload(ciphertext: bytes, info: bytes | EncryptionInfo, keys: Sequence[DecryptionKey]) -> bytes:
    """Decrypt a whole detached payload (host side, tests). A128CTR output is not authenticated."""
    parsed = info if isinstance(info, EncryptionInfo) else decode_encryption_info(info)
    decryptor = open_decryptor(parsed, unwrap_cek(parsed, keys))
    plaintext = decryptor.update(ciphertext)
    decryptor.finalize()
    return plaintext


# --- encryption (the sender) ----------------------------------------------------------------


@dataclass(frozen=True)
class EncryptedPayload:
    """The detached ciphertext and the SUIT_Encryption_Info bytes that decrypt it."""

    ciphertext: bytes
    info: bytes


def _recipient_item(key: RecipientKey, cek: bytes) -> list[Any]:
    if isinstance(key, KeyWrapKey):
        unprot: dict[int, Any] = {ALG: int(key.alg)}
        if key.kid is not None:
            unprot[KID] = bytes(key.kid)
        return [b"", unprot, kw.wrap(key.secret, cek)]
    protected = dumps({ALG: int(KeyDistribution.ECDH_ES_A128KW)})
    ephemeral = ecdh.generate_ephemeral()
    z = ecdh.shared_secret(ephemeral, key.public_key.ecc)
    kek = ecdh.derive_kek(z, ecdh.kdf_context(int(KeyDistribution.A128KW), 128, protected), length=16)
    unprot = {EPHEMERAL_KEY: ecdh.ephemeral_map(ephemeral.public_key())}
    if key.kid is not None:
        unprot[KID] = bytes(key.kid)
    return [protected, unprot, kw.wrap(kek, cek)]


def encrypt_payload(
    plaintext: bytes,
    recipients: Sequence[RecipientKey],
    *,
    content_alg: ContentAlgorithm = ContentAlgorithm.A128GCM,
    random: Callable[[int], bytes] = get_random_bytes,
) -> EncryptedPayload:
    """Encrypt ``plaintext`` under a fresh CEK wrapped for every recipient (draft §6.1.2, §6.2.2).

    A128GCM: protected ``{1: 1}``, a 12-byte random IV. A128CTR: empty protected header and the
    alg unprotected (draft §6.3: no Enc_structure for non-AEAD ciphers), a 16-byte IV whose low
    64 bits start at zero, so the counter block's low half never carries into the random half.
    """
    if not recipients:
        raise KeyFormatError("encrypting needs at least one recipient key")
    cek = random(content_alg.key_size)
    items = [_recipient_item(key, cek) for key in recipients]
    if content_alg is ContentAlgorithm.A128GCM:
        iv = random(12)
        protected = dumps({ALG: int(content_alg)})
        unprot: dict[int, Any] = {IV: iv}
        cipher = AES.new(cek, AES.MODE_GCM, nonce=iv, mac_len=GCM_TAG_SIZE)
        cipher.update(dumps(["Encrypt", protected, b""]))
        body, tag = cipher.encrypt_and_digest(bytes(plaintext))
        ciphertext = body + tag
    else:
        iv = random(8) + bytes(8)
        protected = b""
        unprot = {ALG: int(content_alg), IV: iv}
        ciphertext = AES.new(cek, AES.MODE_CTR, initial_value=iv, nonce=b"").encrypt(bytes(plaintext))
    info = dumps(cbor2.CBORTag(TAG_ENCRYPT, [protected, unprot, None, items]))
    return EncryptedPayload(ciphertext=ciphertext, info=info)
