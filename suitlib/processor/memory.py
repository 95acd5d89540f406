"""An in-memory device for tests, the `suit run` verb and benchmarks.

Components are byte arrays; every effect is appended to :attr:`InMemoryPlatform.log` so a test
can assert what the processor did (which URIs were fetched, which components written, copied,
swapped, invoked). The persistent sequence number lives in a :class:`MemoryStore` that a test
can hand to a fresh platform to model a reboot.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from suitlib.errors import FlashError, TransportError
from suitlib.processor.platform import ChunkSink, ComponentId, ComponentWriter, Fetcher


@dataclass
class MemoryStore:
    """Non-volatile storage that outlives a platform object (a reboot keeps it)."""

    sequence_number: int | None = None


class MemoryFetcher:
    """Serves URIs from a dict, in chunks of ``chunk_size`` bytes."""

    def __init__(self, resources: Mapping[str, bytes] | None = None, *, chunk_size: int = 4096) -> None:
        self.resources: dict[str, bytes] = dict(resources or {})
        self.chunk_size = chunk_size
        self.requests: list[str] = []

    def fetch(self, uri: str, sink: ChunkSink, *, fetch_arguments: bytes | None = None) -> None:
        """Push the resource into ``sink``; :class:`TransportError` if it is unknown."""
        self.requests.append(uri)
        data = self.resources.get(uri)
        if data is None:
            raise TransportError(f"no resource at {uri}", uri=uri)
        with memoryview(data) as view:
            write = sink.write
            step = self.chunk_size
            for start in range(0, len(view), step):
                write(view[start : start + step])
        sink.close()


@dataclass
class MemoryComponent:
    """One component of the in-memory device."""

    capacity: int = 1 << 20
    content: bytearray | None = None
    slot: int | None = None
    vendor_ids: tuple[bytes, ...] = ()
    class_ids: tuple[bytes, ...] = ()
    device_ids: tuple[bytes, ...] = ()
    generation: int = 0
    """Bumped on every change of content, by any path."""


class _MemoryWriter:
    """Rewrites one component from offset 0 (erased first); ``abort`` leaves it empty.

    With a size hint the storage is allocated once (or the component's existing storage is
    reused) and the chunks are copied into place; ``close`` trims it to what was written.
    """

    def __init__(self, platform: InMemoryPlatform, component: ComponentId, size_hint: int | None) -> None:
        self._platform = platform
        self._component = component
        self._comp = platform._components[component]
        previous = self._comp.content
        if previous is not None and size_hint and len(previous) >= size_hint:
            self._buffer = previous  # rewrite the same storage, as flash would be
        else:
            self._buffer = bytearray(size_hint) if size_hint else bytearray()
        self._position = 0
        self._comp.content = self._buffer  # erased
        self._comp.generation += 1
        self._open = True

    def write(self, chunk: bytes | memoryview) -> None:
        if not self._open:
            raise FlashError("write after close", component=self._component)
        end = self._position + len(chunk)
        if end > self._comp.capacity:
            self.abort()
            raise FlashError(
                f"component {self._component!r} is full ({self._comp.capacity} bytes)",
                component=self._component,
            )
        if end <= len(self._buffer):
            self._buffer[self._position : end] = chunk
        else:
            del self._buffer[self._position :]
            self._buffer += chunk
        self._position = end
        self._comp.generation += 1

    def close(self) -> None:
        if self._open:
            self._open = False
            del self._buffer[self._position :]
            self._platform.log.append(("write", self._component, self._position))

    def abort(self) -> None:
        self._open = False
        self._comp.content = None
        self._comp.generation += 1
        self._platform.log.append(("erase", self._component))


@dataclass
class InMemoryPlatform:
    """A :class:`~suitlib.processor.platform.Platform` held entirely in memory."""

    components_map: dict[ComponentId, MemoryComponent]
    fetcher_impl: Fetcher = field(default_factory=MemoryFetcher)
    store: MemoryStore = field(default_factory=MemoryStore)
    battery: int | None = None
    clock: int | None = None
    log: list[tuple] = field(default_factory=list)

    @property
    def _components(self) -> dict[ComponentId, MemoryComponent]:
        return self.components_map

    @classmethod
    def simple(
        cls,
        *,
        vendor_id: bytes,
        class_id: bytes,
        components: Iterable[ComponentId] = ((b"\x00",),),
        device_id: bytes | None = None,
        slots: Mapping[ComponentId, int] | None = None,
        resources: Mapping[str, bytes] | None = None,
        contents: Mapping[ComponentId, bytes] | None = None,
        capacity: int = 1 << 20,
        sequence_number: int | None = None,
    ) -> InMemoryPlatform:
        """A device whose components all share one vendor, class (and device) id."""
        comps: dict[ComponentId, MemoryComponent] = {}
        for cid in components:
            comps[tuple(cid)] = MemoryComponent(
                capacity=capacity,
                slot=(slots or {}).get(tuple(cid)),
                vendor_ids=(vendor_id,),
                class_ids=(class_id,),
                device_ids=(device_id,) if device_id is not None else (),
            )
        for cid, data in (contents or {}).items():
            comps[tuple(cid)].content = bytearray(data)
        return cls(
            components_map=comps,
            fetcher_impl=MemoryFetcher(resources or {}),
            store=MemoryStore(sequence_number),
        )

    # --- identity --------------------------------------------------------------------------
    def _get(self, component: ComponentId) -> MemoryComponent:
        try:
            return self._components[component]
        except KeyError:
            raise FlashError(f"no component {component!r} on this device", component=component) from None

    def vendor_ids(self, component: ComponentId) -> Collection[bytes]:
        return self._get(component).vendor_ids

    def class_ids(self, component: ComponentId) -> Collection[bytes]:
        return self._get(component).class_ids

    def device_ids(self, component: ComponentId) -> Collection[bytes]:
        return self._get(component).device_ids

    # --- components ------------------------------------------------------------------------
    def components(self) -> Collection[ComponentId]:
        return tuple(self._components)

    def slot(self, component: ComponentId) -> int | None:
        return self._get(component).slot

    def size(self, component: ComponentId) -> int | None:
        content = self._get(component).content
        return None if content is None else len(content)

    def generation(self, component: ComponentId) -> int:
        return self._get(component).generation

    def read(self, component: ComponentId, offset: int, length: int) -> bytes:
        content = self._get(component).content
        if content is None:
            return b""
        with memoryview(content) as view:
            return bytes(view[offset : offset + length])

    def content(self, component: ComponentId) -> bytes | None:
        """The whole content of a component (test helper, not part of the protocol)."""
        data = self._get(component).content
        return None if data is None else bytes(data)

    def open_writer(self, component: ComponentId, *, size_hint: int | None = None) -> ComponentWriter:
        comp = self._get(component)
        if size_hint is not None and size_hint > comp.capacity:
            raise FlashError(
                f"payload of {size_hint} bytes does not fit component {component!r} ({comp.capacity})",
                component=component,
            )
        return _MemoryWriter(self, component, size_hint)

    def copy(self, destination: ComponentId, source: ComponentId) -> None:
        src, dst = self._get(source), self._get(destination)
        if src.content is None:
            raise FlashError(f"copy from empty component {source!r}", component=source)
        if len(src.content) > dst.capacity:
            raise FlashError(f"component {destination!r} is too small for the copy", component=destination)
        dst.content = bytearray(src.content)
        dst.generation += 1
        self.log.append(("copy", destination, source))

    def swap(self, a: ComponentId, b: ComponentId) -> None:
        ca, cb = self._get(a), self._get(b)
        if ca.content is None or cb.content is None:
            raise FlashError("swap with an empty component", components=[a, b])
        if len(ca.content) > cb.capacity or len(cb.content) > ca.capacity:
            raise FlashError("swap does not fit", components=[a, b])
        ca.content, cb.content = cb.content, ca.content
        ca.generation += 1
        cb.generation += 1
        self.log.append(("swap", a, b))

    def invoke(self, component: ComponentId, arguments: bytes | None) -> None:
        self._get(component)
        self.log.append(("invoke", component, arguments))

    # --- transfer / state ------------------------------------------------------------------
    def fetcher(self) -> Fetcher:
        return self.fetcher_impl

    def load_sequence_number(self) -> int | None:
        return self.store.sequence_number

    def store_sequence_number(self, value: int) -> None:
        self.store.sequence_number = value
        self.log.append(("store-sequence-number", value))

    def battery_level(self) -> int | None:
        return self.battery

    def now(self) -> int | None:
        return self.clock

    # --- test helpers ----------------------------------------------------------------------
    def actions(self, kind: str) -> list[tuple]:
        """Log entries of one kind (``write``, ``copy``, ``swap``, ``invoke`` …)."""
        return [entry for entry in self.log if entry[0] == kind]

    def tamper(self, component: ComponentId, data: bytes) -> None:
        """Change a component behind the processor's back (an attacker with flash access)."""
        comp = self._get(component)
        comp.content = bytearray(data)
        comp.generation += 1
