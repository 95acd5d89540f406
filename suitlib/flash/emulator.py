"""An emulated NOR flash with power-loss and fault injection (implements ``FlashDevice``).

Quick use::

    from suitlib.flash import FlashEmulator, Geometry, FaultPlan, PowerLoss
    flash = FlashEmulator(Geometry.uniform(1 << 20, 4096, write_unit=4))
    flash.program(0x1000, b"\\x00" * 8)            # NOR: clears bits only
    flash.erase(0x1000, 4096)                      # whole sectors; back to erase_value
    flash.arm(FaultPlan.cut(5, torn="bits", seed=1))  # or parse_fault_id("cut=5:torn=bits:seed=1")
    try:
        run_bootloader(flash)
    except PowerLoss as cut:                       # cut.op_index == 5
        flash.power_cycle()                        # F8: the next boot starts fresh
    snap = flash.snapshot(); ...; flash.restore(snap)

Rules
- Geometry (:class:`~suitlib.flash.geometry.Geometry`): sectors (uniform or not), write unit,
  erase value 0xFF (program clears bits) or 0x00 (program sets bits), ``program_limit``
  (1 = write-once/ECC: a second program of a unit before an erase raises
  :class:`FlashWriteRuleError`), ``endurance`` (erase cycles), ``physical_erase_size`` (F9).
- ``nor_rule``: ``"and"`` (default, like silicon: the stored value is old AND data, or old OR
  data for erase value 0x00) or ``"strict"`` (a program that would move a bit towards the erased
  value raises :class:`FlashWriteRuleError`; nothing is written).
- Out of bounds → :class:`FlashBoundsError`; a program whose address or length is not a multiple
  of the write unit, or an erase not covering whole sectors → :class:`FlashAlignmentError`.
  These argument errors do not consume an operation index.
- Wear (F6): every erase attempt of a sector increments its erase count (under F9 every sector of
  the physical block). A sector is worn once its count reaches ``endurance``. ``wear_mode``:
  ``"erase-fails"`` (default: a further erase raises :class:`FlashWornError` and changes
  nothing), ``"program-noop"`` (programs into a worn sector silently do nothing), or
  ``"read-errors"`` (reads touching a worn sector raise :class:`FlashWornError`).
- Erase of several sectors is one operation per sector (each can be cut). With
  ``physical_erase_size`` (F9) an erase of a logical sector erases its whole physical block;
  ``erase_mode="rmw"`` (default) then rewrites the neighbour sectors from RAM as separate
  ``"rewrite"`` operations, so a cut in between destroys them; ``erase_mode="block"`` never
  rewrites (a driver that erases more than asked).

Operations, trace, faults
- Mutating operations (program, erase, rewrite) get consecutive indices ``0, 1, 2 ...`` across
  power cycles (``flash.ops`` is the next one). Reads and zero-length calls consume none.
- ``flash.trace`` is a tuple of :class:`TraceEntry` (index, kind, address, length, fault, boot,
  and the programmed data when ``trace_data=True``; reads too when ``trace_reads=True``).
- The armed :class:`~suitlib.flash.faults.FaultPlan` (see that module for F0–F5, F7 and the
  ``cut=417:torn=prefix`` text form): a cut raises :class:`PowerLoss` and the device stays off
  (every call raises ``PowerLoss`` again) until :meth:`power_cycle`, which also bumps
  ``flash.boots`` (F8). Torn bits marked ``unstable`` (F3) read as fresh random values on every
  read until their sector is erased or their unit programmed again. With ``ecc_errors=True``
  (ECC parts such as STM32L4) a read touching a unit left torn raises :class:`FlashEccError`
  until the unit is erased (or programmed again, where the device allows). Randomness derives
  only from ``plan.seed``, the operation index and (for read noise and flips) the count of noisy
  reads since the last operation, so a run replays exactly, and a sweep that skips the reads of
  a prefix (restore + :meth:`replay`) sees the same noise as a run from scratch.
  ``FaultPlan.random(seed, horizon)`` draws a seeded schedule of up to three cuts.
- A cut planned at an operation the device refuses (rule, wear) still cuts there, with nothing
  written; a planned driver error there gives way to the refusal.
- ``before_op``: optional callable ``(flash, index)`` called before each mutating operation
  executes (after argument checks); sweeps take a snapshot there, then re-execute one traced
  operation under a fault with :meth:`replay`.

Snapshots
- :meth:`snapshot` is O(#sectors): it shares the sector buffers copy-on-write (a buffer is copied
  the first time it is modified after a snapshot or restore). It captures contents, program
  counts, wear counts, unstable bits, op/boot counters, power state and the trace.
  :meth:`restore` is O(#sectors) too. The armed plan is not part of a snapshot.

Setup and inspection (no rules, no index, no trace): :meth:`load` writes raw bytes (e.g. initial
images), :meth:`dump` returns the stored bytes without read noise, :meth:`set_wear` pre-ages a
sector, ``erase_counts``, ``unstable_bits()``, ``ecc_bad_units()`` and ``stats`` report.
:meth:`from_profile` builds an emulator for a device profile (``"nrf52840"`` ...).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from suitlib.flash.errors import (
    FlashAlignmentError,
    FlashBoundsError,
    FlashDriverError,
    FlashEccError,
    FlashWornError,
    FlashWriteRuleError,
)
from suitlib.flash.faults import Action, Fault, FaultPlan, TornMode
from suitlib.flash.geometry import Geometry
from suitlib.flash.interface import PowerLoss, Sector

NorRule = Literal["and", "strict"]
WearMode = Literal["erase-fails", "program-noop", "read-errors"]
EraseMode = Literal["rmw", "block"]

_INC = bytes(min(i + 1, 255) for i in range(256))  # program-count increment table


def _label(fault: Fault) -> str:
    """``cut``, ``cut:torn=bits:unstable``, ``err:torn=prefix`` ... (no index)."""
    return fault.format().replace(f"={fault.at}", "", 1)


@dataclass(frozen=True)
class TraceEntry:
    """One flash operation as executed.

    ``fault`` is ``""`` or what happened instead of a clean operation: a planned fault
    (``cut``, ``cut:torn=bits:unstable``, ``err``, ``err:torn=prefix``), a refused program
    (``rejected:nor``, ``rejected:program-limit``) or wear (``worn:noop``,
    ``worn:erase-fails``).
    """

    index: int
    kind: str           # "program" | "erase" | "rewrite" | "read" (reads carry index -1)
    address: int
    length: int
    fault: str = ""
    boot: int = 0
    data: bytes | None = None


@dataclass(frozen=True)
class Snapshot:
    """A frozen state of a :class:`FlashEmulator` (restore with :meth:`FlashEmulator.restore`)."""

    owner: object
    data: tuple[bytearray, ...]  # shared copy-on-write: never mutate
    counts: tuple[bytearray, ...] | None
    wear: tuple[int, ...]
    unstable: tuple[tuple[int, tuple[tuple[int, int], ...]], ...]
    ecc_bad: tuple[tuple[int, frozenset[int]], ...]
    ops: int
    boots: int
    powered: bool
    read_seq: int
    trace_head: Any
    trace_len: int


@dataclass
class FlashStats:
    """Work done (not part of snapshots): for benchmarks."""

    reads: int = 0
    programs: int = 0
    erases: int = 0
    bytes_read: int = 0
    bytes_programmed: int = 0
    snapshots: int = 0
    restores: int = 0
    sector_copies: int = 0  # copy-on-write copies of a sector buffer


class FlashEmulator:
    """An emulated NOR flash; see the module docstring for the rules and the fault model."""

    def __init__(self, geometry: Geometry, *, plan: FaultPlan | None = None,
                 nor_rule: NorRule = "and", wear_mode: WearMode = "erase-fails",
                 erase_mode: EraseMode = "rmw", trace_data: bool = False,
                 trace_reads: bool = False, ecc_errors: bool = False,
                 before_op: Callable[[FlashEmulator, int], None] | None = None) -> None:
        if nor_rule not in ("and", "strict"):
            raise ValueError("nor_rule must be 'and' or 'strict'")
        if wear_mode not in ("erase-fails", "program-noop", "read-errors"):
            raise ValueError("wear_mode must be 'erase-fails', 'program-noop' or 'read-errors'")
        if erase_mode not in ("rmw", "block"):
            raise ValueError("erase_mode must be 'rmw' or 'block'")
        self.geometry = geometry
        self.nor_rule: NorRule = nor_rule
        self.wear_mode: WearMode = wear_mode
        self.erase_mode: EraseMode = erase_mode
        self.trace_data = trace_data
        self.trace_reads = trace_reads
        self.ecc_errors = ecc_errors
        self.before_op = before_op
        self.stats = FlashStats()
        self._plan = plan or FaultPlan()
        self._secs = geometry.sectors
        self._uniform = geometry.uniform_sector_size or 0
        self._size = geometry.size
        self._wu = geometry.write_unit
        self._ev = geometry.erase_value
        self._limit = geometry.program_limit
        self._endurance = geometry.endurance
        self._read_wear_checks = wear_mode == "read-errors" and geometry.endurance is not None
        self._noop_when_worn = wear_mode == "program-noop" and geometry.endurance is not None
        self._erased: dict[int, bytearray] = {}
        self._zeros: dict[int, bytearray] = {}
        self._runs: dict[int, bytes] = {}
        n = len(self._secs)
        self._data: list[bytearray] = [self._erased_buf(s.size) for s in self._secs]
        # the shared erased buffer of the uniform sector size (identity test on the fast path)
        self._erased_u = self._erased_buf(self._uniform) if self._uniform else None
        self._counts: list[bytearray] | None = (
            [self._zero_buf(s.size // self._wu) for s in self._secs] if self._limit else None)
        self._owned: set[int] = set()
        self._wear: list[int] = [0] * n
        self._unstable: dict[int, dict[int, int]] = {}
        self._ecc_bad: dict[int, set[int]] = {}
        self._ops = 0
        self._boots = 0
        self._powered = True
        self._read_seq = 0
        self._trace_head: Any = None
        self._trace_len = 0
        self._token = object()  # identifies this emulator's snapshots

    @classmethod
    def from_profile(cls, profile: Any, *, geometry: Mapping[str, Any] | None = None,
                     **kw: Any) -> FlashEmulator:
        """An emulator with the flash geometry of a device profile.

        ``profile`` is a :class:`~suitlib.flash.profiles.DeviceProfile` or a name/path for
        :func:`~suitlib.flash.profiles.load_profile`; ``geometry`` overrides geometry fields
        (e.g. ``{"physical_erase_size": 0x10000}``); other keywords go to the constructor.
        """
        if isinstance(profile, (str, os.PathLike)):
            from suitlib.flash.profiles import load_profile

            profile = load_profile(profile)
        return cls(profile.geometry(**(geometry or {})), **kw)

    # --- FlashDevice properties ---------------------------------------------------------

    @property
    def size(self) -> int:
        return self._size

    @property
    def write_unit(self) -> int:
        return self._wu

    @property
    def erase_value(self) -> int:
        return self._ev

    @property
    def write_once(self) -> bool:
        return self._limit == 1

    @property
    def sectors(self) -> tuple[Sector, ...]:
        return self._secs

    def sector_at(self, address: int) -> Sector:
        return self._secs[self._sector_index(address)]

    # --- state --------------------------------------------------------------------------

    @property
    def plan(self) -> FaultPlan:
        return self._plan

    def arm(self, plan: FaultPlan | None) -> None:
        """Install a fault plan (``None`` clears it). Indices are absolute op indices."""
        self._plan = plan or FaultPlan()

    @property
    def ops(self) -> int:
        """Index the next mutating operation will get (= operations so far)."""
        return self._ops

    @property
    def boots(self) -> int:
        """Number of :meth:`power_cycle` calls so far."""
        return self._boots

    @property
    def powered(self) -> bool:
        return self._powered

    def power_cycle(self) -> None:
        """F8: power comes back (after a cut, or a plain reset). Flash contents persist."""
        self._powered = True
        self._boots += 1

    @property
    def trace(self) -> tuple[TraceEntry, ...]:
        out = []
        node = self._trace_head
        while node is not None:
            out.append(TraceEntry(*node[0]))
            node = node[1]
        out.reverse()
        return tuple(out)

    @property
    def trace_length(self) -> int:
        """``len(flash.trace)`` in O(1)."""
        return self._trace_len

    @property
    def erase_counts(self) -> tuple[int, ...]:
        """Erase attempts per logical sector (wear, F6)."""
        return tuple(self._wear)

    def set_wear(self, sector_index: int, count: int) -> None:
        """Pre-age a sector (test setup)."""
        self._wear[sector_index] = count

    def is_worn(self, sector_index: int) -> bool:
        return self._endurance is not None and self._wear[sector_index] >= self._endurance

    def ecc_bad_units(self) -> tuple[int, ...]:
        """Start addresses of write units whose ECC a torn operation broke (``ecc_errors``)."""
        return tuple(sorted(a for per in self._ecc_bad.values() for a in per))

    def unstable_bits(self) -> dict[int, int]:
        """``{address: mask}`` of bits that currently read unstably (F3)."""
        return {a: m for per in self._unstable.values() for a, m in per.items()}

    # --- snapshots ----------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """Capture the whole state in O(#sectors) (copy-on-write buffers)."""
        self._owned = set()
        self.stats.snapshots += 1
        return Snapshot(
            owner=self._token, data=tuple(self._data),
            counts=tuple(self._counts) if self._counts is not None else None,
            wear=tuple(self._wear),
            unstable=tuple((s, tuple(m.items())) for s, m in self._unstable.items()),
            ecc_bad=tuple((s, frozenset(u)) for s, u in self._ecc_bad.items()),
            ops=self._ops, boots=self._boots, powered=self._powered, read_seq=self._read_seq,
            trace_head=self._trace_head, trace_len=self._trace_len)

    def restore(self, snap: Snapshot) -> None:
        """Return exactly to ``snap`` (taken from this emulator). The plan stays armed."""
        if snap.owner is not self._token:
            raise ValueError("snapshot was taken from another flash")
        self._data = list(snap.data)
        self._counts = list(snap.counts) if snap.counts is not None else None
        self._owned = set()
        self._wear = list(snap.wear)
        self._unstable = {s: dict(m) for s, m in snap.unstable}
        self._ecc_bad = {s: set(u) for s, u in snap.ecc_bad}
        self._ops, self._boots, self._powered = snap.ops, snap.boots, snap.powered
        self._read_seq = snap.read_seq
        self._trace_head, self._trace_len = snap.trace_head, snap.trace_len
        self.stats.restores += 1

    # --- setup / inspection -------------------------------------------------------------

    def load(self, address: int, data: bytes) -> None:
        """Store raw bytes (no rules, no op index, no trace): factory programming for tests.

        On a device with a program limit, every write unit that does not read as erased counts
        as programmed once.
        """
        self._check_range(address, len(data))
        self._put(address, bytes(data))
        for si in self._sectors_in(address, len(data)):
            self._unstable.pop(si, None)
            self._ecc_bad.pop(si, None)
            if self._counts is not None:
                self._own(si)
                self._recount(si)

    def dump(self, address: int = 0, length: int | None = None) -> bytes:
        """The stored bytes (no read noise, no flips, no power or wear checks)."""
        if length is None:
            length = self._size - address
        if address < 0 or length < 0 or address + length > self._size:
            self._check_range(address, length)
        return self._get(address, length) if length else b""

    # --- FlashDevice operations ---------------------------------------------------------

    def read(self, address: int, length: int) -> bytes:
        """Read ``length`` bytes at any alignment (F3 noise, F6 read errors, F7 flips apply)."""
        if address < 0 or length < 0 or address + length > self._size:
            self._check_range(address, length)
        if not self._powered:
            raise PowerLoss(self._ops, "device is off; call power_cycle()")
        self.stats.reads += 1
        self.stats.bytes_read += length
        if length == 0:
            return b""
        u = self._uniform
        if u and address // u == (address + length - 1) // u:
            si = address // u
            off = address - si * u
            out = bytes(self._data[si][off:off + length])
            if not (self._unstable or self._plan.flips or self._read_wear_checks or self._ecc_bad):
                if self.trace_reads:
                    self._record(-1, "read", address, length, "")
                return out
        else:
            out = self._get(address, length)
        return self._read_slow(address, out)

    def program(self, address: int, data: bytes) -> None:
        """Program ``data`` at ``address`` (both write-unit aligned), under the NOR rules."""
        n = len(data)
        if address < 0 or address + n > self._size:
            self._check_range(address, n)
        if address % self._wu or n % self._wu:
            raise FlashAlignmentError(
                f"program [{address:#x}, +{n:#x}) not aligned to the {self._wu}-byte write unit",
                address=address, length=n, write_unit=self._wu)
        if not self._powered:
            raise PowerLoss(self._ops, "device is off; call power_cycle()")
        if n == 0:
            return
        self._program_op("program", address, data if type(data) is bytes else bytes(data))

    def erase(self, address: int, length: int) -> None:
        """Erase the whole sectors covering exactly ``[address, address+length)``.

        One operation per sector; under F9 one per physical block plus the rewrites.
        """
        if length == 0:
            self._check_range(address, 0)
            return
        first = self._sector_index(address)
        end = address + length
        if end > self._size or length < 0:
            raise FlashBoundsError(f"erase [{address:#x}, {end:#x}) outside flash [0, {self._size:#x})",
                                   address=address, length=length, size=self._size)
        last = self._sector_index(end - 1)
        if self._secs[first].offset != address or self._secs[last].end != end:
            raise FlashAlignmentError(f"erase [{address:#x}, {end:#x}) does not cover whole sectors",
                                      address=address, length=length)
        if not self._powered:
            raise PowerLoss(self._ops, "device is off; call power_cycle()")
        if self.geometry.physical_erase_size is None:
            for si in range(first, last + 1):
                self._erase_op(si, si)
            return
        done: set[int] = set()
        for si in range(first, last + 1):
            if si in done:
                continue
            block = self.geometry.physical_block(si)
            done.update(block)
            keep = [b for b in block if not first <= b <= last]
            saved = [(b, bytes(self._data[b])) for b in keep
                     if self.erase_mode == "rmw" and self._data[b] is not self._erased.get(self._secs[b].size)
                     and self._data[b].count(self._ev) != len(self._data[b])]
            self._erase_op(block[0], block[-1])
            for b, content in saved:
                self._program_op("rewrite", self._secs[b].offset, content)

    def replay(self, entry: TraceEntry) -> None:
        """Execute one traced mutating operation again (the sweep's "suffix" after a restore).

        Program and rewrite entries need ``data`` (``trace_data=True``); erase entries are
        replayed at the physical granularity they were traced at.
        """
        if entry.kind in ("program", "rewrite"):
            if entry.data is None:
                raise ValueError("trace entry has no data (create the emulator with trace_data=True)")
            if not self._powered:
                raise PowerLoss(self._ops, "device is off; call power_cycle()")
            self._program_op(entry.kind, entry.address, entry.data)
        elif entry.kind == "erase":
            if not self._powered:
                raise PowerLoss(self._ops, "device is off; call power_cycle()")
            first = self._sector_index(entry.address)
            last = self._sector_index(entry.address + entry.length - 1)
            self._erase_op(first, last)
        else:
            raise ValueError(f"cannot replay a {entry.kind!r} entry")

    # --- operation cores ----------------------------------------------------------------

    def _begin(self) -> tuple[int, Fault | None]:
        """Take the next operation index (``_program_op`` inlines this)."""
        index = self._ops
        if self.before_op is not None:
            self.before_op(self, index)
        self._ops = index + 1
        self._read_seq = 0  # read noise is keyed by (op index, noisy reads since that op)
        faults = self._plan.by_index
        return index, faults.get(index) if faults else None

    def _cut(self, index: int, kind: str, address: int, length: int, fault: Fault,
             data: bytes | None) -> PowerLoss:
        self._record(index, kind, address, length, _label(fault), data)
        self._powered = False
        return PowerLoss(index, f"{kind} at {address:#x}+{length:#x}")

    def _reject(self, index: int, kind: str, address: int, length: int, label: str,
                data: bytes | None, fault: Fault | None, error: Exception) -> BaseException:
        """The device refuses op ``index``; a cut planned there still happens (nothing lands)."""
        if fault is not None and fault.action is Action.CUT:
            return self._cut(index, kind, address, length, fault, data)
        self._record(index, kind, address, length, label, data)
        return error

    def _program_op(self, kind: str, address: int, data: bytes) -> None:
        n = len(data)
        index = self._ops
        if self.before_op is not None:
            self.before_op(self, index)
        self._ops = index + 1
        self._read_seq = 0
        faults = self._plan.by_index
        fault = faults.get(index) if faults else None
        if fault is not None and fault.action is Action.CUT and fault.torn is None:
            raise self._cut(index, kind, address, n, fault, data)
        stats = self.stats
        stats.programs += 1
        stats.bytes_programmed += n
        ev = self._ev
        u = self._uniform
        si = address // u if u else -1
        single = u and (address + n - 1) // u == si
        if single:
            off = address - si * u
            buf = self._data[si]
            erased_run = self._runs.get(n) or self._erased_run(n)
            if buf is self._erased_u:  # the sector is untouched since its erase
                old: bytes | bytearray = erased_run
            else:
                old = buf[off:off + n]
        else:
            off = 0
            old = self._get(address, n)
            erased_run = self._erased_run(n)
        if old == erased_run:  # the common case: programming erased flash
            new = data
        else:
            o = int.from_bytes(old, "little")
            d = int.from_bytes(data, "little")
            new = (o & d if ev == 0xFF else o | d).to_bytes(n, "little")
            if self.nor_rule == "strict" and new != data:
                raise self._reject(index, kind, address, n, "rejected:nor", data, fault, FlashWriteRuleError(
                    f"program at {address:#x} would move bits towards {ev:#04x} (strict NOR rule)",
                    address=address, length=n))
        sectors = range(si, si + 1) if single else self._sectors_in(address, n)
        if self._limit is not None and kind == "program":
            for s in sectors:
                a, b = self._unit_span(s, address, n)
                if max(self._counts[s][a:b]) >= self._limit:  # type: ignore[index]
                    raise self._reject(index, kind, address, n, "rejected:program-limit", data, fault,
                                       FlashWriteRuleError(
                        f"program at {address:#x}: a write unit was already programmed "
                        f"{self._limit} time(s) since its last erase",
                        address=address, length=n, program_limit=self._limit))
        if self._noop_when_worn and any(self._wear[s] >= self._endurance for s in sectors):  # type: ignore[operator]
            if fault is not None and fault.action is Action.CUT:
                raise self._cut(index, kind, address, n, fault, data)
            self._record(index, kind, address, n, "worn:noop", data)
            return
        if fault is not None:
            if fault.torn is None:
                self._finish_fault(index, kind, address, n, fault, data)
            self._torn_program(index, kind, address, old, new, data, fault)
            return
        if single:
            if si not in self._owned:
                self._own(si)
            self._data[si][off:off + n] = new
        else:
            self._put(address, new)
        if self._counts is not None:
            for s in sectors:
                self._count(s, address, n, kind)
        if self._unstable or self._ecc_bad:
            for s in sectors:
                self._settle(s, address, n)
        self._trace_head = ((index, kind, address, n, "", self._boots,
                             data if self.trace_data else None), self._trace_head)
        self._trace_len += 1

    def _torn_program(self, index: int, kind: str, address: int, old: bytes, new: bytes,
                      data: bytes, fault: Fault) -> None:
        n, wu = len(new), self._wu
        units = n // wu
        rng = self._rng(index, "tear")
        assert fault.torn is not None
        if fault.torn is TornMode.BITS:
            m = units - 1
            lo = m * wu
            o = int.from_bytes(old[lo:], "little")
            t = int.from_bytes(new[lo:], "little")
            change = o ^ t
            landed = o ^ (change & rng.getrandbits(wu * 8))
            result = new[:lo] + landed.to_bytes(wu, "little")
        else:
            m = rng.randrange(units) if fault.torn is TornMode.PREFIX else units - 1
            lo = m * wu
            result = new[:lo] + old[lo:]
        self._put(address, result)
        for s in self._sectors_in(address, n):
            if self._unstable or self._ecc_bad:
                self._settle(s, address, lo)
            if self._counts is not None:
                # completed units and the unit in flight count as programmed
                self._count(s, address, lo + wu, kind)
        if fault.unstable:
            self._mark_unstable(address + lo, old[lo:lo + wu], new[lo:lo + wu])
        if self.ecc_errors:
            self._ecc_bad.setdefault(self._sector_index(address + lo), set()).add(address + lo)
        self._finish_fault(index, kind, address, n, fault, data)

    def _erase_op(self, first: int, last: int) -> None:
        """Erase sectors ``first..last`` (one physical erase unit) as one operation."""
        secs = self._secs
        address = secs[first].offset
        length = secs[last].offset + secs[last].size - address
        index, fault = self._begin()
        if fault is not None and fault.action is Action.CUT and fault.torn is None:
            raise self._cut(index, "erase", address, length, fault, None)
        self.stats.erases += 1
        wear = self._wear
        endurance = self._endurance
        worn = False
        for s in range(first, last + 1):
            if endurance is not None and wear[s] >= endurance:
                worn = True
            wear[s] += 1
        if worn and self.wear_mode == "erase-fails":
            raise self._reject(index, "erase", address, length, "worn:erase-fails", None, fault,
                               FlashWornError(f"erase at {address:#x}: sector past its endurance "
                                              f"of {endurance} cycles", address=address,
                                              erase_count=wear[first], endurance=endurance))
        if fault is not None:
            if fault.torn is None:
                self._finish_fault(index, "erase", address, length, fault, None)
            self._torn_erase(index, first, last, fault)
            return
        for s in range(first, last + 1):
            size = secs[s].size
            self._data[s] = self._erased.get(size) or self._erased_buf(size)
            if self._counts is not None:
                self._counts[s] = self._zero_buf(size // self._wu)
            self._owned.discard(s)
            if self._unstable:
                self._unstable.pop(s, None)
            if self._ecc_bad:
                self._ecc_bad.pop(s, None)
        self._trace_head = ((index, "erase", address, length, "", self._boots, None), self._trace_head)
        self._trace_len += 1

    def _torn_erase(self, index: int, first: int, last: int, fault: Fault) -> None:
        address = self._secs[first].offset
        length = self._secs[last].end - address
        old = self._get(address, length)
        erased = bytes([self._ev]) * length
        rng = self._rng(index, "tear")
        wu = self._wu
        assert fault.torn is not None
        if fault.torn is TornMode.BITS:
            o = int.from_bytes(old, "little")
            e = int.from_bytes(erased, "little")
            change = o ^ e
            result = (o ^ (change & rng.getrandbits(length * 8))).to_bytes(length, "little")
            self._put(address, result)
            if fault.unstable:
                self._mark_unstable(address, old, erased)
            if self.ecc_errors:  # units left neither old nor erased carry a broken ECC
                for u in range(0, length, wu):
                    if result[u:u + wu] not in (old[u:u + wu], erased[:wu]):
                        self._ecc_bad.setdefault(self._sector_index(address + u), set()).add(address + u)
            done = 0
        else:
            units = length // wu
            m = rng.randrange(units) if fault.torn is TornMode.PREFIX else units - 1
            done = m * wu
            self._put(address, erased[:done] + old[done:])
            if fault.unstable:
                self._mark_unstable(address + done, old[done:done + wu], erased[:wu])
            if self.ecc_errors:
                self._ecc_bad.setdefault(self._sector_index(address + done), set()).add(address + done)
        # fully erased units may be programmed again; everything else keeps its count
        if self._counts is not None and done:
            for s in range(first, last + 1):
                sec = self._secs[s]
                hi = min(sec.end, address + done)
                if hi > sec.offset:
                    self._own(s)
                    units = (hi - sec.offset) // wu
                    self._counts[s][0:units] = bytes(units)
        for s in range(first, last + 1):  # the erased prefix is clean again
            per = self._unstable.get(s)
            if per:
                for a in [a for a in per if a < address + done]:
                    del per[a]
            bad = self._ecc_bad.get(s)
            if bad:
                bad.difference_update([a for a in bad if a < address + done])
        self._finish_fault(index, "erase", address, length, fault, None)

    def _finish_fault(self, index: int, kind: str, address: int, length: int, fault: Fault,
                      data: bytes | None) -> None:
        if fault.action is Action.CUT:
            raise self._cut(index, kind, address, length, fault, data)
        self._record(index, kind, address, length, _label(fault), data)
        raise FlashDriverError(f"driver error on {kind} at {address:#x} (op {index})",
                               op_index=index, address=address)

    # --- reads with noise ---------------------------------------------------------------

    def _read_slow(self, address: int, out: bytes) -> bytes:
        length = len(out)
        sectors = self._sectors_in(address, length)
        if self.wear_mode == "read-errors" and self._endurance is not None:
            for s in sectors:
                if self._wear[s] >= self._endurance:
                    raise FlashWornError(f"read at {address:#x}: sector {s} is worn out",
                                         address=address, sector=s)
        if self._ecc_bad:
            first_unit = address // self._wu * self._wu
            for s in sectors:
                bad = self._ecc_bad.get(s)
                if bad and any(first_unit <= a < address + length for a in bad):
                    raise FlashEccError(f"read at {address:#x}: uncorrectable ECC error in a "
                                        f"write unit torn by a power cut", address=address)
        buf = None
        if self._unstable:
            for s in sectors:
                per = self._unstable.get(s)
                if not per:
                    continue
                end = address + length
                if length < len(per):  # iterate over whichever is smaller
                    hits = [(a, per[a]) for a in range(max(address, self._secs[s].offset),
                                                       min(end, self._secs[s].offset + self._secs[s].size))
                            if a in per]
                else:
                    hits = sorted((a, m) for a, m in per.items() if address <= a < end)
                if not hits:
                    continue
                if buf is None:
                    buf = bytearray(out)
                rng = self._rng(f"{self._ops}.{self._read_seq}", "noise")
                self._read_seq += 1
                noise = rng.getrandbits(8 * len(hits)).to_bytes(len(hits), "little")
                for (a, m), r in zip(hits, noise):
                    buf[a - address] ^= m & r
        for flip in self._plan.flips:
            lo, hi = max(address, flip.start), min(address + length, flip.end)
            if lo >= hi:
                continue
            rng = self._rng(f"{self._ops}.{self._read_seq}", "flip")
            self._read_seq += 1
            if rng.random() < flip.probability:
                if buf is None:
                    buf = bytearray(out)
                bit = rng.randrange((hi - lo) * 8)
                buf[lo - address + bit // 8] ^= 1 << (bit % 8)
        if self.trace_reads:
            self._record(-1, "read", address, length, "")
        return bytes(buf) if buf is not None else out

    # --- helpers ------------------------------------------------------------------------

    def _record(self, index: int, kind: str, address: int, length: int, fault: str,
                data: bytes | None = None) -> None:
        """Append to the trace (a persistent linked list of plain tuples: O(1), shareable)."""
        self._trace_head = ((index, kind, address, length, fault, self._boots,
                             data if self.trace_data else None), self._trace_head)
        self._trace_len += 1

    def _rng(self, index: int | str, purpose: str) -> random.Random:
        return random.Random(f"{self._plan.seed}:{purpose}:{index}")

    def _erased_run(self, n: int) -> bytes:
        """``n`` erased bytes (cached: most programs have a handful of lengths)."""
        run = self._runs.get(n)
        if run is None:
            if len(self._runs) > 64:
                self._runs.clear()
            run = self._runs[n] = bytes([self._ev]) * n
        return run

    def _erased_buf(self, size: int) -> bytearray:
        buf = self._erased.get(size)
        if buf is None:
            buf = self._erased[size] = bytearray([self._ev]) * size
        return buf

    def _zero_buf(self, size: int) -> bytearray:
        buf = self._zeros.get(size)
        if buf is None:
            buf = self._zeros[size] = bytearray(size)
        return buf

    def _own(self, si: int) -> bytearray:
        """The sector's buffer, copied first if it is shared with a snapshot (copy-on-write)."""
        if si not in self._owned:
            self.stats.sector_copies += 1
            self._data[si] = bytearray(self._data[si])
            if self._counts is not None:
                self._counts[si] = bytearray(self._counts[si])
            self._owned.add(si)
        return self._data[si]

    def _sector_index(self, address: int) -> int:
        if self._uniform and 0 <= address < self._size:
            return address // self._uniform
        return self.geometry.sector_index(address)

    def _sectors_in(self, address: int, length: int) -> range:
        if length <= 0:
            return range(0)
        u = self._uniform
        if u:
            return range(address // u, (address + length - 1) // u + 1)
        return range(self._sector_index(address), self._sector_index(address + length - 1) + 1)

    def _check_range(self, address: int, length: int) -> None:
        if address < 0 or length < 0 or address + length > self._size:
            raise FlashBoundsError(
                f"[{address:#x}, {address + length:#x}) outside flash [0, {self._size:#x})",
                address=address, length=length, size=self._size)

    def _get(self, address: int, length: int) -> bytes:
        """Stored bytes of a range (bounds already checked; any length >= 1)."""
        u = self._uniform
        if u:
            si = address // u
            end = address + length
            if end <= (si + 1) * u:  # one sector: one slice
                off = address - si * u
                return bytes(self._data[si][off:off + length])
            parts = [self._data[si][address - si * u:]]
            si += 1
            while (si + 1) * u <= end:
                parts.append(self._data[si])
                si += 1
            if si * u < end:
                parts.append(self._data[si][:end - si * u])
            return b"".join(parts)
        parts = []
        for s in self._sectors_in(address, length):
            sec = self._secs[s]
            lo = max(address, sec.offset) - sec.offset
            hi = min(address + length, sec.offset + sec.size) - sec.offset
            parts.append(self._data[s][lo:hi])
        return b"".join(parts)

    def _put(self, address: int, data: bytes) -> None:
        pos = 0
        for s in self._sectors_in(address, len(data)):
            sec = self._secs[s]
            lo = max(address, sec.offset) - sec.offset
            hi = min(address + len(data), sec.end) - sec.offset
            buf = self._own(s)
            buf[lo:hi] = data[pos:pos + hi - lo]
            pos += hi - lo

    def _unit_span(self, s: int, address: int, length: int) -> tuple[int, int]:
        """Write-unit indices ``[a, b)`` of sector s covered by ``[address, address+length)``."""
        sec = self._secs[s]
        lo = max(address, sec.offset) - sec.offset
        hi = min(address + length, sec.end) - sec.offset
        return lo // self._wu, max(lo, hi) // self._wu

    def _count(self, s: int, address: int, length: int, kind: str) -> None:
        """Bump the program counts of the units of ``[address, address+length)`` in sector s."""
        a, b = self._unit_span(s, address, length)
        if b <= a:
            return
        self._own(s)
        counts = self._counts[s]  # type: ignore[index]
        counts[a:b] = counts[a:b].translate(_INC)
        if kind == "rewrite":  # the driver only rewrote units that held data
            self._recount(s)

    def _recount(self, s: int) -> None:
        """Program count 1 for every unit that does not read erased, 0 otherwise."""
        data, wu, ev = self._data[s], self._wu, self._ev
        counts = self._counts[s]  # type: ignore[index]
        for u in range(len(counts)):
            counts[u] = 0 if data[u * wu:(u + 1) * wu].count(ev) == wu else 1

    def _settle(self, s: int, address: int, length: int) -> None:
        """Programming a unit settles its unstable bits (F3) and rewrites its ECC."""
        wu = self._wu
        lo = address // wu * wu
        hi = -(-(address + length) // wu) * wu
        per = self._unstable.get(s)
        if per:
            for a in [a for a in per if lo <= a < hi]:
                del per[a]
            if not per:
                del self._unstable[s]
        bad = self._ecc_bad.get(s)
        if bad:
            bad.difference_update([a for a in bad if lo <= a < hi])
            if not bad:
                del self._ecc_bad[s]

    def _mark_unstable(self, address: int, before: bytes, after: bytes) -> None:
        """The bits that differ between ``before`` and ``after`` at ``address`` become unstable."""
        for i, (x, y) in enumerate(zip(before, after)):
            if x != y:
                a = address + i
                per = self._unstable.setdefault(self._sector_index(a), {})
                per[a] = per.get(a, 0) | (x ^ y)
