"""RFC 9124 §4.2.11 THREAT.UPD.UNAPPROVED → REQ.SEC.RIGHTS, REQ.SEC.ACCESS_CONTROL.

The device decides whose approval it needs through its trust anchors and signature policy:
e.g. both the firmware author and the device operator must sign (k-of-n). An update signed by
the author alone, however authentic, is not installed.
"""

from __future__ import annotations

from suitlib.cose import KeySigner, KeyType, PrivateKey, Threshold, TrustAnchor
from suitlib.errors import SignatureError
from tests.processor.support import build, device, install_of, payload, processor, spec_signer

FW = payload(1000, 120)
OPERATOR = PrivateKey.generate(KeyType.P256)


def anchors() -> list[TrustAnchor]:
    return [TrustAnchor(spec_signer().key.public_key(), name="author"),
            TrustAnchor(OPERATOR.public_key(), name="operator")]


def test_author_signature_alone_is_not_enough_when_the_operator_must_approve() -> None:
    env = build(install=install_of("coap://fw", FW))
    platform = device(resources={"coap://fw": FW})
    result = processor(platform, anchors(), signature_policy=Threshold(2)).update(env)
    assert isinstance(result.error, SignatureError)
    assert platform.fetcher_impl.requests == []


def test_author_and_operator_together_are_enough() -> None:
    env = build(signer=[spec_signer(), KeySigner(OPERATOR)], install=install_of("coap://fw", FW))
    platform = device(resources={"coap://fw": FW})
    assert processor(platform, anchors(), signature_policy=Threshold(2)).update(env).ok


def test_two_blocks_from_the_same_signer_do_not_count_twice() -> None:
    env = build(signer=[spec_signer(), spec_signer()], install=install_of("coap://fw", FW))
    platform = device(resources={"coap://fw": FW})
    assert isinstance(processor(platform, anchors(), signature_policy=Threshold(2)).update(env).error, SignatureError)
