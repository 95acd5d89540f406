"""The reference bootloader: swap with scratch or overwrite-only, test/confirm/revert,
anti-rollback, boot-time verification (specs/BOOTLOADER-PROTOCOL.md).

Every :meth:`ReferenceBootloader.boot` starts from flash alone: an instance keeps nothing but
its configuration, so a reset anywhere (a :class:`~suitlib.flash.interface.PowerLoss` out of any
flash call) loses nothing the next boot needs. The application-side calls
(:meth:`write_candidate`, :meth:`set_pending`, :meth:`set_confirmed`) are power-safe as well.
"""

from __future__ import annotations

from dataclasses import dataclass

from suitlib.bootloader import image as container
from suitlib.bootloader.copy import copy_region
from suitlib.bootloader.counter import read_counter, update_counter
from suitlib.bootloader.decision import Action, Decision, decide, primary_confirmed
from suitlib.bootloader.layout import Slot, SlotLayout, plan_layout
from suitlib.bootloader.records import Log
from suitlib.bootloader.swap import STEPS_PER_SECTOR, run_swap
from suitlib.bootloader.trailer import (
    Kind,
    SwapType,
    TrailerState,
    erase_area,
    format_trailer,
    payload,
    read_trailer,
)
from suitlib.bootloader.verify import DigestVerifier, EnvelopeMaker, ImageVerifier, Verdict
from suitlib.errors import UnsupportedError
from suitlib.flash.errors import FlashWornError
from suitlib.flash.interface import FlashDevice

STRATEGIES = ("swap", "overwrite")


@dataclass(frozen=True)
class BootResult:
    """What one boot did and what it jumped to (``booted`` False: no bootable image)."""

    booted: bool
    image: bytes | None = None
    envelope: bytes | None = None
    security_counter: int | None = None
    actions: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class SlotStatus:
    """The request/confirmation state as the application sees it."""

    confirmed: bool
    trial: bool
    pending: SwapType | None
    in_progress: bool


