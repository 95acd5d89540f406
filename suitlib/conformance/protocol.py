"""The ``Bootloader`` protocol the conformance suite drives (specs/BOOTLOADER-PROTOCOL.md
§Plugging a bootloader into the suite).

A factory (``module:attribute``, called with no arguments) returns a fresh instance. The suite
calls it before **every** boot and every application-side action (fault model F8: nothing may
survive a reset except flash). All calls take the :class:`~suitlib.flash.interface.FlashDevice`
and may raise :class:`~suitlib.flash.interface.PowerLoss` out of any flash call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from suitlib.flash.interface import FlashDevice, Sector


@runtime_checkable
class AreaLike(Protocol):
    sectors: tuple[Sector, ...]


@runtime_checkable
class LayoutLike(Protocol):
    def areas(self) -> Mapping[str, AreaLike]:
        """Named areas the bootloader owns (``primary``, ``secondary``, ``scratch`` ...)."""
        ...


@runtime_checkable
class BootOutcome(Protocol):
    booted: bool
    image: bytes | None
    security_counter: int | None


@runtime_checkable
class StatusLike(Protocol):
    confirmed: bool
    trial: bool
    pending: Any
    in_progress: bool


@runtime_checkable
class Bootloader(Protocol):
    """What a bootloader under test provides.

    ``capabilities`` names what it implements: ``"swap"`` (the old image is kept in the
    secondary), ``"revert"`` (test → confirm or automatic revert), ``"overwrite"``.
    """

    name: str
    capabilities: frozenset[str]

    def layout(self, flash: FlashDevice) -> LayoutLike: ...

    def boot(self, flash: FlashDevice) -> BootOutcome: ...

    def envelope_for(self, image: bytes, security_counter: int) -> bytes: ...

    def provision(self, flash: FlashDevice, image: bytes, envelope: bytes, *,
                  confirmed_trailer: bool = False) -> None: ...

    def write_candidate(self, flash: FlashDevice, image: bytes, envelope: bytes) -> None: ...

    def set_pending(self, flash: FlashDevice, permanent: bool) -> None: ...

    def set_confirmed(self, flash: FlashDevice) -> None: ...

    def read_image(self, flash: FlashDevice, slot: str) -> tuple[bytes, bytes] | None: ...

    def status(self, flash: FlashDevice) -> StatusLike: ...

    def stored_counter(self, flash: FlashDevice) -> int: ...


BootloaderFactory = Callable[[], Bootloader]
