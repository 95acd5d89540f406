"""Streaming decryption cost added to payload processing, measured in the same run.

Workload (issue 8): a 256 KiB payload arrives in 1 KiB chunks; payload processing is SHA-256
over the image plus writing it into a component. Baseline: hash + write of the plaintext.
Measured: the same, behind the DecryptingSink (decrypt A128GCM or A128CTR, then hash + write).
Target: decrypting / baseline <= 1.10.

Two writers: the in-memory component writer (a memcpy: the worst case for the ratio), and the
NOR flash emulator with the nRF52840 geometry (program in 4-byte units, region erased before
each round, outside the timing). Key unwrap (once per payload) is included: AES-KW for the
pre-shared key, and one row with ECDH-ES+A128KW (a P-256 scalar multiplication). A staged row
shows the extra cost of writing through a staging component and copying after verification.

Times are process CPU time, rounds alternate variants; the median is reported.

Run: .venv/bin/python benchmarks/bench_decrypt.py [--payload-kib 256] [--chunk 1024] [--rounds 15]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from suitlib.cose.encrypt import (  # noqa: E402
    ContentAlgorithm,
    EcdhKey,
    EcdhRecipient,
    KeyWrapKey,
    decode_encryption_info,
    encrypt_payload,
    open_decryptor,
    unwrap_cek,
)
from suitlib.cose.keys import KeyType, PrivateKey  # noqa: E402
from suitlib.flash import FlashEmulator  # noqa: E402
from suitlib.flash.profiles import load_profile  # noqa: E402
from suitlib.processor.decrypt import DECRYPT_BATCH, DecryptingSink, StagingArea  # noqa: E402
from suitlib.processor.memory import InMemoryPlatform  # noqa: E402

APP, STAGING = (b"app",), (b"staging",)


class HashingWriter:
    """Payload processing without decryption: SHA-256 over the image, then write it."""

    def __init__(self, write: Callable[[bytes], None], close: Callable[[], None]) -> None:
        self.hash = hashlib.sha256()
        self._write, self._close = write, close

    def write(self, chunk: bytes) -> None:
        self.hash.update(chunk)
        self._write(chunk)

    def close(self) -> None:
        self._close()


class FlashWriter:
    """Programs a region of the emulated flash sequentially, in write-unit multiples."""

    def __init__(self, flash: FlashEmulator, base: int) -> None:
        self.flash, self.base, self.offset, self.pending = flash, base, 0, b""
        self.unit = flash.write_unit

    def write(self, chunk: bytes) -> None:
        data = self.pending + chunk
        cut = len(data) - len(data) % self.unit
        if cut:
            self.flash.program(self.base + self.offset, data[:cut])
            self.offset += cut
        self.pending = data[cut:]

    def close(self) -> None:
        if self.pending:
            pad = self.unit - len(self.pending)
            self.flash.program(self.base + self.offset, self.pending + bytes([self.flash.erase_value]) * pad)
            self.offset += len(self.pending) + pad
            self.pending = b""


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--payload-kib", type=int, default=256)
    ap.add_argument("--chunk", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()

    size = args.payload_kib * 1024
    plaintext = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(size // 32 + 1))[:size]
    kek = KeyWrapKey(bytes(range(16)))
    device = PrivateKey.generate(KeyType.P256)
    encrypted = {
        ("A128KW", alg): encrypt_payload(plaintext, [kek], content_alg=alg) for alg in ContentAlgorithm
    }
    encrypted[("ECDH-ES+A128KW", ContentAlgorithm.A128GCM)] = encrypt_payload(
        plaintext, [EcdhRecipient(device.public_key())], content_alg=ContentAlgorithm.A128GCM)
    keys = {"A128KW": [kek], "ECDH-ES+A128KW": [EcdhKey(device)]}
    plain_chunks = chunks(plaintext, args.chunk)
    cipher_chunks = {k: chunks(v.ciphertext, args.chunk) for k, v in encrypted.items()}
    expected = hashlib.sha256(plaintext).digest()

    flash = FlashEmulator.from_profile(load_profile("nrf52840"))
    base = 0x40000
    region = (size + flash.sectors[0].size - 1) // flash.sectors[0].size * flash.sectors[0].size

    def memory_sink() -> tuple[HashingWriter, Callable[[], bytes]]:
        platform = InMemoryPlatform.simple(vendor_id=b"v", class_id=b"c", components=(APP, STAGING), capacity=2 * size)
        writer = platform.open_writer(APP, size_hint=size)
        hw = HashingWriter(writer.write, writer.close)
        return hw, lambda: platform.content(APP) or b""

    def flash_sink() -> tuple[HashingWriter, Callable[[], bytes]]:
        flash.erase(base, region)
        fw = FlashWriter(flash, base)
        hw = HashingWriter(fw.write, fw.close)
        return hw, lambda: flash.read(base, size)

    def run(target: str, variant: tuple[str, ContentAlgorithm] | None, staged: bool, batch: int) -> float:
        hw, content = memory_sink() if target == "memory" else flash_sink()
        start = time.process_time()
        if variant is None:  # no decryption, but the same write granularity
            pending = bytearray()
            for chunk in plain_chunks:
                pending += chunk
                if len(pending) >= batch:
                    hw.write(bytes(pending))
                    pending.clear()
            if pending:
                hw.write(bytes(pending))
            hw.close()
        else:
            info = decode_encryption_info(encrypted[variant].info)
            decryptor = open_decryptor(info, unwrap_cek(info, keys[variant[0]]))
            staging = None
            if staged:
                platform = InMemoryPlatform.simple(vendor_id=b"v", class_id=b"c", components=(STAGING,), capacity=size)
                staging = StagingArea(platform, STAGING, size_hint=size)
            sink = DecryptingSink(decryptor, hw, staging=staging, batch=batch)
            for chunk in cipher_chunks[variant]:
                sink.write(chunk)
            sink.close()
        elapsed = time.process_time() - start
        assert hw.hash.digest() == expected and content()[:size] == plaintext
        return elapsed

    gcm, ctr = ("A128KW", ContentAlgorithm.A128GCM), ("A128KW", ContentAlgorithm.A128CTR)
    ecdh = ("ECDH-ES+A128KW", ContentAlgorithm.A128GCM)
    # (row name, variant, staged, batch); each batch size has its own baseline row first
    variants: list[tuple[str, tuple[str, ContentAlgorithm] | None, bool, int]] = []
    for batch in sorted({args.chunk, DECRYPT_BATCH, 16384}):
        variants += [
            (f"hash + write, {batch} B writes (baseline)", None, False, batch),
            (f"  + A128KW, A128GCM, batch {batch}", gcm, False, batch),
            (f"  + A128KW, A128CTR, batch {batch}", ctr, False, batch),
        ]
        if batch == DECRYPT_BATCH:
            variants += [
                (f"  + ECDH-ES+A128KW, A128GCM, batch {batch}", ecdh, False, batch),
                (f"  + A128KW, A128GCM, staged, batch {batch}", gcm, True, batch),
            ]
    profile = load_profile("nrf52840")
    print(f"payload {args.payload_kib} KiB arriving in {args.chunk}-byte chunks; {args.rounds} rounds; median CPU ms")
    print(f"(default DecryptingSink batch: {DECRYPT_BATCH} bytes)")
    medians: dict[str, dict[str, float]] = {}
    for target in ("memory", "flash"):
        times: dict[str, list[float]] = {name: [] for name, *_ in variants}
        for _ in range(args.rounds):
            for name, variant, staged, batch in variants:
                times[name].append(run(target, variant, staged, batch))
        medians[target] = {name: statistics.median(v) for name, v in times.items()}
        label = "in-memory writer" if target == "memory" else "NOR flash emulator (nRF52840 geometry)"
        print(f"\n{label}")
        print(f"{'pipeline':46} {'ms':>8} {'ratio':>7}  target <= 1.10")
        baseline = 0.0
        for name, variant, *_ in variants:
            med = medians[target][name]
            if variant is None:
                baseline = med
                print(f"{name:46} {med * 1000:8.2f} {1.0:7.3f}")
                continue
            verdict = "ok" if med / baseline <= 1.10 else "over"
            print(f"{name:46} {med * 1000:8.2f} {med / baseline:7.3f}  {verdict}")
    erase_ms, program_us = profile.erase_ms, profile.program_us
    if erase_ms and program_us:
        pages = (size + 4095) // 4096
        flash_ms = pages * erase_ms + size / 4 * program_us / 1000
        print(f"\nmodel, not a measurement: nRF52840 datasheet flash time for {args.payload_kib} KiB "
              f"({pages} page erases x {erase_ms} ms + {size // 4} words x {program_us} us = {flash_ms:.0f} ms) "
              "added to the in-memory CPU times above")
        print(f"{'pipeline':46} {'ms':>8} {'ratio':>7}")
        baseline = 0.0
        for name, variant, *_ in variants:
            total = medians["memory"][name] * 1000 + flash_ms
            if variant is None:
                baseline = total
            print(f"{name:46} {total:8.1f} {total / baseline:7.4f}")


if __name__ == "__main__":
    main()
