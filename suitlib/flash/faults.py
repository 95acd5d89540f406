"""Fault plans: which flash operation fails, how, and the text form that replays it.

Operation indices count the mutating operations (program, erase, and the F9 rewrites) since the
emulator was created, across power cycles; reads do not consume an index. The operation hit by a
cut consumes its index, so in a double fault the second index is larger than the first.

Text form (a fault-point identifier, printed by sweeps and parsed by ``--replay``): tokens joined
by ``:``; ``cut=K`` or ``err=K`` starts a fault, ``torn=MODE`` and ``unstable`` modify the fault
before them, ``flip=A-B`` (optionally ``@P``) adds a read-flip region, ``seed=N`` seeds the
randomness. Examples::

    cut=417                      F0: power lost before op 417 (nothing of it happens)
    cut=417:torn=prefix          F1/F2: op 417 is torn, then power is lost
    cut=417:torn=bits:unstable   F1/F2 + F3: torn bits read differently until erased/re-programmed
    cut=417:cut=503              F4: a second cut during the recovery boot
    err=12                       F5: op 12 returns a driver error, nothing written
    err=12:torn=prefix           F5: op 12 returns a driver error after writing a prefix
    flip=0x1000-0x2000@0.5       F7: reads overlapping the region flip one bit with p=0.5
    none                         no fault

Torn modes (the op is split into write units; an erase is torn over its whole erase block):

- ``prefix``: a seeded number ``m`` in ``[0, n)`` of whole units complete, unit ``m`` was in
  flight (none of its bits landed), the rest is untouched.
- ``all-but-last``: like ``prefix`` with ``m = n - 1``.
- ``bits``: program: every unit but the last completes, each bit the last unit would change
  changes with p=1/2 (neither old nor new); erase: each non-erased bit of the block is erased with
  p=1/2 (an erase is parallel, so no prefix order).
"""

from __future__ import annotations

import enum
import random as _random
from dataclasses import dataclass, field

from suitlib.errors import InputError


class TornMode(str, enum.Enum):
    """How much of an interrupted operation lands."""

    PREFIX = "prefix"
    ALL_BUT_LAST = "all-but-last"
    BITS = "bits"


class Action(str, enum.Enum):
    """What the fault does after the (possibly torn) operation."""

    CUT = "cut"      # power lost: PowerLoss is raised, the device is off until power_cycle()
    ERROR = "err"    # driver error: FlashDriverError is raised, the device stays on


@dataclass(frozen=True)
class Fault:
    """One planned fault at operation index ``at``."""

    at: int
    action: Action = Action.CUT
    torn: TornMode | None = None
    unstable: bool = False

    def __post_init__(self) -> None:
        if self.at < 0:
            raise ValueError("fault index must be >= 0")
        if self.unstable and self.torn is None:
            raise ValueError("unstable bits need a torn operation (torn=...)")

    def format(self) -> str:
        out = f"{self.action.value}={self.at}"
        if self.torn is not None:
            out += f":torn={self.torn.value}"
        if self.unstable:
            out += ":unstable"
        return out


@dataclass(frozen=True)
class ReadFlip:
    """F7: a read overlapping ``[start, end)`` flips one bit of the overlap with ``probability``.

    The flip is transient (the stored bits do not change).
    """

    start: int
    end: int
    probability: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError("read-flip region must be non-empty")
        if not 0.0 < self.probability <= 1.0:
            raise ValueError("read-flip probability must be in (0, 1]")

    def format(self) -> str:
        out = f"flip={self.start:#x}-{self.end:#x}"
        if self.probability != 1.0:
            out += f"@{self.probability!r}"  # repr: exact round trip
        return out


