"""Delegation chains (draft-ietf-suit-trust-domains suit-delegation, RFC 8392 CWT, RFC 8747 cnf):
scope, expiry, rooting (specs/TRUST-MODEL.md "Delegation")."""

from __future__ import annotations

import pytest

from suitlib.cbor import decode, encode
from suitlib.errors import DecodeError
from suitlib.trust import (
    CLAIM_SUIT_SCOPE,
    DelegationError,
    Scope,
    ScopeError,
    ThresholdError,
    TrustPolicy,
    authorize,
    issue_delegation,
    verify_delegation,
    with_delegation,
)
from tests.trust.support import (
    APP,
    NOW,
    RADIO,
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

VENDOR_ONLY = TrustPolicy(1, (anchor("vendor", admin=True),), threshold=1)
APP_ONLY = Scope.of(components=[APP])
DAY = 86_400


def token(issuer: str, delegate: str, scope: Scope = APP_ONLY, *, exp: int = NOW + DAY, nbf: int | None = None) -> bytes:
    return issue_delegation(signer(issuer), key(delegate).public_key(), scope, exp=exp, nbf=nbf,
                            delegate_kid=delegate.encode(), iss=issuer, sub=delegate)


def delegated(chain: list[bytes], signed_by: str, *, component: tuple[bytes, ...] = APP,
              components: tuple[tuple[bytes, ...], ...] = (RADIO, APP)) -> bytes:
    return with_delegation(firmware([signer(signed_by)], component=component, components=components), [chain])


def test_delegated_key_updates_the_component_it_was_delegated() -> None:
    device, platform = trusted(VENDOR_ONLY)
    result = device.processor().update(delegated([token("vendor", "app-team")], "app-team"))
    assert result.ok, result.error
    assert platform.content(APP) == image(APP)
    assert device.last.counted == ("vendor",)
    assert device.last.signatures[0].delegated


def test_delegated_key_cannot_update_another_component() -> None:
    device, platform = trusted(VENDOR_ONLY)
    before = state(platform)
    result = device.processor().update(delegated([token("vendor", "app-team")], "app-team", component=RADIO))
    assert isinstance(result.error, ScopeError)
    assert "radio" in result.error.message
    assert writes(platform) == [] and state(platform) == before


def test_without_the_chain_the_delegated_key_is_unknown() -> None:
    with pytest.raises(ThresholdError):
        authorize(firmware([signer("app-team")]), VENDOR_ONLY, now=NOW)


@pytest.mark.parametrize("exp,nbf", [(NOW, None), (NOW - 1, None), (NOW + DAY, NOW + 1)],
                         ids=["expires-now", "expired", "not-yet-valid"])
def test_expired_or_premature_delegation_is_refused(exp: int, nbf: int | None) -> None:
    device, platform = trusted(VENDOR_ONLY)
    result = device.processor().update(delegated([token("vendor", "app-team", exp=exp, nbf=nbf)], "app-team"))
    assert isinstance(result.error, DelegationError)
    assert writes(platform) == []


def test_delegation_needs_a_trusted_clock() -> None:
    device, platform = trusted(VENDOR_ONLY, clock=None)
    result = device.processor().update(delegated([token("vendor", "app-team")], "app-team"))
    assert isinstance(result.error, DelegationError)


def test_chain_not_rooted_in_an_anchor_is_refused() -> None:
    for chain in ([token("mallory", "app-team")],                             # self-made root
                  [token("mallory", "x"), token("x", "app-team")]):         # longer forged chain
        with pytest.raises(DelegationError, match="not rooted"):
            authorize(delegated(chain, "app-team"), VENDOR_ONLY, now=NOW)


def test_two_link_chain_narrows_to_the_intersection() -> None:
    wide = Scope.of(components=[APP, RADIO])
    chain = [token("vendor", "integrator", wide), token("integrator", "app-team", APP_ONLY)]
    assert authorize(delegated(chain, "app-team"), VENDOR_ONLY, now=NOW).counted == ("vendor",)
    with pytest.raises(ScopeError):
        authorize(delegated(chain, "app-team", component=RADIO), VENDOR_ONLY, now=NOW)
    # a link cannot widen what it received: integrator had APP only, grants APP+RADIO
    escalated = [token("vendor", "integrator", APP_ONLY), token("integrator", "app-team", wide)]
    with pytest.raises(ScopeError):
        authorize(delegated(escalated, "app-team", component=RADIO), VENDOR_ONLY, now=NOW)


def test_anchor_scope_bounds_its_delegations() -> None:
    policy = TrustPolicy(1, (anchor("owner", admin=True), anchor("radio-vendor", Scope.of(components=[RADIO]))))
    chain = [token("radio-vendor", "contractor", Scope.of(components=[RADIO, APP]))]
    with pytest.raises(ScopeError):
        authorize(delegated(chain, "contractor", component=APP), policy, now=NOW)
    ok = [token("radio-vendor", "contractor", Scope.of(components=[RADIO]))]
    assert authorize(delegated(ok, "contractor", component=RADIO), policy, now=NOW).counted == ("radio-vendor",)


def test_link_signed_by_the_wrong_key_is_refused() -> None:
    chain = [token("vendor", "integrator", APP_ONLY), token("someone-else", "app-team", APP_ONLY)]
    with pytest.raises(DelegationError, match="previous link"):
        authorize(delegated(chain, "app-team"), VENDOR_ONLY, now=NOW)


def test_expiry_anywhere_in_the_chain_is_refused() -> None:
    chain = [token("vendor", "integrator", APP_ONLY, exp=NOW - 10), token("integrator", "app-team", APP_ONLY)]
    with pytest.raises(DelegationError, match="expired"):
        authorize(delegated(chain, "app-team"), VENDOR_ONLY, now=NOW)


def test_class_scoped_delegation() -> None:
    from tests.processor.support import CLASS_ID

    right = [token("vendor", "class-team", Scope.of(classes=[CLASS_ID]))]
    assert authorize(delegated(right, "class-team"), VENDOR_ONLY, now=NOW).counted == ("vendor",)
    wrong = [token("vendor", "class-team", Scope.of(classes=[bytes(16)]))]
    with pytest.raises(ScopeError, match="class"):
        authorize(delegated(wrong, "class-team"), VENDOR_ONLY, now=NOW)


def test_delegate_and_its_delegator_count_as_one_anchor() -> None:
    policy = TrustPolicy(1, (anchor("vendor", admin=True), anchor("operator", admin=True)), threshold=2)
    envelope = with_delegation(
        firmware([signer("vendor"), signer("app-team")], components=(RADIO, APP)),
        [[token("vendor", "app-team")]],
    )
    with pytest.raises(ThresholdError):  # a stolen vendor key cannot mint its own second signer
        authorize(envelope, policy, now=NOW)
    both = with_delegation(firmware([signer("operator"), signer("app-team")], components=(RADIO, APP)),
                           [[token("vendor", "app-team")]])
    assert sorted(authorize(both, policy, now=NOW).counted) == ["operator", "vendor"]


def test_delegated_key_cannot_update_the_policy() -> None:
    new_policy = TrustPolicy(2, (anchor("app-team", admin=True),), threshold=1)
    from suitlib.trust import TRUST_COMPONENT

    chain = [token("vendor", "app-team", Scope.of(components=[TRUST_COMPONENT]))]
    envelope = with_delegation(policy_envelope(new_policy, [signer("app-team")]), [chain])
    with pytest.raises(ThresholdError, match="admin"):
        authorize(envelope, VENDOR_ONLY, now=NOW)


def test_delegation_to_an_anchor_key_or_twice_to_one_key_is_refused() -> None:
    policy = TrustPolicy(1, (anchor("vendor", admin=True), anchor("operator")), threshold=1)
    with pytest.raises(DelegationError, match="already a trust anchor"):
        verify_delegation(encode([[token("vendor", "operator")]]), policy, now=NOW)
    with pytest.raises(DelegationError, match="two chains"):
        verify_delegation(encode([[token("vendor", "x")], [token("vendor", "x")]]), policy, now=NOW)


def test_tampered_token_is_refused() -> None:
    original = token("vendor", "app-team", APP_ONLY)
    tag = decode(original)
    protected, unprotected, payload, signature = tag.value
    claims = dict(decode(payload))
    claims[CLAIM_SUIT_SCOPE] = Scope.of(components=[APP, RADIO]).to_cbor()  # widen the scope
    from suitlib.cbor import Tag

    forged = encode(Tag(18, [protected, unprotected, encode(claims), signature]))
    with pytest.raises(DelegationError, match="not rooted"):
        verify_delegation(encode([[forged]]), VENDOR_ONLY, now=NOW)


def test_token_without_scope_is_refused() -> None:
    from suitlib.cose.signer import to_be_signed
    from suitlib.cose import Sign1, export_cose_key

    claims = encode({4: NOW + DAY, 8: {1: decode(export_cose_key(key("x").public_key()))}})
    headers, tbs = to_be_signed(signer("vendor").alg, claims, kid=b"vendor")
    raw = Sign1(headers=headers, payload=claims, signature=signer("vendor").sign(tbs)).encode()
    with pytest.raises(DecodeError, match="suit-scope"):
        verify_delegation(encode([[raw]]), VENDOR_ONLY, now=NOW)


def test_cwt_tag_61_is_accepted() -> None:
    wrapped = b"\xd8\x3d" + token("vendor", "app-team")
    keys = verify_delegation(encode([[wrapped]]), VENDOR_ONLY, now=NOW)
    assert keys[0].key == key("app-team").public_key() and keys[0].scope == APP_ONLY
