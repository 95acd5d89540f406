"""Instruction-aware diff windows: relocated branches predicted from an address map (DELTA-FORMAT §4.3).

When code moves, every call into or out of the moved part changes its encoded offset, and the
plain byte-wise difference of those instructions is noise. With a branch transform, inside a
diff run the applier recognises branch instructions *in the source bytes*, computes the source
branch target, moves it through the patch's address map (old offset -> new offset, a short
piecewise-constant table), re-encodes the branch at its new place, and adds the patch's
difference to that *prediction* (as one 32-bit integer). A correctly predicted branch costs
four zero bytes, like unchanged code.

Kinds: Thumb-2 ``BL`` and ``B.W`` (encoding T4: ``11110 S imm10 | 1 x J1 1 J2 imm11``, any
alignment of the pair, target offset even) and AArch64 ``B``/``BL`` (``x00101 imm26``, 4-byte
aligned target offset). The diff of a run is processed in windows that end at the run's end or
at a target offset that is a multiple of :data:`WINDOW`; a transformed instruction never
crosses a window end, so every window can be decoded on its own.
"""

from __future__ import annotations

import bisect
import heapq
from array import array
import re
from collections.abc import Iterator, Sequence

TRANSFORM_THUMB2 = 1
TRANSFORM_AARCH64 = 2
TRANSFORM_NAMES = {0: "none", TRANSFORM_THUMB2: "thumb2-branch", TRANSFORM_AARCH64: "aarch64-branch"}
WINDOW = 512
"""Diff windows end at target offsets that are multiples of this."""
MASK32 = 0xFFFFFFFF

# Thumb-2 BL / B.W T4: byte 1 = 11110xxx, byte 3 has bits 7 and 4 set, bit 6 = bit 7 of 0xD0 or 0x90.
_THUMB = re.compile(rb"(?=[\x00-\xff][\xf0-\xf7][\x00-\xff][\x90-\x9f\xb0-\xbf\xd0-\xdf\xf0-\xff])",
                    re.DOTALL)
# AArch64 B / BL: top byte 000101xx or 100101xx (little-endian: the 4th byte).
_A64 = re.compile(rb"(?=[\x00-\xff]{3}[\x14-\x17\x94-\x97])", re.DOTALL)


def thumb_fields(b0: int, b1: int, b2: int, b3: int) -> tuple[int, int]:
    """``(opcode bits, signed 24-bit halfword offset)`` of a 4-byte pair (a bijection)."""
    hw1 = b0 | b1 << 8
    hw2 = b2 | b3 << 8
    s = (hw1 >> 10) & 1
    i1 = 1 - (((hw2 >> 13) & 1) ^ s)
    i2 = 1 - (((hw2 >> 11) & 1) ^ s)
    imm = (s << 23) | (i1 << 22) | (i2 << 21) | ((hw1 & 0x3FF) << 11) | (hw2 & 0x7FF)
    op = ((hw1 >> 11) << 3) | (((hw2 >> 14) & 3) << 1) | ((hw2 >> 12) & 1)
    return op, imm - (1 << 24) if imm & (1 << 23) else imm


def thumb_value(op: int, imm: int) -> int:
    return (op << 24) | (imm & 0xFFFFFF)


def thumb_bytes(value: int) -> bytes:
    """Inverse of :func:`thumb_fields` on ``thumb_value``."""
    op = value >> 24
    imm = value & 0xFFFFFF
    s = imm >> 23
    i1 = (imm >> 22) & 1
    i2 = (imm >> 21) & 1
    j1 = (1 - i1) ^ s
    j2 = (1 - i2) ^ s
    hw1 = ((op >> 3) << 11) | (s << 10) | ((imm >> 11) & 0x3FF)
    hw2 = (((op >> 1) & 3) << 14) | (j1 << 13) | ((op & 1) << 12) | (j2 << 11) | (imm & 0x7FF)
    return bytes((hw1 & 0xFF, hw1 >> 8, hw2 & 0xFF, hw2 >> 8))


class AddressMap:
    """Old image offset -> predicted new offset: ``a + delta[i]`` for the last ``start[i] <= a``
    (identity before the first entry)."""

    __slots__ = ("starts", "deltas")

    def __init__(self, starts: Sequence[int], deltas: Sequence[int]) -> None:
        # Packed 32-bit arrays: 8 bytes per entry, as the RAM figure declares (§2.4).
        self.starts = array("I", starts)
        self.deltas = array("i", deltas)

    def __len__(self) -> int:
        return len(self.starts)

    def __call__(self, address: int) -> int:
        i = bisect.bisect_right(self.starts, address) - 1
        return address + (self.deltas[i] if i >= 0 else 0)


