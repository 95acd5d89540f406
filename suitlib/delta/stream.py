"""Incremental parsing of a whole patch: header, chunk framing, decompression (DELTA-FORMAT §2-§3).

:class:`PatchStream` is sans-I/O. It is fed patch bytes in any split, parses the header (and
hands it to ``on_header``, which may refuse it), then for every chunk asks ``open_chunk`` for a
:class:`~suitlib.delta.body.ChunkDecoder` (or ``None`` to skip that chunk's compressed bytes
without decompressing them, as a resumed apply does) and pushes decompressed bytes (raw LZMA1
or LZSS, §3.1) into it in
pieces of at most :data:`~suitlib.delta.format.DECODE_WINDOW` bytes. Bad bytes raise a
:class:`~suitlib.delta.errors.DeltaFormatError`; nothing else escapes.
"""

from __future__ import annotations

import lzma
from collections.abc import Callable

from suitlib.delta.body import ChunkDecoder
from suitlib.delta.transform import AddressMap, MapDecoder, Sites, sites_for
from suitlib.delta.errors import DeltaFormatError, DeltaTruncatedError
from suitlib.delta.lzss import LzssDecoder
from suitlib.delta.format import (
    COMPRESSION_LZMA,
    COMPRESSION_LZSS,
    DECODE_WINDOW,
    MAX_HEADER_SIZE,
    PatchHeader,
    decode_varint,
    parse_header,
)

OpenChunk = Callable[[int, int], "ChunkDecoder | None"]
# A patch with a branch transform carries its address map as one compressed section between
# the header and chunk 0 (§4.3); it is parsed like a chunk but never skipped.

_HEADER, _LEN, _DATA, _END = range(4)


