"""Typed failures of block-wise transfer (RFC 7959) and of the CoAP transport.

All derive from :class:`suitlib.errors.TransportError` (CLI exit code 3).
"""

from __future__ import annotations

from suitlib.errors import TransportError


class BlockwiseError(TransportError):
    """A peer broke the block-wise protocol (RFC 7959); the block was not used."""

    default_hint = "the peer sent a block that does not fit the transfer; retry or report the server"


class BlockOptionError(BlockwiseError):
    """A Block1/Block2 option value is malformed (RFC 7959 §2.2): SZX 7 (BERT) or NUM too large."""


class DuplicateBlockError(BlockwiseError):
    """A block that was already received arrived again."""


class UnexpectedBlockError(BlockwiseError):
    """A block arrived that was not requested (out of order, past the end, stale size)."""


class WrongOffsetError(BlockwiseError):
    """A response carries a different block than the request asked for (RFC 7959 §2.4)."""


class BlockSizeError(BlockwiseError):
    """A block's payload length does not match its SZX (short non-final block, bad total)."""


class OversizedBlockError(BlockSizeError):
    """A block is larger than negotiated: payload above 2**(SZX+4), or SZX above the request's."""


class ResourceChangedError(BlockwiseError):
    """The representation changed (ETag or Size2) more often than the transfer may restart."""

    default_hint = "the server replaced the resource during the download; publish immutable URIs"


class TransferTooLargeError(BlockwiseError):
    """The representation is larger than the receiver accepts (Size2/Size1 or data received)."""

    default_hint = "the device has no room for this transfer; check Limits.max_fetch_size"


class RequestIncompleteError(BlockwiseError):
    """A Block1 upload has a gap or no start (CoAP 4.08 Request Entity Incomplete)."""


class EntityTooLargeError(BlockwiseError):
    """A Block1 upload exceeds what the server accepts (CoAP 4.13; ``size1`` = the limit)."""


class TransferFailedError(TransportError):
    """A request got no usable answer: retries exhausted, reset, or an error response code."""

    default_hint = "check the server address and the link; the download resumes where it stopped"
