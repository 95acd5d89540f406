"""The slot container and the digest verifier never raise on hostile bytes."""

from __future__ import annotations

import os

from hypothesis import given
from hypothesis import strategies as st

from suitlib.bootloader import DigestVerifier
from suitlib.bootloader import image as container
from suitlib.flash import FlashEmulator, Geometry


def test_digest_verifier_accepts_and_refuses() -> None:
    v = DigestVerifier()
    img = os.urandom(3000)
    env = v.make_envelope(img, 7)
    assert v.verify(img, env).accepted and v.verify(img, env).security_counter == 7
    assert not v.verify(img[:-1] + bytes([img[-1] ^ 1]), env).accepted
    assert not v.verify(img + b"\x00", env).accepted
    assert not v.verify(img, env[:-1]).accepted


@given(st.binary(max_size=200), st.binary(max_size=200))
def test_verifier_never_raises(image: bytes, envelope: bytes) -> None:
    verdict = DigestVerifier().verify(image, envelope)
    assert verdict.accepted in (True, False)


@given(st.binary(min_size=16, max_size=256))
def test_container_read_is_bounded(raw: bytes) -> None:
    f = FlashEmulator(Geometry.uniform(8192, 1024, write_unit=4))
    f.load(0, raw)
    c = container.read(f, 0, 4096)
    if c is not None:
        assert c.total(4) <= 4096


def test_container_roundtrip() -> None:
    f = FlashEmulator(Geometry.uniform(8192, 1024, write_unit=16))
    header, body = container.build(b"abc" * 100, b"env", 16, 0xFF)
    f.load(0, header + body)
    c = container.read(f, 0, 4096)
    assert c is not None and c.image == b"abc" * 100 and c.envelope == b"env"
