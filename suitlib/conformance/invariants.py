"""The invariants I1–I8 of conformance-scenarios.md, checked on a run's events and end state."""

from __future__ import annotations

from suitlib.conformance.context import Context, Event
from suitlib.conformance.scenarios import Expect

STEADY_PROGRAMS = 2   # I5: programs a converged boot may still issue (e.g. a counter record)
WEAR_SLACK = 4        # I8: per sector, erases <= (clean-run per-sector maximum + 4) x (faults + 1)


def check_event(ctx: Context, ev: Event) -> None:
    """I1 and I7 after each boot."""
    v = ctx.state.violations
    if ev.booted == "?":
        v.append(f"I1 booted an image that is not a valid image of the scenario ({ev.label})")
    if ev.booted_counter is not None and ev.booted_counter < ev.counter_before:
        v.append(f"I7 booted an image with counter {ev.booted_counter} below the stored "
                 f"{ev.counter_before} ({ev.label})")
    if ev.confirmed_after and ev.booted_counter is not None:
        ctx.state.allowed_counter = max(ctx.state.allowed_counter, ev.booted_counter)
    if ev.counter_after > ctx.state.allowed_counter:
        v.append(f"I7 stored counter {ev.counter_after} exceeds every confirmed image's counter "
                 f"({ctx.state.allowed_counter}) after {ev.label}")
    if ev.counter_after < ev.counter_before:
        v.append(f"I7 stored counter went down {ev.counter_before} -> {ev.counter_after} ({ev.label})")


def check_end(ctx: Context, expect: Expect, settle_a: Event, settle_b: Event,
              clean_wear: tuple[int, ...] | None, start_wear: tuple[int, ...], faults: int) -> None:
    """I1–I5 and I8 once the script and the two settle boots ran."""
    v = ctx.state.violations
    flash = ctx.flash
    if settle_b.booted is None:
        v.append("I1 no image boots after recovery although a valid image exists")
        return
    if settle_b.booted not in expect.primary:
        v.append(f"I2 final image is {settle_b.booted}, expected {' or '.join(sorted(expect.primary))}")
    bl = ctx.new_bootloader()
    prim = bl.read_image(flash, "primary")
    if prim is None or ctx.identify(prim[0]) != settle_b.booted:
        v.append("I2 the booted image is not the one stored in the primary slot")
    if settle_b.booted in expect.secondary:
        want = expect.secondary[settle_b.booted]
        sec = bl.read_image(flash, "secondary")
        got = None if sec is None else ctx.identify(sec[0])
        if got != want:
            v.append(f"I3 secondary holds {got or 'no image'}, expected {want or 'no image'}")
    st = bl.status(flash)
    if bool(st.confirmed) != expect.confirmed or st.trial or st.in_progress or st.pending:
        v.append(f"I4 trailer state after convergence: confirmed={st.confirmed} trial={st.trial} "
                 f"in_progress={st.in_progress} pending={st.pending}")
    if expect.counters is not None and settle_b.counter_after not in expect.counters:
        v.append(f"I7 stored counter {settle_b.counter_after} not in {sorted(expect.counters)}")
    if settle_b.erases or settle_b.programs > STEADY_PROGRAMS or settle_a.booted != settle_b.booted:
        v.append(f"I5 not converged: the boot after recovery did {settle_b.erases} erases, "
                 f"{settle_b.programs} programs, booted {settle_a.booted} then {settle_b.booted}")
    if clean_wear is not None:
        wear = flash.erase_counts
        bound = (max(clean_wear, default=0) + WEAR_SLACK) * (faults + 1)
        for i, (now, start) in enumerate(zip(wear, start_wear)):
            if now - start > bound:
                s = flash.sectors[i]
                v.append(f"I8 sector {i} at {s.offset:#x} erased {now - start} times "
                         f"(bound {bound}: clean-run maximum {max(clean_wear)}, {faults} faults)")
                break
