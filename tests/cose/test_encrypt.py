"""COSE_Encrypt for SUIT payloads: round-trips, the wire shape, and typed refusals.

Every key distribution (A128KW, A256KW, ECDH-ES+A128KW) with every content algorithm (A128GCM,
A128CTR); wrong key, modified ciphertext, tag and encryption info each raise a typed error.
"""

from __future__ import annotations

import cbor2
import pytest

from suitlib.cose.encrypt import (
    ContentAlgorithm,
    EcdhKey,
    EcdhRecipient,
    KeyDistribution,
    KeyWrapKey,
    decode_encryption_info,
    decrypt_payload,
    encrypt_payload,
    open_decryptor,
    unwrap_cek,
)
from suitlib.cose.encrypt_errors import (
    DecryptionError,
    EncryptionInfoError,
    KeyUnwrapError,
    NoRecipientError,
    TagMismatchError,
    TruncatedCiphertextError,
    UnsupportedEncryptionError,
)
from suitlib.cose.keys import KeyType, PrivateKey
from suitlib.errors import DecodeError, KeyFormatError, VerificationError

DEVICE_EC = PrivateKey.generate(KeyType.P256)
OTHER_EC = PrivateKey.generate(KeyType.P256)
KEK128 = KeyWrapKey(bytes(range(16)), kid=b"dev-1")
KEK256 = KeyWrapKey(bytes(range(32)), kid=b"dev-1")

DISTRIBUTIONS = {
    "A128KW": (KEK128, KEK128, KeyWrapKey(bytes(range(1, 17)), kid=b"dev-1")),
    "A256KW": (KEK256, KEK256, KeyWrapKey(bytes(range(1, 33)), kid=b"dev-1")),
    "ECDH-ES+A128KW": (EcdhRecipient(DEVICE_EC.public_key(), kid=b"dev-1"), EcdhKey(DEVICE_EC, kid=b"dev-1"),
                       EcdhKey(OTHER_EC, kid=b"dev-1")),
}
CASES = [(d, c) for d in DISTRIBUTIONS for c in ContentAlgorithm]
FIRMWARE = bytes((i * 7 + 3) % 251 for i in range(5000))


def _enc(dist: str, content: ContentAlgorithm, plaintext: bytes = FIRMWARE):
    recipient, device, wrong = DISTRIBUTIONS[dist]
    return encrypt_payload(plaintext, [recipient], content_alg=content), device, wrong


@pytest.mark.parametrize(("dist", "content"), CASES)
@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 5000])
def test_round_trip(dist: str, content: ContentAlgorithm, size: int) -> None:
    plaintext = FIRMWARE[:size]
    enc, device, _ = _enc(dist, content, plaintext)
    assert len(enc.ciphertext) == size + (16 if content.is_aead else 0)
    assert decrypt_payload(enc.ciphertext, enc.info, [device]) == plaintext
    if size >= 16:
        assert plaintext not in enc.ciphertext


@pytest.mark.parametrize(("dist", "content"), CASES)
def test_wire_shape(dist: str, content: ContentAlgorithm) -> None:
    enc, _, _ = _enc(dist, content)
    tag = cbor2.loads(enc.info)
    assert tag.tag == 96
    protected, unprotected, ciphertext, recipients = tag.value
    assert ciphertext is None  # detached
    if content is ContentAlgorithm.A128GCM:
        assert cbor2.loads(protected) == {1: 1} and len(unprotected[5]) == 12
    else:  # draft §6.3: no protected header for non-AEAD ciphers
        assert protected == b"" and unprotected[1] == -65534 and len(unprotected[5]) == 16
    (r_prot, r_unprot, wrapped) = recipients[0]
    assert len(wrapped) == 24 and r_unprot[4] == b"dev-1"
    if dist == "ECDH-ES+A128KW":
        assert cbor2.loads(r_prot) == {1: -29}
        assert r_unprot[-1][1] == 2 and r_unprot[-1][-1] == 1
    else:
        assert r_prot == b"" and r_unprot[1] == KeyDistribution[dist].value
    info = decode_encryption_info(enc.info)
    assert info.encoded == enc.info and info.alg is content


