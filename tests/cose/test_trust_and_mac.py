"""COSE_Mac0, kid selection, several blocks, policies and header strictness (RFC 9052 §3, §4, §6)."""

from __future__ import annotations

import hashlib
import hmac

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from suitlib.cose import (
    Algorithm,
    KeySigner,
    KeyType,
    Mac0,
    MacSigner,
    PrivateKey,
    Sign1,
    SymmetricKey,
    Threshold,
    TrustAnchor,
    TrustAnchors,
    create_message,
    decode_message,
)
from suitlib.errors import DecodeError, KeyFormatError, SignatureError, SuitError, UnsupportedError

PAYLOAD = bytes.fromhex("822f5820") + bytes(32)


@pytest.fixture(scope="module")
def keys() -> dict[str, PrivateKey]:
    return {name: PrivateKey.generate(KeyType.P256) for name in ("a", "b", "c")}


def test_mac0_accepts_and_matches_an_independent_hmac() -> None:
    secret = SymmetricKey(bytes(range(32)))
    message = decode_message(create_message(PAYLOAD, MacSigner(secret, kid=b"m")).encode())
    assert isinstance(message, Mac0) and message.alg is Algorithm.HMAC_256_256
    mac_structure = cbor2.dumps(["MAC0", b"\xa1\x01\x05", b"", PAYLOAD])
    assert message.signature == hmac.new(bytes(range(32)), mac_structure, hashlib.sha256).digest()
    (ok,) = TrustAnchors([secret]).verify_messages([message], PAYLOAD)
    assert ok.kid == b"m"


def test_mac0_rejects_wrong_key_wrong_payload_and_flipped_tag() -> None:
    secret = SymmetricKey(b"k" * 32)
    message = create_message(PAYLOAD, MacSigner(secret))
    with pytest.raises(SignatureError):
        TrustAnchors([SymmetricKey(b"j" * 32)]).verify_messages([message], PAYLOAD)
    with pytest.raises(SignatureError):
        TrustAnchors([secret]).verify_messages([message], PAYLOAD + b"\x00")
    for i in range(32):
        tag = bytearray(message.signature)
        tag[i] ^= 0x80
        forged = Mac0(headers=message.headers, payload=None, signature=bytes(tag))
        with pytest.raises(SignatureError):
            TrustAnchors([secret]).verify_messages([forged], PAYLOAD)
    # a public key is never an anchor for a MAC, nor a MAC key for a signature
    with pytest.raises(SignatureError, match="no trust anchor fits"):
        TrustAnchors([PrivateKey.generate(KeyType.P256).public_key()]).verify_messages([message], PAYLOAD)


def test_short_hmac_key_is_refused() -> None:
    with pytest.raises(KeyFormatError):
        SymmetricKey(b"short")


def test_kid_selects_the_anchor(keys: dict[str, PrivateKey]) -> None:
    anchors = TrustAnchors([TrustAnchor(keys[n].public_key(), kid=n.encode(), name=n) for n in "ab"])
    for name in "ab":
        message = create_message(PAYLOAD, KeySigner(keys[name], kid=name.encode()))
        (ok,) = anchors.verify_messages([message], PAYLOAD)
        assert ok.anchor.name == name and ok.kid == name.encode()
    # signed by a but labelled b: the anchor for b is the only candidate and it fails
    mislabelled = create_message(PAYLOAD, KeySigner(keys["a"], kid=b"b"))
    with pytest.raises(SignatureError, match="1 trust anchor"):
        anchors.verify_messages([mislabelled], PAYLOAD)
    unknown = create_message(PAYLOAD, KeySigner(keys["a"], kid=b"zz"))
    with pytest.raises(SignatureError, match="no trust anchor fits"):
        anchors.verify_messages([unknown], PAYLOAD)
    # a block without kid is tried against every anchor
    (ok,) = anchors.verify_messages([create_message(PAYLOAD, KeySigner(keys["b"]))], PAYLOAD)
    assert ok.anchor.name == "b"


def test_kid_in_protected_header_is_signed(keys: dict[str, PrivateKey]) -> None:
    message = create_message(PAYLOAD, KeySigner(keys["a"], kid=b"a"), kid_protected=True)
    assert message.headers.protected == cbor2.dumps({1: -7, 4: b"a"})
    decoded = decode_message(message.encode())
    assert decoded.kid == b"a" and dict(decoded.headers.unprotected) == {}
    TrustAnchors([keys["a"].public_key()]).verify_messages([decoded], PAYLOAD)


def test_several_blocks_any_one_verifies(keys: dict[str, PrivateKey]) -> None:
    blocks = [create_message(PAYLOAD, KeySigner(keys[n])) for n in "abc"]
    anchors = TrustAnchors([keys["c"].public_key()])
    (ok,) = anchors.verify_messages(blocks, PAYLOAD)
    assert ok.index == 2
    both = TrustAnchors([keys["a"].public_key(), keys["c"].public_key()])
    assert [v.index for v in both.verify_messages(blocks, PAYLOAD)] == [0, 2]
    assert len(both.verify_messages(blocks, PAYLOAD, policy=Threshold(2))) == 2
    with pytest.raises(SignatureError, match="2 required|3 required"):
        both.verify_messages(blocks, PAYLOAD, policy=Threshold(3))
    with pytest.raises(SignatureError):
        TrustAnchors([PrivateKey.generate(KeyType.P256).public_key()]).verify_messages(blocks, PAYLOAD)


