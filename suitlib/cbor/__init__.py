"""suitlib.cbor — deterministic CBOR encoding and strict, bounded decoding (RFC 8949).

``encode(value)`` produces the core deterministic encoding (§4.2.1); ``decode(data, limits=…)``
accepts exactly one item in that encoding and raises a specific
:class:`~suitlib.errors.DecodeError` (see :mod:`suitlib.cbor.errors`) for anything else.
"""

from suitlib.cbor.decoder import Budget, decode, decode_from
from suitlib.cbor.encoder import EncodeError, bstr, encode, encode_float, head
from suitlib.cbor.errors import (
    DecodeLimitError,
    DepthLimitError,
    DuplicateKeyError,
    IndefiniteLengthError,
    ItemLimitError,
    MalformedError,
    NonCanonicalError,
    SizeLimitError,
    TrailingBytesError,
)
from suitlib.cbor.types import UNDEFINED, Raw, Simple, Tag

__all__ = [
    "UNDEFINED",
    "Budget",
    "DecodeLimitError",
    "DepthLimitError",
    "DuplicateKeyError",
    "EncodeError",
    "IndefiniteLengthError",
    "ItemLimitError",
    "MalformedError",
    "NonCanonicalError",
    "Raw",
    "Simple",
    "SizeLimitError",
    "Tag",
    "TrailingBytesError",
    "bstr",
    "decode",
    "decode_from",
    "encode",
    "encode_float",
    "head",
]
