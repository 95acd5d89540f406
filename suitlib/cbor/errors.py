"""Specific decoding faults, each a :class:`~suitlib.errors.DecodeError` carrying a ``path``.

Tests and callers can tell the faults apart by type; the CLI shows the message and path.
"""

from __future__ import annotations

from suitlib.errors import DecodeError, LimitExceededError


class MalformedError(DecodeError):
    """Not well-formed CBOR (RFC 8949 §3): truncated item, reserved additional information,
    a break outside an indefinite-length item, invalid UTF-8 in a text string."""


class TrailingBytesError(DecodeError):
    """Bytes remain after the single data item that was expected."""


class IndefiniteLengthError(DecodeError):
    """An indefinite-length string, array or map (forbidden by deterministic encoding)."""


class DuplicateKeyError(DecodeError):
    """A map holds the same key twice (RFC 8949 §5.6: not valid for SUIT)."""


class NonCanonicalError(DecodeError):
    """Not deterministically encoded (RFC 8949 §4.2.1): a longer head than needed, a float
    wider than needed, or map keys out of bytewise order."""


class DecodeLimitError(DecodeError):
    """A :class:`~suitlib.limits.Limits` bound was exceeded while decoding (size, depth, items).

    It is a :class:`DecodeError` (bad input, exit 2); ``limit`` names the bound.
    """


class SizeLimitError(DecodeLimitError):
    """The input is larger than ``Limits.max_envelope_size``."""


class DepthLimitError(DecodeLimitError):
    """Nesting deeper than ``Limits.max_depth``."""


class ItemLimitError(DecodeLimitError):
    """More items than ``Limits.max_items`` (or a length prefix larger than the input)."""


__all__ = [
    "DecodeError",
    "DecodeLimitError",
    "DepthLimitError",
    "DuplicateKeyError",
    "IndefiniteLengthError",
    "ItemLimitError",
    "LimitExceededError",
    "MalformedError",
    "NonCanonicalError",
    "SizeLimitError",
    "TrailingBytesError",
]
