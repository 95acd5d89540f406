"""Severing (draft-ietf-suit-manifest-34 §8.4.12, §8.5): dropping severable members from an
envelope while the manifest keeps their digests.

A member already held as a digest in the manifest just leaves the envelope: the manifest, its
digest and every signature stay valid. A member held **inline** must first be replaced by its
digest, which changes the manifest and therefore the manifest digest: the result then carries
a fresh authentication wrapper with the new digest and **no signatures**; sign it again (sign
``result.authentication.digest_bstr`` and attach with
:func:`suitlib.manifest.with_authentication`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from suitlib.errors import ValidationError
from suitlib.manifest.digests import severable_digest, with_authentication
from suitlib.manifest.model import SEVERABLE_FIELDS, Digest, Envelope, frozen_map
from suitlib.manifest.numbers import MANIFEST_NAMES, SEVERABLE


def sever(env: Envelope, elements: Iterable[str | int] | None = None) -> Envelope:
    """Return ``env`` without the given severable members (all present ones when ``None``).

    ``elements`` are names (``install``, ``suit-text``) or keys (20). See :func:`needs_resigning`.
    """
    from suitlib.manifest.spec import severable_key

    present = {k for k in SEVERABLE if env.manifest.severable(k) is not None or k in env.elements}
    if elements is None:
        keys = present
    else:
        keys = {severable_key(e) for e in elements}
        missing = keys - present
        if missing:
            names = ", ".join(MANIFEST_NAMES[k] for k in sorted(missing))
            raise ValidationError(f"nothing to sever: {names} not in the envelope",
                                  hint="see `suit inspect` for the members present")
    manifest = env.manifest
    alg = env.authentication.digest.algorithm
    for key in sorted(keys):
        value = manifest.severable(key)
        if value is not None and not isinstance(value, Digest):
            manifest = dataclasses.replace(manifest, **{SEVERABLE_FIELDS[key]: severable_digest(key, value, alg)})
    elements_left = frozen_map({k: v for k, v in env.elements.items() if k not in keys})
    result = dataclasses.replace(env, manifest=manifest, elements=elements_left)
    if manifest is not env.manifest:
        result = with_authentication(result, ())
    return result


def needs_resigning(before: Envelope, after: Envelope) -> bool:
    """Whether ``after``'s manifest differs from ``before``'s (its signatures were dropped)."""
    return before.manifest_bstr != after.manifest_bstr


def attach_elements(env: Envelope, elements: Iterable[str | int] | None = None) -> Envelope:
    """The inverse layout: move inline severable members into the envelope, leaving their
    digests in the manifest (as spec example 2). Changes the manifest: re-sign afterwards."""
    from suitlib.manifest.spec import severable_key

    inline = {k for k in SEVERABLE
              if env.manifest.severable(k) is not None and not isinstance(env.manifest.severable(k), Digest)}
    keys = inline if elements is None else {severable_key(e) for e in elements}
    manifest = env.manifest
    moved = dict(env.elements)
    alg = env.authentication.digest.algorithm
    for key in sorted(keys):
        value = manifest.severable(key)
        if value is None or isinstance(value, Digest):
            raise ValidationError(f"{MANIFEST_NAMES[key]} is not inline in the manifest")
        moved[int(key)] = value
        manifest = dataclasses.replace(manifest, **{SEVERABLE_FIELDS[key]: severable_digest(key, value, alg)})
    result = dataclasses.replace(env, manifest=manifest, elements=frozen_map(moved))
    return with_authentication(result, ()) if manifest is not env.manifest else result
