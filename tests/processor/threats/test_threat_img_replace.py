"""RFC 9124 §4.2.8 THREAT.IMG.REPLACE → REQ.SEC.AUTH.EXEC.

The attacker replaces a downloaded, verified image before it is booted. The invocation
procedure verifies the image again (suit-validate's image-match) immediately before invoke,
and a component that no image-match verified in that procedure is not invoked at all.
"""

from __future__ import annotations

from suitlib.errors import DigestMismatchError, PolicyError
from tests.processor.support import C0, INVOKE, build, device, install_of, payload, processor, validate_of

FW, EVIL = payload(4096, 80), payload(4096, 81)


def test_image_replaced_between_install_and_boot_is_not_invoked() -> None:
    env = build(install=install_of("coap://fw", FW), validate=validate_of(FW), invoke=INVOKE)
    platform = device(resources={"coap://fw": FW})
    assert processor(platform).update(env).ok
    platform.tamper(C0, EVIL)  # physical access / another exploit rewrites the slot
    result = processor(platform).invoke(env)
    assert isinstance(result.error, DigestMismatchError)
    assert platform.actions("invoke") == []


def test_a_manifest_that_invokes_without_validating_is_refused() -> None:
    env = build(invoke=INVOKE)  # no suit-validate
    platform = device(contents={C0: EVIL})
    result = processor(platform).invoke(env)
    assert isinstance(result.error, PolicyError)
    assert platform.actions("invoke") == []


def test_an_unchanged_image_boots() -> None:
    env = build(install=install_of("coap://fw", FW), validate=validate_of(FW), invoke=INVOKE)
    platform = device(resources={"coap://fw": FW})
    assert processor(platform).update(env).ok
    assert processor(platform).invoke(env).ok
    assert platform.actions("invoke") == [("invoke", C0, None)]
