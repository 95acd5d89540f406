"""Errors of COSE_Encrypt / SUIT_Encryption_Info handling (draft-ietf-suit-firmware-encryption).

Malformed encryption info is a :class:`~suitlib.errors.DecodeError`; an algorithm we do not
implement is an :class:`~suitlib.errors.UnsupportedError`; every cryptographic refusal (wrong key,
modified wrapped key, ciphertext or tag, wrong plaintext digest) is a
:class:`~suitlib.errors.VerificationError` under :class:`DecryptionError`.
"""

from __future__ import annotations

from suitlib.errors import DecodeError, DigestMismatchError, UnsupportedError, VerificationError


class EncryptionInfoError(DecodeError):
    """SUIT_Encryption_Info is not a well-formed detached COSE_Encrypt (RFC 9052 §5.1)."""

    default_hint = "suit-parameter-encryption-info must hold a tagged COSE_Encrypt (96) with detached ciphertext"


class UnsupportedEncryptionError(UnsupportedError):
    """A content or key-distribution algorithm (or header) that suitlib does not implement."""

    default_hint = "suitlib decrypts A128GCM / A128CTR content with A128KW, A256KW or ECDH-ES+A128KW recipients"


class DecryptionError(VerificationError):
    """The payload must not be trusted: decryption was refused."""

    default_hint = "check the device key and that the payload and encryption info belong together"


class NoRecipientError(DecryptionError):
    """No COSE_recipient matches any of the device's keys (algorithm and kid)."""


class KeyUnwrapError(DecryptionError):
    """AES key unwrap failed its integrity check (RFC 3394 §2.2.3): wrong key or modified wrapped key."""


class TagMismatchError(DecryptionError):
    """The AES-GCM authentication tag does not verify: modified ciphertext, tag or header."""


class TruncatedCiphertextError(DecryptionError):
    """The ciphertext ended before its authentication tag."""


class PlaintextDigestError(DecryptionError, DigestMismatchError):
    """The decrypted payload does not match suit-parameter-image-digest."""
