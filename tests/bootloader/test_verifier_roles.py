"""A device's verifier only verifies; making envelopes is a separate, host-side role."""

from __future__ import annotations

import pytest

from suitlib.bootloader import DigestVerifier, EnvelopeMaker, ImageVerifier, Verdict
from suitlib.bootloader.reference import ReferenceBootloader
from suitlib.errors import UnsupportedError
from suitlib.flash import FlashEmulator


class VerifyOnly:
    def verify(self, image: bytes, envelope: bytes) -> Verdict:
        return Verdict(envelope == b"ok", 1)


def test_roles_are_separate_protocols() -> None:
    assert isinstance(VerifyOnly(), ImageVerifier) and not isinstance(VerifyOnly(), EnvelopeMaker)
    assert isinstance(DigestVerifier(), ImageVerifier) and isinstance(DigestVerifier(), EnvelopeMaker)


def test_a_verify_only_bootloader_sizes_slots_from_an_explicit_envelope_size() -> None:
    flash = FlashEmulator.from_profile("nrf52840")
    device = ReferenceBootloader("swap", verifier=VerifyOnly())
    host = ReferenceBootloader("swap")
    envelope = len(DigestVerifier().make_envelope(b"", 0))
    assert device.max_image_size(flash, envelope_size=envelope) == host.max_image_size(flash)
    assert device.max_image_size(flash, envelope_size=envelope + 400) < host.max_image_size(flash)
    with pytest.raises(UnsupportedError):
        device.max_image_size(flash)
    with pytest.raises(UnsupportedError):
        device.envelope_for(b"image", 1)
