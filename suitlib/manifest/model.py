"""The SUIT envelope model (draft-ietf-suit-manifest-34 §8): frozen, lossless dataclasses.

Decode with :func:`suitlib.manifest.decode_envelope`, encode with
:func:`suitlib.manifest.encode_envelope`; decoding then encoding gives the input bytes back.

Walking a command sequence (§8.4.9-§8.4.10)
-------------------------------------------
A :class:`CommandSequence` iterates :class:`Command` objects; ``command.code`` is an ``int``
that compares equal to :class:`~suitlib.manifest.numbers.Command`, ``Condition`` and
``Directive`` members. ``command.argument`` depends on the code::

    for command in envelope.manifest.common.shared_sequence or ():
        code, arg = command.code, command.argument
        if code == Directive.SET_COMPONENT_INDEX:      # int | True (all) | tuple[int, ...]
        elif code in (Directive.OVERRIDE_PARAMETERS, Directive.SET_PARAMETERS):  # Parameters
        elif code == Directive.TRY_EACH:               # TryEach: .sequences, .empty_allowed
        elif code == Directive.RUN_SEQUENCE:           # CommandSequence
        elif code == Directive.OVERRIDE_MULTIPLE:      # Mapping[int, Parameters]
        elif code == Directive.COPY_PARAMS:            # Mapping[int, tuple[int, ...]]
        elif command.is_custom:                        # negative code: the raw decoded value
        else:                                          # conditions and other directives:
            command.policy                             # RepPolicy (the int argument)

Reading parameters: :class:`Parameters` is an immutable ``Mapping[int, value]``::

    params[Parameter.IMAGE_DIGEST]   -> Digest
    params.get(Parameter.IMAGE_SIZE) -> int | None
    params.get(Parameter.URI)        -> str | None
    vendor/class/device identifier   -> bytes (16-byte UUID) or Tag(112, bytes) for a PEN
    content, invoke-args, fetch-arguments, encryption-info, wait-info, component-metadata
                                     -> bytes (the bstr content)
    version                          -> VersionMatch

Severable members (§8.4.12, install, text, payload-fetch, …) are stored in the manifest
either inline (their content model) or as a :class:`Digest`; the envelope keeps the severed
content in ``Envelope.elements``. ``Envelope.member(key)`` returns the content wherever it is
(check it first with :func:`suitlib.manifest.check_severable`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any, Union

from suitlib.cbor import bstr, encode, head
from suitlib.manifest.numbers import (
    CONDITIONS,
    DigestAlgorithm,
    ManifestKey,
    RepPolicy,
    command_name,
    parameter_name,
)

_EMPTY: Mapping[Any, Any] = MappingProxyType({})

_HASHES = {
    DigestAlgorithm.SHA256: lambda d: hashlib.sha256(d).digest(),
    DigestAlgorithm.SHA384: lambda d: hashlib.sha384(d).digest(),
    DigestAlgorithm.SHA512: lambda d: hashlib.sha512(d).digest(),
    DigestAlgorithm.SHAKE128: lambda d: hashlib.shake_128(d).digest(32),
    DigestAlgorithm.SHAKE256: lambda d: hashlib.shake_256(d).digest(64),
}


_HASHES_BY_ID = {int(alg): fn for alg, fn in _HASHES.items()}


def frozen_map(items: Mapping[Any, Any] | None = None) -> Mapping[Any, Any]:
    """A read-only copy of ``items`` (for model fields)."""
    return MappingProxyType(dict(items)) if items else _EMPTY


@dataclass(frozen=True, slots=True)
class Digest:
    """SUIT_Digest = [algorithm-id, bytes, * ext] (§8.4.2.1)."""

    algorithm: int
    value: bytes
    extra: tuple[Any, ...] = ()

    @classmethod
    def compute(cls, data: bytes, algorithm: int = DigestAlgorithm.SHA256) -> Digest:
        """Digest of ``data``; raises :class:`~suitlib.errors.UnsupportedError` for an unknown algorithm."""
        return cls(int(algorithm), digest_bytes(data, algorithm))

    def matches(self, data: bytes) -> bool:
        """Whether this digest covers ``data`` (constant-time comparison)."""
        return hmac.compare_digest(digest_bytes(data, self.algorithm), self.value)

    def to_cbor(self) -> tuple[Any, ...]:
        return (self.algorithm, self.value, *self.extra)

    def encode(self) -> bytes:
        """The encoded SUIT_Digest array."""
        alg = self.algorithm
        if self.extra or type(alg) is not int or type(self.value) is not bytes:
            return encode(self.to_cbor())
        return b"\x82" + (head(1, -1 - alg) if alg < 0 else head(0, alg)) + bstr(self.value)


def digest_bytes(data: bytes, algorithm: int) -> bytes:
    """Hash ``data`` with a suit-digest-algorithm-id."""
    fn = _HASHES_BY_ID.get(algorithm) if type(algorithm) is int else None
    if fn is not None:
        return fn(bytes(data))
    try:
        fn = _HASHES[DigestAlgorithm(algorithm)]
    except (ValueError, KeyError):
        from suitlib.errors import UnsupportedError

        raise UnsupportedError(f"digest algorithm {algorithm} is not supported",
                               algorithm=algorithm) from None
    return fn(bytes(data))


@dataclass(frozen=True, slots=True)
class ComponentId:
    """SUIT_Component_Identifier = [* bstr] (§8.4.5.1)."""

    parts: tuple[bytes, ...]

    @classmethod
    def of(cls, *parts: bytes) -> ComponentId:
        return cls(tuple(bytes(p) for p in parts))

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.parts)

    def __len__(self) -> int:
        return len(self.parts)

    def __str__(self) -> str:
        return "[" + ", ".join(f"h'{p.hex()}'" for p in self.parts) + "]"

    def to_cbor(self) -> tuple[bytes, ...]:
        return self.parts


@dataclass(frozen=True, slots=True)
class VersionMatch:
    """suit-parameter-version value (UM): ``bstr .cbor [comparison-type, [+ int]]``."""

    comparison: int
    parts: tuple[int, ...]

    def to_cbor(self) -> tuple[Any, ...]:
        return (self.comparison, self.parts)


class Parameters(Mapping[int, Any]):
    """SUIT_Parameters (§8.4.8): an immutable map ``parameter code -> value``.

    Values are typed as listed in :mod:`suitlib.manifest.model`; unknown and custom (negative)
    codes keep their decoded CBOR value.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[int, Any] | None = None, /) -> None:
        object.__setattr__(self, "_items", dict(items or {}))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Parameters is immutable")

    def __getitem__(self, key: int) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[int]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Parameters):
            return self._items == other._items
        if isinstance(other, Mapping):
            return self._items == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._items.items(), key=lambda kv: kv[0])))

    def __repr__(self) -> str:
        inner = ", ".join(f"{parameter_name(k)}={v!r}" for k, v in self._items.items())
        return f"Parameters({inner})"


