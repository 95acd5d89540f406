"""Power-safe records on NOR flash (two banks, sequence number, digest): the trust policy and
the per-component anti-rollback numbers.

Each bank (whole erase sectors) holds at most one record::

    offset 0   magic "SUTA"          4 bytes
           4   format 1, 0, 0, 0     4 bytes
           8   sequence number       8 bytes, big-endian
          16   payload length        4 bytes, big-endian
          20   payload               the record (CBOR: a TrustPolicy, or the counter table)
      20 + n   SHA-256 of bytes [0, 20 + n)
               padding with the erase value up to the write unit

A record is valid only if its magic, length and digest hold and its payload decodes; the valid
record with the highest sequence number is the current one. A commit erases the *other* bank, programs the new record there (sequence number + 1) and reads it
back; the current record is never touched. A power cut at any point therefore leaves either
the old record (the new one is absent, torn or partly erased: its digest fails) or the new one,
never none and never a mix. A bank must read the same twice to count, so bits a torn program
left unstable cannot make a record flicker into validity. Every write unit is programmed once after its erase, so the layout
suits write-once (ECC) flash too.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from suitlib.cbor import decode, encode
from suitlib.errors import DecodeError, FlashError, SuitError
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
class StoredRecord:
    """A valid record: which bank, its sequence number and the value it holds."""

    bank: int
    sequence: int
    value: Any


def encode_record(sequence: int, payload: bytes, write_unit: int, erase_value: int) -> bytes:
    """The bytes of one record, padded to ``write_unit``."""
    body = HEADER.pack(MAGIC, FORMAT, sequence, len(payload)) + payload
    record = body + hashlib.sha256(body).digest()
    pad = -len(record) % write_unit
    return record + bytes([erase_value]) * pad


class BankedStore:
    """One small record, power-safe in two flash banks (see the module docstring).

    Subclasses say what a payload is (:meth:`decode`); a payload that does not decode makes its
    bank invalid, like a torn one.
    """

    what = "record"

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
            raise AnchorStoreError(f"bank of {bank_size} bytes is too small for a {self.what}")

    def decode(self, payload: bytes) -> Any:
        """The value a payload holds; raise :class:`SuitError` if it is not one."""
        raise NotImplementedError

    @property
    def capacity(self) -> int:
        """Largest payload a bank holds."""
        return min(self.bank_size - HEADER.size - DIGEST_SIZE - self.flash.write_unit, MAX_POLICY_SIZE)

    # --- reading ----------------------------------------------------------------------------
    def read_bank(self, bank: int) -> StoredRecord | None:
        """The valid record of ``bank``, or None (empty, torn, corrupt or unreadable)."""
        start = self.banks[bank]
        try:
            header = self.flash.read(start, HEADER.size)
            magic, fmt, sequence, length = HEADER.unpack(header)
            if magic != MAGIC or fmt != FORMAT or length > self.capacity:
                return None
            rest = self.flash.read(start + HEADER.size, length + DIGEST_SIZE)
            # bits left unstable by a torn program read differently each time: a record must
            # read the same twice to count (it is small; the second read is cheap)
            if self.flash.read(start, HEADER.size + len(rest)) != header + rest:
                return None
        except FlashError:
            return None
        payload, digest = rest[:length], rest[length:]
        if not hmac.compare_digest(hashlib.sha256(header + payload).digest(), digest):
            return None
        try:
            value = self.decode(payload)
        except SuitError:
            return None
        return StoredRecord(bank, sequence, value)

    def current(self) -> StoredRecord | None:
        """The valid record with the highest sequence number, or None on a blank store."""
        records = [r for r in (self.read_bank(0), self.read_bank(1)) if r is not None]
        return max(records, key=lambda r: r.sequence, default=None)

    # --- writing ----------------------------------------------------------------------------
    def write(self, payload: bytes, expected: Any) -> StoredRecord:
        """Write ``payload`` as the new current record (power-safe; see the module docstring).

        :class:`PowerLoss` from the flash propagates; after the power comes back the store
        holds either the previous record or this one.
        """
        if len(payload) > self.capacity:
            raise AnchorStoreError(f"{self.what} of {len(payload)} bytes exceeds the bank capacity {self.capacity}")
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
        if written is None or written.sequence != sequence or written.value != expected:
            raise AnchorStoreError(f"the new {self.what} did not read back; the previous one stays in force")
        return written


class AnchorStore(BankedStore):
    """The device's trust policy on flash."""

    what = "trust policy"

    def decode(self, payload: bytes) -> TrustPolicy:
        return TrustPolicy.decode(payload, limits=self.limits)

    def load(self) -> TrustPolicy:
        """The current trust policy; :class:`AnchorStoreError` if no bank holds a valid one."""
        record = self.current()
        if record is None:
            raise AnchorStoreError("the anchor store holds no valid trust policy")
        return record.value  # type: ignore[no-any-return]

    def commit(self, policy: TrustPolicy) -> StoredRecord:
        """Make ``policy`` the current one (power-safe)."""
        return self.write(policy.encode(), policy)

    def provision(self, policy: TrustPolicy) -> StoredRecord:
        """First policy of a blank device (the factory step); refuses to overwrite a policy."""
        if self.current() is not None:
            raise AnchorStoreError("the anchor store already holds a trust policy",
                                   hint="replace it with a signed policy update instead")
        return self.commit(policy)


