"""Cross-checks against a second implementation (the pure-Python ``ecdsa`` package) and the
known-answer vectors of RFC 6979 §A.2.5 and RFC 8032 §7.1."""

from __future__ import annotations

import hashlib

import ecdsa
import pytest
from Crypto.PublicKey import ECC
from ecdsa.util import sigdecode_string, sigencode_string

from suitlib.cose import (
    Algorithm,
    KeySigner,
    KeyType,
    PrivateKey,
    PublicKey,
    TrustAnchors,
    create_message,
    decode_message,
    load_public_pem,
    sig_structure,
)
from suitlib.errors import SignatureError

PAYLOAD = bytes.fromhex("822f5820") + bytes(range(32))

RFC6979_P256_X = "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721"
RFC6979_SAMPLE = (
    "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716"
    "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8"
)
RFC6979_TEST = (
    "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367"
    "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083"
)
RFC8032_TEST1_SECRET = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC8032_TEST1_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
RFC8032_TEST1_SIG = (
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)


@pytest.fixture(scope="module")
def p256() -> PrivateKey:
    return PrivateKey.from_ecc(ECC.construct(curve="P-256", d=0x1234567890ABCDEF1234567890ABCDEF))


@pytest.mark.parametrize("alg", [Algorithm.ES256, Algorithm.ESP256])
def test_ecdsa_package_verifies_our_signatures(p256: PrivateKey, alg: Algorithm) -> None:
    message = create_message(PAYLOAD, KeySigner(p256, alg=alg))
    vk = ecdsa.VerifyingKey.from_pem(p256.public_key().to_pem().decode())
    tbs = sig_structure(message.headers.protected, PAYLOAD)
    assert vk.verify(message.signature, tbs, hashfunc=hashlib.sha256, sigdecode=sigdecode_string)
    with pytest.raises(ecdsa.BadSignatureError):
        vk.verify(message.signature, tbs + b"x", hashfunc=hashlib.sha256, sigdecode=sigdecode_string)


@pytest.mark.parametrize("alg", [Algorithm.ES256, Algorithm.ESP256])
def test_we_accept_signatures_made_by_the_ecdsa_package(alg: Algorithm) -> None:
    sk = ecdsa.SigningKey.from_secret_exponent(0xC0FFEE1234, curve=ecdsa.NIST256p, hashfunc=hashlib.sha256)
    public = load_public_pem(sk.get_verifying_key().to_pem())
    from suitlib.cose import Headers, assemble

    headers = Headers.build(alg)
    tbs = sig_structure(headers.protected, PAYLOAD)
    raw = sk.sign_deterministic(tbs, hashfunc=hashlib.sha256, sigencode=sigencode_string)
    message = decode_message(assemble(headers, raw).encode())
    (ok,) = TrustAnchors([public]).verify_messages([message], PAYLOAD)
    assert ok.alg is alg
    with pytest.raises(SignatureError):
        TrustAnchors([public]).verify_messages([message], PAYLOAD[:-1] + b"\x00")


def test_ed25519_against_the_ecdsa_package_both_ways() -> None:
    ours = PrivateKey.generate(KeyType.ED25519)
    message = create_message(PAYLOAD, KeySigner(ours, alg=Algorithm.ED25519))
    vk = ecdsa.VerifyingKey.from_pem(ours.public_key().to_pem().decode())
    assert vk.verify(message.signature, sig_structure(message.headers.protected, PAYLOAD))
    sk = ecdsa.SigningKey.from_string(bytes(range(32)), curve=ecdsa.Ed25519)
    public = load_public_pem(sk.get_verifying_key().to_pem())
    theirs = create_message(PAYLOAD, _ForeignSigner(sk))
    assert TrustAnchors([public]).verify_messages([decode_message(theirs.encode())], PAYLOAD)


class _ForeignSigner:
    """A :class:`Signer` that is not a suitlib key: how an HSM plugs in."""

    alg = Algorithm.EDDSA
    kid = b"hsm-1"

    def __init__(self, sk: ecdsa.SigningKey) -> None:
        self.sk = sk

    def sign(self, tbs: bytes) -> bytes:
        return self.sk.sign(tbs)


def test_ed25519_round_trip_and_rejection() -> None:
    key = PrivateKey.generate(KeyType.ED25519)
    for alg in (Algorithm.EDDSA, Algorithm.ED25519):
        message = decode_message(create_message(PAYLOAD, KeySigner(key, alg=alg)).encode())
        assert message.alg is alg
        TrustAnchors([key.public_key()]).verify_messages([message], PAYLOAD)
        other = PrivateKey.generate(KeyType.ED25519).public_key()
        with pytest.raises(SignatureError):
            TrustAnchors([other]).verify_messages([message], PAYLOAD)


def test_rfc6979_known_answers_and_determinism() -> None:
    key = PrivateKey.from_ecc(ECC.construct(curve="P-256", d=int(RFC6979_P256_X, 16)))
    assert key.sign(Algorithm.ES256, b"sample").hex().upper() == RFC6979_SAMPLE
    assert key.sign(Algorithm.ESP256, b"test").hex().upper() == RFC6979_TEST
    a = create_message(PAYLOAD, KeySigner(key, alg=Algorithm.ESP256)).encode()
    b = create_message(PAYLOAD, KeySigner(key, alg=Algorithm.ESP256)).encode()
    assert a == b
    assert create_message(PAYLOAD + b"\x00", KeySigner(key, alg=Algorithm.ESP256)).encode() != a


def test_rfc8032_test1_known_answer() -> None:
    key = PrivateKey.from_ecc(ECC.construct(curve="Ed25519", seed=bytes.fromhex(RFC8032_TEST1_SECRET)))
    assert key.public_key().raw.hex() == RFC8032_TEST1_PUBLIC
    assert key.sign(Algorithm.ED25519, b"").hex() == RFC8032_TEST1_SIG
    key.public_key().verify(Algorithm.ED25519, b"", bytes.fromhex(RFC8032_TEST1_SIG))


def test_public_key_equality_is_by_point() -> None:
    key = PrivateKey.generate(KeyType.P256)
    assert load_public_pem(key.public_key().to_pem()) == key.public_key()
    assert key.public_key() != PrivateKey.generate(KeyType.P256).public_key()
    assert isinstance(key.public_key(), PublicKey)