def test_fresh_key_and_iv_each_time() -> None:
    a = encrypt_payload(FIRMWARE, [KEK128])
    b = encrypt_payload(FIRMWARE, [KEK128])
    assert a.ciphertext != b.ciphertext and a.info != b.info


def test_several_recipients_share_one_cek() -> None:
    other = KeyWrapKey(bytes(16 * [9]), kid=b"dev-2")
    ec = EcdhRecipient(OTHER_EC.public_key(), kid=b"dev-3")
    enc = encrypt_payload(FIRMWARE, [KEK128, other, ec])
    for key in (KEK128, other, EcdhKey(OTHER_EC, kid=b"dev-3")):
        assert decrypt_payload(enc.ciphertext, enc.info, [key]) == FIRMWARE
    assert len(decode_encryption_info(enc.info).recipients) == 3


def test_key_without_kid_tries_every_recipient() -> None:
    enc = encrypt_payload(FIRMWARE, [KeyWrapKey(bytes(16 * [9]), kid=b"x"), KEK128])
    assert decrypt_payload(enc.ciphertext, enc.info, [KeyWrapKey(KEK128.secret)]) == FIRMWARE


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("dist", "content"), CASES)
def test_wrong_key_is_refused(dist: str, content: ContentAlgorithm) -> None:
    enc, _, wrong = _enc(dist, content)
    with pytest.raises(KeyUnwrapError) as info:
        decrypt_payload(enc.ciphertext, enc.info, [wrong])
    assert isinstance(info.value, VerificationError) and info.value.exit_code == 1


@pytest.mark.parametrize("dist", DISTRIBUTIONS)
def test_key_of_the_wrong_kind_finds_no_recipient(dist: str) -> None:
    enc, _, _ = _enc(dist, ContentAlgorithm.A128GCM)
    mismatched = EcdhKey(DEVICE_EC) if dist != "ECDH-ES+A128KW" else KeyWrapKey(bytes(16))
    with pytest.raises(NoRecipientError):
        decrypt_payload(enc.ciphertext, enc.info, [mismatched])


@pytest.mark.parametrize("dist", DISTRIBUTIONS)
@pytest.mark.parametrize("where", [0, 100, 4999])
def test_modified_gcm_ciphertext_is_refused(dist: str, where: int) -> None:
    enc, device, _ = _enc(dist, ContentAlgorithm.A128GCM)
    bad = bytearray(enc.ciphertext)
    bad[where] ^= 0x01
    with pytest.raises(TagMismatchError):
        decrypt_payload(bytes(bad), enc.info, [device])


@pytest.mark.parametrize("dist", DISTRIBUTIONS)
def test_modified_gcm_tag_is_refused(dist: str) -> None:
    enc, device, _ = _enc(dist, ContentAlgorithm.A128GCM)
    bad = bytearray(enc.ciphertext)
    bad[-1] ^= 0x80
    with pytest.raises(TagMismatchError):
        decrypt_payload(bytes(bad), enc.info, [device])


def test_truncated_gcm_ciphertext_is_refused() -> None:
    enc = encrypt_payload(FIRMWARE, [KEK128])
    with pytest.raises(TagMismatchError):
        decrypt_payload(enc.ciphertext[:-1], enc.info, [KEK128])
    with pytest.raises(TruncatedCiphertextError):
        decrypt_payload(enc.ciphertext[:15], enc.info, [KEK128])


