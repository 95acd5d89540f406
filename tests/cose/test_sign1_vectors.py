"""COSE_Sign1 against the official SUIT vectors (draft-ietf-suit-manifest-34, "Examples").

The envelope is taken apart with plain cbor2 here, so these tests do not depend on the
manifest codec: they check the COSE layer alone.
"""

from __future__ import annotations

from pathlib import Path

import cbor2
import pytest

from suitlib.cose import (
    Algorithm,
    KeySigner,
    Sign1,
    TrustAnchors,
    create_message,
    decode_message,
    load_private_pem,
    load_public_pem,
    sig_structure,
)
from suitlib.errors import SignatureError

SIGNED = ["example0-signed.cbor", "example1-signed.cbor", "example2-signed.cbor",
          "example2-severed-signed.cbor", "example3-signed.cbor", "example4-signed.cbor",
          "example5-signed.cbor"]

EXAMPLE0_TBS = bytes.fromhex(
    "846a5369676e61747572653143a10126405824822f58206658ea560262696dd1f13b782239a064da7c6c5cbaf52fded428a6fc83c7e5af"
)


def auth_parts(path: Path) -> tuple[bytes, list[bytes]]:
    """(encoded SUIT_Digest, [auth blocks]) of an envelope, decoded with cbor2 alone."""
    envelope = cbor2.loads(path.read_bytes())
    assert envelope.tag == 107
    wrapper = cbor2.loads(envelope.value[2])
    return wrapper[0], list(wrapper[1:])


@pytest.fixture(scope="module")
def public_key(vectors_dir: Path):
    return load_public_pem((vectors_dir / "public_key.pem").read_bytes())


@pytest.mark.parametrize("name", SIGNED)
def test_signed_vector_verifies_with_public_key(vectors_dir: Path, public_key, name: str) -> None:
    digest, blocks = auth_parts(vectors_dir / name)
    assert len(blocks) == 1
    message = decode_message(blocks[0])
    assert isinstance(message, Sign1)
    assert message.alg is Algorithm.ES256 and message.kid is None and message.payload is None
    (verified,) = TrustAnchors([public_key]).verify_messages([message], digest)
    assert verified.index == 0 and verified.anchor.key == public_key


@pytest.mark.parametrize("name", SIGNED)
def test_signed_vector_rejects_other_payload(vectors_dir: Path, public_key, name: str) -> None:
    digest, blocks = auth_parts(vectors_dir / name)
    other = bytearray(digest)
    other[-1] ^= 1
    with pytest.raises(SignatureError):
        TrustAnchors([public_key]).verify_messages([decode_message(blocks[0])], bytes(other))


def test_example0_sig_structure_is_the_55_bytes_of_the_readme(vectors_dir: Path) -> None:
    digest, blocks = auth_parts(vectors_dir / "example0-signed.cbor")
    message = decode_message(blocks[0])
    assert message.to_be_signed(digest) == EXAMPLE0_TBS
    assert sig_structure(b"\xa1\x01\x26", digest) == EXAMPLE0_TBS
    assert len(EXAMPLE0_TBS) == 55


def test_resigning_example0_gives_the_same_protected_header_and_a_valid_block(vectors_dir: Path, public_key) -> None:
    digest, blocks = auth_parts(vectors_dir / "example0-signed.cbor")
    private = load_private_pem((vectors_dir / "private_key.pem").read_bytes())
    assert private.public_key() == public_key
    ours = create_message(digest, KeySigner(private))
    theirs = decode_message(blocks[0])
    assert ours.headers.protected == theirs.headers.protected == b"\xa1\x01\x26"
    # same structure, same length as the spec's block; only the (randomised there) signature differs
    assert len(ours.encode()) == len(blocks[0])
    assert ours.encode()[:-64] == blocks[0][:-64]
    TrustAnchors([public_key]).verify_messages([decode_message(ours.encode())], digest)
