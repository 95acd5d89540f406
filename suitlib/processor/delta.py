"""Delta payloads: apply a patch while it is fetched (specs/SUIT-PROFILE.md §8, specs/DELTA-FORMAT.md).

A component whose parameters carry ``suitlib-parameter-delta-format`` (-257) receives a patch,
not an image. :class:`DeltaTransformer` puts a :class:`DeltaSink` in front of the component
writer: the fetched bytes stream into a :class:`~suitlib.delta.DeltaApplier` that writes the
target image straight into the destination's flash region; the component writer itself is never
opened. Afterwards the processor's ``suit-condition-image-match`` checks the manifest's image
digest as for any image.

Before the first byte is accepted the transformer checks the format (-257), the source
component (-258: present, not the destination) and the source digest (-259: the source
component's content is read back through the platform and hashed). When the patch header
arrives the applier refuses, still before writing, a patch for another source, a corrupt header,
a declared RAM above ``Limits.patch_ram``, or a target larger than the slot.

Where a component lives in flash is the device's business: it implements :class:`DeltaRegions`.
In-place patches (source == destination) need two passes over the patch, which one fetch cannot
give; they are refused with :class:`DeltaInPlaceUnsupportedError`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from suitlib.delta import ApplyLayout, DeltaApplier
from suitlib.delta.errors import DeltaError, DeltaFormatError
from suitlib.errors import ConditionFailedError, DeltaSourceMismatchError, UnsupportedError, ValidationError
from suitlib.flash.interface import FlashDevice, Sector
from suitlib.limits import DEFAULT_LIMITS, Limits
from suitlib.processor.errors import REASON_CONDITION_FAILED, REASON_PARAMETER_UNSUPPORTED
from suitlib.processor.platform import ChunkSink, ComponentId, Platform

DELTA_FORMAT = -257
"""``suitlib-parameter-delta-format``: uint, the patch format of the payload."""
DELTA_SOURCE_COMPONENT = -258
"""``suitlib-parameter-delta-source-component``: uint, index of the source component."""
DELTA_SOURCE_DIGEST = -259
"""``suitlib-parameter-delta-source-digest``: SUIT_Digest of the source image."""
DELTA_PARAMETERS = frozenset({DELTA_FORMAT, DELTA_SOURCE_COMPONENT, DELTA_SOURCE_DIGEST})

FORMAT_SUITLIB_V1 = 1
"""specs/DELTA-FORMAT.md, version 1."""
SUPPORTED_FORMATS = frozenset({FORMAT_SUITLIB_V1})

READ_CHUNK = 4096
DEFAULT_HASHES: Mapping[int, Callable[[], Any]] = {
    -16: hashlib.sha256,
    -43: hashlib.sha384,
    -44: hashlib.sha512,
}


class DeltaSourceDigestError(DeltaSourceMismatchError, ConditionFailedError):
    """The source component does not hold the image ``suitlib-parameter-delta-source-digest`` names."""

    default_hint = "the device does not run the image this delta was made from; send a full image"

    def __init__(self, message: str, **fields: Any) -> None:
        fields.setdefault("reason", REASON_CONDITION_FAILED)
        super().__init__(message, **fields)


class DeltaParameterError(UnsupportedError):
    """A delta parameter this processor cannot honour (unknown format, bad value)."""

    def __init__(self, message: str, **fields: Any) -> None:
        fields.setdefault("reason", REASON_PARAMETER_UNSUPPORTED)
        super().__init__(message, **fields)


class DeltaInPlaceUnsupportedError(DeltaParameterError):
    """The delta's source component is its destination: an in-place patch needs a dry run and a
    second pass over the patch, which a single fetch does not provide."""

    default_hint = "make a sequential patch into a separate staging component"


@runtime_checkable
class DeltaRegions(Protocol):
    """What a flash-backed device tells the delta transformer (its platform-specific part)."""

    def regions(self, source: ComponentId, target: ComponentId) -> tuple[FlashDevice, ApplyLayout]:
        """The flash and the applier layout for a patch from ``source`` into ``target``:
        ``layout.source`` holds ``source``'s content from its first byte, ``layout.target`` is
        ``target``'s slot (whole erase sectors), ``layout.state`` the checkpoint region.
        Raise a :class:`~suitlib.errors.SuitError` if the pair has no such layout."""

    def delta_started(self, target: ComponentId) -> None:
        """The applier is about to write ``target``'s slot: its content is no longer valid."""

    def delta_finished(self, target: ComponentId, size: int) -> None:
        """``target``'s slot now holds a complete, verified image of ``size`` bytes."""


