"""The pure boot decision table (specs/BOOTLOADER-PROTOCOL.md §Decision table).

Evaluated on every boot, in order; the first matching row wins. Inputs are the two trailer
states as read (torn units already dropped), output is what the boot must do next. Candidate
validation and anti-rollback come after the table (a START can still end in REJECT).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from suitlib.bootloader.trailer import SwapType, TrailerState


class Action(enum.Enum):
    RESUME = "resume"                    # row 1: finish the recorded operation
    START = "start"                      # row 2: a request in the secondary trailer
    REVERT = "revert"                    # row 3: unconfirmed trial: request a revert, then START
    CLEAN_SECONDARY = "clean-secondary"  # row 4: leftover or BAD secondary trailer
    BOOT = "boot"                        # row 5: nothing to do


@dataclass(frozen=True)
class Decision:
    action: Action
    swap_type: SwapType = SwapType.NONE
    row: int = 5


def decide(primary: TrailerState, secondary: TrailerState) -> Decision:
    """The table. Total over every combination of inputs."""
    in_progress = (primary.swap is not None or primary.progress > 0) and not primary.copy_done
    if in_progress:
        if primary.swap is not None:
            kind = primary.swap.type
        else:  # swap info unreadable: the secondary request still names the operation
            kind = secondary.request or SwapType.PERM
        return Decision(Action.RESUME, kind, 1)
    if secondary.request is not None:
        return Decision(Action.START, secondary.request, 2)
    if (primary.swap is not None and primary.swap.type is SwapType.TEST
            and primary.copy_done and not primary.image_ok):
        return Decision(Action.REVERT, SwapType.REVERT, 3)
    if secondary.touched:
        return Decision(Action.CLEAN_SECONDARY, SwapType.NONE, 4)
    return Decision(Action.BOOT, SwapType.NONE, 5)


def primary_confirmed(primary: TrailerState) -> bool:
    """Whether the primary image counts as confirmed (anti-rollback may advance to it).

    Confirmed: image_ok recorded, or no operation ever recorded (programmer-flashed image).
    """
    if primary.image_ok:
        return True
    return primary.swap is None and primary.progress == 0 and not primary.copy_done
