"""The manufacturer side of the journey: identities, envelopes and patches for simulated motes.

An envelope for a mote (draft-ietf-suit-manifest-34 §8) installs into component ``[00]`` — the
staging slot of the dual-bank layout — and has:

* a shared sequence that sets vendor, class, image digest and image size and checks vendor
  and class (§6.2: compatibility first);
* ``suit-install``: set the URI (``/suit/payload/<sha256-hex>`` of the payload, resolved
  against the update server the mote talks to, or an absolute ``coap://`` URI), fetch,
  image-match;
* ``suit-validate``: image-match.

A delta payload (specs/SUIT-PROFILE.md §8) lists a second component, ``[01]`` — the running
image, the patch source — and sets, next to the URI of the staging slot, the private-use
parameters :data:`DELTA_FORMAT` (-257), :data:`DELTA_SOURCE_COMPONENT` (-258, index of ``[01]``)
and :data:`DELTA_SOURCE_DIGEST` (-259, SHA-256 of the old image). The mote's delta transformer
claims them, checks the running image against -259 before anything is fetched, and streams the
patch through the flash delta applier; the image digest is still the digest of the full new
image, checked on what was written.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from suitlib.cose import KeySigner, PrivateKey
from suitlib.manifest import build_envelope, encode_envelope
from suitlib.manifest.auth import sign_envelope
from suitlib.processor.delta import DELTA_FORMAT, DELTA_SOURCE_COMPONENT, DELTA_SOURCE_DIGEST, FORMAT_SUITLIB_V1

DELTA_FORMAT_SUITLIB = FORMAT_SUITLIB_V1
"""The value of :data:`DELTA_FORMAT` for a suitlib streaming patch (specs/DELTA-FORMAT.md)."""
STAGING_ID = "00"
"""Component 0: the staging slot, where every release installs its image."""
RUNNING_ID = "01"
"""Component 1 of a delta release: the running image (primary slot), the patch source."""
SHA256 = -16

VENDOR_NAMESPACE = uuid.NAMESPACE_DNS
VENDOR_NAME = "suitlib.example"


def vendor_id() -> uuid.UUID:
    """The simulated vendor: UUIDv5(DNS, "suitlib.example") (§8.4.8.3)."""
    return uuid.uuid5(VENDOR_NAMESPACE, VENDOR_NAME)


def class_id(device_class: str) -> uuid.UUID:
    """A device class: UUIDv5(vendor id, class name), e.g. the profile name (§8.4.8.4)."""
    return uuid.uuid5(vendor_id(), device_class)


def payload_path(payload: bytes) -> str:
    """Where the update server serves a payload: ``/suit/payload/<sha256-hex>``."""
    return "/suit/payload/" + hashlib.sha256(payload).hexdigest()


@dataclass(frozen=True)
class Release:
    """One signed envelope and the payload it points at."""

    envelope: bytes
    payload: bytes
    image: bytes
    sequence: int
    delta: bool

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.envelope).hexdigest()


def make_spec(image: bytes, sequence: int, device_class: str, uri: str, *, delta: bool,
              image_digest: bytes | None = None, class_uuid: uuid.UUID | None = None,
              source_digest: bytes | None = None) -> dict[str, Any]:
    """The manifest spec (specs/MANIFEST-SPEC-FORMAT.md) of one release; a delta release needs
    ``source_digest``, the SHA-256 of the image the patch applies to."""
    install_params: dict[str, Any] = {"suit-parameter-uri": uri}
    components = [[STAGING_ID]]
    if delta:
        if source_digest is None:
            raise ValueError("a delta release needs the source image digest")
        components.append([RUNNING_ID])
        install_params[str(DELTA_FORMAT)] = DELTA_FORMAT_SUITLIB
        install_params[str(DELTA_SOURCE_COMPONENT)] = 1
        install_params[str(DELTA_SOURCE_DIGEST)] = [SHA256, {"bstr": source_digest.hex()}]
    digest = image_digest if image_digest is not None else hashlib.sha256(image).digest()
    return {
        "suit-manifest": {
            "suit-manifest-version": 1,
            "suit-manifest-sequence-number": sequence,
            "suit-common": {
                "suit-components": components,
                "suit-shared-sequence": [
                    {"suit-directive-override-parameters": {
                        "suit-parameter-vendor-identifier": str(vendor_id()),
                        "suit-parameter-class-identifier": str(class_uuid or class_id(device_class)),
                        "suit-parameter-image-digest": {"suit-digest-algorithm-id": -16,
                                                        "suit-digest-bytes": digest.hex()},
                        "suit-parameter-image-size": len(image),
                    }},
                    {"suit-condition-vendor-identifier": 15},
                    {"suit-condition-class-identifier": 15},
                ],
            },
            "suit-validate": [{"suit-condition-image-match": 15}],
            "suit-invoke": [{"suit-directive-invoke": 2}],
            "suit-install": [
                {"suit-directive-override-parameters": install_params},
                {"suit-directive-fetch": 2},
                {"suit-condition-image-match": 15},
            ],
        }
    }


def sign(spec: dict[str, Any], key: PrivateKey) -> bytes:
    """Build and sign (COSE_Sign1, the key's default algorithm) an envelope from a spec."""
    env = build_envelope(spec)
    return encode_envelope(sign_envelope(env, KeySigner(key)))


def full_release(image: bytes, sequence: int, device_class: str, key: PrivateKey, *,
                 uri: str | None = None, **kw: Any) -> Release:
    """A release whose payload is the whole image."""
    spec = make_spec(image, sequence, device_class, uri or payload_path(image), delta=False, **kw)
    return Release(sign(spec, key), image, image, sequence, False)


def delta_release(old: bytes, new: bytes, sequence: int, device_class: str, key: PrivateKey, *,
                  patch: bytes | None = None, ram: int | None = None, **kw: Any) -> Release:
    """A release whose payload is a patch from ``old`` to ``new`` (made here unless given)."""
    if patch is None:
        patch = make_patch(old, new, ram=ram)
    source_digest = kw.pop("source_digest", None) or hashlib.sha256(old).digest()
    spec = make_spec(new, sequence, device_class, payload_path(patch), delta=True,
                     source_digest=source_digest, **kw)
    return Release(sign(spec, key), patch, new, sequence, True)


def make_patch(old: bytes, new: bytes, *, ram: int | None = None) -> bytes:
    """A sequential streaming patch (suitlib.delta) within the device's applier RAM."""
    from suitlib.delta import CreateOptions, create_patch

    options = CreateOptions() if ram is None else CreateOptions(ram=ram)
    return create_patch(old, new, options)