@dataclass(frozen=True, slots=True)
class TryEach:
    """suit-directive-try-each argument: ``[2* bstr .cbor SUIT_Command_Sequence, ?nil]`` (§8.4.10.2).

    ``empty_allowed`` is the trailing ``nil``: when every sequence fails, the directive passes.
    """

    sequences: tuple[CommandSequence, ...]
    empty_allowed: bool = False


@dataclass(frozen=True, slots=True)
class Command:
    """One condition or directive: ``code`` and its ``argument`` (see the module docstring)."""

    code: int
    argument: Any

    @property
    def name(self) -> str:
        return command_name(self.code)

    @property
    def is_condition(self) -> bool:
        return self.code in CONDITIONS

    @property
    def is_custom(self) -> bool:
        return self.code < 0

    @property
    def policy(self) -> RepPolicy:
        """The reporting policy of a condition or policy-argument directive."""
        if isinstance(self.argument, int) and not isinstance(self.argument, bool):
            return RepPolicy(self.argument & 0xF)
        return RepPolicy(0)


@dataclass(frozen=True, slots=True)
class CommandSequence:
    """SUIT_Command_Sequence: ``[+ (code, argument)]`` flattened into :class:`Command` objects."""

    commands: tuple[Command, ...]

    def __iter__(self) -> Iterator[Command]:
        return iter(self.commands)

    def __len__(self) -> int:
        return len(self.commands)

    def __getitem__(self, index: int) -> Command:
        return self.commands[index]


@dataclass(frozen=True, slots=True)
class TextEntry:
    """SUIT_Text_LMap (§8.4.4): manifest-wide text keys and per-component text maps."""

    fields: Mapping[int, Any] = field(default_factory=lambda: _EMPTY)
    components: Mapping[ComponentId, Mapping[int, Any]] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True)
class Text:
    """suit-text content: ``{+ language-tag => SUIT_Text_LMap}`` (§8.4.4)."""

    languages: Mapping[str, TextEntry]


Severable = Union[CommandSequence, Text, bytes]
"""Content of a severable member: a command sequence, text, or (CoSWID) the raw bstr content."""


@dataclass(frozen=True, slots=True)
class Common:
    """SUIT_Common (§8.4.5)."""

    components: tuple[ComponentId, ...]
    shared_sequence: CommandSequence | None = None
    dependencies: Mapping[int, Any] | None = None
    extensions: Mapping[Any, Any] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True)
