"""The slot image container: header, firmware image, SUIT envelope (specs/FLASH-LAYOUT.md
§Image container).

``header (16 B, padded to the write unit) || image (padded) || envelope (padded)``. The header
is ``b"SIMG" | u16 version=1 | u16 header_size | u32 image_size | u32 envelope_size`` (little
endian). The download writer programs the header last, so a partly written container never
parses.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from suitlib.flash.interface import FlashDevice

HEADER_MAGIC = b"SIMG"
_HEADER = struct.Struct("<4sHHII")


def _pad(n: int, unit: int) -> int:
    return -(-n // unit) * unit


@dataclass(frozen=True)
class Container:
    """A parsed container (the bytes of the image and of its envelope)."""

    image: bytes
    envelope: bytes

    def total(self, write_unit: int) -> int:
        return container_size(len(self.image), len(self.envelope), write_unit)


def header_size(write_unit: int) -> int:
    return _pad(_HEADER.size, write_unit)


def container_size(image_len: int, envelope_len: int, write_unit: int) -> int:
    return header_size(write_unit) + _pad(image_len, write_unit) + _pad(envelope_len, write_unit)


def build(image: bytes, envelope: bytes, write_unit: int, erase_value: int) -> tuple[bytes, bytes]:
    """(header, body) of a container; both padded with the erased value."""
    hs = header_size(write_unit)
    fill = bytes([erase_value])
    header = _HEADER.pack(HEADER_MAGIC, 1, hs, len(image), len(envelope))
    header += fill * (hs - len(header))
    body = image + fill * (_pad(len(image), write_unit) - len(image))
    body += envelope + fill * (_pad(len(envelope), write_unit) - len(envelope))
    return header, body


def read(flash: FlashDevice, offset: int, capacity: int) -> Container | None:
    """The container at ``offset`` or ``None`` if the header is absent, torn or out of bounds."""
    raw = flash.read(offset, _HEADER.size)
    magic, version, hs, image_len, env_len = _HEADER.unpack(raw)
    if magic != HEADER_MAGIC or version != 1 or hs != header_size(flash.write_unit):
        return None
    wu = flash.write_unit
    if container_size(image_len, env_len, wu) > capacity:
        return None
    image = flash.read(offset + hs, image_len)
    envelope = flash.read(offset + hs + _pad(image_len, wu), env_len)
    return Container(image, envelope)
