"""The processor's view of a mote (a :class:`~suitlib.processor.platform.Platform` over flash).

Two components (specs/FLASH-LAYOUT.md §Image container):

* ``[00]`` (:data:`STAGING`): the image area of the staging (secondary) slot's container, that
  is ``header_size`` bytes into the slot. Every release installs here. A full image is written
  by :class:`SlotImageWriter`.
* ``[01]`` (:data:`RUNNING`): the running image in the primary slot, read-only. It is the source
  of a delta payload: the library's :class:`~suitlib.processor.delta.DeltaTransformer` hashes
  it against ``suitlib-parameter-delta-source-digest`` and streams the patch into the flash
  delta applier through :meth:`MotePlatform.regions` (specs/SUIT-PROFILE.md §8), which writes
  the staging image area and keeps its checkpoints in the agent's storage, so a cut resumes the
  patch where flash says it stopped.

The header and the envelope are added by the agent after the processor verified the image.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection

from suitlib.bootloader import image as container
from suitlib.delta import ApplyLayout, Region
from suitlib.errors import FlashError, UnsupportedError
from suitlib.flash.interface import FlashDevice
from suitlib.processor.platform import ComponentId, ComponentWriter, Fetcher
from suitlib.sim.flashview import SplitSectorFlash

STAGING: ComponentId = (b"\x00",)
"""Component 0: the staging slot's image area (where every release installs)."""
RUNNING: ComponentId = (b"\x01",)
"""Component 1: the running image in the primary slot (the source of a delta payload)."""
COMPONENTS: tuple[ComponentId, ...] = (STAGING, RUNNING)
"""The device's component order, as the manufacturer lists them (``suit-common-components``)."""


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
                 store_sequence: Callable[[int], None], running: Region | None = None,
                 running_size: int | None = None, checkpoints: Region | None = None,
                 target_end: int | None = None) -> None:
        self.flash = flash
        self.image_base = image_base
        self.capacity = capacity
        self.running = running
        """The primary slot's image area (``running.offset`` is the running image's first byte);
        ``None``: no running image is exposed (no delta payloads)."""
        self.running_size = running_size if running is not None else None
        """Bytes of the running image (``None``: the primary slot holds no image)."""
        self.checkpoints = checkpoints
        """The delta applier's checkpoint region (``None``: no delta payloads)."""
        self.target_end = target_end
        """End of the staging slot's last image sector (the delta applier's target region end)."""
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
        return COMPONENTS if self.running is not None else (STAGING,)

    def slot(self, component: ComponentId) -> int | None:
        return None

    def size(self, component: ComponentId) -> int | None:
        if tuple(component) == RUNNING:
            return self.running_size
        return self._size

    def generation(self, component: ComponentId) -> int:
        return 0 if tuple(component) == RUNNING else self._generation

    def begin_write(self) -> None:
        self._size = None
        self._generation += 1

    def wrote(self, size: int | None) -> None:
        self._size = size
        self._generation += 1

    def read(self, component: ComponentId, offset: int, length: int) -> bytes:
        if tuple(component) == RUNNING:
            if self.running is None:
                return b""
            base, size = self.running.offset, self.running_size
        else:
            base, size = self.image_base, self._size
        if size is None or offset >= size:
            return b""
        return self.flash.read(base + offset, min(length, size - offset))

    def open_writer(self, component: ComponentId, *, size_hint: int | None = None) -> ComponentWriter:
        if tuple(component) == RUNNING:
            raise UnsupportedError("the running image is written by the bootloader's swap only")
        if size_hint is not None and size_hint > self.capacity:
            raise FlashError(f"an image of {size_hint} bytes does not fit the staging slot ({self.capacity})")
        return SlotImageWriter(self, self.capacity)

    def copy(self, destination: ComponentId, source: ComponentId) -> None:
        raise UnsupportedError("copy is not supported: the bootloader moves images between slots")

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

    # DeltaRegions (suitlib.processor.delta, specs/SUIT-PROFILE.md §8.2)
    def regions(self, source: ComponentId, target: ComponentId) -> tuple[FlashDevice, ApplyLayout]:
        """A patch from the running image into the staging slot: the applier's target region
        must start on an erase boundary, so the first staging sector is split after the
        container header (:class:`~suitlib.sim.flashview.SplitSectorFlash`)."""
        if tuple(source) != RUNNING or tuple(target) != STAGING:
            raise UnsupportedError("a delta applies from the running image [01] into the staging slot [00]",
                                   source=[c.hex() for c in source], target=[c.hex() for c in target])
        if self.running is None or self.checkpoints is None or self.target_end is None:
            raise UnsupportedError("this platform is not configured for delta payloads")
        first = self.flash.sector_at(self.image_base)
        view: FlashDevice = self.flash if first.offset == self.image_base else \
            SplitSectorFlash(self.flash, first.offset, self.image_base - first.offset)  # type: ignore[assignment]
        layout = ApplyLayout(source=self.running,
                             target=Region(self.image_base, self.target_end - self.image_base),
                             state=self.checkpoints)
        self.transformed = True
        return view, layout

    def delta_started(self, target: ComponentId) -> None:
        self.begin_write()

    def delta_finished(self, target: ComponentId, size: int) -> None:
        self.wrote(size)


def container_parts(image_size: int, envelope: bytes, write_unit: int, erase_value: int) -> tuple[bytes, int, bytes]:
    """(header, envelope offset from the slot start, padded envelope) of a container."""
    hs = container.header_size(write_unit)
    header, body = container.build(b"\0" * image_size, envelope, write_unit, erase_value)
    env_off = hs + (-(-image_size // write_unit) * write_unit)
    return header, env_off, body[env_off - hs :]


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
