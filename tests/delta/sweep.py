"""Power-cut sweeps of the delta applier on the flash emulator (shared by the delta tests)."""

from __future__ import annotations

from dataclasses import dataclass

from suitlib.delta.applier import ApplyLayout, Region, apply_to_flash
from suitlib.flash import FaultPlan, FlashEmulator, PowerLoss, load_profile

KIB = 1024


@dataclass(frozen=True)
class Setup:
    """A device profile with the regions a delta apply uses."""

    profile: str
    layout: ApplyLayout
    ram_budget: int


def setup_for(profile_name: str, *, in_place: bool) -> Setup:
    profile = load_profile(profile_name)
    primary, secondary = profile.slot("primary"), profile.slot("secondary")
    try:
        storage = profile.slot("storage")
        state = Region(storage.offset, storage.size)
    except KeyError:  # no storage region (stm32f4): two 16 KiB sectors below the slots
        state = Region(0x4000, 0x8000)
    if in_place:
        layout = ApplyLayout.single_slot(Region(primary.offset, primary.size), state)
    else:
        layout = ApplyLayout(Region(primary.offset, primary.size),
                             Region(secondary.offset, secondary.size), state)
    return Setup(profile_name, layout, profile.ram_budget)


def fresh_flash(setup: Setup, old: bytes) -> FlashEmulator:
    flash = FlashEmulator.from_profile(load_profile(setup.profile))
    flash.load(setup.layout.source.offset, old)
    return flash


def outside(setup: Setup, flash: FlashEmulator) -> bytes:
    """Everything the apply must never touch: the flash minus target and state regions
    (and, for sequential patches, including the source slot)."""
    lay = setup.layout
    keep = sorted([(lay.target.offset, lay.target.end), (lay.state.offset, lay.state.end)])
    out, pos = [], 0
    for start, end in keep:
        out.append(flash.dump(pos, start - pos))
        pos = end
    out.append(flash.dump(pos, flash.size - pos))
    return b"".join(out)


def sweep(setup: Setup, old: bytes, new: bytes, patch: bytes, *,
          modes: tuple[tuple[str | None, bool], ...] = ((None, False), ("prefix", False),
                                                        ("bits", True)),
          stride: int = 1, block: int = 512, verify_first: bool = False,
          from_resume_offset: bool = False, refed: list[int] | None = None
          ) -> tuple[int, list[str]]:
    """Cut the power before/inside every ``stride``-th flash op of a full apply, in each mode,
    then reboot and resume. Returns ``(fault points tried, failure ids)``.

    With ``from_resume_offset`` the resumed boot downloads the patch from the offset the
    applier names (header and map first), and ``refed`` collects the bytes it was fed."""
    flash = fresh_flash(setup, old)
    before_outside = outside(setup, flash)
    snap = flash.snapshot()
    first = flash.ops
    apply_to_flash(flash, setup.layout, patch, ram_budget=setup.ram_budget, block=block,
                   verify_first=verify_first)
    total = flash.ops - first
    failures: list[str] = []
    tried = 0
    for k in range(first, first + total, stride):
        for torn, unstable in modes:
            tried += 1
            plan = FaultPlan.cut(k, torn=torn, unstable=unstable, seed=k)
            fid = f"{setup.profile}:{plan.format()}"
            flash.restore(snap)
            flash.arm(plan)
            try:
                apply_to_flash(flash, setup.layout, patch, ram_budget=setup.ram_budget, block=block,
                   verify_first=verify_first)
            except PowerLoss:
                flash.power_cycle()
                flash.arm(None)
                try:
                    resumed = apply_to_flash(flash, setup.layout, patch,
                                             ram_budget=setup.ram_budget, block=block,
                                             verify_first=verify_first,
                                             from_resume_offset=from_resume_offset)
                    if refed is not None:
                        refed.append(resumed.fed)
                except Exception as exc:  # noqa: BLE001 - reported as a failure id
                    failures.append(f"{fid}: resume raised {type(exc).__name__}: {exc}")
                    continue
            if flash.dump(setup.layout.target.offset, len(new)) != new:
                failures.append(f"{fid}: wrong target image")
            elif outside(setup, flash) != before_outside:
                failures.append(f"{fid}: wrote outside the target and state regions")
    return tried, failures
