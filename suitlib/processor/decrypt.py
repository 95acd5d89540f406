"""Streaming payload decryption between fetch and write (draft-ietf-suit-firmware-encryption §5, §7).

When a component's parameters carry ``suit-parameter-encryption-info`` (19), the processor puts
a :class:`DecryptingSink` in front of the component writer: ciphertext chunks go in as they
arrive, plaintext goes on. The content-encryption key is unwrapped **before** the first byte is
accepted, so a wrong key is refused with nothing written.

Two ways to keep unauthenticated plaintext out of the executable slot:

- ``DIRECT`` (no staging component): plaintext streams into the target writer; a failed GCM tag
  raises, the processor aborts the writer and the component is left erased. Use it when the
  target is a candidate slot that nothing executes before ``image-match`` verifies it (the
  dual-bank layout; the processor refuses to finish an update with an unverified fetched
  component, and refuses to invoke one).
- ``STAGED`` (a staging component is configured): plaintext streams into the staging component
  while the GCM tag and, when the manifest gives one, the image digest are computed; only when
  both verify is the staging content copied into the target, then the staging area is erased.
  A wrong key, a modified ciphertext, tag or encryption info leaves the target without a single
  byte written. Use it when the target is the executable slot itself.

A128CTR has no integrity of its own (RFC 9459): the transformer refuses it unless the
parameters carry ``suit-parameter-image-digest`` (draft §7: it MUST be used), and in staged mode
the digest is the gate.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from suitlib.cose.encrypt import (
    ContentAlgorithm,
    DecryptionKey,
    EncryptionInfo,
    PayloadDecryptor,
    decode_encryption_info,
    open_decryptor,
    unwrap_cek,
)
from suitlib.cose.encrypt_errors import DecryptionError, EncryptionInfoError, PlaintextDigestError
from suitlib.errors import PolicyError, UnsupportedError
from suitlib.processor.platform import ChunkSink, ComponentId, ComponentWriter, Platform

ENCRYPTION_INFO = 19
IMAGE_DIGEST = 3
COPY_CHUNK = 4096
DECRYPT_BATCH = 16384
"""Ciphertext is decrypted in batches of this many bytes (four 4 KiB flash pages). Each cipher
call has a fixed cost (≈ 4 µs for CTR, ≈ 7 µs for GCM in pycryptodome, about what 10 KiB of
ciphertext costs), so fewer, larger calls; the RAM it costs is bounded by the batch (pending
ciphertext plus one batch of plaintext). ``benchmarks/bench_decrypt.py`` compares 4, 16 and
64 KiB."""

DEFAULT_HASHES: Mapping[int, Callable[[], Any]] = {
    -16: hashlib.sha256,
    -43: hashlib.sha384,
    -44: hashlib.sha512,
}


class DecryptMode(enum.Enum):
    DIRECT = "direct"
    STAGED = "staged"


class UnprotectedCipherError(PolicyError):
    """A cipher without integrity (A128CTR) and no image digest to check the plaintext against."""

    default_hint = "add suit-parameter-image-digest of the plaintext to the manifest (draft §7)"


class DigestCheck:
    """Hashes the plaintext as it streams and compares with the expected digest at the end."""

    def __init__(self, factory: Callable[[], Any], expected: bytes) -> None:
        self._hash = factory()
        self._expected = expected

    def update(self, data: bytes) -> None:
        self._hash.update(data)

    def verify(self) -> None:
        actual = self._hash.digest()
        if not hmac.compare_digest(actual, self._expected):
            raise PlaintextDigestError(
                "the decrypted payload does not match suit-parameter-image-digest",
                expected=self._expected, actual=actual,
            )


class StagingArea:
    """A platform component that holds plaintext until it is verified."""

    def __init__(self, platform: Platform, component: ComponentId, *, size_hint: int | None = None) -> None:
        self.platform = platform
        self.component = component
        self.writer: ComponentWriter = platform.open_writer(component, size_hint=size_hint)

    def read(self, offset: int, length: int) -> bytes:
        return self.platform.read(self.component, offset, length)

    def scrub(self) -> None:
        """Erase the staged plaintext (confidentiality at rest, and nothing half-valid left)."""
        self.platform.open_writer(self.component).abort()


class DecryptingSink:
    """A :class:`~suitlib.processor.platform.ChunkSink` that decrypts into ``target``.

    With a ``staging`` area nothing reaches ``target`` until the payload is authenticated
    (GCM tag, and ``digest`` when given); without one, plaintext streams into ``target`` and a
    failure raises so the caller aborts the target writer.
    """

    def __init__(
        self,
        decryptor: PayloadDecryptor,
        target: ChunkSink,
        *,
        staging: StagingArea | None = None,
        digest: DigestCheck | None = None,
        copy_chunk: int = COPY_CHUNK,
        batch: int = DECRYPT_BATCH,
    ) -> None:
        self._decryptor = decryptor
        self._batch = max(1, batch)
        # the decryptor keeps the GCM tag back, so its first feed is that much longer: then
        # every plaintext write is exactly one batch (page-aligned for a flash writer)
        self._due = self._batch + decryptor.holdback
        self._pending = bytearray()
        self._target = target
        self._staging = staging
        self._digest = digest
        self._copy_chunk = copy_chunk
        self._out: ChunkSink = staging.writer if staging is not None else target
        self.plaintext_size = 0
        self._closed = False
        self._aborted = False

    @property
    def mode(self) -> DecryptMode:
        return DecryptMode.STAGED if self._staging is not None else DecryptMode.DIRECT

    def write(self, chunk: bytes) -> None:
        if self._closed:
            raise DecryptionError("write after the decrypting sink was closed")
        pending = self._pending
        pending += chunk
        while len(pending) >= self._due:
            self._flush(self._due)
            self._due = self._batch

    def _flush(self, size: int | None = None) -> None:
        """Decrypt the first ``size`` pending bytes (all of them when None)."""
        pending = self._pending
        with memoryview(pending) as view:
            data = bytes(view[:size])  # pycryptodome is faster on bytes than on a bytearray
        del pending[: len(data)]
        try:
            plaintext = self._decryptor.update(data)
            if plaintext:
                if self._digest is not None:
                    self._digest.update(plaintext)
                self._out.write(plaintext)
                self.plaintext_size += len(plaintext)
        except Exception:  # not PowerLoss: after a cut nothing runs
            self.abort()
            raise

    def close(self) -> None:
        if self._aborted:
            raise DecryptionError("the decrypting sink was aborted; the payload is not complete")
        if self._closed:
            return
        if self._pending:
            self._flush()
        self._closed = True
        try:
            self._decryptor.finalize()
            if self._digest is not None:
                self._digest.verify()
        except Exception:
            self.abort()
            raise
        if self._staging is None:
            self._target.close()
            return
        try:
            self._staging.writer.close()
            self._commit(self._staging)
        except Exception:
            self._staging.scrub()
            raise
        self._staging.scrub()

    def _commit(self, staging: StagingArea) -> None:
        """Copy the verified plaintext from the staging area into the target."""
        offset = 0
        while offset < self.plaintext_size:
            data = staging.read(offset, min(self._copy_chunk, self.plaintext_size - offset))
            if not data:
                raise PlaintextDigestError("the staging area returned less than was written", offset=offset)
            self._target.write(data)
            offset += len(data)
        self._target.close()

    def abort(self) -> None:
        """The transfer failed: erase staged plaintext (the caller aborts the target writer)."""
        self._closed = self._aborted = True
        self._pending.clear()
        if self._staging is not None:
            self._staging.writer.abort()


class DecryptTransformer:
    """A processor transformer: wraps the component writer in a :class:`DecryptingSink` when the
    parameters carry ``suit-parameter-encryption-info``.

    ``keys`` are the device's decryption keys; ``staging`` a component that may hold plaintext
    before it is verified (``STAGED`` mode for every target except the staging component itself).
    """

    handled_parameters = frozenset({ENCRYPTION_INFO})
    """Parameter codes this transformer implements (the processor must not refuse them)."""

    def __init__(
        self,
        keys: Sequence[DecryptionKey],
        *,
        staging: ComponentId | None = None,
        hashes: Mapping[int, Callable[[], Any]] | None = None,
        verify_digest_direct: bool = False,
        batch: int = DECRYPT_BATCH,
    ) -> None:
        self.keys = tuple(keys)
        self.batch = batch
        self.staging = staging
        self.hashes = DEFAULT_HASHES if hashes is None else hashes
        self.verify_digest_direct = verify_digest_direct

    def _digest(self, params: Mapping[int, Any]) -> DigestCheck | None:
        digest = params.get(IMAGE_DIGEST)
        if digest is None:
            return None
        algorithm = getattr(digest, "algorithm", None)
        value = getattr(digest, "value", None)
        if not isinstance(value, bytes) or not isinstance(algorithm, int):
            raise EncryptionInfoError("image-digest is not a SUIT_Digest", path="parameters/image-digest")
        factory = self.hashes.get(algorithm)
        if factory is None:
            raise UnsupportedError(f"digest algorithm {algorithm} is not supported")
        return DigestCheck(factory, value)

    def info(self, params: Mapping[int, Any]) -> EncryptionInfo | None:
        raw = params.get(ENCRYPTION_INFO)
        if raw is None:
            return None
        if not isinstance(raw, (bytes, bytearray)):
            raise EncryptionInfoError("suit-parameter-encryption-info must be a byte string", path="parameters")
        return decode_encryption_info(bytes(raw))

    def __call__(
        self, params: Mapping[int, Any], component: ComponentId, sink: ChunkSink, platform: Platform
    ) -> ChunkSink | None:
        info = self.info(params)
        if info is None:
            return None
        digest = self._digest(params)
        if info.alg is ContentAlgorithm.A128CTR and digest is None:
            raise UnprotectedCipherError("A128CTR payload without suit-parameter-image-digest is refused")
        cek = unwrap_cek(info, self.keys)  # a wrong key stops here, before any write
        decryptor = open_decryptor(info, cek)
        staged = self.staging is not None and tuple(component) != tuple(self.staging)
        if not staged and not self.verify_digest_direct:
            digest = None  # the processor's image-match is the gate
        staging = StagingArea(platform, self.staging) if staged and self.staging is not None else None
        return DecryptingSink(decryptor, sink, staging=staging, digest=digest, batch=self.batch)


def decrypt_copy(
    platform: Platform,
    destination: ComponentId,
    source: ComponentId,
    params: Mapping[int, Any],
    transformer: DecryptTransformer,
    *,
    chunk: int = COPY_CHUNK,
) -> None:
    """suit-directive-copy with encryption-info (draft §5): decrypt ``source`` into ``destination``.

    The ciphertext was fetched into ``source`` (e.g. a download slot); it is read back in chunks
    through the same sink chain a fetch uses. Any failure aborts the destination writer.
    """
    size = platform.size(source)
    if size is None:
        raise EncryptionInfoError("copy source component is empty", path="copy")
    writer = platform.open_writer(destination)
    try:
        sink = transformer(params, destination, writer, platform) or writer
        offset = 0
        while offset < size:
            data = platform.read(source, offset, min(chunk, size - offset))
            if not data:
                raise EncryptionInfoError("copy source shorter than its size", path="copy")
            sink.write(data)
            offset += len(data)
        sink.close()
    except Exception:
        writer.abort()
        raise


__all__ = [
    "DecryptMode", "DecryptTransformer", "DecryptingSink", "DigestCheck", "StagingArea",
    "UnprotectedCipherError", "decrypt_copy",
]
