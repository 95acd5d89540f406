"""Runs scenarios under fault schedules and checks the invariants (specs/CONFORMANCE.md).

Single-fault sweeps never re-execute the bootloader before the fault: one clean run records the
operation trace; the flash is then advanced one traced operation at a time, and at each fault
point a snapshot is taken, the faulted operation is replayed under the fault
(:meth:`FlashEmulator.replay`), the rest of the script runs (recovery boot first), the
invariants are checked and the snapshot restored. Only the suffix after each fault point runs.
A replay id (``scenario:device:cut=417:torn=prefix``) re-runs one point from scratch.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from suitlib.bootloader.errors import LayoutError
from suitlib.conformance.context import MAX_RECOVERY_CUTS, Context, Event, RunState
from suitlib.conformance.devices import Device, physical_block
from suitlib.conformance.ids import make_id, parse_id
from suitlib.conformance.invariants import check_end, check_event
from suitlib.conformance.scenarios import BOOT, BY_ID, Scenario
from suitlib.conformance.schedules import keep, plans_for
from suitlib.errors import InputError, SuitError
from suitlib.flash.faults import Fault, FaultPlan, ReadFlip
from suitlib.flash.geometry import Geometry
from suitlib.flash.interface import PowerLoss

SCHEDULES = ("none", "cut", "torn", "unstable", "err", "double", "unstable-double", "random",
             "cold", "flip")
FLIP_P = 0.05    # F7: chance that a read of a trailer flips one bit (rare, as on real parts)


@dataclass
class RunResult:
    id: str
    scenario: str
    device: str
    schedule: str
    passed: bool
    violations: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


@dataclass
class Options:
    max_points: int | None = None   # per (scenario, device, schedule); None = exhaustive
    image_size: int = 10 * 1024
    double_points: int = 6          # first-fault samples on large devices (× as many second cuts)
    random_runs: int = 8
    flip_runs: int = 4
    seed: int = 1
    torn_modes: tuple[str, ...] = ("prefix", "bits", "all-but-last")   # F1/F2 variants per op
    exhaustive_small: bool = False  # ignore max_points on small devices (tiny)


def geometry_for(scenario: Scenario, device: Device) -> Geometry | None:
    """The device geometry with the scenario's overrides (``None``: not applicable)."""
    kw: dict[str, Any] = dict(scenario.geometry)
    g = device.geometry
    if "write_unit" in kw and any(s.size % kw["write_unit"] for s in g.sectors):
        return None
    if scenario.f9:
        block = physical_block(g)
        if block is None:
            return None
        kw["physical_erase_size"] = block
    return device.variant(**kw) if kw else g


def applicable(scenario: Scenario, caps: set[str]) -> bool:
    return scenario.requires <= caps


# --- one run -----------------------------------------------------------------------------


def _continue(ctx: Context, steps: tuple, start: int, recovery: bool) -> None:  # type: ignore[type-arg]
    """Run the script from step ``start`` (after a recovery boot if the device just lost power)."""
    i = start
    while True:
        cuts = 0
        while recovery and cuts <= MAX_RECOVERY_CUTS:
            ev = ctx.step(BOOT, i - 1, "recovery")
            check_event(ctx, ev)
            recovery = ev.outcome != "ok"
            cuts += 1
        if i >= len(steps):
            return
        ev = ctx.step(steps[i], i, "step")
        check_event(ctx, ev)
        recovery = ev.outcome != "ok"
        i += 1


def _finish(ctx: Context, scenario: Scenario, clean_wear: tuple[int, ...] | None,
            start_wear: tuple[int, ...], faults: int) -> list[str]:
    a = ctx.step(BOOT, len(scenario.steps), "settle")
    check_event(ctx, a)
    b = ctx.step(BOOT, len(scenario.steps) + 1, "settle")
    check_event(ctx, b)
    check_end(ctx, scenario.expect(ctx, ctx.capabilities), a, b, clean_wear, start_wear, faults)
    return list(ctx.state.violations)


def _config_check(ctx: Context) -> list[str]:
    """F9: every physical erase block must lie inside one area (or outside all of them)."""
    g = ctx.flash.geometry
    if g.physical_erase_size is None:
        return []
    owner: dict[int, str] = {}
    for name, sectors in ctx.layout_areas.items():
        for s in sectors:
            for i in range(g.sector_index(s.offset), g.sector_index(s.offset + s.size - 1) + 1):
                owner[i] = name
    out = []
    for first in range(0, len(g.sectors)):
        block = g.physical_block(first)
        if block[0] != first:
            continue
        names = {owner.get(i, "unassigned") for i in block}
        if len(names) > 1:
            out.append(f"config: physical erase block at {g.sectors[first].offset:#x} spans "
                       f"{', '.join(sorted(names))} (erasing one destroys the other)")
    return out


