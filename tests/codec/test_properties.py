"""Property tests (hypothesis): random bytes, random models, mutated structures, hostile heads."""

from __future__ import annotations

import time
import tracemalloc

import cbor2
from hypothesis import given, settings
from hypothesis import strategies as st

from suitlib.cbor import decode, encode
from suitlib.errors import SuitError
from suitlib.manifest import decode_envelope, decode_manifest, encode_envelope, encode_manifest
from tests.codec.strategies import envelopes, generic
from tests.conftest import VECTORS

EXAMPLE4 = (VECTORS / "example4-unsigned.cbor").read_bytes()


def scaled(ci_examples: int) -> int:
    """Examples for this test under the active profile: ``ci_examples`` with the "ci" profile
    (150 by default), proportionally more with "deep"."""
    return max(1, ci_examples * settings.default.max_examples // 150)


@settings(max_examples=scaled(600))
@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_suit_errors(data: bytes) -> None:
    for candidate in (data, b"\xd8\x6b" + data, b"\xd8\x6b\xa2\x02" + data):
        try:
            env = decode_envelope(candidate)
        except SuitError:
            continue
        assert encode_envelope(env) == candidate


@settings(max_examples=scaled(100))
@given(envelopes())
def test_model_to_bytes_to_model(env) -> None:
    """model -> bytes -> model, and bytes -> model -> bytes, for envelopes and bare manifests."""
    data = encode_envelope(env)
    again = decode_envelope(data)
    assert again == env
    assert encode_envelope(again) == data
    manifest_bytes = encode_manifest(env.manifest)
    assert decode_manifest(manifest_bytes) == env.manifest
    assert again.manifest_bstr[-len(manifest_bytes):] == manifest_bytes


@given(st.data())
def test_structurally_valid_manifests_with_random_values_raise_only_suit_errors(data: st.DataObject) -> None:
    """Real envelope structure with a random CBOR value put somewhere in the manifest."""
    env = decode(EXAMPLE4)
    manifest = dict(decode(env.value[3]))
    key = data.draw(st.sampled_from([1, 2, 3, 4, 5, 7, 8, 9, 16, 20, 23, 24]))
    value = data.draw(generic)
    if data.draw(st.booleans()):
        value = encode(value)  # as a bstr-wrapped member
    manifest[key] = value
    try:
        decode_envelope(encode(type(env)(107, {2: env.value[2], 3: encode(manifest)})))
    except SuitError:
        pass


@given(st.data())
def test_random_commands_in_a_real_sequence_raise_only_suit_errors(data: st.DataObject) -> None:
    env = decode(EXAMPLE4)
    manifest = dict(decode(env.value[3]))
    seq = list(decode(manifest[20]))
    position = data.draw(st.integers(0, len(seq)))
    seq[position:position] = [data.draw(st.integers(-300, 40)), data.draw(generic)]
    manifest[20] = encode(seq)
    try:
        decode_envelope(encode(type(env)(107, {2: env.value[2], 3: encode(manifest)})))
    except SuitError:
        pass


def _plain(value):
    """Our decoded value in cbor2's shapes (lists for arrays), or _SKIP if it holds a tag/float/simple
    (cbor2 interprets some tags and we do not, so those are not compared)."""
    if isinstance(value, tuple):
        items = [_plain(v) for v in value]
        return _SKIP if any(i is _SKIP for i in items) else items
    if isinstance(value, dict):
        pairs = [(_plain(k), _plain(v)) for k, v in value.items()]
        if any(k is _SKIP or v is _SKIP or isinstance(k, list) for k, v in pairs):
            return _SKIP
        return dict(pairs)
    if isinstance(value, (int, bytes, str, bool)) or value is None:
        return value
    return _SKIP


_SKIP = object()


def _cbor2_plain(value):
    if isinstance(value, (list, tuple)):
        return [_cbor2_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _cbor2_plain(v) for k, v in value.items()}
    return value


@settings(max_examples=scaled(400))
@given(st.one_of(st.binary(max_size=200), generic.map(encode)))
def test_cbor_decoder_agrees_with_cbor2_on_everything_it_accepts(data: bytes) -> None:
    """Second implementation: whatever we accept, cbor2 reads as the same value, and our
    deterministic re-encoding gives the input back."""
    try:
        value = decode(data)
    except SuitError:
        return
    assert encode(value) == data
    plain = _plain(value)
    if plain is not _SKIP:
        assert _cbor2_plain(cbor2.loads(data)) == plain


@settings(max_examples=scaled(40))
@given(st.integers(min_value=17, max_value=200_000), st.sampled_from([b"\x81", b"\xa1\x00", b"\xd8\x64", b"\x41\x00" * 0 + b"\x81"]))
def test_deep_nesting_is_refused_quickly_with_bounded_memory(depth: int, opener: bytes) -> None:
    data = b"\xd8\x6b" + opener * depth + b"\x00"
    tracemalloc.start()
    start = time.process_time()
    try:
        decode_envelope(data)
        raise AssertionError("accepted")
    except SuitError:
        pass
    elapsed = time.process_time() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 0.5
    assert peak < 2 * len(data) + 200_000


@settings(max_examples=scaled(40))
@given(st.integers(min_value=30, max_value=2**64 - 1), st.sampled_from([0x40, 0x60, 0x80, 0xA0]))
def test_huge_length_prefixes_are_refused_without_allocating(length: int, major: int) -> None:
    from suitlib.cbor import head

    data = b"\xd8\x6b\xa1\x03" + head(major >> 5, length) + b"\x00" * 8
    tracemalloc.start()
    try:
        decode_envelope(data)
        raise AssertionError("accepted")
    except SuitError:
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 100_000


@settings(max_examples=scaled(60))
@given(envelopes())
def test_random_envelopes_render_and_round_trip_through_a_spec(env) -> None:
    """inspect -> create: the JSON spec of any envelope rebuilds the same bytes; the text and
    diagnostic renderings never fail."""
    import json

    from suitlib.manifest import build_envelope, envelope_to_spec, render_diag, render_text

    data = encode_envelope(env)
    spec = json.loads(json.dumps(envelope_to_spec(env)))
    assert encode_envelope(build_envelope(spec)) == data
    assert render_text(env)
    assert render_diag(data).count("\n") > 5
