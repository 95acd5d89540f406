"""Self-checking flash records and append-only logs (specs/FLASH-LAYOUT.md §Records, §Logs).

A *record* fills one record unit (``unit`` bytes, a multiple of the device write unit and at
least 8). Its codeword stores every payload nibble next to its complement (a balanced code:
in every byte exactly four bits differ from the erased value), repeated to fill the unit.
Consequences:

- an erased unit never decodes (its two halves are not complements);
- a torn program lands only a subset of the bits that should change, so it can read as the
  erased value, as garbage, or, if every bit landed, as the exact record — never as another
  valid record (no codeword's changed bits are a strict subset of another's);
- a torn write unit always holds four or more unstable bits (F3), so it reads as the exact
  record on ``reads`` consecutive reads with probability at most ``2**(-4 * reads)``;
- a unit is read ``reads`` times (15 more when they disagree); it is a record only if the reads
  settle on one codeword (see :func:`majority`).

A *log* is an area of record units appended in order, each programmed once per erase. After a
reset the writer skips one unit past the last unit that reads non-erased (the "guard unit"), so a
unit whose program was cut before any bit landed — erased-looking but already programmed once on
write-once/ECC parts — is never programmed again.
"""

from __future__ import annotations

from dataclasses import dataclass

from suitlib.bootloader.errors import LogFullError
from suitlib.flash.errors import FlashWriteRuleError
from suitlib.flash.interface import FlashDevice

PAYLOAD_SIZE = 4  # bytes of payload in a trailer record: kind (1) + argument (3)


