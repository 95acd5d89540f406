"""suitlib.cbor: deterministic encoding (RFC 8949 §4.2.1) and strict decoding, checked against
the RFC's rules and, where they agree, against cbor2."""

from __future__ import annotations

import math

import cbor2
import pytest

from suitlib.cbor import (
    UNDEFINED,
    DepthLimitError,
    EncodeError,
    IndefiniteLengthError,
    MalformedError,
    NonCanonicalError,
    Raw,
    Simple,
    Tag,
    TrailingBytesError,
    decode,
    encode,
)
from suitlib.limits import Limits

BOUNDARIES = [0, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**64 - 1]


@pytest.mark.parametrize("n", BOUNDARIES)
def test_integer_heads_are_shortest_and_agree_with_cbor2(n: int) -> None:
    for value in (n, -1 - n):
        data = encode(value)
        assert data == cbor2.dumps(value)
        assert decode(data) == value


@pytest.mark.parametrize("n", [0, 23, 24, 255, 256, 65535, 65536, 2**32 - 1])
def test_longer_heads_than_needed_are_refused(n: int) -> None:
    shortest = encode(n)
    widths = {1: 24, 2: 25, 4: 26, 8: 27}
    for width, ai in widths.items():
        if n < 256 ** width and 1 + width > len(shortest):
            with pytest.raises(NonCanonicalError):
                decode(bytes([ai]) + n.to_bytes(width, "big"))


def test_string_and_container_heads_are_shortest() -> None:
    assert encode(b"x" * 24)[:2] == b"\x58\x18"
    assert encode("x" * 23)[:1] == b"\x77"
    assert encode([0] * 24)[:2] == b"\x98\x18"
    with pytest.raises(NonCanonicalError):
        decode(b"\x58\x01x")
    with pytest.raises(NonCanonicalError):
        decode(b"\x98\x01\x00")


def test_map_keys_in_rfc8949_bytewise_order() -> None:
    # the example of RFC 8949 §4.2.1: 10, 100, -1, "z", "aa", [100], [-1], false
    value = {False: 8, (-1,): 7, (100,): 6, "aa": 5, "z": 4, -1: 3, 100: 2, 10: 1}
    data = encode(value)
    assert list(decode(data).values()) == [1, 2, 3, 4, 5, 6, 7, 8]
    # cbor2's canonical mode sorts length-first (RFC 7049) and differs here
    assert cbor2.dumps({-1: 0, 24: 0}, canonical=True) != encode({-1: 0, 24: 0})
    assert encode({-1: 0, 24: 0}) == b"\xa2\x18\x18\x00\x20\x00"


def test_unsorted_keys_and_duplicates_are_refused() -> None:
    with pytest.raises(NonCanonicalError):
        decode(b"\xa2\x20\x00\x18\x18\x00")  # length-first order
    from suitlib.cbor import DuplicateKeyError

    with pytest.raises(DuplicateKeyError):
        decode(b"\xa2\x01\x00\x01\x01")


@pytest.mark.parametrize("value,expected", [
    (0.0, "f90000"), (1.0, "f93c00"), (-2.5, "f9c100"), (65504.0, "f97bff"), (100000.0, "fa47c35000"),
    (1.1, "fb3ff199999999999a"), (math.inf, "f97c00"), (-math.inf, "f9fc00"), (math.nan, "f97e00"),
    (5.960464477539063e-08, "f90001"),
])
def test_floats_take_the_shortest_exact_form(value: float, expected: str) -> None:
    assert encode(value).hex() == expected
    back = decode(bytes.fromhex(expected))
    assert back == value or (math.isnan(back) and math.isnan(value))


def test_wider_floats_than_needed_are_refused() -> None:
    for data in ("fa3f800000", "fb3ff0000000000000", "fa7fc00000"):
        with pytest.raises(NonCanonicalError):
            decode(bytes.fromhex(data))


def test_tags_simple_values_and_raw() -> None:
    value = [Tag(107, {1: UNDEFINED}), Simple(16), Simple(255), None, True, False]
    data = encode(value)
    assert decode(data) == tuple(value)
    assert encode([Raw(b"\x01"), 2]) == b"\x82\x01\x02"
    with pytest.raises(MalformedError):
        decode(b"\xf8\x18")  # simple 24..31 must not use the two-byte form
    with pytest.raises(NonCanonicalError):
        decode(b"\xf8\x10")  # simple 16 has a one-byte form


def test_malformed_inputs() -> None:
    for data, kind in [
        (b"", MalformedError), (b"\x1c", MalformedError), (b"\x62\xc3\x28", MalformedError),
        (b"\x5f\x41\x00\xff", IndefiniteLengthError), (b"\xff", IndefiniteLengthError),
        (b"\x9f\xff", IndefiniteLengthError), (b"\x00\x00", TrailingBytesError),
        (b"\xa1\xa0\x00", MalformedError), (b"\x19\x01", MalformedError),
    ]:
        with pytest.raises(kind):
            decode(data)


def test_depth_limit_counts_containers_and_tags() -> None:
    assert decode(b"\x81" * 3 + b"\x00", limits=Limits(max_depth=3)) == (((0,),),)
    with pytest.raises(DepthLimitError):
        decode(b"\x81" * 4 + b"\x00", limits=Limits(max_depth=3))
    with pytest.raises(DepthLimitError):
        decode(b"\xc1" * 4 + b"\x00", limits=Limits(max_depth=3))


def test_encode_errors() -> None:
    with pytest.raises(EncodeError):
        encode(2**64)
    with pytest.raises(EncodeError):
        encode(object())
    with pytest.raises(EncodeError):
        encode(Simple(21))


def test_error_paths_name_array_indexes_and_map_keys() -> None:
    with pytest.raises(NonCanonicalError) as info:
        decode(encode({1: [0, 0]})[:-1] + b"\x18\x00", path="root")
    assert info.value.path == "root/1[1]"


def test_keys_equal_in_python_but_distinct_in_cbor_are_refused_not_merged() -> None:
    from suitlib.cbor import DuplicateKeyError

    for data in (b"\xa2\x01\x00\xf5\x00", b"\xa2\x01\x00\xf9\x3c\x00\x00", b"\xa2\x81\x01\x00\x81\xf5\x00"):
        with pytest.raises(DuplicateKeyError):
            decode(data)
    assert decode(b"\xa1\xf5\x00") == {True: 0}