class ReferenceBootloader:
    """The reference implementation of the conformance ``Bootloader`` protocol."""

    def __init__(self, strategy: str = "swap", *, verifier: ImageVerifier | None = None,
                 chunk: int = 4096, reads: int = 4, reserve_boot: bool = True,
                 honour_erase_block: bool = True) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}")
        self.strategy = strategy
        self.name = ("reference-" if type(self) is ReferenceBootloader
                     else type(self).__name__ + "-") + strategy
        self.verifier: ImageVerifier = verifier or DigestVerifier()
        self.chunk = chunk
        self.reads = reads
        self.reserve_boot = reserve_boot
        self.honour_erase_block = honour_erase_block
        self.capabilities = frozenset({"revert", "swap"} if strategy == "swap" else {"overwrite"})

    # --- configuration ------------------------------------------------------------------

    def layout(self, flash: FlashDevice) -> SlotLayout:
        """The slot layout on ``flash`` (:class:`LayoutError` if the geometry is unsupported)."""
        block = getattr(getattr(flash, "geometry", None), "physical_erase_size", None)
        return plan_layout(flash, scratch=self.strategy == "swap", reserve_boot=self.reserve_boot,
                           erase_block=block if self.honour_erase_block else None)

    def max_image_size(self, flash: FlashDevice, envelope_size: int | None = None) -> int:
        """The largest image that fits the primary slot with its header and an envelope of
        ``envelope_size`` bytes (default: the size of one the verifier makes)."""
        lay = self.layout(flash)
        if envelope_size is None:
            envelope_size = len(self._envelope_maker().make_envelope(b"", 0))
        return lay.primary.capacity - container.container_size(0, envelope_size, flash.write_unit)

    def envelope_for(self, image: bytes, security_counter: int) -> bytes:
        return self._envelope_maker().make_envelope(image, security_counter)

    def _envelope_maker(self) -> EnvelopeMaker:
        if not isinstance(self.verifier, EnvelopeMaker):
            raise UnsupportedError(f"{type(self.verifier).__name__} only verifies; it makes no envelopes",
                                   hint="pass envelope_size, or provision with envelopes made elsewhere")
        return self.verifier

    # --- the parts a variant may replace (the conformance tests' broken bootloaders do) --

    def read_state(self, flash: FlashDevice, lay: SlotLayout, slot: Slot) -> tuple[TrailerState, Log]:
        return read_trailer(flash, lay, slot, self.reads)

    def table(self, p: TrailerState, s: TrailerState) -> Decision:
        return decide(p, s)

    def swap_steps(self, flash: FlashDevice, lay: SlotLayout, log: Log, n: int, start: int) -> None:
        run_swap(flash, lay, log, n, start, self.chunk)

    def may_advance_counter(self, p: TrailerState) -> bool:
        return primary_confirmed(p)

    # --- the boot -----------------------------------------------------------------------

    def boot(self, flash: FlashDevice) -> BootResult:
        """One boot from reset: finish or start an operation, then verify and pick the image."""
        lay = self.layout(flash)
        p, plog = self.read_state(flash, lay, lay.primary)
        s, slog = self.read_state(flash, lay, lay.secondary)
        d = self.table(p, s)
        actions: list[str] = [f"row{d.row}:{d.action.value}"]
        try:
            if d.action is Action.RESUME:
                self._resume(flash, lay, p, plog, d.swap_type)
            elif d.action is Action.START:
                actions.append(self._start(flash, lay, p, d.swap_type))
            elif d.action is Action.REVERT:
                slog = format_trailer(flash, lay, lay.secondary)
                slog.append(payload(Kind.REQUEST, SwapType.REVERT))
                actions.append(self._start(flash, lay, p, SwapType.REVERT))
            elif d.action is Action.CLEAN_SECONDARY:
                erase_area(flash, lay.secondary.trailer.sectors)
        except FlashWornError as exc:
            # A sector is past its endurance: give the update up (no retry loop) and boot
            # whatever verifies — "no upgrade", never "no boot" when the primary is intact.
            actions.append("worn:" + exc.message)
            try:
                erase_area(flash, lay.secondary.trailer.sectors)
            except FlashWornError:
                pass
            return self._boot_primary(flash, lay, actions, allow_bootstrap=False)
        return self._boot_primary(flash, lay, actions, allow_bootstrap=True)

    def _verify_slot(self, flash: FlashDevice, slot: Slot) -> tuple[container.Container | None, Verdict]:
        c = container.read(flash, slot.offset, slot.capacity)
        if c is None:
            return None, Verdict(False, reason="no image container")
        return c, self.verifier.verify(c.image, c.envelope)

    def _start(self, flash: FlashDevice, lay: SlotLayout, p: TrailerState, kind: SwapType) -> str:
        cand, verdict = self._verify_slot(flash, lay.secondary)
        stored = read_counter(flash, lay, self.reads)
        if cand is None or not verdict.accepted or verdict.security_counter < stored:
            if _is_trial(p):  # nothing valid to fall back to: keep the running image
                _, plog = self.read_state(flash, lay, lay.primary)
                plog.append(payload(Kind.IMAGE_OK))
            erase_area(flash, lay.secondary.trailer.sectors)
            why = verdict.reason if not verdict.accepted else "security counter below stored"
            return "reject:" + why
        wu = flash.write_unit
        n = lay.secondary.sectors_for(cand.total(wu))
        if self.strategy == "overwrite":
            self._overwrite(flash, lay, n, cand.total(wu))
            return "overwrite"
        cur = container.read(flash, lay.primary.offset, lay.primary.capacity)
        if cur is not None:
            n = max(n, lay.primary.sectors_for(cur.total(wu)))
        assert lay.scratch is not None  # pre-flight: a worn scratch refuses the swap up front
        flash.erase(lay.scratch.offset, lay.scratch.size)
        plog = format_trailer(flash, lay, lay.primary)
        plog.append(payload(Kind.SWAP_INFO, int(kind) << 20 | n))
        self.swap_steps(flash, lay, plog, n, 0)
        self._finish(flash, lay, plog, kind, image_ok=False)
        return "swap:" + kind.name.lower()

    def _resume(self, flash: FlashDevice, lay: SlotLayout, p: TrailerState, plog: Log,
                kind: SwapType) -> None:
        n = p.swap.sectors if p.swap is not None else len(lay.primary.image_sectors)
        n = min(n, len(lay.primary.image_sectors))
        self.swap_steps(flash, lay, plog, n, min(p.progress, STEPS_PER_SECTOR * n))
        self._finish(flash, lay, plog, kind, image_ok=p.image_ok)

    def _finish(self, flash: FlashDevice, lay: SlotLayout, plog: Log, kind: SwapType,
                image_ok: bool) -> None:
        """Retire the request, then record the outcome (copy_done last)."""
        s, _ = self.read_state(flash, lay, lay.secondary)
        if s.touched:
            erase_area(flash, lay.secondary.trailer.sectors)
        if kind in (SwapType.PERM, SwapType.REVERT) and not image_ok:
            plog.append(payload(Kind.IMAGE_OK))
        plog.append(payload(Kind.COPY_DONE))

    def _overwrite(self, flash: FlashDevice, lay: SlotLayout, n: int, total: int) -> None:
        """Overwrite-only: restartable from the beginning until the request is retired."""
        plog = format_trailer(flash, lay, lay.primary)
        erase_area(flash, lay.primary.image_sectors[:n])
        copy_region(flash, lay.secondary.offset, lay.primary.offset, total, self.chunk)
        plog.append(payload(Kind.IMAGE_OK))
        plog.append(payload(Kind.COPY_DONE))
        erase_area(flash, lay.secondary.image_sectors[:1])
        erase_area(flash, lay.secondary.trailer.sectors)

    def _boot_primary(self, flash: FlashDevice, lay: SlotLayout, actions: list[str],
                      allow_bootstrap: bool) -> BootResult:
        c, verdict = self._verify_slot(flash, lay.primary)
        if c is None or not verdict.accepted:  # read again: a transient read error must not
            c, verdict = self._verify_slot(flash, lay.primary)  # trigger a bootstrap swap
        if c is None or not verdict.accepted:
            if allow_bootstrap:
                cand, sv = self._verify_slot(flash, lay.secondary)
                if cand is not None and sv.accepted:
                    slog = format_trailer(flash, lay, lay.secondary)
                    slog.append(payload(Kind.REQUEST, SwapType.PERM))
                    p, _ = self.read_state(flash, lay, lay.primary)
                    actions.append("bootstrap:" + self._start(flash, lay, p, SwapType.PERM))
                    return self._boot_primary(flash, lay, actions, allow_bootstrap=False)
            return BootResult(False, actions=tuple(actions), reason=verdict.reason)
        stored = read_counter(flash, lay, self.reads)
        if verdict.security_counter < stored:
            return BootResult(False, actions=tuple(actions),
                              reason=f"security counter {verdict.security_counter} < {stored}")
        p, _ = self.read_state(flash, lay, lay.primary)
        if self.may_advance_counter(p) and verdict.security_counter > stored:
            update_counter(flash, lay, verdict.security_counter, self.reads)
            actions.append(f"counter:{verdict.security_counter}")
        return BootResult(True, c.image, c.envelope, verdict.security_counter, tuple(actions))

    # --- application side ---------------------------------------------------------------

    def write_candidate(self, flash: FlashDevice, image: bytes, envelope: bytes) -> None:
        """Download into the secondary: erase trailer and sectors (header sector first), write
        the body, the header last (a partial download never parses)."""
        lay = self.layout(flash)
        header, body = container.build(image, envelope, flash.write_unit, flash.erase_value)
        total = len(header) + len(body)
        slot = lay.secondary
        if total > slot.capacity:
            raise ValueError(f"container of {total} bytes exceeds the slot ({slot.capacity})")
        erase_area(flash, slot.trailer.sectors)
        erase_area(flash, slot.image_sectors[:slot.sectors_for(total)])
        erased = bytes([flash.erase_value]) * self.chunk
        base = slot.offset + len(header)
        for off in range(0, len(body), self.chunk):
            part = body[off:off + self.chunk]
            if part != erased[:len(part)]:
                flash.program(base + off, part)
        flash.program(slot.offset, header)

    def set_pending(self, flash: FlashDevice, permanent: bool) -> None:
        """Request a TEST (``permanent=False``) or PERM upgrade to the secondary image."""
        lay = self.layout(flash)
        slog = format_trailer(flash, lay, lay.secondary)
        slog.append(payload(Kind.REQUEST, SwapType.PERM if permanent else SwapType.TEST))

    def set_confirmed(self, flash: FlashDevice) -> None:
        """Confirm the running trial image (a no-op if it is not a trial)."""
        lay = self.layout(flash)
        p, plog = self.read_state(flash, lay, lay.primary)
        if _is_trial(p):
            plog.append(payload(Kind.IMAGE_OK))

    def provision(self, flash: FlashDevice, image: bytes, envelope: bytes, *,
                  confirmed_trailer: bool = False) -> None:
        """Factory programming of the primary (a programmer, not the bootloader).

        ``confirmed_trailer`` writes magic + IMAGE_OK as a build tool padding the image would.
        """
        lay = self.layout(flash)
        header, body = container.build(image, envelope, flash.write_unit, flash.erase_value)
        erase_area(flash, lay.primary.image_sectors + lay.primary.trailer.sectors)
        flash.program(lay.primary.offset, header + body)
        if confirmed_trailer:
            plog = format_trailer(flash, lay, lay.primary)
            plog.append(payload(Kind.IMAGE_OK))

    # --- inspection ---------------------------------------------------------------------

    def read_image(self, flash: FlashDevice, slot: str) -> tuple[bytes, bytes] | None:
        """(image, envelope) stored in ``"primary"`` or ``"secondary"``, if a container parses."""
        lay = self.layout(flash)
        s = lay.primary if slot == "primary" else lay.secondary
        c = container.read(flash, s.offset, s.capacity)
        return None if c is None else (c.image, c.envelope)

    def status(self, flash: FlashDevice) -> SlotStatus:
        lay = self.layout(flash)
        p, _ = self.read_state(flash, lay, lay.primary)
        s, _ = self.read_state(flash, lay, lay.secondary)
        in_progress = (p.swap is not None or p.progress > 0) and not p.copy_done
        return SlotStatus(primary_confirmed(p), _is_trial(p), s.request, in_progress)

    def stored_counter(self, flash: FlashDevice) -> int:
        return read_counter(flash, self.layout(flash), self.reads)


def _is_trial(p: TrailerState) -> bool:
    return (p.swap is not None and p.swap.type is SwapType.TEST and p.copy_done
            and not p.image_ok)


def swap_scratch() -> ReferenceBootloader:
    """Factory: the reference bootloader, swap with scratch."""
    return ReferenceBootloader("swap")


def overwrite_only() -> ReferenceBootloader:
    """Factory: the reference bootloader, overwrite-only."""
    return ReferenceBootloader("overwrite")
