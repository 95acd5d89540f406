"""SUIT authentication (draft-ietf-suit-manifest-34 §8.3): signing and verifying envelopes.

The authentication wrapper is ``[bstr .cbor SUIT_Digest, * bstr .cbor SUIT_Authentication_Block]``.
The SUIT_Digest covers the whole encoded manifest bstr (header included); every
authentication block is a COSE_Sign1 or COSE_Mac0 whose detached payload is the encoded
SUIT_Digest (§8.3, RFC 9052 §4.4 / §6.3). Verification checks that digest first, then the
blocks against trust anchors, and refuses unsigned envelopes unless explicitly allowed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from typing import Literal

from suitlib.cose import (
    ANY_ONE,
    Algorithm,
    CoseMessage,
    Policy,
    PublicKey,
    Signer,
    SymmetricKey,
    TrustAnchor,
    TrustAnchors,
    VerifiedSigner,
    Verifier,
    assemble,
    create_message,
    decode_message,
    signature_to_raw,
    to_be_signed,
    verify_blocks,
)
from suitlib.errors import (
    DigestMismatchError,
    InputError,
    LimitExceededError,
    SignatureError,
    UnsupportedError,
    VerificationError,
)
from suitlib.limits import DEFAULT_LIMITS, Limits
from suitlib.manifest import digests
from suitlib.manifest.model import (
    SEVERABLE_FIELDS,
    AuthenticationWrapper,
    CommandSequence,
    Envelope,
    Parameters,
    TryEach,
)
from suitlib.manifest.numbers import Parameter

SignMode = Literal["error", "append", "replace"]

WRAPPER_PATH = "authentication-wrapper"


class UnauthenticatedMemberError(VerificationError):
    """The envelope carries a member that neither the signature nor a manifest digest covers."""

    default_hint = "remove the unknown envelope members, or allow them explicitly"


def _uris_in(value: object) -> Iterator[str]:
    """Every ``suit-parameter-uri`` value in a command sequence, however deeply nested."""
    if isinstance(value, CommandSequence):
        for command in value:
            yield from _uris_in(command.argument)
    elif isinstance(value, TryEach):
        for sequence in value.sequences:
            yield from _uris_in(sequence)
    elif isinstance(value, Parameters):
        uri = value.get(Parameter.URI)
        if isinstance(uri, str):
            yield uri
    elif isinstance(value, Mapping):  # override-multiple: component index -> Parameters
        for params in value.values():
            yield from _uris_in(params)


def referenced_uris(env: Envelope) -> set[str]:
    """The URIs the manifest's command sequences (inline or carried severed) refer to."""
    m = env.manifest
    sequences: list[object] = [m.common.shared_sequence, m.validate, m.load, m.invoke, m.uninstall]
    sequences += [env.member(key) for key in SEVERABLE_FIELDS]
    return {uri for seq in sequences if seq is not None for uri in _uris_in(seq)}


def check_members_covered(env: Envelope) -> None:
    """Refuse envelope members that nothing authenticates (§8.2, §7.6):

    unknown extension keys (:class:`UnauthenticatedMemberError`), integrated payloads that no
    ``suit-parameter-uri`` of the manifest refers to (as ``#key`` or ``key``; those that are
    referred to are checked against their image digest when fetched), and delegation chains,
    which suitlib does not verify (:class:`UnsupportedError`).
    """
    if env.extensions:
        keys = ", ".join(repr(k) for k in env.extensions)
        raise UnauthenticatedMemberError(
            f"the envelope carries unknown members ({keys}) that no signature or digest covers",
            keys=[repr(k) for k in env.extensions],
        )
    if env.integrated:
        uris = referenced_uris(env)
        stray = [k for k in env.integrated if k not in uris and f"#{k}" not in uris]
        if stray:
            raise UnauthenticatedMemberError(
                f"integrated payload(s) {', '.join(map(repr, stray))} are not referred to by the manifest",
                keys=stray,
            )
    if env.delegation is not None:
        raise UnsupportedError(
            "the envelope carries a delegation chain (suit-delegation), which suitlib does not verify",
            hint="remove the delegation chain, or allow unknown members explicitly",
        )


def check_manifest_digest(env: Envelope) -> None:
    """The wrapper's SUIT_Digest must cover the manifest bstr (:class:`DigestMismatchError`)."""
    try:
        digests.check_manifest_digest(env)
    except DigestMismatchError as exc:
        exc.hint = exc.hint or "the manifest was changed after it was digested and signed; do not trust it"
        raise


def check_severable(env: Envelope) -> None:
    """Severable members carried in the envelope must match their digests (:class:`DigestMismatchError`)."""
    try:
        digests.check_severable(env)
    except DigestMismatchError as exc:
        exc.hint = exc.hint or "a severable member was changed or swapped; fetch the original envelope"
        raise


def payload_of(env: Envelope) -> bytes:
    """The detached COSE payload: the encoded SUIT_Digest (§8.3)."""
    return env.authentication.digest_bstr


def tbs_bytes(env: Envelope, alg: Algorithm, kid: bytes | None = None, *, kid_protected: bool = False) -> bytes:
    """The exact bytes a signer must sign (``Sig_structure``) or MAC (``MAC_structure``) for ``env``."""
    check_manifest_digest(env)
    return to_be_signed(alg, payload_of(env), kid=kid, kid_protected=kid_protected)[1]


