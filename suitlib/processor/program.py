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
from suitlib.manifest.numbers import CONDITIONS, Parameter
from suitlib.manifest.numbers import Command as Command_
from suitlib.processor.platform import ComponentId

Cmd = Command_
"""SUIT_Condition / SUIT_Directive codes (the codec's ``suitlib.manifest.numbers.Command``)."""

Param = Parameter
"""SUIT_Parameters keys (the codec's ``suitlib.manifest.numbers.Parameter``)."""


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
    authenticated: bool = False
    """True only when the authentication wrapper verified against the trust anchors (set by the
    adapter); :meth:`Processor.run` refuses an unauthenticated program unless unsigned input is
    explicitly allowed."""
    severed: frozenset[int] = frozenset()
    """Sections the manifest holds only as a digest and the envelope does not carry."""
