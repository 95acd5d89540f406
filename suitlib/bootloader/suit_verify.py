"""Boot-time verification through a signed SUIT envelope (draft-ietf-suit-manifest-34 §8.4.6
invocation procedure: authenticate, then the shared, validate and invoke sequences).

The slot image is presented to the manifest processor as the content of one component; the
envelope must authenticate against the trust anchors, its shared sequence must match the
device's vendor and class, its validate sequence must image-match the slot's bytes, and its
invoke sequence must invoke that component. The manifest sequence number is the security
counter the bootloader's anti-rollback check uses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from suitlib.bootloader.verify import Verdict
from suitlib.errors import InputError, SuitError
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
    encode_envelope,
    with_authentication,
)
from suitlib.manifest.auth import sign_envelope
from suitlib.processor import InMemoryPlatform, Processor
from suitlib.processor.program import Cmd, Param

SHA256 = -16


def _seq(*pairs: Any) -> CommandSequence:
    return CommandSequence(tuple(Command(int(pairs[i]), Parameters(pairs[i + 1])
                                         if isinstance(pairs[i + 1], dict) else pairs[i + 1])
                                 for i in range(0, len(pairs), 2)))


class SuitVerifier:
    """An :class:`~suitlib.bootloader.verify.ImageVerifier` backed by the SUIT processor."""

    def __init__(self, trust_anchors: Sequence[Any], *, vendor_id: bytes, class_id: bytes,
                 component: tuple[bytes, ...] = (b"\x00",), others: Sequence[tuple[bytes, ...]] = (),
                 signer: Any = None) -> None:
        """``component`` is the id the slot image has in the manifests; ``others`` are further
        component ids the device's manifests may name (e.g. a delta's source), presented empty."""
        self.trust_anchors = list(trust_anchors)
        self.vendor_id = vendor_id
        self.class_id = class_id
        self.component = component
        self.others = tuple(others)
        self.signer = signer

    def verify(self, image: bytes, envelope: bytes) -> Verdict:
        platform = InMemoryPlatform.simple(vendor_id=self.vendor_id, class_id=self.class_id,
                                           components=(self.component, *self.others),
                                           contents={self.component: image})
        try:
            result = Processor(platform, self.trust_anchors).invoke(envelope)
        except SuitError as exc:  # defensive: the processor reports errors in its result
            return Verdict(False, reason=exc.message)
        counter = result.sequence_number or 0
        if not result.ok:
            assert result.error is not None
            return Verdict(False, counter, reason=result.error.message)
        if not any(tuple(getattr(entry[1], "parts", entry[1])) == tuple(self.component)
                   for entry in platform.actions("invoke")):
            # a manifest that validates the image but never invokes it does not authorise a boot
            return Verdict(False, counter, reason="the envelope's invoke sequence does not invoke the image")
        return Verdict(True, counter)

    def make_envelope(self, image: bytes, security_counter: int) -> bytes:
        """A signed envelope for ``image`` (host side: needs the ``signer``)."""
        if self.signer is None:
            raise InputError("making a SUIT envelope needs a signer")
        ids = {Param.VENDOR_IDENTIFIER: self.vendor_id, Param.CLASS_IDENTIFIER: self.class_id}
        manifest = Manifest(
            sequence_number=security_counter,
            common=Common(
                components=(ComponentId(self.component),),
                shared_sequence=_seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS, ids,
                                     Cmd.CONDITION_VENDOR_IDENTIFIER, 15,
                                     Cmd.CONDITION_CLASS_IDENTIFIER, 15),
            ),
            validate=_seq(Cmd.DIRECTIVE_OVERRIDE_PARAMETERS,
                          {Param.IMAGE_DIGEST: Digest(SHA256, hashlib.sha256(image).digest()),
                           Param.IMAGE_SIZE: len(image)},
                          Cmd.CONDITION_IMAGE_MATCH, 15),
            invoke=_seq(Cmd.DIRECTIVE_INVOKE, 2),
        )
        env = with_authentication(Envelope(AuthenticationWrapper(Digest(SHA256, b"\0" * 32)), manifest))
        return encode_envelope(sign_envelope(env, self.signer))