def _pointer_regex(base: int, size: int) -> re.Pattern[bytes]:
    """A byte pattern matching (at least) every little-endian word in ``[base, base + size)``:
    one ``[byte 2 range][byte 3]`` alternative per distinct top byte."""
    lo, hi = base >> 16, (base + max(size, 1) - 1) >> 16
    alts = []
    for top in range(lo >> 8, (hi >> 8) + 1):
        first = max(lo, top << 8) & 0xFF
        last = min(hi, (top << 8) | 0xFF) & 0xFF
        alts.append(b"[" + re.escape(bytes((first,))) + b"-" + re.escape(bytes((last,))) + b"]"
                    + re.escape(bytes((top,))))
        if len(alts) > 4:  # a huge range: test every word
            return re.compile(rb"(?=[\x00-\xff]{4})", re.DOTALL)
    return re.compile(rb"(?=[\x00-\xff]{2}(?:" + b"|".join(alts) + rb"))", re.DOTALL)


class Sites:
    """Finds transform sites in a window: ``(offset, is_pointer)`` (§4.3 scan rule)."""

    def __init__(self, kind: int, pointer_base: int | None, source_size: int) -> None:
        self.kind = kind
        self.base = pointer_base
        self.limit = (pointer_base or 0) + source_size
        self.pointers = (_pointer_regex(pointer_base, source_size)
                         if pointer_base is not None and kind == TRANSFORM_THUMB2 else None)

    def find(self, source: bytes, target_start: int) -> Iterator[tuple[int, bool]]:
        """Sites in scan order (lazily: no per-window candidate table is built)."""
        n = len(source)
        if self.kind == TRANSFORM_AARCH64:
            for m in _A64.finditer(source):
                i = m.start()
                if i + 4 <= n and not (target_start + i) & 3:
                    yield i, False
            return
        branches = ((m.start(), False) for m in _THUMB.finditer(source))
        if self.pointers is None:
            candidates: Iterator[tuple[int, bool]] = branches
        else:
            base, limit = self.base, self.limit
            pointers = ((m.start(), True) for m in self.pointers.finditer(source)
                        if not (target_start + m.start()) & 3 and m.start() + 4 <= n
                        and base <= int.from_bytes(source[m.start() : m.start() + 4], "little") < limit)
            candidates = heapq.merge(branches, pointers)  # a branch wins a tie: False < True
        nxt = 0
        for i, ptr in candidates:
            if i < nxt or i + 4 > n or (target_start + i) & 1:
                continue
            yield i, ptr
            nxt = i + 4


def predict(kind: int, src4: bytes, source_pos: int, target_pos: int, amap: AddressMap,
            pointer: bool = False, base: int = 0) -> int:
    """The predicted 32-bit value of the target instruction (or pointer) at ``target_pos``."""
    if pointer:
        value = int.from_bytes(src4, "little")
        return (amap(value - base) + base) & MASK32
    if kind == TRANSFORM_THUMB2:
        op, imm = thumb_fields(src4[0], src4[1], src4[2], src4[3])
        dest = amap(source_pos + 4 + 2 * imm)
        return thumb_value(op, (dest - target_pos - 4) >> 1)
    word = int.from_bytes(src4, "little")
    imm = word & 0x3FFFFFF
    if imm & (1 << 25):
        imm -= 1 << 26
    dest = amap(source_pos + 4 * imm)
    return (word & 0xFC000000) | (((dest - target_pos) >> 2) & 0x3FFFFFF)


def value_of(kind: int, four: bytes, pointer: bool = False) -> int:
    if kind == TRANSFORM_THUMB2 and not pointer:
        op, imm = thumb_fields(four[0], four[1], four[2], four[3])
        return thumb_value(op, imm)
    return int.from_bytes(four, "little")


def bytes_of(kind: int, value: int, pointer: bool = False) -> bytes:
    if kind == TRANSFORM_THUMB2 and not pointer:
        return thumb_bytes(value & MASK32)
    return (value & MASK32).to_bytes(4, "little")


def encode_window(sites: Sites, diff: bytearray, source: bytes, target: bytes, source_pos: int,
                  target_pos: int, amap: AddressMap) -> None:
    """Creator: replace the plain differences of every site by ``target - prediction``."""
    kind, base = sites.kind, sites.base or 0
    for i, ptr in sites.find(source, target_pos):
        pred = predict(kind, source[i : i + 4], source_pos + i, target_pos + i, amap, ptr, base)
        actual = value_of(kind, target[i : i + 4], ptr)
        diff[i : i + 4] = ((actual - pred) & MASK32).to_bytes(4, "little")