class CounterStore(BankedStore):
    """Anti-rollback sequence numbers per component on flash: ``{component-id: uint}``.

    With several tenants, one device-wide sequence number would let a tenant block the others
    by jumping ahead; per-component numbers keep each tenant's anti-rollback state its own.
    """

    what = "sequence-number table"
    MAX_ENTRIES = 64

    def decode(self, payload: bytes) -> dict[tuple[bytes, ...], int]:
        value = decode(payload, limits=self.limits, path="counters")
        if not isinstance(value, Sequence) or isinstance(value, (bytes, str)) or len(value) > self.MAX_ENTRIES:
            raise DecodeError("the counter table is [* [component-id, uint]]", path="counters")
        out: dict[tuple[bytes, ...], int] = {}
        for entry in value:
            if (not isinstance(entry, Sequence) or isinstance(entry, (bytes, str)) or len(entry) != 2
                    or not isinstance(entry[0], Sequence) or isinstance(entry[0], (bytes, str))
                    or not all(isinstance(p, bytes) for p in entry[0])
                    or isinstance(entry[1], bool) or not isinstance(entry[1], int) or entry[1] < 0):
                raise DecodeError("a counter entry is [component-id, uint]", path="counters")
            out[tuple(entry[0])] = entry[1]
        return out

    def table(self) -> dict[tuple[bytes, ...], int]:
        record = self.current()
        return {} if record is None else dict(record.value)

    def load(self, components: Iterable[tuple[bytes, ...]]) -> int | None:
        """The highest number stored for any of ``components`` (None if none has one)."""
        table = self.table()
        values = [table[c] for c in components if c in table]
        return max(values) if values else None

    def store(self, components: Iterable[tuple[bytes, ...]], value: int) -> None:
        """Raise the number of every one of ``components`` to ``value`` (one power-safe commit)."""
        old = self.table()
        table = dict(old)
        for component in components:
            table[tuple(component)] = max(value, table.get(tuple(component), 0))
        if table == old and self.current() is not None:
            return
        self.write(encode([[list(c), n] for c, n in sorted(table.items())]), table)


class MemoryPolicyStore:
    """A policy store without flash (tests, host tools): the same interface as :class:`AnchorStore`."""

    def __init__(self, policy: TrustPolicy) -> None:
        self.policy = policy

    def load(self) -> TrustPolicy:
        return self.policy

    def commit(self, policy: TrustPolicy) -> None:
        self.policy = policy


class MemoryCounters:
    """Per-component sequence numbers without flash (tests, host tools)."""

    def __init__(self) -> None:
        self.values: dict[tuple[bytes, ...], int] = {}

    def load(self, components: Iterable[tuple[bytes, ...]]) -> int | None:
        values = [self.values[tuple(c)] for c in components if tuple(c) in self.values]
        return max(values) if values else None

    def store(self, components: Iterable[tuple[bytes, ...]], value: int) -> None:
        for component in components:
            self.values[tuple(component)] = max(value, self.values.get(tuple(component), 0))


__all__ = ["AnchorStore", "BankedStore", "CounterStore", "MemoryCounters", "MemoryPolicyStore", "StoredRecord",
           "encode_record"]
