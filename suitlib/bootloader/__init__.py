"""suitlib.bootloader: slot layout and trailer (specs/FLASH-LAYOUT.md), the pure boot decision
table, and the reference bootloader (swap with scratch, overwrite-only) written as steps over a
:class:`~suitlib.flash.interface.FlashDevice` (specs/BOOTLOADER-PROTOCOL.md)."""

from suitlib.bootloader.decision import Action, Decision, decide
from suitlib.bootloader.errors import LayoutError, LogFullError
from suitlib.bootloader.layout import Area, Slot, SlotLayout, plan_layout
from suitlib.bootloader.reference import (
    BootResult,
    ReferenceBootloader,
    SlotStatus,
    overwrite_only,
    swap_scratch,
)
from suitlib.bootloader.trailer import Magic, SwapInfo, SwapType, TrailerState
from suitlib.bootloader.verify import DigestVerifier, EnvelopeMaker, ImageVerifier, Verdict

# SuitVerifier (suitlib.bootloader.suit_verify) is imported on demand: it pulls in the processor.

__all__ = [
    "Action", "Area", "BootResult", "Decision", "DigestVerifier", "EnvelopeMaker", "ImageVerifier", "LayoutError",
    "LogFullError", "Magic", "ReferenceBootloader", "Slot", "SlotLayout", "SlotStatus", "SwapInfo",
    "SwapType", "TrailerState", "Verdict", "decide", "overwrite_only", "plan_layout", "swap_scratch",
]
