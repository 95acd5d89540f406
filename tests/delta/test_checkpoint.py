"""The checkpoint ring (DELTA-FORMAT §6): the newest durable record always wins, a torn program
or erase never yields a wrong record, and a write-once unit is never programmed twice, across
cuts at every flash operation while the ring wraps around its sectors many times."""

from __future__ import annotations

import pytest

from suitlib.delta.checkpoint import PHASE_WRITE, CheckpointLog
from suitlib.delta.errors import DeltaLayoutError
from suitlib.flash import FaultPlan, FlashEmulator, Geometry, PowerLoss

DIGEST = bytes(range(32))


def _flash() -> FlashEmulator:
    # Three 256-byte sectors of 6 record slots: 40 appends wrap the ring twice.
    return FlashEmulator(Geometry.uniform(1024, 256, write_unit=8, program_limit=1))


def _run(flash: FlashEmulator, upto: int) -> None:
    """Append records with progress 1..upto, resuming from whatever the log holds."""
    log = CheckpointLog(flash, 0, 768)
    if log.latest is None:
        log.reset()
    start = log.latest.progress if log.latest else 0
    for progress in range(start + 1, upto + 1):
        log.append(patch_crc=7, target_digest=DIGEST, phase=PHASE_WRITE, progress=progress)


@pytest.mark.parametrize("torn,unstable", [(None, False), ("prefix", False), ("bits", True),
                                           ("all-but-last", False)])
def test_cut_at_every_op_of_a_wrapping_ring(torn: str | None, unstable: bool) -> None:
    flash = _flash()
    snap = flash.snapshot()
    _run(flash, 40)
    total = flash.ops
    assert CheckpointLog(flash, 0, 768).latest.progress == 40  # type: ignore[union-attr]
    for k in range(total):
        flash.restore(snap)
        flash.arm(FaultPlan.cut(k, torn=torn, unstable=unstable, seed=k))
        durable = 0
        try:
            log = CheckpointLog(flash, 0, 768)
            log.reset()
            for progress in range(1, 41):
                log.append(patch_crc=7, target_digest=DIGEST, phase=PHASE_WRITE, progress=progress)
                durable = progress
        except PowerLoss:
            pass
        flash.power_cycle()
        flash.arm(None)
        after = CheckpointLog(flash, 0, 768).latest
        got = after.progress if after else 0
        # The record being programmed at the cut may or may not have landed; nothing else.
        assert got in (durable, durable + 1), (k, got, durable)
        _run(flash, 40)  # never a write-once violation, always reaches the end
        assert CheckpointLog(flash, 0, 768).latest.progress == 40  # type: ignore[union-attr]


def test_region_must_be_two_whole_sectors() -> None:
    flash = _flash()
    with pytest.raises(DeltaLayoutError):
        CheckpointLog(flash, 0, 256)
    with pytest.raises(DeltaLayoutError):
        CheckpointLog(flash, 8, 512)


def test_records_of_another_patch_are_told_apart() -> None:
    flash = _flash()
    log = CheckpointLog(flash, 0, 768)
    log.reset()
    log.append(patch_crc=7, target_digest=DIGEST, phase=PHASE_WRITE, progress=5)
    rec = CheckpointLog(flash, 0, 768).latest
    assert rec is not None and rec.belongs_to(7, DIGEST)
    assert not rec.belongs_to(8, DIGEST) and not rec.belongs_to(7, bytes(32))
