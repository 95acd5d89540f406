"""The official SUIT vectors (draft-ietf-suit-manifest-34 examples): decode, digest, re-encode."""

from __future__ import annotations

import hashlib
import json
import re

import cbor2
import pytest

from suitlib.manifest import (
    Digest,
    Directive,
    Envelope,
    Parameter,
    build_envelope,
    check_manifest_digest,
    check_severable,
    decode_envelope,
    encode_envelope,
    envelope_to_spec,
    render_diag,
    sever,
)
from tests.conftest import VECTORS

ENVELOPES = sorted(p.name for p in VECTORS.glob("*.cbor"))


def load(name: str) -> bytes:
    return (VECTORS / name).read_bytes()


def test_all_thirteen_vectors_are_present() -> None:
    assert len(ENVELOPES) == 13


@pytest.mark.parametrize("name", ENVELOPES)
def test_decodes_and_reencodes_byte_for_byte(name: str) -> None:
    data = load(name)
    env = decode_envelope(data)
    assert env.tagged
    assert encode_envelope(env) == data


@pytest.mark.parametrize("name", ENVELOPES)
def test_manifest_digest_matches_the_auth_wrapper(name: str) -> None:
    data = load(name)
    env = decode_envelope(data)
    # independently: SHA-256 over the whole bstr of key 3 (header included), read with cbor2
    outer = cbor2.loads(data).value
    manifest_content = outer[3]
    assert env.manifest_bstr[-len(manifest_content):] == manifest_content
    assert env.manifest_bstr[0] in (0x58, 0x59)  # the header is part of what is hashed
    independent = hashlib.sha256(env.manifest_bstr).digest()
    auth = cbor2.loads(outer[2])
    assert cbor2.loads(auth[0]) == [-16, independent]
    assert env.authentication.digest == Digest(-16, independent)
    check_manifest_digest(env)
    check_severable(env)


@pytest.mark.parametrize("name", ENVELOPES)
def test_auth_wrapper_keeps_exact_bytes_for_cose(name: str) -> None:
    data = load(name)
    env = decode_envelope(data)
    auth = cbor2.loads(cbor2.loads(data).value[2])
    assert env.authentication.digest_bstr == auth[0]
    assert env.authentication.blocks == tuple(auth[1:])
    assert len(env.authentication.blocks) == (1 if "-signed" in name else 0)


@pytest.mark.parametrize("name", ENVELOPES)
def test_untagged_form_is_accepted_and_kept_untagged(name: str) -> None:
    data = load(name)
    assert data[:2] == b"\xd8\x6b"
    env = decode_envelope(data[2:])
    assert not env.tagged
    assert encode_envelope(env) == data[2:]


@pytest.mark.parametrize("name", ENVELOPES)
def test_inspect_spec_rebuilds_the_same_bytes(name: str) -> None:
    data = load(name)
    spec = json.loads(json.dumps(envelope_to_spec(decode_envelope(data))))
    assert encode_envelope(build_envelope(spec)) == data


def test_example2_severable_members_match_their_digests() -> None:
    env = decode_envelope(load("example2-signed.cbor"))
    assert set(env.elements) == {20, 23}
    assert isinstance(env.manifest.install, Digest) and isinstance(env.manifest.text, Digest)
    install = env.member(20)
    assert [c.code for c in install] == [Directive.OVERRIDE_PARAMETERS, Directive.FETCH, 3]
    assert install[0].argument[Parameter.URI] == "http://example.com/very/long/path/to/file/file.bin"
    text = env.member(23)
    assert text.languages["en-US"].fields[1].startswith("## Example 2")


def test_severing_example2_gives_the_severed_vector_and_keeps_the_signature() -> None:
    full = decode_envelope(load("example2-signed.cbor"))
    severed = sever(full)
    assert encode_envelope(severed) == load("example2-severed-signed.cbor")
    assert severed.authentication == full.authentication
    only_text = sever(full, {"text"})
    assert set(only_text.elements) == {20}


def test_severed_example2_has_no_content_for_install() -> None:
    env = decode_envelope(load("example2-severed-unsigned.cbor"))
    assert env.member(20) is None and env.member(23) is None
    assert isinstance(env.manifest.install, Digest)


def test_example4_structure() -> None:
    env: Envelope = decode_envelope(load("example4-unsigned.cbor"))
    m = env.manifest
    assert [c.parts for c in m.common.components] == [(b"\x00",), (b"\x02",), (b"\x01",)]
    assert m.sequence_number == 4
    assert m.load[1].argument[Parameter.SOURCE_COMPONENT] == 0
    assert m.payload_fetch[2].code == Directive.FETCH
    assert m.invoke[1].policy == 2


def _strip_diag(text: str) -> tuple[str, list[str]]:
    """Values without whitespace, and the comments, of a CBOR diagnostic text."""
    values, comments = [], []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            values.append(text[i:j + 1])
            i = j + 1
        elif ch == "'":
            j = text.index("'", i + 1)
            values.append(re.sub(r"\s+", "", text[i:j + 1]))
            i = j + 1
        elif ch == "/":
            j = text.index("/", i + 1)
            comments.append("".join(text[i + 1:j].split()))
            i = j + 1
        elif ch.isspace():
            i += 1
        else:
            values.append(ch)
            i += 1
    return "".join(values), comments


@pytest.mark.parametrize("n", range(6))
def test_diag_matches_the_spec_examples(n: int) -> None:
    name = "example2-severed-signed.cbor" if n == 2 else f"example{n}-signed.cbor"
    ours_values, ours_comments = _strip_diag(render_diag(load(name)))
    spec_values, spec_comments = _strip_diag((VECTORS / f"example{n}.diag").read_text())
    assert ours_values == spec_values
    # every SUIT name, UUID and algorithm the spec prints as a comment, we print too, in order
    assert ours_comments == spec_comments
