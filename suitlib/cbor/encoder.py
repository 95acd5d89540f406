"""Deterministic CBOR encoding (RFC 8949 §4.2.1, "core deterministic encoding").

* every head in its shortest form, definite lengths only;
* floats in the shortest of half/single/double that keeps the value (NaN as ``f9 7e00``);
* map keys sorted bytewise on their encodings (for small integers this gives 0..23, then
  24.., then negative ones, which is also the SUIT envelope rule "key 2 before key 3").

Supported values: ``int``, ``bool``, ``None``, ``bytes``/``bytearray``/``memoryview``,
``str``, ``float``, sequences (``list``/``tuple``), mappings, :class:`Tag`, :class:`Simple`
and :class:`Raw` (pre-encoded item, copied).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from typing import Any

from suitlib.cbor.types import Raw, Simple, Tag
from suitlib.errors import SuitError


class EncodeError(SuitError):
    """A value that has no CBOR encoding here (unsupported type, integer out of range)."""


def head(major: int, value: int) -> bytes:
    """The shortest head for ``major`` type and argument ``value`` (RFC 8949 §3, §4.2.1)."""
    mt = major << 5
    if value < 24:
        return bytes((mt | value,))
    if value < 0x100:
        return bytes((mt | 24, value))
    if value < 0x10000:
        return bytes((mt | 25,)) + value.to_bytes(2, "big")
    if value < 0x100000000:
        return bytes((mt | 26,)) + value.to_bytes(4, "big")
    if value < 0x10000000000000000:
        return bytes((mt | 27,)) + value.to_bytes(8, "big")
    raise EncodeError(f"integer argument {value} does not fit in 64 bits")


def bstr(content: bytes) -> bytes:
    """``content`` encoded as a byte string (head + content)."""
    return head(2, len(content)) + bytes(content)


def encode_float(value: float) -> bytes:
    """The shortest IEEE 754 form that keeps ``value`` exactly (RFC 8949 §4.2.1)."""
    if math.isnan(value):
        return b"\xf9\x7e\x00"
    try:
        half = struct.pack(">e", value)
        if struct.unpack(">e", half)[0] == value:
            return b"\xf9" + half
    except OverflowError:
        pass
    single = struct.pack(">f", value) if abs(value) <= 3.4028234663852886e38 or math.isinf(value) else None
    if single is not None and struct.unpack(">f", single)[0] == value:
        return b"\xfa" + single
    return b"\xfb" + struct.pack(">d", value)


def _first(pair: tuple[bytes, Any]) -> bytes:
    return pair[0]


def _encode(value: Any, out: list[bytes]) -> None:
    # bool before int: bool is an int subclass.
    if value is True:
        out.append(b"\xf5")
    elif value is False:
        out.append(b"\xf4")
    elif value is None:
        out.append(b"\xf6")
    elif isinstance(value, int):
        if value >= 0:
            out.append(head(0, value))
        else:
            out.append(head(1, -1 - value))
    elif isinstance(value, (bytes, bytearray, memoryview)):
        out.append(head(2, len(value)))
        out.append(bytes(value))
    elif isinstance(value, str):
        data = value.encode("utf-8")
        out.append(head(3, len(data)))
        out.append(data)
    elif isinstance(value, Raw):
        out.append(value.data)
    elif isinstance(value, (list, tuple)):
        out.append(head(4, len(value)))
        for item in value:
            _encode(item, out)
    elif isinstance(value, Mapping):
        pairs = sorted(((encode(k), v) for k, v in value.items()), key=_first)
        out.append(head(5, len(pairs)))
        previous = None
        for key, item in pairs:
            if key == previous:
                raise EncodeError("two map keys have the same encoding")
            previous = key
            out.append(key)
            _encode(item, out)
    elif isinstance(value, Tag):
        out.append(head(6, value.number))
        _encode(value.value, out)
    elif isinstance(value, float):
        out.append(encode_float(value))
    elif isinstance(value, Simple):
        if 24 <= value.value < 32 or not 0 <= value.value < 256 or value.value in (20, 21, 22):
            raise EncodeError(f"simple value {value.value} is not encodable as a Simple")
        out.append(head(7, value.value))
    else:
        raise EncodeError(f"cannot encode a {type(value).__name__} as CBOR")


def encode(value: Any) -> bytes:
    """Encode ``value`` deterministically (RFC 8949 §4.2.1)."""
    out: list[bytes] = []
    _encode(value, out)
    return b"".join(out)
