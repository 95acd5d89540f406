"""COSE_Sign1 (RFC 9052 §4.2) and COSE_Mac0 (RFC 9052 §6.2) with detached payloads.

The signed bytes are ``Sig_structure = ["Signature1", protected, external_aad, payload]``
(§4.4); the MACed bytes are ``MAC_structure = ["MAC0", protected, external_aad, payload]`` (§6.3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import cbor2

from suitlib.cose._wire import dumps, loads_strict
from suitlib.cose.algorithms import Algorithm
from suitlib.cose.headers import Headers
from suitlib.errors import DecodeError, UnsupportedError

TAG_SIGN1 = 18
TAG_MAC0 = 17
TAG_SIGN = 98
TAG_MAC = 97


def sig_structure(protected: bytes, payload: bytes, external_aad: bytes = b"") -> bytes:
    """The bytes a COSE_Sign1 signs (RFC 9052 §4.4)."""
    return dumps(["Signature1", protected, external_aad, payload])


def mac_structure(protected: bytes, payload: bytes, external_aad: bytes = b"") -> bytes:
    """The bytes a COSE_Mac0 authenticates (RFC 9052 §6.3)."""
    return dumps(["MAC0", protected, external_aad, payload])


@dataclass(frozen=True)
class CoseMessage:
    """Common shape of COSE_Sign1 and COSE_Mac0: headers, payload (``None`` when detached), tag bytes."""

    headers: Headers
    payload: bytes | None
    signature: bytes
    TAG: ClassVar[int] = 0
    CONTEXT: ClassVar[str] = ""

    @property
    def alg(self) -> Algorithm:
        return self.headers.alg

    @property
    def kid(self) -> bytes | None:
        return self.headers.kid

    def to_be_signed(self, payload: bytes, external_aad: bytes = b"") -> bytes:
        """The structure covered by the signature or MAC, for a detached ``payload``."""
        return dumps([self.CONTEXT, self.headers.protected, external_aad, payload])

    def encode(self) -> bytes:
        """The tagged message, deterministically encoded."""
        body = [self.headers.protected, self.headers.unprotected_map(), self.payload, self.signature]
        return dumps(cbor2.CBORTag(self.TAG, body))


@dataclass(frozen=True)
class Sign1(CoseMessage):
    """COSE_Sign1_Tagged (tag 18)."""

    TAG: ClassVar[int] = TAG_SIGN1
    CONTEXT: ClassVar[str] = "Signature1"


@dataclass(frozen=True)
class Mac0(CoseMessage):
    """COSE_Mac0_Tagged (tag 17); ``signature`` holds the MAC tag."""

    TAG: ClassVar[int] = TAG_MAC0
    CONTEXT: ClassVar[str] = "MAC0"


def decode_message(data: bytes, *, path: str = "cose", require_detached: bool = True) -> Sign1 | Mac0:
    """Decode a tagged COSE_Sign1 or COSE_Mac0; anything else raises a typed error."""
    item = loads_strict(data, path=path)
    if not isinstance(item, cbor2.CBORTag):
        raise DecodeError("COSE message must be tagged (COSE_Sign1 18 or COSE_Mac0 17)", path=path)
    if item.tag in (TAG_SIGN, TAG_MAC):
        raise UnsupportedError(
            f"COSE_{'Sign' if item.tag == TAG_SIGN else 'Mac'} (tag {item.tag}) is not supported",
            hint="use one COSE_Sign1 or COSE_Mac0 per signer",
        )
    cls: type[Sign1] | type[Mac0]
    if item.tag == TAG_SIGN1:
        cls = Sign1
    elif item.tag == TAG_MAC0:
        cls = Mac0
    else:
        raise DecodeError(f"tag {item.tag} is not a COSE_Sign1 (18) or COSE_Mac0 (17)", path=path)
    body: Any = item.value
    if not isinstance(body, Sequence) or isinstance(body, (bytes, str)) or len(body) != 4:
        raise DecodeError("COSE message must be an array of 4 items", path=path)
    protected, unprotected, payload, signature = body
    headers = Headers.parse(protected, unprotected, path=path)
    if payload is not None and not isinstance(payload, bytes):
        raise DecodeError("payload must be a byte string or nil", path=f"{path}/payload")
    if require_detached and payload is not None:
        raise DecodeError("payload must be detached (nil)", path=f"{path}/payload")
    if not isinstance(signature, bytes):
        raise DecodeError("signature/tag must be a byte string", path=f"{path}/signature")
    alg = headers.alg
    if alg.is_mac != (cls is Mac0):
        kind = "MAC" if alg.is_mac else "signature"
        raise UnsupportedError(f"{alg.cose_name} is a {kind} algorithm and cannot be used in {cls.__name__}")
    return cls(headers=headers, payload=payload, signature=signature)
