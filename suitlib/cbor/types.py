"""Value types the CBOR codec uses beyond Python's own (RFC 8949 §3.4, §3.3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Tag:
    """A tagged data item (major type 6): ``number(value)``. No tag is interpreted here."""

    number: int
    value: Any


@dataclass(frozen=True, slots=True)
class Simple:
    """A simple value (major type 7) other than false, true and null (e.g. 23 = undefined)."""

    value: int


UNDEFINED = Simple(23)
"""The simple value ``undefined``."""


@dataclass(frozen=True, slots=True)
class Raw:
    """Bytes that are already one encoded CBOR item; the encoder copies them unchanged."""

    data: bytes