def test_threshold_counts_distinct_anchors_not_blocks(keys: dict[str, PrivateKey]) -> None:
    twice = [create_message(PAYLOAD, KeySigner(keys["a"])), create_message(PAYLOAD, KeySigner(keys["a"], kid=b"x"))]
    anchors = TrustAnchors([keys["a"].public_key(), keys["b"].public_key()])
    with pytest.raises(SignatureError):
        anchors.verify_messages(twice, PAYLOAD, policy=Threshold(2))


def test_no_blocks_is_unsigned() -> None:
    with pytest.raises(SignatureError, match="not signed"):
        TrustAnchors([SymmetricKey(bytes(32))]).verify_messages([], PAYLOAD)


def test_algorithm_restriction_on_anchor(keys: dict[str, PrivateKey]) -> None:
    anchor = TrustAnchor(keys["a"].public_key(), algorithms=frozenset({Algorithm.ESP256}))
    with pytest.raises(SignatureError):
        TrustAnchors([anchor]).verify_messages([create_message(PAYLOAD, KeySigner(keys["a"]))], PAYLOAD)
    TrustAnchors([anchor]).verify_messages(
        [create_message(PAYLOAD, KeySigner(keys["a"], alg=Algorithm.ESP256))], PAYLOAD)


def test_key_and_algorithm_must_fit(keys: dict[str, PrivateKey]) -> None:
    with pytest.raises(KeyFormatError):
        KeySigner(keys["a"], alg=Algorithm.EDDSA)
    with pytest.raises(KeyFormatError):
        KeySigner(PrivateKey.generate(KeyType.ED25519), alg=Algorithm.ES256)


def _raw(protected: object, unprotected: object = None, payload: object = None, sig: object = bytes(64), tag: int = 18) -> bytes:
    return cbor2.dumps(cbor2.CBORTag(tag, [protected, {} if unprotected is None else unprotected, payload, sig]))


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (_raw(cbor2.dumps({1: -35})), UnsupportedError),            # ES384: not supported
        (_raw(cbor2.dumps({1: "ES256"})), UnsupportedError),        # text alg
        (_raw(cbor2.dumps({1: -7, 2: [99]})), UnsupportedError),    # crit names an unknown label
        (_raw(cbor2.dumps({1: 5})), UnsupportedError),              # a MAC alg inside COSE_Sign1
        (_raw(cbor2.dumps({1: -7}), tag=17), UnsupportedError),     # a signature alg inside COSE_Mac0
        (_raw(cbor2.dumps({1: -7}), tag=98), UnsupportedError),     # COSE_Sign (multi-signer)
        (_raw(cbor2.dumps({1: -7}), tag=99), DecodeError),
        (cbor2.dumps([cbor2.dumps({1: -7}), {}, None, bytes(64)]), DecodeError),  # untagged
        (_raw(b""), DecodeError),                                   # no alg
        (_raw(b"", {1: -7}), DecodeError),                          # alg only unprotected
        (_raw(cbor2.dumps({1: -7}), {1: -7}), DecodeError),         # label in both buckets
        (_raw(cbor2.dumps({1: -7}), {4: "text"}), DecodeError),     # kid not bstr
        (_raw(cbor2.dumps({1: -7}), payload=b"attached"), DecodeError),
        (_raw(cbor2.dumps({1: -7}), sig="nope"), DecodeError),
        (_raw(cbor2.dumps([1, -7])), DecodeError),                  # protected not a map
        (_raw(cbor2.dumps({1: -7}) + b"\x00"), DecodeError),        # trailing byte in protected
        (_raw(cbor2.dumps({1: -7})) + b"\x00", DecodeError),        # trailing byte after message
        (bytes.fromhex("d28443a10126a1040140"), DecodeError),       # 3 items
        (bytes.fromhex("d2845843a10126"), DecodeError),             # truncated
    ],
)
def test_malformed_or_unsupported_messages(data: bytes, error: type[SuitError]) -> None:
    with pytest.raises(error):
        decode_message(data)


def test_wrong_signature_length_is_a_signature_error(keys: dict[str, PrivateKey]) -> None:
    message = decode_message(_raw(cbor2.dumps({1: -7}), sig=bytes(63)))
    assert isinstance(message, Sign1)
    with pytest.raises(SignatureError):
        TrustAnchors([keys["a"].public_key()]).verify_messages([message], PAYLOAD)


@given(st.binary(max_size=200))
def test_arbitrary_bytes_only_raise_suit_errors(data: bytes) -> None:
    try:
        decode_message(data)
    except SuitError:
        pass


@given(st.binary(min_size=1, max_size=120), st.integers(min_value=0, max_value=10_000), st.integers(1, 255))
def test_mutated_messages_only_raise_suit_errors(prefix: bytes, position: int, xor: int) -> None:
    key = SymmetricKey(bytes(32))
    good = bytearray(create_message(prefix, MacSigner(key, kid=prefix[:4])).encode())
    good[position % len(good)] ^= xor
    try:
        message = decode_message(bytes(good))
    except SuitError:
        return
    try:
        TrustAnchors([key]).verify_messages([message], prefix)
    except SuitError:
        return
    # the only mutations that may still verify are those of the unprotected kid value
    assert message.kid != prefix[:4]


def test_threshold_counts_a_key_listed_under_two_kids_once(keys: dict[str, PrivateKey]) -> None:
    a = keys["a"]
    anchors = TrustAnchors([TrustAnchor(a.public_key(), kid=b"1"), TrustAnchor(a.public_key(), kid=b"2")])
    blocks = [create_message(PAYLOAD, KeySigner(a, kid=b"1")), create_message(PAYLOAD, KeySigner(a, kid=b"2"))]
    assert len(anchors.verify_messages(blocks, PAYLOAD)) == 2
    with pytest.raises(SignatureError, match="2 required"):
        anchors.verify_messages(blocks, PAYLOAD, policy=Threshold(2))
