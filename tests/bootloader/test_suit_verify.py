"""Boot-time verification through signed SUIT envelopes (the processor's invocation
procedure), and the reference bootloader running the conformance scenarios with it."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suitlib.bootloader import ReferenceBootloader
from suitlib.bootloader.suit_verify import SuitVerifier
from suitlib.conformance.devices import all_devices
from suitlib.conformance.runner import Options, Suite
from suitlib.conformance.scenarios import BY_ID
from suitlib.cose import KeySigner, load_private_pem, load_public_pem
from suitlib.cose.keys import KeyType, PrivateKey
from tests.conftest import VECTORS

VENDOR, CLASS = bytes(range(16)), bytes(range(16, 32))


def _verifier(signer: bool = True) -> SuitVerifier:
    priv = load_private_pem((VECTORS / "private_key.pem").read_bytes())
    pub = load_public_pem((VECTORS / "public_key.pem").read_bytes())
    return SuitVerifier([pub], vendor_id=VENDOR, class_id=CLASS,
                        signer=KeySigner(priv) if signer else None)


def test_accepts_and_reports_the_sequence_number() -> None:
    v = _verifier()
    img = os.urandom(3000)
    verdict = v.verify(img, v.make_envelope(img, 42))
    assert verdict.accepted and verdict.security_counter == 42


def test_refuses_tampering_wrong_device_and_wrong_key() -> None:
    v = _verifier()
    img = os.urandom(3000)
    env = v.make_envelope(img, 3)
    assert not v.verify(img[:-1] + bytes([img[-1] ^ 1]), env).accepted
    assert not v.verify(img + b"\0", env).accepted
    assert not v.verify(img, env[:-3] + b"\0\0\0").accepted
    other_class = SuitVerifier(v.trust_anchors, vendor_id=VENDOR, class_id=bytes(16))
    assert not other_class.verify(img, env).accepted
    stranger = PrivateKey.generate(KeyType.P256).public_key()
    other_key = SuitVerifier([stranger], vendor_id=VENDOR, class_id=CLASS)
    assert not other_key.verify(img, env).accepted


@settings(max_examples=60)
@given(st.binary(max_size=300))
def test_garbage_envelopes_are_refused_not_raised(envelope: bytes) -> None:
    assert not _verifier(signer=False).verify(b"image", envelope).accepted


def suit_swap() -> ReferenceBootloader:
    return ReferenceBootloader("swap", verifier=_verifier())


@pytest.mark.parametrize("scenario,schedule", [("perm-upgrade", "cut"), ("test-revert", "none"),
                                               ("invalid-candidate", "none"),
                                               ("downgrade", "none")])
def test_reference_with_suit_verifier_passes(scenario: str, schedule: str) -> None:
    suite = Suite(suit_swap, Options(max_points=12))
    runs = list(suite.run(BY_ID[scenario], all_devices()["tiny"], {schedule}))
    assert runs and [r.id for r in runs if not r.passed] == []
