"""RFC 9124 §4.2.4 THREAT.IMG.FORMAT → REQ.SEC.AUTH.IMG_TYPE.

How the payload is to be interpreted (plain image, encrypted, patch) is stated by parameters in
the signed manifest. The processor refuses a transformation it does not implement instead of
writing the bytes as if they were a plain image, and a payload in an unexpected format cannot
pass the image digest.
"""

from __future__ import annotations

from suitlib.errors import DigestMismatchError, UnsupportedError
from suitlib.processor.program import Param
from suitlib.processor.report import ReportReason
from tests.processor.support import build, device, install_of, payload, processor

FW = payload(3000, 40)


def test_an_encrypted_payload_is_not_installed_as_plain_firmware() -> None:
    env = build(install=install_of_encrypted())
    platform = device(resources={"coap://fw": b"ciphertext" * 10})
    result = processor(platform).update(env)
    assert isinstance(result.error, UnsupportedError)
    assert result.report.result.reason == ReportReason.PARAMETER_UNSUPPORTED
    assert platform.fetcher_impl.requests == [] and platform.content((b"\x00",)) is None


def install_of_encrypted():  # type: ignore[no-untyped-def]
    from tests.processor.support import Cmd, seq, sha256

    return seq(
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS,
        {Param.URI: "coap://fw", Param.IMAGE_DIGEST: sha256(FW), Param.ENCRYPTION_INFO: b"\xd8\x60\x84"},
        Cmd.DIRECTIVE_FETCH, 2,
        Cmd.CONDITION_IMAGE_MATCH, 15,
    )


def test_a_payload_in_another_format_fails_the_image_digest() -> None:
    """The server serves another rendition (here: 16-bit byte-swapped) of the same length."""
    swapped = b"".join(FW[i : i + 2][::-1] for i in range(0, len(FW), 2))
    assert len(swapped) == len(FW) and swapped != FW
    platform = device(resources={"coap://fw": swapped})
    result = processor(platform).update(build(install=install_of("coap://fw", FW)))
    assert isinstance(result.error, DigestMismatchError)
    assert platform.load_sequence_number() is None
