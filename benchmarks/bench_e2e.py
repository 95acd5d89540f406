#!/usr/bin/env python3
"""End-to-end figures: bytes on air and wall time per update, full image vs delta; a fleet.

1. Per corpus pair (those whose images fit an nRF52840 slot), one mote (nrf52840 profile,
   1 KiB blocks, window 4) updated by the update server through a lossy UDP relay that counts
   every datagram in both directions: a full-image update and a delta update, at 0 % and (for
   three pairs) 10 % loss. The delta/full ratio of bytes on air is reported per pair and its
   median over the pairs (target: ≤ 15 %).
2. A fleet of N motes (default 1,000; mixed profiles, 70 % in the targeted class, power cuts,
   5 % failing self-tests) in one event loop against `suit serve` running as its own process
   (so its memory is its own): time until every mote settled, failed transfers, and the
   server's peak RSS (VmHWM). Target: no failed transfer.

Usage: ``python benchmarks/bench_e2e.py [--fleet 1000] [--loss 0 0.1] [--skip-pairs]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from suitlib.cose import KeyType, PrivateKey  # noqa: E402
from suitlib.server.app import ServerLimits, UpdateServer  # noqa: E402
from suitlib.server.publish import publish  # noqa: E402
from suitlib.sim.fleet import FleetConfig, default_pair, run_fleet  # noqa: E402
from suitlib.sim.manufacturer import delta_release, full_release  # noqa: E402
from suitlib.sim.mote import Mote  # noqa: E402
from suitlib.sim.relay import LossyRelay  # noqa: E402
from suitlib.transport.coap.client import Timing  # noqa: E402

SHARED = Path(os.environ.get("SUITLIB_SHARED", REPO.parent / "shared"))
CORPUS = SHARED / "corpus" / "firmware"
PAIRS = ["simba-due-programmer-0.8.0-to-0.9.0", "mbed-blinky-k64f", "simba-rpi3-shell-aarch64",
         "simba-due-shell", "micropython-pybv11-v1.10-to-1f5d945af", "esp8266-nonos-at-2020-01-to-2020-03"]
LOSSY = ["mbed-blinky-k64f", "simba-rpi3-shell-aarch64", "simba-due-shell"]
PROFILE = "nrf52840"


async def one_update(old: bytes, new: bytes, delta: bool, loss: float, seed: int) -> tuple[int, float, int, str]:
    """(bytes on air, seconds, retransmissions, outcome) of one update of one mote."""
    key = PrivateKey.generate(KeyType.P256)
    v1 = full_release(old, 1, PROFILE, key)
    v2 = delta_release(old, new, 2, PROFILE, key, ram=0x8000) if delta else full_release(new, 2, PROFILE, key)
    with tempfile.TemporaryDirectory() as tmp:
        server = UpdateServer(tmp, ServerLimits(rate=0))
        port = await server.start(("127.0.0.1", 0))
        publish(server.store, server.db, v2.envelope, payloads=(v2.payload,))
        relay = LossyRelay(("127.0.0.1", port), loss=loss, seed=seed)
        rport = await relay.start()
        try:
            mote = Mote(PROFILE, f"coap://127.0.0.1:{rport}", [key.public_key()], szx=6, window=4,
                        timing=Timing(ack_timeout=0.5, max_retransmit=6, reissues=6))
            mote.provision(old, v1.envelope, 1)
            t0 = time.perf_counter()
            outcome = await mote.run()
            seconds = time.perf_counter() - t0
            if mote.running_image() != new:
                outcome = "WRONG IMAGE"
            return relay.stats.bytes, seconds, mote.stats.retransmissions, outcome
        finally:
            relay.close()
            await server.stop()


def pairs_table() -> float:
    print("\n## Bytes on air per update (nrf52840 mote, 1 KiB blocks, window 4, through the relay)\n")
    print("| pair | image B | loss | full: air B | full: s | delta: payload B | delta: air B | delta: s | air delta/full |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    ratios = []
    for name in PAIRS:
        old, new = (CORPUS / name / "old.bin").read_bytes(), (CORPUS / name / "new.bin").read_bytes()
        from suitlib.sim.manufacturer import make_patch

        patch = make_patch(old, new, ram=0x8000)
        for loss in (0.0, 0.1) if name in LOSSY else (0.0,):
            full = asyncio.run(one_update(old, new, False, loss, 1))
            dl = asyncio.run(one_update(old, new, True, loss, 1))
            assert full[3] == "updated" and dl[3] == "updated", (name, loss, full, dl)
            ratio = dl[0] / full[0]
            if loss == 0.0:
                ratios.append(ratio)
            print(f"| {name} | {len(new):,} | {loss:.0%} | {full[0]:,} | {full[1]:.2f} | {len(patch):,} | "
                  f"{dl[0]:,} | {dl[1]:.2f} | {ratio:.1%} |")
    median = statistics.median(ratios)
    print(f"\nmedian delta/full bytes on air over {len(ratios)} pairs at 0 % loss: {median:.1%} "
          f"(target ≤ 15 %: {'met' if median <= 0.15 else 'NOT met'})")
    return median


def vm_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return -1


def fleet(n: int, loss: float) -> bool:
    print(f"\n## Fleet: {n} motes, {loss:.0%} loss, `suit serve` in its own process\n")
    old, new = default_pair()
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        proc = subprocess.Popen([sys.executable, "-m", "suitlib", "serve", "--store", str(store), "--bind",
                                 "127.0.0.1:0", "--rate", "0"], stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stderr.readline()  # type: ignore[union-attr]
            port = int(line.strip().rsplit(":", 1)[1])
            cfg = FleetConfig(motes=n, loss=loss, seed=3, old=old, new=new, fail_share=0.05, cut_share=0.3,
                              ack_timeout=1.0)
            t0 = time.perf_counter()
            result = asyncio.run(run_fleet(cfg, store=store, server_port=port))
            wall = time.perf_counter() - t0
            server_kib = vm_hwm_kib(proc.pid)
        finally:
            proc.terminate()
            proc.wait(30)
    failed = result.count("failed")
    settle = result.settle_seconds
    pct = (lambda q: settle[min(len(settle) - 1, int(q * len(settle)))]) if settle else (lambda q: 0.0)
    print("| motes | loss | updated | reverted | not offered/current | failed | power cuts | air bytes | dropped "
          "| reports (dup) | per-mote s p50/p95/max | all settled s | server peak RSS |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {n:,} | {loss:.0%} | {result.count('updated')} | {result.count('reverted')} | {result.count('current')} | "
          f"{failed} | {sum(m.cuts for m in result.motes)} | {result.air_bytes:,} | {result.dropped:,} | "
          f"{result.server_reports} ({result.duplicate_reports}) | {pct(0.5):.1f}/{pct(0.95):.1f}/{settle[-1] if settle else 0:.1f} | "
          f"{result.seconds:.1f} | {server_kib / 1024:.1f} MiB |")
    print(f"\nproblems: {len(result.problems)}" + "".join(f"\n  {p}" for p in result.problems[:10]))
    ok = failed == 0 and not result.problems
    print(f"target (no failed transfer, every mote on its expected image): {'met' if ok else 'NOT met'}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fleet", type=int, default=1000)
    ap.add_argument("--loss", type=float, nargs="+", default=[0.0, 0.1])
    ap.add_argument("--skip-pairs", action="store_true")
    args = ap.parse_args()
    ok = True
    if not args.skip_pairs:
        ok = pairs_table() <= 0.15 and ok
    if args.fleet:
        for loss in args.loss:
            ok = fleet(args.fleet, loss) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
