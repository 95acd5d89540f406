"""The decompressed body stream of one chunk, decoded incrementally (specs/DELTA-FORMAT.md §4).

A chunk's stream is ``old_pos`` followed by commands ``(diff_len, extra_len, seek)``; a command
emits ``diff_len`` bytes ``source[old_pos + i] + diff[i] (mod 256)`` then ``extra_len`` literal
bytes, then moves ``old_pos`` by ``diff_len + seek``. :class:`ChunkDecoder` is sans-I/O: it is
given decompressed bytes and two callables (read source, emit target) and keeps at most one
partial command header (< 32 bytes) between calls.
"""

from __future__ import annotations

from collections.abc import Callable

from suitlib.delta.errors import DeltaFormatError
from suitlib.delta.format import SOURCE_BUFFER, InPlacePlan, decode_varint, unzigzag
from suitlib.delta.transform import WINDOW, AddressMap, Sites, decode_window

ReadSource = Callable[[int, int], bytes]
EmitTarget = Callable[[bytes | memoryview], None]

_OLD_POS, _CTRL, _DIFF, _EXTRA, _DONE = range(5)


_LOW = int.from_bytes(b"\x7f" * SOURCE_BUFFER, "little")
_HIGH = _LOW << 1 & int.from_bytes(b"\x80" * SOURCE_BUFFER, "little")


def add_bytes(a: bytes | memoryview, b: bytes | memoryview) -> bytes:
    """Byte-wise ``(a[i] + b[i]) mod 256`` without a per-byte loop (SWAR on big integers)."""
    n = len(a)
    if n == 0:
        return b""
    if n <= SOURCE_BUFFER:
        cut = 8 * (SOURCE_BUFFER - n)
        low, high = _LOW >> cut, _HIGH >> cut
    else:
        low = int.from_bytes(b"\x7f" * n, "little")
        high = int.from_bytes(b"\x80" * n, "little")
    x = int.from_bytes(a, "little")
    y = int.from_bytes(b, "little")
    s = ((x & low) + (y & low)) ^ ((x ^ y) & high)
    return s.to_bytes(n, "little")


def sub_bytes(a: bytes, b: bytes) -> bytes:
    """Byte-wise ``(a[i] - b[i]) mod 256`` (the creator's inverse of :func:`add_bytes`)."""
    neg = bytes(b).translate(_NEGATE)
    return add_bytes(a, neg)


_NEGATE = bytes((-i) & 0xFF for i in range(256))


