"""The command language, rule by rule (draft-ietf-suit-manifest-34 §6.4–§6.6, §8.4.8–§8.4.10)."""

from __future__ import annotations

import enum

from typing import Any

import pytest

from suitlib.errors import ConditionFailedError, SuitError, UnsupportedError, ValidationError
from suitlib.manifest import CommandSequence
from suitlib.processor import InMemoryPlatform, Processor, ProcessorPolicy, ProcessResult
from suitlib.processor.errors import ManifestAbortError, MissingParameterError, UnverifiedPayloadError
from suitlib.processor.program import Cmd, Param, Program, Section
from suitlib.processor.report import Record, ReportReason, SystemInfo
from tests.processor.support import C0, C1, C2, device, payload, seq, sha256, try_each

A, B = payload(300, 1), payload(500, 2)


def run(platform: InMemoryPlatform, procedure: str = "update", shared: CommandSequence | None = None,
        components: tuple = (C0,), **sections: CommandSequence) -> ProcessResult:
    keyed = {getattr(Section, name.upper()): body for name, body in sections.items()}
    program = Program((platform.load_sequence_number() or 0) + 1, components, shared, keyed, authenticated=True)
    policy = ProcessorPolicy(require_identity_checks=False)
    return Processor(platform, (), policy=policy).run(program, procedure)


def fetch_verified(uri: str, data: bytes) -> tuple[Any, ...]:
    return (Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.URI: uri, Param.IMAGE_DIGEST: sha256(data),
                                                Param.IMAGE_SIZE: len(data)},
            Cmd.DIRECTIVE_FETCH, 0, Cmd.CONDITION_IMAGE_MATCH, 0)


# --- component index -----------------------------------------------------------------------


def test_index_true_applies_each_command_to_every_component_in_order() -> None:
    platform = device(components=(C0, C1, C2), resources={"u": A})
    install = seq(Cmd.DIRECTIVE_SET_COMPONENT_INDEX, True, *fetch_verified("u", A))
    assert run(platform, components=(C0, C1, C2), install=install).ok
    assert [w[1] for w in platform.actions("write")] == [C0, C1, C2]


def test_index_array_selects_some_components() -> None:
    platform = device(components=(C0, C1, C2), resources={"u": A})
    install = seq(Cmd.DIRECTIVE_SET_COMPONENT_INDEX, (2, 0), *fetch_verified("u", A))
    assert run(platform, components=(C0, C1, C2), install=install).ok
    assert [w[1] for w in platform.actions("write")] == [C2, C0]
    assert platform.content(C1) is None


def test_index_out_of_range_is_a_validation_error() -> None:
    result = run(device(), install=seq(Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 3))
    assert isinstance(result.error, ValidationError)


def test_parameters_are_per_component() -> None:
    platform = device(components=(C0, C1), resources={"u": A})
    install = seq(
        Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 1,
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.URI: "u"},
        Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 0,
        Cmd.DIRECTIVE_FETCH, 0,  # component 0 has no uri
    )
    result = run(platform, components=(C0, C1), install=install)
    assert isinstance(result.error, MissingParameterError)


# --- parameters ------------------------------------------------------------------------------


def test_set_parameters_does_not_overwrite_but_override_does() -> None:
    platform = device(contents={C0: A})
    validate = seq(
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.IMAGE_DIGEST: sha256(A)},
        Cmd.DIRECTIVE_SET_PARAMETERS, {Param.IMAGE_DIGEST: sha256(B)},  # ignored: already set
        Cmd.CONDITION_IMAGE_MATCH, 0,
    )
    assert run(platform, validate=validate).ok
    override = seq(
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.IMAGE_DIGEST: sha256(A)},
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.IMAGE_DIGEST: sha256(B)},
        Cmd.CONDITION_IMAGE_MATCH, 0,
    )
    assert isinstance(run(platform, validate=override).error, ConditionFailedError)


def test_parameters_do_not_leak_from_one_sequence_into_the_next() -> None:
    platform = device(contents={C0: A}, resources={"u": A})
    install = seq(*fetch_verified("u", A))
    validate = seq(Cmd.CONDITION_IMAGE_MATCH, 0)  # the digest was set in install only
    result = run(platform, install=install, validate=validate)
    assert isinstance(result.error, ConditionFailedError)
    assert result.report.result.record.section == Section.VALIDATE


def test_shared_sequence_parameters_reach_every_sequence() -> None:
    platform = device(resources={"u": A})
    shared = seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.IMAGE_DIGEST: sha256(A), Param.IMAGE_SIZE: len(A)})
    install = seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.URI: "u"}, Cmd.DIRECTIVE_FETCH, 0,
                  Cmd.CONDITION_IMAGE_MATCH, 0)
    validate = seq(Cmd.CONDITION_IMAGE_MATCH, 0)
    assert run(platform, shared=shared, install=install, validate=validate).ok


