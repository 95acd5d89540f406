"""One run of a scenario on one device: the emulated flash, the images, step execution and the
event log the invariants are checked on."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import random
import sys
from dataclasses import dataclass, field
from typing import Any

from suitlib.conformance.protocol import Bootloader
from suitlib.conformance.scenarios import BOOT, Scenario, Step
from suitlib.errors import SuitError
from suitlib.flash.emulator import FlashEmulator
from suitlib.flash.errors import (
    FlashAlignmentError,
    FlashBoundsError,
    FlashDriverError,
    FlashWornError,
    FlashWriteRuleError,
)
from suitlib.flash.geometry import Geometry
from suitlib.flash.interface import PowerLoss

BASE_IMAGE = 10 * 1024   # bytes of the factor-1.0 image in reduced runs
MAX_RECOVERY_CUTS = 8


@dataclass(frozen=True)
class ImageInfo:
    key: str
    image: bytes
    envelope: bytes
    counter: int
    valid: bool


@dataclass
class Event:
    """What one step (or recovery/settle boot) did."""

    index: int                 # script step index (-1 setup, len(steps) settle)
    label: str
    role: str                  # "setup" | "step" | "recovery" | "settle"
    outcome: str               # "ok" | "cut" | "error:<type>"
    booted: str | None = None  # image key, "?" for an unknown image, None if nothing booted
    booted_counter: int | None = None
    counter_before: int = 0
    counter_after: int = 0
    erases: int = 0
    programs: int = 0
    confirmed_after: bool | None = None
    picture: dict[str, list[str]] | None = None


@dataclass
class RunState:
    """What the invariants need to know across events (carried over a snapshot)."""

    allowed_counter: int = 0
    violations: list[str] = field(default_factory=list)


class Context:
    """A device, its bootloader factory and the images of one scenario."""

    def __init__(self, factory: Any, geometry: Geometry, scenario: Scenario, *,
                 image_size: int = BASE_IMAGE, cold: bool = False, pictures: bool = False,
                 erase_mode: str = "rmw") -> None:
        self.factory = factory
        self.scenario = scenario
        self.cold = cold
        self.pictures = pictures
        self.flash = FlashEmulator(geometry, trace_data=True, erase_mode=erase_mode)  # type: ignore[arg-type]
        probe = self.new_bootloader()
        self.capabilities = set(probe.capabilities)
        self.images: dict[str, ImageInfo] = {}
        self.by_length: dict[int, list[tuple[bytes, str]]] = {}
        self.fingerprints: dict[bytes, str] = {}
        cap = _max_image(probe, self.flash)
        for key, (factor, counter, corrupt) in scenario.images.spec.items():
            size = cap if factor < 0 else min(cap, max(64, int(image_size * factor)))
            image = random.Random(f"image:{key}:{size}").randbytes(size)
            envelope = probe.envelope_for(image, counter)
            if corrupt:
                image = image[:-1] + bytes([image[-1] ^ 0x5A])
            info = ImageInfo(key, image, envelope, counter, not corrupt)
            self.images[key] = info
            if info.valid:
                self.by_length.setdefault(len(image), []).append((image, key))
        self.events: list[Event] = []
        self.state = RunState()
        self.faulted = False   # whether the current run has a fault plan (expectations may differ)
        self.layout_areas = _areas(probe, self.flash)

    # --- bootloader instances (F8) ----------------------------------------------------------

    def new_bootloader(self) -> Bootloader:
        """A fresh instance; with ``cold`` from a fresh copy of the factory's module, so no
        module-level state (a C static) survives the reset (F8). ``sys.modules`` is untouched."""
        factory = self.factory
        if self.cold:
            module = sys.modules.get(getattr(factory, "__module__", ""), None)
            path = getattr(module, "__file__", None)
            if module is not None and path:
                spec = importlib.util.spec_from_file_location(module.__name__ + "._cold", path)
                if spec is not None and spec.loader is not None:
                    fresh = importlib.util.module_from_spec(spec)
                    sys.modules[spec.name] = fresh   # dataclasses resolve their module here
                    try:
                        spec.loader.exec_module(fresh)
                    finally:
                        sys.modules.pop(spec.name, None)
                    factory = getattr(fresh, factory.__name__)
        return factory()  # type: ignore[no-any-return]

    # --- setup helpers ---------------------------------------------------------------------

    def provision(self, key: str, confirmed_trailer: bool = False) -> None:
        info = self.images[key]
        self.new_bootloader().provision(self.flash, info.image, info.envelope,
                                        confirmed_trailer=confirmed_trailer)
        self._learn("primary", key)

    def step(self, step: Step, index: int = -1, role: str = "setup") -> Event:
        """Run one step with a fresh instance; a cut or a flash error ends it (device reset)."""
        flash = self.flash
        if not flash.powered or step.kind == "boot":
            flash.power_cycle()
        bl = self.new_bootloader()
        ops0 = flash.ops
        erases0 = sum(flash.erase_counts)
        counter_before = bl.stored_counter(flash)
        ev = Event(index, step.label(), role, "ok", counter_before=counter_before)
        try:
            if step.kind == "boot":
                res = bl.boot(flash)
                if res.booted:
                    ev.booted = self.identify(res.image)
                    ev.booted_counter = res.security_counter
            elif step.kind == "pending":
                bl.set_pending(flash, bool(step.arg))
            elif step.kind == "confirm":
                bl.set_confirmed(flash)
            elif step.kind == "download":
                info = self.images[step.arg]
                bl.write_candidate(flash, info.image, info.envelope)
            else:
                raise ValueError(f"unknown step {step.kind}")
        except PowerLoss:
            ev.outcome = "cut"
        except (FlashWriteRuleError, FlashAlignmentError, FlashBoundsError) as exc:
            ev.outcome = "error:" + type(exc).__name__
            self.state.violations.append(f"I6 flash discipline: {exc.message} ({ev.label})")
        except (FlashDriverError, FlashWornError) as exc:
            ev.outcome = "error:" + type(exc).__name__
        except SuitError as exc:
            ev.outcome = "error:" + type(exc).__name__
            self.state.violations.append(f"crash: {type(exc).__name__}: {exc.message} ({ev.label})")
        except Exception as exc:  # a bug in the bootloader under test
            ev.outcome = "error:" + type(exc).__name__
            self.state.violations.append(f"crash: {type(exc).__name__}: {exc} ({ev.label})")
        if not flash.powered:
            flash.power_cycle()
        ev.erases = sum(flash.erase_counts) - erases0
        ev.programs = max(0, flash.ops - ops0 - ev.erases)
        try:
            fresh = self.new_bootloader()
            ev.counter_after = fresh.stored_counter(flash)
            if ev.outcome == "ok" and step.kind == "boot":
                ev.confirmed_after = bool(fresh.status(flash).confirmed)
        except SuitError:
            ev.counter_after = ev.counter_before
        if ev.outcome == "ok" and step.kind == "download":
            self._learn("secondary", step.arg)
        if ev.booted and ev.booted != "?":
            self._learn("primary", ev.booted)
        if self.pictures:
            ev.picture = self.picture()
        self.events.append(ev)
        return ev

    def identify(self, image: bytes | None) -> str:
        if image is None:
            return "?"
        for known, key in self.by_length.get(len(image), ()):
            if known == image:
                return key
        return "?"

    # --- slot pictures -----------------------------------------------------------------------

    def _learn(self, area: str, key: str) -> None:
        sectors = self.layout_areas.get(area)
        if not sectors or not self.pictures:
            return
        for i, s in enumerate(sectors):
            data = self.flash.dump(s.offset, s.size)
            if data.count(self.flash.erase_value) != len(data):
                self.fingerprints.setdefault(hashlib.sha256(data).digest(), f"{key}")

    def picture(self) -> dict[str, list[str]]:
        """Per area, per sector: the image key it holds, ``erased``, ``data`` or ``mixed``."""
        out: dict[str, list[str]] = {}
        ev = self.flash.erase_value
        for name, sectors in self.layout_areas.items():
            row = []
            for s in sectors:
                data = self.flash.dump(s.offset, s.size)
                if data.count(ev) == len(data):
                    row.append("erased")
                    continue
                key = self.fingerprints.get(hashlib.sha256(data).digest())
                row.append(key if key else ("data" if "trailer" in name or "counter" in name
                                            else "mixed"))
            out[name] = row
        return out


def _max_image(bl: Any, flash: FlashEmulator) -> int:
    fn = getattr(bl, "max_image_size", None)
    if fn is not None:
        return int(fn(flash))
    lay = bl.layout(flash)
    primary = getattr(lay, "primary", None)
    if primary is not None and hasattr(primary, "capacity"):
        return int(primary.capacity) - 256
    area = lay.areas()["primary"]
    return sum(s.size for s in area.sectors) - 256


def _areas(bl: Any, flash: FlashEmulator) -> dict[str, tuple[Any, ...]]:
    return {name: tuple(a.sectors) for name, a in bl.layout(flash).areas().items()}


__all__ = ["BOOT", "Context", "Event", "ImageInfo", "MAX_RECOVERY_CUTS", "RunState"]
