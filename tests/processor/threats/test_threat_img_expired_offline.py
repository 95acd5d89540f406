"""RFC 9124 §4.2.2 THREAT.IMG.EXPIRED.OFFLINE → REQ.SEC.EXP: suit-condition-use-before (update-management)."""

from __future__ import annotations

from suitlib.errors import ConditionFailedError
from suitlib.processor.program import Cmd, Param
from tests.processor.support import build, device, identity_checks, install_of, payload, processor

FW = payload(1500, 20)
DEADLINE = 1_800_000_000


def envelope() -> bytes:
    shared = identity_checks({Param.USE_BEFORE: DEADLINE}, Cmd.CONDITION_USE_BEFORE, 15)
    return build(sequence_number=2, shared=shared, install=install_of("coap://fw", FW))


def test_a_release_past_its_use_before_date_is_refused() -> None:
    platform = device(resources={"coap://fw": FW})
    platform.clock = DEADLINE + 1
    result = processor(platform).update(envelope())
    assert isinstance(result.error, ConditionFailedError)
    assert result.report.result.code == Cmd.CONDITION_USE_BEFORE
    assert platform.fetcher_impl.requests == []


def test_a_release_within_its_date_is_installed() -> None:
    platform = device(resources={"coap://fw": FW})
    platform.clock = DEADLINE - 1
    assert processor(platform).update(envelope()).ok


def test_a_device_without_trusted_time_refuses_a_dated_release() -> None:
    platform = device(resources={"coap://fw": FW})
    assert platform.clock is None
    assert isinstance(processor(platform).update(envelope()).error, ConditionFailedError)
