"""AES Key Wrap (RFC 3394) as COSE A128KW (-3) and A256KW (-5) (RFC 9053 §6.2.1).

pycryptodome's ``MODE_KW`` implements RFC 3394 with the default IV ``A6A6A6A6A6A6A6A6``; a
failed integrity check on unwrap is a :class:`KeyUnwrapError`, never a ``ValueError``.
"""

from __future__ import annotations

from Crypto.Cipher import AES

from suitlib.cose.encrypt_errors import KeyUnwrapError
from suitlib.errors import KeyFormatError

KEK_SIZES = (16, 24, 32)


def _check_kek(kek: bytes) -> None:
    if len(kek) not in KEK_SIZES:
        raise KeyFormatError(f"an AES key-encryption key is 16, 24 or 32 bytes, got {len(kek)}")


def wrap(kek: bytes, key: bytes) -> bytes:
    """Wrap ``key`` (a multiple of 8 bytes, at least 16) under ``kek`` (RFC 3394 §2.2.1)."""
    _check_kek(kek)
    if len(key) < 16 or len(key) % 8:
        raise KeyFormatError(f"AES key wrap needs a key of 16+ bytes in 8-byte steps, got {len(key)}")
    return AES.new(bytes(kek), AES.MODE_KW).seal(bytes(key))


def unwrap(kek: bytes, wrapped: bytes) -> bytes:
    """Unwrap and check the integrity value (RFC 3394 §2.2.2, §2.2.3)."""
    _check_kek(kek)
    if len(wrapped) < 24 or len(wrapped) % 8:
        raise KeyUnwrapError(f"a wrapped key is 24+ bytes in 8-byte steps, got {len(wrapped)}")
    try:
        return AES.new(bytes(kek), AES.MODE_KW).unseal(bytes(wrapped))
    except ValueError:
        raise KeyUnwrapError("AES key unwrap failed its integrity check (wrong key or modified wrapped key)") from None