def _with_blocks(env: Envelope, blocks: tuple[bytes, ...]) -> Envelope:
    auth = AuthenticationWrapper(env.authentication.digest, blocks)
    new = dataclasses.replace(env, authentication=auth)
    # keep the manifest bytes exactly as they were digested (Envelope caches them by instance)
    new.__dict__["manifest_bstr"] = env.manifest_bstr
    return new


def _add_block(env: Envelope, block: bytes, mode: SignMode, limits: Limits) -> Envelope:
    existing = env.authentication.blocks
    if existing and mode == "error":
        raise InputError(
            f"the envelope already has {len(existing)} authentication block(s)",
            hint="pass --append to add a signature or --replace to drop the existing ones",
        )
    if mode not in ("error", "append", "replace"):
        raise InputError(f"unknown signing mode {mode!r}", hint="use error, append or replace")
    kept = existing if mode == "append" else ()
    if len(kept) + 1 > limits.max_signatures:
        raise LimitExceededError(
            f"{len(kept) + 1} authentication blocks exceed the limit of {limits.max_signatures}"
        )
    return _with_blocks(env, (*kept, block))


def sign_envelope(
    env: Envelope, signer: Signer, *, mode: SignMode = "error", kid_protected: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> Envelope:
    """Add a COSE_Sign1 (or COSE_Mac0 for a MAC signer) over the manifest digest.

    ``mode``: ``"error"`` refuses an envelope that already has a block, ``"append"`` adds one,
    ``"replace"`` drops the existing blocks first. The signer's ``kid`` goes in the unprotected
    header unless ``kid_protected``.
    """
    check_manifest_digest(env)
    message = create_message(payload_of(env), signer, kid_protected=kid_protected)
    return _add_block(env, message.encode(), mode, limits)


def attach_signature(
    env: Envelope, signature: bytes, public_key: PublicKey, alg: Algorithm, kid: bytes | None = None, *,
    mode: SignMode = "error", kid_protected: bool = False, limits: Limits = DEFAULT_LIMITS,
) -> Envelope:
    """Attach a signature made elsewhere (an HSM, a signing service) over :func:`tbs_bytes`.

    ECDSA signatures may be raw ``r || s`` or DER. The signature is checked against
    ``public_key`` before it is attached: a wrong key, algorithm or kid placement raises
    :class:`SignatureError` and nothing is attached.
    """
    if alg.is_mac:
        raise InputError("attach a MAC with sign_envelope and a MAC signer, not as an external signature",
                         hint="external signatures are ES256, ESP256, EdDSA or Ed25519")
    headers, tbs = to_be_signed(alg, payload_of(env), kid=kid, kid_protected=kid_protected)
    check_manifest_digest(env)
    raw = signature_to_raw(alg, signature)
    message = assemble(headers, raw)
    try:
        public_key.verify(alg, tbs, raw)
    except SignatureError as exc:
        raise SignatureError(
            f"the external signature does not verify with the given public key ({exc.message})",
            hint="sign exactly the bytes of `suit sign --emit-tbs` with the same --alg and --kid placement",
        ) from None
    return _add_block(env, message.encode(), mode, limits)


def decode_blocks(env: Envelope) -> tuple[CoseMessage, ...]:
    """Decode every authentication block (a typed error names the block that is malformed)."""
    return tuple(
        decode_message(block, path=f"{WRAPPER_PATH}[{index}]")
        for index, block in enumerate(env.authentication.blocks, start=1)
    )


def as_verifier(keys: Verifier | Iterable[TrustAnchor | PublicKey | SymmetricKey]) -> Verifier:
    """A :class:`Verifier` as is (trust anchors, an HSM adapter …), or trust anchors from keys."""
    if callable(getattr(keys, "verify", None)):
        return keys  # type: ignore[return-value]
    return TrustAnchors(keys)  # type: ignore[arg-type]


def verify_envelope(
    env: Envelope,
    trust_anchors: Verifier | Iterable[TrustAnchor | PublicKey | SymmetricKey],
    *,
    allow_unsigned: bool = False,
    allow_unknown_members: bool = False,
    policy: Policy = ANY_ONE,
) -> tuple[VerifiedSigner, ...]:
    """Authenticate ``env`` (§8.3, §6.2 "authenticate first"): returns the blocks that verified.

    Order: the manifest digest against the manifest bstr (:class:`DigestMismatchError`); the
    blocks' structure (:class:`DecodeError`, :class:`UnsupportedError`); then each block
    against the trust anchors and ``policy`` (:class:`SignatureError`, by default any one valid
    block is enough); finally the severable members carried in the envelope against their
    digests in the manifest (:class:`DigestMismatchError`) and, unless
    ``allow_unknown_members``, the absence of unknown envelope members that nothing covers
    (:class:`UnauthenticatedMemberError`). An envelope without blocks raises :class:`SignatureError` unless
    ``allow_unsigned``, in which case the result is empty.
    """
    verifier = as_verifier(trust_anchors)
    check_manifest_digest(env)
    messages = decode_blocks(env)
    if not messages:
        if allow_unsigned:
            _check_carried(env, allow_unknown_members)
            return ()
        raise SignatureError(
            "the envelope is not signed",
            hint="sign it with `suit sign`, or explicitly allow unsigned envelopes",
        )
    verified = verify_blocks(verifier, messages, payload_of(env), policy=policy)
    _check_carried(env, allow_unknown_members)
    return verified


def _check_carried(env: Envelope, allow_unknown_members: bool) -> None:
    check_severable(env)
    if not allow_unknown_members:
        check_members_covered(env)
