"""The SUIT command interpreter (draft-ietf-suit-manifest-34 §6.4–§6.6, §8.4.7–§8.4.10).

One :class:`Interpreter` runs one procedure of one authenticated :class:`Program` against a
:class:`Platform`. Rules implemented here, with the section that states them:

* Parameters are per component, except strict-order and soft-failure, which are processor-wide
  (§8.4.8). Parameter storage is cleared before each (shared sequence + sequence) pair, so no
  value leaks from one sequence into the next (§6.1, "clears all parameter storage").
* set-component-index takes an integer, ``True`` or an array (§6.5); every command then runs
  once per selected component, and try-each / run-sequence run their argument once per
  component with an integer index.
* A failed condition ends its sequence. Inside try-each (soft-failure defaults to True) the next
  alternative runs; inside run-sequence (default False) a soft failure just ends the nested
  sequence. soft-failure is scoped to its sequence and may not be set outside those two
  directives (§8.4.8.15). A directive failure always aborts.
* A try-each alternative that fails leaves no parameter changes behind (our choice, see
  specs/SUIT-PROFILE.md); ``nil`` as the last alternative makes the try-each succeed.
* Payloads are checked on the bytes the platform holds: image-match reads the component back;
  content fetched from a URI is *tainted* until an image-match over it succeeds, and tainted
  content cannot be invoked, copied into place unverified, or left behind by an update.
  invoke also requires that the component has not changed since its image-match.
* Work is bounded by :class:`~suitlib.limits.Limits`: commands executed, nesting depth,
  components and fetched bytes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any, NamedTuple

from suitlib.errors import (
    ConditionFailedError,
    FlashError,
    LimitExceededError,
    SuitError,
    TransportError,
    ValidationError,
)
from suitlib.limits import Limits
from suitlib.processor.errors import (
    ConditionNotMetError,
    ImageMismatchError,
    ManifestAbortError,
    MissingParameterError,
    UnsupportedCommandError,
    UnsupportedConditionError,
    UnsupportedParameterError,
    UnverifiedPayloadError,
)
from suitlib.processor.platform import ChunkSink, ComponentId, Platform
from suitlib.cbor import Tag
from suitlib.processor.program import (
    CONDITIONS,
    Cmd,
    CommandSequence,
    Digest,
    Param,
    Parameters,
    Program,
    Section,
    TryEach,
)
from suitlib.processor.report import Record, ReportingPolicy, SystemInfo

class _C:
    """Command codes as plain ints (enum attribute access costs ~0.3 µs on the hot path)."""


class _P:
    """Parameter codes as plain ints."""


for _member in Cmd:
    setattr(_C, _member.name, int(_member))
for _member in Param:
    setattr(_P, _member.name, int(_member))

HASHES: dict[int, Callable[[], Any]] = {
    -16: hashlib.sha256,
    -43: hashlib.sha384,
    -44: hashlib.sha512,
}
"""SUIT_Digest algorithms we verify (COSE ids). SHAKE128/256 are refused (profile)."""

READ_CHUNK = 64 * 1024

# The parameters each command consumes, for its report record (§8.4.7).
CONSUMES: dict[int, tuple[int, ...]] = {
    _C.CONDITION_VENDOR_IDENTIFIER: (_P.VENDOR_IDENTIFIER,),
    _C.CONDITION_CLASS_IDENTIFIER: (_P.CLASS_IDENTIFIER,),
    _C.CONDITION_DEVICE_IDENTIFIER: (_P.DEVICE_IDENTIFIER,),
    _C.CONDITION_IMAGE_MATCH: (_P.IMAGE_DIGEST, _P.IMAGE_SIZE),
    _C.CONDITION_IMAGE_NOT_MATCH: (_P.IMAGE_DIGEST, _P.IMAGE_SIZE),
    _C.CONDITION_COMPONENT_SLOT: (_P.COMPONENT_SLOT,),
    _C.CONDITION_CHECK_CONTENT: (_P.CONTENT,),
    _C.CONDITION_USE_BEFORE: (_P.USE_BEFORE,),
    _C.CONDITION_MINIMUM_BATTERY: (_P.MINIMUM_BATTERY,),
    _C.DIRECTIVE_FETCH: (_P.URI, _P.IMAGE_SIZE),
    _C.DIRECTIVE_COPY: (_P.SOURCE_COMPONENT,),
    _C.DIRECTIVE_SWAP: (_P.SOURCE_COMPONENT,),
    _C.DIRECTIVE_WRITE: (_P.CONTENT,),
    _C.DIRECTIVE_INVOKE: (_P.INVOKE_ARGS,),
}

GLOBAL_PARAMS = frozenset({_P.STRICT_ORDER, _P.SOFT_FAILURE})
_PARAMETER_DIRECTIVES = frozenset({
    _C.DIRECTIVE_SET_COMPONENT_INDEX, _C.DIRECTIVE_OVERRIDE_PARAMETERS, _C.DIRECTIVE_SET_PARAMETERS,
})
"""Directives that run once, whatever the component index (they set the index or parameters)."""
_NESTING_DIRECTIVES = frozenset({
    _C.DIRECTIVE_TRY_EACH, _C.DIRECTIVE_RUN_SEQUENCE, _C.DIRECTIVE_OVERRIDE_MULTIPLE, _C.DIRECTIVE_COPY_PARAMS,
})
_SUCCESS_BITS = (ReportingPolicy.RECORD_ON_SUCCESS, ReportingPolicy.SYSINFO_ON_SUCCESS)
_FAILURE_BITS = (ReportingPolicy.RECORD_ON_FAILURE, ReportingPolicy.SYSINFO_ON_FAILURE)
_ON_SUCCESS = ReportingPolicy.RECORD_ON_SUCCESS | ReportingPolicy.SYSINFO_ON_SUCCESS
TRANSFORMING_PARAMS = (_P.ENCRYPTION_INFO,)
"""Parameters that would change what fetch/copy/write store; refused until implemented."""


class _ConditionFailure(Exception):
    """Internal: a condition failed; ``soft`` is the soft-failure flag when it failed."""

    def __init__(self, error: SuitError, soft: bool) -> None:
        super().__init__(error.message)
        self.error = error
        self.soft = soft


class Where:
    """Where a command sits, and the parameters it consumed (for its report record)."""

    __slots__ = ("section", "offset", "component_index", "code", "_params")

    def __init__(self, section: int, offset: int, component_index: int, code: int) -> None:
        self.section = section
        self.offset = offset
        self.component_index = component_index
        self.code = code
        self._params: Mapping[int, Any] | None = None

    def consumed(self, params: Mapping[int, Any]) -> None:
        """Remember the values of the parameters the command reads (its report properties)."""
        self._params = {k: params[k] for k in CONSUMES[self.code] if k in params}

    @property
    def properties(self) -> dict[int, Any]:
        params = self._params
        if not params:
            return {}
        return {int(k): _plain(v) for k, v in params.items()}


class TraceEvent(NamedTuple):
    """One command executed on one component (for ``suit run --trace`` and debugging)."""

    depth: int
    """Nesting depth (0 = a top-level sequence, 1 = inside a try-each / run-sequence …)."""
    where: Where
    ok: bool
    message: str


Transformer = Callable[[Mapping[int, Any], ComponentId, ChunkSink, Platform], ChunkSink | None]
"""Given the current component's parameters, return a sink to put in front of the component
writer (e.g. a delta applier) or None when the parameters ask for no transformation."""


class _BoundedSink:
    """Refuses more than ``limit`` bytes (image-size or the fetch limit), then forwards."""

    def __init__(self, inner: ChunkSink, limit: int, what: str) -> None:
        self._inner = inner
        self._limit = limit
        self._what = what
        self.count = 0
        self.closed = False

    def write(self, chunk: bytes | memoryview) -> None:
        if self.closed:
            raise TransportError("data after the end of the transfer", reason=11)
        count = self.count + len(chunk)
        self.count = count
        if count > self._limit:
            raise LimitExceededError(
                f"fetched payload exceeds {self._what} ({self._limit} bytes)",
                limit=self._limit,
                reason=11,
            )
        self._inner.write(chunk)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._inner.close()


class _LazyWriter:
    """Opens the component writer at the first byte (or at close for an empty payload).

    Once open, ``write`` is the component writer's own bound method (no extra call per chunk).
    """

    def __init__(self, platform: Platform, component: ComponentId, size_hint: int | None) -> None:
        self._platform = platform
        self._component = component
        self._size_hint = size_hint
        self._writer: Any = None

    def _open(self) -> Any:
        if self._writer is None:
            self._writer = self._platform.open_writer(self._component, size_hint=self._size_hint)
            self.write = self._writer.write  # type: ignore[method-assign]
        return self._writer

    def write(self, chunk: bytes | memoryview) -> None:
        self._open().write(chunk)

    def close(self) -> None:
        self._open().close()

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.abort()


def _compare(expected: bytes, actual: bytes) -> bool:
    """Constant-time comparison (§8.4.9.3 asks for no early exit)."""
    return hmac.compare_digest(expected, actual)


def _same_identifier(device: Any, wanted: Any) -> bool:
    """UUID bytes compare in constant time; a CBOR-PEN vendor id is ``Tag(112, bytes)``."""
    if isinstance(device, Tag) and isinstance(wanted, Tag):
        return device.number == wanted.number and _same_identifier(device.value, wanted.value)
    return isinstance(device, bytes) and isinstance(wanted, bytes) and _compare(device, wanted)


def _plain(value: Any) -> Any:
    """A parameter value as it goes into a report (digests back to [alg, bytes])."""
    if isinstance(value, Digest):
        return [value.algorithm, value.value]
    return value


class Interpreter:
    """Executes command sequences of one :class:`Program` for one procedure."""

    _handlers: dict[int, Callable[[Interpreter, int], None]]

    def __init__(
        self,
        program: Program,
        platform: Platform,
        limits: Limits,
        *,
        transformers: tuple[Transformer, ...] = (),
        require_verified_invoke: bool = True,
        hashes: Mapping[int, Callable[[], Any]] | None = None,
        trace: Callable[[TraceEvent], None] | None = None,
    ) -> None:
        self.program = program
        self.trace = trace
        self.hashes = HASHES if hashes is None else hashes
        self.platform = platform
        self.limits = limits
        self.transformers = transformers
        self.require_verified_invoke = require_verified_invoke
        self.components: tuple[ComponentId, ...] = program.components
        self.records: list[Record | SystemInfo] = []
        self.commands_executed = 0
        self._max_commands = limits.max_commands
        self.failure_at: Where | None = None
        # per-procedure state: which components hold verified content, at which generation
        self.verified: dict[int, int] = {}
        # digests computed from read-back content: index -> (generation, alg, size, digest)
        self.measured: dict[int, tuple[int, int, int | None, bytes]] = {}
        self.tainted: set[int] = set()
        self._maps: dict[int, tuple[Any, dict[Any, Any], dict[Any, Any], bool, bool]] = {}
        self._reset_parameters()

    # --- state -------------------------------------------------------------------------------
    def _reset_parameters(self) -> None:
        self.params: list[dict[int, Any]] = [{} for _ in self.components]
        self.soft_failure = False
        self.strict_order = True
        self.index: int | bool | tuple[int, ...] = 0
        self.depth = 0

    def _selected(self) -> Iterator[int]:
        if self.index is True:
            yield from range(len(self.components))
        elif isinstance(self.index, tuple):
            yield from self.index
        else:
            yield int(self.index)

    # --- entry points ----------------------------------------------------------------------
    def run_procedure(self, sections: list[tuple[int, CommandSequence]]) -> None:
        """Run several sequences, each preceded by the shared sequence."""
        for section, sequence in sections:
            self._reset_parameters()
            if self.program.shared is not None:
                self._run_top(Section.COMMON, self.program.shared)
            self.index = 0
            self._run_top(section, sequence)

    def _run_top(self, section: int, sequence: CommandSequence) -> None:
        try:
            self._run(section, sequence)
        except _ConditionFailure as failure:
            raise failure.error from None

    # --- sequences ---------------------------------------------------------------------------
    def _run(self, section: int, sequence: CommandSequence) -> None:
        for offset, command in enumerate(sequence.commands):
            self._execute(section, offset, command)

    def _nested(self, section: int, sequence: CommandSequence, index: int, soft: bool) -> None:
        """Run a nested sequence with an integer component index and its own soft-failure."""
        if self.depth + 1 > self.limits.max_try_each_depth:
            raise LimitExceededError(
                f"command sequences nested deeper than {self.limits.max_try_each_depth}",
                limit=self.limits.max_try_each_depth,
                reason=11,
            )
        saved = (self.index, self.soft_failure, self.depth)
        self.index, self.soft_failure, self.depth = index, soft, self.depth + 1
        try:
            self._run(section, sequence)
        finally:
            self.index, self.soft_failure, self.depth = saved

    def _count(self) -> None:
        executed = self.commands_executed + 1
        self.commands_executed = executed
        if executed > self._max_commands:
            raise LimitExceededError(
                f"more than {self.limits.max_commands} commands executed",
                limit=self.limits.max_commands,
                reason=11,
            )

    def _execute(self, section: int, offset: int, command: Any) -> None:
        code = command.code
        argument = command.argument
        if code in _PARAMETER_DIRECTIVES:
            self._count()
            if code == _C.DIRECTIVE_SET_COMPONENT_INDEX:
                self._set_component_index(argument)
            else:
                self._set_parameters(argument, override=code == _C.DIRECTIVE_OVERRIDE_PARAMETERS)
            return
        selection = self.index
        indices = (selection,) if type(selection) is int else tuple(self._selected())
        # the reporting policy of a plain command (an int argument; bool is not one)
        policy = argument if type(argument) is int or (isinstance(argument, int) and not isinstance(argument, bool)) else 0
        for index in indices:
            self._count()
            where = Where(section, offset, index, code)
            try:
                if code in _NESTING_DIRECTIVES:
                    if code == _C.DIRECTIVE_TRY_EACH:
                        self._try_each(section, argument, index)
                    elif code == _C.DIRECTIVE_RUN_SEQUENCE:
                        self._run_sequence(section, argument, index)
                    elif code == _C.DIRECTIVE_OVERRIDE_MULTIPLE:
                        self._override_multiple(argument)
                    else:
                        self._copy_params(argument, index)
                else:
                    self._simple(code, argument, index, where)
            except _ConditionFailure as failure:
                if self.failure_at is None:
                    self.failure_at = where
                if self.trace is not None:
                    self.trace(TraceEvent(self.depth, where, False, failure.error.message))
                raise
            except SuitError as error:
                if self.failure_at is None:
                    self.failure_at = where
                if self.trace is not None:
                    self.trace(TraceEvent(self.depth, where, False, error.message))
                if code in CONDITIONS and isinstance(error, (ConditionFailedError, UnsupportedConditionError)):
                    self._record(where, argument, success=False)
                    raise _ConditionFailure(error, self.soft_failure) from None
                self._record(where, policy, success=False)
                raise
            else:
                self.failure_at = None
                if self.trace is not None:
                    self.trace(TraceEvent(self.depth, where, True, ""))
                if policy & _ON_SUCCESS:
                    self._record(where, policy, success=True)

    # --- flow control ------------------------------------------------------------------------
    def _set_component_index(self, argument: Any) -> None:
        count = len(self.components)
        if argument is True:
            self.index = True
            return
        if isinstance(argument, bool) or argument is None:
            raise ValidationError("set-component-index argument must be an index, true or a list", reason=6)
        if isinstance(argument, int):
            indices: tuple[int, ...] = (argument,)
        elif isinstance(argument, (tuple, list)) and argument:
            indices = tuple(argument)
        else:
            raise ValidationError("set-component-index argument must be an index, true or a list", reason=6)
        for i in indices:
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < count:
                raise ValidationError(f"component index {i!r} out of range (0..{count - 1})", reason=6)
        self.index = indices[0] if isinstance(argument, int) else indices

    def _plain_map(self, argument: Any) -> tuple[dict[Any, Any], dict[Any, Any], bool, bool]:
        """A parameter map split once per map object of the program: (all parameters,
        per-component parameters, whether it sets soft-failure, whether it sets strict-order)."""
        cached = self._maps.get(id(argument))
        if cached is None or cached[0] is not argument:
            if type(argument) is not Parameters and not isinstance(argument, Mapping):
                raise ValidationError("parameters argument must be a map", reason=8)
            items = {key: argument[key] for key in argument}
            sets_soft, sets_strict = _P.SOFT_FAILURE in items, _P.STRICT_ORDER in items
            per_component = (
                {k: v for k, v in items.items() if k not in GLOBAL_PARAMS} if sets_soft or sets_strict else items
            )
            cached = (argument, items, per_component, sets_soft, sets_strict)
            self._maps[id(argument)] = cached
        return cached[1], cached[2], cached[3], cached[4]

    def _set_parameters(self, argument: Any, *, override: bool) -> None:
        argument, per_component, sets_soft, sets_strict = self._plain_map(argument)
        if sets_soft:
            if self.depth == 0:
                raise ManifestAbortError("soft-failure set outside try-each / run-sequence (§8.4.8.15)")
            value = argument[_P.SOFT_FAILURE]
            if not isinstance(value, bool):
                raise ValidationError("soft-failure must be a bool", reason=8)
            self.soft_failure = value
        if sets_strict:
            if not isinstance(argument[_P.STRICT_ORDER], bool):
                raise ValidationError("strict-order must be a bool", reason=8)
            self.strict_order = argument[_P.STRICT_ORDER]
        if not per_component:
            return
        selection = self.index
        for index in (selection,) if type(selection) is int else self._selected():
            params = self.params[index]
            if override:
                params.update(per_component)
            else:
                for key, value in per_component.items():
                    params.setdefault(key, value)

    def _override_multiple(self, argument: Any) -> None:
        """suit-directive-override-multiple (update-management): per-index parameter maps."""
        if not isinstance(argument, Mapping):
            raise ValidationError("override-multiple argument must be a map", reason=8)
        for index, params in argument.items():
            if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self.components):
                raise ValidationError(f"override-multiple: component index {index!r} out of range", reason=6)
            if not isinstance(params, Mapping) or any(k in GLOBAL_PARAMS for k in params):
                raise ValidationError("override-multiple: bad parameter map", reason=8)
            self.params[index].update(params)

    def _copy_params(self, argument: Any, index: int) -> None:
        """suit-directive-copy-params (update-management): copy keys from other components."""
        if not isinstance(argument, Mapping):
            raise ValidationError("copy-params argument must be a map", reason=8)
        for source, keys in argument.items():
            if isinstance(source, bool) or not isinstance(source, int) or not 0 <= source < len(self.components):
                raise ValidationError(f"copy-params: component index {source!r} out of range", reason=6)
            if not isinstance(keys, (list, tuple)):
                raise ValidationError("copy-params: keys must be a list", reason=8)
            for key in keys:
                if key in self.params[source]:
                    self.params[index][key] = self.params[source][key]

    def _try_each(self, section: int, argument: Any, index: int) -> None:
        """§8.4.10.2: the first alternative that completes wins."""
        if isinstance(argument, TryEach):
            alternatives: tuple[CommandSequence | None, ...] = argument.sequences + (
                (None,) if argument.empty_allowed else ()
            )
        elif isinstance(argument, (tuple, list)) and argument:
            alternatives = tuple(argument)
        else:
            raise ValidationError("try-each needs a list of sequences", reason=8)
        last_error: SuitError | None = None
        for alternative in alternatives:
            if alternative is None:
                return
            if not isinstance(alternative, CommandSequence):
                raise ValidationError("try-each alternative is not a command sequence", reason=8)
            snapshot = [dict(p) for p in self.params]
            try:
                self._nested(section, alternative, index, soft=True)
                return
            except _ConditionFailure as failure:
                if not failure.soft:
                    raise
                self.params = snapshot
                self.failure_at = None  # absorbed: the next alternative runs
                last_error = failure.error
        raise _ConditionFailure(
            ConditionNotMetError(
                "no try-each alternative succeeded" + (f" (last: {last_error.message})" if last_error else ""),
                cause=last_error.to_dict() if last_error else None,
            ),
            self.soft_failure,
        )

    def _run_sequence(self, section: int, argument: Any, index: int) -> None:
        """§8.4.10.8: run a nested sequence; a soft condition failure just ends it."""
        if not isinstance(argument, CommandSequence):
            raise ValidationError("run-sequence argument is not a command sequence", reason=8)
        try:
            self._nested(section, argument, index, soft=False)
        except _ConditionFailure as failure:
            if not failure.soft:
                raise
            self.failure_at = None  # absorbed: processing continues after the run-sequence

    # --- conditions and directives -----------------------------------------------------------
    def _param(self, index: int, key: int) -> Any:
        return self.params[index].get(key)

    def _require(self, index: int, key: int, what: str, *, condition: bool) -> Any:
        value = self.params[index].get(key)
        if value is None:
            message = f"{what} needs parameter {Param(key).name.lower().replace('_', '-')}, which is not set"
            if condition:
                raise ConditionNotMetError(message, parameter=int(key))
            raise MissingParameterError(message, parameter=int(key))
        return value

    def _simple(self, code: int, argument: Any, index: int, where: Where) -> None:
        """One condition or plain directive on one component (§8.4.9, §8.4.10)."""
        if code in CONSUMES:
            where.consumed(self.params[index])
        handler = self._handlers.get(code)
        if handler is not None:
            handler(self, index)
        elif code in CONDITIONS:
            raise UnsupportedConditionError(f"condition {code} ({Cmd(code).name.lower()}) is not implemented", command=code)
        else:
            name = Cmd(code).name.lower() if code in Cmd._value2member_map_ else "unknown"
            raise UnsupportedCommandError(f"command {code} ({name}) is not supported", command=code)

    def _vendor(self, index: int) -> None:
        """§8.4.9.1 suit-condition-vendor-identifier."""
        self._identity(index, _P.VENDOR_IDENTIFIER, self.platform.vendor_ids(self.components[index]), "vendor")

    def _class(self, index: int) -> None:
        """§8.4.9.1 suit-condition-class-identifier."""
        self._identity(index, _P.CLASS_IDENTIFIER, self.platform.class_ids(self.components[index]), "class")

    def _device(self, index: int) -> None:
        """§8.4.9.1 suit-condition-device-identifier."""
        self._identity(index, _P.DEVICE_IDENTIFIER, self.platform.device_ids(self.components[index]), "device")

    def _match(self, index: int) -> None:
        """§8.4.9.2 suit-condition-image-match."""
        self._image_match(index, expect_match=True)

    def _not_match(self, index: int) -> None:
        """update-management suit-condition-image-not-match."""
        self._image_match(index, expect_match=False)

    def _slot(self, index: int) -> None:
        """§8.4.9.4 suit-condition-component-slot."""
        wanted = self._require(index, _P.COMPONENT_SLOT, "component-slot", condition=True)
        actual = self.platform.slot(self.components[index])
        if actual is None or actual != wanted:
            raise ConditionNotMetError(f"component is in slot {actual}, not {wanted}", expected=wanted, actual=actual)

    def _abort(self, index: int) -> None:
        """§8.4.9.5 suit-condition-abort."""
        raise ConditionNotMetError("suit-condition-abort")

    def _use_before(self, index: int) -> None:
        """update-management suit-condition-use-before (RFC 9124 REQ.SEC.EXP)."""
        deadline = self._require(index, _P.USE_BEFORE, "use-before", condition=True)
        now = self.platform.now()
        if now is None:
            raise ConditionNotMetError("use-before: the device has no trusted time")
        if not isinstance(deadline, int) or now >= deadline:
            raise ConditionNotMetError(f"manifest expired (use-before {deadline}, now {now})", expected=deadline, actual=now)

    def _battery(self, index: int) -> None:
        """update-management suit-condition-minimum-battery."""
        minimum = self._require(index, _P.MINIMUM_BATTERY, "minimum-battery", condition=True)
        level = self.platform.battery_level()
        if level is None or not isinstance(minimum, int) or level < minimum:
            raise ConditionNotMetError(f"battery {level} below {minimum}", expected=minimum, actual=level)

    def _write(self, index: int) -> None:
        """§8.4.10.6 suit-directive-write: store suit-parameter-content."""
        self._refuse_transforms(index, "write")
        content = self._require(index, _P.CONTENT, "write", condition=False)
        if not isinstance(content, bytes):
            raise ValidationError("content must be a byte string", reason=8)
        writer = self.platform.open_writer(self.components[index], size_hint=len(content))
        try:
            writer.write(content)
            writer.close()
        except Exception:  # not BaseException: after a power loss nothing runs any more
            writer.abort()
            raise
        self.tainted.discard(index)  # the manifest itself is authenticated
        self.verified.pop(index, None)
        self.measured.pop(index, None)

    def _copy(self, index: int) -> None:
        """§8.4.10.5 suit-directive-copy."""
        self._copy_or_swap(index, swap=False)

    def _swap(self, index: int) -> None:
        """§8.4.10.9 suit-directive-swap."""
        self._copy_or_swap(index, swap=True)

    def _identity(self, index: int, key: int, device_values: Any, what: str) -> None:
        wanted = self._require(index, key, f"{what}-identifier", condition=True)
        if not any(_same_identifier(v, wanted) for v in device_values):
            shown = wanted.hex() if isinstance(wanted, bytes) else repr(wanted)
            raise ConditionNotMetError(f"{what} identifier {shown} does not match this device", expected=wanted)

    def _digest_of(self, index: int, alg: int, size: int | None) -> tuple[bytes, int]:
        """Hash the component as the platform holds it; returns (digest, generation seen)."""
        component = self.components[index]
        factory = self.hashes.get(alg)
        if factory is None:
            raise UnsupportedParameterError(f"digest algorithm {alg} is not supported", reason=3)
        before = self.platform.generation(component)
        held = self.platform.size(component)
        if held is None:
            raise ImageMismatchError("component is empty", component_index=index)
        if size is not None and held != size:
            # the digest must cover the whole image and nothing may follow it (RFC 9124
            # REQ.SEC.IMG.COMPLETE_DIGEST, THREAT.IMG.EXTRA)
            raise ImageMismatchError(f"component holds {held} bytes, image-size is {size}", component_index=index)
        length = held
        if length > self.limits.max_fetch_size:
            raise LimitExceededError(f"image of {length} bytes exceeds the limit", reason=11)
        hasher = factory()
        offset = 0
        while offset < length:
            chunk = self.platform.read(component, offset, min(READ_CHUNK, length - offset))
            if not chunk:
                raise ImageMismatchError("component shorter than expected while reading", component_index=index)
            hasher.update(chunk)
            offset += len(chunk)
        after = self.platform.generation(component)
        if after != before:
            raise ImageMismatchError("component changed while it was being verified", component_index=index)
        return hasher.digest(), after

    def _image_match(self, index: int, *, expect_match: bool) -> None:
        digest = self._require(index, _P.IMAGE_DIGEST, "image-match", condition=True)
        if not isinstance(digest, Digest):
            raise ValidationError("image-digest is not a SUIT_Digest", reason=8)
        size = self.params[index].get(_P.IMAGE_SIZE)
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise ValidationError("image-size must be an unsigned integer", reason=8)
        component = self.components[index]
        cached = self.measured.get(index)
        if (
            cached is not None
            and cached[0] == self.platform.generation(component)
            and cached[1:3] == (digest.algorithm, size)
        ):
            # unchanged since it was read back and hashed in this procedure: no second pass
            generation, actual = cached[0], cached[3]
        else:
            try:
                actual, generation = self._digest_of(index, digest.algorithm, size)
            except ImageMismatchError:
                if expect_match:
                    raise
                return
            self.measured[index] = (generation, digest.algorithm, size, actual)
        matches = _compare(digest.value, actual)
        if expect_match:
            if not matches:
                raise ImageMismatchError(
                    "image digest mismatch", expected=digest.value, actual=actual, component_index=index
                )
            self.verified[index] = generation
            self.tainted.discard(index)
        elif matches:
            raise ConditionNotMetError("image-not-match: the component already holds this image")

    def _check_content(self, index: int) -> None:
        content = self._require(index, _P.CONTENT, "check-content", condition=True)
        if not isinstance(content, bytes):
            raise ValidationError("content must be a byte string", reason=8)
        component = self.components[index]
        held = self.platform.size(component) or 0
        data = self.platform.read(component, 0, len(content)) if held >= len(content) else b""
        # constant time over the expected length; a length difference is not secret
        if not (held == len(content) and _compare(content, data.ljust(len(content), b"\0"))):
            raise ConditionNotMetError("component content differs from suit-parameter-content")

    def _handled(self) -> frozenset[int]:
        """Transforming parameters some configured transformer implements."""
        handled: set[int] = set()
        for transformer in self.transformers:
            handled.update(getattr(transformer, "handled_parameters", ()))
        return frozenset(handled)

    def _transforming(self, index: int) -> list[int]:
        return [key for key in TRANSFORMING_PARAMS if key in self.params[index]]

    def _refuse_transforms(self, index: int, what: str, *, allow_handled: bool = False) -> None:
        handled = self._handled() if allow_handled else frozenset()
        for key in self._transforming(index):
            if key not in handled:
                raise UnsupportedParameterError(
                    f"{what} with {Param(key).name.lower().replace('_', '-')} is not supported",
                    parameter=int(key),
                )

    def _stream_into(self, index: int, what: str, produce: Callable[[ChunkSink], None]) -> None:
        """Run ``produce`` (which pushes the transfer into a sink and closes it) into component
        ``index``: transfer bound → transformers → image-size bound → (lazily opened) writer.

        The writer is opened at the first byte that reaches it, so a transformer that refuses
        the transfer up front (e.g. a wrong decryption key) leaves the component untouched.
        """
        params = self.params[index]
        size = params.get(_P.IMAGE_SIZE)
        if not isinstance(size, int) or isinstance(size, bool):
            size = None
        component = self.components[index]
        writer = _LazyWriter(self.platform, component, size)
        self.verified.pop(index, None)
        self.measured.pop(index, None)
        self.tainted.add(index)
        try:
            # what reaches the component is bounded by image-size (THREAT.IMG.EXTRA) and what is
            # transferred by the fetch limit; transformers (a delta applier, a decryptor) sit
            # between the two and turn the transferred bytes into the image
            image_bound = size is not None and size < self.limits.max_fetch_size
            output: ChunkSink = _BoundedSink(writer, size, "image-size") if image_bound and size is not None else writer
            sink = output
            for transformer in self.transformers:
                front = transformer(params, component, sink, self.platform)
                if front is not None:
                    sink = front
            pending = [k for k in self._transforming(index)]
            if pending and sink is output:
                raise UnsupportedParameterError(
                    f"{what}: no transformer took {Param(pending[0]).name.lower().replace('_', '-')}",
                    parameter=int(pending[0]),
                )
            if sink is output:  # no transformation: the transferred bytes are the image, one bound
                bounded = _BoundedSink(writer, size if image_bound and size is not None else self.limits.max_fetch_size,
                                       "image-size" if image_bound else "the fetch limit")
            else:
                bounded = _BoundedSink(sink, self.limits.max_fetch_size, "the fetch limit")
            produce(bounded)
            if not bounded.closed:
                raise TransportError(f"the {what} ended without completing", reason=11)
        except SuitError:
            writer.abort()
            raise
        except Exception as exc:  # a pluggable fetcher or transformer that misbehaves
            writer.abort()
            raise TransportError(f"{what} failed: {type(exc).__name__}: {exc}", reason=11) from None

    def _fetch(self, index: int) -> None:
        """§8.4.10.4: stream the URI into the component, bounded, through any transformer."""
        self._refuse_transforms(index, "fetch", allow_handled=True)
        params = self.params[index]
        uri = self._require(index, _P.URI, "fetch", condition=False)
        if not isinstance(uri, str):
            raise ValidationError("uri must be a text string", reason=8)
        arguments = params.get(_P.FETCH_ARGUMENTS)

        def produce(sink: ChunkSink) -> None:
            if uri in self.program.integrated_payloads:
                data = self.program.integrated_payloads[uri]
                with memoryview(data) as view:
                    for start in range(0, len(view), READ_CHUNK):
                        sink.write(view[start : start + READ_CHUNK])
                sink.close()
            elif uri.startswith("#"):
                raise TransportError(f"integrated payload {uri} is not in the envelope", uri=uri, reason=11)
            else:
                self.platform.fetcher().fetch(uri, sink, fetch_arguments=arguments)

        self._stream_into(index, f"fetch of {uri}", produce)

    def _source(self, index: int, what: str) -> int:
        source = self._require(index, _P.SOURCE_COMPONENT, what, condition=False)
        if isinstance(source, bool) or not isinstance(source, int) or not 0 <= source < len(self.components):
            raise ValidationError(f"{what}: source-component {source!r} out of range", reason=6)
        if source == index:
            raise ValidationError(f"{what}: source and destination are the same component", reason=6)
        return source

    def _copy_or_swap(self, index: int, *, swap: bool) -> None:
        what = "swap" if swap else "copy"
        self._refuse_transforms(index, what, allow_handled=not swap)
        source = self._source(index, what)
        destination_id, source_id = self.components[index], self.components[source]
        held = self.platform.size(source_id)
        if held is None:
            raise FlashError(f"{what}: source component is empty", reason=11)
        if swap:
            self.platform.swap(destination_id, source_id)
            src_t, dst_t = source in self.tainted, index in self.tainted
            self.tainted.discard(source)
            self.tainted.discard(index)
            if src_t:
                self.tainted.add(index)
            if dst_t:
                self.tainted.add(source)
            for i in (index, source):
                self.verified.pop(i, None)
                self.measured.pop(i, None)
        elif self._transforming(index):
            # copy with a transformation (e.g. decrypt a fetched ciphertext): stream the source
            # through the transformers; the result is unverified until an image-match
            def produce(sink: ChunkSink) -> None:
                offset = 0
                while offset < held:
                    chunk = self.platform.read(source_id, offset, min(READ_CHUNK, held - offset))
                    if not chunk:
                        raise FlashError("copy source shorter than its size", reason=11)
                    sink.write(chunk)
                    offset += len(chunk)
                sink.close()

            self._stream_into(index, "copy", produce)
        else:
            self.platform.copy(destination_id, source_id)
            if source in self.tainted:
                self.tainted.add(index)
            else:
                self.tainted.discard(index)
            self.verified.pop(index, None)
            self.measured.pop(index, None)

    def _invoke(self, index: int) -> None:
        component = self.components[index]
        if index in self.tainted:
            raise UnverifiedPayloadError("invoke of a fetched payload that no image-match verified")
        if self.require_verified_invoke:
            seen = self.verified.get(index)
            if seen is None:
                raise UnverifiedPayloadError(
                    "invoke of a component that no image-match verified in this procedure",
                    hint="add suit-condition-image-match to suit-validate (or relax require_verified_invoke)",
                )
            if self.platform.generation(component) != seen:
                raise UnverifiedPayloadError("component changed between image-match and invoke")
        arguments = self.params[index].get(_P.INVOKE_ARGS)
        self.platform.invoke(component, arguments if isinstance(arguments, bytes) else None)

    # --- reporting ---------------------------------------------------------------------------
    def _record(self, where: Where, policy: Any, *, success: bool) -> None:
        if type(policy) is not int and (not isinstance(policy, int) or isinstance(policy, bool)):
            return  # bool and non-int arguments carry no reporting policy
        record_bit, sysinfo_bit = _SUCCESS_BITS if success else _FAILURE_BITS
        if policy & record_bit:
            self.records.append(
                Record(where.section, where.offset, where.component_index, where.properties, where.code, success)
            )
        if policy & sysinfo_bit:
            self.records.append(self._sysinfo(where, success))

    def _sysinfo(self, where: Where, success: bool) -> SystemInfo:
        """What the device asserts for the command's component (the value the command checked)."""
        component = self.components[where.component_index]
        code = where.code
        props: dict[int, Any] = {}
        claim = _SYSINFO_CLAIMS.get(code)
        if claim is not None:
            key, query, first = claim
            try:
                value = query(self.platform, component)
            except SuitError:
                value = None
            if first and value is not None:
                value = next(iter(value), None)
            if value is not None:
                props[key] = value
        return SystemInfo(component, props, code, success)


