"""RFC 9124 §4.2.17 THREAT.MFST.MODIFICATION → REQ.SEC.MFST.CHECK, REQ.SEC.MFST.TRUSTED.

Modification before signing happens on the author's side; a device cannot tell a malicious
manifest the author signed from a genuine one (out of the processor's scope: specs/SUIT-PROFILE.md).
The library's part: the signer re-checks the manifest against the digest it signs (a manifest
changed after its digest was computed cannot be signed), and a payload replaced after the
manifest was made fails the image digest on the device.
"""

from __future__ import annotations

import dataclasses

import pytest

from suitlib.errors import DigestMismatchError
from suitlib.manifest import decode_envelope, with_authentication
from suitlib.manifest.auth import sign_envelope
from tests.processor.support import build, device, install_of, payload, processor, spec_signer

FW, TROJAN = payload(1000, 170), payload(1000, 171)


def test_a_manifest_changed_after_its_digest_was_taken_cannot_be_signed() -> None:
    env = with_authentication(decode_envelope(build(signer=None, install=install_of("coap://fw", FW))))
    changed = dataclasses.replace(env, manifest=dataclasses.replace(env.manifest, sequence_number=99))
    with pytest.raises(DigestMismatchError):
        sign_envelope(changed, spec_signer())


def test_a_payload_swapped_after_the_manifest_was_made_is_not_installed() -> None:
    platform = device(resources={"coap://fw": TROJAN})
    result = processor(platform).update(build(install=install_of("coap://fw", FW)))
    assert isinstance(result.error, DigestMismatchError)
    assert platform.load_sequence_number() is None
