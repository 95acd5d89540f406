"""Hypothesis: mutated or random SUIT_Encryption_Info never escapes as anything but a SuitError.

Byte-level mutations (flips, truncations, insertions) of real encryption infos, and structural
mutations (any field replaced by a random CBOR value); decoding and decrypting either succeed
or raise a :class:`~suitlib.errors.SuitError`. For A128GCM a decryption that succeeds must give
the original plaintext (the tag covers ciphertext, IV and protected header).
"""

from __future__ import annotations

import cbor2
from hypothesis import given, settings
from hypothesis import strategies as st

from suitlib.cose.encrypt import (
    ContentAlgorithm,
    EcdhKey,
    EcdhRecipient,
    KeyWrapKey,
    decode_encryption_info,
    decrypt_payload,
    encrypt_payload,
)
from suitlib.cose.keys import KeyType, PrivateKey
from suitlib.errors import SuitError

EC = PrivateKey.generate(KeyType.P256)
KEK = KeyWrapKey(bytes(range(16)), kid=b"k1")
PLAINTEXT = bytes(range(200))
KEYS = [KEK, EcdhKey(EC, kid=b"k2")]
SAMPLES = [
    encrypt_payload(PLAINTEXT, [recipient], content_alg=alg)
    for recipient in (KEK, EcdhRecipient(EC.public_key(), kid=b"k2"))
    for alg in ContentAlgorithm
]


def _attempt(info: bytes, ciphertext: bytes) -> bytes | None:
    try:
        return decrypt_payload(ciphertext, info, KEYS)
    except SuitError:
        return None


@st.composite
def byte_mutation(draw: st.DrawFn) -> tuple[bytes, bytes, bool]:
    sample = SAMPLES[draw(st.integers(0, len(SAMPLES) - 1))]
    data = bytearray(sample.info)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "set", "cut", "insert", "delete"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set":
            data[i] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[i:]
        elif kind == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=4))
        else:
            del data[i]
    aead = sample is SAMPLES[0] or sample is SAMPLES[2]
    return bytes(data), sample.ciphertext, aead


@given(byte_mutation())
def test_byte_mutations_give_typed_errors(case: tuple[bytes, bytes, bool]) -> None:
    info, ciphertext, aead = case
    out = _attempt(info, ciphertext)
    if out is not None and aead:
        assert out == PLAINTEXT


cbor_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**64), 2**64 - 1) | st.binary(max_size=40) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.integers(-30, 30) | st.text(max_size=3), inner, max_size=4),
    max_leaves=10,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*prefix, i))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))


def _thaw(value):
    if isinstance(value, cbor2.CBORTag):
        return cbor2.CBORTag(value.tag, _thaw(value.value))
    if isinstance(value, (list, tuple)):
        return [_thaw(v) for v in value]
    if hasattr(value, "items"):
        return {k: _thaw(v) for k, v in value.items()}
    return value


@given(st.integers(0, len(SAMPLES) - 1), st.data(), cbor_values)
@settings(max_examples=150)
def test_structural_mutations_give_typed_errors(index: int, data: st.DataObject, replacement) -> None:
    sample = SAMPLES[index]
    tag = _thaw(cbor2.loads(sample.info))
    body = tag.value
    # inside protected headers too: decode them, so the replacement can land there
    body[0] = cbor2.loads(body[0]) if body[0] else {}
    for r in body[3]:
        r[0] = cbor2.loads(r[0]) if r[0] else {}
    path = data.draw(st.sampled_from(list(_paths(body))[1:]))
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = replacement
    body[0] = cbor2.dumps(body[0]) if body[0] != {} else b""
    for r in body[3] if isinstance(body[3], list) else []:
        if isinstance(r, list) and r and isinstance(r[0], dict):
            r[0] = cbor2.dumps(r[0]) if r[0] != {} else b""
    try:
        info = cbor2.dumps(cbor2.CBORTag(96, body))
    except Exception:  # the replacement cannot be encoded (e.g. an unhashable key): nothing to test
        return
    try:
        decode_encryption_info(info)
    except SuitError:
        pass
    _attempt(info, sample.ciphertext)


@given(st.binary(max_size=300))
def test_random_bytes_give_typed_errors(data: bytes) -> None:
    try:
        decode_encryption_info(data)
    except SuitError:
        pass


@given(cbor_values)
def test_random_cbor_in_tag_96_gives_typed_errors(value) -> None:
    try:
        info = cbor2.dumps(cbor2.CBORTag(96, value))
    except Exception:
        return
    try:
        decode_encryption_info(info)
    except SuitError:
        pass
