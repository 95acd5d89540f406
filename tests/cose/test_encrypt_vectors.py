"""Interop: decrypt the examples of draft-ietf-suit-firmware-encryption-19 byte-exactly.

Known answers for the building blocks: RFC 3394 §4 key wrap, and cross-checks of ECDH and HKDF
against independent implementations (the ``ecdsa`` package, RFC 5869 written out with hmac).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from Crypto.Cipher import AES
from Crypto.PublicKey import ECC

from suitlib.cose import ecdh, kw
from suitlib.cose.encrypt import (
    ContentAlgorithm,
    EcdhKey,
    KeyDistribution,
    KeyWrapKey,
    decode_encryption_info,
    decrypt_payload,
    open_decryptor,
    unwrap_cek,
)
from suitlib.cose.encrypt_errors import KeyUnwrapError, NoRecipientError
from suitlib.cose.keys import PrivateKey

VECTORS = json.loads((Path(__file__).parent / "vectors" / "fe" / "examples.json").read_text())
EXAMPLES = {e["name"]: e for e in VECTORS["examples"]}


def device_key(example: dict) -> KeyWrapKey | EcdhKey:
    kid = bytes.fromhex(example["kid"]) if example["kid"] else None
    if "kek" in example:
        return KeyWrapKey(bytes.fromhex(example["kek"]), kid=kid)
    ec = example["ec_private"]
    ecc = ECC.construct(curve="P-256", d=int(ec["d"], 16))
    assert int(ecc.pointQ.x) == int(ec["x"], 16) and int(ecc.pointQ.y) == int(ec["y"], 16)
    return EcdhKey(PrivateKey.from_ecc(ecc), kid=kid)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_draft_example_decrypts_byte_exact(name: str) -> None:
    example = EXAMPLES[name]
    info = bytes.fromhex(example["encryption_info"])
    plaintext = decrypt_payload(bytes.fromhex(example["ciphertext"]), info, [device_key(example)])
    assert plaintext == bytes.fromhex(example["plaintext"]) == b"This is a real firmware image."


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_draft_example_model(name: str) -> None:
    example = EXAMPLES[name]
    info = decode_encryption_info(bytes.fromhex(example["encryption_info"]))
    assert info.alg is ContentAlgorithm[example["content"]]
    (recipient,) = info.recipients
    expected = KeyDistribution.A128KW if example["key_distribution"] == "A128KW" else KeyDistribution.ECDH_ES_A128KW
    assert recipient.alg is expected
    assert recipient.kid == (bytes.fromhex(example["kid"]) if example["kid"] else None)
    assert info.encoded == bytes.fromhex(example["encryption_info"])


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_draft_example_streams_in_small_chunks(name: str) -> None:
    example = EXAMPLES[name]
    info = decode_encryption_info(bytes.fromhex(example["encryption_info"]))
    decryptor = open_decryptor(info, unwrap_cek(info, [device_key(example)]))
    ciphertext = bytes.fromhex(example["ciphertext"])
    out = b"".join(decryptor.update(ciphertext[i : i + 7]) for i in range(0, len(ciphertext), 7))
    out += decryptor.finalize()
    assert out == b"This is a real firmware image."


def test_draft_example_with_other_kek_is_refused() -> None:
    example = EXAMPLES["aes-kw-a128gcm"]
    with pytest.raises(KeyUnwrapError):
        decrypt_payload(bytes.fromhex(example["ciphertext"]), bytes.fromhex(example["encryption_info"]),
                        [KeyWrapKey(b"b" * 16, kid=b"kid-1")])


def test_draft_example_with_other_kid_finds_no_recipient() -> None:
    example = EXAMPLES["aes-kw-a128gcm"]
    with pytest.raises(NoRecipientError):
        decrypt_payload(bytes.fromhex(example["ciphertext"]), bytes.fromhex(example["encryption_info"]),
                        [KeyWrapKey(b"a" * 16, kid=b"kid-9")])


# --- building blocks -------------------------------------------------------------------------

RFC3394 = [  # RFC 3394 §4.1 and §4.3
    ("000102030405060708090A0B0C0D0E0F", "00112233445566778899AABBCCDDEEFF",
     "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"),
    ("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", "00112233445566778899AABBCCDDEEFF",
     "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7"),
]


@pytest.mark.parametrize(("kek", "key", "wrapped"), RFC3394)
def test_key_wrap_known_answers(kek: str, key: str, wrapped: str) -> None:
    assert kw.wrap(bytes.fromhex(kek), bytes.fromhex(key)) == bytes.fromhex(wrapped)
    assert kw.unwrap(bytes.fromhex(kek), bytes.fromhex(wrapped)) == bytes.fromhex(key)


def reference_wrap(kek: bytes, key: bytes) -> bytes:
    """RFC 3394 §2.2.1 written out on AES-ECB, as an independent second implementation."""
    ecb = AES.new(kek, AES.MODE_ECB)
    a = bytes.fromhex("A6A6A6A6A6A6A6A6")
    r = [key[i : i + 8] for i in range(0, len(key), 8)]
    n = len(r)
    for j in range(6):
        for i in range(n):
            b = ecb.encrypt(a + r[i])
            t = n * j + i + 1
            a = (int.from_bytes(b[:8], "big") ^ t).to_bytes(8, "big")
            r[i] = b[8:]
    return a + b"".join(r)


@pytest.mark.parametrize("kek_size", [16, 32])
def test_key_wrap_matches_reference_implementation(kek_size: int) -> None:
    for seed in range(20):
        kek = hashlib.sha256(b"kek%d" % seed).digest()[:kek_size]
        key = hashlib.sha256(b"key%d" % seed).digest()[: 16 + 8 * (seed % 3)]
        assert kw.wrap(kek, key) == reference_wrap(kek, key)


def test_ecdh_and_hkdf_match_independent_implementations() -> None:
    ecdsa = pytest.importorskip("ecdsa")
    a = ECC.generate(curve="P-256")
    b = ECC.generate(curve="P-256")
    z = ecdh.shared_secret(a, b.public_key())
    other = ecdsa.ECDH(curve=ecdsa.NIST256p)
    other.load_private_key(ecdsa.SigningKey.from_secret_exponent(int(b.d), curve=ecdsa.NIST256p))
    other.load_received_public_key_bytes(a.public_key().export_key(format="SEC1"))
    assert z == other.generate_sharedsecret_bytes()
    context = ecdh.kdf_context(-3, 128, b"\xa1\x01\x38\x1c")
    prk = hmac.new(b"\0" * 32, z, hashlib.sha256).digest()  # RFC 5869 §2.2, no salt
    okm = hmac.new(prk, context + b"\x01", hashlib.sha256).digest()[:16]  # §2.3, L = 16
    assert ecdh.derive_kek(z, context) == okm


def test_kdf_context_layout() -> None:
    """RFC 9053 §5.2 with draft §6.2.4's fixed fields, as diagnostic notation written out."""
    import cbor2

    context = cbor2.loads(ecdh.kdf_context(-3, 128, b"\xa1\x01\x38\x1c"))
    assert context == [-3, [None, None, None], [None, None, None], [128, b"\xa1\x01\x38\x1c", b"SUIT Payload Encryption"]]
