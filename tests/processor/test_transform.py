"""The fetch pipeline: a transformer between the transfer and the component (where a delta
applier sits), with the image digest checked on what was written."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

from suitlib.errors import DigestMismatchError, LimitExceededError, SuitError
from suitlib.processor.platform import ChunkSink, ComponentId, Platform
from suitlib.processor.program import Cmd, Param
from tests.processor.support import C0, build, device, payload, processor, seq, sha256

TEST_COMPRESSION = -70000  # a private-use parameter of this test only
FW = payload(20_000, 220) + bytes(20_000)  # compressible


class Inflate:
    """A streaming zlib decoder that writes the image into the next sink."""

    def __init__(self, inner: ChunkSink) -> None:
        self._inner = inner
        self._z = zlib.decompressobj()

    def write(self, chunk: bytes) -> None:
        self._inner.write(self._z.decompress(chunk))

    def close(self) -> None:
        self._inner.write(self._z.flush())
        self._inner.close()


def inflate(params: Mapping[int, Any], component: ComponentId, sink: ChunkSink, platform: Platform) -> ChunkSink | None:
    return Inflate(sink) if params.get(TEST_COMPRESSION) == "zlib" else None


def envelope(image: bytes) -> bytes:
    install = seq(
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS,
        {Param.URI: "coap://fw.z", Param.IMAGE_DIGEST: sha256(image), Param.IMAGE_SIZE: len(image),
         TEST_COMPRESSION: "zlib"},
        Cmd.DIRECTIVE_FETCH, 2,
        Cmd.CONDITION_IMAGE_MATCH, 15,
    )
    return build(install=install)


def test_the_image_is_produced_while_fetching_and_then_verified() -> None:
    platform = device(resources={"coap://fw.z": zlib.compress(FW)})
    result = processor(platform, transformers=(inflate,)).update(envelope(FW))
    assert result.ok, result.error
    assert platform.content(C0) == FW
    assert platform.actions("write") == [("write", C0, len(FW))]


def test_a_transformer_producing_the_wrong_image_is_caught_by_the_digest() -> None:
    other = FW[:-1] + b"\x01"
    platform = device(resources={"coap://fw.z": zlib.compress(other)})
    result = processor(platform, transformers=(inflate,)).update(envelope(FW))
    assert isinstance(result.error, DigestMismatchError)


def test_output_beyond_image_size_is_refused_even_from_a_small_transfer() -> None:
    bomb = zlib.compress(bytes(10_000_000))  # ~10 KB that inflates to 10 MB
    platform = device(resources={"coap://fw.z": bomb})
    result = processor(platform, transformers=(inflate,)).update(envelope(FW))
    assert isinstance(result.error, LimitExceededError)
    assert platform.content(C0) is None


def test_a_broken_stream_fails_with_a_suit_error() -> None:
    platform = device(resources={"coap://fw.z": b"not zlib at all"})
    result = processor(platform, transformers=(inflate,)).update(envelope(FW))
    assert isinstance(result.error, SuitError)
    assert platform.content(C0) is None


def test_without_the_transformer_the_compressed_bytes_never_pass() -> None:
    platform = device(resources={"coap://fw.z": zlib.compress(FW)})
    result = processor(platform).update(envelope(FW))
    assert isinstance(result.error, DigestMismatchError)
