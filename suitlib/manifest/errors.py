"""Faults specific to SUIT structures (the CBOR-level ones live in :mod:`suitlib.cbor.errors`)."""

from __future__ import annotations

from suitlib.errors import DecodeError, UnsupportedError


class WrongTagError(DecodeError):
    """A CBOR tag other than the one the CDDL allows (e.g. not 107 on an envelope)."""


class WrongTypeError(DecodeError):
    """A value of the wrong CBOR type or shape for its place in the CDDL."""


class MissingKeyError(DecodeError):
    """A map lacks a key the CDDL requires (e.g. the manifest's sequence number)."""


class InvalidValueError(DecodeError):
    """A value of the right type that the CDDL still does not allow (e.g. key 0, an odd-length
    command sequence, a try-each with fewer than two sequences)."""


class OldDraftError(UnsupportedError):
    """An envelope using the numbering of an older SUIT draft (draft-09 or the draft-20 era)."""

    default_hint = ("this envelope follows an older SUIT draft (e.g. RIOT or the archived suit-tool); "
                    "regenerate it for draft-ietf-suit-manifest-34")
