"""RFC 9124 §4.2.1 THREAT.IMG.EXPIRED (old firmware) → REQ.SEC.SEQUENCE: anti-rollback."""

from __future__ import annotations

from suitlib.errors import RollbackError
from suitlib.processor.memory import InMemoryPlatform
from suitlib.processor.report import ReportReason
from tests.processor.support import build, device, install_of, payload, processor

OLD, NEW = payload(2000, 10), payload(2000, 11)


def envelope(seq: int, data: bytes) -> bytes:
    return build(sequence_number=seq, install=install_of("coap://fw", data))


def test_replaying_an_older_signed_release_is_refused() -> None:
    platform = device(resources={"coap://fw": NEW})
    assert processor(platform).update(envelope(5, NEW)).ok
    platform.fetcher_impl.resources["coap://fw"] = OLD
    result = processor(platform).update(envelope(4, OLD))
    assert isinstance(result.error, RollbackError)
    assert result.report.result.reason == ReportReason.UNAUTHORISED
    assert platform.content((b"\x00",)) == NEW  # nothing was fetched or written
    assert platform.fetcher_impl.requests == ["coap://fw"]


def test_the_same_sequence_number_is_not_installed_twice() -> None:
    platform = device(resources={"coap://fw": NEW})
    env = envelope(5, NEW)
    assert processor(platform).update(env).ok
    assert isinstance(processor(platform).update(env).error, RollbackError)


def test_stored_number_moves_only_after_a_successful_install() -> None:
    platform = device(resources={"coap://fw": OLD})  # the server hands out the wrong image
    failed = processor(platform).update(envelope(7, NEW))
    assert not failed.ok
    assert platform.load_sequence_number() is None
    platform.fetcher_impl.resources["coap://fw"] = NEW
    assert processor(platform).update(envelope(7, NEW)).ok  # may be retried once fixed
    assert platform.load_sequence_number() == 7


def test_the_stored_number_survives_a_reboot() -> None:
    platform = device(resources={"coap://fw": NEW})
    assert processor(platform).update(envelope(9, NEW)).ok
    rebooted = InMemoryPlatform(components_map=platform.components_map, fetcher_impl=platform.fetcher_impl,
                                store=platform.store)
    assert isinstance(processor(rebooted).update(envelope(8, OLD)).error, RollbackError)


def test_invocation_accepts_the_installed_number_but_not_an_older_one() -> None:
    from tests.processor.support import INVOKE, validate_of

    platform = device(resources={"coap://fw": NEW})
    current = build(sequence_number=3, install=install_of("coap://fw", NEW), validate=validate_of(NEW), invoke=INVOKE)
    assert processor(platform).update(current).ok
    assert processor(platform).invoke(current).ok
    older = build(sequence_number=2, validate=validate_of(NEW), invoke=INVOKE)
    assert isinstance(processor(platform).invoke(older).error, RollbackError)
    assert len(platform.actions("invoke")) == 1
