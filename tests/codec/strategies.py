"""hypothesis strategies for random, structurally valid SUIT models (and generic CBOR values)."""

from __future__ import annotations

import dataclasses

from hypothesis import strategies as st

from suitlib.cbor import Tag
from suitlib.manifest import (
    AuthenticationWrapper,
    Command,
    CommandSequence,
    Common,
    ComponentId,
    Digest,
    DigestAlgorithm,
    Envelope,
    Manifest,
    Parameters,
    Text,
    TextEntry,
    TryEach,
    VersionMatch,
    with_authentication,
)
from suitlib.manifest.model import frozen_map
from suitlib.manifest.numbers import CONDITIONS, POLICY_DIRECTIVES, Directive, Parameter

uint = st.integers(min_value=0, max_value=2**64 - 1)
small_uint = st.integers(min_value=0, max_value=70000)
sint = st.integers(min_value=-(2**64), max_value=2**64 - 1)
short_bytes = st.binary(max_size=20)
text = st.text(max_size=12)

scalars = st.one_of(sint, short_bytes, text, st.booleans(), st.none())
generic = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.one_of(sint, text), inner, max_size=3),
        st.builds(Tag, st.integers(min_value=200, max_value=5000), inner),
    ),
    max_leaves=6,
)
"""Decoded-CBOR-shaped values: tuples for arrays, dicts for maps, Tag for tags."""

component_ids = st.lists(st.binary(max_size=6), max_size=3).map(lambda parts: ComponentId(tuple(parts)))
digests = st.builds(Digest, st.sampled_from([int(a) for a in DigestAlgorithm]), st.binary(min_size=1, max_size=64))
policies = st.integers(min_value=0, max_value=40)

PARAMETER_VALUES = {
    Parameter.VENDOR_IDENTIFIER: st.one_of(st.binary(min_size=16, max_size=16),
                                           st.builds(Tag, st.just(112), st.binary(min_size=1, max_size=8))),
    Parameter.CLASS_IDENTIFIER: st.binary(min_size=16, max_size=16),
    Parameter.IMAGE_DIGEST: digests,
    Parameter.USE_BEFORE: uint,
    Parameter.COMPONENT_SLOT: small_uint,
    Parameter.STRICT_ORDER: st.booleans(),
    Parameter.SOFT_FAILURE: st.booleans(),
    Parameter.IMAGE_SIZE: uint,
    Parameter.CONTENT: short_bytes,
    Parameter.ENCRYPTION_INFO: short_bytes,
    Parameter.URI: text,
    Parameter.SOURCE_COMPONENT: small_uint,
    Parameter.INVOKE_ARGS: short_bytes,
    Parameter.DEVICE_IDENTIFIER: st.binary(min_size=16, max_size=16),
    Parameter.FETCH_ARGUMENTS: short_bytes,
    Parameter.MINIMUM_BATTERY: small_uint,
    Parameter.UPDATE_PRIORITY: sint,
    Parameter.VERSION: st.builds(VersionMatch, st.integers(1, 5),
                                 st.lists(st.integers(-5, 1000), min_size=1, max_size=4).map(tuple)),
    Parameter.WAIT_INFO: short_bytes,
    Parameter.COMPONENT_METADATA: short_bytes,
    -257: st.one_of(sint, short_bytes, text, st.booleans()),
    99: scalars,
}


@st.composite
def parameters(draw: st.DrawFn) -> Parameters:
    codes = draw(st.lists(st.sampled_from(list(PARAMETER_VALUES)), min_size=1, max_size=4, unique=True))
    return Parameters({int(c): draw(PARAMETER_VALUES[c]) for c in codes})


