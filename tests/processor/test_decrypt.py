"""Streaming decryption into flash: the DecryptingSink and the processor transformer.

Acceptance (issue 8): a wrong key or a modified ciphertext is refused before anything reaches
the executable slot. In staged mode the target component's writer must not receive one byte;
in direct mode (a candidate slot) the failure aborts the writer and the component is erased.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cbor2
import pytest

from suitlib.cose.encrypt import ContentAlgorithm, EcdhKey, EcdhRecipient, KeyWrapKey, encrypt_payload
from suitlib.cose.encrypt_errors import (
    DecryptionError,
    EncryptionInfoError,
    KeyUnwrapError,
    NoRecipientError,
    PlaintextDigestError,
    TagMismatchError,
)
from suitlib.cose.keys import KeyType, PrivateKey
from suitlib.errors import SuitError, TransportError
from suitlib.processor.decrypt import (
    DecryptingSink,
    DecryptMode,
    DecryptTransformer,
    UnprotectedCipherError,
    decrypt_copy,
)
from suitlib.processor.memory import InMemoryPlatform, MemoryFetcher
from suitlib.processor.platform import ChunkSink, ComponentId, ComponentWriter
from suitlib.processor.program import Param
from tests.processor.support import CLASS_ID, VENDOR_ID, payload, sha256

APP: ComponentId = (b"app",)
STAGING: ComponentId = (b"staging",)
DOWNLOAD: ComponentId = (b"download",)
FW = payload(20_000, 77)
EC = PrivateKey.generate(KeyType.P256)
KEK = KeyWrapKey(bytes(range(16)), kid=b"dev")
DIST = {
    "A128KW": (KEK, KEK, KeyWrapKey(bytes(range(1, 17)), kid=b"dev")),
    "A256KW": (KeyWrapKey(bytes(range(32))), KeyWrapKey(bytes(range(32))), KeyWrapKey(bytes(32))),
    "ECDH-ES+A128KW": (EcdhRecipient(EC.public_key()), EcdhKey(EC), EcdhKey(PrivateKey.generate(KeyType.P256))),
}
CASES = [(d, c) for d in DIST for c in ContentAlgorithm]


class SpyWriter:
    """Counts the bytes that reach a component writer."""

    def __init__(self, inner: ComponentWriter, log: dict[ComponentId, int], component: ComponentId) -> None:
        self._inner, self._log, self._component = inner, log, component

    def write(self, chunk: bytes) -> None:
        self._log[self._component] = self._log.get(self._component, 0) + len(chunk)
        self._inner.write(chunk)

    def close(self) -> None:
        self._inner.close()

    def abort(self) -> None:
        self._inner.abort()


class SpyPlatform(InMemoryPlatform):
    written: dict[ComponentId, int]

    def open_writer(self, component: ComponentId, *, size_hint: int | None = None) -> ComponentWriter:
        return SpyWriter(super().open_writer(component, size_hint=size_hint), self.written, component)


def make_device(resources: Mapping[str, bytes] | None = None, chunk: int = 1024, old: bytes = b"old firmware") -> SpyPlatform:
    base = InMemoryPlatform.simple(vendor_id=VENDOR_ID, class_id=CLASS_ID, components=(APP, STAGING, DOWNLOAD),
                                   contents={APP: old})
    platform = SpyPlatform(components_map=base.components_map, fetcher_impl=MemoryFetcher(resources or {}, chunk_size=chunk))
    platform.written = {}
    return platform


def fetch(platform: SpyPlatform, transformer: DecryptTransformer, params: Mapping[int, Any], component=APP) -> None:
    """A minimal fetch pipeline with an eagerly opened writer (the strictest case for the sink):
    open the writer, put the transformer in front, stream the URI, abort the writer on error."""
    writer = platform.open_writer(component)
    sink: ChunkSink = transformer(params, component, writer, platform) or writer
    try:
        platform.fetcher().fetch(params[Param.URI], sink)
    except BaseException:
        writer.abort()
        raise


def params_for(info: bytes, plaintext: bytes = FW, *, digest: bool = True) -> dict[int, Any]:
    out: dict[int, Any] = {Param.URI: "coap://fw.enc", Param.ENCRYPTION_INFO: info}
    if digest:
        out[Param.IMAGE_DIGEST] = sha256(plaintext)
    return out


def staged() -> dict[str, Any]:
    return {"staging": STAGING}


def _flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x10
    return bytes(out)


# --- success -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("dist", "content"), CASES)
@pytest.mark.parametrize("mode", [DecryptMode.DIRECT, DecryptMode.STAGED])
@pytest.mark.parametrize("chunk", [1024, 17])
def test_round_trip_into_the_component(dist: str, content: ContentAlgorithm, mode: DecryptMode, chunk: int) -> None:
    sender, device_key, _ = DIST[dist]
    enc = encrypt_payload(FW, [sender], content_alg=content)
    platform = make_device({"coap://fw.enc": enc.ciphertext}, chunk=chunk)
    kw = staged() if mode is DecryptMode.STAGED else {}
    fetch(platform, DecryptTransformer([device_key], **kw), params_for(enc.info))
    assert platform.content(APP) == FW
    assert platform.written[APP] == len(FW)
    if mode is DecryptMode.STAGED:
        assert platform.written[STAGING] == len(FW)
        assert platform.content(STAGING) is None  # scrubbed after the commit
    else:
        assert STAGING not in platform.written


def test_parameters_without_encryption_info_are_left_alone() -> None:
    platform = make_device()
    assert DecryptTransformer([KEK])({Param.URI: "x"}, APP, platform.open_writer(APP), platform) is None


def test_the_staging_component_itself_is_written_directly() -> None:
    enc = encrypt_payload(FW, [KEK])
    platform = make_device({"coap://fw.enc": enc.ciphertext})
    sink = DecryptTransformer([KEK], staging=STAGING)(params_for(enc.info), STAGING, platform.open_writer(STAGING), platform)
    assert isinstance(sink, DecryptingSink) and sink.mode is DecryptMode.DIRECT


# --- refusals: nothing reaches the executable slot --------------------------------------------


def _refused(platform: SpyPlatform, transformer: DecryptTransformer, params: dict[int, Any], error: type) -> None:
    with pytest.raises(error) as info:
        fetch(platform, transformer, params)
    assert isinstance(info.value, SuitError)
    assert platform.written.get(APP, 0) == 0, "plaintext reached the executable slot"
    assert not platform.content(APP)  # erased (by open or abort), never half-written
    assert platform.content(STAGING) is None  # no plaintext left behind in staging


@pytest.mark.parametrize(("dist", "content"), CASES)
def test_wrong_key_is_refused_before_any_write(dist: str, content: ContentAlgorithm) -> None:
    sender, _, wrong = DIST[dist]
    enc = encrypt_payload(FW, [sender], content_alg=content)
    platform = make_device({"coap://fw.enc": enc.ciphertext})
    for kw in ({}, staged()):  # a wrong key stops before the first byte, in either mode
        _refused(platform, DecryptTransformer([wrong], **kw), params_for(enc.info), KeyUnwrapError)
        assert STAGING not in platform.written


@pytest.mark.parametrize(("dist", "content"), CASES)
@pytest.mark.parametrize("where", [0, 9_999, 19_999, "tag"])
def test_modified_ciphertext_or_tag_is_refused_before_the_slot(dist: str, content: ContentAlgorithm, where) -> None:
    sender, device_key, _ = DIST[dist]
    enc = encrypt_payload(FW, [sender], content_alg=content)
    index = len(enc.ciphertext) - 1 if where == "tag" else where
    platform = make_device({"coap://fw.enc": _flip(enc.ciphertext, index)})
    expected = TagMismatchError if content.is_aead else PlaintextDigestError
    _refused(platform, DecryptTransformer([device_key], **staged()), params_for(enc.info), expected)


@pytest.mark.parametrize(("dist", "content"), CASES)
def test_modified_encryption_info_is_refused_before_the_slot(dist: str, content: ContentAlgorithm) -> None:
    sender, device_key, _ = DIST[dist]
    enc = encrypt_payload(FW, [sender], content_alg=content)
    tag = cbor2.loads(enc.info)
    unprotected = dict(tag.value[1])
    unprotected[5] = _flip(unprotected[5], 0)  # the IV
    bad_iv = cbor2.dumps(cbor2.CBORTag(96, [tag.value[0], unprotected, None, tag.value[3]]), canonical=True)
    recipient = list(tag.value[3][0])
    recipient[2] = _flip(recipient[2], 3)  # the wrapped CEK
    bad_key = cbor2.dumps(cbor2.CBORTag(96, [tag.value[0], tag.value[1], None, [recipient]]), canonical=True)
    for info, expected in ((bad_iv, TagMismatchError if content.is_aead else PlaintextDigestError),
                           (bad_key, KeyUnwrapError), (enc.info[:-3], EncryptionInfoError)):
        platform = make_device({"coap://fw.enc": enc.ciphertext})
        _refused(platform, DecryptTransformer([device_key], **staged()), params_for(info), expected)


def test_truncated_transfer_is_refused_before_the_slot() -> None:
    enc = encrypt_payload(FW, [KEK])
    platform = make_device({"coap://fw.enc": enc.ciphertext[:-100]})
    _refused(platform, DecryptTransformer([KEK], **staged()), params_for(enc.info), TagMismatchError)


def test_a_transport_failure_midway_leaves_nothing_in_staging_or_slot() -> None:
    class Broken:
        def fetch(self, uri: str, sink: ChunkSink, *, fetch_arguments: bytes | None = None) -> None:
            sink.write(enc.ciphertext[:5000])
            raise TransportError("link lost", uri=uri)

    enc = encrypt_payload(FW, [KEK])
    platform = make_device()
    platform.fetcher_impl = Broken()
    transformer = DecryptTransformer([KEK], **staged())
    writer = platform.open_writer(APP)
    sink = transformer(params_for(enc.info), APP, writer, platform)
    assert isinstance(sink, DecryptingSink)
    with pytest.raises(TransportError):
        platform.fetcher().fetch("coap://fw.enc", sink)
    # the processor aborts the writer and (with the hook requested in the report) the sink
    writer.abort()
    sink.abort()
    assert platform.written.get(APP, 0) == 0 and platform.content(APP) is None
    assert platform.content(STAGING) is None


def test_ctr_without_image_digest_is_refused() -> None:
    enc = encrypt_payload(FW, [KEK], content_alg=ContentAlgorithm.A128CTR)
    for kw in ({}, staged()):
        platform = make_device({"coap://fw.enc": enc.ciphertext})
        _refused(platform, DecryptTransformer([KEK], **kw), params_for(enc.info, digest=False), UnprotectedCipherError)


def test_gcm_without_image_digest_is_gated_by_the_tag() -> None:
    enc = encrypt_payload(FW, [KEK])
    platform = make_device({"coap://fw.enc": enc.ciphertext})
    fetch(platform, DecryptTransformer([KEK], **staged()), params_for(enc.info, digest=False))
    assert platform.content(APP) == FW


def test_direct_mode_failure_erases_the_candidate_slot() -> None:
    """Direct mode streams unauthenticated plaintext into a candidate slot; the failure erases it."""
    enc = encrypt_payload(FW, [KEK])
    platform = make_device({"coap://fw.enc": _flip(enc.ciphertext, 100)})
    with pytest.raises(TagMismatchError):
        fetch(platform, DecryptTransformer([KEK]), params_for(enc.info))
    assert platform.written[APP] > 0 and platform.content(APP) is None


def test_direct_mode_can_check_the_digest_too() -> None:
    enc = encrypt_payload(FW, [KEK], content_alg=ContentAlgorithm.A128CTR)
    platform = make_device({"coap://fw.enc": enc.ciphertext})
    with pytest.raises(PlaintextDigestError):
        fetch(platform, DecryptTransformer([KEK], verify_digest_direct=True), params_for(enc.info, FW[:-1] + b"x"))
    assert platform.content(APP) is None


def test_no_matching_recipient_and_bad_parameter_types() -> None:
    enc = encrypt_payload(FW, [KEK])
    platform = make_device({"coap://fw.enc": enc.ciphertext})
    _refused(platform, DecryptTransformer([EcdhKey(EC)], **staged()), params_for(enc.info), NoRecipientError)
    _refused(platform, DecryptTransformer([KEK]), {**params_for(enc.info), Param.ENCRYPTION_INFO: "text"},
             EncryptionInfoError)


# --- copy with decryption (draft §5, Figure 4: fetch ciphertext, then copy + decrypt) ----------


def test_copy_decrypts_a_downloaded_component() -> None:
    enc = encrypt_payload(FW, [KEK], content_alg=ContentAlgorithm.A128CTR)
    platform = make_device({"coap://fw.enc": enc.ciphertext})
    platform.fetcher().fetch("coap://fw.enc", platform.open_writer(DOWNLOAD))
    decrypt_copy(platform, APP, DOWNLOAD, params_for(enc.info), DecryptTransformer([KEK], **staged()))
    assert platform.content(APP) == FW and platform.content(DOWNLOAD) == enc.ciphertext


def test_copy_of_a_tampered_download_leaves_the_slot_empty() -> None:
    enc = encrypt_payload(FW, [KEK])
    platform = make_device()
    writer = platform.open_writer(DOWNLOAD)
    writer.write(_flip(enc.ciphertext, 5))
    writer.close()
    with pytest.raises(DecryptionError):
        decrypt_copy(platform, APP, DOWNLOAD, params_for(enc.info), DecryptTransformer([KEK], **staged()))
    assert platform.written.get(APP, 0) == 0 and platform.content(APP) is None


# --- the sink itself -------------------------------------------------------------------------


class Collect:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.closed = False

    def write(self, chunk: bytes) -> None:
        self.chunks.append(chunk)

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("content", list(ContentAlgorithm))
@pytest.mark.parametrize("batch", [1, 1000, 4096, 100_000])
def test_sink_batches_and_flushes_on_close(content: ContentAlgorithm, batch: int) -> None:
    from suitlib.cose.encrypt import decode_encryption_info, open_decryptor, unwrap_cek

    enc = encrypt_payload(FW, [KEK], content_alg=content)
    info = decode_encryption_info(enc.info)
    out = Collect()
    sink = DecryptingSink(open_decryptor(info, unwrap_cek(info, [KEK])), out, batch=batch)
    for i in range(0, len(enc.ciphertext), 1024):
        sink.write(enc.ciphertext[i : i + 1024])
    assert not out.closed
    if batch > len(enc.ciphertext):
        assert out.chunks == []  # everything still buffered
    sink.close()
    assert out.closed and b"".join(out.chunks) == FW and sink.plaintext_size == len(FW)
    assert all(len(c) <= max(batch, 1024) for c in out.chunks)


@pytest.mark.parametrize("content", list(ContentAlgorithm))
@pytest.mark.parametrize("arrival", [1024, 700, 5000])
def test_sink_writes_whole_batches_whatever_the_arrival_size(content: ContentAlgorithm, arrival: int) -> None:
    """Every plaintext write but the last is exactly one batch (page-aligned writes into flash),
    also for A128GCM, whose 16-byte tag the decryptor holds back."""
    from suitlib.cose.encrypt import decode_encryption_info, open_decryptor, unwrap_cek

    enc = encrypt_payload(FW, [KEK], content_alg=content)
    info = decode_encryption_info(enc.info)
    out = Collect()
    sink = DecryptingSink(open_decryptor(info, unwrap_cek(info, [KEK])), out, batch=4096)
    for i in range(0, len(enc.ciphertext), arrival):
        sink.write(enc.ciphertext[i : i + arrival])
    sink.close()
    assert b"".join(out.chunks) == FW
    assert [len(c) for c in out.chunks[:-1]] == [4096] * (len(FW) // 4096)
    assert 0 < len(out.chunks[-1]) <= 4096


def test_sink_refuses_use_after_abort_or_close() -> None:
    from suitlib.cose.encrypt import decode_encryption_info, open_decryptor, unwrap_cek

    enc = encrypt_payload(FW, [KEK])
    info = decode_encryption_info(enc.info)
    sink = DecryptingSink(open_decryptor(info, unwrap_cek(info, [KEK])), Collect())
    sink.write(enc.ciphertext[:100])
    sink.abort()
    with pytest.raises(DecryptionError):
        sink.close()
    with pytest.raises(DecryptionError):
        sink.write(b"more")


from hypothesis import given, strategies as st  # noqa: E402

SMALL = payload(3000, 78)
SMALL_ENC = {alg: encrypt_payload(SMALL, [KEK], content_alg=alg) for alg in ContentAlgorithm}


@given(st.sampled_from(list(ContentAlgorithm)), st.lists(st.integers(1, 700), min_size=1, max_size=30),
       st.integers(1, 5000))
def test_any_chunking_and_batch_gives_the_same_plaintext(content: ContentAlgorithm, cuts: list[int], batch: int) -> None:
    from suitlib.cose.encrypt import decode_encryption_info, open_decryptor, unwrap_cek

    enc = SMALL_ENC[content]
    info = decode_encryption_info(enc.info)
    out = Collect()
    sink = DecryptingSink(open_decryptor(info, unwrap_cek(info, [KEK])), out, batch=batch)
    position, i = 0, 0
    while position < len(enc.ciphertext):
        step = cuts[i % len(cuts)]
        sink.write(enc.ciphertext[position : position + step])
        position += step
        i += 1
    sink.close()
    assert b"".join(out.chunks) == SMALL and out.closed