_SYSINFO_CLAIMS: dict[int, tuple[int, Callable[[Platform, ComponentId], Any], bool]] = {
    _C.CONDITION_VENDOR_IDENTIFIER: (_P.VENDOR_IDENTIFIER, lambda p, c: p.vendor_ids(c), True),
    _C.CONDITION_CLASS_IDENTIFIER: (_P.CLASS_IDENTIFIER, lambda p, c: p.class_ids(c), True),
    _C.CONDITION_DEVICE_IDENTIFIER: (_P.DEVICE_IDENTIFIER, lambda p, c: p.device_ids(c), True),
    _C.CONDITION_COMPONENT_SLOT: (_P.COMPONENT_SLOT, lambda p, c: p.slot(c), False),
    _C.CONDITION_IMAGE_MATCH: (_P.IMAGE_SIZE, lambda p, c: p.size(c), False),
    _C.CONDITION_IMAGE_NOT_MATCH: (_P.IMAGE_SIZE, lambda p, c: p.size(c), False),
}
"""Per condition: the system property a sysinfo record claims, how to ask the platform for it,
and whether the platform answers with a collection (the first entry is claimed)."""


Interpreter._handlers = {
    _C.CONDITION_VENDOR_IDENTIFIER: Interpreter._vendor,
    _C.CONDITION_CLASS_IDENTIFIER: Interpreter._class,
    _C.CONDITION_DEVICE_IDENTIFIER: Interpreter._device,
    _C.CONDITION_IMAGE_MATCH: Interpreter._match,
    _C.CONDITION_IMAGE_NOT_MATCH: Interpreter._not_match,
    _C.CONDITION_COMPONENT_SLOT: Interpreter._slot,
    _C.CONDITION_CHECK_CONTENT: Interpreter._check_content,
    _C.CONDITION_ABORT: Interpreter._abort,
    _C.CONDITION_USE_BEFORE: Interpreter._use_before,
    _C.CONDITION_MINIMUM_BATTERY: Interpreter._battery,
    _C.DIRECTIVE_FETCH: Interpreter._fetch,
    _C.DIRECTIVE_WRITE: Interpreter._write,
    _C.DIRECTIVE_COPY: Interpreter._copy,
    _C.DIRECTIVE_SWAP: Interpreter._swap,
    _C.DIRECTIVE_INVOKE: Interpreter._invoke,
}
"""Conditions and plain directives by code (flow control is handled in ``_execute``)."""


