"""RFC 9124 §4.2.6 THREAT.NET.REDIRECT → REQ.SEC.AUTH.REMOTE_LOC: the URI is signed."""

from __future__ import annotations

from suitlib.errors import DigestMismatchError, SignatureError, VerificationError
from tests.processor.support import build, device, install_of, payload, processor

FW, EVIL = payload(1000, 60), payload(1000, 61)


def test_rewriting_the_uri_in_the_manifest_breaks_the_signature() -> None:
    env = build(install=install_of("coap://good.example/fw", FW))
    forged = env.replace(b"good.example", b"evil.example")
    platform = device(resources={"coap://evil.example/fw": EVIL})
    result = processor(platform).update(forged)
    assert isinstance(result.error, VerificationError)
    assert platform.fetcher_impl.requests == []


def test_a_redirected_fetch_cannot_install_the_attackers_payload() -> None:
    """The network redirects the (signed) URI to attacker content: the digest stops it."""
    platform = device(resources={"coap://good.example/fw": EVIL})
    result = processor(platform).update(build(install=install_of("coap://good.example/fw", FW)))
    assert isinstance(result.error, DigestMismatchError)
    assert platform.load_sequence_number() is None


def test_an_unsigned_manifest_pointing_elsewhere_is_refused() -> None:
    platform = device(resources={"coap://evil.example/fw": EVIL})
    result = processor(platform).update(build(signer=None, install=install_of("coap://evil.example/fw", EVIL)))
    assert isinstance(result.error, SignatureError)
    assert platform.fetcher_impl.requests == []
