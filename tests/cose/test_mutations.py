"""Every one-byte mutation of every signed vector is rejected with a typed error (decode + verify).

`make test` flips every bit of every byte (8 mutations per position); the `slow` sweep tries all
255 other values at every position.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suitlib.cose import TrustAnchors, load_public_pem
from suitlib.errors import DecodeError, UnsupportedError, VerificationError
from suitlib.manifest import decode_envelope
from suitlib.manifest.auth import verify_envelope

SIGNED = ["example0-signed.cbor", "example1-signed.cbor", "example2-signed.cbor",
          "example2-severed-signed.cbor", "example3-signed.cbor", "example4-signed.cbor",
          "example5-signed.cbor"]
TYPED = (VerificationError, DecodeError, UnsupportedError)


@pytest.fixture(scope="module")
def anchors(vectors_dir: Path) -> TrustAnchors:
    return TrustAnchors([load_public_pem((vectors_dir / "public_key.pem").read_bytes())])


def outcome(data: bytes, anchors: TrustAnchors) -> str:
    """The name of the typed error raised for ``data``; fails the test if it is accepted."""
    try:
        verify_envelope(decode_envelope(data), anchors)
    except TYPED as exc:
        return type(exc).__name__
    raise AssertionError("mutated envelope was accepted")


def sweep(original: bytes, anchors: TrustAnchors, values) -> dict[str, int]:
    seen: dict[str, int] = {}
    for position in range(len(original)):
        for new in values(original[position]):
            mutated = bytearray(original)
            mutated[position] = new
            try:
                kind = outcome(bytes(mutated), anchors)
            except AssertionError:
                raise AssertionError(f"accepted: byte {position} {original[position]:#04x} -> {new:#04x}") from None
            seen[kind] = seen.get(kind, 0) + 1
    return seen


@pytest.mark.parametrize("name", SIGNED)
def test_every_bit_flip_is_rejected(vectors_dir: Path, anchors: TrustAnchors, name: str) -> None:
    original = (vectors_dir / name).read_bytes()
    verify_envelope(decode_envelope(original), anchors)  # the unmutated vector is good
    seen = sweep(original, anchors, lambda b: [b ^ (1 << bit) for bit in range(8)])
    assert sum(seen.values()) == 8 * len(original)
    # the sweep reaches every layer: CBOR, digest and signature checks all fire
    assert seen.get("DigestMismatchError", 0) > 0 and seen.get("SignatureError", 0) >= 64


@pytest.mark.slow
@pytest.mark.parametrize("name", SIGNED)
def test_every_byte_value_is_rejected(vectors_dir: Path, anchors: TrustAnchors, name: str) -> None:
    original = (vectors_dir / name).read_bytes()
    seen = sweep(original, anchors, lambda b: [v for v in range(256) if v != b])
    assert sum(seen.values()) == 255 * len(original)


@given(st.sampled_from(SIGNED), st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(1, 255)), min_size=2, max_size=6))
def test_several_byte_mutations_are_rejected(vectors_dir: Path, anchors: TrustAnchors, name, edits) -> None:
    data = bytearray((vectors_dir / name).read_bytes())
    for position, xor in edits:
        data[position % len(data)] ^= xor
    if bytes(data) == (vectors_dir / name).read_bytes():
        return  # the edits cancelled out
    outcome(bytes(data), anchors)