def commands(depth: int) -> st.SearchStrategy[Command]:
    options = [
        st.builds(Command, st.sampled_from(sorted(CONDITIONS)), policies),
        st.builds(Command, st.sampled_from(sorted(int(d) for d in POLICY_DIRECTIVES)), policies),
        st.builds(Command, st.just(int(Directive.SET_COMPONENT_INDEX)),
                  st.one_of(small_uint, st.just(True), st.lists(small_uint, min_size=1, max_size=3).map(tuple))),
        st.builds(Command, st.sampled_from([int(Directive.OVERRIDE_PARAMETERS), int(Directive.SET_PARAMETERS)]),
                  parameters()),
        st.builds(Command, st.just(int(Directive.OVERRIDE_MULTIPLE)),
                  st.dictionaries(small_uint, parameters(), min_size=1, max_size=2).map(frozen_map)),
        st.builds(Command, st.just(int(Directive.COPY_PARAMS)),
                  st.dictionaries(small_uint, st.lists(st.integers(-300, 30), max_size=3).map(tuple),
                                  min_size=1, max_size=2).map(frozen_map)),
        st.builds(Command, st.integers(min_value=-2**20, max_value=-1), generic),
        st.builds(Command, st.just(40), generic),
    ]
    if depth > 0:
        options += [
            st.builds(Command, st.just(int(Directive.TRY_EACH)),
                      st.builds(TryEach, st.lists(sequences(depth - 1), min_size=2, max_size=3).map(tuple),
                                st.booleans())),
            st.builds(Command, st.just(int(Directive.RUN_SEQUENCE)), sequences(depth - 1)),
        ]
    return st.one_of(options)


def sequences(depth: int = 2) -> st.SearchStrategy[CommandSequence]:
    return st.lists(commands(depth), min_size=1, max_size=4).map(lambda cs: CommandSequence(tuple(cs)))


texts = st.builds(
    Text,
    st.dictionaries(
        text,
        st.builds(TextEntry,
                  st.dictionaries(st.integers(1, 10), text, max_size=2).map(frozen_map),
                  st.dictionaries(component_ids, st.dictionaries(st.integers(1, 8), text, min_size=1, max_size=2)
                                  .map(frozen_map), max_size=2).map(frozen_map)),
        min_size=1, max_size=2,
    ).map(frozen_map),
)


def optional(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy)


def severable(content: st.SearchStrategy) -> st.SearchStrategy:
    return optional(st.one_of(content, digests))


commons = st.builds(
    Common,
    st.lists(component_ids, min_size=1, max_size=4).map(tuple),
    optional(sequences(1)),
    optional(st.dictionaries(small_uint, st.dictionaries(st.just(1), st.lists(short_bytes, max_size=2).map(tuple)),
                             min_size=1, max_size=2).map(frozen_map)),
    st.dictionaries(st.integers(5, 30), scalars, max_size=1).map(frozen_map),
)

manifests = st.builds(
    Manifest,
    sequence_number=uint,
    common=commons,
    reference_uri=optional(text),
    manifest_component_id=optional(component_ids),
    set_version=optional(st.lists(st.integers(0, 9), min_size=1, max_size=3).map(tuple)),
    validate=optional(sequences()),
    load=optional(sequences()),
    invoke=optional(sequences()),
    uninstall=optional(sequences(1)),
    coswid=severable(short_bytes),
    dependency_resolution=severable(sequences(1)),
    payload_fetch=severable(sequences(1)),
    candidate_verification=severable(sequences(1)),
    install=severable(sequences()),
    text=severable(texts),
    extensions=st.dictionaries(st.sampled_from([25, 30, 99, 1000, -3, "x-key"]), generic, max_size=2).map(frozen_map),
)


@st.composite
def envelopes(draw: st.DrawFn) -> Envelope:
    manifest = draw(manifests)
    elements = {}
    for key, content in ((20, sequences(1)), (23, texts), (16, sequences(1))):
        if draw(st.booleans()):
            elements[key] = draw(content)
    env = Envelope(
        AuthenticationWrapper(Digest(-16, b"")),
        manifest,
        frozen_map(elements),
        frozen_map(draw(st.dictionaries(st.text(min_size=1, max_size=5), short_bytes, max_size=2))),
        draw(optional(short_bytes)),
        frozen_map(draw(st.dictionaries(st.sampled_from([30, 40, 1000]), generic, max_size=1))),
        draw(st.booleans()),
    )
    env = with_authentication(env, tuple(draw(st.lists(st.binary(min_size=1, max_size=30), max_size=2))),
                              algorithm=draw(st.sampled_from([-16, -43, -44])))
    return dataclasses.replace(env)
