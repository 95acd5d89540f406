"""The patch creator (host side): covers -> command streams -> compressed chunks -> patch.

Implements specs/DELTA-FORMAT.md §3-§5. The body is cut into chunks of ``chunk_size`` target
bytes; each chunk's command stream starts with an absolute source position and is compressed
as an independent raw LZMA1 stream, so an applier can restart decoding at any chunk.
"""

from __future__ import annotations

import hashlib
import lzma
from dataclasses import dataclass, field

import numpy as np

from suitlib.delta.cover import Cover, CoverParams, select_covers
from suitlib.delta.errors import DeltaRamError
from suitlib.delta.format import (
    COMPRESSION_LZMA,
    COMPRESSION_NONE,
    InPlacePlan,
    LzmaParams,
    PatchHeader,
    applier_ram,
    encode_varint,
    lzma_probs_bytes,
    zigzag,
)

MIN_RAM = 4096
DEFAULT_RAM = 32 * 1024
DEFAULT_SEGMENT = 4096


@dataclass(frozen=True)
class CreateOptions:
    """What the patch should look like.

    ``ram`` is the applier RAM budget the patch must fit (the header declares what it needs,
    never more than this). ``chunk_size`` 0 picks the default (whole image for sequential
    patches, see DELTA-FORMAT §3.2). In-place patches use ``segment_size`` segments and pick
    the smallest source shift that keeps ``shift_coverage`` of the covered bytes usable,
    at most ``max_shift`` bytes (None: no limit).
    """

    ram: int = DEFAULT_RAM
    in_place: bool = False
    segment_size: int = DEFAULT_SEGMENT
    chunk_size: int = 0
    max_shift: int | None = None
    shift: int | None = None
    compression: int = COMPRESSION_LZMA
    lc: int = 0
    lp: int = 0
    pb: int = 0
    cover: CoverParams = field(default_factory=CoverParams)


Piece = tuple[int, int, int | None]  # target [start, end), source offset (None = literal)


def pieces_from_covers(covers: list[Cover], size: int) -> list[Piece]:
    """The whole target as diff pieces (covers) and literal pieces (gaps), in order."""
    out: list[Piece] = []
    pos = 0
    for s, e, o in covers:
        if s > pos:
            out.append((pos, s, None))
        if e > s:
            out.append((s, e, o))
        pos = max(pos, e)
    if pos < size:
        out.append((pos, size, None))
    return out


