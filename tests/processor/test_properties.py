"""Property tests: whatever a (signed, so trusted-to-parse) manifest says, the processor stays
within its limits and fails only with :class:`SuitError`; hostile envelope bytes likewise."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from suitlib.errors import LimitExceededError, SuitError
from suitlib.limits import Limits
from suitlib.manifest import Command, CommandSequence, Digest, Parameters, TryEach
from suitlib.processor.memory import InMemoryPlatform, MemoryComponent, MemoryFetcher, MemoryStore
from suitlib.processor.processor import INVOCATION, UPDATE, Processor, ProcessorPolicy
from suitlib.processor.program import Cmd, Param, Program, Section
from tests.processor.support import build, install_of, payload, processor, validate_of, INVOKE, device

LIMITS = Limits(max_commands=300, max_try_each_depth=4, max_fetch_size=4096, max_components=4)
URIS = ("coap://a", "coap://b", "#p", "coap://missing")
BLOBS = (b"", b"\x00" * 10, payload(100, 1), payload(5000, 2))

ids = st.sampled_from([b"\x01" * 16, b"\x02" * 16])
digests = st.builds(Digest, st.sampled_from([-16, -43, -44, -18, 7]),
                    st.sampled_from([b"\x00" * 32] + [__import__("hashlib").sha256(b).digest() for b in BLOBS]))
param_values: dict[int, Any] = {
    Param.VENDOR_IDENTIFIER: ids,
    Param.CLASS_IDENTIFIER: ids,
    Param.DEVICE_IDENTIFIER: ids,
    Param.IMAGE_DIGEST: digests,
    Param.IMAGE_SIZE: st.sampled_from([0, 10, 100, 5000, 10**9]),
    Param.COMPONENT_SLOT: st.integers(0, 2),
    Param.URI: st.sampled_from(URIS),
    Param.SOURCE_COMPONENT: st.integers(-1, 5),
    Param.CONTENT: st.sampled_from(BLOBS[:3]),
    Param.SOFT_FAILURE: st.booleans(),
    Param.STRICT_ORDER: st.booleans(),
    Param.USE_BEFORE: st.integers(0, 2000),
    Param.MINIMUM_BATTERY: st.integers(0, 100),
    Param.INVOKE_ARGS: st.binary(max_size=4),
    Param.ENCRYPTION_INFO: st.just(b"\xd8\x60"),
    -300: st.integers(),
}
parameters = st.dictionaries(st.sampled_from(list(param_values)), st.none(), max_size=4).flatmap(
    lambda keys: st.fixed_dictionaries({k: param_values[k] for k in keys}).map(Parameters)
)
policy = st.integers(0, 15)
simple_codes = st.sampled_from(
    [int(c) for c in Cmd if c not in (Cmd.DIRECTIVE_TRY_EACH, Cmd.DIRECTIVE_RUN_SEQUENCE,
                                       Cmd.DIRECTIVE_SET_COMPONENT_INDEX, Cmd.DIRECTIVE_OVERRIDE_PARAMETERS,
                                       Cmd.DIRECTIVE_SET_PARAMETERS)] + [-257, 99]
)
index_arg = st.one_of(st.integers(0, 5), st.just(True), st.lists(st.integers(0, 4), min_size=1, max_size=3).map(tuple))


def commands(sequences: st.SearchStrategy[CommandSequence]) -> st.SearchStrategy[Command]:
    return st.one_of(
        st.builds(Command, simple_codes, policy),
        st.builds(Command, st.just(int(Cmd.DIRECTIVE_SET_COMPONENT_INDEX)), index_arg),
        st.builds(Command, st.sampled_from([int(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS), int(Cmd.DIRECTIVE_SET_PARAMETERS)]),
                  parameters),
        st.builds(Command, st.just(int(Cmd.DIRECTIVE_TRY_EACH)),
                  st.builds(TryEach, st.lists(sequences, min_size=2, max_size=3).map(tuple), st.booleans())),
        st.builds(Command, st.just(int(Cmd.DIRECTIVE_RUN_SEQUENCE)), sequences),
    )


_SHA = __import__("hashlib").sha256


@st.composite
def download(draw: Any) -> CommandSequence:
    """A plausible fetch/copy/write/invoke template, so effects happen often."""
    uri = draw(st.sampled_from(URIS))
    blob = {"coap://a": BLOBS[2], "coap://b": BLOBS[3], "#p": BLOBS[2]}.get(uri, b"")
    params = {Param.URI: uri, Param.IMAGE_DIGEST: Digest(-16, _SHA(blob).digest()), Param.IMAGE_SIZE: len(blob),
              Param.SOURCE_COMPONENT: draw(st.integers(0, 3)), Param.CONTENT: b"cfg"}
    tail = draw(st.lists(st.sampled_from([Cmd.DIRECTIVE_FETCH, Cmd.CONDITION_IMAGE_MATCH, Cmd.DIRECTIVE_COPY,
                                          Cmd.DIRECTIVE_SWAP, Cmd.DIRECTIVE_WRITE, Cmd.DIRECTIVE_INVOKE,
                                          Cmd.CONDITION_CHECK_CONTENT]), min_size=1, max_size=4))
    return CommandSequence((Command(int(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS), Parameters(params)),
                            *(Command(int(code), 15) for code in tail)))


sequences = st.recursive(
    st.one_of(
        download(),
        st.lists(st.builds(Command, simple_codes, policy), min_size=1, max_size=4).map(lambda c: CommandSequence(tuple(c))),
    ),
    lambda inner: st.lists(commands(inner), min_size=1, max_size=6).map(lambda c: CommandSequence(tuple(c))),
    max_leaves=25,
)


@st.composite
def devices(draw: Any) -> InMemoryPlatform:
    count = draw(st.integers(1, 4))
    comps = {}
    for i in range(count):
        comps[(bytes([i]),)] = MemoryComponent(
            capacity=draw(st.sampled_from([50, 4096, 10_000])),
            content=draw(st.one_of(st.none(), st.sampled_from(BLOBS).map(bytearray))),
            slot=draw(st.one_of(st.none(), st.integers(0, 2))),
            vendor_ids=(b"\x01" * 16,),
            class_ids=(draw(ids),),
            device_ids=draw(st.sampled_from([(), (b"\x01" * 16,)])),
        )
    fetcher = MemoryFetcher({"coap://a": BLOBS[2], "coap://b": BLOBS[3]}, chunk_size=700)
    platform = InMemoryPlatform(components_map=comps, fetcher_impl=fetcher,
                                store=MemoryStore(draw(st.one_of(st.none(), st.integers(0, 3)))))
    platform.battery = draw(st.one_of(st.none(), st.integers(0, 100)))
    platform.clock = draw(st.one_of(st.none(), st.integers(0, 2000)))
    return platform


@given(
    platform=devices(),
    shared=st.one_of(st.none(), sequences),
    body=st.dictionaries(st.sampled_from([int(s) for s in Section if s != Section.COMMON]), sequences, max_size=3),
    component_count=st.integers(1, 5),
    sequence_number=st.integers(0, 5),
    procedure=st.sampled_from([UPDATE, INVOCATION]),
)
@settings(max_examples=150)
def test_random_programs_stay_within_limits_and_fail_only_with_suit_errors(
    platform: InMemoryPlatform, shared: Any, body: Any, component_count: int, sequence_number: int, procedure: str
) -> None:
    components = tuple((bytes([i]),) for i in range(component_count))
    program = Program(sequence_number=sequence_number, components=components, shared=shared, sections=body,
                      integrated_payloads={"#p": BLOBS[2]}, authenticated=True)
    proc = Processor(platform, (), limits=LIMITS, policy=ProcessorPolicy(require_identity_checks=False))
    result = proc.run(program, procedure)  # anything but a SuitError propagates and fails the test
    assert result.error is None or isinstance(result.error, SuitError)
    assert result.commands_executed <= LIMITS.max_commands
    for comp in platform.components_map.values():
        assert comp.content is None or len(comp.content) <= max(LIMITS.max_fetch_size, 5000)
    assert result.report.encode()  # the report always encodes
    if result.ok and procedure == UPDATE:
        assert platform.load_sequence_number() == sequence_number


def test_a_command_bomb_hits_the_command_limit() -> None:
    """try-each nesting × all components: exponential work without the limit."""
    leaf = CommandSequence((Command(int(Cmd.CONDITION_ABORT), 0),))
    seq = leaf
    for _ in range(4):
        seq = CommandSequence((
            Command(int(Cmd.DIRECTIVE_SET_COMPONENT_INDEX), True),
            Command(int(Cmd.DIRECTIVE_TRY_EACH), TryEach((seq, seq, seq), True)),
        ))
    platform = InMemoryPlatform.simple(vendor_id=b"v", class_id=b"c", components=[(bytes([i]),) for i in range(4)])
    program = Program(1, tuple((bytes([i]),) for i in range(4)), None, {Section.INSTALL: seq}, authenticated=True)
    result = Processor(platform, (), limits=LIMITS, policy=ProcessorPolicy(require_identity_checks=False)).run(program, UPDATE)
    assert isinstance(result.error, LimitExceededError)
    assert result.commands_executed == LIMITS.max_commands + 1


def test_nesting_deeper_than_the_limit_is_refused() -> None:
    seq = CommandSequence((Command(int(Cmd.CONDITION_ABORT), 0),))
    for _ in range(LIMITS.max_try_each_depth + 1):
        seq = CommandSequence((Command(int(Cmd.DIRECTIVE_RUN_SEQUENCE), seq),))
    platform = InMemoryPlatform.simple(vendor_id=b"v", class_id=b"c")
    program = Program(1, ((b"\x00",),), None, {Section.INSTALL: seq}, authenticated=True)
    result = Processor(platform, (), limits=LIMITS, policy=ProcessorPolicy(require_identity_checks=False)).run(program, UPDATE)
    assert isinstance(result.error, LimitExceededError)


def test_too_many_components_is_refused() -> None:
    components = tuple((bytes([i]),) for i in range(LIMITS.max_components + 1))
    platform = InMemoryPlatform.simple(vendor_id=b"v", class_id=b"c", components=components)
    program = Program(1, components, None, {}, authenticated=True)
    result = Processor(platform, (), limits=LIMITS, policy=ProcessorPolicy(require_identity_checks=False)).run(program, UPDATE)
    assert isinstance(result.error, LimitExceededError)


FW = payload(3000, 200)
GOOD = build(install=install_of("coap://fw", FW), validate=validate_of(FW), invoke=INVOKE)


@given(data=st.data())
@settings(max_examples=150)
def test_mutated_envelopes_fail_only_with_suit_errors(data: Any) -> None:
    raw = bytearray(GOOD)
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        pos = data.draw(st.integers(0, len(raw) - 1))
        if kind == "flip":
            raw[pos] ^= data.draw(st.integers(1, 255))
        elif kind == "cut":
            del raw[pos:pos + data.draw(st.integers(1, 8))]
        else:
            raw[pos:pos] = data.draw(st.binary(min_size=1, max_size=8))
        if not raw:
            raw = bytearray(b"\xa0")
    platform = device(resources={"coap://fw": FW})
    result = processor(platform).update(bytes(raw))
    assert result.error is None or isinstance(result.error, SuitError)
    if bytes(raw) != GOOD:
        assert result.error is not None or platform.content((b"\x00",)) == FW