def record_unit(flash: FlashDevice, payload_size: int = PAYLOAD_SIZE) -> int:
    """The record unit of a device: whole write units holding one codeword (2 × payload)."""
    wu = flash.write_unit
    return wu * max(1, -(-2 * payload_size // wu))


def _balanced(b: int) -> bytes:
    """One payload byte as two bytes, each holding a nibble and its complement."""
    hi, lo = b >> 4, b & 0xF
    return bytes(((hi << 4) | (hi ^ 0xF), (lo << 4) | (lo ^ 0xF)))


_BALANCED = [_balanced(b) for b in range(256)]
_UNBALANCED = {b << 4 | (b ^ 0xF): b for b in range(16)}


def encode(payload: bytes, unit: int, erase_value: int) -> bytes:
    """The codeword of ``payload`` filling ``unit`` bytes.

    Every byte holds a nibble and its complement, so every byte — hence every write unit, of
    any size — has exactly four bits that differ from the erased value (0x00 or 0xFF).
    """
    word = b"".join(_BALANCED[b] for b in payload)
    reps = -(-unit // len(word))
    return (word * reps)[:unit]


_DECODED: dict[tuple[bytes, int, int], bytes | None] = {}


def decode(raw: bytes, payload_size: int, erase_value: int) -> bytes | None:
    """The payload if ``raw`` is exactly a codeword, else ``None`` (memoised: a pure function
    of its arguments)."""
    key = (raw, payload_size, erase_value)
    hit = _DECODED.get(key, key)
    if hit is not key:
        return hit  # type: ignore[return-value]
    if len(_DECODED) > 4096:
        _DECODED.clear()
    out = _decode(raw, payload_size, erase_value)
    _DECODED[key] = out
    return out


def _decode(raw: bytes, payload_size: int, erase_value: int) -> bytes | None:
    word_len = 2 * payload_size
    word = raw[:word_len]
    if len(raw) < word_len or (word * (-(-len(raw) // word_len)))[:len(raw)] != raw:
        return None
    out = bytearray()
    for i in range(0, word_len, 2):
        hi, lo = _UNBALANCED.get(word[i]), _UNBALANCED.get(word[i + 1])
        if hi is None or lo is None:
            return None
        out.append(hi << 4 | lo)
    return bytes(out)


EXTRA_READS = 15


AGREEMENT_BITS = 32  # unstable bits that must all read right, over all reads, to fool a reader


def read_agreed(flash: FlashDevice, offset: int, length: int, reads: int) -> list[bytes]:
    """``reads`` reads of a range — more on parts with small write units, so that a torn unit
    (at least 4 unstable bits per byte of write unit) reads the same exact value every time with
    probability at most 2**-AGREEMENT_BITS — plus :data:`EXTRA_READS` more if they disagree (a
    transient read error is then outvoted; unstable torn bits never reach a majority)."""
    reads = max(1, reads, -(-AGREEMENT_BITS // (4 * flash.write_unit)))
    images = [flash.read(offset, length) for _ in range(reads)]
    if any(img != images[0] for img in images[1:]):
        images += [flash.read(offset, length) for _ in range(EXTRA_READS)]
    return images


def majority(raws: list[bytes]) -> bytes | None:
    """The value that at least two thirds of the reads agree on, else ``None``.

    Torn cells left unstable (F3) take a fresh random value on every read, so a torn unit never
    reaches the threshold; a rare transient read error (F7) is outvoted.
    """
    first = raws[0]
    if all(r == first for r in raws[1:]):
        return first
    best = max(set(raws), key=raws.count)
    return best if 3 * raws.count(best) >= 2 * len(raws) else None


@dataclass(frozen=True)
class LogEntry:
    """One unit of a log as read: its index and payload (``None``: torn or garbage)."""

    index: int
    payload: bytes | None


_ENTRIES: dict[tuple[bytes, int, int, int], tuple[LogEntry, ...]] = {}


class Log:
    """An append-only log of records over ``[offset, offset + length)``.

    Construct with :meth:`open` (reads the area) or :meth:`fresh` (the area was just erased by
    this boot, so no guard unit is needed).
    """

    def __init__(self, flash: FlashDevice, offset: int, length: int, *, payload_size: int,
                 entries: tuple[LogEntry, ...], cursor: int) -> None:
        self.flash = flash
        self.offset = offset
        self.unit = record_unit(flash, payload_size)
        self.capacity = length // self.unit
        self.payload_size = payload_size
        self.entries = entries
        self.cursor = cursor
        self.key: object = None   # the raw content it was read from, when reads agreed

    @classmethod
    def open(cls, flash: FlashDevice, offset: int, length: int, *, payload_size: int = PAYLOAD_SIZE,
             reads: int = 4) -> Log:
        unit = record_unit(flash, payload_size)
        capacity = length // unit
        ev = flash.erase_value
        erased_byte = bytes([ev])
        images = read_agreed(flash, offset, capacity * unit, reads)
        if len(images) == 1 or all(img == images[0] for img in images[1:]):
            used = images[0].rstrip(erased_byte)
            key = (used, unit, payload_size, ev)
            entries_hit = _ENTRIES.get(key)
            if entries_hit is None:
                if len(_ENTRIES) > 1024:
                    _ENTRIES.clear()
                entries_hit = _ENTRIES[key] = tuple(
                    LogEntry(i, decode(used[i * unit:(i + 1) * unit].ljust(unit, erased_byte),
                                       payload_size, ev))
                    for i in range(-(-len(used) // unit)))
            log = cls(flash, offset, length, payload_size=payload_size, entries=entries_hit,
                      cursor=len(entries_hit) + 1)
            log.key = key
            return log
        else:  # reads disagree: decide unit by unit by majority
            raws: list[bytes | None] = [majority([img[i * unit:(i + 1) * unit] for img in images])
                    for i in range(capacity)]
            while raws and raws[-1] is not None and raws[-1].count(ev) == unit:
                raws.pop()
        n_used = len(raws)
        entries = [LogEntry(i, None if raw is None else decode(raw, payload_size, ev))
                   for i, raw in enumerate(raws)]
        cursor = n_used + 1  # guard unit after the last touched unit (or unit 0 if none)
        return cls(flash, offset, length, payload_size=payload_size, entries=tuple(entries),
                   cursor=cursor)

    @classmethod
    def fresh(cls, flash: FlashDevice, offset: int, length: int, *,
              payload_size: int = PAYLOAD_SIZE) -> Log:
        return cls(flash, offset, length, payload_size=payload_size, entries=(), cursor=0)

    def payloads(self) -> list[bytes]:
        """The valid records, in log order."""
        return [e.payload for e in self.entries if e.payload is not None]

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.cursor)

    def append(self, payload: bytes) -> None:
        """Program one record at the cursor (one flash operation).

        A unit the part refuses to program (:class:`FlashWriteRuleError`, the PROGERR of an ECC
        part: a cut program left it invisibly touched) is skipped and the next unit is used.
        """
        word = encode(payload, self.unit, self.flash.erase_value)
        while True:
            if self.cursor >= self.capacity:
                raise LogFullError("log full", offset=self.offset, capacity=self.capacity)
            at = self.cursor
            self.cursor += 1
            try:
                self.flash.program(self.offset + at * self.unit, word)
            except FlashWriteRuleError:
                continue
            self.entries = self.entries + (LogEntry(at, payload),)
            return
