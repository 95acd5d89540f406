"""The scenarios of conformance-scenarios.md as scripts (specs/CONFORMANCE.md).

A scenario is a *setup* (unfaulted: factory programming, earlier boots) and a *script* of steps
(boots and application actions). Faults land in the steps of its *window*. After a cut the device
reboots (a recovery boot) and the script continues with the next step. Afterwards the runner
checks the invariants I1–I8 and the scenario's expected outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# --- steps -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """``boot``, ``pending`` (arg: permanent), ``confirm``, ``download`` (arg: image key)."""

    kind: str
    arg: Any = None

    def label(self) -> str:
        if self.kind == "pending":
            return "set_pending(" + ("perm" if self.arg else "test") + ")"
        if self.kind == "download":
            return f"download({self.arg})"
        return self.kind


BOOT = Step("boot")
CONFIRM = Step("confirm")
PENDING_TEST = Step("pending", False)
PENDING_PERM = Step("pending", True)


def download(key: str) -> Step:
    return Step("download", key)


@dataclass(frozen=True)
class Expect:
    """The outcome after the script and convergence.

    ``primary``: image keys the primary may end with; ``secondary``: for each primary key, the
    key the secondary must then hold (swap strategies; ``None`` = no parseable image; missing =
    not checked); ``counters``: allowed stored security counters at the end.
    """

    primary: frozenset[str]
    secondary: dict[str, str | None] = field(default_factory=dict)
    counters: frozenset[int] | None = None
    confirmed: bool = True


@dataclass(frozen=True)
class Images:
    """Which images a scenario uses: key -> (size factor, security counter, corrupt?)."""

    spec: dict[str, tuple[float, int, bool]]


DEFAULT_IMAGES = Images({"v1": (0.8, 1, False), "v2": (1.0, 2, False)})

Setup = Callable[["Any"], None]   # receives a runner context (runner.Context)
ExpectFn = Callable[[Any, set[str]], Expect]  # (context, capabilities) -> Expect


@dataclass(frozen=True)
class Scenario:
    id: str
    number: int
    title: str
    setup: Setup
    steps: tuple[Step, ...]
    window: frozenset[int]
    expect: ExpectFn
    schedules: frozenset[str]
    requires: frozenset[str] = frozenset()
    images: Images = DEFAULT_IMAGES
    op_filter: str = "all"          # "all" | "records" (small programs) | "data" | "erase"
    geometry: dict[str, Any] = field(default_factory=dict)   # geometry overrides
    f9: bool = False                 # run on the physical-erase-block variant


@dataclass(frozen=True)
class Omitted:
    """A scenario of the list the suite does not run, and why."""

    number: int
    id: str
    reason: str


# --- setups (ctx is runner.Context) --------------------------------------------------------


def s_v1(ctx: Any) -> None:
    ctx.provision("v1")
    ctx.step(BOOT)


def s_v1_pending(permanent: bool, key: str = "v2") -> Setup:
    def setup(ctx: Any) -> None:
        s_v1(ctx)
        ctx.step(download(key))
        ctx.step(PENDING_PERM if permanent else PENDING_TEST)
    return setup


def s_trial(ctx: Any) -> None:
    s_v1_pending(False)(ctx)
    ctx.step(BOOT)


def s_trial_confirmed(ctx: Any) -> None:
    s_trial(ctx)
    ctx.step(CONFIRM)


def s_bootstrap(ctx: Any) -> None:
    ctx.step(download("v1"))


def s_leftover(ctx: Any) -> None:
    s_v1(ctx)
    ctx.step(PENDING_PERM)  # a request with no image behind it


def s_preconfirmed(ctx: Any) -> None:
    ctx.provision("v1", confirmed_trailer=True)
    ctx.step(download("v2"))
    ctx.step(PENDING_TEST)


def s_v1_only(ctx: Any) -> None:
    s_v1(ctx)


WORN_AT = 1000  # endurance of the worn-out variant (cycles)


def s_worn_hot_sector(ctx: Any) -> None:
    """A permanent request, with the sector that wears first (the scratch, else the primary's
    first sector) already at its endurance: its next erase fails (F6)."""
    s_v1_pending(True)(ctx)
    areas = ctx.layout_areas
    hot = (areas.get("scratch") or areas["primary"])[0]
    ctx.flash.set_wear(ctx.flash.geometry.sector_index(hot.offset), WORN_AT)


def s_downgrade(ctx: Any) -> None:
    ctx.provision("v1")
    ctx.step(BOOT)
    ctx.step(download("v0"))
    ctx.step(PENDING_PERM)


# --- expectations -------------------------------------------------------------------------


def _swap(caps: set[str], mapping: dict[str, str | None]) -> dict[str, str | None]:
    if "swap" in caps:
        return mapping
    return {k: None for k in mapping if mapping[k] is not None} if "overwrite" in caps else {}


def e_v2_perm(ctx: Any, caps: set[str]) -> Expect:
    return Expect(frozenset({"v2"}), _swap(caps, {"v2": "v1"}), frozenset({2}))


def e_v1_reverted(ctx: Any, caps: set[str]) -> Expect:
    return Expect(frozenset({"v1"}), {"v1": "v2"} if "swap" in caps else {}, frozenset({1}))


def e_v1_kept(ctx: Any, caps: set[str]) -> Expect:
    return Expect(frozenset({"v1"}), {}, frozenset({1}))


def e_v1_or_v2(ctx: Any, caps: set[str]) -> Expect:
    sec: dict[str, str | None] = {}
    if "swap" in caps:
        sec = {"v2": "v1", "v1": "v2"}
    elif "overwrite" in caps:
        sec = {"v2": None, "v1": "v2"}
    return Expect(frozenset({"v1", "v2"}), sec, frozenset({1, 2}))


def e_v1_or_v2_confirm(ctx: Any, caps: set[str]) -> Expect:
    return Expect(frozenset({"v1", "v2"}), {"v2": "v1", "v1": "v2"}, frozenset({1, 2}))


def e_v2_unless_trial_reset(ctx: Any, caps: set[str]) -> Expect:
    """A TEST upgrade confirmed by the application: v2 — but a reset after the swap finished and
    before the confirmation is a failed trial, and reverting to v1 is then correct."""
    if not ctx.faulted or "revert" not in caps:
        return e_v2_perm(ctx, caps)
    return Expect(frozenset({"v1", "v2"}), _swap(caps, {"v2": "v1", "v1": "v2"}), frozenset({1, 2}))


def e_bootstrap(ctx: Any, caps: set[str]) -> Expect:
    return Expect(frozenset({"v1"}), {}, frozenset({1}))


def e_downgrade(ctx: Any, caps: set[str]) -> Expect:
    return Expect(frozenset({"v1"}), {}, frozenset({5}))


# --- the list ------------------------------------------------------------------------------

SINGLE = frozenset({"none", "cut", "torn", "unstable", "err"})
ALL = SINGLE | {"double", "random"}

SCENARIOS: tuple[Scenario, ...] = (
    Scenario("perm-upgrade", 1, "Permanent upgrade, single cut anywhere", s_v1_pending(True),
             (BOOT, BOOT), frozenset({0}), e_v2_perm, ALL),
    Scenario("test-revert", 2, "Test upgrade then revert, cut in both phases", s_v1_pending(False),
             (BOOT, BOOT, BOOT), frozenset({0, 1}), e_v1_reverted, ALL, frozenset({"revert"})),
    Scenario("confirm-then-boot", 3, "Confirmed test upgrade, cut during the next boot",
             s_trial_confirmed, (BOOT, BOOT), frozenset({0}), e_v2_perm, SINGLE,
             frozenset({"revert"})),
    Scenario("random-cuts", 4, "Several random cuts during one upgrade", s_v1_pending(True),
             (BOOT, BOOT), frozenset({0}), e_v2_perm, frozenset({"random"})),
    Scenario("double-fault", 5, "Cut, then cut the recovery at every point", s_v1_pending(False),
             (BOOT, BOOT, BOOT), frozenset({0, 1}), e_v1_reverted, frozenset({"double"}),
             frozenset({"revert"})),
    Scenario("overwrite-cut", 6, "Overwrite-only, cut anywhere", s_v1_pending(True),
             (BOOT, BOOT), frozenset({0}), e_v2_perm, SINGLE | {"double"},
             frozenset({"overwrite"})),
    Scenario("bootstrap", 7, "Empty primary, valid secondary", s_bootstrap, (BOOT, BOOT, BOOT),
             frozenset({0}), e_bootstrap, SINGLE),
    Scenario("cold-reset", 8, "Every boot in a fresh process state (RAM lost)", s_v1_pending(False),
             (BOOT, BOOT, BOOT), frozenset({0, 1}), e_v1_reverted, frozenset({"cold"}),
             frozenset({"revert"})),
    Scenario("revert-torn", 9, "Torn writes during the revert (#1966)", s_trial, (BOOT, BOOT),
             frozenset({0}), e_v1_reverted, frozenset({"torn", "unstable"}), frozenset({"revert"})),
    Scenario("torn-records", 10, "Torn status/flag writes", s_v1_pending(False), (BOOT, BOOT, BOOT),
             frozenset({0, 1}), e_v1_reverted, frozenset({"torn", "unstable"}),
             frozenset({"revert"}), op_filter="records"),
    Scenario("torn-data", 11, "Torn data-chunk writes", s_v1_pending(True), (BOOT, BOOT),
             frozenset({0}), e_v2_perm, frozenset({"torn", "unstable"}), op_filter="data"),
    Scenario("torn-erase", 12, "Torn sector erases", s_v1_pending(True), (BOOT, BOOT),
             frozenset({0}), e_v2_perm, frozenset({"torn", "unstable"}), op_filter="erase"),
    Scenario("unstable-recovery", 14, "Unstable bits after a torn op, recovery cut again",
             s_v1_pending(False), (BOOT, BOOT, BOOT, BOOT), frozenset({0, 1}), e_v1_reverted,
             frozenset({"unstable-double"}), frozenset({"revert"})),
    Scenario("write-once", 15, "ECC write-once flash: no re-program after torn writes",
             s_v1_pending(False), (BOOT, BOOT, BOOT), frozenset({0, 1}), e_v1_reverted,
             frozenset({"torn", "unstable"}), frozenset({"revert"}),
             geometry={"program_limit": 1}),
    Scenario("erase-granularity", 16, "Physical erase block larger than the sector map (F9)",
             s_v1_pending(True), (BOOT, BOOT), frozenset({0}), e_v2_perm,
             frozenset({"none", "cut"}), f9=True),
    Scenario("leftover-trailer", 18, "Request trailer over an empty secondary", s_leftover,
             (BOOT, BOOT), frozenset({0}), e_v1_kept, SINGLE),
    Scenario("preconfirmed-primary", 19, "Primary pre-confirmed by a programmer, then upgrade",
             s_preconfirmed, (BOOT, CONFIRM, BOOT), frozenset({0}), e_v2_unless_trial_reset, SINGLE),
    Scenario("small-image", 20, "One-sector images: no stale resume after the swap",
             s_v1_pending(True), (BOOT, BOOT), frozenset({0}), e_v2_perm, SINGLE,
             frozenset({"swap"}), images=Images({"v1": (0.1, 1, False), "v2": (0.12, 2, False)})),
    Scenario("revert-once", 21, "Interrupted revert: exactly one revert", s_trial,
             (BOOT, BOOT, BOOT), frozenset({0}), e_v1_reverted, SINGLE, frozenset({"revert"})),
    Scenario("driver-errors", 22, "Flash driver errors during the update (F5)",
             s_v1_pending(True), (BOOT, BOOT, BOOT), frozenset({0}), e_v2_perm, frozenset({"err"})),
    Scenario("invalid-candidate", 23, "Candidate with a bad digest", s_v1_pending(True, "bad"),
             (BOOT, BOOT), frozenset({0}), e_v1_kept, SINGLE,
             images=Images({"v1": (0.8, 1, False), "bad": (1.0, 2, True)})),
    Scenario("near-max-image", 24, "Images at the slot's maximum size", s_v1_pending(True),
             (BOOT, BOOT), frozenset({0}), e_v2_perm, frozenset({"none", "cut"}),
             images=Images({"v1": (-1.0, 1, False), "v2": (-1.0, 2, False)})),
    Scenario("download-cut", 25, "Cut during the download into the secondary", s_v1_only,
             (download("v2"), BOOT, BOOT), frozenset({0}), e_v1_kept, SINGLE),
    Scenario("pending-cut", 26, "Cut inside set_pending", s_v1_only,
             (download("v2"), PENDING_PERM, BOOT, BOOT, BOOT), frozenset({1}), e_v1_or_v2, SINGLE),
    Scenario("confirm-cut", 27, "Cut inside set_confirmed", s_trial, (CONFIRM, BOOT, BOOT),
             frozenset({0}), e_v1_or_v2_confirm, SINGLE, frozenset({"revert"})),
    Scenario("never-confirmed", 28, "Never confirmed: one trial, then revert for good",
             s_v1_pending(False), (BOOT, BOOT, BOOT, BOOT), frozenset({0, 1, 2, 3}), e_v1_reverted,
             frozenset({"none", "cut"}), frozenset({"revert"})),
    Scenario("reject-cut", 29, "Cut while the bootloader retires an invalid candidate",
             s_v1_pending(True, "bad"), (BOOT, download("v2"), PENDING_PERM, BOOT, BOOT),
             frozenset({0}), e_v2_perm, SINGLE,
             images=Images({"v1": (0.8, 1, False), "v2": (1.0, 2, False), "bad": (1.0, 2, True)})),
    Scenario("downgrade", 30, "Candidate below the stored security counter", s_downgrade,
             (BOOT, BOOT), frozenset({0}), e_downgrade, SINGLE,
             images=Images({"v1": (0.8, 5, False), "v0": (1.0, 3, False)})),
    Scenario("counter-after-resume", 31, "Counter unchanged after a resumed, unconfirmed upgrade",
             s_v1_pending(False), (BOOT, BOOT, BOOT), frozenset({0}), e_v1_reverted, SINGLE,
             frozenset({"revert"})),
    Scenario("counter-cut", 32, "Cut during the security counter update", s_trial_confirmed,
             (BOOT, BOOT), frozenset({0}), e_v2_perm, SINGLE, frozenset({"revert"})),
    Scenario("geometry-erase-zero", 38, "Geometry matrix: erased value 0x00, wide write unit",
             s_v1_pending(True), (BOOT, BOOT), frozenset({0}), e_v2_perm,
             frozenset({"none", "cut", "torn"}), geometry={"erase_value": 0x00, "write_unit": 16}),
    Scenario("endurance", 39, "Repeated upgrades within the wear budget (I8)", s_v1_only,
             (download("v2"), PENDING_PERM, BOOT, download("v1b"), PENDING_PERM, BOOT,
              download("v2b"), PENDING_PERM, BOOT, BOOT), frozenset({2, 5, 8}),
             lambda ctx, caps: Expect(frozenset({"v2b"}), {}, frozenset({4})),
             frozenset({"none", "cut"}),
             images=Images({"v1": (0.8, 1, False), "v2": (1.0, 2, False),
                            "v1b": (0.7, 3, False), "v2b": (0.9, 4, False)})),
    Scenario("wear-out", 39, "The hottest sector is worn out: no upgrade, still a boot (F6)",
             s_worn_hot_sector, (BOOT, BOOT), frozenset({0}),
             lambda ctx, caps: Expect(frozenset({"v1"}), {"v1": "v2"}, frozenset({1})),
             frozenset({"none", "cut"}), geometry={"endurance": WORN_AT}),
    Scenario("read-flips", 40, "Transient bit flips on trailer reads (F7)", s_v1_pending(False),
             (BOOT, BOOT, BOOT), frozenset({0, 1}), e_v1_reverted, frozenset({"flip"}),
             frozenset({"revert"})),
)

OMITTED: tuple[Omitted, ...] = (
    Omitted(13, "scratch-multisector", "by design: the scratch area is one erase unit and never "
            "holds a trailer (specs/FLASH-LAYOUT.md), so the stale-scratch-trailer state of "
            "f76fba70 cannot exist; scratch erases are still swept by torn-erase (12)"),
    Omitted(17, "trailer-states", "needs the implementation's trailer encoding; for the reference "
            "it is an exhaustive test of the decision table over every state combination plus a "
            "boot from each state on flash (tests/bootloader/test_decision.py)"),
    Omitted(33, "encrypted-swap", "the reference bootloader stores and swaps images in the "
            "clear (decryption belongs to the SUIT processor at install time), so no key material "
            "lives in a trailer and there is no crypto context to re-derive on resume"),
    Omitted(34, "multi-image", "the reference bootloader manages one primary/secondary pair; "
            "the Bootloader protocol has no notion of image dependencies yet"),
    Omitted(35, "direct-xip-revert", "direct-XIP (boot in place from either slot) is not a "
            "strategy of the reference bootloader: it always boots the primary slot"),
    Omitted(36, "direct-xip-trailer", "direct-XIP and RAM-load are not implemented, so images "
            "without a trailer only occur as the bootstrap case (scenario 7)"),
    Omitted(37, "ram-load", "RAM-load (copy to RAM, validate there, pick the highest version) "
            "is not implemented by the reference bootloader"),
)

BY_ID = {s.id: s for s in SCENARIOS}
