"""A device whose trust comes from its stored policy: authenticator + guarded platform.

:class:`TrustedDevice` plugs into the processor through its existing integration points
(``Processor(authenticator=…)`` and the :class:`~suitlib.processor.platform.Platform`
protocol)::

    device = TrustedDevice(platform, AnchorStore(flash, offset, bank_size))
    result = device.processor().update(envelope)

- :meth:`TrustedDevice.authenticate` authorises every envelope under the policy the store
  holds *now* (:func:`~suitlib.trust.authorize.authorize`), with the platform's clock for
  delegation expiry.
- With ``counters`` (per-component anti-rollback numbers), each envelope is checked against,
  and advances, only the numbers of the components it touches: a tenant that jumps its own
  number ahead cannot lock the other tenants out (the device-wide number is used otherwise).
- :class:`GuardedPlatform` adds the virtual :data:`TRUST_COMPONENT` (a policy-update manifest
  installs a new policy record into it; it is committed to the store only when the whole update
  succeeded, just before the sequence number) and refuses, as a second line of defence, any
  write, copy, swap or invoke of a component the current authorisation does not cover.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any, Protocol

from suitlib.errors import PolicyError
from suitlib.limits import DEFAULT_LIMITS, Limits
from suitlib.processor.platform import ComponentId, ComponentWriter, Fetcher, Platform
from suitlib.processor.processor import Processor, ProcessorPolicy
from suitlib.processor.program import Program
from suitlib.trust.authorize import TRUST_COMPONENT, Authorization, authorize
from suitlib.trust.errors import PolicyUpdateError, ScopeError
from suitlib.trust.policy import MAX_POLICY_SIZE, TrustPolicy
from suitlib.trust.scope import label


class Counters(Protocol):
    """Per-component anti-rollback numbers (:class:`~suitlib.trust.store.CounterStore` on flash)."""

    def load(self, components: Iterable[ComponentId]) -> int | None: ...

    def store(self, components: Iterable[ComponentId], value: int) -> None: ...


class PolicyStore(Protocol):
    """Where the device keeps its policy (:class:`~suitlib.trust.store.AnchorStore` on flash)."""

    def load(self) -> TrustPolicy: ...

    def commit(self, policy: TrustPolicy) -> Any: ...


class _PolicyWriter:
    """Buffers a policy record written to the trust component; decodes and checks it at close."""

    def __init__(self, platform: GuardedPlatform) -> None:
        self._platform = platform
        self._buffer = bytearray()
        platform._staged = None
        platform._staged_bytes = b""
        platform._generation += 1

    def write(self, chunk: bytes | memoryview) -> None:
        if len(self._buffer) + len(chunk) > MAX_POLICY_SIZE:
            raise PolicyUpdateError(f"a trust policy is at most {MAX_POLICY_SIZE} bytes")
        self._buffer += chunk

    def close(self) -> None:
        data = bytes(self._buffer)
        policy = TrustPolicy.decode(data, limits=self._platform.limits)
        current = self._platform.store.load()
        if policy.version <= current.version:
            raise PolicyUpdateError(
                f"trust policy version {policy.version} is not above the current {current.version}",
                hint="a replayed or older policy is never installed", version=policy.version,
                current=current.version,
            )
        self._platform._staged = policy
        self._platform._staged_bytes = data
        self._platform._generation += 1

    def abort(self) -> None:
        self._platform._staged = None
        self._platform._staged_bytes = b""
        self._platform._generation += 1


class GuardedPlatform:
    """A :class:`Platform` in front of ``inner`` (see the module docstring)."""

    def __init__(self, inner: Platform, store: PolicyStore, *, limits: Limits = DEFAULT_LIMITS,
                 vendor_ids: Collection[bytes] | None = None, class_ids: Collection[bytes] | None = None,
                 counters: Counters | None = None) -> None:
        self.inner = inner
        self.store = store
        self.counters = counters
        self.limits = limits
        self.authorized: frozenset[ComponentId] = frozenset()
        """Components the envelope being processed may act on (set by the authenticator)."""
        self._staged: TrustPolicy | None = None
        self._staged_bytes = b""
        self._generation = 0
        components = list(inner.components())
        self._vendor_ids = tuple(vendor_ids) if vendor_ids is not None else _union(inner.vendor_ids, components)
        self._class_ids = tuple(class_ids) if class_ids is not None else _union(inner.class_ids, components)

    def reset(self, authorized: frozenset[ComponentId]) -> None:
        """Start a new envelope: forget any staged policy, allow only ``authorized``."""
        self.authorized = authorized
        self._staged = None
        self._staged_bytes = b""

    def _guard(self, component: ComponentId, what: str) -> None:
        if tuple(component) not in self.authorized:
            raise ScopeError(f"{what} of {label(tuple(component))} is outside what the signers may touch",
                             component=list(component))

    # --- identity ----------------------------------------------------------------------------
    def vendor_ids(self, component: ComponentId) -> Collection[bytes]:
        return self._vendor_ids if component == TRUST_COMPONENT else self.inner.vendor_ids(component)

    def class_ids(self, component: ComponentId) -> Collection[bytes]:
        return self._class_ids if component == TRUST_COMPONENT else self.inner.class_ids(component)

    def device_ids(self, component: ComponentId) -> Collection[bytes]:
        return () if component == TRUST_COMPONENT else self.inner.device_ids(component)

    # --- components --------------------------------------------------------------------------
    def components(self) -> Collection[ComponentId]:
        return (*self.inner.components(), TRUST_COMPONENT)

    def slot(self, component: ComponentId) -> int | None:
        return None if component == TRUST_COMPONENT else self.inner.slot(component)

    def size(self, component: ComponentId) -> int | None:
        if component == TRUST_COMPONENT:
            return len(self._staged_bytes) if self._staged is not None else None
        return self.inner.size(component)

    def generation(self, component: ComponentId) -> int:
        return self._generation if component == TRUST_COMPONENT else self.inner.generation(component)

    def read(self, component: ComponentId, offset: int, length: int) -> bytes:
        if component == TRUST_COMPONENT:
            return self._staged_bytes[offset:offset + length] if self._staged is not None else b""
        return self.inner.read(component, offset, length)

    def open_writer(self, component: ComponentId, *, size_hint: int | None = None) -> ComponentWriter:
        self._guard(component, "write")
        if component == TRUST_COMPONENT:
            return _PolicyWriter(self)
        return self.inner.open_writer(component, size_hint=size_hint)

    def copy(self, destination: ComponentId, source: ComponentId) -> None:
        self._guard(destination, "copy")
        self._guard(source, "copy")
        if TRUST_COMPONENT in (destination, source):
            raise PolicyError("the trust policy component cannot be copied")
        self.inner.copy(destination, source)

    def swap(self, a: ComponentId, b: ComponentId) -> None:
        self._guard(a, "swap")
        self._guard(b, "swap")
        if TRUST_COMPONENT in (a, b):
            raise PolicyError("the trust policy component cannot be swapped")
        self.inner.swap(a, b)

    def invoke(self, component: ComponentId, arguments: bytes | None) -> None:
        self._guard(component, "invoke")
        if component == TRUST_COMPONENT:
            raise PolicyError("the trust policy component cannot be invoked")
        self.inner.invoke(component, arguments)

    # --- transfer / state ----------------------------------------------------------------------
    def fetcher(self) -> Fetcher:
        return self.inner.fetcher()

    def load_sequence_number(self) -> int | None:
        """With per-component counters: the highest number of the components this envelope
        touches; otherwise the device-wide number."""
        if self.counters is not None:
            return self.counters.load(self.authorized)
        return self.inner.load_sequence_number()

    def store_sequence_number(self, value: int) -> None:
        """The update succeeded: commit a staged policy first (power-safe), then the number(s)."""
        if self._staged is not None:
            self.store.commit(self._staged)
            self._staged = None
        if self.counters is not None:
            self.counters.store(self.authorized, value)
        else:
            self.inner.store_sequence_number(value)

    def battery_level(self) -> int | None:
        return self.inner.battery_level()

    def now(self) -> int | None:
        return self.inner.now()


def _union(get: Any, components: list[ComponentId]) -> tuple[bytes, ...]:
    out: list[bytes] = []
    for component in components:
        for value in get(component):
            if value not in out:
                out.append(value)
    return tuple(out)


class TrustedDevice:
    """A platform, a policy store and the authenticator that ties them together."""

    def __init__(self, platform: Platform, store: PolicyStore, *, limits: Limits = DEFAULT_LIMITS,
                 vendor_ids: Collection[bytes] | None = None, class_ids: Collection[bytes] | None = None,
                 counters: Counters | None = None) -> None:
        self.store = store
        self.limits = limits
        self.platform = GuardedPlatform(platform, store, limits=limits, vendor_ids=vendor_ids, class_ids=class_ids,
                                        counters=counters)
        self.last: Authorization | None = None

    @property
    def policy(self) -> TrustPolicy:
        return self.store.load()

    def authenticate(self, envelope: bytes, trust_anchors: Any = (), *, allow_unsigned: bool = False,
                     limits: Limits | None = None, signature_policy: Any = None) -> Program:
        """The processor's ``authenticator``: authorise under the stored policy, arm the guard.

        The processor's own ``trust_anchors``/``signature_policy``/``allow_unsigned`` are not
        used: the stored policy decides, and it never accepts an unsigned envelope.
        """
        self.platform.reset(frozenset())
        self.last = None
        authorization = authorize(envelope, self.store.load(), now=self.platform.now(), limits=limits or self.limits)
        self.last = authorization
        self.platform.reset(authorization.touch.components)
        return authorization.program

    def processor(self, **kw: Any) -> Processor:
        """A :class:`Processor` for this device (keywords go to the processor)."""
        kw.setdefault("limits", self.limits)
        kw.setdefault("policy", ProcessorPolicy())
        return Processor(self.platform, (), authenticator=self.authenticate, **kw)


__all__ = ["Counters", "GuardedPlatform", "PolicyStore", "TrustedDevice"]
