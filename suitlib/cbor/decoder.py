"""Strict, bounded CBOR decoding (RFC 8949 §3, §4.2.1, §5.6).

The decoder accepts exactly one data item and only its core deterministic encoding: every
fault raises a specific :class:`~suitlib.errors.DecodeError` subclass naming the path.

* malformed input, reserved additional information, invalid UTF-8 → :class:`MalformedError`
* indefinite-length strings, arrays, maps → :class:`IndefiniteLengthError`
* a head, float or map-key order other than the deterministic one → :class:`NonCanonicalError`
* the same map key twice → :class:`DuplicateKeyError`
* bytes after the item → :class:`TrailingBytesError`
* input, nesting or item count over the :class:`~suitlib.limits.Limits` →
  :class:`SizeLimitError`, :class:`DepthLimitError`, :class:`ItemLimitError`

Length prefixes are checked against the bytes that remain before anything is allocated, so a
hostile prefix costs nothing; recursion is bounded by ``max_depth``.

Arrays decode to ``tuple``, maps to ``dict`` (keys made hashable: arrays are tuples; a map
used as a key is refused), tags to :class:`Tag`, simple values other than false/true/null to
:class:`Simple`. Requiring the deterministic form is what makes ``encode(decode(b)) == b``
hold for every accepted input, so decoded SUIT structures re-encode byte for byte.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Callable

from suitlib.cbor.encoder import encode_float
from suitlib.cbor.errors import (
    DepthLimitError,
    DuplicateKeyError,
    IndefiniteLengthError,
    ItemLimitError,
    MalformedError,
    NonCanonicalError,
    SizeLimitError,
    TrailingBytesError,
)
from suitlib.cbor.types import Simple, Tag
from suitlib.errors import DecodeError
from suitlib.limits import DEFAULT_LIMITS, Limits

_MINIMUM = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            24, 0x100, 0x10000, 0x100000000)
"""Smallest argument that needs additional information 24..27 (shorter forms exist below)."""


@dataclass
class Budget:
    """Items still allowed in one decoded structure; shared across nested bstr-wrapped CBOR."""

    items: int = DEFAULT_LIMITS.max_items


class _Fault(Exception):
    """Internal: a fault on its way up, collecting path segments."""

    def __init__(self, kind: type[DecodeError], message: str, **fields: Any) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.fields = fields
        self.segments: list[str] = []


class _Reader:
    __slots__ = ("data", "max_depth", "budget", "pos")

    def __init__(self, data: bytes, max_depth: int, budget: Budget) -> None:
        self.data = data
        self.max_depth = max_depth
        self.budget = budget
        self.pos = 0

    def argument(self, ai: int) -> int:
        data = self.data
        pos = self.pos
        if ai < 24:
            return ai
        if ai > 27:
            if ai == 31:
                raise _Fault(IndefiniteLengthError, "indefinite-length item (or stray break) not allowed")
            raise _Fault(MalformedError, f"reserved additional information {ai}", offset=pos - 1)
        width = 1 << (ai - 24)
        end = pos + width
        if end > len(data):
            raise _Fault(MalformedError, "truncated item head", offset=pos - 1)
        value = int.from_bytes(data[pos:end], "big")
        self.pos = end
        if value < _MINIMUM[ai]:
            raise _Fault(NonCanonicalError, f"argument {value} not in its shortest form", offset=pos - 1)
        return value

    def item(self, depth: int) -> Any:
        data = self.data
        pos = self.pos
        try:
            initial = data[pos]
        except IndexError:
            raise _Fault(MalformedError, "truncated: expected another item", offset=pos) from None
        major = initial >> 5
        ai = initial & 0x1F
        if major == 7:
            self.pos = pos + 1
            return self.simple(ai, pos)
        if ai < 24:
            value = ai
            head_end = pos + 1
        elif ai == 24 and pos + 1 < len(data):
            value = data[pos + 1]
            head_end = pos + 2
            if value < 24:
                raise _Fault(NonCanonicalError, f"argument {value} not in its shortest form", offset=pos)
        else:
            self.pos = pos + 1
            value = self.argument(ai)
            head_end = self.pos
        if major == 0:
            self.pos = head_end
            return value
        if major == 1:
            self.pos = head_end
            return -1 - value
        if major == 2 or major == 3:
            end = head_end + value
            if end > len(data):
                raise _Fault(MalformedError, f"string of {value} bytes runs past the end of the input",
                             offset=pos)
            self.pos = end
            if major == 2:
                return data[head_end:end]
            try:
                return data[head_end:end].decode("utf-8")
            except UnicodeDecodeError:
                raise _Fault(MalformedError, "text string is not valid UTF-8", offset=pos) from None
        self.pos = head_end
        depth += 1
        if depth > self.max_depth:
            raise _Fault(DepthLimitError, f"nesting deeper than {self.max_depth}", limit="max_depth")
        if major == 6:
            try:
                return Tag(value, self.item(depth))
            except _Fault as fault:
                fault.segments.append(f"<tag {value}>")
                raise
        # arrays and maps: every element takes at least one byte, so a count larger than the
        # remaining input is refused before allocating.
        count = value if major == 4 else 2 * value
        if count > len(data) - self.pos:
            raise _Fault(ItemLimitError, f"length {value} exceeds the remaining input", offset=pos,
                         limit="max_items")
        budget = self.budget
        budget.items -= value
        if budget.items < 0:
            raise _Fault(ItemLimitError, "more items than the limit allows", limit="max_items")
        if major == 4:
            out = []
            append = out.append
            item = self.item
            size = len(data)
            pos = self.pos
            i = 0
            try:
                for i in range(value):
                    if pos < size:
                        first = data[pos]
                        if first < 0x18:  # small unsigned integer: no call
                            pos += 1
                            append(first)
                            continue
                        if first < 0x58:
                            if first >= 0x40:  # short byte string: no call
                                end = pos + first - 0x3F
                                if end <= size:
                                    append(data[pos + 1:end])
                                    pos = end
                                    continue
                            elif first == 0x18 and pos + 1 < size and data[pos + 1] >= 24:  # uint8
                                append(data[pos + 1])
                                pos += 2
                                continue
                            elif 0x20 <= first < 0x38:  # small negative integer
                                append(0x1F - first)
                                pos += 1
                                continue
                        elif first == 0x58 and pos + 1 < size and data[pos + 1] >= 24:  # bstr, 1-byte length
                            end = pos + 2 + data[pos + 1]
                            if end <= size:
                                append(data[pos + 2:end])
                                pos = end
                                continue
                        elif 0x60 <= first < 0x78:  # short text string (invalid UTF-8: item() reports it)
                            end = pos + first - 0x5F
                            if end <= size:
                                try:
                                    append(data[pos + 1:end].decode("utf-8"))
                                    pos = end
                                    continue
                                except UnicodeDecodeError:
                                    pass
                    self.pos = pos
                    append(item(depth))
                    pos = self.pos
            except _Fault as fault:
                fault.segments.append(f"[{i}]")
                raise
            self.pos = pos
            return tuple(out)
        return self.map(value, depth)

    def map(self, count: int, depth: int, names: Callable[[Any], str] | None = None) -> dict[Any, Any]:
        """Decode ``count`` pairs; ``names`` (outermost map only) names keys in errors."""
        data = self.data
        size = len(data)
        item = self.item
        out: dict[Any, Any] = {}
        previous = b""
        pos = self.pos
        for _ in range(count):
            start = pos
            if pos < size and data[pos] < 0x18:  # small unsigned integer key
                key = data[pos]
                pos += 1
            else:
                self.pos = pos
                key = item(depth)
                pos = self.pos
                if not isinstance(key, (int, str, bytes)):
                    try:
                        hash(key)
                    except TypeError:
                        raise _Fault(MalformedError, "a map used as a map key is not supported",
                                     offset=start) from None
            encoded = data[start:pos]
            if encoded <= previous:
                label = names(key) if names is not None else repr(key)
                if key in out:
                    raise _Fault(DuplicateKeyError, f"duplicate map key {label}", key=repr(key))
                raise _Fault(NonCanonicalError, f"map key {label} out of deterministic (bytewise) order",
                             offset=start)
            previous = encoded
            if pos < size:
                first = data[pos]
                if first < 0x18:
                    out[key] = first
                    pos += 1
                    continue
                if first < 0x58:
                    if first >= 0x40:
                        end = pos + first - 0x3F
                        if end <= size:
                            out[key] = data[pos + 1:end]
                            pos = end
                            continue
                    elif first == 0x18 and pos + 1 < size and data[pos + 1] >= 24:
                        out[key] = data[pos + 1]
                        pos += 2
                        continue
                    elif 0x20 <= first < 0x38:
                        out[key] = 0x1F - first
                        pos += 1
                        continue
                elif first == 0x58 and pos + 1 < size and data[pos + 1] >= 24:
                    end = pos + 2 + data[pos + 1]
                    if end <= size:
                        out[key] = data[pos + 2:end]
                        pos = end
                        continue
                elif 0x60 <= first < 0x78:  # short text string (invalid UTF-8: item() reports it)
                    end = pos + first - 0x5F
                    if end <= size:
                        try:
                            out[key] = data[pos + 1:end].decode("utf-8")
                            pos = end
                            continue
                        except UnicodeDecodeError:
                            pass
            self.pos = pos
            try:
                out[key] = item(depth)
            except _Fault as fault:
                fault.segments.append("/" + names(key) if names is not None else self.segment(key))
                raise
            pos = self.pos
        self.pos = pos
        if len(out) != count:
            # distinct encodings, equal values in Python (1, 1.0 and true): one would be lost
            raise _Fault(DuplicateKeyError, "map keys that differ in CBOR but are equal as values "
                         "(such as 1, 1.0 and true)")
        return out

    @staticmethod
    def segment(key: Any) -> str:
        return f"/{key}" if isinstance(key, (int, str)) else f"/{key!r}"

    def simple(self, ai: int, pos: int) -> Any:
        data = self.data
        if ai == 20:
            return False
        if ai == 21:
            return True
        if ai == 22:
            return None
        if ai < 24:
            return Simple(ai)
        if ai == 24:
            if pos + 2 > len(data):
                raise _Fault(MalformedError, "truncated simple value", offset=pos)
            value = data[pos + 1]
            self.pos = pos + 2
            if value < 32:
                raise _Fault(MalformedError if value >= 24 else NonCanonicalError,
                             f"simple value {value} in a two-byte form", offset=pos)
            return Simple(value)
        if 25 <= ai <= 27:
            width = 1 << (ai - 24)
            end = pos + 1 + width
            if end > len(data):
                raise _Fault(MalformedError, "truncated float", offset=pos)
            raw = data[pos:end]
            self.pos = end
            value = struct.unpack((">e", ">f", ">d")[ai - 25], raw[1:])[0]
            if encode_float(value) != raw:
                raise _Fault(NonCanonicalError, "float not in its shortest form", offset=pos)
            return value
        if ai == 31:
            raise _Fault(IndefiniteLengthError, "stray break (0xff) outside an indefinite-length item",
                         offset=pos)
        raise _Fault(MalformedError, f"reserved additional information {ai}", offset=pos)


def decode(
    data: bytes,
    *,
    limits: Limits = DEFAULT_LIMITS,
    path: str = "",
    budget: Budget | None = None,
    key_names: Callable[[Any], str] | None = None,
) -> Any:
    """Decode exactly one deterministically encoded CBOR item from ``data``.

    ``path`` prefixes every error's path (e.g. ``manifest/common``); ``key_names`` names the
    keys of the outermost map in paths (``components`` rather than ``2``); ``budget`` shares an
    item count across several calls (nested bstr-wrapped CBOR).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DecodeError(f"expected bytes, got {type(data).__name__}", path=path)
    if type(data) is not bytes:
        data = bytes(data)
    if len(data) > limits.max_envelope_size:
        raise SizeLimitError(f"{len(data)} bytes exceed the limit of {limits.max_envelope_size}",
                             path=path, limit="max_envelope_size", size=len(data))
    reader = _Reader(data, limits.max_depth, budget if budget is not None else Budget(limits.max_items))
    try:
        value = reader.item(0) if key_names is None else _outer(reader, key_names)
    except _Fault as fault:
        where = path + "".join(reversed(fault.segments))
        raise fault.kind(fault.message, path=where if path else where.lstrip("/"), **fault.fields) from None
    except RecursionError:  # pragma: no cover - max_depth keeps recursion far below Python's limit
        raise DepthLimitError("nesting too deep", path=path, limit="max_depth") from None
    if reader.pos != len(data):
        raise TrailingBytesError(f"{len(data) - reader.pos} trailing byte(s) after the item",
                                 path=path, offset=reader.pos)
    return value


