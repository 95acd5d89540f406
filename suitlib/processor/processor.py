"""The manifest processor: authenticate, check, run a procedure, report (draft-ietf-suit-manifest-34 §6).

Order of work for one envelope:

1. Authenticate (§6.2 "Required Checks"): nothing in the manifest is looked at before the
   authentication wrapper verifies against the device's trust anchors; unsigned envelopes are
   refused unless ``allow_unsigned``. Severed members and integrated payloads are checked
   against their digests (by the codec) before any command runs.
2. Setup (§6.1): the component list must fit the device and the limits; the shared sequence
   must check vendor and class (our policy, §6.2 SHOULD); anti-rollback: an update needs a
   sequence number above the stored one, an invocation one not below it.
3. Run the procedure's sequences in the order of §8.4.6 (plus the trust-domains ones when
   present), each preceded by the shared sequence:
   update = dependency-resolution, payload-fetch, candidate-verification, install, validate;
   invocation = validate, load, invoke.
4. An update that completes stores its sequence number (only then) through the platform.

The result always carries a SUIT_Report, whether processing succeeded or not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from suitlib.errors import (
    InputError,
    LimitExceededError,
    PolicyError,
    RollbackError,
    SignatureError,
    SuitError,
)
from suitlib.limits import DEFAULT_LIMITS, Limits
from suitlib.processor.errors import (
    ManifestAbortError,
    SeveredMemberMissingError,
    UnsupportedComponentError,
    UnverifiedPayloadError,
)
from suitlib.processor.interpreter import Interpreter, TraceEvent, Transformer, capability_report
from suitlib.processor.platform import Platform
from suitlib.processor.program import Cmd, CommandSequence, Program, Section, TryEach
from suitlib.processor.report import Failure, Record, Report, reason_for

UPDATE_SECTIONS: tuple[int, ...] = (
    Section.DEPENDENCY_RESOLUTION,
    Section.PAYLOAD_FETCH,
    Section.CANDIDATE_VERIFICATION,
    Section.INSTALL,
    Section.VALIDATE,
)
INVOCATION_SECTIONS: tuple[int, ...] = (Section.VALIDATE, Section.LOAD, Section.INVOKE)

SIDE_EFFECTS = frozenset({
    Cmd.DIRECTIVE_FETCH, Cmd.DIRECTIVE_WRITE, Cmd.DIRECTIVE_COPY, Cmd.DIRECTIVE_SWAP, Cmd.DIRECTIVE_INVOKE,
    Cmd.DIRECTIVE_PROCESS_DEPENDENCY, Cmd.DIRECTIVE_UNLINK, Cmd.DIRECTIVE_WAIT,
})
"""Directives that change the device: not allowed in the shared sequence."""

UPDATE = "update"
INVOCATION = "invocation"


@dataclass(frozen=True)
class ProcessResult:
    """What happened: the report (always), the error (None on success) and some counters."""

    procedure: str
    report: Report
    error: SuitError | None
    sequence_number: int | None = None
    commands_executed: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    def raise_for_error(self) -> None:
        """Raise the error that stopped processing, if any."""
        if self.error is not None:
            raise self.error


@dataclass(frozen=True)
class ProcessorPolicy:
    """Device policy knobs; the defaults are the secure ones."""

    allow_unsigned: bool = False
    """Accept an envelope whose authentication wrapper holds no signature or MAC."""
    require_identity_checks: bool = True
    """The shared sequence must check vendor and class identifiers (§6.2, RFC 9124 REQ.SEC.COMPATIBLE)."""
    require_verified_invoke: bool = True
    """invoke only a component that an image-match verified in the same procedure, unchanged since."""


def _walk(sequence: CommandSequence | None) -> Any:
    if sequence is None:
        return
    for command in sequence.commands:
        yield command
        if command.code == Cmd.DIRECTIVE_TRY_EACH:
            argument = command.argument
            alternatives = argument.sequences if isinstance(argument, TryEach) else argument
            for alternative in alternatives if isinstance(alternatives, (tuple, list)) else ():
                if isinstance(alternative, CommandSequence):
                    yield from _walk(alternative)
        elif command.code == Cmd.DIRECTIVE_RUN_SEQUENCE and isinstance(command.argument, CommandSequence):
            yield from _walk(command.argument)


Authenticator = Callable[..., Program]
"""Decodes and authenticates envelope bytes into a :class:`Program` (see :mod:`.adapter`)."""


@dataclass
class Processor:
    """Runs envelopes against one device.

    ``trust_anchors`` are whatever the COSE layer accepts as verification keys (public keys for
    COSE_Sign1, shared secrets for COSE_Mac0); one or several.
    """

    platform: Platform
    trust_anchors: Sequence[Any] = ()
    limits: Limits = DEFAULT_LIMITS
    policy: ProcessorPolicy = field(default_factory=ProcessorPolicy)
    transformers: tuple[Transformer, ...] = ()
    signature_policy: Any = None
    """A COSE :class:`~suitlib.cose.Policy` (e.g. ``Threshold(2)``); None = any one anchor."""
    authenticator: Authenticator | None = None
    hashes: Mapping[int, Callable[[], Any]] | None = None
    trace: Callable[[TraceEvent], None] | None = None
    """Called after every command executed on a component (success or failure)."""
    report_capabilities: bool = False
    """Attach a SUIT_Capability_Report (draft-ietf-suit-report-18) to every report."""
    """Digest engines by COSE algorithm id (default: hashlib SHA-256/384/512); a platform
    with a hardware hash engine passes its own."""

    # --- envelopes ---------------------------------------------------------------------------
    def update(self, envelope: bytes, *, nonce: bytes | None = None) -> ProcessResult:
        """The update procedure (§8.4.6 goals 1–3) on an encoded envelope.

        ``nonce`` (e.g. from the update server) is echoed in the report's suit-report-nonce.
        """
        return self._from_envelope(envelope, UPDATE, nonce)

    def invoke(self, envelope: bytes, *, nonce: bytes | None = None) -> ProcessResult:
        """The invocation procedure (§8.4.6 goals 3–5) on an encoded envelope."""
        return self._from_envelope(envelope, INVOCATION, nonce)

    def _from_envelope(self, envelope: bytes, procedure: str, nonce: bytes | None) -> ProcessResult:
        authenticate = self.authenticator
        if authenticate is None:
            from suitlib.processor.adapter import authenticate_envelope

            authenticate = authenticate_envelope
        try:
            program = authenticate(
                envelope,
                self.trust_anchors,
                allow_unsigned=self.policy.allow_unsigned,
                limits=self.limits,
                signature_policy=self.signature_policy,
            )
        except SuitError as error:
            return self._failed(procedure, None, error, None, 0, [], nonce)
        return self.run(program, procedure, nonce=nonce)

    # --- programs ----------------------------------------------------------------------------
    def run(self, program: Program, procedure: str, *, nonce: bytes | None = None) -> ProcessResult:
        """Run an already authenticated :class:`Program` (the codec adapter builds these)."""
        if procedure not in (UPDATE, INVOCATION):
            raise InputError(f"unknown procedure {procedure!r}", hint="use 'update' or 'invocation'")
        interpreter: Interpreter | None = None
        try:
            if not program.authenticated and not self.policy.allow_unsigned:
                raise SignatureError("the envelope carries no signature or MAC", reason=4)
            self._setup(program, procedure)
            interpreter = Interpreter(
                program,
                self.platform,
                self.limits,
                transformers=self.transformers,
                require_verified_invoke=self.policy.require_verified_invoke,
                hashes=self.hashes,
                trace=self.trace,
            )
            order = UPDATE_SECTIONS if procedure == UPDATE else INVOCATION_SECTIONS
            absent = [key for key in order if key in program.severed]
            if absent:
                raise SeveredMemberMissingError(
                    f"severed sequence(s) {absent} are needed by the {procedure} procedure but absent",
                    sections=absent,
                )
            interpreter.run_procedure([(key, program.sections[key]) for key in order if key in program.sections])
            if procedure == UPDATE:
                if interpreter.tainted:
                    names = sorted(interpreter.tainted)
                    interpreter.failure_at = None
                    raise UnverifiedPayloadError(
                        f"fetched payload(s) in component(s) {names} were never verified by image-match",
                        components=names,
                    )
                self.platform.store_sequence_number(program.sequence_number)
        except SuitError as error:
            return self._failed(
                procedure,
                program,
                error,
                interpreter.failure_at if interpreter else None,
                interpreter.commands_executed if interpreter else 0,
                interpreter.records if interpreter else [],
                nonce,
            )
        return ProcessResult(
            procedure=procedure,
            report=Report(
                manifest_digest=_digest_tuple(program),
                records=tuple(interpreter.records),
                result=True,
                reference_uri=program.reference_uri,
                nonce=nonce,
                capabilities=self._capabilities(),
            ),
            error=None,
            sequence_number=program.sequence_number,
            commands_executed=interpreter.commands_executed,
        )

    def _setup(self, program: Program, procedure: str) -> None:
        """§6.1–§6.2 checks before any command runs."""
        count = len(program.components)
        if count == 0:
            raise UnsupportedComponentError("the manifest lists no component")
        if count > self.limits.max_components:
            raise LimitExceededError(
                f"manifest lists {count} components, the limit is {self.limits.max_components}", reason=6
            )
        known = set(self.platform.components())
        for index, component in enumerate(program.components):
            if component not in known:
                raise UnsupportedComponentError(
                    f"component {index} {[c.hex() for c in component]} is not on this device", component_index=index
                )
        # one pass over the shared sequence (and the sequences nested in it)
        codes: set[int] = set()
        custom_parameters = False
        for command in _walk(program.shared):
            code = command.code
            codes.add(code)
            if code in (Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, Cmd.DIRECTIVE_SET_PARAMETERS) and not custom_parameters:
                keys = command.argument.keys() if hasattr(command.argument, "keys") else ()
                custom_parameters = any(isinstance(key, int) and key < 0 for key in keys)
        if self.policy.require_identity_checks:
            missing = [
                name
                for code, name in (
                    (Cmd.CONDITION_VENDOR_IDENTIFIER, "vendor"),
                    (Cmd.CONDITION_CLASS_IDENTIFIER, "class"),
                )
                if code not in codes
            ]
            if missing:
                raise PolicyError(
                    f"the shared sequence does not check the {' and '.join(missing)} identifier",
                    hint="compatibility must be checked before anything else (RFC 9124 REQ.SEC.COMPATIBLE)",
                    reason=7,
                )
        if any(code < 0 for code in codes):
            raise PolicyError("custom commands are not permitted in the shared sequence (§6.2)", reason=5)
        if custom_parameters:
            raise PolicyError("custom parameters are not permitted in the shared sequence (§8.4.8.16)", reason=8)
        effects = sorted(codes & SIDE_EFFECTS)
        if effects:
            raise ManifestAbortError(
                f"the shared sequence may only set parameters and check conditions (§5.3.2), found {effects}",
                commands=effects,
            )
        stored = self.platform.load_sequence_number()
        if stored is not None:
            seq = program.sequence_number
            if procedure == UPDATE and seq <= stored:
                raise RollbackError(
                    f"sequence number {seq} is not above the installed {stored}", sequence_number=seq, stored=stored
                )
            if procedure == INVOCATION and seq < stored:
                raise RollbackError(
                    f"sequence number {seq} is below the installed {stored}", sequence_number=seq, stored=stored
                )

    def _capabilities(self) -> dict[int, Any] | None:
        if not self.report_capabilities:
            return None
        return capability_report(self.platform.components(), transformers=self.transformers)

    def _failed(
        self,
        procedure: str,
        program: Program | None,
        error: SuitError,
        where: Any,
        commands: int,
        records: list[Any],
        nonce: bytes | None = None,
    ) -> ProcessResult:
        if where is not None:
            record = Record(
                section=where.section,
                offset=where.offset,
                component_index=where.component_index,
                properties=where.properties,
                command=where.code,
                success=False,
            )
            code = int(where.code)
        else:
            record = Record(section=0, offset=0, component_index=0, success=False)
            code = 0
        report = Report(
            manifest_digest=_digest_tuple(program) if program else None,
            records=tuple(records),
            result=Failure(code=code, record=record, reason=reason_for(error)),
            reference_uri=program.reference_uri if program else None,
            nonce=nonce,
            capabilities=self._capabilities(),
        )
        return ProcessResult(
            procedure=procedure,
            report=report,
            error=error,
            sequence_number=program.sequence_number if program else None,
            commands_executed=commands,
        )


def _digest_tuple(program: Program | None) -> tuple[int, bytes] | None:
    if program is None or program.manifest_digest is None:
        return None
    return (program.manifest_digest.algorithm, program.manifest_digest.value)
