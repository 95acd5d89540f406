"""Swap using a scratch sector (specs/BOOTLOADER-PROTOCOL.md §Swap with scratch).

Image sector ``i`` is exchanged in three steps, each "erase the destination, copy the source,
append PROGRESS(step + 1)":

====  ===========  =================
step  destination  source
====  ===========  =================
3i    scratch      secondary[i]
3i+1  secondary[i] primary[i]
3i+2  primary[i]   scratch
====  ===========  =================

A step's source is never the destination of that step nor of any earlier step still needed, so
re-running the first unrecorded step after a reset is always safe (the step is idempotent).
"""

from __future__ import annotations

from suitlib.bootloader.copy import copy_region
from suitlib.bootloader.layout import SlotLayout
from suitlib.bootloader.records import Log
from suitlib.bootloader.trailer import Kind, payload
from suitlib.flash.interface import FlashDevice

STEPS_PER_SECTOR = 3


def run_swap(flash: FlashDevice, layout: SlotLayout, log: Log, sectors: int, start: int,
             chunk: int) -> None:
    """Run steps ``start .. 3*sectors - 1``, recording each in the primary trailer ``log``."""
    assert layout.scratch is not None
    sc = layout.scratch
    for step in range(start, STEPS_PER_SECTOR * sectors):
        i, st = divmod(step, STEPS_PER_SECTOR)
        p = layout.primary.image_sectors[i]
        s = layout.secondary.image_sectors[i]
        if st == 0:
            flash.erase(sc.offset, sc.size)
            copy_region(flash, s.offset, sc.offset, s.size, chunk)
        elif st == 1:
            flash.erase(s.offset, s.size)
            copy_region(flash, p.offset, s.offset, p.size, chunk)
        else:
            flash.erase(p.offset, p.size)
            copy_region(flash, sc.offset, p.offset, p.size, chunk)
        log.append(payload(Kind.PROGRESS, step + 1))
