"""Delta payloads in a signed manifest (specs/SUIT-PROFILE.md §8) on a flash-backed device.

The device is an nRF52840 flash emulator with two slots (component 0: the running image,
component 1: the staging slot) and a checkpoint region; the patches are made from a real
firmware pair of the shared corpus.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suitlib.delta import ApplyLayout, Region, create_patch
from suitlib.delta.errors import DeltaFormatError, DeltaRamError
from suitlib.errors import ConditionFailedError, DeltaSourceMismatchError, FlashError, SuitError
from suitlib.flash import FaultPlan, FlashEmulator, PowerLoss
from suitlib.flash.interface import FlashDevice
from suitlib.limits import DEFAULT_LIMITS
from suitlib.processor.delta import (
    DELTA_FORMAT,
    DELTA_SOURCE_COMPONENT,
    DELTA_SOURCE_DIGEST,
    DeltaInPlaceUnsupportedError,
    DeltaParameterError,
    DeltaRegions,
    DeltaSourceDigestError,
    DeltaTransformer,
)
from suitlib.processor.errors import ImageMismatchError
from suitlib.processor.interpreter import capability_report
from suitlib.processor.memory import MemoryFetcher
from suitlib.processor.platform import ComponentId, ComponentWriter, Fetcher
from suitlib.processor.processor import Processor
from suitlib.processor.program import Cmd, Param
from suitlib.processor.report import Record, ReportReason
from tests.processor.support import C0, C1, CLASS_ID, VENDOR_ID, build, seq, sha256, spec_public_key

SLOT = 0x40000
SLOTS = {C0: Region(0x10000, SLOT), C1: Region(0x50000, SLOT)}
STATE = Region(0x90000, 0x2000)
URI = "coap://update.example/payload/delta"


class _SlotWriter:
    """Erases the slot, programs whole write units, records the size at close."""

    def __init__(self, device: FlashSlotDevice, component: ComponentId) -> None:
        self.device, self.component = device, component
        self.region = SLOTS[component]
        self.pending = bytearray()
        self.offset = 0
        device.invalidate(component)
        device.flash.erase(self.region.offset, self.region.size)

    def write(self, chunk: bytes | memoryview) -> None:
        self.pending += chunk
        unit = self.device.flash.write_unit
        whole = len(self.pending) - len(self.pending) % unit
        if self.offset + len(self.pending) > self.region.size:
            raise FlashError("image larger than the slot")
        if whole:
            self.device.flash.program(self.region.offset + self.offset, bytes(self.pending[:whole]))
            self.offset += whole
            del self.pending[:whole]

    def close(self) -> None:
        size = self.offset + len(self.pending)
        if self.pending:
            unit = self.device.flash.write_unit
            pad = bytes([self.device.flash.erase_value]) * (-len(self.pending) % unit)
            self.device.flash.program(self.region.offset + self.offset, bytes(self.pending) + pad)
            self.pending.clear()
        self.device.sizes[self.component] = size

    def abort(self) -> None:
        self.device.invalidate(self.component)


class FlashSlotDevice:
    """A minimal flash-backed Platform that also implements DeltaRegions."""

    def __init__(self, running: bytes, fetcher: Fetcher) -> None:
        self.flash = FlashEmulator.from_profile("nrf52840")
        self.sizes: dict[ComponentId, int | None] = {C0: None, C1: None}
        self.generations = {C0: 0, C1: 0}
        self._fetcher = fetcher
        self.sequence: int | None = None
        self.events: list[tuple[str, ComponentId]] = []
        writer = _SlotWriter(self, C0)
        writer.write(running)
        writer.close()

    def invalidate(self, component: ComponentId) -> None:
        self.sizes[component] = None
        self.generations[component] += 1

    def slot_bytes(self, component: ComponentId) -> bytes:
        region = SLOTS[component]
        return self.flash.read(region.offset, region.size)

    # Platform
    def vendor_ids(self, component: ComponentId) -> Collection[bytes]:
        return (VENDOR_ID,)

    def class_ids(self, component: ComponentId) -> Collection[bytes]:
        return (CLASS_ID,)

    def device_ids(self, component: ComponentId) -> Collection[bytes]:
        return ()

    def components(self) -> Collection[ComponentId]:
        return (C0, C1)

    def slot(self, component: ComponentId) -> int | None:
        return None

    def size(self, component: ComponentId) -> int | None:
        return self.sizes.get(component)

    def generation(self, component: ComponentId) -> int:
        return self.generations[component]

    def read(self, component: ComponentId, offset: int, length: int) -> bytes:
        size = self.sizes.get(component)
        if size is None or offset >= size:
            return b""
        return self.flash.read(SLOTS[component].offset + offset, min(length, size - offset))

    def open_writer(self, component: ComponentId, *, size_hint: int | None = None) -> ComponentWriter:
        self.events.append(("open_writer", component))
        return _SlotWriter(self, component)

    def copy(self, destination: ComponentId, source: ComponentId) -> None:
        raise AssertionError("not used")

    def swap(self, a: ComponentId, b: ComponentId) -> None:
        raise AssertionError("not used")

    def invoke(self, component: ComponentId, arguments: bytes | None) -> None:
        raise AssertionError("not used")

    def fetcher(self) -> Fetcher:
        return self._fetcher

    def load_sequence_number(self) -> int | None:
        return self.sequence

    def store_sequence_number(self, value: int) -> None:
        self.sequence = value

    def battery_level(self) -> int | None:
        return None

    def now(self) -> int | None:
        return None

    # DeltaRegions
    def regions(self, source: ComponentId, target: ComponentId) -> tuple[FlashDevice, ApplyLayout]:
        return self.flash, ApplyLayout(source=SLOTS[source], target=SLOTS[target], state=STATE)

    def delta_started(self, target: ComponentId) -> None:
        self.events.append(("delta_started", target))
        self.invalidate(target)

    def delta_finished(self, target: ComponentId, size: int) -> None:
        self.events.append(("delta_finished", target))
        self.sizes[target] = size
        self.generations[target] += 1


@pytest.fixture(scope="module")
def pair(corpus_dir: Any) -> tuple[bytes, bytes]:
    folder = corpus_dir / "mbed-blinky-k64f"
    return (folder / "old.bin").read_bytes(), (folder / "new.bin").read_bytes()


@pytest.fixture(scope="module")
def patch(pair: tuple[bytes, bytes]) -> bytes:
    return create_patch(*pair)


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x5A]) + data[at + 1 :]


def envelope(new: bytes, source_digest: bytes, *, fmt: int = 1, source_index: int = 0) -> bytes:
    params = {
        Param.URI: URI,
        Param.IMAGE_DIGEST: sha256(new),
        Param.IMAGE_SIZE: len(new),
        DELTA_FORMAT: fmt,
        DELTA_SOURCE_COMPONENT: source_index,
        DELTA_SOURCE_DIGEST: [-16, source_digest],
    }
    install = seq(
        Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 1,
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, params,
        Cmd.DIRECTIVE_FETCH, 2,
        Cmd.CONDITION_IMAGE_MATCH, 15,
    )
    return build(components=(C0, C1), install=install)


def run(device: FlashSlotDevice, env: bytes, *, delta: bool = True, limits: Any = DEFAULT_LIMITS) -> Any:
    transformers = (DeltaTransformer(device, components=(C0, C1), limits=limits),) if delta else ()
    return Processor(device, [spec_public_key()], limits=limits, transformers=transformers).update(env)


def _device(old: bytes, payload: bytes, previous: bytes | None = None) -> FlashSlotDevice:
    device = FlashSlotDevice(old, MemoryFetcher({URI: payload}, chunk_size=1024))
    if previous is not None:  # a prior image in the staging slot, to see that it is not touched
        writer = _SlotWriter(device, C1)
        writer.write(previous)
        writer.close()
    return device


def test_device_is_a_delta_regions_provider(pair: tuple[bytes, bytes]) -> None:
    assert isinstance(_device(pair[0], b""), DeltaRegions)


def test_signed_delta_installs_corpus_pair_byte_exact(pair: tuple[bytes, bytes], patch: bytes) -> None:
    old, new = pair
    device = _device(old, patch)
    result = run(device, envelope(new, hashlib.sha256(old).digest()))
    assert result.ok, result.error
    assert len(patch) < len(new) // 2  # a delta was transferred, not the image
    assert device.size(C1) == len(new)
    assert device.read(C1, 0, len(new)) == new
    assert device.read(C0, 0, len(old)) == old  # the source slot is never written
    assert ("open_writer", C1) not in device.events  # the applier wrote the slot, not the image writer
    assert device.events[-2:] == [("delta_started", C1), ("delta_finished", C1)]
    matched = [r for r in result.report.records if isinstance(r, Record) and r.command == Cmd.CONDITION_IMAGE_MATCH]
    assert [(r.component_index, r.success) for r in matched] == [(1, True)]


def _refused_before_write(device: FlashSlotDevice, before: bytes, result: Any) -> None:
    assert not result.ok
    assert device.slot_bytes(C1) == before
    assert ("delta_started", C1) not in device.events


def test_wrong_source_digest_refused_before_write(pair: tuple[bytes, bytes], patch: bytes) -> None:
    old, new = pair
    device = _device(old, patch, previous=b"previous image" * 100)
    before = device.slot_bytes(C1)
    result = run(device, envelope(new, hashlib.sha256(old + b"x").digest()))
    _refused_before_write(device, before, result)
    assert isinstance(result.error, DeltaSourceDigestError)
    assert isinstance(result.error, ConditionFailedError)
    assert result.report.result.reason == ReportReason.CONDITION_FAILED
    assert result.report.result.record.command == Cmd.DIRECTIVE_FETCH


def test_patch_for_another_source_refused_before_write(pair: tuple[bytes, bytes]) -> None:
    old, new = pair
    other_source = _flip(old, len(old) // 3)
    foreign = create_patch(other_source, new)
    device = _device(old, foreign, previous=b"previous image" * 100)
    before = device.slot_bytes(C1)
    result = run(device, envelope(new, hashlib.sha256(old).digest()))  # -259 is right, the patch is not
    _refused_before_write(device, before, result)
    assert isinstance(result.error, DeltaSourceMismatchError)
    assert not isinstance(result.error, DeltaSourceDigestError)


def test_patch_to_another_target_fails_image_match(pair: tuple[bytes, bytes]) -> None:
    old, new = pair
    other_target = _flip(new, len(new) // 2)
    patch = create_patch(old, other_target)
    device = _device(old, patch)
    result = run(device, envelope(new, hashlib.sha256(old).digest()))
    assert isinstance(result.error, ImageMismatchError)
    assert result.report.result.record.command == Cmd.CONDITION_IMAGE_MATCH
    assert device.read(C1, 0, len(new)) == other_target  # applied, but not accepted


def test_unknown_format_refused(pair: tuple[bytes, bytes], patch: bytes) -> None:
    old, new = pair
    device = _device(old, patch, previous=b"previous image" * 100)
    before = device.slot_bytes(C1)
    result = run(device, envelope(new, hashlib.sha256(old).digest(), fmt=2))
    _refused_before_write(device, before, result)
    assert isinstance(result.error, DeltaParameterError)
    assert result.error.fields["parameter"] == DELTA_FORMAT
    assert result.report.result.reason == ReportReason.PARAMETER_UNSUPPORTED


def test_in_place_refused_with_typed_error(pair: tuple[bytes, bytes], patch: bytes) -> None:
    old, new = pair
    device = _device(old, patch, previous=b"previous image" * 100)
    before = device.slot_bytes(C1)
    result = run(device, envelope(new, hashlib.sha256(old).digest(), source_index=1))
    _refused_before_write(device, before, result)
    assert isinstance(result.error, DeltaInPlaceUnsupportedError)


def test_ram_budget_below_patch_refused_before_write(pair: tuple[bytes, bytes], patch: bytes) -> None:
    old, new = pair
    device = _device(old, patch, previous=b"previous image" * 100)
    before = device.slot_bytes(C1)
    result = run(device, envelope(new, hashlib.sha256(old).digest()),
                 limits=replace(DEFAULT_LIMITS, patch_ram=1024))
    _refused_before_write(device, before, result)
    assert isinstance(result.error, DeltaRamError)


def test_without_transformer_patch_fails_image_digest(pair: tuple[bytes, bytes], patch: bytes) -> None:
    old, new = pair
    device = _device(old, patch)
    result = run(device, envelope(new, hashlib.sha256(old).digest()), delta=False)
    assert isinstance(result.error, ImageMismatchError)
    assert device.read(C1, 0, len(patch) + 1) == patch  # stored as bytes, never accepted as the image


def test_truncated_patch_fails_and_leaves_destination_invalid(pair: tuple[bytes, bytes], patch: bytes) -> None:
    old, new = pair
    device = _device(old, patch[: len(patch) * 2 // 3])
    result = run(device, envelope(new, hashlib.sha256(old).digest()))
    assert isinstance(result.error, DeltaFormatError)
    assert device.size(C1) is None  # written into, then never completed: no content
    assert ("delta_finished", C1) not in device.events


def _clean_ops(old: bytes, patch: bytes, env: bytes) -> tuple[int, int]:
    device = _device(old, patch)
    start = device.flash.ops
    assert run(device, env).ok
    return start, device.flash.ops


def _cut_and_resume(old: bytes, new: bytes, patch: bytes, stride: int) -> int:
    """A cut at every ``stride``-th operation of the apply (clean, torn prefix, torn bits in
    turn); after the power comes back the same signed manifest runs again, resumes and ends
    byte-exact. Returns the number of cut points tried."""
    env = envelope(new, hashlib.sha256(old).digest())
    start, end = _clean_ops(old, patch, env)
    assert end - start > 10
    torn_modes = (None, "prefix", "bits")
    points = list(range(start, end, stride))
    if points[-1] != end - 1:
        points.append(end - 1)
    for n, at in enumerate(points):
        device = _device(old, patch)
        assert device.flash.ops == start
        device.flash.arm(FaultPlan.cut(at, torn=torn_modes[n % 3], seed=at))
        with pytest.raises(PowerLoss):
            run(device, env)
        device.flash.power_cycle()
        device.flash.arm(None)
        result = run(device, env)
        assert result.ok, (at, result.error)
        assert device.read(C1, 0, len(new)) == new, at
        assert device.read(C0, 0, len(old)) == old, at
    return len(points)


def test_power_cuts_during_delta_fetch_resume_to_exact_image(pair: tuple[bytes, bytes], patch: bytes) -> None:
    assert _cut_and_resume(*pair, patch, stride=11) >= 10


@pytest.mark.slow
def test_power_cut_at_every_operation_of_delta_fetch(pair: tuple[bytes, bytes], patch: bytes) -> None:
    _cut_and_resume(*pair, patch, stride=1)


def test_capability_report_lists_the_delta_parameters(pair: tuple[bytes, bytes]) -> None:
    device = _device(pair[0], b"")
    caps = capability_report(device.components(), transformers=(DeltaTransformer(device),))
    assert {DELTA_FORMAT, DELTA_SOURCE_COMPONENT, DELTA_SOURCE_DIGEST} <= set(caps[3])
    assert not {DELTA_FORMAT} & set(capability_report(device.components())[3])


_values = st.one_of(st.none(), st.booleans(), st.integers(-300, 300), st.binary(max_size=40),
                    st.text(max_size=4), st.lists(st.one_of(st.integers(-50, 50), st.binary(max_size=40)),
                                                   max_size=3))


@settings(max_examples=60)
@given(fmt=_values, index=_values, digest=_values)
def test_arbitrary_delta_parameters_give_typed_errors_and_write_nothing(
    pair: tuple[bytes, bytes], fmt: Any, index: Any, digest: Any
) -> None:
    old = pair[0]
    device = _device(old, b"")
    before = device.flash.ops
    params = {k: v for k, v in ((DELTA_FORMAT, fmt), (DELTA_SOURCE_COMPONENT, index),
                                (DELTA_SOURCE_DIGEST, digest)) if v is not None}
    transformer = DeltaTransformer(device, components=(C0, C1))
    try:
        sink = transformer(params, C1, _NoWrite(), device)
    except SuitError:
        sink = None
    else:
        # only a well-formed request for the real source may get a sink, and it has not written
        assert sink is None or (fmt == 1 and index == 0 and list(digest) == [-16, hashlib.sha256(old).digest()])
    assert device.flash.ops == before


class _NoWrite:
    def write(self, chunk: bytes | memoryview) -> None:
        raise AssertionError("the delta transformer must not write through the component writer")

    def close(self) -> None:
        raise AssertionError("the delta transformer must not close the component writer")
