"""suitlib.delta: streaming delta patches (specs/DELTA-FORMAT.md).

Host side: :func:`create_patch` (needs numpy + pydivsufsort), :func:`apply_patch`,
:func:`describe`. Device side (sans-I/O over a ``FlashDevice``): :class:`DeltaApplier` with an
:class:`ApplyLayout` of :class:`Region` s; :func:`apply_to_flash` drives it over a patch in
memory. Errors are :class:`~suitlib.errors.DeltaError` subclasses (:mod:`suitlib.delta.errors`).
"""

from suitlib.delta.applier import ApplyLayout, DeltaApplier, RamMeter, Region, apply_to_flash
from suitlib.delta.apply import apply_patch, check_source, describe, read_header
from suitlib.delta.format import PatchHeader

__all__ = [
    "ApplyLayout", "DeltaApplier", "PatchHeader", "RamMeter", "Region", "apply_patch",
    "apply_to_flash", "check_source", "create_patch", "CreateOptions", "describe", "read_header",
]


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    # The creator pulls numpy and pydivsufsort; import it only when asked for.
    if name in ("create_patch", "CreateOptions"):
        from suitlib.delta import create

        return getattr(create, name)
    raise AttributeError(name)
