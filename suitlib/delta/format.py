"""The patch header and the body's integer coding (specs/DELTA-FORMAT.md §2-§4).

Everything is little-endian. Integers in the header and the body use LEB128 varints (§2.1);
signed values use the zigzag mapping. The header ends with a CRC-32 over all its bytes, so a
corrupt header is refused before anything is written.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from suitlib.delta.errors import DeltaFormatError, DeltaUnsupportedError

MAGIC = b"SDLT"
VERSION = 1

FLAG_IN_PLACE = 0x01
KNOWN_FLAGS = FLAG_IN_PLACE

COMPRESSION_NONE = 0
COMPRESSION_LZMA = 1
COMPRESSION_LZSS = 2
COMPRESSION_NAMES = {COMPRESSION_NONE: "none", COMPRESSION_LZMA: "lzma", COMPRESSION_LZSS: "lzss"}

TRANSFORM_NONE = 0
KNOWN_TRANSFORMS = (0, 1, 2)  # none, Thumb-2 branches, AArch64 branches (suitlib.delta.transform)

MAX_HEADER_SIZE = 160
"""No valid header is longer (§2): the applier buffers at most this many bytes for it."""
MAX_VARINT_BYTES = 10
MAX_IMAGE_SIZE = 1 << 32

LZMA_PROBS_BASE = 1846
"""Probability slots of an LZMA decoder besides the literal coder (LZMA SDK ``LZMA_BASE_SIZE``)."""
LZMA_LITERAL_PROBS = 0x300
LZMA_DECODER_STATE = 128
"""Range decoder, reps, state and bookkeeping of a C LZMA decoder (bytes, rounded up)."""
APPLIER_STATE = 256
"""Fixed applier state: header fields, positions, checkpoint record, SHA-256 context (§2.4)."""
DECODE_WINDOW = 1024
"""Largest piece of decompressed body the applier handles at once (bytes)."""
SOURCE_BUFFER = 512
"""Source bytes read per flash read while applying a diff run (the sum needs as many again)."""
MAP_ENTRY_BYTES = 8
"""RAM per address-map entry of a branch transform (old start, delta: two 32-bit words)."""
MAX_MAP_ENTRIES = 4096
COMMAND_BUFFER = 32
LZSS_DECODER_STATE = 32
"""LZSS decoder besides its window: bit buffer, pending match, window position (§2.4)."""
LZSS_WINDOW_LOG2 = (8, 12)
"""Longest partial command header (three varints) kept between two decoded pieces."""


def encode_varint(value: int) -> bytes:
    """LEB128 encoding of a non-negative integer (§2.1)."""
    if value < 0:
        raise ValueError("varint must be non-negative")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def zigzag(value: int) -> int:
    """Map a signed integer to an unsigned one (0, -1, 1, -2 ... -> 0, 1, 2, 3 ...)."""
    return (value << 1) if value >= 0 else ((-value) << 1) - 1


def unzigzag(value: int) -> int:
    """Inverse of :func:`zigzag`."""
    return (value >> 1) if not value & 1 else -((value + 1) >> 1)


def decode_varint(data: bytes | bytearray | memoryview, pos: int) -> tuple[int, int] | None:
    """Decode a varint at ``pos``: ``(value, next_pos)``, or ``None`` if ``data`` ends first.

    Raises :class:`DeltaFormatError` for a varint longer than 10 bytes.
    """
    value = 0
    shift = 0
    end = len(data)
    for i in range(MAX_VARINT_BYTES):
        if pos + i >= end:
            return None
        byte = data[pos + i]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos + i + 1
        shift += 7
    raise DeltaFormatError("varint longer than 10 bytes", offset=pos)


def lzma_probs_bytes(lc: int, lp: int) -> int:
    """Bytes of 16-bit probability slots an LZMA decoder with these parameters needs."""
    return 2 * (LZMA_PROBS_BASE + (LZMA_LITERAL_PROBS << (lc + lp)))


def applier_ram(compression: int, dict_size: int, lc: int, lp: int, write_unit: int = 16,
                map_entries: int = 0) -> int:
    """The RAM figure the header declares (§2.4): decoder + buffers + fixed state.

    ``write_unit`` is the largest flash write unit the figure covers (one partial unit is
    buffered); 16 bytes covers every NOR part we know of.
    """
    fixed = (APPLIER_STATE + MAX_HEADER_SIZE + DECODE_WINDOW + 3 * SOURCE_BUFFER
             + COMMAND_BUFFER + write_unit + MAP_ENTRY_BYTES * map_entries)
    if compression == COMPRESSION_LZMA:
        return fixed + dict_size + lzma_probs_bytes(lc, lp) + LZMA_DECODER_STATE
    if compression == COMPRESSION_LZSS:
        return fixed + dict_size + LZSS_DECODER_STATE  # dict_size: the LZSS window
    return fixed


@dataclass(frozen=True)
class LzmaParams:
    """Raw LZMA1 parameters (§2.3): dictionary size and literal context/position bits."""

    dict_size: int = 8192
    lc: int = 0
    lp: int = 0
    pb: int = 0

    def props_byte(self) -> int:
        return (self.pb * 5 + self.lp) * 9 + self.lc

    @classmethod
    def from_props_byte(cls, props: int, dict_log2: int) -> "LzmaParams":
        if props >= 9 * 5 * 5:
            raise DeltaFormatError(f"invalid LZMA properties byte {props}")
        lc = props % 9
        rest = props // 9
        lp = rest % 5
        pb = rest // 5
        if lc + lp > 4:
            raise DeltaUnsupportedError(f"LZMA lc+lp = {lc + lp} > 4 is not supported")
        if not 12 <= dict_log2 <= 20:
            raise DeltaUnsupportedError(f"LZMA dictionary 2^{dict_log2} is outside 4 KiB..1 MiB")
        return cls(dict_size=1 << dict_log2, lc=lc, lp=lp, pb=pb)

    def filters(self) -> list[dict[str, int]]:
        import lzma

        return [{"id": lzma.FILTER_LZMA1, "dict_size": self.dict_size,
                 "lc": self.lc, "lp": self.lp, "pb": self.pb}]


@dataclass(frozen=True)
class InPlacePlan:
    """The segment plan of an in-place patch (§2.5).

    The source is first moved up by ``shift`` bytes (whole segments, top segment first); then
    target segment k (``[k*S, (k+1)*S)``) is produced and may read only source offsets
    ``>= (k+1)*S - shift`` (a run crossing segment boundaries needs offset ``>= S - shift``). ``region_size`` is the span of flash the patch touches.
    """

    segment_size: int
    shift: int

    def region_size(self, source_size: int, target_size: int) -> int:
        seg = self.segment_size
        src = -(-source_size // seg) * seg
        tgt = -(-target_size // seg) * seg
        return max(src + self.shift if source_size else 0, tgt)

    def source_floor(self, segment: int) -> int:
        """Lowest source offset target segment ``segment`` may read."""
        return max(0, (segment + 1) * self.segment_size - self.shift)


@dataclass(frozen=True)
class PatchHeader:
    """The decoded header of a patch (§2)."""

    source_size: int
    target_size: int
    source_digest: bytes
    target_digest: bytes
    chunk_size: int
    ram_bytes: int
    compression: int = COMPRESSION_LZMA
    lzma: LzmaParams = LzmaParams()
    transform: int = TRANSFORM_NONE
    in_place: InPlacePlan | None = None
    map_entries: int = 0
    pointer_base: int | None = None
    lzss_window_log2: int = 0
    """Compression 2 only: the LZSS window is 2**n bytes (§3.1)."""
    header_size: int = 0
    header_crc: int = 0

    @property
    def window(self) -> int:
        """The decoder's history: LZMA dictionary or LZSS window (0 when uncompressed)."""
        if self.compression == COMPRESSION_LZMA:
            return self.lzma.dict_size
        if self.compression == COMPRESSION_LZSS:
            return 1 << self.lzss_window_log2
        return 0

    @property
    def chunk_count(self) -> int:
        return -(-self.target_size // self.chunk_size) if self.target_size else 0

    def chunk_span(self, index: int) -> tuple[int, int]:
        """Target range ``[start, end)`` produced by body chunk ``index``."""
        start = index * self.chunk_size
        return start, min(self.target_size, start + self.chunk_size)

    def encode(self) -> bytes:
        """Serialise (§2); the CRC-32 is computed here."""
        flags = FLAG_IN_PLACE if self.in_place else 0
        out = bytearray(MAGIC)
        out += bytes((VERSION, flags, self.compression, self.transform))
        if self.compression == COMPRESSION_LZMA:
            out += bytes((self.lzma.props_byte(), self.lzma.dict_size.bit_length() - 1))
        elif self.compression == COMPRESSION_LZSS:
            out += bytes((0, self.lzss_window_log2))
        else:
            out += b"\x00\x00"
        out += encode_varint(self.source_size)
        out += encode_varint(self.target_size)
        out += self.source_digest + self.target_digest
        out += encode_varint(self.chunk_size)
        out += encode_varint(self.ram_bytes)
        if self.in_place:
            out += encode_varint(self.in_place.segment_size)
            out += encode_varint(self.in_place.shift)
        if self.transform:
            out += encode_varint(self.map_entries)
            out += encode_varint(0 if self.pointer_base is None else self.pointer_base + 1)
        out += struct.pack("<I", zlib.crc32(out))
        return bytes(out)


def _read_varints(data: bytes | bytearray | memoryview, pos: int, count: int, out: list[int],
                  need: Callable[[int], bool]) -> int | None:
    """Append ``count`` varints from ``data[pos:]`` to ``out``; the position after them, or None
    when more bytes are needed (``need`` raises once the maximum header size is exceeded)."""
    for _ in range(count):
        got = decode_varint(data, pos)
        if got is None:
            need(pos + MAX_VARINT_BYTES)
            return None
        out.append(got[0])
        pos = got[1]
    return pos


def parse_header(data: bytes | bytearray | memoryview) -> PatchHeader | None:
    """Parse the header at the start of ``data``.

    Returns ``None`` if more bytes are needed (and fewer than :data:`MAX_HEADER_SIZE` were
    given); raises :class:`DeltaFormatError` / :class:`DeltaUnsupportedError` otherwise.
    """

    def need(n: int) -> bool:
        if len(data) >= n:
            return True
        if len(data) >= MAX_HEADER_SIZE:
            raise DeltaFormatError("header longer than the maximum")
        return False

    if not need(8):
        if bytes(data[: len(MAGIC)]) != MAGIC[: len(data[: len(MAGIC)])]:
            raise DeltaFormatError("not a suitlib delta patch (bad magic)")
        return None
    if bytes(data[:4]) != MAGIC:
        raise DeltaFormatError("not a suitlib delta patch (bad magic)")
    version, flags, compression, transform = data[4], data[5], data[6], data[7]
    pos = 8
    lz = LzmaParams()
    if not need(pos + 2):
        return None
    props, dict_log2 = data[pos], data[pos + 1]
    pos += 2
    fields: list[int] = []
    end = _read_varints(data, pos, 2, fields, need)
    if end is None:
        return None
    pos = end
    if not need(pos + 64):
        return None
    source_digest = bytes(data[pos : pos + 32])
    target_digest = bytes(data[pos + 32 : pos + 64])
    pos += 64
    count = (4 if flags & FLAG_IN_PLACE else 2) + (2 if transform else 0)
    end = _read_varints(data, pos, count, fields, need)
    if end is None:
        return None
    pos = end
    if not need(pos + 4):
        return None
    (crc,) = struct.unpack_from("<I", data, pos)
    if zlib.crc32(bytes(data[:pos])) != crc:
        raise DeltaFormatError("header checksum mismatch", hint="the patch header is corrupt")
    # Only now that the checksum holds do the field values mean anything.
    if version != VERSION:
        raise DeltaUnsupportedError(f"patch format version {version} (this applier reads {VERSION})")
    if flags & ~KNOWN_FLAGS:
        raise DeltaUnsupportedError(f"unknown header flags 0x{flags:02x}")
    if compression not in COMPRESSION_NAMES:
        raise DeltaUnsupportedError(f"unknown compression {compression}")
    if transform not in KNOWN_TRANSFORMS:
        raise DeltaUnsupportedError(f"unknown transform {transform}")
    window_log2 = 0
    if compression == COMPRESSION_LZMA:
        lz = LzmaParams.from_props_byte(props, dict_log2)
    elif compression == COMPRESSION_LZSS:
        if props:
            raise DeltaFormatError("LZSS patches have 0 in the LZMA properties byte")
        if not LZSS_WINDOW_LOG2[0] <= dict_log2 <= LZSS_WINDOW_LOG2[1]:
            raise DeltaUnsupportedError(f"LZSS window 2^{dict_log2} is outside 256 B..4 KiB")
        window_log2 = dict_log2
    source_size, target_size, chunk_size, ram_bytes = fields[:4]
    if source_size >= MAX_IMAGE_SIZE or target_size >= MAX_IMAGE_SIZE:
        raise DeltaFormatError("image size out of range")
    if chunk_size < 1 or chunk_size >= MAX_IMAGE_SIZE:
        raise DeltaFormatError(f"invalid chunk size {chunk_size}")
    plan = None
    map_entries = fields[-2] if transform else 0
    pointer_base = fields[-1] - 1 if transform and fields[-1] else None
    if pointer_base is not None and pointer_base >= MAX_IMAGE_SIZE:
        raise DeltaFormatError("pointer base out of range")
    if map_entries > MAX_MAP_ENTRIES:
        raise DeltaFormatError(f"address map of {map_entries} entries (at most {MAX_MAP_ENTRIES})")
    if flags & FLAG_IN_PLACE:
        segment_size, shift = fields[4], fields[5]
        if segment_size < 1 or segment_size % 512 or chunk_size % segment_size:
            raise DeltaFormatError("in-place segments must be multiples of 512 bytes and divide "
                                   "the chunk size")
        if shift % segment_size or shift >= MAX_IMAGE_SIZE:
            raise DeltaFormatError("in-place shift is not a whole number of segments")
        plan = InPlacePlan(segment_size=segment_size, shift=shift)
    return PatchHeader(
        source_size=source_size, target_size=target_size,
        source_digest=source_digest, target_digest=target_digest,
        chunk_size=chunk_size, ram_bytes=ram_bytes, compression=compression, lzma=lz,
        transform=transform, in_place=plan, map_entries=map_entries, pointer_base=pointer_base,
        lzss_window_log2=window_log2, header_size=pos + 4,
        header_crc=crc,
    )

