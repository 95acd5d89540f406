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
from suitlib.delta.encode_sites import SiteEncoder
from suitlib.delta.errors import DeltaLayoutError, DeltaRamError
from suitlib.delta.transform import (
    TRANSFORM_AARCH64,
    TRANSFORM_THUMB2,
    AddressMap,
    Sites,
    encode_map,
)
from suitlib.delta import lzss
from suitlib.delta.format import (
    COMPRESSION_LZMA,
    COMPRESSION_LZSS,
    LZSS_WINDOW_LOG2,
    MAP_ENTRY_BYTES,
    COMPRESSION_NONE,
    TRANSFORM_NONE,
    InPlacePlan,
    LzmaParams,
    PatchHeader,
    applier_ram,
    encode_varint,
    zigzag,
)

MIN_RAM = 4096
DEFAULT_RAM = 32 * 1024
DEFAULT_SEGMENT = 4096
DEFAULT_CHUNK = 256 * 1024
"""Target bytes per chunk unless told otherwise: the restart point of a resumed download
(DELTA-FORMAT §3.2; measured: +0.6 % size on the corpus, geometric mean)."""


@dataclass(frozen=True)
class CreateOptions:
    """What the patch should look like.

    ``ram`` is the applier RAM budget the patch must fit (the header declares what it needs,
    never more than this). ``chunk_size`` 0 picks the default (:data:`DEFAULT_CHUNK`, see
    DELTA-FORMAT §3.2). In-place patches use ``segment_size`` segments and pick
    the smallest source shift that keeps ``shift_coverage`` of the covered bytes usable,
    at most ``max_shift`` bytes (None: no limit).
    """

    ram: int = DEFAULT_RAM
    in_place: bool = False
    segment_size: int = DEFAULT_SEGMENT
    chunk_size: int = 0
    max_shift: int | None = None
    shift: int | None = None
    compression: int | None = None
    """0 none, 1 LZMA, 2 LZSS (§3.1); None: LZMA if its applier fits ``ram``, else LZSS."""
    lzss_window_log2: int | None = None
    """LZSS window 2**n (8..12); None: 1 KiB, or less if ``ram`` is tighter."""
    transform: int | None = None
    """Branch transform (§4.3): None tries the one the image suggests and keeps the smaller."""
    max_map_entries: int = 512
    lc: int = 0
    lp: int = 0
    pb: int = 0
    nice_len: int = 273
    """LZMA match-finder effort: 273 (the strongest) is the default; 128 halves the
    compression time for about 3 % larger patches (DELTA-FORMAT §3.1, measured)."""
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
    """Keep only diffs that read source the plan has not destroyed yet (§5.2).

    A run whose offset is at least ``S - shift`` reads allowed source for every byte and may
    cross segment boundaries; other runs are cut at segment boundaries and the parts below each
    segment's floor become literals.
    """
    out: list[Piece] = []
    seg = plan.segment_size
    free = seg - plan.shift
    for s, e, o in pieces:
        if o is None or o >= free:
            out.append((s, e, o))
            continue
        for s2, e2, o2 in split_pieces([(s, e, o)], seg, 0):
            floor = plan.source_floor(s2 // seg)
            lo = max(s2, floor - o)
            if lo >= e2:
                out.append((s2, e2, None))
            elif lo > s2:
                out.append((s2, lo, None))
                out.append((lo, e2, o))
            else:
                out.append((s2, e2, o))
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


def build_map(covers: list[Cover], min_length: int, limit: int) -> AddressMap:
    """The address map of a branch transform (§4.3) from the covers: old -> new offsets."""
    while True:
        ranges = sorted((s + o, -o) for s, e, o in covers if e - s >= min_length)
        starts: list[int] = []
        deltas: list[int] = []
        for start, delta in ranges:
            if (deltas and deltas[-1] == delta) or (not deltas and delta == 0):
                continue
            if starts and starts[-1] == start:
                deltas[-1] = delta
                continue
            starts.append(start)
            deltas.append(delta)
        if len(starts) <= limit:
            return AddressMap(starts, deltas)
        min_length *= 2


def guess_pointer_base(source: bytes, target: bytes, covers: list[Cover], amap: AddressMap
                       ) -> int | None:
    """The load address that makes most absolute pointers in covered code predictable (§4.3).

    Candidates are the most common 64 KiB pages among aligned source words, refined in 4 KiB
    steps; a candidate scores one per covered aligned word whose mapped value is exactly the
    target's word there and differs from the source's.
    """
    n = len(source) - len(source) % 4
    if n < 64 or not covers:
        return None
    words = np.frombuffer(source[:n], dtype="<u4").astype(np.int64)
    tgt_idx: list[np.ndarray] = []
    src_idx: list[np.ndarray] = []
    for s, e, o in covers:
        first = s + (-s) % 4
        t = np.arange(first, e - 3, 4, dtype=np.int64)
        if not len(t):
            continue
        q = t + o
        ok = (q >= 0) & (q + 4 <= n)
        tgt_idx.append(t[ok])
        src_idx.append(q[ok])
    if not tgt_idx:
        return None
    t_all = np.concatenate(tgt_idx)
    q_all = np.concatenate(src_idx)
    src_bytes = np.frombuffer(source, dtype=np.uint8).astype(np.int64)
    tgt_bytes = np.frombuffer(target, dtype=np.uint8).astype(np.int64)
    src_vals = (src_bytes[q_all] | src_bytes[q_all + 1] << 8 | src_bytes[q_all + 2] << 16
                | src_bytes[q_all + 3] << 24)
    tgt_vals = (tgt_bytes[t_all] | tgt_bytes[t_all + 1] << 8 | tgt_bytes[t_all + 2] << 16
                | tgt_bytes[t_all + 3] << 24)
    moved = src_vals != tgt_vals
    src_vals, tgt_vals = src_vals[moved], tgt_vals[moved]
    if not len(src_vals):
        return None
    starts = np.asarray(amap.starts, dtype=np.int64)
    deltas = np.asarray(amap.deltas, dtype=np.int64)

    def score(base: int) -> int:
        off = src_vals - base
        inside = (off >= 0) & (off < len(source))
        idx = np.searchsorted(starts, off[inside], side="right") - 1
        delta = np.where(idx >= 0, deltas[np.maximum(idx, 0)], 0) if len(starts) else 0
        pred = (off[inside] + delta + base) & 0xFFFFFFFF
        return int(np.count_nonzero(pred == tgt_vals[inside]))

    # Candidate load pages: where a window as wide as the image holds the most aligned words.
    pages, counts = np.unique(words >> 16, return_counts=True)
    span = max(1, -(-len(source) // 65536))
    cum = np.concatenate(([0], np.cumsum(counts)))
    in_window = cum[np.searchsorted(pages, pages + span)] - cum[np.arange(len(pages))]
    candidates = {0}
    for i in np.argsort(in_window)[::-1][:4].tolist():
        candidates.add(int(pages[i]))
    best_base, best_score = None, 0
    for page in sorted(candidates):
        for step in range(-16, 16):
            base = (page << 16) + step * 4096
            if base < 0:
                continue
            sc = score(base)
            if sc > best_score:
                best_base, best_score = base, sc
    if best_base is None or best_score * 200 < len(source) // 4:
        return None
    return best_base


def guess_transform(target: bytes) -> int:
    """The branch transform worth trying on this image (by instruction-pattern density)."""
    sample = np.frombuffer(target[: 1 << 18], dtype=np.uint8)
    if len(sample) < 4:
        return TRANSFORM_NONE
    b1, b3 = sample[1:-2], sample[3:]
    # Positions of the patterns of transform.py's _THUMB and _A64 (any offset / 4-aligned).
    thumb = int(np.count_nonzero(((b1 & 0xF8) == 0xF0) & ((b3 & 0x90) == 0x90)))
    a64 = int(np.count_nonzero((b3[::4] & 0x7C) == 0x14))
    # Measured on the corpus: Thumb-2 images show a branch pattern every 30-90 bytes, the
    # AArch64 one every ~80 bytes, Xtensa images one every 240-350 bytes of either.
    if a64 * 4 > thumb and a64 * 128 > len(sample):
        return TRANSFORM_AARCH64
    if thumb * 128 > len(sample):
        return TRANSFORM_THUMB2
    return TRANSFORM_NONE


def chunk_streams(source: bytes, target: bytes, pieces: list[Piece], chunk_size: int,
                  sites: Sites | None = None, amap: AddressMap | None = None) -> list[bytes]:
    """Uncompressed command stream of every chunk (§4)."""
    src = np.frombuffer(source, dtype=np.uint8)
    tgt = np.frombuffer(target, dtype=np.uint8)
    n = len(target)
    streams: list[bytes] = []
    encoder = SiteEncoder(sites, source, target, amap) if sites is not None and amap is not None \
        else None
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
                delta = tgt[s:e] - src[s + o : e + o]
                if encoder is not None:
                    encoder.encode(delta, s, e, o)
                diff = delta.tobytes()
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


def lzma_filters(params: LzmaParams, nice_len: int = 273) -> list[dict[str, int]]:
    """Encoder settings: the strongest search (the depth grows with ``nice_len`` below 273,
    which keeps most of the size at a shorter match length)."""
    extra = {} if nice_len >= 273 else {"depth": 400}
    return [{"id": lzma.FILTER_LZMA1, "preset": 9 | lzma.PRESET_EXTREME,
             "dict_size": params.dict_size, "lc": params.lc, "lp": params.lp, "pb": params.pb,
             "nice_len": max(8, min(273, nice_len)), "mf": lzma.MF_BT4, **extra}]


def compress_chunk(stream: bytes, compression: int, params: LzmaParams, nice_len: int = 273,
                   window_log2: int = 0) -> bytes:
    if compression == COMPRESSION_NONE:
        return stream
    if compression == COMPRESSION_LZSS:
        return lzss.compress(stream, window_log2)
    return lzma.compress(stream, format=lzma.FORMAT_RAW, filters=lzma_filters(params, nice_len))


def fit_lzma(ram: int, lc: int, lp: int, pb: int, largest_useful: int, map_entries: int = 0
             ) -> LzmaParams:
    """The largest power-of-two dictionary (4 KiB .. 1 MiB) whose applier fits ``ram``."""
    dict_size = 1 << 20

    def need(d: int) -> int:
        return applier_ram(COMPRESSION_LZMA, d, lc, lp, map_entries=map_entries)

    while dict_size > 4096 and (need(dict_size) > ram or dict_size // 2 >= largest_useful):
        dict_size //= 2
    if need(dict_size) > ram:
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
        if seg < 512 or seg % 512:
            raise DeltaLayoutError("in-place segments must be a multiple of 512 bytes (DELTA-FORMAT §5)",
                                   segment_size=seg)
        shift = opts.shift if opts.shift is not None else choose_shift(
            covers, seg, 0.995, opts.max_shift)
        plan = InPlacePlan(segment_size=seg, shift=shift)
        pieces = constrain_in_place(pieces, plan, len(source))
    chunk_size = opts.chunk_size or min(DEFAULT_CHUNK, max(len(target), 1))
    if plan is not None:
        chunk_size = -(-chunk_size // plan.segment_size) * plan.segment_size
    compression, window_log2 = choose_codec(opts)
    map_limit = opts.max_map_entries
    if compression != COMPRESSION_LZMA:  # LZMA fits its dictionary around the map (fit_lzma)
        spare = opts.ram - applier_ram(compression, 1 << window_log2 if window_log2 else 0, 0, 0)
        map_limit = min(map_limit, spare // MAP_ENTRY_BYTES)
    kinds = [TRANSFORM_NONE]
    if map_limit < 1:
        pass
    elif opts.transform is None:
        guess = guess_transform(target) if covers else TRANSFORM_NONE
        if guess:
            kinds.append(guess)
    elif opts.transform:
        kinds = [opts.transform]
    # Pick the transform whose uncompressed streams hold the fewest non-zero bytes (on the
    # corpus this ranks the candidates exactly like their compressed sizes), compress once.
    best: tuple[int, Plan] | None = None
    for kind in kinds:
        amap = build_map(covers, 64, map_limit) if kind else None
        base = None
        if kind == TRANSFORM_THUMB2 and amap is not None:
            base = guess_pointer_base(source, target, covers, amap)
        sites = Sites(kind, base, len(source)) if kind else None
        streams = chunk_streams(source, target, pieces, chunk_size, sites, amap) if target else []
        map_bytes = encode_map(amap) if amap is not None else b""
        score = sum(len(x) - x.count(0) for x in streams) + len(map_bytes) - map_bytes.count(0)
        if best is None or score < best[0]:
            best = (score, Plan(kind, amap, base, streams, map_bytes))
    assert best is not None
    return _assemble(source, target, chunk_size, plan, opts, best[1], compression, window_log2)


@dataclass(frozen=True)
class Plan:
    """The transform chosen and the uncompressed streams it produced."""

    kind: int
    amap: AddressMap | None
    pointer_base: int | None
    streams: list[bytes]
    map_bytes: bytes


def choose_codec(opts: CreateOptions) -> tuple[int, int]:
    """``(compression, LZSS window log2 or 0)`` for the options' RAM budget (§2.3, §3.1)."""
    compression = opts.compression
    if compression is None:
        lzma_floor = applier_ram(COMPRESSION_LZMA, 4096, opts.lc, opts.lp)
        compression = COMPRESSION_LZMA if opts.ram >= lzma_floor else COMPRESSION_LZSS
    if compression != COMPRESSION_LZSS:
        return compression, 0
    if opts.lzss_window_log2 is not None:
        if not LZSS_WINDOW_LOG2[0] <= opts.lzss_window_log2 <= LZSS_WINDOW_LOG2[1]:
            raise DeltaRamError("the LZSS window must be 256 B .. 4 KiB",
                                window_log2=opts.lzss_window_log2)
        return compression, opts.lzss_window_log2
    # 1 KiB if it leaves room for 64 address-map entries, else the largest window that fits.
    for log2, room in ((10, 64), (9, 0), (8, 0)):
        if applier_ram(COMPRESSION_LZSS, 1 << log2, 0, 0) + room * MAP_ENTRY_BYTES <= opts.ram:
            return compression, log2
    raise DeltaRamError(f"even an LZSS applier needs {applier_ram(COMPRESSION_LZSS, 256, 0, 0)} "
                        f"bytes of RAM; the budget is {opts.ram}", ram=opts.ram)


def _assemble(source: bytes, target: bytes, chunk_size: int, plan: InPlacePlan | None,
              opts: CreateOptions, chosen: Plan, compression: int, window_log2: int) -> bytes:
    entries = len(chosen.amap) if chosen.amap is not None else 0
    lz = LzmaParams()
    window = 0
    if compression == COMPRESSION_LZMA:
        lz = fit_lzma(opts.ram, opts.lc, opts.lp, opts.pb, largest_useful=chunk_size * 2,
                      map_entries=entries)
        window = lz.dict_size
    elif compression == COMPRESSION_LZSS:
        window = 1 << window_log2
    ram_needed = applier_ram(compression, window, lz.lc, lz.lp, map_entries=entries)
    if ram_needed > opts.ram:
        raise DeltaRamError(f"the applier needs {ram_needed} bytes of RAM; budget {opts.ram}",
                            ram=opts.ram)
    header = PatchHeader(
        source_size=len(source), target_size=len(target),
        source_digest=hashlib.sha256(source).digest(),
        target_digest=hashlib.sha256(target).digest(),
        chunk_size=chunk_size, ram_bytes=ram_needed, compression=compression, lzma=lz,
        transform=chosen.kind, in_place=plan, map_entries=entries,
        pointer_base=chosen.pointer_base if chosen.kind else None,
        lzss_window_log2=window_log2,
    )
    body = bytearray()
    if chosen.kind:
        packed = compress_chunk(chosen.map_bytes, compression, lz, opts.nice_len, window_log2)
        body += encode_varint(len(packed)) + packed
    for stream in chosen.streams:
        packed = compress_chunk(stream, compression, lz, opts.nice_len, window_log2)
        body += encode_varint(len(packed)) + packed
    return header.encode() + bytes(body)

