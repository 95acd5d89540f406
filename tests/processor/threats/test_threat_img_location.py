"""RFC 9124 §4.2.5 THREAT.IMG.LOCATION → REQ.SEC.AUTH.IMG_LOC.

Where a payload goes is the component identifier in the signed manifest. The processor writes
only the component a command targets, refuses a component the device does not have, and a
changed component identifier breaks the signature.
"""

from __future__ import annotations

from suitlib.errors import VerificationError
from suitlib.processor.program import Cmd, Param
from suitlib.processor.report import ReportReason
from tests.processor.support import (
    C0,
    C1,
    build,
    device,
    identity_checks,
    install_of,
    payload,
    processor,
    seq,
    sha256,
)

FW = payload(900, 50)


def test_payload_lands_only_in_the_named_component() -> None:
    platform = device(components=(C0, C1), resources={"coap://app": FW})
    install = seq(
        Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 1,
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.URI: "coap://app", Param.IMAGE_DIGEST: sha256(FW)},
        Cmd.DIRECTIVE_FETCH, 2,
        Cmd.CONDITION_IMAGE_MATCH, 15,
    )
    shared = seq(Cmd.DIRECTIVE_SET_COMPONENT_INDEX, True, *[x for c in identity_checks() for x in (c.code, c.argument)])
    assert processor(platform).update(build(components=(C0, C1), shared=shared, install=install)).ok
    assert platform.content(C1) == FW and platform.content(C0) is None


def test_a_component_the_device_does_not_have_is_refused() -> None:
    platform = device(resources={"coap://fw": FW})
    result = processor(platform).update(build(components=((b"bootloader",),), install=install_of("coap://fw", FW)))
    assert result.report.result.reason == ReportReason.COMPONENT_UNSUPPORTED
    assert platform.fetcher_impl.requests == []


def test_retargeting_the_component_breaks_the_signature() -> None:
    env = build(install=install_of("coap://fw", FW))
    forged = env.replace(b"\x81\x41\x00", b"\x81\x41\x01")  # components: [[h'00']] -> [[h'01']]
    assert forged != env
    platform = device(components=(C0, C1), resources={"coap://fw": FW})
    result = processor(platform).update(forged)
    assert isinstance(result.error, VerificationError)
    assert platform.log == []
