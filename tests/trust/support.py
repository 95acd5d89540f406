"""Shared helpers of the trust tests: deterministic keys, policies, envelopes, devices."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from Crypto.PublicKey import ECC

from suitlib.cose import KeySigner, PrivateKey
from suitlib.manifest import decode_envelope, encode_envelope
from suitlib.manifest.auth import sign_envelope
from suitlib.processor.memory import InMemoryPlatform
from suitlib.processor.program import Cmd, Param
from suitlib.trust import ANY, Anchor, MemoryPolicyStore, Scope, TrustedDevice, TrustPolicy, policy_update
from tests.processor.support import CLASS_ID, VENDOR_ID, build, device as memory_device, seq, sha256

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
RADIO = (b"radio",)
APP = (b"app",)
NOW = 1_800_000_000
"""Device time of the tests (POSIX seconds)."""

_KEYS: dict[str, PrivateKey] = {}


def key(name: str) -> PrivateKey:
    """A P-256 key derived from ``name`` (same name, same key; no randomness in tests)."""
    if name not in _KEYS:
        d = int.from_bytes(hashlib.sha256(b"trust-test:" + name.encode()).digest(), "big") % (P256_ORDER - 1) + 1
        _KEYS[name] = PrivateKey.from_ecc(ECC.construct(curve="P-256", d=d))
    return _KEYS[name]


def signer(name: str, *, kid: bytes | None | str = "name") -> KeySigner:
    return KeySigner(key(name), kid=name.encode() if kid == "name" else kid)  # type: ignore[arg-type]


def anchor(name: str, scope: Scope = ANY, *, admin: bool = False) -> Anchor:
    return Anchor(name, key(name).public_key(), kid=name.encode(), scope=scope, admin=admin)


def image(component: tuple[bytes, ...], version: int = 1) -> bytes:
    return hashlib.sha256(b"|".join(component) + bytes([version])).digest() * 40


def install(index: int, data: bytes, uri: str = "#fw") -> Any:
    """set-component-index i, override {uri, digest, size}, fetch, image-match."""
    return seq(
        Cmd.DIRECTIVE_SET_COMPONENT_INDEX, index,
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.URI: uri, Param.IMAGE_DIGEST: sha256(data), Param.IMAGE_SIZE: len(data)},
        Cmd.DIRECTIVE_FETCH, 2,
        Cmd.CONDITION_IMAGE_MATCH, 15,
    )


def firmware(signers: Sequence[Any], *, component: tuple[bytes, ...] = APP,
             components: tuple[tuple[bytes, ...], ...] | None = None, sequence_number: int = 1,
             install_seq: Any = None, data: bytes | None = None, carry_payload: bool = True) -> bytes:
    """A signed envelope that installs ``data`` into ``component``."""
    comps = components if components is not None else (component,)
    payload = data if data is not None else image(component)
    sequence = install_seq if install_seq is not None else install(comps.index(component), payload)
    return build(sequence_number=sequence_number, components=comps, signer=list(signers),
                 integrated={"#fw": payload} if carry_payload else None, install=sequence)


def policy_envelope(policy: TrustPolicy, signers: Sequence[Any], *, sequence_number: int = 100) -> bytes:
    env = policy_update(policy, sequence_number=sequence_number, vendor_id=VENDOR_ID, class_id=CLASS_ID)
    for one in signers:
        env = sign_envelope(env, one, mode="append")
    return encode_envelope(env)


def memory(clock: int | None = NOW) -> InMemoryPlatform:
    platform = memory_device(components=(RADIO, APP))
    platform.clock = clock
    return platform


def trusted(policy: TrustPolicy, *, clock: int | None = NOW, store: Any = None) -> tuple[TrustedDevice, InMemoryPlatform]:
    platform = memory(clock)
    return TrustedDevice(platform, store if store is not None else MemoryPolicyStore(policy)), platform


def writes(platform: InMemoryPlatform) -> list[Any]:
    return [e for e in platform.log if e[0] in ("write", "erase", "copy", "swap", "invoke", "store-sequence-number")]


def state(platform: InMemoryPlatform) -> dict[Any, Any]:
    """Content and generation of every component: equal before and after = nothing was touched."""
    return {c: (platform.content(c), platform.generation(c)) for c in platform.components()}


def reencode(envelope: bytes) -> bytes:
    return encode_envelope(decode_envelope(envelope))


__all__ = ["CLASS_ID", "VENDOR_ID"]
