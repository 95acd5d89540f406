"""The device as the manifest processor sees it (draft-ietf-suit-manifest-34 §6.4, RFC 9019 §3).

The processor is sans-I/O: every effect on the device goes through a :class:`Platform`. A
platform names its components by SUIT_Component_Identifier (a tuple of byte strings), keeps
their content, asserts the device's identity (vendor, class and device UUIDs), stores the
anti-rollback sequence number persistently, and invokes images.

Payload transfer is a push stream: a :class:`Fetcher` writes the bytes of a URI into a
:class:`ChunkSink`. The processor builds the sink chain (size bound → optional transformer such
as a delta applier → the component writer), so a transformer can sit between fetch and write
without the fetcher or the platform knowing about it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol, runtime_checkable

ComponentId = tuple[bytes, ...]
"""A SUIT_Component_Identifier (§8.4.5.1): a list of byte strings, here a tuple."""


@runtime_checkable
class ChunkSink(Protocol):
    """Receives a payload in chunks, in order. ``close`` ends a complete transfer.

    Chunks are bytes-like (``bytes`` or a ``memoryview``) and valid only during the call: a sink
    that keeps data copies it.
    """

    def write(self, chunk: bytes | memoryview) -> None:
        """Accept the next chunk; raise a :class:`~suitlib.errors.SuitError` to stop the transfer."""

    def close(self) -> None:
        """The transfer is complete: flush whatever is buffered."""


class ComponentWriter(ChunkSink, Protocol):
    """A sink that (re)writes one component from its start; ``abort`` leaves it erased."""

    def abort(self) -> None:
        """The transfer failed: the component holds no valid content afterwards."""


@runtime_checkable
class Fetcher(Protocol):
    """Moves the bytes found at a URI into a sink (in-memory, file, CoAP block-wise …)."""

    def fetch(self, uri: str, sink: ChunkSink, *, fetch_arguments: bytes | None = None) -> None:
        """Push the resource at ``uri`` into ``sink`` chunk by chunk, then ``sink.close()``.

        Raises :class:`~suitlib.errors.TransportError` when the resource cannot be obtained.
        """


@runtime_checkable
class Platform(Protocol):
    """What the manifest processor needs from a device (draft-ietf-suit-manifest-34 §6)."""

    # --- identity (§8.4.9.1: identifiers asserted to the processor by the Recipient) -------
    def vendor_ids(self, component: ComponentId) -> Collection[bytes]:
        """Vendor identifiers (UUID bytes or CBOR-PEN OIDs) the component matches."""

    def class_ids(self, component: ComponentId) -> Collection[bytes]:
        """Class identifiers the component matches."""

    def device_ids(self, component: ComponentId) -> Collection[bytes]:
        """Device identifiers the component matches (empty if the device has none)."""

    # --- components ------------------------------------------------------------------------
    def components(self) -> Collection[ComponentId]:
        """Every component this device supports."""

    def slot(self, component: ComponentId) -> int | None:
        """The slot index the component occupies (§8.4.8.8, §8.4.9.4), or None if it has no slots."""

    def size(self, component: ComponentId) -> int | None:
        """Bytes of content the component holds, or None if it is empty / absent."""

    def generation(self, component: ComponentId) -> int:
        """A counter that changes whenever the component's content changes, by any path.

        The processor binds an image-match to the generation it saw and refuses to invoke a
        component whose generation moved since (THREAT.IMG.TOCTOU). Hardware platforms back it
        with a write counter, or lock the region after verification and return a constant.
        """

    def read(self, component: ComponentId, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes of the component's content from ``offset``."""

    def open_writer(self, component: ComponentId, *, size_hint: int | None = None) -> ComponentWriter:
        """Start rewriting a component from its beginning (erasing what it held)."""

    def copy(self, destination: ComponentId, source: ComponentId) -> None:
        """Copy the content of ``source`` into ``destination`` (§8.4.10.5)."""

    def swap(self, a: ComponentId, b: ComponentId) -> None:
        """Exchange the contents of two components (§8.4.10.9)."""

    def invoke(self, component: ComponentId, arguments: bytes | None) -> None:
        """Transfer execution to the component (§8.4.10.7)."""

    # --- transfer ----------------------------------------------------------------------------
    def fetcher(self) -> Fetcher:
        """The fetcher used for URIs that are not integrated payloads."""

    # --- persistent state and environment ----------------------------------------------------
    def load_sequence_number(self) -> int | None:
        """The sequence number of the last installed manifest, None on a fresh device."""

    def store_sequence_number(self, value: int) -> None:
        """Persist a new sequence number (survives reboots)."""

    def battery_level(self) -> int | None:
        """Battery level in mWh (update-management minimum-battery), None if unknown."""

    def now(self) -> int | None:
        """Current POSIX time in seconds, None if the device has no trusted clock."""


def component_label(component: Sequence[bytes]) -> str:
    """A short human-readable name for a component id, e.g. ``[00]`` or ``[usr/bin]``."""
    return "[" + "/".join(part.hex() if not part.isascii() or not part.isalnum() else part.decode() for part in component) + "]"
