"""Shared helpers of the processor tests: the examples' identities, test devices, hash engines."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from suitlib.cose import KeySigner, SymmetricKey, load_private_pem, load_public_pem
from suitlib.manifest import (
    AuthenticationWrapper,
    Command,
    CommandSequence,
    Common,
    ComponentId,
    Digest,
    Envelope,
    Manifest,
    Parameters,
    TryEach,
    encode_envelope,
    with_authentication,
)
from suitlib.manifest.auth import sign_envelope
from suitlib.manifest.model import frozen_map
from suitlib.processor.memory import InMemoryPlatform
from suitlib.processor.processor import (  # INVOCATION, UPDATE: re-exported for the tests
    INVOCATION,
    UPDATE,
    Processor,
    ProcessorPolicy,
    ProcessResult,
)
from suitlib.processor.program import Cmd, Param
from tests.conftest import VECTORS  # honours SUITLIB_SHARED


VENDOR_ID = bytes.fromhex("fa6b4a53d5ad5fdfbe9de663e4d41ffe")  # UUIDv5(DNS, "arm.com")
CLASS_ID = bytes.fromhex("1492af1425695e48bf429b2d51f2ab45")  # UUIDv5(vendor, "suit")
FAKE_DIGEST_A = bytes.fromhex("00112233445566778899aabbccddeeff0123456789abcdeffedcba9876543210")
FAKE_DIGEST_B = bytes.fromhex("0123456789abcdeffedcba987654321000112233445566778899aabbccddeeff")
SIZE_A = 34768
SIZE_B = 76834
C0, C1, C2 = (b"\x00",), (b"\x01",), (b"\x02",)


def payload(size: int, seed: int) -> bytes:
    """Deterministic test payload bytes."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(bytes([seed]) + counter.to_bytes(4, "big")).digest()
        counter += 1
    return bytes(out[:size])


PAYLOAD_A = payload(SIZE_A, 1)
PAYLOAD_B = payload(SIZE_B, 2)


class PlaceholderSha256:
    """A SHA-256 engine that reports the spec examples' placeholder digests for known bytes.

    The examples' image digests (``00112233…``, ``01234567…``) are placeholders that no content
    hashes to. This engine stands in for a device hash engine: for exactly the bytes listed in
    ``table`` it returns the placeholder; for anything else, the real SHA-256. Tests that check
    failure paths use real content (and the real engine).
    """

    def __init__(self, table: Mapping[bytes, bytes]) -> None:
        self._table = table
        self._data = bytearray()

    def update(self, chunk: bytes) -> None:
        self._data += chunk

    def digest(self) -> bytes:
        data = bytes(self._data)
        return self._table.get(data) or hashlib.sha256(data).digest()


def placeholder_hashes(table: Mapping[bytes, bytes]) -> dict[int, Any]:
    return {-16: lambda: PlaceholderSha256(table)}


EXAMPLE_TABLE = {PAYLOAD_A: FAKE_DIGEST_A, PAYLOAD_B: FAKE_DIGEST_B}


def vector(name: str) -> bytes:
    return (VECTORS / name).read_bytes()


def device(components=(C0,), **kw: Any) -> InMemoryPlatform:
    kw.setdefault("vendor_id", VENDOR_ID)
    kw.setdefault("class_id", CLASS_ID)
    return InMemoryPlatform.simple(components=components, **kw)


def spec_public_key() -> Any:
    """The P-256 key that verifies the signed spec examples."""
    return load_public_pem(vector("public_key.pem"))


def run_envelope(
    envelope: bytes,
    platform: InMemoryPlatform,
    procedure: str = UPDATE,
    *,
    hashes: Mapping[int, Any] | None = None,
    policy: ProcessorPolicy | None = None,
    trust_anchors: Any = None,
) -> ProcessResult:
    """Authenticate and process an envelope on ``platform`` (spec key by default)."""
    anchors = [spec_public_key()] if trust_anchors is None else trust_anchors
    processor = Processor(platform, anchors, policy=policy or ProcessorPolicy(), hashes=hashes)
    return processor.update(envelope) if procedure == UPDATE else processor.invoke(envelope)




