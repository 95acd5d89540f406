"""RFC 9124 §4.2.9 THREAT.IMG.NON_AUTH → REQ.SEC.AUTHENTIC: authenticate before anything else."""

from __future__ import annotations

import pytest

from suitlib.cose import KeySigner, KeyType, MacSigner, PrivateKey, SymmetricKey
from suitlib.errors import SignatureError, VerificationError
from suitlib.processor.processor import ProcessorPolicy
from suitlib.processor.report import ReportReason
from tests.processor.support import (
    MAC_KEY,
    build,
    device,
    install_of,
    payload,
    processor,
    run_envelope,
    spec_public_key,
    vector,
)

FW = payload(1000, 100)


UNSIGNED = [f"example{n}-unsigned.cbor" for n in (0, 1, 3, 4, 5)] + ["example2-severed-unsigned.cbor"]


@pytest.mark.parametrize("name", UNSIGNED)
def test_unsigned_spec_examples_are_refused_without_any_effect(name: str) -> None:
    platform = device(slots={(b"\x00",): 0})
    result = run_envelope(vector(name), platform)
    assert isinstance(result.error, SignatureError)
    assert result.report.result.reason == ReportReason.UNAUTHORISED
    assert result.report.records == ()
    assert platform.log == []


def test_unsigned_is_accepted_only_when_explicitly_allowed() -> None:
    env = build(signer=None, install=install_of("coap://fw", FW))
    platform = device(resources={"coap://fw": FW})
    assert isinstance(processor(platform).update(env).error, SignatureError)
    allowed = processor(platform, policy=ProcessorPolicy(allow_unsigned=True)).update(env)
    assert allowed.ok


def test_a_key_the_device_does_not_trust_is_refused() -> None:
    stranger = KeySigner(PrivateKey.generate(KeyType.P256))
    platform = device(resources={"coap://fw": FW})
    result = processor(platform).update(build(signer=stranger, install=install_of("coap://fw", FW)))
    assert isinstance(result.error, SignatureError)
    assert platform.fetcher_impl.requests == []


def test_several_trust_anchors_any_one_suffices() -> None:
    ed = PrivateKey.generate(KeyType.ED25519)
    anchors = [spec_public_key(), ed.public_key()]
    env = build(signer=KeySigner(ed), install=install_of("coap://fw", FW))
    assert processor(device(resources={"coap://fw": FW}), anchors).update(env).ok


def test_cose_mac0_with_the_device_secret() -> None:
    env = build(signer=MacSigner(MAC_KEY), install=install_of("coap://fw", FW))
    assert processor(device(resources={"coap://fw": FW}), [MAC_KEY]).update(env).ok
    wrong = processor(device(resources={"coap://fw": FW}), [SymmetricKey(b"x" * 32)]).update(env)
    assert isinstance(wrong.error, VerificationError)


def test_a_tampered_manifest_with_a_valid_signature_block_is_refused() -> None:
    good = build(sequence_number=1, install=install_of("coap://fw", FW))
    # same signature block, manifest changed to sequence number 2 (and the wrapper digest left as is)
    forged = good.replace(b"\x01\x01\x02\x01", b"\x01\x01\x02\x02", 1)
    assert forged != good
    platform = device(resources={"coap://fw": FW})
    result = processor(platform).update(forged)
    assert isinstance(result.error, VerificationError)
    assert platform.log == []
