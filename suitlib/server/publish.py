"""Publishing: put an envelope (and its payloads) into the store and start a campaign.

The class id and sequence number are read from the envelope (draft-ietf-suit-manifest-34
§8.4.8.2 suit-parameter-class-identifier in the shared sequence, §8.4.3 sequence number);
an explicit class overrides, and is required when the envelope names no class.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from suitlib.errors import InputError
from suitlib.limits import DEFAULT_LIMITS, Limits
from suitlib.server.db import UpdateDB, normalize_class
from suitlib.server.store import ContentStore

CLASS_IDENTIFIER = 2  # suit-parameter-class-identifier


@dataclass(frozen=True)
class Published:
    envelope: str
    class_id: str
    sequence: int | None
    payloads: tuple[str, ...]
    campaign: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "envelope": self.envelope,
            "class_id": self.class_id,
            "sequence": self.sequence,
            "payloads": list(self.payloads),
            "campaign": self.campaign,
            "manifest_path": f"/suit/manifest/{self.class_id}",
            "payload_paths": [f"/suit/payload/{p}" for p in self.payloads],
        }


def _class_ids(seq: Any, out: list[bytes]) -> None:
    from suitlib.manifest.model import Parameters, TryEach

    for cmd in seq or ():
        arg = cmd.argument
        if isinstance(arg, Parameters) and CLASS_IDENTIFIER in arg:
            value = arg[CLASS_IDENTIFIER]
            if isinstance(value, (bytes, bytearray)) and len(value) == 16:
                out.append(bytes(value))
        elif isinstance(arg, TryEach):
            for sub in arg.sequences:
                _class_ids(sub, out)


def read_envelope(data: bytes, limits: Limits = DEFAULT_LIMITS) -> tuple[str | None, int]:
    """(class id or None, sequence number) of a SUIT envelope (raises DecodeError)."""
    from suitlib.manifest import decode_envelope

    env = decode_envelope(data, limits=limits)
    found: list[bytes] = []
    _class_ids(env.manifest.common.shared_sequence, found)
    classes = sorted(set(found))
    class_id = str(uuid.UUID(bytes=classes[0])) if len(classes) == 1 else None
    return class_id, int(env.manifest.sequence_number)


def publish(
    store: ContentStore,
    db: UpdateDB,
    envelope: bytes,
    *,
    payloads: tuple[bytes, ...] = (),
    class_id: str | None = None,
    device_id: str | None = None,
    percent: int = 100,
    limits: Limits = DEFAULT_LIMITS,
) -> Published:
    """Store the envelope and payloads, record the envelope, add a campaign."""
    found_class, sequence = read_envelope(envelope, limits)
    chosen = class_id or found_class
    if chosen is None:
        raise InputError(
            "the envelope names no single class identifier",
            hint="pass --class UUID",
        )
    chosen = normalize_class(chosen)
    digests = tuple(store.put("payloads", p) for p in payloads)
    env_digest = store.put("envelopes", envelope)
    db.add_envelope(env_digest, chosen, sequence, len(envelope))
    campaign = db.add_campaign(env_digest, chosen, device_id, percent)
    return Published(env_digest, chosen, sequence, digests, campaign)
