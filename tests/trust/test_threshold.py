"""k-of-n trust policy: distinct keys count, not signatures; the policy itself is updatable only
under the current policy (specs/TRUST-MODEL.md "Threshold policy")."""

from __future__ import annotations

import dataclasses

import pytest

from suitlib.cose import KeySigner, PrivateKey
from suitlib.cose.keys import KeyType
from suitlib.errors import RollbackError, SignatureError, SuitError, ValidationError
from suitlib.trust import (
    Anchor,
    MemoryPolicyStore,
    PolicyUpdateError,
    ThresholdError,
    TrustPolicy,
    authorize,
)
from tests.trust.support import (
    APP,
    NOW,
    anchor,
    firmware,
    image,
    key,
    policy_envelope,
    signer,
    state,
    trusted,
    writes,
)

TWO_OF_THREE = TrustPolicy(
    version=1,
    anchors=(anchor("vendor", admin=True), anchor("operator", admin=True), anchor("backup", admin=True)),
    threshold=2,
    admin_threshold=2,
)


class ForgingSigner:
    """Claims to be ``operator`` (its kid) but signs with a key the device does not trust."""

    alg = KeySigner(key("operator")).alg
    kid = b"operator"

    def __init__(self) -> None:
        self._inner = KeySigner(key("mallory"))

    def sign(self, tbs: bytes) -> bytes:
        return self._inner.sign(tbs)


class CorruptingSigner:
    """The operator's real key, but the signature is flipped in one bit (a damaged block)."""

    alg = KeySigner(key("operator")).alg
    kid = b"operator"

    def sign(self, tbs: bytes) -> bytes:
        raw = bytearray(KeySigner(key("operator")).sign(tbs))
        raw[10] ^= 1
        return bytes(raw)


def test_two_of_three_accepts_two_valid_signatures_and_installs() -> None:
    device, platform = trusted(TWO_OF_THREE)
    envelope = firmware([signer("vendor"), signer("operator")])
    result = device.processor().update(envelope)
    assert result.ok, result.error
    assert platform.content(APP) == image(APP)
    assert sorted(device.last.counted) == ["operator", "vendor"]


def test_any_two_of_the_three_suffice() -> None:
    for pair in (("vendor", "backup"), ("operator", "backup")):
        authorization = authorize(firmware([signer(n) for n in pair]), TWO_OF_THREE, now=NOW)
        assert sorted(authorization.counted) == sorted(pair)


@pytest.mark.parametrize("second", [ForgingSigner(), CorruptingSigner()], ids=["forged-key", "corrupted"])
def test_one_valid_plus_one_forged_is_refused_before_anything_is_written(second: object) -> None:
    device, platform = trusted(TWO_OF_THREE)
    before = state(platform)
    result = device.processor().update(firmware([signer("vendor"), second]))
    assert isinstance(result.error, ThresholdError)
    assert result.error.verified == 1 and result.error.required == 2
    assert writes(platform) == [] and state(platform) == before


def test_one_valid_signature_alone_is_refused() -> None:
    with pytest.raises(ThresholdError):
        authorize(firmware([signer("vendor")]), TWO_OF_THREE, now=NOW)


def test_two_signatures_from_the_same_key_count_once() -> None:
    # two different, individually valid COSE_Sign1 by one key: kid unprotected, then protected
    from suitlib.manifest import decode_envelope, encode_envelope
    from suitlib.manifest.auth import sign_envelope

    once = decode_envelope(firmware([signer("vendor")]))
    twice = sign_envelope(once, signer("vendor"), mode="append", kid_protected=True)
    assert len(set(twice.authentication.blocks)) == 2
    with pytest.raises(ThresholdError) as info:
        authorize(encode_envelope(twice), TWO_OF_THREE, now=NOW)
    assert info.value.verified == 1
    # and the same key without a kid (so it is tried against every anchor) still counts once
    thrice = sign_envelope(twice, signer("vendor", kid=None), mode="append")
    with pytest.raises(ThresholdError):
        authorize(encode_envelope(thrice), TWO_OF_THREE, now=NOW)


def test_a_key_cannot_be_listed_twice_to_count_twice() -> None:
    with pytest.raises(ValidationError):
        TrustPolicy(1, (anchor("vendor"), Anchor("vendor-again", key("vendor").public_key())), threshold=2)


def test_unsigned_envelope_is_refused_even_if_the_processor_would_allow_it() -> None:
    from suitlib.processor import ProcessorPolicy

    device, platform = trusted(TWO_OF_THREE)
    result = device.processor(policy=ProcessorPolicy(allow_unsigned=True)).update(firmware([]))
    assert isinstance(result.error, SignatureError)
    assert writes(platform) == []


