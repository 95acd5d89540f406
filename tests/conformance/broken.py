"""Deliberately broken bootloaders: each repeats a real bug class the suite must catch.

Each is the reference bootloader with one part replaced; the factory names are used as
``--bootloader tests.conformance.broken:<name>``.
"""

from __future__ import annotations

from dataclasses import replace

from suitlib.bootloader.copy import copy_region
from suitlib.bootloader.decision import Action, Decision, decide
from suitlib.bootloader.layout import Slot, SlotLayout
from suitlib.bootloader.records import Log
from suitlib.bootloader.reference import ReferenceBootloader
from suitlib.bootloader.swap import STEPS_PER_SECTOR
from suitlib.bootloader.trailer import Kind, Magic, SwapType, TrailerState, payload
from suitlib.flash.interface import FlashDevice


def _step(flash: FlashDevice, lay: SlotLayout, step: int, chunk: int) -> None:
    """One step of the reference swap (erase destination, copy source)."""
    assert lay.scratch is not None
    i, st = divmod(step, STEPS_PER_SECTOR)
    p, s, sc = lay.primary.image_sectors[i], lay.secondary.image_sectors[i], lay.scratch
    src, dst = [(s, sc.sectors[0]), (p, s), (sc.sectors[0], p)][st]
    flash.erase(dst.offset, dst.size)
    copy_region(flash, src.offset, dst.offset, p.size, chunk)


class NoProgressRecord(ReferenceBootloader):
    """Swaps without recording progress: a resume restarts the swap from the first sector."""

    def swap_steps(self, flash: FlashDevice, lay: SlotLayout, log: Log, n: int, start: int) -> None:
        for step in range(0, STEPS_PER_SECTOR * n):
            _step(flash, lay, step, self.chunk)
        log.append(payload(Kind.PROGRESS, STEPS_PER_SECTOR * n))


class TrailerBeforeData(ReferenceBootloader):
    """Records each step as done before doing it (the record runs ahead of the data)."""

    def swap_steps(self, flash: FlashDevice, lay: SlotLayout, log: Log, n: int, start: int) -> None:
        for step in range(start, STEPS_PER_SECTOR * n):
            log.append(payload(Kind.PROGRESS, step + 1))
            _step(flash, lay, step, self.chunk)


class TornFlagTrusted(ReferenceBootloader):
    """Takes a primary-trailer unit that is neither erased nor a valid record as image_ok set
    (the "not erased means set" reading of a flag)."""

    def read_state(self, flash: FlashDevice, lay: SlotLayout, slot: Slot) -> tuple[TrailerState, Log]:
        st, log = super().read_state(flash, lay, slot)
        if slot.name == "primary":
            ev = flash.erase_value
            for e in log.entries:
                raw = flash.read(log.offset + e.index * log.unit, log.unit)
                if e.payload is None and raw.count(ev) != len(raw):
                    st = replace(st, image_ok=True)
        return st, log


class EraseBeforeCopyOut(ReferenceBootloader):
    """Erases the secondary sector in the same step that copies it out to scratch."""

    def swap_steps(self, flash: FlashDevice, lay: SlotLayout, log: Log, n: int, start: int) -> None:
        assert lay.scratch is not None
        for step in range(start, STEPS_PER_SECTOR * n):
            i, st = divmod(step, STEPS_PER_SECTOR)
            p, s, sc = lay.primary.image_sectors[i], lay.secondary.image_sectors[i], lay.scratch
            if st == 0:
                flash.erase(sc.offset, sc.size)
                copy_region(flash, s.offset, sc.offset, s.size, self.chunk)
                flash.erase(s.offset, s.size)      # the bug: before the step is recorded
            elif st == 1:
                copy_region(flash, p.offset, s.offset, p.size, self.chunk)
            else:
                flash.erase(p.offset, p.size)
                copy_region(flash, sc.offset, p.offset, p.size, self.chunk)
            log.append(payload(Kind.PROGRESS, step + 1))


class _InPlaceLog(Log):
    """Re-programs the first unit that does not hold a valid record (fine on NOR, not on ECC)."""

    def append(self, data: bytes) -> None:
        from suitlib.bootloader.records import encode
        word = encode(data, self.unit, self.flash.erase_value)
        self.flash.program(self.offset + self.cursor * self.unit, word)
        self.cursor += 1


