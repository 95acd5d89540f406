"""RFC 9124 §4.2.14 THREAT.MFST.EXPOSURE → REQ.SEC.MFST.CONFIDENTIALITY.

Encrypting manifests is not defined by draft-ietf-suit-manifest-34 (it belongs to transport
security or a future extension): out of scope, see specs/SUIT-PROFILE.md. What limits exposure
here: the human-readable text (and any severable member the device does not need) can be severed
before delivery, and the processor installs from the severed envelope without it.
"""

from __future__ import annotations

from tests.processor.support import C0, URI_LONG_EXAMPLE2, device, placeholder_hashes, run_envelope, vector
from tests.processor.support import EXAMPLE_TABLE, INVOCATION, PAYLOAD_A


def test_a_device_boots_from_an_envelope_without_its_text() -> None:
    full = vector("example2-signed.cbor")
    severed = vector("example2-severed-signed.cbor")
    assert b"en-US" in full and b"en-US" not in severed  # the text (with the JSON source) is gone
    platform = device(contents={C0: PAYLOAD_A})
    result = run_envelope(severed, platform, INVOCATION, hashes=placeholder_hashes(EXAMPLE_TABLE))
    assert result.ok, result.error
    assert platform.actions("invoke") == [("invoke", C0, None)]
    assert URI_LONG_EXAMPLE2.encode() not in severed  # even the payload location left with install
