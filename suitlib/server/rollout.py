"""Staged rollout: which devices a campaign reaches, deterministically per device.

A device is in a campaign at ``percent`` if its bucket — the first four bytes of
SHA-256(campaign key ‖ device id) modulo 100 — is below ``percent``. The bucket depends only
on the campaign and the device, so raising the percentage keeps every device already in.
"""

from __future__ import annotations

import hashlib


def bucket(campaign_key: str, device_id: str) -> int:
    digest = hashlib.sha256(f"{campaign_key}\0{device_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100


def in_rollout(campaign_key: str, device_id: str | None, percent: int) -> bool:
    """True if ``device_id`` gets the campaign (anonymous requests only at 100 %)."""
    if percent >= 100:
        return True
    if device_id is None or percent <= 0:
        return False
    return bucket(campaign_key, device_id) < percent