def test_ctr_has_no_integrity_of_its_own() -> None:
    """A128CTR decrypts a modified ciphertext to modified plaintext: the image digest must catch it."""
    enc = encrypt_payload(FIRMWARE, [KEK128], content_alg=ContentAlgorithm.A128CTR)
    bad = bytearray(enc.ciphertext)
    bad[10] ^= 0x04
    out = decrypt_payload(bytes(bad), enc.info, [KEK128])
    assert out != FIRMWARE and out[10] == FIRMWARE[10] ^ 0x04


def _rebuild(info: bytes, edit) -> bytes:
    tag = cbor2.loads(info)
    body = [tag.value[0], dict(tag.value[1]), tag.value[2],
            [[r[0], dict(r[1]), *r[2:]] for r in tag.value[3]]]
    edit(body)
    return cbor2.dumps(cbor2.CBORTag(96, body), canonical=True)


def _flip(b: bytes, i: int = 0) -> bytes:
    out = bytearray(b)
    out[i] ^= 1
    return bytes(out)


@pytest.mark.parametrize("dist", DISTRIBUTIONS)
def test_modified_wrapped_key_is_refused(dist: str) -> None:
    enc, device, _ = _enc(dist, ContentAlgorithm.A128GCM)
    bad = _rebuild(enc.info, lambda b: b[3][0].__setitem__(2, _flip(b[3][0][2], 5)))
    with pytest.raises(KeyUnwrapError):
        decrypt_payload(enc.ciphertext, bad, [device])


@pytest.mark.parametrize("dist", DISTRIBUTIONS)
def test_modified_iv_is_refused_for_gcm(dist: str) -> None:
    enc, device, _ = _enc(dist, ContentAlgorithm.A128GCM)
    bad = _rebuild(enc.info, lambda b: b[1].__setitem__(5, _flip(b[1][5])))
    with pytest.raises(TagMismatchError):
        decrypt_payload(enc.ciphertext, bad, [device])


def test_modified_protected_header_is_refused_for_gcm() -> None:
    """The protected header is in the AAD: re-encoding it differently breaks the tag."""
    enc = encrypt_payload(FIRMWARE, [KEK128])
    bad = _rebuild(enc.info, lambda b: b.__setitem__(0, cbor2.dumps({1: 1, 99: 0})))
    with pytest.raises(TagMismatchError):
        decrypt_payload(enc.ciphertext, bad, [KEK128])


def test_modified_ephemeral_key_is_refused() -> None:
    enc, device, _ = _enc("ECDH-ES+A128KW", ContentAlgorithm.A128GCM)
    other = PrivateKey.generate(KeyType.P256).public_key().ecc.pointQ
    point = {1: 2, -1: 1, -2: int(other.x).to_bytes(32, "big"), -3: int(other.y).to_bytes(32, "big")}
    bad = _rebuild(enc.info, lambda b: b[3][0][1].__setitem__(-1, point))
    with pytest.raises(KeyUnwrapError):
        decrypt_payload(enc.ciphertext, bad, [device])
    off_curve = {**point, -3: bytes(32)}
    bad = _rebuild(enc.info, lambda b: b[3][0][1].__setitem__(-1, off_curve))
    with pytest.raises(EncryptionInfoError):
        decrypt_payload(enc.ciphertext, bad, [device])


