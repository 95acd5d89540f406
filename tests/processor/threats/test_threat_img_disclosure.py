"""RFC 9124 §4.2.12 THREAT.IMG.DISCLOSURE → REQ.SEC.IMG.CONFIDENTIALITY.

Confidentiality comes from firmware encryption (draft-ietf-suit-firmware-encryption): with a
`DecryptTransformer` configured, the image travels and is stored in the fetch path only as
ciphertext and the device installs the plaintext after the image digest matches. Without one,
an encrypted payload is never mistaken for plaintext: a fetch, copy or write whose parameters
carry suit-parameter-encryption-info is refused before any byte moves.
"""

from __future__ import annotations

import pytest

from suitlib.cose.encrypt import ContentAlgorithm, KeyWrapKey, encrypt_payload
from suitlib.errors import UnsupportedError
from suitlib.processor.decrypt import DecryptTransformer
from suitlib.processor.program import Cmd, Param
from tests.processor.support import C0, C1, build, device, identity_checks, payload, processor, seq, sha256

FW = payload(800, 130)
COSE_ENCRYPT = b"\xd8\x60\x84\x40\xa0\xf6\x80"  # a (minimal) #6.96(COSE_Encrypt) byte string


@pytest.mark.parametrize("directive", [Cmd.DIRECTIVE_FETCH, Cmd.DIRECTIVE_COPY, Cmd.DIRECTIVE_WRITE])
def test_encrypted_payloads_are_refused_not_mis_installed(directive: int) -> None:
    shared = seq(Cmd.DIRECTIVE_SET_COMPONENT_INDEX, True, *[x for c in identity_checks() for x in (c.code, c.argument)])
    install = seq(
        Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 0,
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS,
        {Param.URI: "coap://enc", Param.SOURCE_COMPONENT: 1, Param.CONTENT: b"secret",
         Param.ENCRYPTION_INFO: COSE_ENCRYPT, Param.IMAGE_DIGEST: sha256(FW)},
        directive, 2,
        Cmd.CONDITION_IMAGE_MATCH, 15,
    )
    platform = device(components=(C0, C1), contents={C1: b"ciphertext"}, resources={"coap://enc": b"ciphertext"})
    result = processor(platform).update(build(components=(C0, C1), shared=shared, install=install))
    assert isinstance(result.error, UnsupportedError)
    assert result.error.parameter == Param.ENCRYPTION_INFO
    assert platform.content(C0) is None and platform.fetcher_impl.requests == []


@pytest.mark.parametrize("content", list(ContentAlgorithm))
def test_the_wire_carries_ciphertext_and_the_device_installs_plaintext(content: ContentAlgorithm) -> None:
    kek = KeyWrapKey(bytes(range(16)), kid=b"dev")
    enc = encrypt_payload(FW, [kek], content_alg=content)
    # an eavesdropper sees only the ciphertext: no 16-byte window of the image appears in it
    assert all(FW[i:i + 16] not in enc.ciphertext for i in range(0, len(FW) - 16, 16))
    install = seq(
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS,
        {Param.URI: "coap://enc", Param.ENCRYPTION_INFO: enc.info, Param.IMAGE_DIGEST: sha256(FW),
         Param.IMAGE_SIZE: len(FW)},
        Cmd.DIRECTIVE_FETCH, 2,
        Cmd.CONDITION_IMAGE_MATCH, 15,
    )
    platform = device(components=(C0,), resources={"coap://enc": enc.ciphertext})
    result = processor(platform, transformers=(DecryptTransformer([kek]),)).update(build(install=install))
    assert result.ok, result.error
    assert platform.content(C0) == FW
