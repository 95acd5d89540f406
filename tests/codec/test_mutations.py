"""One-byte mutations of every official vector: decoding returns a model or raises
DecodeError/UnsupportedError, never anything else. Accepted mutants re-encode to themselves,
and a mutant whose manifest changed no longer matches the auth-wrapper digest.

(Rejection of accepted mutants by signature verification is tested with the COSE layer.)
"""

from __future__ import annotations

import pytest

from suitlib.errors import DecodeError, DigestMismatchError, UnsupportedError
from suitlib.manifest import check_manifest_digest, check_severable, decode_envelope, encode_envelope
from tests.conftest import VECTORS

ENVELOPES = sorted(p.name for p in VECTORS.glob("*.cbor"))

# bit flips plus the head bytes that most often change structure: 0, 1-byte/8-byte arguments,
# indefinite bstr/array/map, break, tag 107, undefined
QUICK = (("xor", 0x01), ("xor", 0x20), ("xor", 0x80),
         ("set", 0x00), ("set", 0x1B), ("set", 0x5F), ("set", 0x9F), ("set", 0xF7))


def mutants(data: bytes, ops):
    for pos in range(len(data)):
        for kind, arg in ops:
            new = data[pos] ^ arg if kind == "xor" else arg
            if new != data[pos]:
                yield pos, data[:pos] + bytes((new,)) + data[pos + 1:]


def check(manifest_span: range, length: int, pos: int, mutant: bytes, stats: dict[str, int]) -> None:
    try:
        env = decode_envelope(mutant)
    except (DecodeError, UnsupportedError):
        stats["rejected"] += 1
        return
    stats["decoded"] += 1
    assert encode_envelope(env) == mutant, f"byte {pos}: accepted but not re-encoded exactly"
    if pos in manifest_span and len(mutant) == length:
        with pytest.raises(DigestMismatchError):
            check_manifest_digest(env)
    try:
        check_severable(env)
    except (DigestMismatchError, UnsupportedError):  # mismatch, or an algorithm id mutated
        pass


def manifest_span(data: bytes) -> range:
    manifest = decode_envelope(data).manifest_bstr
    start = data.index(manifest)
    return range(start, start + len(manifest))


@pytest.mark.parametrize("name", ENVELOPES)
def test_one_byte_mutations_never_escape(name: str) -> None:
    data = (VECTORS / name).read_bytes()
    stats = {"decoded": 0, "rejected": 0}
    span = manifest_span(data)
    for pos, mutant in mutants(data, QUICK):
        check(span, len(data), pos, mutant, stats)
    # both outcomes occur: a mutation test that only ever rejects would prove little
    assert stats["rejected"] > 0 and stats["decoded"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ENVELOPES)
def test_every_one_byte_mutation_never_escapes(name: str) -> None:
    data = (VECTORS / name).read_bytes()
    stats = {"decoded": 0, "rejected": 0}
    span = manifest_span(data)
    for pos, mutant in mutants(data, [("set", v) for v in range(256)]):
        check(span, len(data), pos, mutant, stats)
