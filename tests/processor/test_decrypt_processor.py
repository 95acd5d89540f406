"""The decryption transformer inside the real manifest processor (signed envelope → slot).

The interpreter accepts ``suit-parameter-encryption-info`` on fetch and copy when a configured
transformer lists it in ``handled_parameters`` (DecryptTransformer does); image-size bounds what
reaches the component (the plaintext), and the component writer opens at the first byte, so a
refusal before any plaintext leaves the component untouched.
"""

from __future__ import annotations

import pytest

from suitlib.cose.encrypt import ContentAlgorithm, KeyWrapKey, encrypt_payload
from suitlib.cose.encrypt_errors import KeyUnwrapError, PlaintextDigestError, TagMismatchError
from suitlib.errors import DigestMismatchError, UnsupportedError
from suitlib.processor.decrypt import DecryptTransformer
from suitlib.processor.program import Cmd, Param
from tests.processor.support import C0, C1, build, device, payload, processor, seq, sha256

STAGING = (b"staging",)
FW = payload(30_000, 91)
OLD = payload(20_000, 92)
KEK = KeyWrapKey(bytes(range(16)), kid=b"dev")


def fetch_envelope(info: bytes) -> bytes:
    params = {Param.URI: "coap://fw.enc", Param.ENCRYPTION_INFO: info, Param.IMAGE_DIGEST: sha256(FW),
              Param.IMAGE_SIZE: len(FW)}
    return build(install=seq(
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, params,
        Cmd.DIRECTIVE_FETCH, 2,
        Cmd.CONDITION_IMAGE_MATCH, 15,
    ))


def fetch_then_copy_envelope(info: bytes, ciphertext: bytes) -> bytes:
    """Draft §5 Figure 4: fetch the ciphertext into component 1 (verified by its own digest,
    draft §5), copy + decrypt into 0."""
    return build(components=(C0, C1), install=seq(
        Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 1,
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS,
        {Param.URI: "coap://fw.enc", Param.IMAGE_SIZE: len(ciphertext), Param.IMAGE_DIGEST: sha256(ciphertext)},
        Cmd.DIRECTIVE_FETCH, 2,
        Cmd.CONDITION_IMAGE_MATCH, 15,
        Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 0,
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS,
        {Param.SOURCE_COMPONENT: 1, Param.ENCRYPTION_INFO: info, Param.IMAGE_DIGEST: sha256(FW),
         Param.IMAGE_SIZE: len(FW)},
        Cmd.DIRECTIVE_COPY, 2,
        Cmd.CONDITION_IMAGE_MATCH, 15,
    ))


@pytest.mark.parametrize("content", list(ContentAlgorithm))
@pytest.mark.parametrize("staged", [False, True])
def test_encrypted_fetch_installs_the_plaintext(content: ContentAlgorithm, staged: bool) -> None:
    enc = encrypt_payload(FW, [KEK], content_alg=content)
    platform = device(components=(C0, STAGING), resources={"coap://fw.enc": enc.ciphertext})
    transformer = DecryptTransformer([KEK], staging=STAGING if staged else None)
    result = processor(platform, transformers=(transformer,)).update(fetch_envelope(enc.info))
    assert result.ok, result.error
    assert platform.content(C0) == FW and platform.content(STAGING) is None
    assert platform.load_sequence_number() == 1


@pytest.mark.parametrize("content", list(ContentAlgorithm))
def test_encrypted_fetch_then_copy_installs_the_plaintext(content: ContentAlgorithm) -> None:
    enc = encrypt_payload(FW, [KEK], content_alg=content)
    platform = device(components=(C0, C1, STAGING), resources={"coap://fw.enc": enc.ciphertext})
    transformer = DecryptTransformer([KEK], staging=STAGING)
    result = processor(platform, transformers=(transformer,)).update(
        fetch_then_copy_envelope(enc.info, enc.ciphertext))
    assert result.ok, result.error
    assert platform.content(C0) == FW and platform.content(C1) == enc.ciphertext


@pytest.mark.parametrize("content", list(ContentAlgorithm))
@pytest.mark.parametrize("staged", [False, True])
def test_wrong_key_leaves_the_installed_image_untouched(content: ContentAlgorithm, staged: bool) -> None:
    enc = encrypt_payload(FW, [KEK], content_alg=content)
    platform = device(components=(C0, STAGING), resources={"coap://fw.enc": enc.ciphertext}, contents={C0: OLD})
    transformer = DecryptTransformer([KeyWrapKey(bytes(16), kid=b"dev")], staging=STAGING if staged else None)
    result = processor(platform, transformers=(transformer,)).update(fetch_envelope(enc.info))
    assert isinstance(result.error, KeyUnwrapError)
    assert platform.content(C0) == OLD and platform.load_sequence_number() is None


@pytest.mark.parametrize("content", list(ContentAlgorithm))
def test_modified_ciphertext_never_reaches_the_slot_when_staged(content: ContentAlgorithm) -> None:
    enc = encrypt_payload(FW, [KEK], content_alg=content)
    bad = bytearray(enc.ciphertext)
    bad[1234] ^= 1
    platform = device(components=(C0, STAGING), resources={"coap://fw.enc": bytes(bad)}, contents={C0: OLD})
    transformer = DecryptTransformer([KEK], staging=STAGING)
    result = processor(platform, transformers=(transformer,)).update(fetch_envelope(enc.info))
    assert isinstance(result.error, TagMismatchError if content.is_aead else PlaintextDigestError)
    assert platform.content(C0) == OLD  # not one byte written: the writer never opened
    assert platform.content(STAGING) is None and platform.load_sequence_number() is None


def test_modified_ciphertext_in_direct_mode_is_erased_from_the_candidate_slot() -> None:
    enc = encrypt_payload(FW, [KEK])
    bad = bytearray(enc.ciphertext)
    bad[1234] ^= 1
    platform = device(components=(C0, STAGING), resources={"coap://fw.enc": bytes(bad)}, contents={C0: OLD})
    result = processor(platform, transformers=(DecryptTransformer([KEK]),)).update(fetch_envelope(enc.info))
    assert isinstance(result.error, TagMismatchError)
    assert platform.content(C0) is None  # aborted: erased, no unauthenticated plaintext kept


def test_ctr_in_direct_mode_is_gated_by_image_match() -> None:
    """A128CTR into a candidate slot: a modified ciphertext decrypts to wrong plaintext, which the
    processor's image-match refuses; the update does not complete."""
    enc = encrypt_payload(FW, [KEK], content_alg=ContentAlgorithm.A128CTR)
    bad = bytearray(enc.ciphertext)
    bad[99] ^= 1
    platform = device(components=(C0, STAGING), resources={"coap://fw.enc": bytes(bad)})
    result = processor(platform, transformers=(DecryptTransformer([KEK]),)).update(fetch_envelope(enc.info))
    assert isinstance(result.error, DigestMismatchError)
    assert platform.load_sequence_number() is None


def test_without_the_transformer_encrypted_payloads_are_still_refused() -> None:
    enc = encrypt_payload(FW, [KEK])
    platform = device(components=(C0, STAGING), resources={"coap://fw.enc": enc.ciphertext}, contents={C0: OLD})
    result = processor(platform).update(fetch_envelope(enc.info))
    assert isinstance(result.error, UnsupportedError)
    assert platform.content(C0) == OLD