def test_modified_recipient_protected_header_is_refused() -> None:
    """For ECDH-ES the recipient's protected header enters the KDF context (RFC 9053 §5.2)."""
    enc, device, _ = _enc("ECDH-ES+A128KW", ContentAlgorithm.A128CTR)
    bad = _rebuild(enc.info, lambda b: b[3][0].__setitem__(0, cbor2.dumps({1: -29, 77: 1})))
    with pytest.raises(KeyUnwrapError):
        decrypt_payload(enc.ciphertext, bad, [device])


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        (lambda b: b.__setitem__(2, b"inline"), EncryptionInfoError),
        (lambda b: b.__setitem__(3, []), EncryptionInfoError),
        (lambda b: b[1].pop(5), EncryptionInfoError),
        (lambda b: b[1].__setitem__(5, b"short"), EncryptionInfoError),
        (lambda b: b.__setitem__(0, cbor2.dumps({1: 3})), UnsupportedEncryptionError),
        (lambda b: b.__setitem__(0, cbor2.dumps({1: 1, 2: [1]})), UnsupportedEncryptionError),
        (lambda b: b[1].__setitem__(1, 1), EncryptionInfoError),  # alg in both buckets
        (lambda b: b[1].__setitem__(6, b"\x01"), UnsupportedEncryptionError),
        (lambda b: b[3][0].__setitem__(0, cbor2.dumps({5: 1})), EncryptionInfoError),
        (lambda b: b[3][0].append([]), UnsupportedEncryptionError),
        (lambda b: b[3][0].pop(), EncryptionInfoError),
        (lambda b: b[3].extend([b[3][0]] * 16), EncryptionInfoError),
        (lambda b: b[3][0][1].__setitem__(4, "text-kid"), EncryptionInfoError),
    ],
)
def test_malformed_encryption_info_is_a_typed_error(edit, error) -> None:
    enc = encrypt_payload(FIRMWARE, [KEK128])
    with pytest.raises(error):
        decode_encryption_info(_rebuild(enc.info, edit))


def test_wrong_tag_and_garbage_are_decode_errors() -> None:
    enc = encrypt_payload(FIRMWARE, [KEK128])
    tag = cbor2.loads(enc.info)
    for data in (cbor2.dumps(cbor2.CBORTag(16, tag.value)), cbor2.dumps(tag.value), b"", b"\xff", enc.info + b"\x00"):
        with pytest.raises(DecodeError):
            decode_encryption_info(data)


def test_unknown_recipient_algorithm_is_skipped_not_fatal() -> None:
    enc = encrypt_payload(FIRMWARE, [KEK128])
    info = _rebuild(enc.info, lambda b: b[3].insert(0, [b"", {1: -999, 4: b"hpke"}, b"opaque"]))
    assert decrypt_payload(enc.ciphertext, info, [KEK128]) == FIRMWARE
    only_unknown = _rebuild(enc.info, lambda b: b.__setitem__(3, [[b"", {1: -999}, b"opaque"]]))
    with pytest.raises(NoRecipientError):
        decrypt_payload(enc.ciphertext, only_unknown, [KEK128])


def test_decryptor_cannot_be_reused() -> None:
    enc = encrypt_payload(FIRMWARE, [KEK128])
    info = decode_encryption_info(enc.info)
    d = open_decryptor(info, unwrap_cek(info, [KEK128]))
    d.update(enc.ciphertext)
    d.finalize()
    with pytest.raises(DecryptionError):
        d.update(b"x")
    with pytest.raises(DecryptionError):
        d.finalize()


def test_bad_keys_are_key_format_errors() -> None:
    with pytest.raises(KeyFormatError):
        KeyWrapKey(b"short")
    with pytest.raises(KeyFormatError):
        EcdhRecipient(PrivateKey.generate(KeyType.ED25519).public_key())
    with pytest.raises(KeyFormatError):
        encrypt_payload(b"x", [])
    assert "00" not in repr(KEK128) and "16 bytes" in repr(KEK128)


def test_import_kek_from_cose_key() -> None:
    from suitlib.cose.encrypt import import_kek

    key = import_kek(cbor2.dumps({1: 4, -1: bytes(32), 2: b"k"}))
    assert key.alg is KeyDistribution.A256KW and key.kid == b"k"
    for bad in (cbor2.dumps([1]), cbor2.dumps({1: 2, -1: bytes(16)}), cbor2.dumps({1: 4}),
                cbor2.dumps({1: 4, -1: bytes(16), 2: "text"}), cbor2.dumps({1: 4, -1: bytes(20)}), b"\xa1"):
        with pytest.raises(KeyFormatError):
            import_kek(bad)
