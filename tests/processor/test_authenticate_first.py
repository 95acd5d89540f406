"""§6.2: the signature is verified before any part of the manifest is parsed."""

from __future__ import annotations

import hashlib

from suitlib.cbor import Tag, bstr, encode
from suitlib.cose import KeySigner, KeyType, PrivateKey, create_message
from suitlib.errors import DecodeError, DigestMismatchError, SignatureError
from tests.processor.support import device, processor, spec_signer

GARBAGE_MANIFEST = b"\xbf\xff\x1c"  # not even well-formed deterministic CBOR


def envelope(manifest_content: bytes, signer=None) -> bytes:  # type: ignore[no-untyped-def]
    digest_bstr = encode([-16, hashlib.sha256(bstr(manifest_content)).digest()])
    blocks = [create_message(digest_bstr, signer).encode()] if signer is not None else []
    return encode(Tag(107, {2: encode([digest_bstr, *blocks]), 3: manifest_content}))


def test_an_unauthenticated_malformed_manifest_is_refused_for_its_signature_not_parsed() -> None:
    stranger = KeySigner(PrivateKey.generate(KeyType.P256))
    result = processor(device()).update(envelope(GARBAGE_MANIFEST, stranger))
    assert isinstance(result.error, SignatureError)  # the parser never saw the manifest


def test_an_unsigned_malformed_manifest_is_refused_as_unsigned() -> None:
    result = processor(device()).update(envelope(GARBAGE_MANIFEST))
    assert isinstance(result.error, SignatureError)


def test_a_manifest_not_matching_its_digest_is_refused_before_parsing() -> None:
    good = envelope(GARBAGE_MANIFEST, spec_signer())
    tampered = good.replace(GARBAGE_MANIFEST, b"\xbf\xff\x1d")
    result = processor(device()).update(tampered)
    assert isinstance(result.error, DigestMismatchError)


def test_only_an_authentic_manifest_reaches_the_parser() -> None:
    result = processor(device()).update(envelope(GARBAGE_MANIFEST, spec_signer()))
    assert isinstance(result.error, DecodeError)  # authentic, so parsed, and malformed