class ReprogramWithoutErase(ReferenceBootloader):
    """Appends over torn units in place instead of skipping them."""

    def read_state(self, flash: FlashDevice, lay: SlotLayout, slot: Slot) -> tuple[TrailerState, Log]:
        st, log = super().read_state(flash, lay, slot)
        valid = [e.index for e in log.entries if e.payload is not None]
        cursor = (valid[-1] + 1) if valid else 0
        fixed = _InPlaceLog(flash, log.offset, log.capacity * log.unit,
                            payload_size=log.payload_size, entries=log.entries, cursor=cursor)
        return st, fixed


class PreFix1966Table(ReferenceBootloader):
    """The revert row needs an erased secondary trailer and a BAD one is never cleaned up, as in
    MCUboot's table before PR #2100: a torn fix-up leaves the trial image booting forever."""

    def table(self, p: TrailerState, s: TrailerState) -> Decision:
        d = decide(p, s)
        if d.action is Action.REVERT and s.touched:
            return Decision(Action.BOOT, SwapType.NONE, 5)
        if d.action is Action.CLEAN_SECONDARY and s.magic is Magic.BAD:
            return Decision(Action.BOOT, SwapType.NONE, 5)
        return d


class CounterBeforeConfirm(ReferenceBootloader):
    """Raises the anti-rollback counter as soon as an image boots, confirmed or not."""

    def may_advance_counter(self, p: TrailerState) -> bool:
        return True


_PROGRESS_IN_RAM: dict[int, int] = {}


class StateInRam(ReferenceBootloader):
    """Writes a progress record only every fourth step and trusts a RAM copy of the progress
    on the next boot — a static that survives a warm reset but not a real one."""

    def swap_steps(self, flash: FlashDevice, lay: SlotLayout, log: Log, n: int, start: int) -> None:
        start = max(start, _PROGRESS_IN_RAM.get(id(flash), 0)) if start else start
        for step in range(start, STEPS_PER_SECTOR * n):
            _step(flash, lay, step, self.chunk)
            _PROGRESS_IN_RAM[id(flash)] = step + 1
            if (step + 1) % 4 == 0 or step + 1 == STEPS_PER_SECTOR * n:
                log.append(payload(Kind.PROGRESS, step + 1))


class NoVerification(ReferenceBootloader):
    """Installs and boots whatever container parses, without checking it against its envelope."""

    def _verify_slot(self, flash, slot):  # type: ignore[no-untyped-def]
        c, verdict = super()._verify_slot(flash, slot)
        return c, replace(verdict, accepted=c is not None)


class ScrubEveryBoot(ReferenceBootloader):
    """Erases the secondary trailer on every boot "to be safe" (never converges, I5)."""

    def boot(self, flash):  # type: ignore[no-untyped-def]
        result = super().boot(flash)
        lay = self.layout(flash)
        flash.erase(lay.secondary.trailer.offset, lay.secondary.trailer.size)
        return result


def ignores_erase_block() -> ReferenceBootloader:
    """Plans its areas on the sector map alone, ignoring the part's larger physical erase block."""
    return ReferenceBootloader("swap", honour_erase_block=False)


def no_verification() -> ReferenceBootloader:
    return NoVerification("swap")


def scrub_every_boot() -> ReferenceBootloader:
    return ScrubEveryBoot("swap")


def no_progress_record() -> ReferenceBootloader:
    return NoProgressRecord("swap")


def trailer_before_data() -> ReferenceBootloader:
    return TrailerBeforeData("swap")


def torn_flag_trusted() -> ReferenceBootloader:
    return TornFlagTrusted("swap")


def erase_before_copy_out() -> ReferenceBootloader:
    return EraseBeforeCopyOut("swap")


def reprogram_without_erase() -> ReferenceBootloader:
    return ReprogramWithoutErase("swap")


def pre_1966_table() -> ReferenceBootloader:
    return PreFix1966Table("swap")


def counter_before_confirm() -> ReferenceBootloader:
    return CounterBeforeConfirm("swap")


def state_in_ram() -> ReferenceBootloader:
    return StateInRam("swap")


BROKEN = {
    "no_progress_record": ("perm-upgrade", "cut"),
    "trailer_before_data": ("perm-upgrade", "cut"),
    "torn_flag_trusted": ("torn-records", "torn"),
    "erase_before_copy_out": ("perm-upgrade", "cut"),
    "reprogram_without_erase": ("write-once", "torn"),
    "pre_1966_table": ("revert-torn", "torn"),
    "counter_before_confirm": ("test-revert", "none"),
    "state_in_ram": ("cold-reset", "cold"),
    "no_verification": ("invalid-candidate", "none"),
    "scrub_every_boot": ("leftover-trailer", "none"),
    "ignores_erase_block": ("erase-granularity", "none"),
}
