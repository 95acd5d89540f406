"""SUIT authentication of whole envelopes (draft-ietf-suit-manifest-34 §8.3) via suitlib.manifest.auth."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import ecdsa
import pytest
from ecdsa.util import sigencode_der

from suitlib.cose import (
    Algorithm,
    KeySigner,
    KeyType,
    MacSigner,
    PrivateKey,
    SymmetricKey,
    Threshold,
    TrustAnchor,
    TrustAnchors,
    load_private_pem,
    load_public_pem,
)
from suitlib.errors import DigestMismatchError, InputError, LimitExceededError, SignatureError
from suitlib.limits import Limits
from suitlib.manifest import decode_envelope, encode_envelope
from suitlib.manifest.auth import (
    UnauthenticatedMemberError,
    attach_signature,
    sign_envelope,
    tbs_bytes,
    verify_envelope,
)

EXAMPLES = ["example0", "example1", "example2-severed", "example3", "example4", "example5"]
SIGNED = [f"{n}-signed.cbor" for n in EXAMPLES] + ["example2-signed.cbor"]
EXAMPLE0_TBS = bytes.fromhex(
    "846a5369676e61747572653143a10126405824822f58206658ea560262696dd1f13b782239a064da7c6c5cbaf52fded428a6fc83c7e5af"
)


@pytest.fixture(scope="module")
def spec_keys(vectors_dir: Path):
    private = load_private_pem((vectors_dir / "private_key.pem").read_bytes())
    public = load_public_pem((vectors_dir / "public_key.pem").read_bytes())
    return private, public


def load(vectors_dir: Path, name: str):
    return decode_envelope((vectors_dir / name).read_bytes())


@pytest.mark.parametrize("name", SIGNED)
def test_signed_vectors_verify(vectors_dir: Path, spec_keys, name: str) -> None:
    env = load(vectors_dir, name)
    (signer,) = verify_envelope(env, [spec_keys[1]])
    assert signer.alg is Algorithm.ES256 and signer.index == 0
    other = PrivateKey.generate(KeyType.P256).public_key()
    with pytest.raises(SignatureError):
        verify_envelope(env, [other])


@pytest.mark.parametrize("name", EXAMPLES)
def test_unsigned_vectors_are_refused_unless_allowed(vectors_dir: Path, spec_keys, name: str) -> None:
    env = load(vectors_dir, f"{name}-unsigned.cbor")
    with pytest.raises(SignatureError, match="not signed"):
        verify_envelope(env, [spec_keys[1]])
    assert verify_envelope(env, [spec_keys[1]], allow_unsigned=True) == ()


@pytest.mark.parametrize("name", EXAMPLES)
def test_signing_the_unsigned_vector_gives_the_signed_vector_but_the_signature(
    vectors_dir: Path, spec_keys, name: str
) -> None:
    unsigned = load(vectors_dir, f"{name}-unsigned.cbor")
    official = (vectors_dir / f"{name}-signed.cbor").read_bytes()
    ours = encode_envelope(sign_envelope(unsigned, KeySigner(spec_keys[0])))
    # the spec signed with randomised ECDSA; everything else is byte-identical
    assert len(ours) == len(official)
    sig_at = official.index(bytes.fromhex("f65840")) + 3
    assert ours[:sig_at] == official[:sig_at] and ours[sig_at + 64:] == official[sig_at + 64:]
    assert ours[sig_at:sig_at + 64] != official[sig_at:sig_at + 64]
    verify_envelope(decode_envelope(ours), [spec_keys[1]])
    # RFC 6979: signing again gives the same bytes
    assert encode_envelope(sign_envelope(unsigned, KeySigner(spec_keys[0]))) == ours


def test_tbs_bytes_of_example0(vectors_dir: Path) -> None:
    env = load(vectors_dir, "example0-unsigned.cbor")
    assert tbs_bytes(env, Algorithm.ES256) == EXAMPLE0_TBS
    assert tbs_bytes(env, Algorithm.ES256, kid=b"unprotected kid") == EXAMPLE0_TBS
    assert tbs_bytes(env, Algorithm.ES256, kid=b"k", kid_protected=True) != EXAMPLE0_TBS


def test_sign_modes(vectors_dir: Path, spec_keys) -> None:
    signed = load(vectors_dir, "example0-signed.cbor")
    other = PrivateKey.generate(KeyType.ED25519)
    with pytest.raises(InputError, match="already has 1"):
        sign_envelope(signed, KeySigner(other))
    appended = sign_envelope(signed, KeySigner(other, kid=b"ed"), mode="append")
    assert appended.authentication.blocks[0] == signed.authentication.blocks[0]
    assert len(appended.authentication.blocks) == 2
    env = decode_envelope(encode_envelope(appended))
    assert [v.index for v in verify_envelope(env, [spec_keys[1], other.public_key()])] == [0, 1]
    (only,) = verify_envelope(env, [other.public_key()])
    assert only.index == 1 and only.kid == b"ed" and only.alg is Algorithm.EDDSA
    assert len(verify_envelope(env, [spec_keys[1], other.public_key()], policy=Threshold(2))) == 2
    replaced = sign_envelope(signed, KeySigner(other), mode="replace")
    assert len(replaced.authentication.blocks) == 1
    with pytest.raises(SignatureError):
        verify_envelope(replaced, [spec_keys[1]])
    with pytest.raises(LimitExceededError):
        sign_envelope(signed, KeySigner(other), mode="append", limits=Limits(max_signatures=1))


def test_mac0_envelope(vectors_dir: Path) -> None:
    env = load(vectors_dir, "example1-unsigned.cbor")
    secret = SymmetricKey(hashlib.sha256(b"device secret").digest())
    maced = decode_envelope(encode_envelope(sign_envelope(env, MacSigner(secret, kid=b"dev"))))
    (v,) = verify_envelope(maced, [TrustAnchor(secret, kid=b"dev")])
    assert v.alg is Algorithm.HMAC_256_256
    with pytest.raises(SignatureError):
        verify_envelope(maced, [SymmetricKey(bytes(32))])


def test_external_signature_with_the_ecdsa_package(vectors_dir: Path) -> None:
    env = load(vectors_dir, "example3-unsigned.cbor")
    sk = ecdsa.SigningKey.generate(curve=ecdsa.NIST256p)
    public = load_public_pem(sk.get_verifying_key().to_pem())
    tbs = tbs_bytes(env, Algorithm.ESP256, kid=b"hsm")
    der = sk.sign(tbs, hashfunc=hashlib.sha256, sigencode=sigencode_der)
    signed = attach_signature(env, der, public, Algorithm.ESP256, kid=b"hsm")
    (v,) = verify_envelope(decode_envelope(encode_envelope(signed)), [public])
    assert v.kid == b"hsm" and v.alg is Algorithm.ESP256
    # wrong public key, wrong alg or a signature over other bytes: refused, nothing attached
    with pytest.raises(SignatureError):
        attach_signature(env, der, PrivateKey.generate(KeyType.P256).public_key(), Algorithm.ESP256, kid=b"hsm")
    with pytest.raises(SignatureError):
        attach_signature(env, der, public, Algorithm.ES256, kid=b"hsm", kid_protected=True)
    with pytest.raises(SignatureError):
        attach_signature(env, b"\x00" * 10, public, Algorithm.ESP256)


def test_digest_mismatch_is_found_before_the_signature(vectors_dir: Path, spec_keys) -> None:
    env = load(vectors_dir, "example0-signed.cbor")
    tampered = dataclasses.replace(env, manifest=dataclasses.replace(env.manifest, sequence_number=2))
    with pytest.raises(DigestMismatchError):
        verify_envelope(tampered, [spec_keys[1]])
    with pytest.raises(DigestMismatchError):
        sign_envelope(tampered, KeySigner(spec_keys[0]), mode="replace")


def test_severed_member_must_match_its_digest(vectors_dir: Path, spec_keys) -> None:
    env = load(vectors_dir, "example2-signed.cbor")
    assert env.elements  # install and text travel in the envelope
    verify_envelope(env, [spec_keys[1]])
    text_key = 23
    swapped = dataclasses.replace(env, elements={**env.elements, text_key: env.elements[20]})
    with pytest.raises(DigestMismatchError):
        verify_envelope(swapped, [spec_keys[1]])


def test_unknown_envelope_members_are_refused_unless_allowed(vectors_dir: Path, spec_keys) -> None:
    env = load(vectors_dir, "example0-signed.cbor")
    extended = dataclasses.replace(env, extensions={99: b"unauthenticated"})
    extended.__dict__["manifest_bstr"] = env.manifest_bstr
    with pytest.raises(UnauthenticatedMemberError):
        verify_envelope(extended, [spec_keys[1]])
    assert verify_envelope(extended, [spec_keys[1]], allow_unknown_members=True)


def test_kid_selects_among_several_anchors(vectors_dir: Path) -> None:
    env = load(vectors_dir, "example5-unsigned.cbor")
    keys = {n: PrivateKey.generate(KeyType.P256) for n in (b"a", b"b")}
    anchors = TrustAnchors([TrustAnchor(k.public_key(), kid=n, name=n.decode()) for n, k in keys.items()])
    signed = sign_envelope(env, KeySigner(keys[b"b"], kid=b"b"))
    (v,) = verify_envelope(signed, anchors)
    assert v.anchor.name == "b"
    lying = sign_envelope(env, KeySigner(keys[b"b"], kid=b"a"))
    with pytest.raises(SignatureError):
        verify_envelope(lying, anchors)


class _EcdsaPackageVerifier:
    """A :class:`Verifier` that is not suitlib's: verification done by the ``ecdsa`` package."""

    def __init__(self, vk: ecdsa.VerifyingKey, anchor: TrustAnchor) -> None:
        self.vk, self.anchor, self.calls = vk, anchor, 0

    def verify(self, message, payload: bytes, *, external_aad: bytes = b"") -> TrustAnchor:
        self.calls += 1
        try:
            self.vk.verify(message.signature, message.to_be_signed(payload, external_aad),
                           hashfunc=hashlib.sha256, sigdecode=ecdsa.util.sigdecode_string)
        except ecdsa.BadSignatureError:
            raise SignatureError("rejected by the external verifier") from None
        return self.anchor


