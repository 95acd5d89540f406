"""Strict, bounded CBOR decoding for the small COSE structures (RFC 8949 §4.2, §5).

Every failure becomes a :class:`DecodeError` naming ``path``; trailing bytes, duplicate map keys,
indefinite lengths and deep nesting are refused.
"""

from __future__ import annotations

import io
from typing import Any

import cbor2

from suitlib.errors import DecodeError

MAX_DEPTH = 8
MAX_SIZE = 1 << 16


def loads_strict(data: bytes, *, path: str, max_size: int = MAX_SIZE) -> Any:
    """Decode exactly one CBOR item from ``data`` or raise :class:`DecodeError`."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DecodeError(f"expected a byte string, got {type(data).__name__}", path=path)
    if len(data) > max_size:
        raise DecodeError(f"item too large ({len(data)} bytes > {max_size})", path=path)
    if not data:
        raise DecodeError("empty input where a CBOR item was expected", path=path)
    stream = io.BytesIO(bytes(data))
    try:
        value = cbor2.CBORDecoder(
            stream, max_depth=MAX_DEPTH, allow_indefinite=False, allow_duplicate_keys=False
        ).decode()
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError, MemoryError) as exc:
        raise DecodeError(f"malformed CBOR: {exc}", path=path) from None
    if stream.tell() != len(data):
        raise DecodeError(f"{len(data) - stream.tell()} trailing bytes after the CBOR item", path=path)
    return value


def dumps(value: Any) -> bytes:
    """Deterministic encoding (RFC 8949 §4.2.1: preferred serialisation, sorted map keys)."""
    return cbor2.dumps(value, canonical=True)