def decode_window(sites: Sites, out: bytearray, diff: bytes | memoryview, source: bytes,
                  source_pos: int, target_pos: int, amap: AddressMap) -> None:
    """Applier: ``out`` holds ``source + diff`` byte-wise; fix every site from its prediction.

    The same arithmetic as :func:`predict` / :func:`bytes_of`, inlined: this loop runs once per
    branch or pointer of the image.
    """
    kind, base = sites.kind, sites.base or 0
    starts, deltas = amap.starts, amap.deltas
    bisect_right = bisect.bisect_right
    from_bytes = int.from_bytes
    for i, ptr in sites.find(source, target_pos):
        d = from_bytes(diff[i : i + 4], "little")
        if ptr:
            value = from_bytes(source[i : i + 4], "little") - base
            k = bisect_right(starts, value) - 1
            out[i : i + 4] = ((value + (deltas[k] if k >= 0 else 0) + base + d)
                              & MASK32).to_bytes(4, "little")
            continue
        if kind != TRANSFORM_THUMB2:
            pred = predict(kind, source[i : i + 4], source_pos + i, target_pos + i, amap)
            out[i : i + 4] = ((pred + d) & MASK32).to_bytes(4, "little")
            continue
        b0, b1, b2, b3 = source[i], source[i + 1], source[i + 2], source[i + 3]
        hw1 = b0 | b1 << 8
        hw2 = b2 | b3 << 8
        s_ = (hw1 >> 10) & 1
        imm = ((s_ << 23) | ((1 - (((hw2 >> 13) & 1) ^ s_)) << 22)
               | ((1 - (((hw2 >> 11) & 1) ^ s_)) << 21) | ((hw1 & 0x3FF) << 11) | (hw2 & 0x7FF))
        if imm & 0x800000:
            imm -= 0x1000000
        dest = source_pos + i + 4 + 2 * imm
        k = bisect_right(starts, dest) - 1
        dest += deltas[k] if k >= 0 else 0
        op = ((hw1 >> 11) << 3) | (((hw2 >> 14) & 3) << 1) | ((hw2 >> 12) & 1)
        value = (((op << 24) | (((dest - target_pos - i - 4) >> 1) & 0xFFFFFF)) + d) & MASK32
        op = value >> 24
        imm = value & 0xFFFFFF
        s_ = imm >> 23
        hw1 = ((op >> 3) << 11) | (s_ << 10) | ((imm >> 11) & 0x3FF)
        hw2 = ((((op >> 1) & 3) << 14) | ((((imm >> 22) & 1) ^ 1 ^ s_) << 13) | ((op & 1) << 12)
               | ((((imm >> 21) & 1) ^ 1 ^ s_) << 11) | (imm & 0x7FF))
        out[i : i + 4] = bytes((hw1 & 0xFF, hw1 >> 8, hw2 & 0xFF, hw2 >> 8))


class MapDecoder:
    """Incremental decoder of the address-map section (§4.3): ``entries`` pairs of
    ``varint(start gap)``, ``zigzag varint(delta change)``. Same ``feed``/``done`` shape as a
    chunk decoder."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self.starts = array("I")
        self.deltas = array("i")
        self._pending = b""

    @property
    def done(self) -> bool:
        return len(self.starts) == self.entries

    def feed(self, data: bytes | memoryview) -> None:
        from suitlib.delta.errors import DeltaFormatError
        from suitlib.delta.format import decode_varint, unzigzag

        buf = self._pending + bytes(data)
        pos = 0
        while pos < len(buf):
            if self.done:
                raise DeltaFormatError("address map: data after its last entry")
            a = decode_varint(buf, pos)
            b = decode_varint(buf, a[1]) if a is not None else None
            if a is None or b is None:
                break
            gap, change = a[0], unzigzag(b[0])
            if self.starts and gap == 0:
                raise DeltaFormatError("address map: starts are not increasing")
            start = (self.starts[-1] if self.starts else 0) + gap
            delta = (self.deltas[-1] if self.deltas else 0) + change
            if start >= 1 << 32 or abs(delta) >= 1 << 31:
                raise DeltaFormatError("address map: entry out of range")
            self.starts.append(start)
            self.deltas.append(delta)
            pos = b[1]
        self._pending = buf[pos:]
        if len(self._pending) > 20:
            raise DeltaFormatError("address map: malformed entry")

    @property
    def produced(self) -> int:
        return len(self.starts)

    @property
    def length(self) -> int:
        return self.entries

    def result(self) -> AddressMap:
        return AddressMap(self.starts, self.deltas)


def encode_map(amap: AddressMap) -> bytes:
    """Creator side of :class:`MapDecoder`."""
    from suitlib.delta.format import encode_varint, zigzag

    out = bytearray()
    prev_start = prev_delta = 0
    for start, delta in zip(amap.starts, amap.deltas):
        out += encode_varint(start - prev_start) + encode_varint(zigzag(delta - prev_delta))
        prev_start, prev_delta = start, delta
    return bytes(out)


def sites_for(header: "PatchHeader") -> Sites | None:  # noqa: F821 - avoids an import cycle
    """The site finder a patch header asks for (None: no transform)."""
    if not header.transform:
        return None
    return Sites(header.transform, header.pointer_base, header.source_size)