def test_a_custom_verifier_plugs_into_verify_envelope(vectors_dir: Path, spec_keys) -> None:
    vk = ecdsa.VerifyingKey.from_pem((vectors_dir / "public_key.pem").read_text())
    verifier = _EcdsaPackageVerifier(vk, TrustAnchor(spec_keys[1], name="external"))
    (v,) = verify_envelope(load(vectors_dir, "example4-signed.cbor"), verifier)
    assert v.anchor.name == "external" and verifier.calls == 1
    resigned = sign_envelope(load(vectors_dir, "example4-signed.cbor"), KeySigner(PrivateKey.generate(KeyType.P256)),
                             mode="replace")
    with pytest.raises(SignatureError, match="external verifier"):
        verify_envelope(resigned, verifier)


def _resigned(env, key: PrivateKey, **changes):
    """``env`` with ``changes`` that leave the manifest alone, signed again."""
    changed = dataclasses.replace(env, **changes)
    changed.__dict__["manifest_bstr"] = env.manifest_bstr
    return sign_envelope(changed, KeySigner(key), mode="replace")


def test_integrated_payloads_must_be_referred_to_by_the_manifest(vectors_dir: Path, spec_keys) -> None:
    env = load(vectors_dir, "example1-unsigned.cbor")  # install fetches http://example.com/file.bin
    referenced = _resigned(env, spec_keys[0], integrated={"http://example.com/file.bin": b"image"})
    assert verify_envelope(decode_envelope(encode_envelope(referenced)), [spec_keys[1]])
    stray = _resigned(env, spec_keys[0], integrated={"#other": b"image"})
    with pytest.raises(UnauthenticatedMemberError, match="#other"):
        verify_envelope(decode_envelope(encode_envelope(stray)), [spec_keys[1]])
    assert verify_envelope(stray, [spec_keys[1]], allow_unknown_members=True)


def test_delegation_chains_are_not_silently_trusted(vectors_dir: Path, spec_keys) -> None:
    from suitlib.errors import UnsupportedError

    env = _resigned(load(vectors_dir, "example0-unsigned.cbor"), spec_keys[0], delegation=b"\x80")
    with pytest.raises(UnsupportedError, match="delegation"):
        verify_envelope(decode_envelope(encode_envelope(env)), [spec_keys[1]])
    assert verify_envelope(env, [spec_keys[1]], allow_unknown_members=True)