class ChunkDecoder:
    """Decode one chunk's command stream into target bytes.

    ``length`` target bytes must be produced exactly. Source reads are bounded to the source,
    and for in-place patches to what the segment plan leaves intact (§5.2); anything else is a
    :class:`DeltaFormatError`. Output before
    target offset ``skip`` (relative to the chunk) is counted but neither read nor emitted, which
    is how a resumed apply fast-forwards through a chunk.
    """

    def __init__(self, *, length: int, source_size: int, read: ReadSource, emit: EmitTarget,
                 skip: int = 0, chunk_index: int = 0, target_base: int = 0,
                 plan: InPlacePlan | None = None, sites: Sites | None = None,
                 amap: AddressMap | None = None) -> None:
        self.length = length
        self.sites = sites
        self.amap = amap if amap is not None else AddressMap((), ())
        self._win = bytearray()
        self._win_len = 0
        self.target_base = target_base
        self.plan = plan
        self.source_size = source_size
        self.read = read
        self.emit = emit
        self.skip = skip
        self.chunk_index = chunk_index
        self.produced = 0
        self.old_pos = 0
        self._state = _OLD_POS
        self._pending = b""
        self._diff_left = 0
        self._extra_left = 0
        self._seek = 0

    @property
    def done(self) -> bool:
        return self._state == _DONE

    def _fail(self, message: str) -> DeltaFormatError:
        return DeltaFormatError(f"chunk {self.chunk_index}: {message}", chunk=self.chunk_index,
                                target_offset=self.produced)

    def feed(self, data: bytes | memoryview) -> None:
        """Consume decompressed stream bytes (any split)."""
        raw = self._pending + bytes(data) if self._pending else data
        self._pending = b""
        buf = memoryview(raw)
        pos = 0
        end = len(buf)
        while pos < end:
            state = self._state
            if state == _DIFF:
                n = min(self._diff_left, end - pos)
                self._diff(buf[pos : pos + n])
                pos += n
                if not self._diff_left:
                    self._after_diff()
            elif state == _EXTRA:
                n = min(self._extra_left, end - pos)
                self._out(buf[pos : pos + n])
                pos += n
                self._extra_left -= n
                if not self._extra_left:
                    self._after_extra()
            elif state == _CTRL:
                got = self._ctrl(buf, pos)
                if got is None:
                    self._pending = bytes(buf[pos:])
                    return
                pos = got
            elif state == _OLD_POS:
                got = decode_varint(buf, pos)
                if got is None:
                    self._pending = bytes(buf[pos:])
                    return
                self.old_pos, pos = got
                if self.old_pos > self.source_size:
                    raise self._fail("start position beyond the source")
                self._state = _CTRL if self.length else _DONE
            else:
                raise self._fail("data after the end of the chunk")

    def _ctrl(self, buf: memoryview, pos: int) -> int | None:
        a = decode_varint(buf, pos)
        if a is None:
            return None
        b = decode_varint(buf, a[1])
        if b is None:
            return None
        c = decode_varint(buf, b[1])
        if c is None:
            return None
        diff_len, extra_len, seek = a[0], b[0], unzigzag(c[0])
        left = self.length - self.produced
        if diff_len + extra_len > left:
            raise self._fail("command produces more than the chunk holds")
        if diff_len:
            if self.old_pos + diff_len > self.source_size:
                raise self._fail("diff reads beyond the end of the source")
            plan = self.plan
            if plan is not None:
                t = self.target_base + self.produced
                seg = t // plan.segment_size
                if self.old_pos < plan.source_floor(seg) or (
                        (t + diff_len - 1) // plan.segment_size != seg
                        and self.old_pos - t < plan.segment_size - plan.shift):
                    raise self._fail("diff reads source already overwritten in place")
        new_pos = self.old_pos + diff_len + seek
        if not 0 <= new_pos <= self.source_size:
            raise self._fail("seek outside the source")
        if diff_len + extra_len == 0 and left:
            raise self._fail("empty command")
        self._diff_left, self._extra_left, self._seek = diff_len, extra_len, seek
        self._state = _DIFF
        if not diff_len:
            self._after_diff()
        return c[1]

    def _after_diff(self) -> None:
        self._state = _EXTRA
        if not self._extra_left:
            self._after_extra()

    def _after_extra(self) -> None:
        self.old_pos += self._seek
        self._state = _DONE if self.produced == self.length else _CTRL

    def _diff(self, piece: memoryview) -> None:
        """Collect diff bytes into windows (§4.3) and apply each window when it is complete."""
        pos = 0
        n = len(piece)
        while pos < n:
            if not self._win_len:
                start = self.target_base + self.produced
                self._win_len = min(self._diff_left, WINDOW - start % WINDOW)
            take = min(self._win_len - len(self._win), n - pos)
            self._win += piece[pos : pos + take]
            pos += take
            self._diff_left -= take
            if len(self._win) == self._win_len:
                self._apply_window()

    def _apply_window(self) -> None:
        win = self._win
        m = len(win)
        source_pos = self.old_pos
        self.old_pos += m
        self._win_len = 0
        if self.produced + m <= self.skip:
            self.produced += m
            win.clear()
            return
        source = self.read(source_pos, m)
        out = bytearray(add_bytes(source, win))
        if self.sites is not None:
            decode_window(self.sites, out, win, source, source_pos,
                          self.target_base + self.produced, self.amap)
        k = max(0, self.skip - self.produced)
        self.emit(memoryview(out)[k:])
        self.produced += m
        win.clear()

    def _out(self, data: memoryview) -> None:
        n = len(data)
        if self.produced + n <= self.skip:
            self.produced += n
            return
        if self.produced < self.skip:
            k = self.skip - self.produced
            self.produced += k
            data = data[k:]
        self.emit(data)
        self.produced += len(data)