class Manifest:
    """SUIT_Manifest (§8.4). Severable members hold their content or a :class:`Digest`."""

    sequence_number: int
    common: Common
    version: int = 1
    reference_uri: str | None = None
    manifest_component_id: ComponentId | None = None
    set_version: Any = None
    validate: CommandSequence | None = None
    load: CommandSequence | None = None
    invoke: CommandSequence | None = None
    uninstall: CommandSequence | None = None
    coswid: bytes | Digest | None = None
    dependency_resolution: CommandSequence | Digest | None = None
    payload_fetch: CommandSequence | Digest | None = None
    candidate_verification: CommandSequence | Digest | None = None
    install: CommandSequence | Digest | None = None
    text: Text | Digest | None = None
    extensions: Mapping[Any, Any] = field(default_factory=lambda: _EMPTY)

    def severable(self, key: int) -> Severable | Digest | None:
        """The manifest's value for severable member ``key`` (content, digest or None)."""
        return getattr(self, SEVERABLE_FIELDS[key])


SEVERABLE_FIELDS: dict[int, str] = {
    ManifestKey.COSWID: "coswid",
    ManifestKey.DEPENDENCY_RESOLUTION: "dependency_resolution",
    ManifestKey.PAYLOAD_FETCH: "payload_fetch",
    ManifestKey.CANDIDATE_VERIFICATION: "candidate_verification",
    ManifestKey.INSTALL: "install",
    ManifestKey.TEXT: "text",
}
"""Severable manifest key -> :class:`Manifest` field name."""


@dataclass(frozen=True, slots=True)
class AuthenticationWrapper:
    """SUIT_Authentication = ``[bstr .cbor SUIT_Digest, * bstr .cbor SUIT_Authentication_Block]`` (§8.3).

    ``blocks`` are the encoded COSE_Sign1/Sign/Mac0/Mac items exactly as received (the bstr
    contents); :attr:`digest_bstr` is the encoded SUIT_Digest, i.e. the detached COSE payload.
    """

    digest: Digest
    blocks: tuple[bytes, ...] = ()

    @property
    def digest_bstr(self) -> bytes:
        """The encoded SUIT_Digest (content of the wrapper's first bstr, the COSE payload)."""
        return self.digest.encode()

    def to_cbor(self) -> tuple[bytes, ...]:
        return (self.digest.encode(), *self.blocks)


@dataclass(frozen=True)
class Envelope:
    """SUIT_Envelope (§8.2).

    ``elements`` holds severable members carried in the envelope (key -> content),
    ``integrated`` the integrated payloads (text key such as ``"#fw"`` -> bytes), ``delegation``
    the raw content of key 1 (trust domains), ``tagged`` whether the envelope had tag 107.
    """

    authentication: AuthenticationWrapper
    manifest: Manifest
    elements: Mapping[int, Severable] = field(default_factory=lambda: _EMPTY)
    integrated: Mapping[str, bytes] = field(default_factory=lambda: _EMPTY)
    delegation: bytes | None = None
    extensions: Mapping[Any, Any] = field(default_factory=lambda: _EMPTY)
    tagged: bool = True

    @cached_property
    def manifest_bstr(self) -> bytes:
        """Envelope key 3 as a whole encoded bstr (header included): what the manifest digest
        covers (§8.3). For a decoded envelope these are exactly the bytes received."""
        from suitlib.manifest.codec import encode_manifest

        return bstr(encode_manifest(self.manifest))

    @cached_property
    def element_bstrs(self) -> Mapping[int, bytes]:
        """Each severable member carried in the envelope as a whole encoded bstr (header
        included): what its digest in the manifest covers (§8.4.12). For a decoded envelope
        these are exactly the bytes received."""
        from suitlib.manifest.codec import encode_severable_content

        return MappingProxyType({key: bstr(encode_severable_content(key, content))
                                 for key, content in self.elements.items()})

    def member(self, key: int) -> Severable | None:
        """Content of severable member ``key``: inline in the manifest or from the envelope."""
        value = self.manifest.severable(key)
        if value is None or not isinstance(value, Digest):
            return value
        return self.elements.get(key)

    @property
    def signed(self) -> bool:
        return bool(self.authentication.blocks)


__all__ = [
    "AuthenticationWrapper",
    "Command",
    "CommandSequence",
    "Common",
    "ComponentId",
    "Digest",
    "Envelope",
    "Manifest",
    "Parameters",
    "SEVERABLE_FIELDS",
    "Severable",
    "Text",
    "TextEntry",
    "TryEach",
    "VersionMatch",
    "digest_bytes",
    "frozen_map",
]
