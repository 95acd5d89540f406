"""What a signer may update: a set of component identifiers and/or class identifiers.

A :class:`Scope` with ``components=None`` (``classes=None``) does not restrict that axis.
Delegation narrows scopes by intersection (draft-ietf-suit-trust-domains §5: a delegate never
holds more rights than its delegator). The wire form is the private-use CWT claim documented
in ``specs/TRUST-MODEL.md``: ``{? 1: [* [* bstr]], ? 2: [* bstr]}`` (an empty list grants
nothing on that axis).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from suitlib.errors import DecodeError

ComponentId = tuple[bytes, ...]

SCOPE_COMPONENTS = 1
SCOPE_CLASSES = 2
MAX_SCOPE_ENTRIES = 64


@dataclass(frozen=True)
class Scope:
    """Components and classes a key may update (``None`` = unrestricted on that axis)."""

    components: frozenset[ComponentId] | None = None
    classes: frozenset[bytes] | None = None

    @classmethod
    def of(cls, components: Iterable[Sequence[bytes]] | None = None,
           classes: Iterable[bytes] | None = None) -> Scope:
        return cls(
            None if components is None else frozenset(tuple(bytes(p) for p in c) for c in components),
            None if classes is None else frozenset(bytes(c) for c in classes),
        )

    @property
    def unrestricted(self) -> bool:
        return self.components is None and self.classes is None

    def intersect(self, other: Scope) -> Scope:
        """The rights both scopes grant."""

        def meet(a: frozenset[Any] | None, b: frozenset[Any] | None) -> frozenset[Any] | None:
            if a is None:
                return b
            if b is None:
                return a
            return a & b

        return Scope(meet(self.components, other.components), meet(self.classes, other.classes))

    def covers(self, components: Iterable[ComponentId], classes: Iterable[bytes]) -> bool:
        """Whether every touched component and every class the manifest names is in scope.

        A class restriction also requires the manifest to name at least one class.
        """
        if self.components is not None and not set(components) <= self.components:
            return False
        if self.classes is not None:
            named = set(classes)
            if not named or not named <= self.classes:
                return False
        return True

    def missing(self, components: Iterable[ComponentId], classes: Iterable[bytes]) -> list[str]:
        """Human-readable list of what falls outside this scope (for error messages)."""
        out = []
        if self.components is not None:
            out += [label(c) for c in sorted(set(components) - self.components)]
        if self.classes is not None:
            named = set(classes)
            if not named:
                out.append("a manifest without a class identifier")
            out += [f"class {c.hex()}" for c in sorted(named - self.classes)]
        return out

    def to_cbor(self) -> dict[int, Any]:
        out: dict[int, Any] = {}
        if self.components is not None:
            out[SCOPE_COMPONENTS] = [list(c) for c in sorted(self.components)]
        if self.classes is not None:
            out[SCOPE_CLASSES] = sorted(self.classes)
        return out

    @classmethod
    def from_cbor(cls, value: Any, *, path: str = "scope") -> Scope:
        """Decode the scope map; any other shape raises :class:`DecodeError`."""
        if not isinstance(value, Mapping):
            raise DecodeError("a scope is a map {? 1: components, ? 2: classes}", path=path)
        unknown = [k for k in value if k not in (SCOPE_COMPONENTS, SCOPE_CLASSES)]
        if unknown:
            raise DecodeError(f"unknown scope key(s) {unknown!r}", path=path)
        components = classes = None
        if SCOPE_COMPONENTS in value:
            components = frozenset(component_id(c, f"{path}/1") for c in _entries(value[SCOPE_COMPONENTS], f"{path}/1"))
        if SCOPE_CLASSES in value:
            items = _entries(value[SCOPE_CLASSES], f"{path}/2")
            if not all(isinstance(c, bytes) for c in items):
                raise DecodeError("class identifiers are byte strings", path=f"{path}/2")
            classes = frozenset(items)
        return cls(components, classes)


def _entries(value: Any, path: str) -> Sequence[Any]:
    if not isinstance(value, Sequence) or isinstance(value, (bytes, str)):
        raise DecodeError("expected an array", path=path)
    if len(value) > MAX_SCOPE_ENTRIES:
        raise DecodeError(f"more than {MAX_SCOPE_ENTRIES} entries", path=path)
    return value


def component_id(value: Any, path: str) -> ComponentId:
    if (not isinstance(value, Sequence) or isinstance(value, (bytes, str))
            or not all(isinstance(p, bytes) for p in value)):
        raise DecodeError("a component identifier is an array of byte strings", path=path)
    return tuple(bytes(p) for p in value)


def label(component: ComponentId) -> str:
    parts = [p.decode() if p and all(0x21 <= b <= 0x7E and b != 0x2F for b in p) else p.hex() for p in component]
    return "component [" + "/".join(parts) + "]"


ANY = Scope()
