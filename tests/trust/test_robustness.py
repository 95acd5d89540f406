"""Hostile input never escapes as anything but SuitError: mutated and random delegation chains,
policy records, anchor-store banks and envelopes (hypothesis)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from suitlib.cbor import encode
from suitlib.errors import SuitError
from suitlib.flash import FlashEmulator, Geometry
from suitlib.trust import (
    AnchorStore,
    AnchorStoreError,
    CounterStore,
    Scope,
    TrustPolicy,
    authorize,
    decode_token,
    encode_delegation,
    issue_delegation,
    verify_delegation,
    with_delegation,
)
from suitlib.trust.store import encode_record
from tests.trust.support import APP, NOW, RADIO, anchor, firmware, key, signer

POLICY = TrustPolicy(3, (anchor("vendor", admin=True), anchor("operator", Scope.of(components=[APP], classes=[b"c" * 16])),
                         anchor("escrow", admin=True)), threshold=2, admin_threshold=1)
CHAIN = [
    issue_delegation(signer("vendor"), key("integrator").public_key(), Scope.of(components=[APP, RADIO]),
                     exp=NOW + 1000, nbf=NOW - 1000, delegate_kid=b"integrator", iss="vendor", sub="integrator"),
    issue_delegation(signer("integrator"), key("app-team").public_key(), Scope.of(components=[APP]),
                     exp=NOW + 500, delegate_kid=b"app-team"),
]
DELEGATION = encode_delegation([CHAIN])
ENVELOPE = with_delegation(firmware([signer("app-team"), signer("operator")], components=(RADIO, APP)), [CHAIN])
RECORD = POLICY.encode()

mutation = st.tuples(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]),
                     st.integers(0, 1 << 16), st.integers(0, 255))


def mutate(data: bytes, edits: list[tuple[str, int, int]]) -> bytes:
    out = bytearray(data)
    for op, position, value in edits:
        if not out:
            out.append(value)
            continue
        i = position % len(out)
        if op == "flip":
            out[i] ^= 1 << (value % 8)
        elif op == "set":
            out[i] = value
        elif op == "insert":
            out.insert(i, value)
        elif op == "delete":
            del out[i]
        else:
            del out[i:]
    return bytes(out)


cbor_values = st.recursive(
    st.one_of(st.integers(-(1 << 64) + 1, (1 << 64) - 1), st.binary(max_size=40), st.text(max_size=10),
              st.booleans(), st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.integers(-70000, 10), inner, max_size=4)),
    max_leaves=20,
)


def only_suit_errors(call: Any) -> Any:
    try:
        return call()
    except SuitError:
        return None


@given(st.lists(mutation, min_size=1, max_size=4))
def test_mutated_delegation_chains(edits: list[tuple[str, int, int]]) -> None:
    result = only_suit_errors(lambda: verify_delegation(mutate(DELEGATION, edits), POLICY, now=NOW))
    if result is not None:  # whatever survives the mutation still verifies back to the vendor
        assert all(k.root.name == "vendor" for k in result)


@given(st.lists(mutation, min_size=1, max_size=4), st.integers(0, 1))
def test_mutated_tokens(edits: list[tuple[str, int, int]], which: int) -> None:
    only_suit_errors(lambda: decode_token(mutate(CHAIN[which], edits), path="t"))
    only_suit_errors(lambda: verify_delegation(encode([[mutate(CHAIN[0], edits)]]), POLICY, now=NOW))


@given(cbor_values)
def test_random_delegation_structures(value: Any) -> None:
    only_suit_errors(lambda: verify_delegation(encode(value), POLICY, now=NOW))
    only_suit_errors(lambda: verify_delegation(encode([[encode(value)]]), POLICY, now=NOW))


@given(st.lists(mutation, min_size=1, max_size=4))
def test_mutated_policy_records(edits: list[tuple[str, int, int]]) -> None:
    policy = only_suit_errors(lambda: TrustPolicy.decode(mutate(RECORD, edits)))
    if policy is not None:
        assert TrustPolicy.decode(policy.encode()) == policy


@given(cbor_values)
def test_random_policy_structures(value: Any) -> None:
    only_suit_errors(lambda: TrustPolicy.decode(encode(value)))
    only_suit_errors(lambda: TrustPolicy.decode(encode({1: 1, 2: 1, 3: 1, 4: [value]})))


@given(st.lists(mutation, min_size=1, max_size=3))
def test_mutated_envelopes_with_delegation(edits: list[tuple[str, int, int]]) -> None:
    only_suit_errors(lambda: authorize(mutate(ENVELOPE, edits), POLICY, now=NOW))


@given(st.binary(max_size=600), st.lists(mutation, max_size=3))
def test_random_anchor_store_banks(noise: bytes, edits: list[tuple[str, int, int]]) -> None:
    flash = FlashEmulator(Geometry.uniform(4 * 1024, 1024, write_unit=4))
    store = AnchorStore(flash, 0, 1024)
    valid = encode_record(5, RECORD, 4, 0xFF)
    damaged = mutate(valid, edits) if edits else valid
    for offset, data in ((0, noise), (1024, damaged)):
        data = data[: 1024 - (1024 % 4)]
        data += b"\xff" * (-len(data) % 4)
        flash.load(offset, data)
    try:
        policy = store.load()
    except AnchorStoreError:
        assert edits, "an intact record was lost next to a noisy bank"
        return
    if not edits:
        assert policy == POLICY


@given(cbor_values)
def test_random_counter_tables(value: Any) -> None:
    flash = FlashEmulator(Geometry.uniform(4 * 1024, 1024, write_unit=4))
    table = only_suit_errors(lambda: CounterStore(flash, 0, 1024).decode(encode(value)))
    if table is not None:
        assert all(isinstance(n, int) and n >= 0 for n in table.values())
