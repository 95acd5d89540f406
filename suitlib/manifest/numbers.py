"""SUIT integer codes, named after the CDDL of draft-ietf-suit-manifest-34 (§8.4, IANA §11)
and its companions: trust domains (TD), update management (UM), firmware encryption (FE).

``suit-directive-fetch`` is ``Directive.FETCH`` (= ``Command.DIRECTIVE_FETCH`` = 21);
conditions and directives share one number space, so :class:`Command` holds both and
:class:`Condition` / :class:`Directive` are the same codes split by kind. Negative command and
parameter codes are "custom" (private use below -255) and are preserved, never interpreted.
``KEBAB`` maps each code to the spec's kebab-case name used in specs and diagnostics.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag

ENVELOPE_TAG = 107
"""SUIT_Envelope_Tagged (§8.2)."""
MANIFEST_TAG = 1070
"""SUIT_Manifest_Tagged."""
PEN_TAG = 112
"""cbor-pen: a vendor id given as an IANA PEN relative OID."""


class EnvelopeKey(IntEnum):
    """SUIT_Envelope map keys (§8.2)."""

    DELEGATION = 1  # TD
    AUTHENTICATION_WRAPPER = 2
    MANIFEST = 3
    COSWID = 14  # UM, severable
    DEPENDENCY_RESOLUTION = 15  # TD, severable
    PAYLOAD_FETCH = 16  # severable
    CANDIDATE_VERIFICATION = 18  # TD, severable
    INSTALL = 20  # severable
    TEXT = 23  # severable


class ManifestKey(IntEnum):
    """SUIT_Manifest map keys (§8.4)."""

    MANIFEST_VERSION = 1
    MANIFEST_SEQUENCE_NUMBER = 2
    COMMON = 3
    REFERENCE_URI = 4
    MANIFEST_COMPONENT_ID = 5  # TD
    SET_VERSION = 6  # UM
    VALIDATE = 7
    LOAD = 8
    INVOKE = 9
    COSWID = 14  # UM, severable
    DEPENDENCY_RESOLUTION = 15  # TD, severable
    PAYLOAD_FETCH = 16  # severable
    CANDIDATE_VERIFICATION = 18  # TD, severable
    INSTALL = 20  # severable
    TEXT = 23  # severable
    UNINSTALL = 24  # TD


SEVERABLE = frozenset({
    ManifestKey.COSWID, ManifestKey.DEPENDENCY_RESOLUTION, ManifestKey.PAYLOAD_FETCH,
    ManifestKey.CANDIDATE_VERIFICATION, ManifestKey.INSTALL, ManifestKey.TEXT,
})
"""Manifest members that may be severed (§8.4.12): digest in the manifest, content in the envelope."""


class CommonKey(IntEnum):
    """SUIT_Common map keys (§8.4.5)."""

    DEPENDENCIES = 1  # TD
    COMPONENTS = 2
    SHARED_SEQUENCE = 4


class DependencyKey(IntEnum):
    """SUIT_Dependency_Metadata keys (TD)."""

    DEPENDENCY_PREFIX = 1


class Command(IntEnum):
    """Conditions and directives (§8.4.9, §8.4.10), one number space."""

    CONDITION_VENDOR_IDENTIFIER = 1
    CONDITION_CLASS_IDENTIFIER = 2
    CONDITION_IMAGE_MATCH = 3
    CONDITION_USE_BEFORE = 4  # UM
    CONDITION_COMPONENT_SLOT = 5
    CONDITION_CHECK_CONTENT = 6
    CONDITION_DEPENDENCY_INTEGRITY = 7  # TD
    CONDITION_IS_DEPENDENCY = 8  # TD
    DIRECTIVE_PROCESS_DEPENDENCY = 11  # TD
    DIRECTIVE_SET_COMPONENT_INDEX = 12
    CONDITION_ABORT = 14
    DIRECTIVE_TRY_EACH = 15
    DIRECTIVE_WRITE = 18
    DIRECTIVE_SET_PARAMETERS = 19  # TD
    DIRECTIVE_OVERRIDE_PARAMETERS = 20
    DIRECTIVE_FETCH = 21
    DIRECTIVE_COPY = 22
    DIRECTIVE_INVOKE = 23
    CONDITION_DEVICE_IDENTIFIER = 24
    CONDITION_IMAGE_NOT_MATCH = 25  # UM
    CONDITION_MINIMUM_BATTERY = 26  # UM
    CONDITION_UPDATE_AUTHORIZED = 27  # UM
    CONDITION_VERSION = 28  # UM
    DIRECTIVE_WAIT = 29  # UM
    DIRECTIVE_SWAP = 31
    DIRECTIVE_RUN_SEQUENCE = 32
    DIRECTIVE_UNLINK = 33  # TD
    DIRECTIVE_OVERRIDE_MULTIPLE = 34  # UM
    DIRECTIVE_COPY_PARAMS = 35  # UM


class Condition(IntEnum):
    """The condition codes of :class:`Command` (argument: a reporting policy)."""

    VENDOR_IDENTIFIER = 1
    CLASS_IDENTIFIER = 2
    IMAGE_MATCH = 3
    USE_BEFORE = 4
    COMPONENT_SLOT = 5
    CHECK_CONTENT = 6
    DEPENDENCY_INTEGRITY = 7
    IS_DEPENDENCY = 8
    ABORT = 14
    DEVICE_IDENTIFIER = 24
    IMAGE_NOT_MATCH = 25
    MINIMUM_BATTERY = 26
    UPDATE_AUTHORIZED = 27
    VERSION = 28


class Directive(IntEnum):
    """The directive codes of :class:`Command`."""

    PROCESS_DEPENDENCY = 11
    SET_COMPONENT_INDEX = 12
    TRY_EACH = 15
    WRITE = 18
    SET_PARAMETERS = 19
    OVERRIDE_PARAMETERS = 20
    FETCH = 21
    COPY = 22
    INVOKE = 23
    WAIT = 29
    SWAP = 31
    RUN_SEQUENCE = 32
    UNLINK = 33
    OVERRIDE_MULTIPLE = 34
    COPY_PARAMS = 35


class Parameter(IntEnum):
    """SUIT_Parameters keys (§8.4.8)."""

    VENDOR_IDENTIFIER = 1
    CLASS_IDENTIFIER = 2
    IMAGE_DIGEST = 3
    USE_BEFORE = 4  # UM
    COMPONENT_SLOT = 5
    STRICT_ORDER = 12
    SOFT_FAILURE = 13
    IMAGE_SIZE = 14
    CONTENT = 18
    ENCRYPTION_INFO = 19  # FE
    URI = 21
    SOURCE_COMPONENT = 22
    INVOKE_ARGS = 23
    DEVICE_IDENTIFIER = 24
    FETCH_ARGUMENTS = 25
    MINIMUM_BATTERY = 26  # UM
    UPDATE_PRIORITY = 27  # UM
    VERSION = 28  # UM
    WAIT_INFO = 29  # UM
    COMPONENT_METADATA = 30  # UM


class RepPolicy(IntFlag):
    """SUIT_Rep_Policy bits (§8.4.9)."""

    SEND_RECORD_ON_SUCCESS = 1
    SEND_RECORD_ON_FAILURE = 2
    SEND_SYSINFO_SUCCESS = 4
    SEND_SYSINFO_FAILURE = 8


class DigestAlgorithm(IntEnum):
    """suit-digest-algorithm-ids (COSE algorithm ids, §8.4.2.1)."""

    SHA256 = -16
    SHAKE128 = -18
    SHA384 = -43
    SHA512 = -44
    SHAKE256 = -45


class TextKey(IntEnum):
    """SUIT_Text_Keys: manifest-wide text (§8.4.4)."""

    MANIFEST_DESCRIPTION = 1
    UPDATE_DESCRIPTION = 2
    MANIFEST_JSON_SOURCE = 3
    MANIFEST_YAML_SOURCE = 4


class TextComponentKey(IntEnum):
    """SUIT_Text_Component_Keys: per-component text (§8.4.4; 7, 8 from UM)."""

    VENDOR_NAME = 1
    MODEL_NAME = 2
    VENDOR_DOMAIN = 3
    MODEL_INFO = 4
    COMPONENT_DESCRIPTION = 5
    COMPONENT_VERSION = 6
    VERSION_REQUIRED = 7
    CURRENT_VERSION = 8


class VersionComparison(IntEnum):
    """suit-condition-version comparison types (UM)."""

    GREATER = 1
    GREATER_EQUAL = 2
    EQUAL = 3
    LESSER_EQUAL = 4
    LESSER = 5


def _kebab(prefix: str, member: IntEnum) -> str:
    return prefix + member.name.lower().replace("_", "-")


ENVELOPE_NAMES: dict[int, str] = {k.value: _kebab("suit-", k) for k in EnvelopeKey}
MANIFEST_NAMES: dict[int, str] = {k.value: _kebab("suit-", k) for k in ManifestKey}
MANIFEST_NAMES[ManifestKey.COMMON] = "suit-common"
COMMON_NAMES: dict[int, str] = {k.value: _kebab("suit-", k) for k in CommonKey}
COMMAND_NAMES: dict[int, str] = {k.value: _kebab("suit-", k) for k in Command}
PARAMETER_NAMES: dict[int, str] = {k.value: _kebab("suit-parameter-", k) for k in Parameter}
TEXT_NAMES: dict[int, str] = {k.value: _kebab("suit-text-", k) for k in TextKey}
TEXT_COMPONENT_NAMES: dict[int, str] = {k.value: _kebab("suit-text-", k) for k in TextComponentKey}
REP_POLICY_NAMES: dict[int, str] = {k.value: _kebab("suit-", k) for k in RepPolicy}
DIGEST_NAMES: dict[int, str] = {
    -16: "sha256", -18: "shake128", -43: "sha384", -44: "sha512", -45: "shake256",
}

CONDITIONS = frozenset(int(c) for c in Condition)
"""Codes whose argument is a reporting policy and that test something."""
POLICY_DIRECTIVES = frozenset({
    Directive.PROCESS_DEPENDENCY, Directive.WRITE, Directive.FETCH, Directive.COPY, Directive.INVOKE,
    Directive.WAIT, Directive.SWAP, Directive.UNLINK,
})
"""Directives whose argument is a reporting policy."""


def command_name(code: int) -> str:
    """The kebab-case name of a command code (``suit-command-custom`` for negative codes)."""
    if code in COMMAND_NAMES:
        return COMMAND_NAMES[code]
    return "suit-command-custom" if code < 0 else f"suit-command-unknown-{code}"


def parameter_name(code: int) -> str:
    """The kebab-case name of a parameter code (``suit-parameter-custom`` for negative codes)."""
    if code in PARAMETER_NAMES:
        return PARAMETER_NAMES[code]
    return "suit-parameter-custom" if code < 0 else f"suit-parameter-unknown-{code}"
