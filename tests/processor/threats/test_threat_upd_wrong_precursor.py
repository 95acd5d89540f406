"""RFC 9124 §4.2.10 THREAT.UPD.WRONG_PRECURSOR → REQ.SEC.AUTH.PRECURSOR.

An update that depends on the image already installed (a delta, or a partial update) states the
precursor's digest in the signed manifest; the processor checks it with an image-match on the
current component before fetching. A device holding another precursor refuses the update before
any byte is fetched or written. (Delta payloads and their private parameters are described in
specs/SUIT-PROFILE-DELTA.md.)
"""

from __future__ import annotations

from suitlib.errors import ConditionFailedError
from suitlib.processor.program import Cmd, Param
from tests.processor.support import C0, C1, build, device, identity_checks, payload, processor, seq, sha256

OLD, NEW, OTHER = payload(3000, 110), payload(3000, 111), payload(3000, 112)


def envelope() -> bytes:
    shared = seq(Cmd.DIRECTIVE_SET_COMPONENT_INDEX, True, *[x for c in identity_checks() for x in (c.code, c.argument)])
    install = seq(
        # the precursor: component 0 must hold OLD
        Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 0,
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.IMAGE_DIGEST: sha256(OLD), Param.IMAGE_SIZE: len(OLD)},
        Cmd.CONDITION_IMAGE_MATCH, 15,
        # then stage the new image in component 1
        Cmd.DIRECTIVE_SET_COMPONENT_INDEX, 1,
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS,
        {Param.URI: "coap://new", Param.IMAGE_DIGEST: sha256(NEW), Param.IMAGE_SIZE: len(NEW)},
        Cmd.DIRECTIVE_FETCH, 2,
        Cmd.CONDITION_IMAGE_MATCH, 15,
    )
    return build(components=(C0, C1), shared=shared, install=install)


def test_update_for_another_precursor_is_refused_before_fetching() -> None:
    platform = device(components=(C0, C1), contents={C0: OTHER}, resources={"coap://new": NEW})
    result = processor(platform).update(envelope())
    assert isinstance(result.error, ConditionFailedError)
    assert result.report.result.record.component_index == 0
    assert platform.fetcher_impl.requests == [] and platform.content(C1) is None


def test_update_for_the_right_precursor_proceeds() -> None:
    platform = device(components=(C0, C1), contents={C0: OLD}, resources={"coap://new": NEW})
    assert processor(platform).update(envelope()).ok
    assert platform.content(C1) == NEW
