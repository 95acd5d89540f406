"""The mote's bootloader checks an image with the SUIT invocation procedure (authenticate,
vendor/class, validate image-match, invoke) over the envelope stored with it."""

from __future__ import annotations

from suitlib.sim.manufacturer import delta_release, full_release, make_spec, sign
from suitlib.sim.mote import Mote

from tests.e2e.support import KEY, corpus_pair

PROFILE = "nrf52840"
OLD, NEW = corpus_pair("mbed-blinky-k64f")


def verifier():  # type: ignore[no-untyped-def]
    return Mote(PROFILE, "coap://127.0.0.1:9", [KEY.public_key()]).bootloader.verifier


def test_full_and_delta_releases_boot_and_carry_their_sequence_number() -> None:
    v = verifier()
    for release in (full_release(NEW, 3, PROFILE, KEY), delta_release(OLD, NEW, 4, PROFILE, KEY)):
        verdict = v.verify(NEW, release.envelope)
        assert verdict.accepted, verdict.reason
        assert verdict.security_counter == release.sequence


def test_a_changed_image_another_class_or_no_invoke_sequence_does_not_boot() -> None:
    v = verifier()
    envelope = full_release(NEW, 3, PROFILE, KEY).envelope
    flipped = bytearray(NEW)
    flipped[len(NEW) // 2] ^= 0x01
    assert not v.verify(bytes(flipped), envelope).accepted
    assert not v.verify(NEW, full_release(NEW, 3, "nrf52832", KEY).envelope).accepted
    spec = make_spec(NEW, 3, PROFILE, "/suit/payload/x", delta=False)
    del spec["suit-manifest"]["suit-invoke"]
    assert not v.verify(NEW, sign(spec, KEY)).accepted