# --- soft failure, try-each, run-sequence ------------------------------------------------------


def test_try_each_takes_the_first_alternative_that_completes_and_rolls_back_the_others() -> None:
    platform = device(contents={C0: A})
    validate = seq(
        Cmd.DIRECTIVE_TRY_EACH, try_each(
            seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.IMAGE_DIGEST: sha256(B), Param.URI: "left-behind"},
                Cmd.CONDITION_IMAGE_MATCH, 0),
            seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.IMAGE_DIGEST: sha256(A)}, Cmd.CONDITION_IMAGE_MATCH, 0),
        ),
        Cmd.DIRECTIVE_FETCH, 0,  # the uri set by the failed alternative must be gone
    )
    result = run(platform, validate=validate)
    assert isinstance(result.error, MissingParameterError)
    assert result.report.result.code == Cmd.DIRECTIVE_FETCH


def test_try_each_with_soft_failure_off_aborts_on_the_first_failure() -> None:
    validate = seq(Cmd.DIRECTIVE_TRY_EACH, try_each(
        seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.SOFT_FAILURE: False}, Cmd.CONDITION_ABORT, 0),
        seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.URI: "x"}),
    ))
    result = run(device(), validate=validate)
    assert isinstance(result.error, ConditionFailedError)
    assert result.report.result.code == Cmd.CONDITION_ABORT


def test_try_each_exhausted_fails_unless_nil_ends_it() -> None:
    aborting = (seq(Cmd.CONDITION_ABORT, 0), seq(Cmd.CONDITION_ABORT, 0))
    failed = run(device(), validate=seq(Cmd.DIRECTIVE_TRY_EACH, try_each(*aborting)))
    assert isinstance(failed.error, ConditionFailedError)
    assert failed.report.result.code == Cmd.DIRECTIVE_TRY_EACH
    assert run(device(), validate=seq(Cmd.DIRECTIVE_TRY_EACH, try_each(*aborting, empty_allowed=True))).ok


def test_a_directive_failure_inside_try_each_is_not_soft() -> None:
    validate = seq(Cmd.DIRECTIVE_TRY_EACH, try_each(
        seq(Cmd.DIRECTIVE_FETCH, 0),  # no uri: a directive failure
        seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.URI: "x"}),
    ))
    assert isinstance(run(device(), validate=validate).error, MissingParameterError)


def test_run_sequence_soft_failure_halts_only_the_nested_sequence() -> None:
    platform = device(contents={C0: A})
    soft = seq(
        Cmd.DIRECTIVE_RUN_SEQUENCE, seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.SOFT_FAILURE: True},
                                        Cmd.CONDITION_ABORT, 0, Cmd.DIRECTIVE_FETCH, 0),
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.IMAGE_DIGEST: sha256(A)},
        Cmd.CONDITION_IMAGE_MATCH, 0,
    )
    assert run(platform, validate=soft).ok
    hard = seq(Cmd.DIRECTIVE_RUN_SEQUENCE, seq(Cmd.CONDITION_ABORT, 0))  # soft-failure defaults to False
    assert isinstance(run(platform, validate=hard).error, ConditionFailedError)


def test_soft_failure_does_not_leak_out_of_its_sequence() -> None:
    validate = seq(
        Cmd.DIRECTIVE_RUN_SEQUENCE, seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.SOFT_FAILURE: True}),
        Cmd.DIRECTIVE_RUN_SEQUENCE, seq(Cmd.CONDITION_ABORT, 0),  # a fresh sequence: False again
    )
    assert isinstance(run(device(), validate=validate).error, ConditionFailedError)


def test_soft_failure_outside_try_each_or_run_sequence_aborts() -> None:
    result = run(device(), validate=seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.SOFT_FAILURE: True}))
    assert isinstance(result.error, ManifestAbortError)


def test_run_sequence_runs_once_per_selected_component() -> None:
    platform = device(components=(C0, C1), resources={"u": A})
    install = seq(Cmd.DIRECTIVE_SET_COMPONENT_INDEX, True, Cmd.DIRECTIVE_RUN_SEQUENCE, seq(*fetch_verified("u", A)))
    assert run(platform, components=(C0, C1), install=install).ok
    assert [w[1] for w in platform.actions("write")] == [C0, C1]


# --- conditions -------------------------------------------------------------------------------


