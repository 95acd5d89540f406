"""The boot decision table (specs/BOOTLOADER-PROTOCOL.md §Decision table) — scenario 17:
every trailer-state combination, as a pure table and as flash states booted for real."""

from __future__ import annotations

import itertools
import os

import pytest

from suitlib.bootloader import ReferenceBootloader
from suitlib.bootloader.decision import Action, decide
from suitlib.bootloader.trailer import (
    Kind,
    Magic,
    SwapInfo,
    SwapType,
    TrailerState,
    format_trailer,
    magic_bytes,
    payload,
)
from suitlib.flash import FlashEmulator, Geometry

SWAPS = [None] + [SwapInfo(t, 4) for t in (SwapType.TEST, SwapType.PERM, SwapType.REVERT)]
REQUESTS = [None, SwapType.TEST, SwapType.PERM, SwapType.REVERT]


def _primaries():
    for magic, swap, progress, copy_done, image_ok in itertools.product(
            list(Magic), SWAPS, (0, 5, 12), (False, True), (False, True)):
        yield TrailerState(magic, magic is not Magic.UNSET or swap is not None, swap, progress,
                           copy_done, image_ok)


def _secondaries():
    for magic, request in itertools.product(list(Magic), REQUESTS):
        yield TrailerState(magic, magic is not Magic.UNSET, request=request)


def test_table_is_total_and_ordered() -> None:
    seen = set()
    for p, s in itertools.product(_primaries(), _secondaries()):
        d = decide(p, s)
        seen.add(d.action)
        in_progress = (p.swap is not None or p.progress > 0) and not p.copy_done
        if in_progress:
            assert d.action is Action.RESUME and d.row == 1
            assert d.swap_type is (p.swap.type if p.swap else (s.request or SwapType.PERM))
        elif s.request is not None:
            assert d.action is Action.START and d.swap_type is s.request
        elif p.swap and p.swap.type is SwapType.TEST and p.copy_done and not p.image_ok:
            assert d.action is Action.REVERT
        elif s.touched:
            assert d.action is Action.CLEAN_SECONDARY
        else:
            assert d.action is Action.BOOT
    assert seen == set(Action)


def _image(n: int, tag: int) -> bytes:
    return bytes([tag]) * 16 + os.urandom(n - 16)


P_STATES = ["empty", "bad-magic", "magic", "confirmed", "trial", "test-progress", "perm-progress",
            "revert-progress", "done-perm"]
S_STATES = ["empty", "bad-magic", "magic", "test", "perm", "revert"]


@pytest.mark.parametrize("pstate", P_STATES)
@pytest.mark.parametrize("sstate", S_STATES)
@pytest.mark.parametrize("limit", [None, 1])
def test_every_flash_state_boots_and_converges(pstate: str, sstate: str, limit: int | None) -> None:
    flash = FlashEmulator(Geometry.uniform(64 * 1024, 2048, write_unit=8, program_limit=limit))
    bl = ReferenceBootloader("swap")
    lay = bl.layout(flash)
    v1, v2 = _image(5000, 1), _image(6000, 2)
    bl.provision(flash, v1, bl.envelope_for(v1, 1))
    bl.write_candidate(flash, v2, bl.envelope_for(v2, 2))
    unit = lay.record_unit

    def trailer(slot, state):  # noqa: ANN001
        if state == "empty":
            return
        if state == "bad-magic":
            flash.program(slot.trailer.offset, bytes(magic_bytes(flash, unit)[0:8]) + b"\xff" * 8)
            return
        log = format_trailer(flash, lay, slot)
        kinds = {"test": SwapType.TEST, "perm": SwapType.PERM, "revert": SwapType.REVERT}
        if state in kinds:
            log.append(payload(Kind.REQUEST, kinds[state]))
        elif state == "confirmed":
            log.append(payload(Kind.IMAGE_OK))
        elif state == "trial":
            log.append(payload(Kind.SWAP_INFO, SwapType.TEST << 20 | 3))
            log.append(payload(Kind.PROGRESS, 9))
            log.append(payload(Kind.COPY_DONE))
        elif state.endswith("-progress"):
            t = kinds[state.split("-")[0]]
            log.append(payload(Kind.SWAP_INFO, t << 20 | 3))
            log.append(payload(Kind.PROGRESS, 0))  # nothing moved yet
        elif state == "done-perm":
            log.append(payload(Kind.SWAP_INFO, SwapType.PERM << 20 | 3))
            log.append(payload(Kind.IMAGE_OK))
            log.append(payload(Kind.COPY_DONE))

    trailer(lay.primary, pstate)
    trailer(lay.secondary, sstate)
    booted = []
    for _ in range(4):
        res = bl.boot(flash)
        assert res.booted, (pstate, sstate, res.reason)
        assert res.image in (v1, v2)
        booted.append(res.image)
    # converged: the last boot moved nothing and booted what the one before did
    ops = flash.ops
    res = bl.boot(flash)
    assert flash.ops - ops <= 1 and res.image == booted[-1]
    st = bl.status(flash)
    assert st.confirmed and not st.in_progress and st.pending is None
