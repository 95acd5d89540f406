"""Host-side apply and inspection of a patch held in memory (DELTA-FORMAT §2-§5).

The device-side applier that writes flash and resumes after power loss is
:mod:`suitlib.delta.applier`; both drive the same :class:`~suitlib.delta.stream.PatchStream`.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from suitlib.delta.body import ChunkDecoder
from suitlib.delta.errors import (
    DeltaFormatError,
    DeltaRamError,
    DeltaSourceMismatchError,
    DeltaTargetMismatchError,
    DeltaTruncatedError,
)
from suitlib.delta.format import COMPRESSION_NAMES, PatchHeader, applier_ram, parse_header
from suitlib.delta.stream import PatchStream
from suitlib.delta.transform import TRANSFORM_NAMES


def read_header(patch: bytes) -> PatchHeader:
    """The header of a patch, or a typed error."""
    header = parse_header(patch[: 160])
    if header is None:
        raise DeltaTruncatedError(f"patch too short for its header ({len(patch)} bytes)")
    return header


def check_source(header: PatchHeader, source: bytes) -> None:
    """Raise :class:`DeltaSourceMismatchError` unless ``source`` is the patch's source image."""
    digest = hashlib.sha256(source).digest()
    if len(source) != header.source_size or not hmac.compare_digest(digest, header.source_digest):
        raise DeltaSourceMismatchError(
            "the patch was made for another source image",
            hint="apply it to the image it was made from (see `suit delta info`)",
            expected=header.source_digest.hex(), actual=digest.hex(),
            expected_size=header.source_size, actual_size=len(source))


def apply_patch(source: bytes, patch: bytes) -> bytes:
    """The target image, after checking the source and target digests."""
    source = bytes(source)
    out = bytearray()

    def on_header(header: PatchHeader) -> None:
        lz = header.lzma
        needed = applier_ram(header.compression, header.window, lz.lc, lz.lp,
                             map_entries=header.map_entries)
        if needed > header.ram_bytes:
            raise DeltaRamError(f"the patch declares {header.ram_bytes} bytes of applier RAM but "
                                f"its parameters need {needed}", declared=header.ram_bytes,
                                needed=needed)
        check_source(header, source)

    def open_chunk(index: int, _offset: int) -> ChunkDecoder:
        header = stream.header
        assert header is not None
        start, end = header.chunk_span(index)
        if len(out) != start:
            raise DeltaFormatError(f"chunk {index} does not start at target offset {start}")
        return ChunkDecoder(length=end - start, source_size=len(source),
                            read=lambda off, n: source[off : off + n], emit=out.extend,
                            chunk_index=index, target_base=start, plan=header.in_place,
                            sites=stream.sites, amap=stream.amap)

    stream = PatchStream(on_header=on_header, open_chunk=open_chunk)
    stream.feed(patch)
    stream.finish()
    header = stream.header
    assert header is not None
    digest = hashlib.sha256(out).digest()
    if len(out) != header.target_size or not hmac.compare_digest(digest, header.target_digest):
        raise DeltaTargetMismatchError("the patched image does not match the target digest",
                                       expected=header.target_digest.hex(), actual=digest.hex())
    return bytes(out)


def describe(patch: bytes) -> dict[str, Any]:
    """What `suit delta info` prints (the header plus the patch size)."""
    header = read_header(patch)
    info: dict[str, Any] = {
        "format_version": 1,
        "patch_size": len(patch),
        "header_size": header.header_size,
        "ram_bytes": header.ram_bytes,
        "in_place": header.in_place is not None,
        "source_size": header.source_size,
        "target_size": header.target_size,
        "source_digest": header.source_digest.hex(),
        "target_digest": header.target_digest.hex(),
        "compression": COMPRESSION_NAMES[header.compression],
        "chunk_size": header.chunk_size,
        "chunk_count": header.chunk_count,
        "transform": TRANSFORM_NAMES[header.transform],
        "map_entries": header.map_entries,
    }
    if header.compression == 1:
        info["lzma"] = {"dict_size": header.lzma.dict_size, "lc": header.lzma.lc,
                        "lp": header.lzma.lp, "pb": header.lzma.pb}
    if header.compression == 2:
        info["lzss"] = {"window": header.window}
    if header.in_place is not None:
        info["segment_size"] = header.in_place.segment_size
        info["shift"] = header.in_place.shift
        info["region_size"] = header.in_place.region_size(header.source_size, header.target_size)
    return info