def test_conditions_without_their_parameter_fail() -> None:
    for code in (Cmd.CONDITION_VENDOR_IDENTIFIER, Cmd.CONDITION_CLASS_IDENTIFIER, Cmd.CONDITION_IMAGE_MATCH,
                 Cmd.CONDITION_COMPONENT_SLOT, Cmd.CONDITION_CHECK_CONTENT, Cmd.CONDITION_DEVICE_IDENTIFIER):
        assert isinstance(run(device(), validate=seq(code, 0)).error, ConditionFailedError), code


def test_check_content_compares_the_whole_component() -> None:
    platform = device(contents={C0: b"config-v2"})
    ok = seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.CONTENT: b"config-v2"}, Cmd.CONDITION_CHECK_CONTENT, 0)
    assert run(platform, validate=ok).ok
    for other in (b"config-v1", b"config-v", b"config-v22"):
        bad = seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.CONTENT: other}, Cmd.CONDITION_CHECK_CONTENT, 0)
        assert isinstance(run(platform, validate=bad).error, ConditionFailedError), other


def test_image_not_match_and_minimum_battery() -> None:
    platform = device(contents={C0: A})
    platform.battery = 40
    not_match = seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.IMAGE_DIGEST: sha256(B), Param.MINIMUM_BATTERY: 30},
                    Cmd.CONDITION_IMAGE_NOT_MATCH, 0, Cmd.CONDITION_MINIMUM_BATTERY, 0)
    assert run(platform, validate=not_match).ok
    platform.battery = 20
    assert isinstance(run(platform, validate=not_match).error, ConditionFailedError)


def test_unimplemented_conditions_fail_softly_and_unknown_directives_abort() -> None:
    soft = seq(Cmd.DIRECTIVE_TRY_EACH, try_each(seq(Cmd.CONDITION_VERSION, 0), seq(Cmd.CONDITION_ABORT, 0),
                                                empty_allowed=True))
    assert run(device(), validate=soft).ok
    for code in (Cmd.DIRECTIVE_PROCESS_DEPENDENCY, Cmd.DIRECTIVE_WAIT, -300, 99):
        result = run(device(), validate=seq(Cmd.DIRECTIVE_TRY_EACH, try_each(seq(code, 0), seq(Cmd.CONDITION_ABORT, 0),
                                                                           empty_allowed=True)))
        assert isinstance(result.error, UnsupportedError), code
        assert result.report.result.reason == ReportReason.COMMAND_UNSUPPORTED


# --- directives ---------------------------------------------------------------------------------


def test_copy_swap_and_write() -> None:
    platform = device(components=(C0, C1), contents={C1: A})
    install = seq(
        Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 0,
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.SOURCE_COMPONENT: 1, Param.CONTENT: B},
        Cmd.DIRECTIVE_COPY, 0,  # [00] := [01] = A
        Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 1,
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.CONTENT: B},
        Cmd.DIRECTIVE_WRITE, 0,  # [01] := B
        Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 0,
        Cmd.DIRECTIVE_SWAP, 0,  # [00] <-> [01]
    )
    assert run(platform, components=(C0, C1), install=install).ok
    assert platform.content(C0) == B and platform.content(C1) == A
    assert [a[0] for a in platform.log if a[0] != "store-sequence-number"] == ["copy", "write", "swap"]


def test_copy_needs_a_distinct_non_empty_source() -> None:
    platform = device(components=(C0, C1))
    same = seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.SOURCE_COMPONENT: 0}, Cmd.DIRECTIVE_COPY, 0)
    assert isinstance(run(platform, components=(C0, C1), install=same).error, ValidationError)
    empty = seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.SOURCE_COMPONENT: 1}, Cmd.DIRECTIVE_COPY, 0)
    assert isinstance(run(platform, components=(C0, C1), install=empty).error, SuitError)


def test_a_fetched_payload_copied_without_verification_fails_the_update() -> None:
    platform = device(components=(C0, C1), resources={"u": A})
    install = seq(
        Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 1,
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.URI: "u"},
        Cmd.DIRECTIVE_FETCH, 0,
        Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 0,
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.SOURCE_COMPONENT: 1},
        Cmd.DIRECTIVE_COPY, 0,
    )
    result = run(platform, components=(C0, C1), install=install)
    assert isinstance(result.error, UnverifiedPayloadError)
    assert platform.load_sequence_number() is None


