"""Power-loss sweep throughput of the conformance runner on the reference bootloader.

The full single-fault sweep — F0 (cut before every operation), F1 (torn program, ``bits``
mode: the last write unit lands half-way) at every program and F2 (torn erase, ``bits``) at
every erase — of the permanent-update scenario (1) and of the revert (21: the revert boot of an
unconfirmed test image) for a 256 KiB image on the nRF52840 profile. Every fault point runs
the rest of the script (recovery boot, later steps, two settle boots) and checks I1–I8.

    .venv/bin/python benchmarks/bench_powerloss.py [--image-size BYTES] [--sample N]

Target: the whole sweep within 60 s on one core. MCUboot's C simulator does a comparable
single-fault sweep in about 0.5 s (../shared/reference/mcuboot.md §4.5).
"""

from __future__ import annotations

import argparse
import time

from suitlib.bootloader import swap_scratch
from suitlib.conformance.devices import all_devices
from suitlib.conformance.runner import Options, Suite
from suitlib.conformance.scenarios import BY_ID

ROWS = [("perm-upgrade", "cut", "F0"), ("perm-upgrade", "torn", "F1+F2"),
        ("revert-once", "cut", "F0"), ("revert-once", "torn", "F1+F2")]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image-size", type=int, default=256 * 1024)
    ap.add_argument("--profile", default="nrf52840")
    ap.add_argument("--sample", type=int, default=None, help="sample N points per row (default: all)")
    ap.add_argument("--torn-modes", default="bits",
                    help="comma-separated F1/F2 variants per op: prefix, bits, all-but-last")
    args = ap.parse_args()
    device = all_devices()[args.profile]
    suite = Suite(swap_scratch, Options(image_size=args.image_size, max_points=args.sample,
                                        torn_modes=tuple(args.torn_modes.split(","))))
    print(f"reference swap bootloader, {args.profile}, image {args.image_size} bytes, "
          f"torn modes {args.torn_modes}")
    print(f"{'scenario':14} {'faults':6} {'points':>7} {'failed':>6} {'wall s':>8} {'cpu s':>7} "
          f"{'points/s':>9}")
    total_points = total_failed = 0
    t_all, c_all = time.perf_counter(), time.process_time()
    for scenario, schedule, label in ROWS:
        t, c = time.perf_counter(), time.process_time()
        runs = [r for r in suite.run(BY_ID[scenario], device, {schedule}) if r.schedule == schedule]
        dt, dc = time.perf_counter() - t, time.process_time() - c
        failed = sum(not r.passed for r in runs)
        total_points += len(runs)
        total_failed += failed
        print(f"{scenario:14} {label:6} {len(runs):7d} {failed:6d} {dt:8.2f} {dc:7.2f} "
              f"{len(runs) / dt:9.1f}")
    wall, cpu = time.perf_counter() - t_all, time.process_time() - c_all
    print(f"{'total':14} {'':6} {total_points:7d} {total_failed:6d} {wall:8.2f} {cpu:7.2f} "
          f"{total_points / wall:9.1f}")
    print(f"target: <= 60 s for the full sweep; MCUboot C sim ~0.5 s for a comparable sweep")
    return 1 if total_failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