def test_policy_validation_rejects_unsatisfiable_thresholds() -> None:
    with pytest.raises(ValidationError):
        TrustPolicy(1, (anchor("vendor"),), threshold=2)
    with pytest.raises(ValidationError):
        TrustPolicy(1, (anchor("vendor"),), threshold=1, admin_threshold=1)  # no admin anchor
    with pytest.raises(ValidationError):
        TrustPolicy(1, (anchor("vendor", admin=True),), threshold=0)


def test_policy_record_round_trips() -> None:
    assert TrustPolicy.decode(TWO_OF_THREE.encode()) == TWO_OF_THREE


# --- the policy updates itself only under the current policy ---------------------------------

RAISED = dataclasses.replace(TWO_OF_THREE, version=2, threshold=3)


def test_policy_update_needs_the_current_admin_threshold() -> None:
    store = MemoryPolicyStore(TWO_OF_THREE)
    device, platform = trusted(TWO_OF_THREE, store=store)
    result = device.processor().update(policy_envelope(RAISED, [signer("vendor")]))
    assert isinstance(result.error, ThresholdError)
    assert store.policy == TWO_OF_THREE
    result = device.processor().update(policy_envelope(RAISED, [signer("vendor"), signer("backup")]))
    assert result.ok, result.error
    assert store.policy == RAISED
    # the new policy is in force at once: two signatures are no longer enough
    with pytest.raises(ThresholdError):
        authorize(firmware([signer("vendor"), signer("operator")]), store.policy, now=NOW)
    authorize(firmware([signer("vendor"), signer("operator"), signer("backup")]), store.policy, now=NOW)


def test_replayed_or_older_policy_is_refused() -> None:
    store = MemoryPolicyStore(RAISED)
    device, platform = trusted(RAISED, store=store)
    admins = [signer("vendor"), signer("operator"), signer("backup")]
    # same version again (a replay of the update that installed it), fresh envelope sequence number
    replay = device.processor().update(policy_envelope(RAISED, admins, sequence_number=200))
    assert isinstance(replay.error, PolicyUpdateError)
    # the older, weaker policy (downgrade), even signed by everyone
    downgrade = device.processor().update(policy_envelope(TWO_OF_THREE, admins, sequence_number=201))
    assert isinstance(downgrade.error, PolicyUpdateError)
    assert store.policy == RAISED
    assert platform.load_sequence_number() is None  # nothing was committed


def test_replayed_policy_envelope_is_refused_by_sequence_number() -> None:
    store = MemoryPolicyStore(TWO_OF_THREE)
    device, platform = trusted(TWO_OF_THREE, store=store)
    envelope = policy_envelope(RAISED, [signer("vendor"), signer("operator")], sequence_number=100)
    assert device.processor().update(envelope).ok
    again = device.processor().update(envelope)
    assert isinstance(again.error, (RollbackError, ThresholdError))


def test_non_admin_anchors_cannot_update_the_policy() -> None:
    policy = TrustPolicy(1, (anchor("owner", admin=True), anchor("app-vendor")), threshold=1)
    new = TrustPolicy(2, (anchor("app-vendor", admin=True),), threshold=1)
    with pytest.raises(ThresholdError):
        authorize(policy_envelope(new, [signer("app-vendor")]), policy, now=NOW)


def test_ed25519_and_p256_anchors_mix() -> None:
    ed = PrivateKey.generate(KeyType.ED25519)
    policy = TrustPolicy(1, (anchor("vendor", admin=True), Anchor("operator", ed.public_key(), kid=b"op")), threshold=2)
    authorization = authorize(firmware([signer("vendor"), KeySigner(ed, kid=b"op")]), policy, now=NOW)
    assert sorted(authorization.counted) == ["operator", "vendor"]


def test_every_refusal_is_a_suit_error() -> None:
    for envelope in (b"", b"\xa0", firmware([]), firmware([signer("mallory")])):
        with pytest.raises(SuitError):
            authorize(envelope, TWO_OF_THREE, now=NOW)


def test_policy_update_cannot_carry_firmware() -> None:
    from suitlib.trust import TRUST_COMPONENT
    from tests.processor.support import build
    from tests.trust.support import install

    mixed = build(components=(TRUST_COMPONENT, APP), signer=[signer("vendor"), signer("operator")],
                  integrated={"#fw": image(APP)}, install=install(1, image(APP)))
    with pytest.raises(PolicyUpdateError, match="other component"):
        authorize(mixed, TWO_OF_THREE, now=NOW)