class _WatchedFlash:
    """Delegates to a :class:`FlashDevice` and calls ``on_write`` once, before the first program
    or erase that touches ``region`` (so the platform learns when the target changes)."""

    def __init__(self, flash: FlashDevice, start: int, end: int, on_write: Callable[[], None]) -> None:
        self._flash = flash
        self._start, self._end = start, end
        self._on_write: Callable[[], None] | None = on_write
        self.size = flash.size
        self.write_unit = flash.write_unit
        self.erase_value = flash.erase_value
        self.write_once = flash.write_once

    @property
    def touched(self) -> bool:
        return self._on_write is None

    def _touch(self, address: int, length: int) -> None:
        if self._on_write is not None and address < self._end and address + length > self._start:
            notify, self._on_write = self._on_write, None
            notify()

    @property
    def sectors(self) -> tuple[Sector, ...]:
        return self._flash.sectors

    def sector_at(self, address: int) -> Sector:
        return self._flash.sector_at(address)

    def read(self, address: int, length: int) -> bytes:
        return self._flash.read(address, length)

    def program(self, address: int, data: bytes) -> None:
        self._touch(address, len(data))
        self._flash.program(address, data)

    def erase(self, address: int, length: int) -> None:
        self._touch(address, length)
        self._flash.erase(address, length)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._flash, name)


class DeltaSink:
    """A :class:`~suitlib.processor.platform.ChunkSink` that feeds a patch into a sequential
    :class:`DeltaApplier` (one pass) and tells the device when the target is complete."""

    def __init__(self, applier: DeltaApplier, regions: DeltaRegions, target: ComponentId) -> None:
        self.applier = applier
        self._regions = regions
        self._target = target
        self._started = False
        self._closed = False

    def write(self, chunk: bytes | memoryview) -> None:
        if self._closed:
            raise DeltaError("patch data after the end of the transfer")
        if not self._started:
            self._started = True
            self.applier.begin_pass()
        self.applier.feed(bytes(chunk))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if not self._started:
            raise DeltaFormatError("the delta payload is empty")
        if not self.applier.end_pass():
            raise DeltaError("the patch asks for another pass; only sequential patches are applied while fetching")
        header = self.applier.header
        assert header is not None
        self._regions.delta_finished(self._target, header.target_size)


