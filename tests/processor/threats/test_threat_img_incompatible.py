"""RFC 9124 §4.2.3 THREAT.IMG.INCOMPATIBLE → REQ.SEC.COMPATIBLE: vendor, class, device ids."""

from __future__ import annotations

from suitlib.errors import ConditionFailedError, PolicyError
from suitlib.processor.processor import ProcessorPolicy
from suitlib.processor.program import Cmd, Param
from tests.processor.support import build, device, identity_checks, install_of, payload, processor, seq

FW = payload(1200, 30)
OTHER_CLASS = bytes(range(16))


def test_firmware_for_another_class_signed_by_a_trusted_author_is_refused() -> None:
    """The Author signs for two device types; the class check keeps the image off the wrong one."""
    platform = device(class_id=OTHER_CLASS, resources={"coap://fw": FW})
    result = processor(platform).update(build(install=install_of("coap://fw", FW)))
    assert isinstance(result.error, ConditionFailedError)
    assert result.report.result.code == Cmd.CONDITION_CLASS_IDENTIFIER
    assert platform.fetcher_impl.requests == [] and platform.content((b"\x00",)) is None


def test_firmware_for_another_vendor_is_refused() -> None:
    platform = device(vendor_id=b"\x99" * 16, resources={"coap://fw": FW})
    result = processor(platform).update(build(install=install_of("coap://fw", FW)))
    assert result.report.result.code == Cmd.CONDITION_VENDOR_IDENTIFIER


def test_device_identifier_pins_an_image_to_one_device() -> None:
    me, other = b"\x01" * 16, b"\x02" * 16
    shared = identity_checks({Param.DEVICE_IDENTIFIER: me}, Cmd.CONDITION_DEVICE_IDENTIFIER, 15)
    env = build(shared=shared, install=install_of("coap://fw", FW))
    assert processor(device(device_id=me, resources={"coap://fw": FW})).update(env).ok
    refused = processor(device(device_id=other, resources={"coap://fw": FW})).update(env)
    assert refused.report.result.code == Cmd.CONDITION_DEVICE_IDENTIFIER


def test_a_manifest_that_skips_the_compatibility_check_is_refused_by_default() -> None:
    shared = seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.URI: "coap://fw"})
    env = build(shared=shared, install=install_of("coap://fw", FW))
    platform = device(resources={"coap://fw": FW})
    result = processor(platform).update(env)
    assert isinstance(result.error, PolicyError)
    assert platform.fetcher_impl.requests == []
    # a device that explicitly opts out (e.g. a single-purpose test rig) may accept it
    relaxed = processor(platform, policy=ProcessorPolicy(require_identity_checks=False)).update(env)
    assert relaxed.ok
