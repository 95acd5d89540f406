"""suitlib: secure, power-safe firmware updates for constrained devices.

IETF SUIT manifests (draft-ietf-suit-manifest-34) with COSE signatures, streaming delta
patches, CoAP block-wise transfer, and an emulated NOR flash with a power-loss conformance
suite for bootloaders.
"""

from suitlib.errors import SuitError

__all__ = ["SuitError", "__version__"]
__version__ = "0.1.0"