class DeltaTransformer:
    """A processor transformer for delta payloads (specs/SUIT-PROFILE.md §8).

    ``regions`` is the device's flash layout. ``components`` maps
    ``suitlib-parameter-delta-source-component`` indices to component ids: the manifest's
    ``suit-common-components`` order, which on a device is a fixed convention (default: the
    order of ``platform.components()``). A wrong mapping cannot install anything: the source
    digest check (-259) refuses it.
    """

    handled_parameters = DELTA_PARAMETERS
    """Parameter codes this transformer implements (the processor must not refuse them)."""

    def __init__(
        self,
        regions: DeltaRegions,
        *,
        components: Sequence[ComponentId] | None = None,
        limits: Limits = DEFAULT_LIMITS,
        hashes: Mapping[int, Callable[[], Any]] | None = None,
    ) -> None:
        self.regions = regions
        self.components = None if components is None else tuple(tuple(c) for c in components)
        self.limits = limits
        self.hashes = DEFAULT_HASHES if hashes is None else hashes

    def __call__(
        self, params: Mapping[int, Any], component: ComponentId, sink: ChunkSink, platform: Platform
    ) -> ChunkSink | None:
        if DELTA_FORMAT not in params:
            return None
        fmt = params[DELTA_FORMAT]
        if isinstance(fmt, bool) or not isinstance(fmt, int) or fmt not in SUPPORTED_FORMATS:
            raise DeltaParameterError(
                f"suitlib-parameter-delta-format {fmt!r} is not supported (supported: "
                f"{sorted(SUPPORTED_FORMATS)})", parameter=DELTA_FORMAT)
        target = tuple(component)
        source = self._source_component(params, platform)
        if source == target:
            raise DeltaInPlaceUnsupportedError(
                "in-place delta payloads (source component = destination) are not supported",
                parameter=DELTA_SOURCE_COMPONENT)
        self._check_source_digest(params, source, platform)
        flash, layout = self.regions.regions(source, target)
        if layout.in_place:
            raise DeltaInPlaceUnsupportedError("the device maps source and destination to one slot",
                                               parameter=DELTA_SOURCE_COMPONENT)
        watched = _WatchedFlash(flash, layout.target.offset, layout.target.end,
                                lambda: self.regions.delta_started(target))
        applier = DeltaApplier(watched, layout, ram_budget=self.limits.patch_ram)  # type: ignore[arg-type]
        return DeltaSink(applier, self.regions, target)

    def _source_component(self, params: Mapping[int, Any], platform: Platform) -> ComponentId:
        index = params.get(DELTA_SOURCE_COMPONENT)
        if index is None:
            raise ValidationError("a delta payload needs suitlib-parameter-delta-source-component (-258)",
                                  parameter=DELTA_SOURCE_COMPONENT, reason=REASON_PARAMETER_UNSUPPORTED)
        components = self.components if self.components is not None else tuple(platform.components())
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(components):
            raise ValidationError(f"suitlib-parameter-delta-source-component {index!r} is out of range",
                                  parameter=DELTA_SOURCE_COMPONENT, reason=6)
        return tuple(components[index])

    def _check_source_digest(self, params: Mapping[int, Any], source: ComponentId, platform: Platform) -> None:
        raw = params.get(DELTA_SOURCE_DIGEST)
        if raw is None:
            raise ValidationError("a delta payload needs suitlib-parameter-delta-source-digest (-259)",
                                  parameter=DELTA_SOURCE_DIGEST, reason=REASON_PARAMETER_UNSUPPORTED)
        algorithm, expected = _digest_pair(raw)
        factory = self.hashes.get(algorithm)
        if factory is None:
            raise DeltaParameterError(f"source digest algorithm {algorithm} is not supported",
                                      parameter=DELTA_SOURCE_DIGEST)
        size = platform.size(source)
        if size is None:
            raise DeltaSourceDigestError("the delta's source component is empty; nothing was written",
                                         parameter=DELTA_SOURCE_DIGEST)
        h = factory()
        offset = 0
        while offset < size:
            data = platform.read(source, offset, min(READ_CHUNK, size - offset))
            if not data:
                break
            h.update(data)
            offset += len(data)
        actual = h.digest()
        if offset != size or not hmac.compare_digest(actual, expected):
            raise DeltaSourceDigestError(
                "the source component does not match suitlib-parameter-delta-source-digest; "
                "nothing was written", parameter=DELTA_SOURCE_DIGEST,
                expected=expected.hex(), actual=actual.hex())


def _digest_pair(raw: Any) -> tuple[int, bytes]:
    """A SUIT_Digest (§8.4.8.6) as decoded (``[alg, bytes]``) or as a model object."""
    algorithm = getattr(raw, "algorithm", None)
    value = getattr(raw, "value", None)
    if algorithm is None and isinstance(raw, Sequence) and not isinstance(raw, (bytes, str)) and len(raw) >= 2:
        algorithm, value = raw[0], raw[1]
    if isinstance(algorithm, bool) or not isinstance(algorithm, int) or not isinstance(value, (bytes, bytearray)):
        raise ValidationError("suitlib-parameter-delta-source-digest is not a SUIT_Digest",
                              parameter=DELTA_SOURCE_DIGEST, reason=REASON_PARAMETER_UNSUPPORTED)
    return algorithm, bytes(value)


__all__ = [
    "DELTA_FORMAT", "DELTA_PARAMETERS", "DELTA_SOURCE_COMPONENT", "DELTA_SOURCE_DIGEST",
    "DeltaInPlaceUnsupportedError", "DeltaParameterError", "DeltaRegions", "DeltaSink",
    "DeltaSourceDigestError", "DeltaTransformer", "FORMAT_SUITLIB_V1",
]
