"""COSE header parameters (RFC 9052 §3): protected/unprotected buckets, ``alg``, ``kid``, ``crit``."""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from suitlib.cose._wire import dumps, loads_strict
from suitlib.cose.algorithms import Algorithm, algorithm_from_id
from suitlib.errors import DecodeError, UnsupportedError


class HeaderLabel(enum.IntEnum):
    """Common COSE header labels (RFC 9052 §3.1)."""

    ALG = 1
    CRIT = 2
    CONTENT_TYPE = 3
    KID = 4
    IV = 5
    PARTIAL_IV = 6


# Labels whose meaning we implement, so ``crit`` may name them.
_UNDERSTOOD = frozenset({HeaderLabel.ALG, HeaderLabel.KID})


def _freeze(mapping: Mapping[Any, Any]) -> tuple[tuple[Any, Any], ...]:
    return tuple(mapping.items())


@functools.lru_cache(maxsize=128)
def _decode_protected(protected: bytes, path: str) -> Mapping[Any, Any]:
    """The protected header map (RFC 9052 §3), decoded once per distinct byte string.

    Signers repeat the same few bytes (``a10126`` for ES256) on every message; the result is
    read-only, and a fault raises (exceptions are not cached)."""
    prot = loads_strict(protected, path=f"{path}/protected")
    if not isinstance(prot, Mapping):
        raise DecodeError("protected header must encode a map", path=f"{path}/protected")
    return MappingProxyType(dict(prot))


@dataclass(frozen=True)
class Headers:
    """The two header buckets of a COSE message.

    ``protected`` is the exact serialized bucket (the bstr content) as it is signed; ``params``
    and ``unprotected`` are the decoded label → value pairs.
    """

    protected: bytes
    params: tuple[tuple[Any, Any], ...] = field(default=())
    unprotected: tuple[tuple[Any, Any], ...] = field(default=())

    @classmethod
    def build(
        cls, alg: Algorithm, *, kid: bytes | None = None, kid_protected: bool = False
    ) -> Headers:
        """Headers for a new message: ``alg`` protected, ``kid`` unprotected unless asked otherwise."""
        prot: dict[int, Any] = {HeaderLabel.ALG.value: int(alg)}
        unprot: dict[int, Any] = {}
        if kid is not None:
            (prot if kid_protected else unprot)[HeaderLabel.KID.value] = bytes(kid)
        return cls(protected=dumps(prot), params=_freeze(prot), unprotected=_freeze(unprot))

    @classmethod
    def parse(cls, protected: object, unprotected: object, *, path: str) -> Headers:
        """Validate both buckets of a received message (RFC 9052 §3)."""
        if not isinstance(protected, bytes):
            raise DecodeError("protected header must be a byte string", path=f"{path}/protected")
        prot = _decode_protected(bytes(protected), path) if protected else {}
        if not isinstance(unprotected, Mapping):
            raise DecodeError("unprotected header must be a map", path=f"{path}/unprotected")
        for bucket, where in ((prot, "protected"), (unprotected, "unprotected")):
            for label in bucket:
                if isinstance(label, bool) or not isinstance(label, (int, str)):
                    raise DecodeError(f"header label {label!r} is not an int or text", path=f"{path}/{where}")
        both = set(prot) & set(unprotected)
        if both:
            raise DecodeError(f"header labels {sorted(map(str, both))} appear in both buckets", path=path)
        headers = cls(protected=bytes(protected), params=_freeze(prot), unprotected=_freeze(unprotected))
        headers._check(path)
        return headers

    def _check(self, path: str) -> None:
        prot = dict(self.params)
        unprot = dict(self.unprotected)
        if HeaderLabel.ALG in unprot:
            raise DecodeError("alg must be in the protected header", path=f"{path}/unprotected")
        if HeaderLabel.ALG not in prot:
            raise DecodeError("protected header has no alg", path=f"{path}/protected")
        algorithm_from_id(prot[HeaderLabel.ALG])
        if HeaderLabel.CRIT in unprot:
            raise DecodeError("crit must be in the protected header", path=f"{path}/unprotected")
        if HeaderLabel.CRIT in prot:
            crit = prot[HeaderLabel.CRIT]
            if not isinstance(crit, (list, tuple)) or not crit:
                raise DecodeError("crit must be a non-empty array", path=f"{path}/protected")
            if any(isinstance(c, bool) or not isinstance(c, (int, str)) for c in crit):
                raise DecodeError("crit entries must be header labels", path=f"{path}/protected")
            unknown = [c for c in crit if c not in _UNDERSTOOD]
            if unknown:
                raise UnsupportedError(f"critical header parameters {unknown!r} are not understood")
        kid = prot.get(HeaderLabel.KID, unprot.get(HeaderLabel.KID))
        if kid is not None and not isinstance(kid, bytes):
            raise DecodeError("kid must be a byte string", path=path)

    @functools.cached_property
    def alg(self) -> Algorithm:
        """The protected ``alg``, looked up once (verification asks for it several times)."""
        return algorithm_from_id(dict(self.params)[HeaderLabel.ALG])

    @functools.cached_property
    def kid(self) -> bytes | None:
        kid = dict(self.params).get(HeaderLabel.KID)
        if kid is None:
            kid = dict(self.unprotected).get(HeaderLabel.KID)
        return kid

    def unprotected_map(self) -> dict[Any, Any]:
        return dict(self.unprotected)
