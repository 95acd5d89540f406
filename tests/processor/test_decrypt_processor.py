"""The decryption transformer inside the real manifest processor (signed envelope → slot).

The interpreter still refuses ``suit-parameter-encryption-info`` on fetch (it lists it in
``TRANSFORMING_PARAMS``) until it consults the transformers' ``handled_parameters``. These tests
stand in for that one-line hook by emptying ``TRANSFORMING_PARAMS`` for their duration, and
otherwise run the unmodified processor: authentication, fetch through the transformer,
image-match, sequence number.
"""

from __future__ import annotations

import pytest

from suitlib.cose.encrypt import ContentAlgorithm, KeyWrapKey, encrypt_payload
from suitlib.cose.encrypt_errors import KeyUnwrapError, TagMismatchError
from suitlib.processor import interpreter
from suitlib.processor.decrypt import DecryptTransformer
from suitlib.processor.program import Cmd, Param
from tests.processor.support import C0, build, device, payload, processor, seq, sha256

STAGING = (b"staging",)
FW = payload(30_000, 91)
KEK = KeyWrapKey(bytes(range(16)), kid=b"dev")


@pytest.fixture(autouse=True)
def processor_accepts_encryption_info(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interpreter, "TRANSFORMING_PARAMS", ())


def envelope(info: bytes, content: ContentAlgorithm) -> bytes:
    params = {Param.URI: "coap://fw.enc", Param.ENCRYPTION_INFO: info, Param.IMAGE_DIGEST: sha256(FW)}
    if not content.is_aead:  # the processor bounds the fetched (cipher) bytes by image-size
        params[Param.IMAGE_SIZE] = len(FW)
    return build(install=seq(
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, params,
        Cmd.DIRECTIVE_FETCH, 2,
        Cmd.CONDITION_IMAGE_MATCH, 15,
    ))


@pytest.mark.parametrize("content", list(ContentAlgorithm))
@pytest.mark.parametrize("staged", [False, True])
def test_encrypted_update_installs_the_plaintext(content: ContentAlgorithm, staged: bool) -> None:
    enc = encrypt_payload(FW, [KEK], content_alg=content)
    platform = device(components=(C0, STAGING), resources={"coap://fw.enc": enc.ciphertext})
    transformer = DecryptTransformer([KEK], staging=STAGING if staged else None)
    result = processor(platform, transformers=(transformer,)).update(envelope(enc.info, content))
    assert result.ok, result.error
    assert platform.content(C0) == FW
    assert platform.load_sequence_number() == 1


@pytest.mark.parametrize("content", list(ContentAlgorithm))
def test_wrong_key_fails_the_update_with_nothing_installed(content: ContentAlgorithm) -> None:
    enc = encrypt_payload(FW, [KEK], content_alg=content)
    platform = device(components=(C0, STAGING), resources={"coap://fw.enc": enc.ciphertext})
    transformer = DecryptTransformer([KeyWrapKey(bytes(16), kid=b"dev")], staging=STAGING)
    result = processor(platform, transformers=(transformer,)).update(envelope(enc.info, content))
    assert isinstance(result.error, KeyUnwrapError)
    assert set(platform.content(C0) or b"") <= {0}  # erased (or empty): no plaintext byte
    assert platform.load_sequence_number() is None


def test_modified_ciphertext_fails_the_update_with_nothing_installed() -> None:
    enc = encrypt_payload(FW, [KEK])
    bad = bytearray(enc.ciphertext)
    bad[1234] ^= 1
    platform = device(components=(C0, STAGING), resources={"coap://fw.enc": bytes(bad)})
    transformer = DecryptTransformer([KEK], staging=STAGING)
    result = processor(platform, transformers=(transformer,)).update(envelope(enc.info, ContentAlgorithm.A128GCM))
    assert isinstance(result.error, TagMismatchError)
    assert platform.content(C0) is None and platform.content(STAGING) is None
    assert platform.load_sequence_number() is None
