"""A power-safe store for the trust policy on NOR flash: two banks, sequence number, digest.

Each bank (whole erase sectors) holds at most one record::

    offset 0   magic "SUTA"          4 bytes
           4   format 1, 0, 0, 0     4 bytes
           8   sequence number       8 bytes, big-endian
          16   payload length        4 bytes, big-endian
          20   payload               the TrustPolicy record (CBOR)
      20 + n   SHA-256 of bytes [0, 20 + n)
               padding with the erase value up to the write unit

A record is valid only if its magic, length and digest hold and its payload decodes as a
policy; the valid record with the highest sequence number is the current policy. A commit
erases the *other* bank, programs the new record there (sequence number + 1) and reads it
back; the current record is never touched. A power cut at any point therefore leaves either
the old record (the new one is absent, torn or partly erased: its digest fails) or the new one,
never none and never a mix. Every write unit is programmed once after its erase, so the layout
suits write-once (ECC) flash too.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass

from suitlib.errors import FlashError, SuitError
from suitlib.flash.interface import FlashDevice
from suitlib.limits import DEFAULT_LIMITS, Limits
from suitlib.trust.errors import AnchorStoreError
from suitlib.trust.policy import MAX_POLICY_SIZE, TrustPolicy

MAGIC = b"SUTA"
FORMAT = 1
HEADER = struct.Struct(">4sB3xQI")
DIGEST_SIZE = 32
PROGRAM_CHUNK = 256


@dataclass(frozen=True)
class StoredPolicy:
    """A valid record: which bank, its sequence number and the policy it holds."""

    bank: int
    sequence: int
    policy: TrustPolicy


def encode_record(sequence: int, payload: bytes, write_unit: int, erase_value: int) -> bytes:
    """The bytes of one record, padded to ``write_unit``."""
    body = HEADER.pack(MAGIC, FORMAT, sequence, len(payload)) + payload
    record = body + hashlib.sha256(body).digest()
    pad = -len(record) % write_unit
    return record + bytes([erase_value]) * pad


class AnchorStore:
    """The device's trust policy in two flash banks (see the module docstring)."""

    def __init__(self, flash: FlashDevice, offset: int, bank_size: int, *, limits: Limits = DEFAULT_LIMITS) -> None:
        self.flash = flash
        self.limits = limits
        self.banks = (offset, offset + bank_size)
        self.bank_size = bank_size
        for start in self.banks:
            end = start + bank_size
            first, last = flash.sector_at(start), flash.sector_at(end - 1)
            if first.offset != start or last.end != end:
                raise AnchorStoreError(f"bank [{start:#x}, {end:#x}) does not cover whole sectors",
                                       hint="place each bank on erase-sector boundaries")
        if bank_size < HEADER.size + DIGEST_SIZE + 64:
            raise AnchorStoreError(f"bank of {bank_size} bytes is too small for a trust policy")

    @property
    def capacity(self) -> int:
        """Largest policy record a bank holds."""
        return min(self.bank_size - HEADER.size - DIGEST_SIZE - self.flash.write_unit, MAX_POLICY_SIZE)

    # --- reading ----------------------------------------------------------------------------
    def read_bank(self, bank: int) -> StoredPolicy | None:
        """The valid record of ``bank``, or None (empty, torn, corrupt or unreadable)."""
        start = self.banks[bank]
        try:
            header = self.flash.read(start, HEADER.size)
            magic, fmt, sequence, length = HEADER.unpack(header)
            if magic != MAGIC or fmt != FORMAT or length > self.capacity:
                return None
            rest = self.flash.read(start + HEADER.size, length + DIGEST_SIZE)
        except FlashError:
            return None
        payload, digest = rest[:length], rest[length:]
        if not hmac.compare_digest(hashlib.sha256(header + payload).digest(), digest):
            return None
        try:
            policy = TrustPolicy.decode(payload, limits=self.limits)
        except SuitError:
            return None
        return StoredPolicy(bank, sequence, policy)

    def current(self) -> StoredPolicy | None:
        """The valid record with the highest sequence number, or None on a blank store."""
        records = [r for r in (self.read_bank(0), self.read_bank(1)) if r is not None]
        return max(records, key=lambda r: r.sequence, default=None)

    def load(self) -> TrustPolicy:
        """The current trust policy; :class:`AnchorStoreError` if no bank holds a valid one."""
        record = self.current()
        if record is None:
            raise AnchorStoreError("the anchor store holds no valid trust policy")
        return record.policy

    # --- writing ----------------------------------------------------------------------------
    def commit(self, policy: TrustPolicy) -> StoredPolicy:
        """Write ``policy`` as the new current record (power-safe; see the module docstring).

        :class:`PowerLoss` from the flash propagates; after the power comes back, :meth:`load`
        returns either the previous policy or ``policy``.
        """
        payload = policy.encode()
        if len(payload) > self.capacity:
            raise AnchorStoreError(f"trust policy of {len(payload)} bytes exceeds the bank capacity {self.capacity}")
        current = self.current()
        target = 0 if current is None else 1 - current.bank
        sequence = 1 if current is None else current.sequence + 1
        record = encode_record(sequence, payload, self.flash.write_unit, self.flash.erase_value)
        start = self.banks[target]
        self.flash.erase(start, self.bank_size)
        chunk = max(self.flash.write_unit, PROGRAM_CHUNK - PROGRAM_CHUNK % self.flash.write_unit)
        for offset in range(0, len(record), chunk):
            self.flash.program(start + offset, record[offset:offset + chunk])
        written = self.read_bank(target)
        if written is None or written.sequence != sequence or written.policy != policy:
            raise AnchorStoreError("the new trust policy did not read back; the previous one stays in force")
        return written

    def provision(self, policy: TrustPolicy) -> StoredPolicy:
        """First policy of a blank device (the factory step); refuses to overwrite a policy."""
        if self.current() is not None:
            raise AnchorStoreError("the anchor store already holds a trust policy",
                                   hint="replace it with a signed policy update instead")
        return self.commit(policy)


class MemoryPolicyStore:
    """A policy store without flash (tests, host tools): the same interface as :class:`AnchorStore`."""

    def __init__(self, policy: TrustPolicy) -> None:
        self.policy = policy

    def load(self) -> TrustPolicy:
        return self.policy

    def commit(self, policy: TrustPolicy) -> None:
        self.policy = policy


__all__ = ["AnchorStore", "MemoryPolicyStore", "StoredPolicy", "encode_record"]
