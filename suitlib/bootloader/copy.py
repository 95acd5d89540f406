"""Sector copies in bounded RAM (the bootloader's copy buffer)."""

from __future__ import annotations

from suitlib.flash.interface import FlashDevice


def copy_region(flash: FlashDevice, src: int, dst: int, length: int, chunk: int) -> None:
    """Copy ``length`` bytes in ``chunk``-byte programs. The destination must be erased; chunks
    that read as erased are skipped (programming the erased value changes nothing)."""
    erased = bytes([flash.erase_value]) * chunk
    for off in range(0, length, chunk):
        n = min(chunk, length - off)
        data = flash.read(src + off, n)
        if data == erased[:n]:
            continue
        flash.program(dst + off, data)
