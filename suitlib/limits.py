"""Resource limits, in one frozen object passed in (never global)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Bounds every decoder and interpreter honours.

    The defaults suit a host tool handling hostile input; a device profile passes smaller ones.
    """

    max_envelope_size: int = 1 << 20
    """Largest encoded envelope accepted, in bytes (integrated payloads count)."""
    max_depth: int = 16
    """Deepest CBOR nesting accepted (bstr-wrapped CBOR starts a new count)."""
    max_items: int = 65536
    """Most CBOR items (array elements + map pairs) in one decoded structure."""
    max_components: int = 64
    """Most components a manifest may declare."""
    max_commands: int = 10_000
    """Most commands the processor executes for one envelope."""
    max_try_each_depth: int = 8
    """Deepest nesting of try-each / run-sequence."""
    max_fetch_size: int = 16 << 20
    """Largest payload a fetch may write."""
    max_signatures: int = 8
    """Most authentication blocks examined."""
    patch_ram: int = 32 * 1024
    """RAM budget of the delta applier, in bytes."""


DEFAULT_LIMITS = Limits()