class PatchStream:
    """Drive one pass over a patch (see module docstring)."""

    def __init__(self, *, on_header: Callable[[PatchHeader], None], open_chunk: OpenChunk) -> None:
        self._on_header = on_header
        self._open_chunk = open_chunk
        self.header: PatchHeader | None = None
        self.offset = 0
        """Patch bytes consumed so far."""
        self.chunk = 0
        self.chunk_offset = 0
        """Patch offset of the current chunk's length prefix."""
        self.chunk_end = 0
        """Patch offset just past the current chunk's data (valid once its length is read)."""
        self._state = _HEADER
        self._buf = bytearray()
        self.buffer_peak = 0
        """Most bytes ever held for a partial header or chunk length."""
        self._left = 0
        self._decoder: ChunkDecoder | MapDecoder | None = None
        self._in_map = False
        self.amap = AddressMap((), ())
        self.sites: Sites | None = None
        """The transform's site finder (§4.3), built once per pass from the header."""
        """The patch's address map (§4.3), complete before the first body chunk."""
        self._lzma: lzma.LZMADecompressor | None = None
        self._lzss: LzssDecoder | None = None

    @property
    def complete(self) -> bool:
        return self._state == _END

    @property
    def at_body_boundary(self) -> bool:
        """Header and address map are parsed and the stream sits between body chunks (or
        inside one whose output is being skipped): a resume may jump forward from here."""
        if self.header is None or self._in_map:
            return False
        return self._state in (_LEN, _END) or (self._state == _DATA and self._decoder is None)

    def jump(self, offset: int, chunk: int) -> None:
        """Continue at patch ``offset``, the length prefix of body chunk ``chunk`` (§6.3).

        Only from :attr:`at_body_boundary`; the chunks in between are not parsed at all (the
        caller's checkpoint says where the chunk starts; the target digest checks the result).
        """
        header = self.header
        if header is None or not self.at_body_boundary:
            raise DeltaFormatError("a patch stream can jump only between body chunks")
        if offset < self.offset or not self.chunk <= chunk <= header.chunk_count:
            raise DeltaFormatError("a patch stream jumps forward only", offset=offset)
        self.offset = self.chunk_offset = offset
        self.chunk = chunk
        self._buf.clear()
        self._decoder = None
        self._lzma = None
        self._lzss = None
        self._left = 0
        self._state = _LEN if chunk < header.chunk_count else _END

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Consume the next patch bytes."""
        view = memoryview(bytes(data)) if not isinstance(data, bytes) else memoryview(data)
        pos = 0
        while pos < len(view):
            state = self._state
            if state == _DATA:
                n = min(self._left, len(view) - pos)
                self._chunk_data(view[pos : pos + n])
                pos += n
                self.offset += n
                self._left -= n
                if not self._left:
                    self._end_chunk()
            elif state == _LEN:
                room = 10 - len(self._buf)
                take = view[pos : pos + room]
                self._buf += take
                self.buffer_peak = max(self.buffer_peak, len(self._buf))
                got = decode_varint(self._buf, 0)
                if got is None:
                    pos += len(take)
                    self.offset += len(take)
                    continue
                value, used = got
                consumed = used - (len(self._buf) - len(take))
                pos += consumed
                self.offset += consumed
                self._buf.clear()
                self._start_chunk(value)
            elif state == _HEADER:
                room = MAX_HEADER_SIZE - len(self._buf)
                take = view[pos : pos + room]
                before = len(self._buf)
                self._buf += take
                self.buffer_peak = max(self.buffer_peak, len(self._buf))
                header = parse_header(self._buf)
                if header is None:
                    pos += len(take)
                    self.offset += len(take)
                    continue
                consumed = header.header_size - before
                pos += consumed
                self.offset += consumed
                self._buf.clear()
                self.header = header
                self.sites = sites_for(header)
                self._on_header(header)
                self._in_map = bool(header.transform)
                self._state = _LEN if header.chunk_count or self._in_map else _END
                self.chunk_offset = self.offset
            else:
                raise DeltaFormatError("data after the last chunk", offset=self.offset)

    def _start_chunk(self, length: int) -> None:
        header = self.header
        assert header is not None
        if length == 0:
            raise DeltaFormatError(f"chunk {self.chunk} is empty", chunk=self.chunk)
        if length > (1 << 32):
            raise DeltaFormatError(f"chunk {self.chunk} length out of range", chunk=self.chunk)
        self._left = length
        self.chunk_end = self.offset + length
        if self._in_map:
            self._decoder = MapDecoder(header.map_entries)
        else:
            self._decoder = self._open_chunk(self.chunk, self.chunk_offset)
        self._lzma = None
        self._lzss = None
        if self._decoder is not None and header.compression == COMPRESSION_LZSS:
            self._lzss = LzssDecoder(header.lzss_window_log2, DECODE_WINDOW)
        if self._decoder is not None and header.compression == COMPRESSION_LZMA:
            self._lzma = lzma.LZMADecompressor(format=lzma.FORMAT_RAW, filters=[{
                "id": lzma.FILTER_LZMA1, "dict_size": header.lzma.dict_size,
                "lc": header.lzma.lc, "lp": header.lzma.lp, "pb": header.lzma.pb}])
        self._state = _DATA

    def _chunk_data(self, data: memoryview) -> None:
        decoder = self._decoder
        if decoder is None:
            return
        if self._lzss is not None:
            for piece in self._lzss.feed(data):
                decoder.feed(piece)
            return
        dec = self._lzma
        if dec is None:
            for i in range(0, len(data), DECODE_WINDOW):
                decoder.feed(bytes(data[i : i + DECODE_WINDOW]))
            return
        try:
            if dec.eof:
                raise DeltaFormatError(f"chunk {self.chunk}: bytes after the end of its LZMA stream",
                                       chunk=self.chunk)
            out = dec.decompress(data, max_length=DECODE_WINDOW)
            decoder.feed(out)
            while not dec.eof and not dec.needs_input:
                out = dec.decompress(b"", max_length=DECODE_WINDOW)
                decoder.feed(out)
            if dec.eof and dec.unused_data:
                raise DeltaFormatError(f"chunk {self.chunk}: bytes after the end of its LZMA stream",
                                       chunk=self.chunk)
        except lzma.LZMAError as exc:
            raise DeltaFormatError(f"chunk {self.chunk}: corrupt compressed data ({exc})",
                                   chunk=self.chunk) from None
        except EOFError:
            raise DeltaFormatError(f"chunk {self.chunk}: bytes after the end of its LZMA stream",
                                   chunk=self.chunk) from None

    def _end_chunk(self) -> None:
        decoder = self._decoder
        if decoder is not None:
            if self._lzma is not None and not self._lzma.eof:
                raise DeltaFormatError(f"chunk {self.chunk}: compressed stream does not end with the chunk",
                                       chunk=self.chunk)
            if self._lzss is not None:
                self._lzss.finish()
            if not decoder.done:
                raise DeltaFormatError(f"chunk {self.chunk}: produced {decoder.produced} of "
                                       f"{decoder.length} target bytes", chunk=self.chunk)
        self._decoder = None
        self._lzma = None
        self._lzss = None
        if self._in_map:
            assert isinstance(decoder, MapDecoder)
            self.amap = decoder.result()
            self._in_map = False
        else:
            self.chunk += 1
        self.chunk_offset = self.offset
        assert self.header is not None
        self._state = _LEN if self.chunk < self.header.chunk_count else _END

    def finish(self) -> None:
        """The patch has ended: raise :class:`DeltaTruncatedError` unless it was complete."""
        if self._state != _END:
            where = "header" if self._state == _HEADER else f"chunk {self.chunk}"
            raise DeltaTruncatedError(f"patch ends inside its {where} (after {self.offset} bytes)",
                                      offset=self.offset)
