"""RFC 9124 §4.2.15 THREAT.IMG.EXTRA → REQ.SEC.IMG.COMPLETE_DIGEST.

The image digest covers the whole image and the image size bounds it: a payload with data
appended is refused while it is fetched (image-size bound), an image-match requires the
component to hold exactly image-size bytes, and data appended after installation fails the
check at boot.
"""

from __future__ import annotations

from suitlib.errors import DigestMismatchError, LimitExceededError
from suitlib.processor.program import Cmd, Param
from tests.processor.support import C0, INVOKE, build, device, install_of, payload, processor, seq, sha256, validate_of

FW = payload(10_000, 150)
EXTRA = b"\x00\xbf\x00\x47" * 64  # "extra code" after the genuine image


def test_fetch_stops_at_the_signed_image_size() -> None:
    platform = device(resources={"coap://fw": FW + EXTRA})
    result = processor(platform).update(build(install=install_of("coap://fw", FW)))
    assert isinstance(result.error, LimitExceededError)
    assert platform.content(C0) is None  # the partial write was discarded


def test_without_image_size_the_digest_over_everything_catches_it() -> None:
    install = seq(
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.URI: "coap://fw", Param.IMAGE_DIGEST: sha256(FW)},
        Cmd.DIRECTIVE_FETCH, 2,
        Cmd.CONDITION_IMAGE_MATCH, 15,
    )
    platform = device(resources={"coap://fw": FW + EXTRA})
    assert isinstance(processor(platform).update(build(install=install)).error, DigestMismatchError)


def test_data_appended_after_install_fails_the_boot_check() -> None:
    env = build(install=install_of("coap://fw", FW), validate=validate_of(FW), invoke=INVOKE)
    platform = device(resources={"coap://fw": FW})
    assert processor(platform).update(env).ok
    platform.tamper(C0, FW + EXTRA)
    result = processor(platform).invoke(env)
    assert isinstance(result.error, DigestMismatchError)
    assert platform.actions("invoke") == []