def split_pieces(pieces: list[Piece], boundary: int, size: int) -> list[Piece]:
    """Cut pieces at every multiple of ``boundary``."""
    out: list[Piece] = []
    for s, e, o in pieces:
        while s < e:
            cut = min(e, (s // boundary + 1) * boundary)
            out.append((s, cut, o))
            s = cut
    return out


def constrain_in_place(pieces: list[Piece], plan: InPlacePlan, source_size: int) -> list[Piece]:
    """Turn the parts of diff pieces that read overwritten source into literals (§5.2)."""
    out: list[Piece] = []
    seg = plan.segment_size
    for s, e, o in split_pieces(pieces, seg, 0):
        if o is None:
            out.append((s, e, o))
            continue
        floor = plan.source_floor(s // seg)
        lo = max(s, floor - o)
        if lo >= e:
            out.append((s, e, None))
        elif lo > s:
            out.append((s, lo, None))
            out.append((lo, e, o))
        else:
            out.append((s, e, o))
    return out


def choose_shift(covers: list[Cover], plan_segment: int, coverage: float, max_shift: int | None
                 ) -> int:
    """Smallest whole-segment shift that lets ``coverage`` of covered bytes keep their source."""
    need: list[tuple[int, int]] = []
    for s, e, o in covers:
        # A byte at target t in segment k may use source t+o iff t+o >= (k+1)S - shift, i.e.
        # shift >= (k+1)S - t - o; the worst byte is the segment's first.
        if e > s:
            need.append((max(0, plan_segment - o), e - s))
    if not need:
        return 0
    total = sum(n for _, n in need)
    need.sort()
    acc = 0
    required = 0
    for req, n in need:
        acc += n
        required = req
        if acc >= coverage * total:
            break
    shift = -(-required // plan_segment) * plan_segment
    if max_shift is not None:
        shift = min(shift, max_shift // plan_segment * plan_segment)
    return shift


def chunk_streams(source: bytes, target: bytes, pieces: list[Piece], chunk_size: int) -> list[bytes]:
    """Uncompressed command stream of every chunk (§4)."""
    src = np.frombuffer(source, dtype=np.uint8)
    tgt = np.frombuffer(target, dtype=np.uint8)
    n = len(target)
    streams: list[bytes] = []
    by_chunk: list[list[Piece]] = [[] for _ in range(-(-n // chunk_size))]
    for piece in split_pieces(pieces, chunk_size, n):
        by_chunk[piece[0] // chunk_size].append(piece)
    for chunk in by_chunk:
        parts: list[bytes] = []
        first_diff = next((p for p in chunk if p[2] is not None), None)
        old_pos = first_diff[0] + first_diff[2] if first_diff else 0  # type: ignore[operator]
        parts.append(encode_varint(old_pos))
        i = 0
        while i < len(chunk):
            s, e, o = chunk[i]
            diff = b""
            if o is not None:
                assert s + o == old_pos
                diff = (tgt[s:e] - src[s + o : e + o]).tobytes()
                i += 1
            extra_start = chunk[i][0] if i < len(chunk) else e
            extra_end = extra_start
            while i < len(chunk) and chunk[i][2] is None:
                extra_end = chunk[i][1]
                i += 1
            new_pos = old_pos + len(diff)
            nxt = chunk[i] if i < len(chunk) else None
            seek = (nxt[0] + nxt[2]) - new_pos if nxt is not None else 0  # type: ignore[operator]
            parts.append(encode_varint(len(diff)) + encode_varint(extra_end - extra_start)
                         + encode_varint(zigzag(seek)))
            parts.append(diff)
            parts.append(target[extra_start:extra_end])
            old_pos = new_pos + seek
        streams.append(b"".join(parts))
    return streams


def lzma_filters(params: LzmaParams) -> list[dict[str, int]]:
    return [{"id": lzma.FILTER_LZMA1, "preset": 9 | lzma.PRESET_EXTREME,
             "dict_size": params.dict_size, "lc": params.lc, "lp": params.lp, "pb": params.pb,
             "nice_len": 273, "mf": lzma.MF_BT4}]


def compress_chunk(stream: bytes, compression: int, params: LzmaParams) -> bytes:
    if compression == COMPRESSION_NONE:
        return stream
    return lzma.compress(stream, format=lzma.FORMAT_RAW, filters=lzma_filters(params))


def fit_lzma(ram: int, lc: int, lp: int, pb: int, largest_useful: int) -> LzmaParams:
    """The largest power-of-two dictionary (4 KiB .. 1 MiB) whose applier fits ``ram``."""
    dict_size = 1 << 20
    while dict_size > 4096 and (applier_ram(COMPRESSION_LZMA, dict_size, lc, lp) > ram
                                or dict_size // 2 >= largest_useful):
        dict_size //= 2
    if applier_ram(COMPRESSION_LZMA, dict_size, lc, lp) > ram:
        raise DeltaRamError(
            f"an LZMA applier needs at least {applier_ram(COMPRESSION_LZMA, 4096, lc, lp)} bytes "
            f"of RAM (lc={lc}, lp={lp}); the budget is {ram}",
            hint="raise --ram or use lc=0 lp=0", ram=ram)
    return LzmaParams(dict_size=dict_size, lc=lc, lp=lp, pb=pb)


def create_patch(source: bytes, target: bytes, options: CreateOptions | None = None) -> bytes:
    """A patch turning ``source`` into ``target`` (DELTA-FORMAT §2-§5)."""
    opts = options or CreateOptions()
    source = bytes(source)
    target = bytes(target)
    covers = select_covers(source, target, opts.cover) if source and target else []
    pieces = pieces_from_covers(covers, len(target))
    plan: InPlacePlan | None = None
    if opts.in_place:
        seg = opts.segment_size
        shift = opts.shift if opts.shift is not None else choose_shift(
            covers, seg, 0.995, opts.max_shift)
        plan = InPlacePlan(segment_size=seg, shift=shift)
        pieces = constrain_in_place(pieces, plan, len(source))
    chunk_size = opts.chunk_size or max(len(target), 1)
    if plan is not None:
        chunk_size = -(-chunk_size // plan.segment_size) * plan.segment_size
    lz = LzmaParams()
    if opts.compression == COMPRESSION_LZMA:
        lz = fit_lzma(opts.ram, opts.lc, opts.lp, opts.pb, largest_useful=chunk_size * 2)
    ram_needed = applier_ram(opts.compression, lz.dict_size, lz.lc, lz.lp)
    if ram_needed > opts.ram:
        raise DeltaRamError(f"the applier needs {ram_needed} bytes of RAM; budget {opts.ram}",
                            ram=opts.ram)
    header = PatchHeader(
        source_size=len(source), target_size=len(target),
        source_digest=hashlib.sha256(source).digest(),
        target_digest=hashlib.sha256(target).digest(),
        chunk_size=chunk_size, ram_bytes=ram_needed, compression=opts.compression, lzma=lz,
        in_place=plan,
    )
    body = bytearray()
    if target:
        for stream in chunk_streams(source, target, pieces, chunk_size):
            packed = compress_chunk(stream, opts.compression, lz)
            body += encode_varint(len(packed)) + packed
    return header.encode() + bytes(body)


def lzma_probs(lc: int, lp: int) -> int:
    """Re-exported for tools that print the RAM breakdown."""
    return lzma_probs_bytes(lc, lp)
