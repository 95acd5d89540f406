"""Multi-tenant devices: each signer updates only its own components, judged on what the manifest
actually touches (specs/TRUST-MODEL.md "Multi-tenant devices")."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suitlib.errors import RollbackError, SuitError
from suitlib.limits import Limits
from suitlib.processor.interpreter import Interpreter
from suitlib.processor.memory import InMemoryPlatform, MemoryComponent, MemoryFetcher, MemoryStore
from suitlib.processor.program import Cmd, Param, Program, Section
from suitlib.trust import (
    MemoryCounters,
    MemoryPolicyStore,
    TrustedDevice,
    Scope,
    ScopeError,
    ThresholdError,
    TrustPolicy,
    authorize,
    touched_components,
)
from tests.processor.support import seq, try_each
from tests.trust.support import APP, NOW, RADIO, anchor, firmware, image, install, memory, signer, state, trusted, writes

TENANTS = TrustPolicy(
    1,
    (anchor("owner", admin=True, scope=Scope.of(components=[])),  # administers, updates nothing
     anchor("vendor-a", Scope.of(components=[RADIO])),
     anchor("vendor-b", Scope.of(components=[APP]))),
    threshold=1,
)
BOTH = (RADIO, APP)


def test_each_vendor_updates_its_own_component() -> None:
    device, platform = trusted(TENANTS)
    assert device.processor().update(firmware([signer("vendor-a")], component=RADIO, components=BOTH)).ok
    assert device.processor().update(firmware([signer("vendor-b")], component=APP, components=BOTH,
                                              sequence_number=2)).ok
    assert platform.content(RADIO) == image(RADIO) and platform.content(APP) == image(APP)


def b_signed(sequence: Any, **kw: Any) -> bytes:
    return firmware([signer("vendor-b")], component=APP, components=BOTH, install_seq=sequence, **kw)


RADIO_IMAGE = image(RADIO, 9)


def _fetch_into_radio() -> Any:
    return install(0, RADIO_IMAGE)


def _radio_via_try_each() -> Any:
    return seq(Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 1,
               Cmd.DIRECTIVE_TRY_EACH, try_each(seq(Cmd.CONDITION_ABORT, 15), install(0, RADIO_IMAGE)))


def _radio_via_run_sequence() -> Any:
    return seq(Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 1, Cmd.DIRECTIVE_RUN_SEQUENCE, install(0, RADIO_IMAGE))


def _radio_via_all() -> Any:
    return seq(Cmd.DIRECTIVE_SET_COMPONENT_INDEX, True,
               Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.CONTENT: b"owned"},
               Cmd.DIRECTIVE_WRITE, 15)


def _radio_via_list() -> Any:
    return seq(Cmd.DIRECTIVE_SET_COMPONENT_INDEX, [1, 0],
               Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.CONTENT: b"owned"},
               Cmd.DIRECTIVE_WRITE, 15)


def _swap_with_radio() -> Any:
    return seq(Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 1,
               Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.SOURCE_COMPONENT: 0},
               Cmd.DIRECTIVE_SWAP, 15)


def _copy_from_radio() -> Any:
    return seq(Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 1,
               Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.SOURCE_COMPONENT: 0},
               Cmd.DIRECTIVE_COPY, 15)


def _invoke_radio() -> Any:
    return seq(Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 0, Cmd.DIRECTIVE_INVOKE, 15)


@pytest.mark.parametrize("sequence", [
    _fetch_into_radio, _radio_via_try_each, _radio_via_run_sequence, _radio_via_all, _radio_via_list,
    _swap_with_radio, _copy_from_radio, _invoke_radio,
])
def test_vendor_b_touching_vendor_a_component_is_refused_before_anything_is_written(sequence: Any) -> None:
    device, platform = trusted(TENANTS)
    platform._components[RADIO].content = bytearray(image(RADIO))
    before = state(platform)
    fetches = sequence in (_fetch_into_radio, _radio_via_try_each, _radio_via_run_sequence)
    envelope = b_signed(sequence(), data=RADIO_IMAGE, carry_payload=fetches)
    result = device.processor().update(envelope)
    assert isinstance(result.error, ScopeError), result.error
    assert "radio" in result.error.message
    assert writes(platform) == [] and state(platform) == before


def test_listing_a_foreign_component_without_touching_it_is_allowed() -> None:
    # component 0 (radio) is listed and its vendor checked, but only the app is written
    device, platform = trusted(TENANTS)
    result = device.processor().update(firmware([signer("vendor-b")], component=APP, components=BOTH))
    assert result.ok, result.error
    assert device.last.touch.components == frozenset({APP})


def test_owner_without_component_rights_cannot_update_firmware() -> None:
    with pytest.raises(ScopeError):
        authorize(firmware([signer("owner")], component=APP, components=BOTH), TENANTS, now=NOW)


def test_guard_refuses_what_the_authorisation_does_not_cover() -> None:
    device, platform = trusted(TENANTS)
    device.authenticate(firmware([signer("vendor-b")], component=APP, components=BOTH))
    guarded = device.platform
    from suitlib.processor import Platform

    assert isinstance(guarded, Platform)
    guarded.open_writer(APP).abort()
    for action in (lambda: guarded.open_writer(RADIO), lambda: guarded.copy(APP, RADIO),
                   lambda: guarded.swap(APP, RADIO), lambda: guarded.invoke(RADIO, None)):
        with pytest.raises(ScopeError):
            action()
    # a refused envelope leaves the guard closed for everything
    with pytest.raises(SuitError):
        device.authenticate(firmware([signer("mallory")], component=APP, components=BOTH))
    with pytest.raises(ScopeError):
        guarded.open_writer(APP)


# --- the static walk is sound: whatever the interpreter touches, the walk predicted --------------

COMPONENTS = ((b"c0",), (b"c1",), (b"c2",))


class Recording(InMemoryPlatform):
    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.touched: set[tuple[bytes, ...]] = set()

    def open_writer(self, component: Any, *, size_hint: int | None = None) -> Any:
        self.touched.add(tuple(component))
        return super().open_writer(component, size_hint=size_hint)

    def copy(self, destination: Any, source: Any) -> None:
        self.touched |= {tuple(destination), tuple(source)}
        super().copy(destination, source)

    def swap(self, a: Any, b: Any) -> None:
        self.touched |= {tuple(a), tuple(b)}
        super().swap(a, b)

    def invoke(self, component: Any, arguments: Any) -> None:
        self.touched.add(tuple(component))
        super().invoke(component, arguments)


index_arg = st.one_of(st.integers(0, 2), st.just(True), st.lists(st.integers(0, 2), min_size=1, max_size=3))
simple = st.one_of(
    st.tuples(st.just(Cmd.DIRECTIVE_SET_COMPONENT_INDEX), index_arg),
    st.tuples(st.just(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS),
              st.one_of(st.builds(lambda c: {Param.CONTENT: c}, st.binary(min_size=1, max_size=4)),
                        st.builds(lambda i: {Param.SOURCE_COMPONENT: i}, st.integers(0, 2)))),
    st.tuples(st.sampled_from([Cmd.DIRECTIVE_WRITE, Cmd.DIRECTIVE_COPY, Cmd.DIRECTIVE_SWAP,
                               Cmd.DIRECTIVE_INVOKE, Cmd.CONDITION_ABORT]), st.just(15)),
)


def sequences(depth: int = 2) -> Any:
    if depth == 0:
        return st.lists(simple, min_size=1, max_size=6).map(lambda items: seq(*[x for pair in items for x in pair]))
    inner = sequences(depth - 1)
    nested = st.one_of(
        st.tuples(st.just(Cmd.DIRECTIVE_TRY_EACH), st.lists(inner, min_size=2, max_size=3).map(lambda a: try_each(*a))),
        st.tuples(st.just(Cmd.DIRECTIVE_RUN_SEQUENCE), inner),
    )
    return st.lists(st.one_of(simple, nested), min_size=1, max_size=6).map(
        lambda items: seq(*[x for pair in items for x in pair]))


@given(sequences())
def test_touched_components_over_approximate_what_the_interpreter_touches(sequence: Any) -> None:
    platform = Recording(
        components_map={c: MemoryComponent(content=bytearray(b"seed" + c[0])) for c in COMPONENTS},
        fetcher_impl=MemoryFetcher({}),
        store=MemoryStore(None),
    )
    program = Program(1, COMPONENTS, None, {Section.INSTALL: sequence}, authenticated=True)
    predicted = touched_components(program).components
    interpreter = Interpreter(program, platform, Limits(max_commands=500), require_verified_invoke=False)
    try:
        interpreter.run_procedure([(Section.INSTALL, sequence)])
    except SuitError:
        pass
    assert platform.touched <= predicted


# --- anti-rollback numbers per tenant ---------------------------------------------------------


def test_with_a_device_wide_number_one_tenant_can_lock_out_the_other() -> None:
    """The attack per-component counters exist for (the processor's default single number)."""
    device, platform = trusted(TENANTS)
    assert device.processor().update(firmware([signer("vendor-b")], component=APP, components=BOTH,
                                              sequence_number=10**9)).ok
    blocked = device.processor().update(firmware([signer("vendor-a")], component=RADIO, components=BOTH,
                                                 sequence_number=2))
    assert isinstance(blocked.error, RollbackError)


def test_per_component_numbers_keep_tenants_independent_and_still_refuse_rollback() -> None:
    platform = memory()
    counters = MemoryCounters()
    device = TrustedDevice(platform, MemoryPolicyStore(TENANTS), counters=counters)
    old_app = firmware([signer("vendor-b")], component=APP, components=BOTH, sequence_number=5)
    assert device.processor().update(old_app).ok
    assert device.processor().update(firmware([signer("vendor-b")], component=APP, components=BOTH,
                                              sequence_number=10**9, data=image(APP, 2))).ok
    radio = device.processor().update(firmware([signer("vendor-a")], component=RADIO, components=BOTH,
                                               sequence_number=2))
    assert radio.ok, radio.error
    assert counters.values == {APP: 10**9, RADIO: 2}
    replay = device.processor().update(old_app)
    assert isinstance(replay.error, RollbackError)
    assert platform.content(APP) == image(APP, 2)


# --- per-component thresholds: the radio needs its vendor AND the operator ----------------------

STRICT_RADIO = TrustPolicy(
    1,
    (anchor("owner", admin=True, scope=Scope.of(components=[])),
     anchor("vendor-a", Scope.of(components=[RADIO])),
     anchor("operator", Scope.of(components=[RADIO, APP])),
     anchor("vendor-b", Scope.of(components=[APP]))),
    threshold=1,
    component_thresholds=((RADIO, 2),),
)


def test_radio_needs_vendor_and_operator_while_the_app_needs_its_vendor_only() -> None:
    radio = dict(component=RADIO, components=BOTH)
    with pytest.raises(ThresholdError):
        authorize(firmware([signer("vendor-a")], **radio), STRICT_RADIO, now=NOW)
    with pytest.raises(ThresholdError):
        authorize(firmware([signer("operator")], **radio), STRICT_RADIO, now=NOW)
    with pytest.raises(ScopeError):  # vendor B's signature does not count for the radio
        authorize(firmware([signer("vendor-a"), signer("vendor-b")], **radio), STRICT_RADIO, now=NOW)
    both = authorize(firmware([signer("vendor-a"), signer("operator")], **radio), STRICT_RADIO, now=NOW)
    assert sorted(both.counted) == ["operator", "vendor-a"]
    assert authorize(firmware([signer("vendor-b")], component=APP, components=BOTH), STRICT_RADIO,
                     now=NOW).counted == ("vendor-b",)
    assert TrustPolicy.decode(STRICT_RADIO.encode()) == STRICT_RADIO
