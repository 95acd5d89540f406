"""The error hierarchy of suitlib.

Every failure the library reports is a :class:`SuitError`. Leaves are grouped by fault, carry
structured fields, a CLI exit code (1 = a definite "no", 2 = bad usage or input, 3 = transport)
and a one-line hint for humans. Decoders raise nothing else.
"""

from __future__ import annotations

from typing import Any


class SuitError(Exception):
    """Root of every error raised by suitlib."""

    exit_code: int = 2
    default_hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint if hint is not None else self.default_hint
        self.fields: dict[str, Any] = fields

    def __getattr__(self, name: str) -> Any:
        fields = self.__dict__.get("fields")
        if fields is not None and name in fields:
            return fields[name]
        raise AttributeError(name)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly description (bytes as hex)."""
        out: dict[str, Any] = {"type": type(self).__name__, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        for key, value in self.fields.items():
            out[key] = value.hex() if isinstance(value, (bytes, bytearray)) else value
        return out


# --- input that is not what it claims to be (exit 2) -------------------------------------


class DecodeError(SuitError):
    """Malformed bytes: wrong CBOR, wrong tag, wrong type, limits exceeded.

    ``path`` names where in the structure the fault was found, e.g.
    ``manifest/common/components[0]``.
    """

    exit_code = 2
    default_hint = "the input is not a well-formed SUIT envelope (draft-ietf-suit-manifest-34)"

    def __init__(self, message: str, *, path: str = "", **kw: Any) -> None:
        full = f"{path}: {message}" if path else message
        super().__init__(full, path=path, **kw)


class ValidationError(SuitError):
    """Well-formed but semantically invalid input (a model that breaks a spec rule)."""

    exit_code = 2


class UnsupportedError(SuitError):
    """Valid input that uses something we do not implement or refuse by policy."""

    exit_code = 1
    default_hint = "see specs/SUIT-PROFILE.md for what suitlib supports"


class KeyFormatError(SuitError):
    """A key file or COSE_Key that cannot be used (wrong type, unreadable, bad password)."""

    exit_code = 2
    default_hint = "keys are PEM (PKCS#8 / SPKI) or COSE_Key; make one with `suit keygen`"


# --- definite rejections (exit 1) -------------------------------------------------------


class VerificationError(SuitError):
    """The input is well-formed but must not be trusted."""

    exit_code = 1


class SignatureError(VerificationError):
    """No signature verifies against the trust anchors (or none is present)."""

    default_hint = "check that the envelope was signed with the key you passed"


class DigestMismatchError(VerificationError):
    """A digest does not match the bytes it covers (``expected``, ``actual`` fields)."""


class RollbackError(VerificationError):
    """The sequence number is not above the one the device stored."""


class ConditionFailedError(VerificationError):
    """A SUIT condition (vendor, class, image match, ...) failed."""


class PolicyError(VerificationError):
    """The device's policy refuses the envelope (unauthorised component, signer, ...)."""


# --- delta, transport, flash ------------------------------------------------------------


class DeltaError(SuitError):
    """A patch that cannot be applied: corrupt, wrong source, too big for the device."""

    exit_code = 2


class DeltaSourceMismatchError(DeltaError):
    """The patch was made for another source image (exit 1: a definite no)."""

    exit_code = 1


class TransportError(SuitError):
    """A network transfer failed (timeout, unreachable, protocol violation)."""

    exit_code = 3


class FlashError(SuitError):
    """A flash operation was refused: out of bounds, misaligned, write-once violated, worn."""

    exit_code = 2


class LimitExceededError(SuitError):
    """A bounded resource (commands, depth, size, RAM) ran out."""

    exit_code = 2


class InputError(SuitError):
    """An input file that cannot be read, or a command-line value that makes no sense."""

    exit_code = 2
