"""RFC 9124 §4.2.16 THREAT.KEY.EXPOSURE → REQ.SEC.KEY.PROTECTION.

Protecting the signing key (HSMs, signing services) is the author's operational duty and out of
a device library's scope (specs/SUIT-PROFILE.md). What the processor contributes: the device
holds only public keys (a COSE_Sign1 trust anchor cannot sign), the trust-anchor set is the
device's to change, so an exposed key is revoked by replacing it, and nothing the processor
reports carries key material.
"""

from __future__ import annotations

from suitlib.cose import KeySigner, KeyType, PrivateKey
from suitlib.errors import SignatureError
from tests.processor.support import build, device, install_of, payload, processor

FW = payload(1000, 160)


def test_a_revoked_key_no_longer_installs_anything() -> None:
    leaked, fresh = PrivateKey.generate(KeyType.P256), PrivateKey.generate(KeyType.P256)
    platform = device(resources={"coap://fw": FW})
    assert processor(platform, [leaked.public_key()]).update(
        build(sequence_number=1, signer=KeySigner(leaked), install=install_of("coap://fw", FW))
    ).ok
    # rotation: the device now trusts only the fresh key
    attack = build(sequence_number=2, signer=KeySigner(leaked), install=install_of("coap://fw", FW))
    result = processor(platform, [fresh.public_key()]).update(attack)
    assert isinstance(result.error, SignatureError)
    ok = build(sequence_number=2, signer=KeySigner(fresh), install=install_of("coap://fw", FW))
    assert processor(platform, [fresh.public_key()]).update(ok).ok


def test_reports_carry_no_key_material() -> None:
    key = PrivateKey.generate(KeyType.P256)
    platform = device(resources={"coap://fw": FW})
    result = processor(platform, [key.public_key()]).update(
        build(signer=KeySigner(key), install=install_of("coap://fw", FW))
    )
    encoded = result.report.encode()
    private_pem = key.to_pem()
    assert result.ok
    for secret_piece in (private_pem[40:72], key.public_key().fingerprint().encode()):
        assert secret_piece not in encoded
