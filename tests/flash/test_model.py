"""Random operation sequences against a plain reference model (a bytearray with NOR semantics).

With no fault planned the emulator must agree with the model byte for byte, on uniform and
non-uniform maps, both erase values, several write units, across snapshots and restores.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from suitlib.errors import FlashError
from suitlib.flash import FlashAlignmentError, FlashBoundsError, FlashEmulator, FlashWriteRuleError, Geometry


class Model:
    """The simplest possible NOR: one bytearray, per-byte loops, no cleverness."""

    def __init__(self, sizes: list[int], wu: int, ev: int, strict: bool, limit: int | None) -> None:
        self.bounds, pos = [], 0
        for size in sizes:
            self.bounds.append((pos, pos + size))
            pos += size
        self.mem = bytearray([ev]) * pos
        self.count = [0] * pos  # programs per byte's unit
        self.wu, self.ev, self.strict, self.limit = wu, ev, strict, limit

    def program(self, address: int, data: bytes) -> None:
        if address < 0 or address + len(data) > len(self.mem):
            raise FlashBoundsError("oob")
        if address % self.wu or len(data) % self.wu:
            raise FlashAlignmentError("align")
        if not data:
            return
        new = [(m & d) if self.ev == 0xFF else (m | d)
               for m, d in zip(self.mem[address:address + len(data)], data)]
        if self.strict and bytes(new) != data:
            raise FlashWriteRuleError("strict")
        if self.limit is not None and max(self.count[address:address + len(data)]) >= self.limit:
            raise FlashWriteRuleError("limit")
        for i, v in enumerate(new):
            self.mem[address + i] = v
            self.count[address + i] += 1

    def erase(self, address: int, length: int) -> None:
        if length == 0 and 0 <= address <= len(self.mem):
            return
        if address < 0 or length < 0 or address + length > len(self.mem) or address >= len(self.mem):
            raise FlashBoundsError("oob")
        starts = {a for a, _ in self.bounds}
        ends = {b for _, b in self.bounds}
        if address not in starts or address + length not in ends:
            raise FlashAlignmentError("align")
        for i in range(address, address + length):
            self.mem[i] = self.ev
            self.count[i] = 0


geometries = st.tuples(
    st.sampled_from([[256] * 8, [128, 128, 256, 512], [64] * 3 + [192] + [512] * 2]),
    st.sampled_from([1, 4, 8, 16]),
    st.sampled_from([0xFF, 0x00]),
    st.booleans(),
    st.sampled_from([None, 1, 2]),
)

op = st.one_of(
    st.tuples(st.just("program"), st.integers(-8, 1100), st.binary(max_size=80)),
    st.tuples(st.just("program_aligned"), st.integers(0, 140), st.integers(1, 6), st.integers(0, 255)),
    st.tuples(st.just("program_aligned"), st.integers(0, 6), st.integers(1, 4), st.integers(0, 255)),
    st.tuples(st.just("erase"), st.integers(-1, 12), st.integers(0, 3)),
    st.tuples(st.just("read"), st.integers(-4, 1100), st.integers(0, 600)),
    st.tuples(st.just("snapshot"),),
    st.tuples(st.just("restore"), st.integers(0, 5)),
)


@given(geometries, st.lists(op, max_size=40))
def test_emulator_agrees_with_the_reference_model(geom, ops) -> None:  # type: ignore[no-untyped-def]
    sizes, wu, ev, strict, limit = geom
    if any(s % wu for s in sizes):
        return
    flash = FlashEmulator(Geometry.from_sizes(sizes, write_unit=wu, erase_value=ev, program_limit=limit),
                          nor_rule="strict" if strict else "and")
    model = Model(sizes, wu, ev, strict, limit)
    snaps: list[tuple[object, bytes, list[int]]] = []
    for o in ops:
        if o[0] in ("program", "program_aligned"):
            if o[0] == "program":
                address, data = o[1], o[2]
            else:
                address, data = o[1] * wu, bytes([(o[3] * (i + 1)) % 256 for i in range(o[2] * wu)])
            expect = got = None
            try:
                model.program(address, data)
            except FlashError as exc:
                expect = type(exc)
            try:
                flash.program(address, data)
            except FlashError as exc:
                got = type(exc)
            assert got is expect, (o, got, expect)
        elif o[0] == "erase":
            starts = [0] + [sum(sizes[:i + 1]) for i in range(len(sizes))]
            first = min(max(o[1], 0), len(starts) - 1)
            address = starts[first] if o[1] >= 0 else 3  # also a misaligned one
            end = starts[min(first + o[2], len(starts) - 1)] if o[2] else address
            expect = got = None
            try:
                model.erase(address, end - address)
            except FlashError as exc:
                expect = type(exc)
            try:
                flash.erase(address, end - address)
            except FlashError as exc:
                got = type(exc)
            assert got is expect, (o, got, expect)
        elif o[0] == "read":
            address, length = o[1], o[2]
            if address < 0 or address + length > len(model.mem):
                try:
                    flash.read(address, length)
                except FlashBoundsError:
                    continue
                raise AssertionError("out-of-bounds read accepted")
            assert flash.read(address, length) == bytes(model.mem[address:address + length])
        elif o[0] == "snapshot":
            snaps.append((flash.snapshot(), bytes(model.mem), list(model.count)))
        elif snaps:
            snap, mem, count = snaps[o[1] % len(snaps)]
            flash.restore(snap)  # type: ignore[arg-type]
            model.mem, model.count = bytearray(mem), list(count)
        assert flash.dump() == bytes(model.mem)
