"""Manifest and severable-member digests (draft-ietf-suit-manifest-34 §8.3, §8.4.12).

Every SUIT digest of a bstr-wrapped member covers the **encoded bstr, header included**
(e.g. ``58 71 a5 01 01 …`` for the manifest of example 0), not just its content.
"""

from __future__ import annotations

import dataclasses

from suitlib.cbor import bstr
from suitlib.errors import DigestMismatchError
from suitlib.manifest.codec import encode_severable_content
from suitlib.manifest.model import AuthenticationWrapper, Digest, Envelope, Severable
from suitlib.manifest.numbers import MANIFEST_NAMES, DigestAlgorithm


def manifest_digest(env: Envelope, algorithm: int | None = None) -> Digest:
    """SUIT_Digest of ``env.manifest_bstr``; by default with the algorithm of the auth wrapper."""
    alg = env.authentication.digest.algorithm if algorithm is None else algorithm
    return Digest.compute(env.manifest_bstr, alg)


def check_manifest_digest(env: Envelope) -> None:
    """Raise :class:`DigestMismatchError` unless the auth wrapper's digest covers the manifest."""
    expected = env.authentication.digest
    if not expected.matches(env.manifest_bstr):
        actual = Digest.compute(env.manifest_bstr, expected.algorithm)
        raise DigestMismatchError("the manifest does not match the digest in the authentication wrapper",
                                  expected=expected.value, actual=actual.value, path="authentication-wrapper[0]")


def severable_bstr(key: int, content: Severable) -> bytes:
    """The encoded bstr (header included) of a severable member's content."""
    return bstr(encode_severable_content(key, content))


def severable_digest(key: int, content: Severable, algorithm: int = DigestAlgorithm.SHA256) -> Digest:
    """The SUIT_Digest that stands for ``content`` in the manifest when it is severed (§8.4.12)."""
    return Digest.compute(severable_bstr(key, content), algorithm)


def check_severable(env: Envelope) -> None:
    """Verify every severable member carried in the envelope against the manifest's digest.

    Raises :class:`DigestMismatchError` when the content does not match, or when the manifest
    holds the member inline (or not at all) so the envelope copy is not covered by anything.
    """
    for key in env.elements:
        name = MANIFEST_NAMES.get(key, str(key))
        expected = env.manifest.severable(key)
        if not isinstance(expected, Digest):
            raise DigestMismatchError(f"{name} is in the envelope but the manifest has no digest for it",
                                      path=name[5:], key=key)
        data = env.element_bstrs[key]
        if not expected.matches(data):
            raise DigestMismatchError(f"{name} does not match its digest in the manifest", path=name[5:],
                                      key=key, expected=expected.value,
                                      actual=Digest.compute(data, expected.algorithm).value)


def with_authentication(env: Envelope, blocks: tuple[bytes, ...] = (), *,
                        algorithm: int | None = None) -> Envelope:
    """``env`` with a fresh auth wrapper: the digest recomputed over the current manifest and
    the given COSE ``blocks`` (encoded COSE structures). Call this after any change to the
    manifest (building, severing), then sign ``result.authentication.digest_bstr``."""
    alg = env.authentication.digest.algorithm if algorithm is None else algorithm
    digest = Digest.compute(env.manifest_bstr, alg)
    return dataclasses.replace(env, authentication=AuthenticationWrapper(digest, tuple(blocks)))