def test_integrated_payload_is_fetched_from_the_envelope() -> None:
    platform = device()
    program = Program(1, (C0,), None, {Section.INSTALL: seq(*fetch_verified("#fw", A))}, integrated_payloads={"#fw": A},
                      authenticated=True)
    result = Processor(platform, (), policy=ProcessorPolicy(require_identity_checks=False)).run(program, "update")
    assert result.ok and platform.content(C0) == A and platform.fetcher_impl.requests == []
    missing = Program(2, (C0,), None, {Section.INSTALL: seq(*fetch_verified("#other", A))}, integrated_payloads={"#fw": A},
                      authenticated=True)
    assert not Processor(platform, (), policy=ProcessorPolicy(require_identity_checks=False)).run(missing, "update").ok


def test_invoke_passes_invoke_args() -> None:
    platform = device(contents={C0: A})
    validate = seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.IMAGE_DIGEST: sha256(A), Param.INVOKE_ARGS: b"console=ttyS0"},
                   Cmd.CONDITION_IMAGE_MATCH, 0)
    invoke = seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.INVOKE_ARGS: b"console=ttyS0"}, Cmd.DIRECTIVE_INVOKE, 0)
    assert run(platform, "invocation", validate=validate, invoke=invoke).ok
    assert platform.actions("invoke") == [("invoke", C0, b"console=ttyS0")]


# --- reporting policy ----------------------------------------------------------------------------


@pytest.mark.parametrize(("policy", "expected"), [
    (0, []), (1, ["Record"]), (2, []), (4, ["SystemInfo"]), (5, ["Record", "SystemInfo"]), (15, ["Record", "SystemInfo"]),
])
def test_reporting_policy_bits_on_success(policy: int, expected: list[str]) -> None:
    platform = device(slots={C0: 1})
    validate = seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.COMPONENT_SLOT: 1}, Cmd.CONDITION_COMPONENT_SLOT, policy)
    result = run(platform, validate=validate)
    assert result.ok
    assert [type(r).__name__ for r in result.report.records] == expected
    for record in result.report.records:
        if isinstance(record, Record):
            assert (record.section, record.offset, record.properties) == (Section.VALIDATE, 1, {Param.COMPONENT_SLOT: 1})
        else:
            assert isinstance(record, SystemInfo) and record.properties == {Param.COMPONENT_SLOT: 1}


class _Policy(enum.IntEnum):
    ALL = 15


@pytest.mark.parametrize(("policy", "expected"), [(_Policy.ALL, ["Record", "SystemInfo"]), (True, [])])
def test_reporting_policy_is_any_int_but_bool(policy: int, expected: list[str]) -> None:
    """An int subclass (e.g. an IntEnum built into a program) is a policy; bool is not."""
    platform = device(slots={C0: 1})
    validate = seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.COMPONENT_SLOT: 1}, Cmd.CONDITION_COMPONENT_SLOT, policy)
    result = run(platform, validate=validate)
    assert result.ok
    assert [type(r).__name__ for r in result.report.records] == expected


@pytest.mark.parametrize(("policy", "expected"), [(1, []), (2, ["Record"]), (8, ["SystemInfo"]), (10, ["Record", "SystemInfo"])])
def test_reporting_policy_bits_on_failure(policy: int, expected: list[str]) -> None:
    platform = device(slots={C0: 0})
    validate = seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.COMPONENT_SLOT: 1}, Cmd.CONDITION_COMPONENT_SLOT, policy)
    result = run(platform, validate=validate)
    assert [type(r).__name__ for r in result.report.records] == expected
    assert result.report.result.record.properties == {Param.COMPONENT_SLOT: 1}
    assert result.report.result.reason == ReportReason.CONDITION_FAILED


def test_report_cbor_matches_the_cddl_shape() -> None:
    from suitlib.processor.report import decode_report

    platform = device(slots={C0: 0})
    validate = seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.COMPONENT_SLOT: 1}, Cmd.CONDITION_COMPONENT_SLOT, 15)
    report = decode_report(run(platform, validate=validate).report.encode())
    assert set(report) == {99, 3, 4}
    record, sysinfo = report[3]
    assert list(record) == [[], Section.VALIDATE, 1, 0, {5: 1}]
    assert sysinfo == {0: [b"\x00"], 5: 0}
    assert report[4] == {5: Cmd.CONDITION_COMPONENT_SLOT, 6: [[], 7, 1, 0, {5: 1}], 7: 10}


def test_the_shared_sequence_may_not_change_the_device() -> None:
    """§5.3.2: the common sequence has no side-effects beyond setting parameters."""
    for directive in (Cmd.DIRECTIVE_FETCH, Cmd.DIRECTIVE_WRITE, Cmd.DIRECTIVE_COPY, Cmd.DIRECTIVE_INVOKE):
        shared = seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.URI: "u", Param.CONTENT: b"x"},
                     Cmd.DIRECTIVE_TRY_EACH, try_each(seq(directive, 0), seq(Cmd.CONDITION_ABORT, 0)))
        platform = device(resources={"u": A})
        result = run(platform, shared=shared, validate=seq(Cmd.CONDITION_ABORT, 0))
        assert isinstance(result.error, ManifestAbortError), directive
        assert platform.log == [] and platform.fetcher_impl.requests == []


