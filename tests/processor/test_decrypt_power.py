"""Power cut at every writer operation of a decrypting transfer (staged into the executable slot).

A :class:`~suitlib.flash.interface.PowerLoss` is raised before the k-th write/close/abort of any
component writer, for every k of the run; no cleanup code runs after it (as on a device). The
invariants: the executable slot only ever receives bytes of the *verified* image, in order (so
a cut leaves it erased or holding a prefix that image-match will reject at the next attempt);
with a tampered ciphertext it receives no byte at all, whatever the cut.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from suitlib.cose.encrypt import ContentAlgorithm, KeyWrapKey, encrypt_payload
from suitlib.errors import SuitError
from suitlib.flash.interface import PowerLoss
from suitlib.processor.decrypt import DecryptTransformer
from suitlib.processor.memory import InMemoryPlatform, MemoryFetcher
from suitlib.processor.platform import ComponentId, ComponentWriter
from suitlib.processor.program import Param
from tests.processor.support import CLASS_ID, VENDOR_ID, payload, sha256

APP: ComponentId = (b"app",)
STAGING: ComponentId = (b"staging",)
FW = payload(12_000, 5)
KEK = KeyWrapKey(bytes(range(16)))


class CutWriter:
    def __init__(self, inner: ComponentWriter, platform: CutPlatform, component: ComponentId) -> None:
        self._inner, self._platform, self._component = inner, platform, component

    def write(self, chunk: bytes) -> None:
        self._platform.tick()
        self._platform.received.setdefault(self._component, bytearray()).extend(chunk)
        self._inner.write(chunk)

    def close(self) -> None:
        self._platform.tick()
        self._inner.close()

    def abort(self) -> None:
        self._platform.tick()
        self._inner.abort()


class CutPlatform(InMemoryPlatform):
    cut_at: int
    ops: int
    received: dict[ComponentId, bytearray]

    def tick(self) -> None:
        if self.ops == self.cut_at:
            raise PowerLoss(f"cut before writer op {self.ops}")
        self.ops += 1

    def open_writer(self, component: ComponentId, *, size_hint: int | None = None) -> ComponentWriter:
        return CutWriter(super().open_writer(component, size_hint=size_hint), self, component)


def run(ciphertext: bytes, info: bytes, cut_at: int) -> tuple[CutPlatform, BaseException | None]:
    base = InMemoryPlatform.simple(vendor_id=VENDOR_ID, class_id=CLASS_ID, components=(APP, STAGING))
    platform = CutPlatform(components_map=base.components_map,
                           fetcher_impl=MemoryFetcher({"coap://fw": ciphertext}, chunk_size=512))
    platform.cut_at, platform.ops, platform.received = cut_at, 0, {}
    params: Mapping[int, object] = {Param.URI: "coap://fw", Param.ENCRYPTION_INFO: info, Param.IMAGE_DIGEST: sha256(FW)}
    writer = platform.open_writer(APP)
    try:
        sink = DecryptTransformer([KEK], staging=STAGING, batch=1024)(params, APP, writer, platform)
        assert sink is not None
        platform.fetcher().fetch("coap://fw", sink)
    except PowerLoss as cut:
        return platform, cut  # nothing runs after a cut
    except SuitError as error:
        try:
            writer.abort()  # the processor's cleanup is itself a writer op a cut can hit
        except PowerLoss as cut:
            return platform, cut
        return platform, error
    return platform, None


@pytest.mark.parametrize("content", list(ContentAlgorithm))
def test_cut_anywhere_leaves_only_a_verified_prefix(content: ContentAlgorithm) -> None:
    enc = encrypt_payload(FW, [KEK], content_alg=content)
    full, outcome = run(enc.ciphertext, enc.info, cut_at=-1)
    assert outcome is None and full.content(APP) == FW
    total = full.ops
    assert total > 15
    prefixes = set()
    for k in range(total):
        platform, outcome = run(enc.ciphertext, enc.info, cut_at=k)
        assert isinstance(outcome, PowerLoss), k
        got = bytes(platform.received.get(APP, b""))
        assert FW.startswith(got), f"cut={k}: unverified bytes reached the slot"
        prefixes.add(len(got))
    assert 0 in prefixes and len(prefixes) > 2  # cuts before, during and after the commit


@pytest.mark.parametrize("content", list(ContentAlgorithm))
def test_cut_anywhere_with_tampered_ciphertext_writes_nothing_to_the_slot(content: ContentAlgorithm) -> None:
    enc = encrypt_payload(FW, [KEK], content_alg=content)
    bad = bytearray(enc.ciphertext)
    bad[5000] ^= 0x20
    clean, outcome = run(bytes(bad), enc.info, cut_at=-1)
    assert isinstance(outcome, SuitError) and not isinstance(outcome, PowerLoss)
    for k in range(clean.ops + 1):
        platform, _ = run(bytes(bad), enc.info, cut_at=k)
        assert APP not in platform.received, f"cut={k}: plaintext reached the slot"