@dataclass(frozen=True)
class FaultPlan:
    """A seeded, replayable set of faults. ``FaultPlan()`` plans nothing."""

    faults: tuple[Fault, ...] = ()
    flips: tuple[ReadFlip, ...] = ()
    seed: int = 0
    by_index: dict[int, Fault] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        index: dict[int, Fault] = {}
        for f in self.faults:
            if f.at in index:
                raise ValueError(f"two faults planned at op {f.at}")
            index[f.at] = f
        object.__setattr__(self, "faults", tuple(sorted(self.faults, key=lambda f: f.at)))
        object.__setattr__(self, "by_index", index)

    # --- builders -----------------------------------------------------------------------

    @classmethod
    def cut(cls, *at: int, torn: TornMode | str | None = None, unstable: bool = False,
            seed: int = 0) -> FaultPlan:
        """Power cuts at each index in ``at`` (the first may be torn)."""
        mode = TornMode(torn) if torn is not None else None
        faults = tuple(Fault(k, Action.CUT, mode if i == 0 else None, unstable if i == 0 else False)
                       for i, k in enumerate(at))
        return cls(faults, seed=seed)

    @classmethod
    def random(cls, seed: int, horizon: int, *, max_faults: int = 3,
               torn: tuple[TornMode | None, ...] = (None, TornMode.PREFIX, TornMode.BITS),
               unstable: bool = True) -> FaultPlan:
        """A seeded random schedule: 1..max_faults cuts at increasing indices in ``[0, horizon)``,
        the first torn in a random mode (and possibly unstable). Same seed, same plan."""
        rng = _random.Random(f"plan:{seed}")
        count = rng.randint(1, max(1, min(max_faults, horizon)))
        at = sorted(rng.sample(range(max(horizon, count)), count))
        mode = rng.choice(torn)
        first = Fault(at[0], Action.CUT, mode, unstable and mode is not None and rng.random() < 0.5)
        return cls((first,) + tuple(Fault(k) for k in at[1:]), seed=seed)

    def then(self, fault: Fault) -> FaultPlan:
        """This plan plus one more fault."""
        return FaultPlan(self.faults + (fault,), self.flips, self.seed)

    @property
    def cuts(self) -> tuple[int, ...]:
        return tuple(f.at for f in self.faults if f.action is Action.CUT)

    def __bool__(self) -> bool:
        return bool(self.faults or self.flips)

    # --- text form ----------------------------------------------------------------------

    def format(self) -> str:
        """The fault-point identifier (see the module docstring); ``parse`` inverts it."""
        parts = [f.format() for f in self.faults] + [f.format() for f in self.flips]
        if not parts:
            parts = ["none"]
        if self.seed:
            parts.append(f"seed={self.seed}")
        return ":".join(parts)

    __str__ = format


def _int(text: str, what: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise InputError(f"fault id: {what} {text!r} is not an integer") from None
    if value < 0:
        raise InputError(f"fault id: {what} must be >= 0")
    return value


def parse_fault_id(text: str) -> FaultPlan:
    """Parse a fault-point identifier (``cut=417:torn=prefix``...) into a :class:`FaultPlan`.

    Raises :class:`InputError` on anything malformed.
    """
    faults: list[Fault] = []
    flips: list[ReadFlip] = []
    seed = 0
    text = text.strip()
    if text in ("", "none"):
        return FaultPlan()
    for token in text.split(":"):
        key, eq, value = token.partition("=")
        key = key.strip()
        try:
            if key in ("cut", "err") and eq:
                faults.append(Fault(_int(value, key), Action(key)))
            elif key == "torn" and eq:
                if not faults:
                    raise InputError("fault id: torn= must follow cut= or err=")
                faults[-1] = Fault(faults[-1].at, faults[-1].action, TornMode(value), faults[-1].unstable)
            elif key == "unstable" and not eq:
                if not faults:
                    raise InputError("fault id: unstable must follow cut= or err=")
                last = faults[-1]
                faults[-1] = Fault(last.at, last.action, last.torn, True)
            elif key == "flip" and eq:
                region, _, prob = value.partition("@")
                start, dash, end = region.partition("-")
                if not dash:
                    raise InputError("fault id: flip=START-END")
                flips.append(ReadFlip(_int(start, "flip start"), _int(end, "flip end"),
                                      float(prob) if prob else 1.0))
            elif key == "seed" and eq:
                seed = _int(value, "seed")
            elif key == "none" and not eq:
                continue
            else:
                raise InputError(f"fault id: unknown token {token!r}",
                                 hint="tokens: cut=K err=K torn=prefix|all-but-last|bits unstable "
                                      "flip=A-B[@P] seed=N")
        except ValueError as exc:  # bad enum value, bad float, rule of a dataclass
            raise InputError(f"fault id: {token!r}: {exc}") from None
    try:
        return FaultPlan(tuple(faults), tuple(flips), seed)
    except ValueError as exc:
        raise InputError(f"fault id: {exc}") from None


def format_fault_id(plan: FaultPlan) -> str:
    """The identifier of ``plan`` (same as ``plan.format()``)."""
    return plan.format()