def decode_from(data: bytes, pos: int, depth: int, *, limits: Limits, budget: Budget) -> tuple[Any, int]:
    """Decode the one item that starts at ``pos`` inside a container nested ``depth`` levels
    deep; returns the item and the offset just past it.

    For decoders that walk a known structure over the bytes themselves and hand any item they
    do not read inline to the general reader: the same strictness, depth and item budget apply.
    ``data`` must already be within ``limits.max_envelope_size``. Faults raise the same
    :class:`DecodeError` subclasses as :func:`decode`, with a path relative to the item.
    """
    reader = _Reader(data, limits.max_depth, budget)
    reader.pos = pos
    try:
        value = reader.item(depth)
    except _Fault as fault:
        where = "".join(reversed(fault.segments)).lstrip("/")
        raise fault.kind(fault.message, path=where, **fault.fields) from None
    except RecursionError:  # pragma: no cover - max_depth keeps recursion far below Python's limit
        raise DepthLimitError("nesting too deep", path="", limit="max_depth") from None
    return value, reader.pos


def _outer(reader: _Reader, key_names: Callable[[Any], str]) -> Any:
    """Decode the outermost item, naming keys only at its first level."""
    data = reader.data
    if data and data[0] >> 5 == 5 and (data[0] & 0x1F) != 31:
        reader.pos = 1
        count = reader.argument(data[0] & 0x1F)
        if 2 * count > len(data) - reader.pos:
            raise _Fault(ItemLimitError, f"length {count} exceeds the remaining input", limit="max_items")
        reader.budget.items -= count
        if reader.budget.items < 0:
            raise _Fault(ItemLimitError, "more items than the limit allows", limit="max_items")
        if reader.max_depth < 1:
            raise _Fault(DepthLimitError, f"nesting deeper than {reader.max_depth}", limit="max_depth")
        # key names apply to this level only: nested maps see plain keys.
        return reader.map(count, 1, key_names)
    return reader.item(0)
