"""The processor's view of a mote (a :class:`~suitlib.processor.platform.Platform` over flash).

One component, ``[00]``: the image area of the staging (secondary) slot's container, that is
``header_size`` bytes into the slot (specs/FLASH-LAYOUT.md §Image container). A full image is
written there by :class:`SlotImageWriter`; a delta payload is streamed through
:class:`DeltaTransformer` into the flash delta applier, which writes the same area and keeps its
checkpoints in the agent's storage, so a cut resumes the patch where flash says it stopped.
The header and the envelope are added by the agent after the processor verified the image.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping
from typing import Any

from suitlib.bootloader import image as container
from suitlib.delta import ApplyLayout, DeltaApplier, Region
from suitlib.errors import DeltaError, FlashError, UnsupportedError
from suitlib.flash.interface import FlashDevice
from suitlib.processor.errors import UnsupportedParameterError
from suitlib.processor.platform import ChunkSink, ComponentId, ComponentWriter, Fetcher, Platform
from suitlib.sim.flashview import SplitSectorFlash
from suitlib.sim.manufacturer import DELTA_FORMAT, DELTA_FORMAT_SUITLIB

STAGING: ComponentId = (b"\x00",)


class SlotImageWriter:
    """Writes an image from ``base`` on: each erase sector is erased when first entered, data is
    programmed in whole write units (the tail is padded with the erase value at close)."""

    def __init__(self, platform: MotePlatform, capacity: int) -> None:
        self.platform = platform
        self.flash = platform.flash
        self.base = platform.image_base
        self.capacity = capacity
        # a resumed download: the first ``resume_offset`` bytes are already in flash; the
        # fetcher replays them from there and this writer lets them pass without programming
        self.skip = platform.resume_offset
        self.pos = self.skip
        self.pending = bytearray()
        start = self.base + self.skip
        sector = self.flash.sector_at(start)
        # a fresh write erases every sector it enters; a resumed one keeps the sector it resumes in
        self.erased_end = start if self.skip == 0 or sector.offset == start else sector.end
        platform.begin_write()
        platform.writer = self

    @property
    def committed(self) -> int:
        """Bytes of the image durably programmed."""
        return self.pos

    def write(self, chunk: bytes | memoryview) -> None:
        if self.skip:
            drop = min(self.skip, len(chunk))
            chunk, self.skip = chunk[drop:], self.skip - drop
            if not chunk:
                return
        if self.pos + len(self.pending) + len(chunk) > self.capacity:
            raise FlashError("image larger than the staging slot", capacity=self.capacity)
        data = bytes(self.pending) + bytes(chunk)
        unit = self.flash.write_unit
        whole = len(data) - len(data) % unit
        self._program(data[:whole])
        self.pending = bytearray(data[whole:])
        self.platform.wrote(self.pos + len(self.pending))

    def _program(self, data: bytes) -> None:
        done = 0
        while done < len(data):
            addr = self.base + self.pos
            sector = self.flash.sector_at(addr)
            if addr >= self.erased_end:
                self.flash.erase(sector.offset, sector.size)
                self.erased_end = sector.end
            n = min(len(data) - done, sector.end - addr)
            self.flash.program(addr, data[done : done + n])
            done += n
            self.pos += n

    def close(self) -> None:
        if self.pending:
            size = self.pos + len(self.pending)
            pad = bytes([self.flash.erase_value]) * (-len(self.pending) % self.flash.write_unit)
            self._program(bytes(self.pending) + pad)
            self.pending.clear()
            self.pos = size
        self.platform.wrote(self.pos)

    def abort(self) -> None:
        self.platform.wrote(None)


class MotePlatform:
    """A :class:`Platform` over the mote's flash (see the module docstring)."""

    def __init__(self, flash: FlashDevice, *, image_base: int, capacity: int, vendor: bytes,
                 device_class: bytes, fetcher: Fetcher, load_sequence: Callable[[], int | None],
                 store_sequence: Callable[[int], None]) -> None:
        self.flash = flash
        self.image_base = image_base
        self.capacity = capacity
        self._vendor, self._class = vendor, device_class
        self._fetcher = fetcher
        self._load, self._store = load_sequence, store_sequence
        self._size: int | None = None
        self._generation = 0
        self.resume_offset = 0
        """Bytes of a resumed full-image download already in the staging slot."""
        self.writer: SlotImageWriter | None = None
        self.transformed = False
        """The current fetch goes through a transformer (no download resume: its output is not the payload)."""

    # identity (§8.4.8.1)
    def vendor_ids(self, component: ComponentId) -> Collection[bytes]:
        return (self._vendor,)

    def class_ids(self, component: ComponentId) -> Collection[bytes]:
        return (self._class,)

    def device_ids(self, component: ComponentId) -> Collection[bytes]:
        return ()

    def components(self) -> Collection[ComponentId]:
        return (STAGING,)

    def slot(self, component: ComponentId) -> int | None:
        return None

    def size(self, component: ComponentId) -> int | None:
        return self._size

    def generation(self, component: ComponentId) -> int:
        return self._generation

    def begin_write(self) -> None:
        self._size = None
        self._generation += 1

    def wrote(self, size: int | None) -> None:
        self._size = size
        self._generation += 1

    def read(self, component: ComponentId, offset: int, length: int) -> bytes:
        if self._size is None or offset >= self._size:
            return b""
        return self.flash.read(self.image_base + offset, min(length, self._size - offset))

    def open_writer(self, component: ComponentId, *, size_hint: int | None = None) -> ComponentWriter:
        if size_hint is not None and size_hint > self.capacity:
            raise FlashError(f"an image of {size_hint} bytes does not fit the staging slot ({self.capacity})")
        return SlotImageWriter(self, self.capacity)

    def copy(self, destination: ComponentId, source: ComponentId) -> None:
        raise UnsupportedError("this device has one component; copy is not supported")

    def swap(self, a: ComponentId, b: ComponentId) -> None:
        raise UnsupportedError("swaps are the bootloader's job on this device")

    def invoke(self, component: ComponentId, arguments: bytes | None) -> None:
        raise UnsupportedError("the update agent does not invoke; the bootloader boots the image")

    def fetcher(self) -> Fetcher:
        return self._fetcher

    def load_sequence_number(self) -> int | None:
        return self._load()

    def store_sequence_number(self, value: int) -> None:
        self._store(value)

    def battery_level(self) -> int | None:
        return None

    def now(self) -> int | None:
        return None


