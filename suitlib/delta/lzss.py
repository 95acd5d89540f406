"""LZSS, the lowest-RAM compression of a patch section (specs/DELTA-FORMAT.md §3.1, compression 2).

A heatshrink-class coder: a bit stream of literals and back-references into the last
``2**window_log2`` bytes of output (256 B .. 4 KiB), so a decoder needs the window and a few
bytes of state. Unlike heatshrink's fixed-width count, match lengths are Elias-gamma coded, so
the long runs of zero differences of a firmware diff cost a few bits instead of one token per
16 bytes.

```
section = token* pad                      bits packed MSB-first, pad = 0..7 zero bits
token   = "1" byte[8]                     literal
        | "0" (distance - 1)[w] gamma(length - 1)
gamma(v), v >= 1 = z zero bits, then v in z + 1 bits (its leading bit is 1), z <= 16
```

``length >= 2`` and ``1 <= distance <= min(2**w, bytes produced so far in this section)``;
a match may overlap its own output (distance < length repeats a pattern).
"""

from __future__ import annotations

from collections.abc import Iterator

from suitlib.delta.errors import DeltaFormatError

MIN_WINDOW_LOG2 = 8
MAX_WINDOW_LOG2 = 12
MIN_MATCH = 2
MAX_GAMMA_ZEROS = 16
MAX_MATCH = 1 << (MAX_GAMMA_ZEROS + 1)
"""gamma(v) with z <= 16 codes v < 2**17, so length = v + 1 <= 2**17."""
INPUT_SLICE = 64
"""Input bytes turned into bits at a time (bounds the host decoder's own buffers)."""
LZSS_DECODER_STATE = 32
"""Bit buffer, pending match (distance, length left), window position (bytes, rounded up)."""


def _gamma(v: int) -> str:
    b = format(v, "b")
    return "0" * (len(b) - 1) + b


def compress(data: bytes, window_log2: int) -> bytes:
    """Greedy LZSS with one step of lazy matching; the longest match at each position is found
    by galloping ``rfind`` over the window (C speed, no per-byte Python work in long runs)."""
    if not MIN_WINDOW_LOG2 <= window_log2 <= MAX_WINDOW_LOG2:
        raise ValueError("LZSS window must be 2^8 .. 2^12 bytes")
    window = 1 << window_log2
    dist_fmt = "0" + str(window_log2) + "b"
    n = len(data)
    out: list[str] = []
    pos = 0

    def longest(p: int) -> tuple[int, int]:
        """(length, distance) of the longest match at ``p`` (length 0: none)."""
        if p + MIN_MATCH > n or p == 0:
            return 0, 0
        lo = max(0, p - window)
        best_len, best_at = 0, -1
        length = MIN_MATCH
        limit = min(MAX_MATCH, n - p)
        while length <= limit:
            at = data.rfind(data[p : p + length], lo, p + length - 1)
            if at < 0:
                break
            best_len, best_at = length, at
            if length == limit:
                break
            length = min(limit, length * 2)
        if best_len == 0:
            return 0, 0
        # Binary search between the last length found and the one that failed.
        hi = length if length > best_len else best_len
        if hi != best_len:
            lo_len = best_len
            while hi - lo_len > 1:
                mid = (lo_len + hi) // 2
                at = data.rfind(data[p : p + mid], lo, p + mid - 1)
                if at < 0:
                    hi = mid
                else:
                    lo_len, best_at = mid, at
            best_len = lo_len
        return best_len, p - best_at

    cur = longest(0)
    while pos < n:
        length, dist = cur
        if length >= MIN_MATCH:
            nxt = longest(pos + 1) if length < 64 else (0, 0)
            if nxt[0] > length + 1:  # lazy: a literal now buys a longer match next
                out.append("1" + format(data[pos], "08b"))
                pos += 1
                cur = nxt
                continue
            out.append("0" + format(dist - 1, dist_fmt) + _gamma(length - 1))
            pos += length
        else:
            out.append("1" + format(data[pos], "08b"))
            pos += 1
        cur = longest(pos)
    bits = "".join(out)
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""


class LzssDecoder:
    """Incremental decoder of one section (see the module docstring).

    :meth:`feed` yields the output in pieces of at most ``piece`` bytes; :meth:`finish`
    checks that the section ended on a token boundary (only zero padding left). On a device
    the history is a ``2**w``-byte ring that output is also taken from; here a bytearray
    trimmed to the window plus what is not yet handed out.
    """

    def __init__(self, window_log2: int, piece: int = 1024) -> None:
        self.w = window_log2
        self.window = 1 << window_log2
        self.piece = piece
        self.hist = bytearray()
        self.produced = 0
        self._unsent = 0
        self._bits = ""

    def feed(self, data: bytes | memoryview) -> Iterator[bytes]:
        """Decode the next section bytes (any split)."""
        for pos in range(0, len(data), INPUT_SLICE):
            yield from self._feed(data[pos : pos + INPUT_SLICE])
        if self._unsent:
            yield self._take(self._unsent)

    def _take(self, n: int) -> bytes:
        hist = self.hist
        start = len(hist) - self._unsent
        out = bytes(hist[start : start + n])
        self._unsent -= n
        keep = self.window + self._unsent
        if len(hist) > keep + 2 * self.window:
            del hist[: len(hist) - keep]
        return out

    def _feed(self, data: bytes | memoryview) -> Iterator[bytes]:
        self._bits += format(int.from_bytes(data, "big"), "0" + str(8 * len(data)) + "b")
        bits = self._bits
        n = len(bits)
        p = 0
        w = self.w
        hist = self.hist
        piece = self.piece
        try:
            while p < n:
                if bits[p] == "1":
                    if p + 9 > n:
                        break
                    hist.append(int(bits[p + 1 : p + 9], 2))
                    p += 9
                    self.produced += 1
                    self._unsent += 1
                    if self._unsent >= piece:
                        yield self._take(piece)
                    continue
                one = bits.find("1", p + 1 + w)
                if one < 0:
                    if n - (p + 1 + w) > MAX_GAMMA_ZEROS:
                        raise DeltaFormatError("LZSS: match length code too long")
                    break
                z = one - (p + 1 + w)
                if z > MAX_GAMMA_ZEROS:
                    raise DeltaFormatError("LZSS: match length code too long")
                end = one + z + 1
                if end > n:
                    break
                dist = int(bits[p + 1 : p + 1 + w], 2) + 1
                length = int(bits[one:end], 2) + 1
                p = end
                if dist > min(self.window, self.produced):
                    raise DeltaFormatError("LZSS: match reaches before the start of the section")
                while length:
                    take = min(length, piece)
                    start = len(hist) - dist
                    if dist >= take:
                        hist += hist[start : start + take]
                    else:
                        hist += (hist[start:] * (take // dist + 1))[:take]
                    length -= take
                    self.produced += take
                    self._unsent += take
                    while self._unsent >= piece:
                        yield self._take(piece)
        finally:
            self._bits = bits[p:]

    def finish(self) -> None:
        """The section has ended: only 0-7 zero padding bits may be left."""
        if len(self._bits) >= 8 or "1" in self._bits:
            raise DeltaFormatError("LZSS: section ends inside a token")
