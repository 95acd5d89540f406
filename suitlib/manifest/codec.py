"""Envelope and manifest codec (draft-ietf-suit-manifest-34 §8): bytes <-> model.

Decoding is strict and bounded. The CBOR layer (:mod:`suitlib.cbor`) requires the core
deterministic encoding everywhere in SUIT structures (the manifest is signed through its
digest, so only one encoding of it is meaningful, and requiring it is what lets
``encode_envelope(decode_envelope(b)) == b`` hold for every accepted input). Opaque contents
are not re-interpreted: COSE authentication blocks, integrated payloads, delegation, CoSWID,
encryption-info, wait-info and component-metadata stay exact bytes.

Each bstr-wrapped structure (manifest, common, every command sequence, digests) is decoded
with the same :class:`~suitlib.limits.Limits`: one item budget for the whole envelope, the
depth counted afresh inside each wrapper (as ``Limits.max_depth`` documents).

Decisions where the CDDL leaves room, all raising a typed error naming the path:

* envelope tag 107 optional (the form is remembered in ``Envelope.tagged``); a tagged
  SUIT_Manifest (1070) inside key 3 is refused (:class:`WrongTagError`);
* suit-authentication-wrapper, suit-manifest, manifest-version (= 1), sequence number, common
  and suit-components (non-empty) are required; command sequences and parameter maps must not
  be empty; try-each takes ``[2* bstr, ?nil]``;
* unknown keys of the envelope, manifest and common maps, unassigned command codes and
  unassigned or custom parameters are kept as decoded values and re-encoded unchanged;
  unknown keys must be integers or text (true, 1.0 or 2.0 would look like SUIT keys);
* numbering of older drafts (manifest keys 10-13 and 17, a COSE structure first in the auth
  wrapper, the draft-09 digest enumeration) raises :class:`OldDraftError` (UnsupportedError);
* CBOR-level faults inside a command sequence name the raw array index (``[1]`` is the
  argument of the first command); model-level faults name the command (``[0]/directive-fetch``).

Speed: the envelope, manifest and common maps, SUIT digests and command sequences are first
offered to fast readers that build the model straight from the bytes in their usual shapes
(``_fast_map``, ``_digest_on_bytes``, ``_fast_sequence``). They accept only what the checked
decoder accepts, with the same result and item budget, and give up on anything else, which
the checked decoder then decodes or reports exactly as above (``tests/codec/test_fast_paths.py``
compares the two on vectors, mutants, limits and random envelopes).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from types import MappingProxyType, SimpleNamespace
from typing import Any, Callable

from suitlib.cbor import Budget, Tag, bstr, decode, decode_from, encode
from suitlib.errors import DecodeError, SuitError
from suitlib.manifest.errors import (
    InvalidValueError,
    MissingKeyError,
    OldDraftError,
    WrongTagError,
    WrongTypeError,
)
from suitlib.manifest.model import (
    SEVERABLE_FIELDS,
    AuthenticationWrapper,
    Command,
    CommandSequence,
    Common,
    ComponentId,
    Digest,
    Envelope,
    Manifest,
    Parameters,
    Severable,
    Text,
    TextEntry,
    TryEach,
    VersionMatch,
    frozen_map,
)
from suitlib.manifest.numbers import (
    COMMON_NAMES,
    ENVELOPE_NAMES,
    ENVELOPE_TAG,
    MANIFEST_NAMES,
    PEN_TAG,
    SEVERABLE,
    CommonKey,
    Directive,
    Command as CommandCode,
    EnvelopeKey,
    ManifestKey,
    Parameter,
    command_name,
    parameter_name,
)
from suitlib.limits import DEFAULT_LIMITS, Limits

_ENVELOPE_TAG_HEAD = b"\xd8\x6b"

_OLD_MANIFEST_KEYS = {10: "validate (draft-09)", 11: "load (draft-09)", 12: "run (draft-09)",
                      13: "text (draft-09)", 17: "install (draft-20 era)"}
"""Manifest keys no current document assigns but older drafts used (suit-codes.md)."""


def _short(names: Mapping[int, str]) -> Callable[[Any], str]:
    def name(key: Any) -> str:
        text = names.get(key) if isinstance(key, int) else None
        return text[5:] if text else (repr(key) if not isinstance(key, int) else str(key))
    return name


_ENVELOPE_KEY = _short(ENVELOPE_NAMES)
_MANIFEST_KEY = _short(MANIFEST_NAMES)
_COMMON_KEY = _short(COMMON_NAMES)


# --------------------------------------------------------------------------------------------
# small typed readers


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if value is None:
        return "null"
    if isinstance(value, int):
        return "int"
    if isinstance(value, bytes):
        return "bstr"
    if isinstance(value, str):
        return "tstr"
    if isinstance(value, tuple):
        return "array"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, Tag):
        return f"tag {value.number}"
    return type(value).__name__


def _expect(value: Any, kind: type | tuple[type, ...], what: str, path: str) -> Any:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise WrongTypeError(f"expected {what}, got {_type_name(value)}", path=path,
                             expected=what, got=_type_name(value))
    return value


def _uint(value: Any, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise WrongTypeError(f"expected uint, got {_type_name(value)}", path=path,
                             expected="uint", got=_type_name(value))
    return value


def _int(value: Any, path: str) -> int:
    return _expect(value, int, "int", path)


def _bstr(value: Any, path: str) -> bytes:
    return _expect(value, bytes, "bstr", path)


def _tstr(value: Any, path: str) -> str:
    return _expect(value, str, "tstr", path)


def _bool(value: Any, path: str) -> bool:
    return _expect(value, bool, "bool", path)


def _array(value: Any, path: str) -> tuple[Any, ...]:
    return _expect(value, tuple, "array", path)


def _map(value: Any, path: str) -> dict[Any, Any]:
    return _expect(value, dict, "map", path)


def _keyed_map(value: Any, path: str) -> dict[Any, Any]:
    """A SUIT map whose keys are looked up by integer: a bool or float key would compare equal
    to 1 or 2.0 == 2 in Python and be taken for a SUIT key, so such keys are refused."""
    items = _map(value, path)
    for key in items:
        if type(key) is not int and isinstance(key, (bool, float)):
            raise WrongTypeError(f"map key {key!r} ({_type_name(key)}) is not allowed here; SUIT keys are "
                                 "integers (or text for integrated payloads)", path=path)
    return items


class _Ctx:
    """Limits and the shared item budget for one envelope."""

    __slots__ = ("limits", "budget")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.budget = Budget(limits.max_items)

    def unwrap(self, value: Any, path: str, key_names: Callable[[Any], str] | None = None) -> Any:
        """Decode the CBOR inside a ``bstr .cbor`` member."""
        return decode(_bstr(value, path), limits=self.limits, path=path, budget=self.budget,
                      key_names=key_names)


# --------------------------------------------------------------------------------------------
# decoding


def decode_digest(value: Any, path: str) -> Digest:
    """SUIT_Digest = [alg: int, bytes: bstr, * ext] (§8.4.2.1)."""
    arr = _array(value, path)
    if len(arr) < 2:
        raise InvalidValueError("SUIT_Digest needs an algorithm and a value", path=path)
    alg = _int(arr[0], path + "[0]")
    data = _bstr(arr[1], path + "[1]")
    if alg > 0 and alg < 16 and len(arr) == 2:
        raise OldDraftError(f"digest algorithm {alg} uses the draft-09 SUIT enumeration (sha256 = 2); "
                            "current manifests use COSE ids (sha256 = -16)", path=path)
    return Digest(alg, data, tuple(arr[2:]))


def _plain_digest(ctx: _Ctx, wrapped: bytes) -> Digest | None:
    """Fast path for ``bstr .cbor [alg, bstr]`` with a COSE (negative) algorithm id: the
    digest, or None to take the checked path (which names the fault)."""
    digest = _digest_on_bytes(ctx, wrapped)
    if digest is not None:
        return digest
    try:
        inner = decode(wrapped, limits=ctx.limits, budget=ctx.budget)
    except DecodeError:
        return None
    if type(inner) is tuple and len(inner) == 2 and type(inner[0]) is int and inner[0] < 0 \
            and type(inner[1]) is bytes:
        return Digest(inner[0], inner[1])
    return None


def _digest_on_bytes(ctx: _Ctx, wrapped: bytes) -> Digest | None:
    """The common SUIT_Digest shape recognised on its bytes, or None (nothing consumed).

    ``82``, a negative int in its shortest head (``20``..``37`` or ``38 18``..``38 ff``), then
    a byte string with a one-byte length (``58 18``..``58 ff``) filling the rest, which is
    exactly its deterministic encoding."""
    size = len(wrapped)
    if size > 4 and wrapped[0] == 0x82:
        first = wrapped[1]
        if 0x20 <= first <= 0x37:
            alg, at = 0x1F - first, 2
        elif first == 0x38 and wrapped[2] >= 24:
            alg, at = -1 - wrapped[2], 3
        else:
            alg = at = 0
        if at and at + 1 < size and wrapped[at] == 0x58 and wrapped[at + 1] >= 24 \
                and at + 2 + wrapped[at + 1] == size:
            budget = ctx.budget
            budget.items -= 2
            if budget.items >= 0:
                return Digest(alg, wrapped[at + 2:])
            budget.items += 2  # let the checked path report the limit with its path
    return None


def decode_component_id(value: Any, path: str) -> ComponentId:
    if type(value) is tuple and all(type(part) is bytes for part in value):
        return ComponentId(value)
    arr = _array(value, path)
    for i, part in enumerate(arr):
        _bstr(part, f"{path}[{i}]")
    return ComponentId(arr)


def _plain_ints(codes: type[IntEnum]) -> SimpleNamespace:
    """The members of ``codes`` as plain ints under the same names: reading an IntEnum member
    is an attribute lookup several times slower than this, and the decoder compares codes on
    every item."""
    return SimpleNamespace(**{name: int(member) for name, member in codes.__members__.items()})


_MK, _CK, _EK = _plain_ints(ManifestKey), _plain_ints(CommonKey), _plain_ints(EnvelopeKey)
_DIR, _PAR = _plain_ints(Directive), _plain_ints(Parameter)


def _decode_parameter(ctx: _Ctx, code: int, value: Any, path: str) -> Any:
    if code == _PAR.VENDOR_IDENTIFIER:
        if isinstance(value, Tag):
            if value.number != PEN_TAG:
                raise WrongTagError(f"vendor id tag {value.number}, expected {PEN_TAG} (cbor-pen)", path=path)
            _bstr(value.value, path)
            return value
        return _bstr(value, path)
    if code in (_PAR.CLASS_IDENTIFIER, _PAR.DEVICE_IDENTIFIER, _PAR.CONTENT,
                _PAR.INVOKE_ARGS, _PAR.FETCH_ARGUMENTS, _PAR.ENCRYPTION_INFO,
                _PAR.WAIT_INFO, _PAR.COMPONENT_METADATA):
        return _bstr(value, path)
    if code == _PAR.IMAGE_DIGEST:
        return decode_digest(ctx.unwrap(value, path), path)
    if code in (_PAR.USE_BEFORE, _PAR.COMPONENT_SLOT, _PAR.IMAGE_SIZE,
                _PAR.SOURCE_COMPONENT, _PAR.MINIMUM_BATTERY):
        return _uint(value, path)
    if code == _PAR.UPDATE_PRIORITY:
        return _int(value, path)
    if code in (_PAR.STRICT_ORDER, _PAR.SOFT_FAILURE):
        return _bool(value, path)
    if code == _PAR.URI:
        return _tstr(value, path)
    if code == _PAR.VERSION:
        inner = _array(ctx.unwrap(value, path), path)
        if len(inner) != 2:
            raise InvalidValueError("version needs [comparison-type, [+int]]", path=path)
        comparison = _uint(inner[0], path + "[0]")
        parts = _array(inner[1], path + "[1]")
        if not parts:
            raise InvalidValueError("version needs at least one part", path=path + "[1]")
        for i, part in enumerate(parts):
            _int(part, f"{path}[1][{i}]")
        return VersionMatch(comparison, parts)
    return value  # custom (negative) and unknown codes: kept as decoded


_PLAIN_PARAMETERS: dict[int, type] = {
    _PAR.VENDOR_IDENTIFIER: bytes, _PAR.CLASS_IDENTIFIER: bytes, _PAR.DEVICE_IDENTIFIER: bytes,
    _PAR.CONTENT: bytes, _PAR.INVOKE_ARGS: bytes, _PAR.FETCH_ARGUMENTS: bytes,
    _PAR.ENCRYPTION_INFO: bytes, _PAR.WAIT_INFO: bytes, _PAR.COMPONENT_METADATA: bytes,
    _PAR.USE_BEFORE: int, _PAR.COMPONENT_SLOT: int, _PAR.IMAGE_SIZE: int,
    _PAR.SOURCE_COMPONENT: int, _PAR.MINIMUM_BATTERY: int, _PAR.URI: str,
    _PAR.STRICT_ORDER: bool, _PAR.SOFT_FAILURE: bool,
}
"""Parameters whose decoded value is used as is when its type is right (uints: int >= 0)."""
_PLAIN_PARAMETERS = {int(k): v for k, v in _PLAIN_PARAMETERS.items()}


def decode_parameters(ctx: _Ctx, value: Any, path: str) -> Parameters:
    """SUIT_Parameters map (§8.4.8)."""
    items = _map(value, path)
    if not items:
        raise InvalidValueError("empty parameter map", path=path)
    out = {}
    plain = _PLAIN_PARAMETERS
    for code, item in items.items():
        # fast path: parameters whose value is a plain scalar of the expected type
        kind = plain.get(code) if type(code) is int else None
        if kind is not None and type(item) is kind and (kind is not int or item >= 0):
            out[code] = item
            continue
        if code == 3 and type(item) is bytes:  # image-digest: the usual SUIT_Digest
            digest = _plain_digest(ctx, item)
            if digest is not None:
                out[code] = digest
                continue
        sub = f"{path}/{parameter_name(code)[15:] if isinstance(code, int) and code > 0 else code}"
        if not isinstance(code, int) or isinstance(code, bool) or code == 0:
            raise WrongTypeError("parameter keys are non-zero integers", path=sub)
        out[code] = _decode_parameter(ctx, code, item, sub)
    return Parameters(out)


def _decode_argument(ctx: _Ctx, code: int, arg: Any, path: str, depth: int) -> Any:
    if code < 0:
        return arg
    if code == _DIR.SET_COMPONENT_INDEX:
        if arg is True:
            return True
        if isinstance(arg, tuple):
            if not arg:
                raise InvalidValueError("empty component index list", path=path)
            for i, item in enumerate(arg):
                _uint(item, f"{path}[{i}]")
            return arg
        return _uint(arg, path)
    if code in (_DIR.OVERRIDE_PARAMETERS, _DIR.SET_PARAMETERS):
        return decode_parameters(ctx, arg, path)
    if code == _DIR.TRY_EACH:
        arr = _array(arg, path)
        empty = bool(arr) and arr[-1] is None
        seqs = arr[:-1] if empty else arr
        if len(seqs) < 2:
            raise InvalidValueError("try-each needs at least two sequences", path=path)
        return TryEach(tuple(_sequence(ctx, s, f"{path}[{i}]", depth + 1)
                             for i, s in enumerate(seqs)), empty)
    if code == _DIR.RUN_SEQUENCE:
        return _sequence(ctx, arg, path, depth + 1)
    if code == _DIR.OVERRIDE_MULTIPLE:
        items = _map(arg, path)
        if not items:
            raise InvalidValueError("empty override-multiple map", path=path)
        return frozen_map({_uint(k, path): decode_parameters(ctx, v, f"{path}/{k}") for k, v in items.items()})
    if code == _DIR.COPY_PARAMS:
        items = _map(arg, path)
        if not items:
            raise InvalidValueError("empty copy-params map", path=path)
        out = {}
        for k, v in items.items():
            _uint(k, path)
            keys = _array(v, f"{path}/{k}")
            for i, item in enumerate(keys):
                _int(item, f"{path}/{k}[{i}]")
            out[k] = keys
        return frozen_map(out)
    if code in _KNOWN_CODES:
        return _uint(arg, path)
    return arg  # unassigned positive code: preserved, the processor decides


_KNOWN_CODES = frozenset(int(c) for c in CommandCode)
_UINT_ARGUMENT_CODES = _KNOWN_CODES - {
    _DIR.TRY_EACH, _DIR.SET_PARAMETERS, _DIR.OVERRIDE_PARAMETERS, _DIR.RUN_SEQUENCE,
    _DIR.OVERRIDE_MULTIPLE, _DIR.COPY_PARAMS,
}
"""Codes whose argument may be a plain uint (reporting policy, or a component index)."""
_INTERNED: dict[tuple[int, int], Command] = {}
"""Shared instances of the frequent ``code, small uint`` commands (they are immutable)."""


def decode_sequence(ctx: _Ctx, value: Any, path: str, depth: int = 0) -> CommandSequence:
    """SUIT_Command_Sequence (§8.4.9): a flat array of ``code, argument`` pairs."""
    if depth > ctx.limits.max_try_each_depth:
        from suitlib.cbor import DepthLimitError

        raise DepthLimitError(f"try-each/run-sequence nested deeper than {ctx.limits.max_try_each_depth}",
                              path=path, limit="max_try_each_depth")
    arr = _array(value, path)
    if not arr or len(arr) % 2:
        raise InvalidValueError(f"a command sequence holds code/argument pairs, got {len(arr)} items", path=path)
    commands = []
    append = commands.append
    simple = _UINT_ARGUMENT_CODES
    interned = _INTERNED
    for i in range(0, len(arr), 2):
        code = arr[i]
        arg = arr[i + 1]
        # fast path: the common "code, uint" commands (conditions, plain directives, index)
        if type(code) is int and type(arg) is int and code in simple and arg >= 0:
            command = interned.get((code, arg))
            if command is None:
                command = Command(code, arg)
                if arg < 64:
                    interned[(code, arg)] = command
            append(command)
            continue
        sub = f"{path}[{i // 2}]"
        if not isinstance(code, int) or isinstance(code, bool) or code == 0:
            raise WrongTypeError(f"command code must be a non-zero int, got {_type_name(code)}", path=sub)
        commands.append(Command(code, _decode_argument(ctx, code, arr[i + 1], f"{sub}/{command_name(code)[5:]}",
                                                      depth)))
    return CommandSequence(tuple(commands))


def _sequence(ctx: _Ctx, value: Any, path: str, depth: int = 0) -> CommandSequence:
    """A ``bstr .cbor SUIT_Command_Sequence`` member: the fast reader when it can tell the
    answer, else the checked decoder (which names the fault)."""
    if type(value) is bytes and depth <= ctx.limits.max_try_each_depth:
        budget = ctx.budget
        saved = budget.items
        try:
            sequence = _fast_sequence(ctx, value, depth)
        except (SuitError, IndexError):
            sequence = None
        if sequence is not None:
            return sequence
        budget.items = saved
    return decode_sequence(ctx, ctx.unwrap(value, path), path, depth)


# --------------------------------------------------------------------------------------------
# fast reader for command sequences
#
# Command sequences are most of a manifest's bytes. ``_fast_sequence`` reads one directly from
# its encoded bytes into the model, without first building the generic CBOR value: the common
# commands ("code, small uint") by a table lookup on their two bytes, parameter maps with
# scalar values inline, anything else through the general CBOR reader and the same model
# checks as :func:`decode_sequence`. It gives up (returns None, or raises) on anything that is
# not plainly valid, and the caller then decodes with the checked path, which reports the
# fault exactly as it always has: the fast reader only ever accepts what the checked decoder
# accepts, with the same result and the same item budget.

_PAIRS: dict[bytes, Command] = {
    bytes((code, arg)): Command(code, arg)
    for code in sorted(int(c) for c in _UINT_ARGUMENT_CODES if c < 24) for arg in range(24)
}
"""The two encoded bytes of every ``code, uint`` command with a code and argument below 24."""

_OVERRIDE = _DIR.OVERRIDE_PARAMETERS
_SET = _DIR.SET_PARAMETERS
_DIGEST = _PAR.IMAGE_DIGEST


def _fast_sequence(ctx: _Ctx, data: bytes, depth: int) -> CommandSequence | None:
    """Read a command sequence from its encoded bytes, or None to leave it to the checked path."""
    limits = ctx.limits
    size = len(data)
    if size < 3 or size > limits.max_envelope_size or limits.max_depth < 2:
        return None
    first = data[0]
    if 0x82 <= first <= 0x97:
        count, pos = first - 0x80, 1
    elif first == 0x98 and data[1] >= 24:
        count, pos = data[1], 2
    elif first == 0x99 and data[1]:
        count, pos = (data[1] << 8) | data[2], 3
    else:
        return None
    if count & 1 or count > size - pos:
        return None
    budget = ctx.budget
    budget.items -= count
    if budget.items < 0:
        return None
    pairs = _PAIRS
    simple = _UINT_ARGUMENT_CODES
    interned = _INTERNED
    commands: list[Command] = []
    append = commands.append
    for _ in range(count >> 1):
        command = pairs.get(data[pos:pos + 2])
        if command is not None:
            append(command)
            pos += 2
            continue
        head = data[pos]
        if 0 < head < 24:
            code = head
            pos += 1
        elif head == 0x18 and data[pos + 1] >= 24:
            code = data[pos + 1]
            pos += 2
        else:
            code, pos = decode_from(data, pos, 1, limits=limits, budget=budget)
            if type(code) is not int or code == 0:
                return None
        head = data[pos]
        if code in simple:
            if head < 24:
                arg = head
                pos += 1
            elif head == 0x18 and data[pos + 1] >= 24:
                arg = data[pos + 1]
                pos += 2
            else:
                arg, pos = decode_from(data, pos, 1, limits=limits, budget=budget)
                append(Command(code, _decode_argument(ctx, code, arg, "", depth)))
                continue
            command = interned.get((code, arg))
            if command is None:
                command = Command(code, arg)
                if arg < 64:
                    interned[(code, arg)] = command
            append(command)
        elif (code == _OVERRIDE or code == _SET) and 0xA1 <= head <= 0xB7:
            read = _fast_parameters(ctx, data, pos)
            if read is None:
                return None
            params, pos = read
            append(Command(code, params))
        else:
            arg, pos = decode_from(data, pos, 1, limits=limits, budget=budget)
            append(Command(code, _decode_argument(ctx, code, arg, "", depth)))
    if pos != size:
        return None
    return CommandSequence(tuple(commands))


_BSTR_PARAMETERS = frozenset(k for k, v in _PLAIN_PARAMETERS.items() if v is bytes)
_UINT_PARAMETERS = frozenset(k for k, v in _PLAIN_PARAMETERS.items() if v is int)
_URI = _PAR.URI


def _fast_parameters(ctx: _Ctx, data: bytes, pos: int) -> tuple[Parameters, int] | None:
    """Read a SUIT_Parameters map of at most 23 entries at ``pos`` (inside a command sequence,
    so at depth 2), or None to leave it to the checked path."""
    count = data[pos] - 0xA0
    pos += 1
    size = len(data)
    if 2 * count > size - pos:
        return None
    budget = ctx.budget
    budget.items -= count
    if budget.items < 0:
        return None
    limits = ctx.limits
    out: dict[int, Any] = {}
    previous = -1
    for _ in range(count):
        # keys: 1..23, 24..255 and -1..-24; ``rank`` orders them as their encodings sort bytewise
        head = data[pos]
        if 0 < head < 24:
            code = head
            rank = head << 8
            pos += 1
        elif head == 0x18 and data[pos + 1] >= 24:
            code = data[pos + 1]
            rank = 0x1800 | code
            pos += 2
        elif 0x20 <= head < 0x38:
            code = 0x1F - head
            rank = head << 8
            pos += 1
        else:
            return None
        if rank <= previous:
            return None
        previous = rank
        head = data[pos]
        if code in _BSTR_PARAMETERS or code == _DIGEST:
            if 0x40 <= head < 0x58:
                end = pos + head - 0x3F
                start = pos + 1
            elif head == 0x58 and data[pos + 1] >= 24:
                end = pos + 2 + data[pos + 1]
                start = pos + 2
            else:
                end = 0
            if end and end <= size:
                value = data[start:end]
                pos = end
                if code == _DIGEST:
                    digest = _plain_digest(ctx, value)
                    out[code] = digest if digest is not None else _decode_parameter(ctx, code, value, "")
                else:
                    out[code] = value
                continue
        elif code in _UINT_PARAMETERS:
            if head < 24:
                out[code] = head
                pos += 1
                continue
            if head == 0x18 and data[pos + 1] >= 24:
                out[code] = data[pos + 1]
                pos += 2
                continue
            if head == 0x19 and pos + 3 <= size and data[pos + 1]:
                out[code] = (data[pos + 1] << 8) | data[pos + 2]
                pos += 3
                continue
            if head == 0x1A and pos + 5 <= size and data[pos + 1] | data[pos + 2]:
                out[code] = int.from_bytes(data[pos + 1:pos + 5], "big")
                pos += 5
                continue
        elif code == _URI and 0x60 <= head <= 0x78:
            if head < 0x78:
                start = pos + 1
                end = start + head - 0x60
            elif data[pos + 1] >= 24:
                start = pos + 2
                end = start + data[pos + 1]
            else:
                end = size + 1
            if end <= size:
                try:
                    out[code] = data[start:end].decode("utf-8")
                except UnicodeDecodeError:
                    return None
                pos = end
                continue
        value, pos = decode_from(data, pos, 2, limits=limits, budget=budget)
        out[code] = _decode_parameter(ctx, code, value, "")
    return Parameters(out), pos


def _fast_map(ctx: _Ctx, data: bytes, start: int = 0) -> dict[int, Any] | None:
    """Read the outermost map of a SUIT structure (envelope, manifest, common) from ``data``
    at ``start``, or None to leave it to the checked decoder.

    Handles up to 23 keys 0..23 in deterministic order, with values that are small uints or
    byte strings (the ``bstr .cbor`` members) read inline and anything else through the
    general reader; like :func:`_fast_sequence`, it gives up on anything not plainly valid.
    """
    limits = ctx.limits
    size = len(data)
    count = data[start] - 0xA0
    if not 0 < count < 24 or size > limits.max_envelope_size or limits.max_depth < 1:
        return None
    pos = start + 1
    if 2 * count > size - pos:
        return None
    budget = ctx.budget
    budget.items -= count
    if budget.items < 0:
        return None
    out: dict[int, Any] = {}
    previous = -1
    for _ in range(count):
        key = data[pos]
        if key >= 24 or key <= previous:
            return None
        previous = key
        head = data[pos + 1]
        pos += 2
        if head < 24:
            out[key] = head
            continue
        if 0x40 <= head < 0x58:
            end = pos + head - 0x40
        elif head == 0x58 and data[pos] >= 24:
            end = pos + 1 + data[pos]
            pos += 1
        elif head == 0x59 and data[pos]:
            end = pos + 2 + ((data[pos] << 8) | data[pos + 1])
            pos += 2
        else:
            out[key], pos = decode_from(data, pos - 1, 1, limits=limits, budget=budget)
            continue
        if end > size:
            return None
        out[key] = data[pos:end]
        pos = end
    if pos != size:
        return None
    return out


def _outer_map(ctx: _Ctx, data: Any, path: str, key_names: Callable[[Any], str]) -> Any:
    """The outermost item of an encoded SUIT structure: by :func:`_fast_map` when it can,
    else by the checked decoder (which also reports anything that is not bytes)."""
    if type(data) is bytes and data:
        budget = ctx.budget
        saved = budget.items
        try:
            items = _fast_map(ctx, data)
        except (SuitError, IndexError):
            items = None
        if items is not None:
            return items
        budget.items = saved
    return decode(data, limits=ctx.limits, path=path, budget=ctx.budget, key_names=key_names)


def decode_text(ctx: _Ctx, value: Any, path: str) -> Text:
    """suit-text content (§8.4.4)."""
    langs = _map(value, path)
    out = {}
    for lang, lmap in langs.items():
        sub = f"{path}/{lang}"
        _tstr(lang, path)
        entries = _map(lmap, sub)
        fields: dict[int, Any] = {}
        components: dict[ComponentId, Any] = {}
        for key, item in entries.items():
            if isinstance(key, tuple):
                cid = decode_component_id(key, sub)
                components[cid] = frozen_map(_map(item, f"{sub}/{cid}"))
            elif isinstance(key, int) and not isinstance(key, bool):
                fields[key] = item
            else:
                raise WrongTypeError("text keys are ints or component identifiers", path=sub)
        out[lang] = TextEntry(frozen_map(fields), frozen_map(components))
    return Text(frozen_map(out))


def decode_common(ctx: _Ctx, value: Any, path: str = "manifest/common") -> Common:
    """SUIT_Common (§8.4.5)."""
    items = _keyed_map(_outer_map(ctx, _bstr(value, path), path, _COMMON_KEY), path)
    if _CK.COMPONENTS not in items:
        raise MissingKeyError("suit-components is required", path=path)
    if 3 in items:
        raise OldDraftError("common key 3 (dependency-components) is draft-09 numbering", path=path)
    cpath = path + "/components"
    comps = _array(items[_CK.COMPONENTS], cpath)
    if not comps:
        raise InvalidValueError("at least one component is required", path=cpath)
    if len(comps) > ctx.limits.max_components:
        from suitlib.cbor import ItemLimitError

        raise ItemLimitError(f"{len(comps)} components exceed the limit of {ctx.limits.max_components}",
                             path=cpath, limit="max_components")
    ids = []
    for i, c in enumerate(comps):  # the path is only spelled out for a faulty identifier
        if type(c) is tuple and (len(c) == 1 and type(c[0]) is bytes or all(type(part) is bytes for part in c)):
            ids.append(ComponentId(c))
        else:
            ids.append(decode_component_id(c, f"{cpath}[{i}]"))
    components = tuple(ids)
    shared = None
    if _CK.SHARED_SEQUENCE in items:
        spath = path + "/shared-sequence"
        shared = _sequence(ctx, items[_CK.SHARED_SEQUENCE], spath)
    deps = None
    if _CK.DEPENDENCIES in items:
        deps = frozen_map(_map(items[_CK.DEPENDENCIES], path + "/dependencies"))
    extra = {k: v for k, v in items.items() if k not in (1, 2, 4)}
    return Common(components, shared, deps, frozen_map(extra))


_SEQUENCE_FIELDS = {
    _MK.VALIDATE: "validate", _MK.LOAD: "load", _MK.INVOKE: "invoke",
    _MK.UNINSTALL: "uninstall",
}


def decode_severable_content(ctx: _Ctx, key: int, value: Any, path: str) -> Severable:
    """The content of a severable member (``bstr .cbor``), by key."""
    if key == _MK.COSWID:
        return _bstr(value, path)
    if key == _MK.TEXT:
        return decode_text(ctx, ctx.unwrap(value, path), path)
    return _sequence(ctx, value, path)


_MANIFEST_PATHS = {int(key): f"manifest/{_MANIFEST_KEY(int(key))}" for key in ManifestKey}
"""Error paths of the manifest members (``manifest/install``), made once."""


def decode_manifest_content(ctx: _Ctx, data: bytes, path: str = "manifest") -> Manifest:
    """SUIT_Manifest from the content of envelope key 3 (§8.4)."""
    raw = _outer_map(ctx, data, path, _MANIFEST_KEY)
    if isinstance(raw, Tag):
        raise WrongTagError(f"manifest tagged {raw.number}; the envelope holds an untagged SUIT_Manifest",
                            path=path)
    items = _keyed_map(raw, path)
    for key in items:
        if key in _OLD_MANIFEST_KEYS:
            raise OldDraftError(f"manifest key {key} is {_OLD_MANIFEST_KEYS[key]} numbering", path=path, key=key)
    for required in (_MK.MANIFEST_VERSION, _MK.MANIFEST_SEQUENCE_NUMBER, _MK.COMMON):
        if required not in items:
            raise MissingKeyError(f"{MANIFEST_NAMES[required]} is required", path=path)
    version = _uint(items[1], path + "/manifest-version")
    if version != 1:
        from suitlib.errors import UnsupportedError

        raise UnsupportedError(f"manifest version {version} (only 1 is defined)", path=path + "/manifest-version")
    kw: dict[str, Any] = {
        "version": version,
        "sequence_number": _uint(items[2], path + "/manifest-sequence-number"),
        "common": decode_common(ctx, items[3], path + "/common"),
    }
    extra = {}
    for key, value in items.items():
        if key in (1, 2, 3):
            continue
        sub = _MANIFEST_PATHS.get(key) if path == "manifest" else None
        if sub is None:
            sub = f"{path}/{_MANIFEST_KEY(key)}"
        if key == _MK.REFERENCE_URI:
            kw["reference_uri"] = _tstr(value, sub)
        elif key == _MK.MANIFEST_COMPONENT_ID:
            kw["manifest_component_id"] = decode_component_id(value, sub)
        elif key == _MK.SET_VERSION:
            kw["set_version"] = value
        elif key in _SEQUENCE_FIELDS:
            kw[_SEQUENCE_FIELDS[key]] = _sequence(ctx, value, sub)
        elif key in SEVERABLE:
            if isinstance(value, tuple):
                kw[SEVERABLE_FIELDS[key]] = decode_digest(value, sub)
            else:
                kw[SEVERABLE_FIELDS[key]] = decode_severable_content(ctx, key, value, sub)
        else:
            extra[key] = value
    kw["extensions"] = frozen_map(extra)
    return Manifest(**kw)


def decode_manifest(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> Manifest:
    """Decode a SUIT_Manifest from its encoded bytes (the content of envelope key 3)."""
    return decode_manifest_content(_Ctx(limits), data)


def decode_authentication(ctx: _Ctx, value: Any, path: str = "authentication-wrapper") -> AuthenticationWrapper:
    """SUIT_Authentication (§8.3)."""
    arr = _array(ctx.unwrap(value, path), path)
    if not arr:
        raise InvalidValueError("the authentication wrapper needs the manifest digest", path=path)
    first = _bstr(arr[0], path + "[0]")
    digest = _digest_on_bytes(ctx, first)
    if digest is None:
        inner = decode(first, limits=ctx.limits, path=path + "[0]", budget=ctx.budget)
        if isinstance(inner, Tag) or (isinstance(inner, tuple) and len(inner) == 4):
            raise OldDraftError("the authentication wrapper starts with a COSE structure, not a SUIT_Digest: "
                                "draft-09 numbering (attached COSE payload)", path=path + "[0]")
        digest = decode_digest(inner, path + "[0]")
    if len(arr) - 1 > ctx.limits.max_signatures:
        from suitlib.cbor import ItemLimitError

        raise ItemLimitError(f"{len(arr) - 1} authentication blocks exceed the limit of "
                             f"{ctx.limits.max_signatures}", path=path, limit="max_signatures")
    blocks = arr[1:]
    if not all(type(b) is bytes for b in blocks):
        blocks = tuple(_bstr(b, f"{path}[{i}]") for i, b in enumerate(blocks, start=1))
    return AuthenticationWrapper(digest, blocks)


def decode_envelope(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> Envelope:
    """Decode a SUIT envelope, tagged (107) or not (§8.2). Raises only :class:`SuitError`s:
    :class:`~suitlib.errors.DecodeError` subclasses naming the path, or
    :class:`~suitlib.errors.UnsupportedError` (old drafts, unknown manifest version)."""
    ctx = _Ctx(limits)
    if isinstance(data, (bytes, bytearray, memoryview)) and bytes(data[:2]) == _ENVELOPE_TAG_HEAD:
        if len(data) > limits.max_envelope_size:
            decode(data, limits=limits)  # raises the size error
        top = _outer_map(ctx, bytes(data[2:]), "", _ENVELOPE_KEY)
        tagged = True
    else:
        top = _outer_map(ctx, data, "", _ENVELOPE_KEY)
        tagged = False
        if isinstance(top, Tag):
            raise WrongTagError(f"tag {top.number}, expected {ENVELOPE_TAG} (SUIT_Envelope_Tagged)", path="",
                                tag=top.number)
    items = _keyed_map(top, "")
    if _EK.MANIFEST not in items:
        raise MissingKeyError("suit-manifest (key 3) is required", path="")
    if _EK.AUTHENTICATION_WRAPPER not in items:
        raise MissingKeyError("suit-authentication-wrapper (key 2) is required", path="")
    manifest_raw = _bstr(items[_EK.MANIFEST], "manifest")
    auth = decode_authentication(ctx, items[_EK.AUTHENTICATION_WRAPPER])
    manifest = decode_manifest_content(ctx, manifest_raw)
    elements: dict[int, Severable] = {}
    element_bstrs: dict[int, bytes] = {}
    integrated: dict[str, bytes] = {}
    extra: dict[Any, Any] = {}
    delegation = None
    for key, value in items.items():
        if key in (2, 3):
            continue
        if isinstance(key, str):
            integrated[key] = _bstr(value, f"integrated[{key!r}]")
        elif key == _EK.DELEGATION:
            delegation = _bstr(value, "delegation")
        elif key in SEVERABLE:
            elements[key] = decode_severable_content(ctx, key, value, _ENVELOPE_KEY(key))
            element_bstrs[key] = bstr(value)
        elif key in (7, 8, 9, 10, 11, 12, 13, 17) and isinstance(value, bytes):
            raise OldDraftError(f"envelope key {key} is a severable member in older drafts "
                                "(draft-09 / draft-20 era numbering)", path="", key=key)
        else:
            extra[key] = value
    env = Envelope(auth, manifest, frozen_map(elements), frozen_map(integrated), delegation,
                   frozen_map(extra), tagged)
    # the bytes received: what the digests cover, and what re-encoding would give (deterministic)
    env.__dict__["manifest_bstr"] = bstr(manifest_raw)
    env.__dict__["element_bstrs"] = MappingProxyType(element_bstrs)
    return env


# --------------------------------------------------------------------------------------------
# encoding


def _parameter_value(code: int, value: Any) -> Any:
    if isinstance(value, Digest):
        return encode(value.to_cbor())
    if isinstance(value, VersionMatch):
        return encode(value.to_cbor())
    return value


def parameters_to_cbor(params: Mapping[int, Any]) -> dict[int, Any]:
    return {code: _parameter_value(code, value) for code, value in params.items()}


def _argument_to_cbor(code: int, arg: Any) -> Any:
    if isinstance(arg, Parameters):
        return parameters_to_cbor(arg)
    if isinstance(arg, TryEach):
        out: list[Any] = [encode_sequence(s) for s in arg.sequences]
        if arg.empty_allowed:
            out.append(None)
        return out
    if isinstance(arg, CommandSequence):
        return encode_sequence(arg)
    if code == Directive.OVERRIDE_MULTIPLE and isinstance(arg, Mapping):
        return {k: parameters_to_cbor(v) for k, v in arg.items()}
    return arg


def sequence_to_cbor(seq: CommandSequence) -> list[Any]:
    out: list[Any] = []
    for command in seq.commands:
        out.append(command.code)
        out.append(_argument_to_cbor(command.code, command.argument))
    return out


def encode_sequence(seq: CommandSequence) -> bytes:
    """The encoded command sequence (the content of its bstr wrapper)."""
    return encode(sequence_to_cbor(seq))


def text_to_cbor(text: Text) -> dict[str, Any]:
    out = {}
    for lang, entry in text.languages.items():
        lmap: dict[Any, Any] = dict(entry.fields)
        for cid, fields in entry.components.items():
            lmap[cid.parts] = dict(fields)
        out[lang] = lmap
    return out


def encode_severable_content(key: int, content: Severable) -> bytes:
    """The encoded content of a severable member (inside its bstr wrapper)."""
    if isinstance(content, bytes):
        return content
    if isinstance(content, Text):
        return encode(text_to_cbor(content))
    return encode_sequence(content)


def encode_common(common: Common) -> bytes:
    items: dict[Any, Any] = dict(common.extensions)
    items[CommonKey.COMPONENTS] = [c.parts for c in common.components]
    if common.shared_sequence is not None:
        items[CommonKey.SHARED_SEQUENCE] = encode_sequence(common.shared_sequence)
    if common.dependencies is not None:
        items[CommonKey.DEPENDENCIES] = common.dependencies
    return encode(items)


def manifest_to_cbor(manifest: Manifest) -> dict[Any, Any]:
    items: dict[Any, Any] = dict(manifest.extensions)
    items[1] = manifest.version
    items[2] = manifest.sequence_number
    items[3] = encode_common(manifest.common)
    if manifest.reference_uri is not None:
        items[4] = manifest.reference_uri
    if manifest.manifest_component_id is not None:
        items[5] = manifest.manifest_component_id.parts
    if manifest.set_version is not None:
        items[6] = manifest.set_version
    for key, name in _SEQUENCE_FIELDS.items():
        seq = getattr(manifest, name)
        if seq is not None:
            items[int(key)] = encode_sequence(seq)
    for key, name in SEVERABLE_FIELDS.items():
        value = getattr(manifest, name)
        if value is None:
            continue
        items[int(key)] = value.to_cbor() if isinstance(value, Digest) else encode_severable_content(key, value)
    return items


def encode_manifest(manifest: Manifest) -> bytes:
    """The encoded SUIT_Manifest (the content of envelope key 3's bstr)."""
    return encode(manifest_to_cbor(manifest))


def envelope_to_cbor(env: Envelope) -> Any:
    items: dict[Any, Any] = dict(env.extensions)
    items[2] = encode(list(env.authentication.to_cbor()))
    items[3] = env.manifest_bstr
    if env.delegation is not None:
        items[1] = env.delegation
    for key, content in env.elements.items():
        items[int(key)] = encode_severable_content(key, content)
    for name, payload in env.integrated.items():
        items[name] = payload
    return items


def encode_envelope(env: Envelope) -> bytes:
    """Encode an envelope deterministically, tagged 107 if ``env.tagged`` (§8.2)."""
    from suitlib.cbor import Raw

    items = envelope_to_cbor(env)
    items[3] = Raw(env.manifest_bstr)
    value = Tag(ENVELOPE_TAG, items) if env.tagged else items
    return encode(value)