class _DeltaSink:
    def __init__(self, applier: DeltaApplier, platform: MotePlatform) -> None:
        self.applier = applier
        self.platform = platform
        self.started = False

    def write(self, chunk: bytes | memoryview) -> None:
        if not self.started:
            self.started = True
            self.platform.begin_write()
            self.applier.begin_pass()
        self.applier.feed(bytes(chunk))

    def close(self) -> None:
        if not self.started:
            raise DeltaError("empty patch")
        if not self.applier.end_pass():
            raise DeltaError("the patch needs another pass; only sequential patches are accepted")
        header = self.applier.header
        assert header is not None
        self.platform.wrote(header.target_size)


class DeltaTransformer:
    """A processor transformer for :data:`DELTA_FORMAT`: the fetched bytes are a patch from the
    running image (primary slot) to the new one, applied straight into the staging slot."""

    handled_parameters = frozenset({DELTA_FORMAT})

    def __init__(self, platform: MotePlatform, *, source: Region, target: Region, state: Region,
                 ram_budget: int) -> None:
        self.view = SplitSectorFlash(platform.flash, platform.flash.sector_at(target.offset).offset,
                                     target.offset - platform.flash.sector_at(target.offset).offset) \
            if platform.flash.sector_at(target.offset).offset != target.offset else platform.flash
        self.layout = ApplyLayout(source=source, target=target, state=state)
        self.ram_budget = ram_budget
        self.platform = platform

    def __call__(self, params: Mapping[int, Any], component: ComponentId, sink: ChunkSink,
                 platform: Platform) -> ChunkSink | None:
        fmt = params.get(DELTA_FORMAT)
        self.platform.transformed = fmt is not None
        if fmt is None:
            return None
        if fmt != DELTA_FORMAT_SUITLIB:
            raise UnsupportedParameterError(f"delta format {fmt!r} is not supported", parameter=DELTA_FORMAT)
        return _DeltaSink(DeltaApplier(self.view, self.layout, ram_budget=self.ram_budget), self.platform)


def container_parts(image_size: int, envelope: bytes, write_unit: int, erase_value: int) -> tuple[bytes, int, bytes]:
    """(header, envelope offset from the slot start, padded envelope) of a container."""
    hs = container.header_size(write_unit)
    header, body = container.build(b"\0" * image_size, envelope, write_unit, erase_value)
    env_off = hs + (-(-image_size // write_unit) * write_unit)
    return header, env_off, body[env_off - hs :]


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
