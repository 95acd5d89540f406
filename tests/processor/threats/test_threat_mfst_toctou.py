"""RFC 9124 §4.2.18 THREAT.MFST.TOCTOU → REQ.SEC.MFST.CONST.

The processor authenticates a private copy of the envelope bytes and then executes the frozen
model decoded from that copy: rewriting the caller's buffer after authentication (here: from
inside the fetch, i.e. while the manifest is being executed) changes nothing.
"""

from __future__ import annotations

import dataclasses

import pytest

from suitlib.processor.memory import MemoryFetcher
from tests.processor.support import C0, build, device, install_of, payload, processor

FW, EVIL = payload(1000, 180), payload(1000, 181)


class MutatingFetcher(MemoryFetcher):
    def __init__(self, resources, buffer: bytearray, replacement: bytes) -> None:  # type: ignore[no-untyped-def]
        super().__init__(resources)
        self.buffer, self.replacement = buffer, replacement

    def fetch(self, uri, sink, *, fetch_arguments=None):  # type: ignore[no-untyped-def]
        self.buffer[:] = self.replacement  # the manifest in RAM is rewritten mid-execution
        super().fetch(uri, sink, fetch_arguments=fetch_arguments)


def test_rewriting_the_envelope_buffer_during_execution_has_no_effect() -> None:
    genuine = build(sequence_number=1, install=install_of("coap://fw", FW))
    evil = build(sequence_number=1, signer=None, install=install_of("coap://evil", EVIL))
    buffer = bytearray(genuine)
    platform = device()
    platform.fetcher_impl = MutatingFetcher({"coap://fw": FW, "coap://evil": EVIL}, buffer, evil)
    result = processor(platform).update(buffer)  # type: ignore[arg-type]
    assert result.ok, result.error
    assert bytes(buffer) == evil  # the buffer really was rewritten
    assert platform.fetcher_impl.requests == ["coap://fw"]
    assert platform.content(C0) == FW


def test_the_executed_model_is_immutable() -> None:
    from suitlib.processor.adapter import authenticate_envelope
    from tests.processor.support import spec_public_key

    program = authenticate_envelope(build(install=install_of("coap://fw", FW)), [spec_public_key()])
    with pytest.raises(dataclasses.FrozenInstanceError):
        program.sequence_number = 99  # type: ignore[misc]
    with pytest.raises(TypeError):
        program.sections[20] = program.sections[20]  # type: ignore[index]
    with pytest.raises(TypeError):
        program.sections[20].commands[0].argument[21] = "coap://evil"  # type: ignore[index]
