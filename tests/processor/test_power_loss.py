"""Power loss during an update (draft-ietf-suit-manifest-34 §6.3 "Resilience to Disruption").

A cut lands before every state-changing operation of the in-memory device (each chunk written,
each close, copy, the sequence-number store). ``PowerLoss`` is a ``BaseException``: the
processor must not swallow it, must not "clean up" after it (no code runs after a power loss),
and after the reboot the same update must apply again and reach the same state, while an
invocation before that never runs an incomplete image.
"""

from __future__ import annotations

import pytest

from suitlib.flash.interface import PowerLoss
from suitlib.processor import InMemoryPlatform
from suitlib.processor.program import Cmd, Param
from tests.processor.support import (
    C0,
    C1,
    build,
    device,
    identity_checks,
    payload,
    processor,
    seq,
    sha256,
)

FW = payload(20_000, 230)
OLD = payload(20_000, 231)


def envelope() -> bytes:
    shared = seq(Cmd.DIRECTIVE_SET_COMPONENT_INDEX, True, *[x for c in identity_checks() for x in (c.code, c.argument)])
    fetch = seq(  # download into the staging component [01]
        Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 1,
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS,
        {Param.URI: "coap://fw", Param.IMAGE_DIGEST: sha256(FW), Param.IMAGE_SIZE: len(FW)},
        Cmd.DIRECTIVE_FETCH, 2,
        Cmd.CONDITION_IMAGE_MATCH, 15,
    )
    install = seq(  # copy into the executable component [00], verify
        Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 0,
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS,
        {Param.SOURCE_COMPONENT: 1, Param.IMAGE_DIGEST: sha256(FW), Param.IMAGE_SIZE: len(FW)},
        Cmd.DIRECTIVE_COPY, 2,
        Cmd.CONDITION_IMAGE_MATCH, 15,
    )
    validate = seq(Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 0,
                   Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.IMAGE_DIGEST: sha256(FW), Param.IMAGE_SIZE: len(FW)},
                   Cmd.CONDITION_IMAGE_MATCH, 15)
    invoke = seq(Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 0, Cmd.DIRECTIVE_INVOKE, 2)
    return build(sequence_number=7, components=(C0, C1), shared=shared, payload_fetch=fetch, install=install,
                 validate=validate, invoke=invoke)


ENV = envelope()


class CuttingPlatform(InMemoryPlatform):
    """Counts state-changing operations and loses power before operation ``cut_at``."""

    cut_at: int = -1
    ops: int = 0

    def _tick(self, what: str) -> None:
        if self.ops == self.cut_at:
            self.cut_at = -1
            raise PowerLoss(self.ops, what)
        self.ops += 1

    def open_writer(self, component, *, size_hint=None):  # type: ignore[no-untyped-def]
        inner = super().open_writer(component, size_hint=size_hint)
        outer = self

        class Writer:
            def write(self, chunk):  # type: ignore[no-untyped-def]
                outer._tick("write")
                inner.write(chunk)

            def close(self):  # type: ignore[no-untyped-def]
                outer._tick("close")
                inner.close()

            def abort(self):  # type: ignore[no-untyped-def]
                inner.abort()

        return Writer()

    def copy(self, destination, source):  # type: ignore[no-untyped-def]
        self._tick("copy")
        super().copy(destination, source)

    def store_sequence_number(self, value):  # type: ignore[no-untyped-def]
        self._tick("store")
        super().store_sequence_number(value)


def fresh(cut_at: int = -1) -> CuttingPlatform:
    base = device(components=(C0, C1), contents={C0: OLD}, resources={"coap://fw": FW})
    platform = CuttingPlatform(components_map=base.components_map, fetcher_impl=base.fetcher_impl,
                               store=base.store)
    platform.fetcher_impl.chunk_size = 4096  # type: ignore[attr-defined]
    platform.store.sequence_number = 6
    platform.cut_at = cut_at
    return platform


def operations() -> int:
    platform = fresh()
    assert processor(platform).update(ENV).ok
    return platform.ops


REFERENCE_OPS = operations()


def test_the_sweep_covers_every_operation() -> None:
    # 5 chunks + close for the fetch, one copy, one sequence-number store
    assert REFERENCE_OPS == 5 + 1 + 1 + 1


@pytest.mark.parametrize("cut_at", range(REFERENCE_OPS))
def test_a_cut_anywhere_is_recovered_by_applying_the_update_again(cut_at: int) -> None:
    platform = fresh(cut_at)
    with pytest.raises(PowerLoss):
        processor(platform).update(ENV)
    # reboot: a new processor over the same (non-volatile) components and store
    rebooted = CuttingPlatform(components_map=platform.components_map, fetcher_impl=platform.fetcher_impl,
                               store=platform.store)
    boot = processor(rebooted).invoke(ENV)
    if boot.ok:  # only possible once the new image is completely in place
        assert rebooted.content(C0) == FW
    assert platform.load_sequence_number() in (6, 7)
    if platform.load_sequence_number() == 6:
        again = processor(rebooted).update(ENV)
        assert again.ok, again.error
    assert rebooted.content(C0) == FW
    assert rebooted.load_sequence_number() == 7
    assert processor(rebooted).invoke(ENV).ok
    assert rebooted.actions("invoke")[-1] == ("invoke", C0, None)


def test_an_interrupted_copy_never_boots_a_partial_image() -> None:
    class TornCopy(CuttingPlatform):
        def copy(self, destination, source):  # type: ignore[no-untyped-def]
            if self.ops == self.cut_at:
                self._components[destination].content = bytearray(self._components[source].content[:7000])
            super().copy(destination, source)

    base = fresh()
    platform = TornCopy(components_map=base.components_map, fetcher_impl=base.fetcher_impl, store=base.store)
    platform.cut_at = 6  # the copy: half of the image has been copied when power goes
    with pytest.raises(PowerLoss):
        processor(platform).update(ENV)
    boot = processor(platform).invoke(ENV)
    assert not boot.ok and platform.actions("invoke") == []