FLOW_CONTROL = (
    _C.DIRECTIVE_SET_COMPONENT_INDEX, _C.DIRECTIVE_TRY_EACH, _C.DIRECTIVE_RUN_SEQUENCE,
    _C.DIRECTIVE_OVERRIDE_PARAMETERS, _C.DIRECTIVE_SET_PARAMETERS, _C.DIRECTIVE_OVERRIDE_MULTIPLE,
    _C.DIRECTIVE_COPY_PARAMS,
)
SUPPORTED_PARAMETERS = (
    _P.VENDOR_IDENTIFIER, _P.CLASS_IDENTIFIER, _P.IMAGE_DIGEST, _P.USE_BEFORE, _P.COMPONENT_SLOT,
    _P.STRICT_ORDER, _P.SOFT_FAILURE, _P.IMAGE_SIZE, _P.CONTENT, _P.URI, _P.SOURCE_COMPONENT,
    _P.INVOKE_ARGS, _P.DEVICE_IDENTIFIER, _P.FETCH_ARGUMENTS, _P.MINIMUM_BATTERY,
)


def capability_report(
    components: Collection[ComponentId], *, transformers: tuple[Transformer, ...] = ()
) -> dict[int, Any]:
    """SUIT_Capability_Report (draft-ietf-suit-report-18): what this processor and device accept.

    Commands are exactly those with a handler or flow-control support; parameters add those a
    configured transformer declares in ``handled_parameters``.
    """
    from suitlib.cose import Algorithm

    parameters = set(SUPPORTED_PARAMETERS)
    for transformer in transformers:
        parameters.update(getattr(transformer, "handled_parameters", ()))
    return {
        1: [list(component) for component in sorted(components)],
        2: sorted(set(Interpreter._handlers) | set(FLOW_CONTROL)),
        3: sorted(parameters),
        4: sorted({int(a) for a in Algorithm} | set(HASHES)),
        5: [2, 3, 15, 16, 18, 20, 23],
        6: [1, 2, 3, 4, 7, 8, 9, 15, 16, 18, 20, 23],
        7: [2, 4],
    }
