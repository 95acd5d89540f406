"""What the interpreter executes: an authenticated manifest reduced to command sequences.

The codec (``suitlib.manifest``) decodes and authenticates an envelope; :mod:`.adapter`
gathers what the interpreter needs into a :class:`Program` (the command sequences are the
codec's own model objects). The hypothesis tests build programs directly.

Numbers are those of draft-ietf-suit-manifest-34 §8.4 and its companions (see
``shared/reference/suit-codes.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from suitlib.manifest.model import Command, CommandSequence, Digest, Parameters, TryEach
from suitlib.processor.platform import ComponentId


class Cmd(IntEnum):
    """SUIT_Condition / SUIT_Directive codes (one number space)."""

    CONDITION_VENDOR_IDENTIFIER = 1
    CONDITION_CLASS_IDENTIFIER = 2
    CONDITION_IMAGE_MATCH = 3
    CONDITION_USE_BEFORE = 4
    CONDITION_COMPONENT_SLOT = 5
    CONDITION_CHECK_CONTENT = 6
    CONDITION_DEPENDENCY_INTEGRITY = 7
    CONDITION_IS_DEPENDENCY = 8
    DIRECTIVE_PROCESS_DEPENDENCY = 11
    DIRECTIVE_SET_COMPONENT_INDEX = 12
    CONDITION_ABORT = 14
    DIRECTIVE_TRY_EACH = 15
    DIRECTIVE_WRITE = 18
    DIRECTIVE_SET_PARAMETERS = 19
    DIRECTIVE_OVERRIDE_PARAMETERS = 20
    DIRECTIVE_FETCH = 21
    DIRECTIVE_COPY = 22
    DIRECTIVE_INVOKE = 23
    CONDITION_DEVICE_IDENTIFIER = 24
    CONDITION_IMAGE_NOT_MATCH = 25
    CONDITION_MINIMUM_BATTERY = 26
    CONDITION_UPDATE_AUTHORIZED = 27
    CONDITION_VERSION = 28
    DIRECTIVE_WAIT = 29
    DIRECTIVE_SWAP = 31
    DIRECTIVE_RUN_SEQUENCE = 32
    DIRECTIVE_UNLINK = 33
    DIRECTIVE_OVERRIDE_MULTIPLE = 34
    DIRECTIVE_COPY_PARAMS = 35


class Param(IntEnum):
    """SUIT_Parameters keys."""

    VENDOR_IDENTIFIER = 1
    CLASS_IDENTIFIER = 2
    IMAGE_DIGEST = 3
    USE_BEFORE = 4
    COMPONENT_SLOT = 5
    STRICT_ORDER = 12
    SOFT_FAILURE = 13
    IMAGE_SIZE = 14
    CONTENT = 18
    ENCRYPTION_INFO = 19
    URI = 21
    SOURCE_COMPONENT = 22
    INVOKE_ARGS = 23
    DEVICE_IDENTIFIER = 24
    FETCH_ARGUMENTS = 25
    MINIMUM_BATTERY = 26
    UPDATE_PRIORITY = 27
    VERSION = 28
    WAIT_INFO = 29
    COMPONENT_METADATA = 30


class Section(IntEnum):
    """Manifest keys of the command sequences (and 3 = suit-common for the shared sequence)."""

    COMMON = 3
    VALIDATE = 7
    LOAD = 8
    INVOKE = 9
    DEPENDENCY_RESOLUTION = 15
    PAYLOAD_FETCH = 16
    CANDIDATE_VERIFICATION = 18
    INSTALL = 20
    UNINSTALL = 24


CONDITIONS = frozenset(
    {
        Cmd.CONDITION_VENDOR_IDENTIFIER,
        Cmd.CONDITION_CLASS_IDENTIFIER,
        Cmd.CONDITION_IMAGE_MATCH,
        Cmd.CONDITION_USE_BEFORE,
        Cmd.CONDITION_COMPONENT_SLOT,
        Cmd.CONDITION_CHECK_CONTENT,
        Cmd.CONDITION_DEPENDENCY_INTEGRITY,
        Cmd.CONDITION_IS_DEPENDENCY,
        Cmd.CONDITION_ABORT,
        Cmd.CONDITION_DEVICE_IDENTIFIER,
        Cmd.CONDITION_IMAGE_NOT_MATCH,
        Cmd.CONDITION_MINIMUM_BATTERY,
        Cmd.CONDITION_UPDATE_AUTHORIZED,
        Cmd.CONDITION_VERSION,
    }
)


# The codec's model types are the interpreter's input: a Program holds the authenticated
# manifest's own CommandSequence objects (see suitlib.manifest.model for the argument types).
__all__ = [
    "CONDITIONS", "Cmd", "Command", "CommandSequence", "Digest", "Param", "Parameters", "Program",
    "Section", "TryEach",
]


@dataclass(frozen=True)
class Program:
    """An authenticated manifest, as the interpreter needs it (§8.4)."""

    sequence_number: int
    components: tuple[ComponentId, ...]
    shared: CommandSequence | None
    sections: Mapping[int, CommandSequence]
    """Present command sequences by manifest key (severed members already resolved)."""
    integrated_payloads: Mapping[str, bytes] = field(default_factory=dict)
    """Envelope members keyed by text string (§7.5 integrated payloads)."""
    manifest_digest: Digest | None = None
    reference_uri: str | None = None
    authenticated: bool = True
    severed: frozenset[int] = frozenset()
    """Sections the manifest holds only as a digest and the envelope does not carry."""
