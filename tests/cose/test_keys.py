"""Keys: generation, PKCS#8/SPKI PEM (plain and encrypted), COSE_Key (RFC 9052 §7), C arrays."""

from __future__ import annotations

import re
from pathlib import Path

import cbor2
import ecdsa
import pytest
from Crypto.PublicKey import ECC, RSA
from hypothesis import given
from hypothesis import strategies as st

from suitlib.cose import (
    Algorithm,
    KeyType,
    PrivateKey,
    PublicKey,
    SymmetricKey,
    export_cose_key,
    import_cose_key,
    load_pem,
    load_private_pem,
    load_public_pem,
    signature_to_raw,
)
from suitlib.errors import KeyFormatError, SignatureError, SuitError


@pytest.fixture(scope="module", params=list(KeyType))
def key(request) -> PrivateKey:
    return PrivateKey.generate(request.param)


def test_pem_round_trip(key: PrivateKey) -> None:
    pem = key.to_pem()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8
    again = load_private_pem(pem)
    assert again.public_key() == key.public_key()
    pub = key.public_key().to_pem()
    assert pub.startswith(b"-----BEGIN PUBLIC KEY-----")  # SPKI
    assert load_public_pem(pub) == key.public_key()
    assert load_public_pem(pem) == key.public_key()  # a private key yields its public half
    # the second implementation reads what we write
    assert ecdsa.VerifyingKey.from_pem(pub.decode()).to_pem() is not None


def test_encrypted_pem(key: PrivateKey) -> None:
    pem = key.to_pem(b"correct horse", iterations=1000)
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert load_private_pem(pem, password=b"correct horse").public_key() == key.public_key()
    with pytest.raises(KeyFormatError, match="no password"):
        load_private_pem(pem)
    with pytest.raises(KeyFormatError, match="wrong password"):
        load_private_pem(pem, password=b"battery staple")
    with pytest.raises(KeyFormatError):
        key.to_pem(b"")


def test_public_key_is_refused_for_signing(key: PrivateKey) -> None:
    with pytest.raises(KeyFormatError, match="public key"):
        load_private_pem(key.public_key().to_pem())


@pytest.mark.parametrize(
    "data",
    [
        b"not a key at all",
        b"",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    ],
)
def test_garbage_is_a_key_format_error(data: bytes) -> None:
    with pytest.raises(KeyFormatError):
        load_pem(data)


def test_wrong_key_types_are_refused() -> None:
    with pytest.raises(KeyFormatError, match="P-384"):
        load_pem(ECC.generate(curve="P-384").export_key(format="PEM").encode())
    with pytest.raises(KeyFormatError, match="RSA|not a P-256"):
        load_pem(RSA.generate(1024).export_key(format="PEM"))


def test_vectors_key_pair_matches(vectors_dir: Path) -> None:
    private = load_private_pem((vectors_dir / "private_key.pem").read_bytes())
    public = load_public_pem((vectors_dir / "public_key.pem").read_bytes())
    assert private.key_type is KeyType.P256 and private.public_key() == public


def test_cose_key_round_trip(key: PrivateKey) -> None:
    encoded = export_cose_key(key, kid=b"k1", alg=key.key_type.default_alg)
    m = cbor2.loads(encoded)
    if key.key_type is KeyType.P256:
        assert m[1] == 2 and m[-1] == 1 and len(m[-2]) == len(m[-3]) == len(m[-4]) == 32
        assert b"\x04" + m[-2] + m[-3] == key.public_key().raw
    else:
        assert m[1] == 1 and m[-1] == 6 and m[-2] == key.public_key().raw and len(m[-4]) == 32
    assert m[2] == b"k1" and m[3] == int(key.key_type.default_alg)
    again, kid, alg = import_cose_key(encoded)
    assert isinstance(again, PrivateKey) and again.public_key() == key.public_key()
    assert kid == b"k1" and alg is key.key_type.default_alg
    public_only = export_cose_key(key, include_private=False)
    assert -4 not in cbor2.loads(public_only)
    pub, kid, alg = import_cose_key(public_only)
    assert isinstance(pub, PublicKey) and pub == key.public_key() and kid is None and alg is None
    # deterministic encoding
    assert export_cose_key(key) == export_cose_key(key)


def test_cose_key_compressed_p256_point() -> None:
    key = PrivateKey.generate(KeyType.P256)
    point = key.public_key().ecc.pointQ
    compressed = cbor2.dumps({1: 2, -1: 1, -2: int(point.x).to_bytes(32, "big"), -3: bool(int(point.y) & 1)})
    pub, _, _ = import_cose_key(compressed)
    assert pub == key.public_key()


def test_cose_key_symmetric() -> None:
    encoded = export_cose_key(SymmetricKey(bytes(range(32))), kid=b"mac")
    key, kid, _ = import_cose_key(encoded)
    assert isinstance(key, SymmetricKey) and key.secret == bytes(range(32)) and kid == b"mac"
    assert "00010203" not in repr(key)


@pytest.mark.parametrize(
    "m",
    [
        {1: 3},                                             # RSA kty
        {1: 2, -1: 2, -2: bytes(48), -3: bytes(48)},        # P-384
        {1: 2, -1: 1, -2: bytes(32), -3: bytes(32)},        # not on the curve
        {1: 2, -1: 1, -2: bytes(31), -3: bytes(32)},        # short x
        {1: 1, -1: 7, -2: bytes(57)},                       # Ed448
        {1: 1, -1: 6},                                      # no x
        {1: 2, -1: 1, -2: "x", -3: bytes(32)},              # x not bstr
        {1: 1, -1: 6, -2: bytes(32), 3: -7},                # alg does not fit the key
        {1: 4, -1: b"short"},                               # short HMAC key
        [1, 2, 3],                                          # not a map
    ],
)
def test_bad_cose_keys(m: object) -> None:
    with pytest.raises(KeyFormatError):
        import_cose_key(cbor2.dumps(m))


def test_cose_key_private_part_must_match() -> None:
    a, b = PrivateKey.generate(KeyType.P256), PrivateKey.generate(KeyType.P256)
    m = cbor2.loads(export_cose_key(a))
    m[-4] = cbor2.loads(export_cose_key(b))[-4]
    with pytest.raises(KeyFormatError, match="does not match"):
        import_cose_key(cbor2.dumps(m))


@given(st.binary(max_size=120))
def test_arbitrary_cose_key_bytes_only_raise_key_format_errors(data: bytes) -> None:
    try:
        import_cose_key(data)
    except KeyFormatError:
        pass


def test_c_array_contains_the_raw_key(key: PrivateKey) -> None:
    text = key.public_key().to_c_array("boot_key")
    raw = bytes(int(h, 16) for h in re.findall(r"0x([0-9a-f]{2})", text))
    assert raw == key.public_key().raw
    assert f"boot_key[{len(raw)}]" in text and f"boot_key_len = {len(raw)};" in text


def test_der_signature_is_converted_to_raw() -> None:
    sk = ecdsa.SigningKey.generate(curve=ecdsa.NIST256p)
    der = sk.sign(b"m", sigencode=ecdsa.util.sigencode_der)
    raw = signature_to_raw(Algorithm.ES256, der)
    assert ecdsa.util.sigdecode_string(raw, sk.curve.order) == ecdsa.util.sigdecode_der(der, sk.curve.order)
    with pytest.raises(SignatureError):
        signature_to_raw(Algorithm.ES256, b"\x30\x03garbage")
    with pytest.raises(SuitError):
        signature_to_raw(Algorithm.ES256, b"")