class Suite:
    """Runs scenarios for one bootloader factory."""

    def __init__(self, factory: Callable[[], Any], options: Options | None = None) -> None:
        self.factory = factory
        self.options = options or Options()
        probe = factory()
        self.caps = set(probe.capabilities)
        self.name = getattr(probe, "name", "bootloader")
        self.rejected: list[str] = []
        self._small = False

    def context(self, scenario: Scenario, device: Device, *, cold: bool = False,
                pictures: bool = False) -> Context:
        g = geometry_for(scenario, device)
        assert g is not None
        ctx = Context(self.factory, g, scenario, image_size=self.options.image_size, cold=cold,
                      pictures=pictures)
        scenario.setup(ctx)
        ctx.state = RunState(allowed_counter=ctx.new_bootloader().stored_counter(ctx.flash))
        ctx.events = [e for e in ctx.events if e.role != "setup"] if not pictures else ctx.events
        return ctx

    # --- from scratch (replay, cold, random, flips) --------------------------------------

    def run_plan(self, scenario: Scenario, device: Device, plan: FaultPlan, *, cold: bool = False,
                 pictures: bool = False, schedule: str = "replay") -> RunResult:
        ctx = self.context(scenario, device, cold=cold, pictures=pictures)
        config = _config_check(ctx)
        start_wear = ctx.flash.erase_counts
        ctx.flash.arm(plan)
        ctx.faulted = bool(plan.faults)
        _continue(ctx, scenario.steps, 0, False)
        faults = len(plan.faults)
        clean = None
        if faults:
            clean = self._clean_wear(scenario, device)
        violations = config + _finish(ctx, scenario, clean, start_wear, faults)
        rid = make_id(scenario, device, plan, cold)
        return RunResult(rid, scenario.id, device.name, schedule, not violations, violations,
                         ctx.events)

    def _clean_wear(self, scenario: Scenario, device: Device) -> tuple[int, ...]:
        ctx = self.context(scenario, device)
        start = ctx.flash.erase_counts
        _continue(ctx, scenario.steps, 0, False)
        return tuple(a - b for a, b in zip(ctx.flash.erase_counts, start))

    # --- sweeps --------------------------------------------------------------------------

    def run(self, scenario: Scenario, device: Device, schedules: set[str]) -> Iterator[RunResult]:
        """Every run of ``scenario`` on ``device`` for the selected schedules."""
        if not applicable(scenario, self.caps) or geometry_for(scenario, device) is None:
            return
        self._small = device.small
        todo = [s for s in SCHEDULES if s in schedules and s in scenario.schedules]
        if not todo:
            return
        try:
            ctx = self.context(scenario, device)
        except LayoutError as exc:  # rejected at configuration time: allowed (scenario 38)
            yield RunResult(f"{scenario.id}:{device.name}:none", scenario.id, device.name, "config",
                            True, [], [])
            self.rejected.append(f"{scenario.id}:{device.name}: {exc.message}")
            return
        config = _config_check(ctx)
        setup_snap = ctx.flash.snapshot()
        setup_state = ctx.state
        start_wear = ctx.flash.erase_counts
        # the clean run: trace, step boundaries, events
        bounds: list[tuple[int, int]] = []
        for i, step in enumerate(scenario.steps):
            k0 = ctx.flash.ops
            ev = ctx.step(step, i, "step")
            check_event(ctx, ev)
            bounds.append((k0, ctx.flash.ops))
        clean_events = list(ctx.events)
        clean_wear = tuple(a - b for a, b in zip(ctx.flash.erase_counts, start_wear))
        trace = {e.index: e for e in ctx.flash.trace if e.index >= 0}
        ctx.faulted = False
        violations = config + _finish(ctx, scenario, None, start_wear, 0)
        if "none" in todo:
            yield RunResult(make_id(scenario, device, FaultPlan(), False), scenario.id,
                            device.name, "none", not violations, violations, ctx.events)
        points = [k for i in sorted(scenario.window) for k in range(*bounds[i])
                  if keep(trace[k], scenario.op_filter)]
        ctx.flash.restore(setup_snap)
        for schedule in todo:
            if schedule in ("cut", "torn", "unstable", "err"):
                plans = [p for k in points
                         for p in plans_for(schedule, k, trace[k], self.options.torn_modes)]
                yield from self._sweep(scenario, device, ctx, setup_snap, setup_state, bounds,
                                       clean_events, trace, self._sample(plans), clean_wear,
                                       start_wear, config, schedule)
            elif schedule in ("double", "unstable-double"):
                yield from self._double(scenario, device, ctx, setup_snap, setup_state, bounds,
                                        clean_events, trace, points, clean_wear, start_wear,
                                        config, schedule)
            elif schedule == "random":
                rng = random.Random(self.options.seed)
                span = max(1, len(points))
                for _ in range(self.options.random_runs):
                    if not points:
                        break
                    k = rng.choice(points)
                    cuts = [k]
                    for _ in range(rng.randint(1, 4)):
                        cuts.append(cuts[-1] + 1 + rng.randrange(max(1, span // 2)))
                    yield self.run_plan(scenario, device, FaultPlan.cut(*cuts), schedule=schedule)
            elif schedule == "cold":
                for plan in self._sample([FaultPlan.cut(k) for k in points]):
                    yield self.run_plan(scenario, device, plan, cold=True, schedule=schedule)
            elif schedule == "flip":
                for seed in range(1, self.options.flip_runs + 1):
                    flips = tuple(ReadFlip(a[0].offset, a[-1].end, FLIP_P)
                                  for name, a in ctx.layout_areas.items() if "trailer" in name)
                    plan = FaultPlan((), flips, seed)
                    yield self.run_plan(scenario, device, plan, schedule=schedule)

    def _sample(self, plans: list[FaultPlan]) -> list[FaultPlan]:
        m = None if self._small and self.options.exhaustive_small else self.options.max_points
        if m is None or len(plans) <= m:
            return plans
        rng = random.Random(self.options.seed)
        keep = sorted(rng.sample(range(len(plans)), m))
        return [plans[i] for i in keep]

    def _sweep(self, scenario: Scenario, device: Device, ctx: Context, setup_snap: Any,
               setup_state: RunState, bounds: list[tuple[int, int]], clean_events: list[Event],
               trace: dict, plans: list[FaultPlan], clean_wear: tuple[int, ...],  # type: ignore[type-arg]
               start_wear: tuple[int, ...], config: list[str], schedule: str) -> Iterator[RunResult]:
        flash = ctx.flash
        flash.restore(setup_snap)
        flash.arm(None)
        pos = flash.ops
        for plan in plans:
            k = plan.faults[0].at
            flash.arm(None)
            pos = _advance(flash, trace, pos, k)
            snap = flash.snapshot()
            yield self._from_point(scenario, device, ctx, setup_state, bounds, clean_events,
                                   trace, plan, clean_wear, start_wear, config, schedule)
            flash.restore(snap)
        flash.arm(None)

    def _from_point(self, scenario: Scenario, device: Device, ctx: Context, setup_state: RunState,
                    bounds: list[tuple[int, int]], clean_events: list[Event], trace: dict,  # type: ignore[type-arg]
                    plan: FaultPlan, clean_wear: tuple[int, ...], start_wear: tuple[int, ...],
                    config: list[str], schedule: str) -> RunResult:
        """The run of ``plan`` whose first fault is the next op (flash is positioned there)."""
        k = plan.faults[0].at
        step_i = next(i for i, (a, b) in enumerate(bounds) if a <= k < b)
        ctx.events = [e for e in clean_events if e.role == "step" and e.index < step_i]
        ctx.state = _state_before(setup_state, ctx.events)
        ctx.faulted = True
        ctx.flash.arm(plan)
        ev = Event(step_i, scenario.steps[step_i].label(), "step", "cut")
        try:
            ctx.flash.replay(trace[k])
            ev.outcome = "ok"   # a fault that did not stop the op (cannot happen for cut/err)
        except PowerLoss:
            pass
        except Exception as exc:  # F5 driver error: the step aborted
            ev.outcome = "error:" + type(exc).__name__
        ctx.flash.power_cycle()
        ctx.events.append(ev)
        _continue(ctx, scenario.steps, step_i + 1, True)
        violations = config + _finish(ctx, scenario, clean_wear, start_wear, len(plan.faults))
        ctx.flash.arm(None)
        return RunResult(make_id(scenario, device, plan, False), scenario.id, device.name,
                         schedule, not violations, violations, list(ctx.events))

    def _double(self, scenario: Scenario, device: Device, ctx: Context, setup_snap: Any,
                setup_state: RunState, bounds: list[tuple[int, int]], clean_events: list[Event],
                trace: dict, points: list[int], clean_wear: tuple[int, ...],  # type: ignore[type-arg]
                start_wear: tuple[int, ...], config: list[str], schedule: str) -> Iterator[RunResult]:
        unstable = schedule == "unstable-double"
        firsts = points
        if not device.small:
            rng = random.Random(self.options.seed)
            firsts = sorted(rng.sample(points, min(len(points), self.options.double_points)))
        elif self.options.max_points is not None and not self.options.exhaustive_small:
            firsts = self._sample_list(points, self.options.max_points)
        flash = ctx.flash
        flash.restore(setup_snap)
        pos = flash.ops
        for k in firsts:
            flash.arm(None)
            pos = _advance(flash, trace, pos, k)
            base = flash.snapshot()
            first = (FaultPlan.cut(k, torn="bits", unstable=True) if unstable else FaultPlan.cut(k))
            # learn how long the recovery boot is when it runs undisturbed
            flash.arm(first)
            try:
                flash.replay(trace[k])
            except PowerLoss:
                pass
            flash.power_cycle()
            r0 = flash.ops
            try:
                ctx.new_bootloader().boot(flash)
            except PowerLoss:
                pass
            except Exception:  # noqa: BLE001 - judged by the runs below
                pass
            seconds = list(range(r0, flash.ops))
            flash.restore(base)
            if not device.small or (self.options.max_points is not None
                                    and not self.options.exhaustive_small):
                seconds = self._sample_list(seconds, self.options.double_points
                                            if self.options.max_points is None
                                            else self.options.max_points)
            for j in seconds:
                plan = first.then(Fault(j))
                yield self._from_point(scenario, device, ctx, setup_state, bounds, clean_events,
                                       trace, plan, clean_wear, start_wear, config, schedule)
                flash.restore(base)
        flash.arm(None)

    def _sample_list(self, items: list[int], m: int) -> list[int]:
        if len(items) <= m:
            return items
        step = len(items) / m
        return [items[int(i * step)] for i in range(m)]

    # --- replay ---------------------------------------------------------------------------

    def replay(self, rid: str, devices: dict[str, Device], *, pictures: bool = True) -> RunResult:
        scenario, device, plan, cold = parse_id(rid, devices)
        return self.run_plan(scenario, device, plan, cold=cold, pictures=pictures)


def _advance(flash: Any, trace: dict, pos: int, k: int) -> int:  # type: ignore[type-arg]
    """Replay the clean trace from ``pos`` up to (not including) op ``k``. An op the part
    refused in the clean run (worn sector, PROGERR) is refused again, identically."""
    while pos < k:
        try:
            flash.replay(trace[pos])
        except SuitError:
            pass
        pos += 1
    return pos


def _state_before(setup_state: RunState, events: list[Event]) -> RunState:
    allowed = setup_state.allowed_counter
    for e in events:
        if e.confirmed_after and e.booted_counter is not None:
            allowed = max(allowed, e.booted_counter)
    return RunState(allowed_counter=allowed, violations=[])


# --- whole suite ----------------------------------------------------------------------------


def select(devices: dict[str, Device], names: Iterable[str]) -> dict[str, Device]:
    names = list(names)
    if not names:
        return devices
    missing = [n for n in names if n not in devices]
    if missing:
        raise InputError(f"unknown profile(s): {', '.join(missing)}",
                         hint="profiles: " + ", ".join(sorted(devices)))
    return {n: devices[n] for n in names}


def plan_pairs(suite: Suite, devices: dict[str, Device], scenario_ids: Iterable[str],
               schedules: set[str]) -> list[tuple[Scenario, Device]]:
    """The (scenario, device) pairs a run covers."""
    from suitlib.conformance.scenarios import SCENARIOS
    ids = set(scenario_ids)
    unknown = ids - set(BY_ID)
    if unknown:
        raise InputError(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    bad = schedules - set(SCHEDULES)
    if bad:
        raise InputError(f"unknown schedule(s): {', '.join(sorted(bad))}",
                         hint="schedules: " + ", ".join(SCHEDULES))
    return [(s, d) for s in SCENARIOS if (not ids or s.id in ids)
            and applicable(s, suite.caps) and s.schedules & schedules
            for d in devices.values()]