def test_the_report_echoes_the_servers_nonce_on_success_and_failure() -> None:
    from suitlib.processor.report import decode_report
    from tests.processor.support import build, install_of, processor

    platform = device(resources={"coap://fw": A})
    ok = processor(platform).update(build(install=install_of("coap://fw", A)), nonce=b"n1")
    assert ok.ok and decode_report(ok.report.encode())[2] == b"n1"
    replay = processor(platform).update(build(install=install_of("coap://fw", A)), nonce=b"n2")
    assert not replay.ok and decode_report(replay.report.encode())[2] == b"n2"


def test_the_in_memory_device_implements_the_platform_protocol() -> None:
    from suitlib.processor import Fetcher, MemoryFetcher, Platform

    assert isinstance(device(), Platform)
    assert isinstance(MemoryFetcher({}), Fetcher)
    missing = [name for name in ("read", "open_writer", "generation", "store_sequence_number", "invoke")
               if not callable(getattr(InMemoryPlatform, name, None))]
    assert missing == []


def test_an_unauthenticated_program_is_refused_unless_unsigned_input_is_allowed() -> None:
    from suitlib.errors import SignatureError

    platform = device(contents={C0: A})
    program = Program(1, (C0,), None, {Section.VALIDATE: seq(Cmd.CONDITION_ABORT, 0)})
    assert program.authenticated is False
    refused = Processor(platform, (), policy=ProcessorPolicy(require_identity_checks=False)).run(program, "update")
    assert isinstance(refused.error, SignatureError)
    allowed = Processor(platform, (), policy=ProcessorPolicy(require_identity_checks=False, allow_unsigned=True))
    assert isinstance(allowed.run(program, "update").error, ConditionFailedError)  # it ran


def test_custom_parameters_are_refused_in_the_shared_sequence() -> None:
    from suitlib.errors import PolicyError

    shared = seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {-257: 1})
    result = run(device(), shared=shared, validate=seq(Cmd.CONDITION_ABORT, 0))
    assert isinstance(result.error, PolicyError)
    assert result.commands_executed == 0
    # in a sequence of its own a custom parameter is fine (a transformer may consume it)
    platform = device(contents={C0: A})
    ok = seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {-257: 1, Param.IMAGE_DIGEST: sha256(A)}, Cmd.CONDITION_IMAGE_MATCH, 0)
    assert run(platform, validate=ok).ok


def test_the_capability_report_lists_exactly_what_runs() -> None:
    from suitlib.processor.interpreter import capability_report
    from suitlib.processor.report import decode_report

    caps = capability_report([C0])
    listed = set(caps[2])
    for code in (Cmd.DIRECTIVE_PROCESS_DEPENDENCY, Cmd.DIRECTIVE_WAIT, Cmd.DIRECTIVE_UNLINK, Cmd.CONDITION_VERSION,
                 Cmd.CONDITION_UPDATE_AUTHORIZED, Cmd.CONDITION_DEPENDENCY_INTEGRITY, Cmd.CONDITION_IS_DEPENDENCY):
        assert code not in listed
        result = run(device(), validate=seq(code, 0))
        assert isinstance(result.error, UnsupportedError), code
    for code in listed - {Cmd.DIRECTIVE_SET_COMPONENT_INDEX, Cmd.DIRECTIVE_TRY_EACH, Cmd.DIRECTIVE_RUN_SEQUENCE,
                          Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, Cmd.DIRECTIVE_SET_PARAMETERS,
                          Cmd.DIRECTIVE_OVERRIDE_MULTIPLE, Cmd.DIRECTIVE_COPY_PARAMS}:
        result = run(device(), validate=seq(code, 0))
        assert not isinstance(result.error, UnsupportedError), code  # runs (and may fail for its own reasons)
    assert Param.ENCRYPTION_INFO not in caps[3]
    platform = device(contents={C0: A})
    proc = Processor(platform, (), policy=ProcessorPolicy(require_identity_checks=False), report_capabilities=True)
    program = Program(1, (C0,), None, {Section.VALIDATE: seq(Cmd.CONDITION_ABORT, 0)}, authenticated=True)
    assert decode_report(proc.run(program, "update").report.encode())[8][2] == caps[2]