# --- building our own envelopes (real digests) ----------------------------------------------


def spec_signer() -> KeySigner:
    """Signs with the spec's published test key (verifies with :func:`spec_public_key`)."""
    return KeySigner(load_private_pem(vector("private_key.pem")))


MAC_KEY = SymmetricKey(b"k" * 32)


def seq(*pairs: Any) -> CommandSequence:
    """``seq(code, arg, code, arg, …)`` with dict arguments turned into Parameters."""
    commands = []
    for i in range(0, len(pairs), 2):
        code, arg = pairs[i], pairs[i + 1]
        if isinstance(arg, dict):
            arg = Parameters(arg)
        commands.append(Command(int(code), arg))
    return CommandSequence(tuple(commands))


def try_each(*alternatives: CommandSequence, empty_allowed: bool = False) -> TryEach:
    return TryEach(tuple(alternatives), empty_allowed)


def sha256(data: bytes) -> Digest:
    return Digest(-16, hashlib.sha256(data).digest())


def identity_checks(params: Mapping[int, Any] | None = None, *extra: Any) -> CommandSequence:
    """The compatibility-check template (§7.1): override vendor/class (plus ``params``), check
    both, then the ``extra`` code/argument pairs."""
    values: dict[int, Any] = {Param.VENDOR_IDENTIFIER: VENDOR_ID, Param.CLASS_IDENTIFIER: CLASS_ID}
    values.update(params or {})
    return seq(
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, values,
        Cmd.CONDITION_VENDOR_IDENTIFIER, 15,
        Cmd.CONDITION_CLASS_IDENTIFIER, 15,
        *extra,
    )


def build(
    *,
    sequence_number: int = 1,
    components: tuple[tuple[bytes, ...], ...] = (C0,),
    shared: CommandSequence | None = None,
    signer: Any = "spec",
    integrated: Mapping[str, bytes] | None = None,
    **sections: CommandSequence,
) -> bytes:
    """Encode (and sign) an envelope; ``sections`` by Manifest field name (install=…, validate=…)."""
    manifest = Manifest(
        sequence_number=sequence_number,
        common=Common(
            components=tuple(ComponentId(tuple(c)) for c in components),
            shared_sequence=shared if shared is not None else identity_checks(),
        ),
        **sections,
    )
    env = Envelope(AuthenticationWrapper(Digest(-16, b"\0" * 32)), manifest, integrated=frozen_map(integrated or {}))
    env = with_authentication(env)
    if signer == "spec":
        signer = spec_signer()
    signers = signer if isinstance(signer, (list, tuple)) else [] if signer is None else [signer]
    for one in signers:
        env = sign_envelope(env, one, mode="append")
    return encode_envelope(env)


def install_of(uri: str, data: bytes, **extra: Any) -> CommandSequence:
    """override{uri, digest, size} + fetch + image-match for component 0."""
    params = {Param.URI: uri, Param.IMAGE_DIGEST: sha256(data), Param.IMAGE_SIZE: len(data)}
    params.update(extra)
    return seq(
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, params,
        Cmd.DIRECTIVE_FETCH, 2,
        Cmd.CONDITION_IMAGE_MATCH, 15,
    )


def validate_of(data: bytes) -> CommandSequence:
    return seq(
        Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, {Param.IMAGE_DIGEST: sha256(data), Param.IMAGE_SIZE: len(data)},
        Cmd.CONDITION_IMAGE_MATCH, 15,
    )


INVOKE = seq(Cmd.DIRECTIVE_INVOKE, 2)


def processor(platform: InMemoryPlatform, anchors: Any = None, **kw: Any) -> Processor:
    return Processor(platform, [spec_public_key()] if anchors is None else anchors, **kw)

URI_LONG_EXAMPLE2 = "http://example.com/very/long/path/to/file/file.bin"
