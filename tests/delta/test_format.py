"""The patch header (DELTA-FORMAT §2): exact round trip, incremental parsing of every prefix,
and corruption caught by the CRC before any field is believed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suitlib.delta.errors import DeltaFormatError, DeltaUnsupportedError
from suitlib.delta.format import (
    InPlacePlan,
    LzmaParams,
    PatchHeader,
    decode_varint,
    encode_varint,
    parse_header,
    unzigzag,
    zigzag,
)

headers = st.builds(
    PatchHeader,
    source_size=st.integers(0, (1 << 32) - 1), target_size=st.integers(0, (1 << 32) - 1),
    source_digest=st.binary(min_size=32, max_size=32),
    target_digest=st.binary(min_size=32, max_size=32),
    chunk_size=st.sampled_from([512, 4096, 65536, 1 << 20]),
    ram_bytes=st.integers(0, 1 << 20),
    lzma=st.builds(LzmaParams, dict_size=st.sampled_from([4096, 16384, 1 << 20]),
                   lc=st.integers(0, 2), lp=st.integers(0, 2), pb=st.integers(0, 4)),
    transform=st.sampled_from([0, 1, 2]),
    in_place=st.one_of(st.none(), st.builds(InPlacePlan, segment_size=st.just(512),
                                            shift=st.sampled_from([0, 512, 4096]))),
    map_entries=st.integers(0, 4096),
    pointer_base=st.one_of(st.none(), st.integers(0, (1 << 32) - 2)),
)


@given(headers)
def test_header_round_trip_and_prefixes(header: PatchHeader) -> None:
    if not header.transform:
        header = PatchHeader(**{**header.__dict__, "map_entries": 0, "pointer_base": None})
    raw = header.encode()
    assert len(raw) <= 160
    parsed = parse_header(raw + b"trailing body")
    assert parsed is not None and parsed.header_size == len(raw)
    for name in ("source_size", "target_size", "source_digest", "target_digest", "chunk_size",
                 "ram_bytes", "lzma", "transform", "in_place", "map_entries", "pointer_base"):
        assert getattr(parsed, name) == getattr(header, name), name
    for cut in range(len(raw)):
        assert parse_header(raw[:cut]) is None


@given(headers, st.data())
def test_any_corrupt_header_byte_is_refused(header: PatchHeader, data) -> None:  # type: ignore[no-untyped-def]
    raw = bytearray(header.encode())
    pos = data.draw(st.integers(0, len(raw) - 1))
    raw[pos] ^= data.draw(st.integers(1, 255))
    with pytest.raises((DeltaFormatError, DeltaUnsupportedError)):
        got = parse_header(bytes(raw) + bytes(200))
        assert got is None  # unreachable: a corrupt 160+ byte input never parses


@given(st.integers(0, (1 << 64) - 1), st.integers(-(1 << 40), 1 << 40))
def test_varints(value: int, signed: int) -> None:
    raw = encode_varint(value)
    assert decode_varint(raw + b"\x00", 0) == (value, len(raw))
    assert decode_varint(raw[:-1], 0) is None
    assert unzigzag(zigzag(signed)) == signed and zigzag(signed) >= 0
    with pytest.raises(DeltaFormatError):
        decode_varint(b"\xff" * 11, 0)
