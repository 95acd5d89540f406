"""The codec's fast readers (command sequences, the envelope, manifest and common maps and
SUIT digests read straight from their bytes) agree with the checked decoder: on every input, the same model or the same error (type, path, message).

Each input is decoded twice, once as shipped and once with the fast readers switched off, and
the outcomes compared: official vectors, generated manifests, one-byte mutations of both, item
and depth limits just around what the inputs need, and random envelopes from hypothesis.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suitlib.errors import DigestMismatchError, SuitError
from suitlib.limits import DEFAULT_LIMITS, Limits
from suitlib.manifest import (build_envelope, check_severable, codec, decode_envelope, encode_envelope,
                              severable_bstr)
from suitlib.manifest.model import frozen_map
from tests.codec.strategies import envelopes
from tests.conftest import VECTORS

OPS = (("xor", 0x01), ("xor", 0x20), ("xor", 0x80), ("set", 0x18), ("set", 0xA0), ("set", 0xF5))
MORE_OPS = OPS + (("xor", 0x02), ("set", 0x00), ("set", 0x19), ("set", 0x5F), ("set", 0xFF))


def _generated(components: int) -> bytes:
    """Manifests in the shapes the fast readers handle inline, and a few they hand on."""
    digest = {"suit-digest-algorithm-id": "sha256", "suit-digest-bytes": "ab" * 32}
    shared, install = [], []
    for i in range(components):
        shared += [{"suit-directive-set-component-index": i},
                   {"suit-directive-override-parameters": {
                       "suit-parameter-vendor-identifier": "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe",
                       "suit-parameter-image-digest": digest, "suit-parameter-image-size": 23 + i * 4000,
                       "suit-parameter-component-slot": 24 + i, "suit-parameter-strict-order": bool(i % 2)}},
                   {"suit-condition-vendor-identifier": 15}, {"suit-condition-image-match": 24 + i}]
        install += [{"suit-directive-set-component-index": [0, i]},
                    {"suit-directive-override-parameters": {"suit-parameter-uri": "coap://x/" + "é" * i}},
                    {"suit-directive-fetch": 2}]
    install += [{"suit-directive-try-each": [[{"suit-condition-image-match": 15}],
                                             [{"suit-directive-set-component-index": True}]]}]
    spec = {"suit-manifest": {
        "suit-manifest-sequence-number": 1,
        "suit-common": {"suit-components": [["00", f"{i:02x}"] for i in range(components)], "suit-shared-sequence": shared},
        "suit-install": install,
        "suit-invoke": [{"suit-directive-set-component-index": 0}, {"suit-directive-invoke": 2}]}}
    return encode_envelope(build_envelope(spec))


INPUTS = [(p.name, p.read_bytes()) for p in sorted(VECTORS.glob("*.cbor"))] + [("generated", _generated(4))]
LARGE = _generated(64)  # command sequences of more than 255 items, bstrs of more than 255 bytes


def _outcome(data: bytes, limits: Limits = DEFAULT_LIMITS):
    try:
        env = decode_envelope(data, limits=limits)
    except SuitError as exc:
        return ("error", type(exc), getattr(exc, "path", None), exc.message)
    return ("ok", env, encode_envelope(env))


def _checked_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codec, "_fast_sequence", lambda ctx, data, depth: None)
    monkeypatch.setattr(codec, "_fast_map", lambda ctx, data, start=0: None)
    monkeypatch.setattr(codec, "_digest_on_bytes", lambda ctx, wrapped: None)


def _both(data: bytes, limits: Limits = DEFAULT_LIMITS):
    fast = _outcome(data, limits)
    with pytest.MonkeyPatch.context() as mp:
        _checked_only(mp)
        checked = _outcome(data, limits)
    return fast, checked


def test_fast_readers_are_used_and_give_the_checked_model(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = codec._fast_sequence

    def counting(ctx, data, depth):
        result = real(ctx, data, depth)
        calls.append(result is not None)
        return result

    monkeypatch.setattr(codec, "_fast_sequence", counting)
    for name, data in INPUTS:
        fast, checked = _both(data)
        assert fast[0] == "ok" and fast == checked, name
    assert calls.count(True) > 20, "the fast reader handled (almost) nothing: it is not being exercised"


@pytest.mark.parametrize("name,data", INPUTS, ids=[n for n, _ in INPUTS])
def test_one_byte_mutations_give_the_same_outcome(name: str, data: bytes) -> None:
    accepted = 0
    for pos in range(len(data)):
        for kind, arg in OPS:
            new = data[pos] ^ arg if kind == "xor" else arg
            if new == data[pos]:
                continue
            fast, checked = _both(data[:pos] + bytes((new,)) + data[pos + 1:])
            assert fast == checked, f"{name} byte {pos} -> {new:#04x}"
            accepted += fast[0] == "ok"
    assert accepted > 0  # some mutants are valid envelopes: the success path is compared too


@pytest.mark.parametrize("name,data", INPUTS, ids=[n for n, _ in INPUTS])
def test_item_and_depth_limits_give_the_same_outcome(name: str, data: bytes) -> None:
    used = None
    for items in range(1, 400):
        limits = dataclasses.replace(DEFAULT_LIMITS, max_items=items)
        fast, checked = _both(data, limits)
        assert fast == checked, f"{name} max_items={items}"
        if fast[0] == "ok":
            used = items
            break
    assert used is not None
    for depth in range(0, 6):
        limits = dataclasses.replace(DEFAULT_LIMITS, max_depth=depth)
        fast, checked = _both(data, limits)
        assert fast == checked, f"{name} max_depth={depth}"
    for try_each in range(0, 3):
        limits = dataclasses.replace(DEFAULT_LIMITS, max_try_each_depth=try_each)
        fast, checked = _both(data, limits)
        assert fast == checked, f"{name} max_try_each_depth={try_each}"


def test_carried_members_are_checked_on_the_bytes_received_and_on_changes() -> None:
    data = (VECTORS / "example2-signed.cbor").read_bytes()
    env = decode_envelope(data)
    assert set(env.elements) == {20, 23}
    check_severable(env)
    for key, content in env.elements.items():
        assert env.element_bstrs[key] == severable_bstr(key, content)
        assert env.element_bstrs[key] in data
    # an envelope made by replacing a member has no stale bytes: the new content is digested
    install = env.elements[20]
    changed = dataclasses.replace(install, commands=install.commands[:-1])
    tampered = dataclasses.replace(env, elements=frozen_map({**env.elements, 20: changed}))
    assert tampered.element_bstrs[20] == severable_bstr(20, changed)
    with pytest.raises(DigestMismatchError):
        check_severable(tampered)


@pytest.mark.slow
@pytest.mark.parametrize("name,data", INPUTS + [("large", LARGE)], ids=[n for n, _ in INPUTS] + ["large"])
def test_more_one_byte_mutations_give_the_same_outcome(name: str, data: bytes) -> None:
    for pos in range(len(data)):
        for kind, arg in MORE_OPS:
            new = data[pos] ^ arg if kind == "xor" else arg
            if new != data[pos]:
                fast, checked = _both(data[:pos] + bytes((new,)) + data[pos + 1:])
                assert fast == checked, f"{name} byte {pos} -> {new:#04x}"


def test_large_manifest_gives_the_checked_model() -> None:
    fast, checked = _both(LARGE)
    assert fast[0] == "ok" and fast == checked


@settings(max_examples=40)
@given(envelopes(), st.integers(min_value=0), st.integers(min_value=1, max_value=255))
def test_random_envelopes_and_mutants_give_the_same_outcome(env, where: int, xor: int) -> None:
    data = encode_envelope(env)
    fast, checked = _both(data)
    assert fast == checked and fast[0] == "ok"
    pos = where % len(data)
    mutant = data[:pos] + bytes((data[pos] ^ xor,)) + data[pos + 1:]
    fast, checked = _both(mutant)
    assert fast == checked
