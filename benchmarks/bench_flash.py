"""Flash emulator throughput: raw operations per second, snapshot/restore cost, and the
suffix-sweep pattern on the nRF52840 profile.

Baselines measured in the same run: a naive emulator step (per-byte Python AND loop, full
bytearray copy as a snapshot), and a prefix-rerun sweep (what a sweep costs without snapshots).

Run: .venv/bin/python benchmarks/bench_flash.py [--quick]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from suitlib.errors import FlashError
from suitlib.flash import FaultPlan, FlashEmulator, PowerLoss, Snapshot, load_profile

KIB = 1024
QUICK = "--quick" in sys.argv


def rate(fn: Callable[[], object], budget: float = 0.3 if QUICK else 1.0) -> float:
    """Calls per second of ``fn`` over about ``budget`` seconds."""
    n, t0 = 0, time.perf_counter()
    while True:
        for _ in range(64):
            fn()
        n += 64
        dt = time.perf_counter() - t0
        if dt >= budget:
            return n / dt


def table(title: str, rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


def raw_ops() -> None:
    profile = load_profile("nrf52840")
    rows = []
    for size in (4, 256, 4 * KIB):
        flash = FlashEmulator.from_profile(profile, geometry={"program_limit": None})
        data = bytes(range(256)) * (size // 256) if size >= 256 else b"\x00" * size
        pos = [0]

        def prog() -> None:
            a = pos[0]
            if a + size > flash.size:
                a = 0
            flash.program(a, data)
            pos[0] = a + size

        ops = rate(prog)
        naive = bytearray(b"\xff" * flash.size)

        def naive_prog() -> None:
            a = pos[0] % (flash.size - size)
            for i in range(size):
                naive[a + i] &= data[i]
            pos[0] = a + size

        nops = rate(naive_prog)
        rows.append((f"program {size} B", f"{ops:,.0f}", f"{ops * size / 1e6:,.1f}",
                     f"{nops:,.0f}", f"{ops / nops:,.1f}x"))
    for size in (4, 4 * KIB):
        flash = FlashEmulator(profile.geometry())
        ops = rate(lambda: flash.read(0x1000, size))
        naive = bytearray(flash.size)
        nops = rate(lambda: bytes(naive[0x1000:0x1000 + size]))
        rows.append((f"read {size} B", f"{ops:,.0f}", f"{ops * size / 1e6:,.1f}", f"{nops:,.0f}",
                     f"{ops / nops:,.2f}x"))
    flash = FlashEmulator(profile.geometry(endurance=None))
    flash.load(0, b"\x00" * flash.size)
    ops = rate(lambda: flash.erase(0x10000, 4 * KIB))
    naive = bytearray(flash.size)

    def naive_erase() -> None:
        naive[0x10000:0x11000] = b"\xff" * 4096

    rows.append(("erase 4 KiB page", f"{ops:,.0f}", "-", f"{rate(naive_erase):,.0f}", "-"))
    table("Raw operations, nRF52840 geometry (1 MiB, 4 KiB pages, 4-byte words)", rows,
          ("operation", "ops/s", "MB/s", "naive ops/s", "speed-up"))


def snapshots() -> None:
    rows = []
    for name in ("nrf52840", "stm32f4", "stm32l4"):
        profile = load_profile(name)
        flash = FlashEmulator(profile.geometry(program_limit=None))
        flash.load(0, bytes(range(256)) * (flash.size // 256))
        snap_rate = rate(flash.snapshot)
        snap = flash.snapshot()
        restore_rate = rate(lambda: flash.restore(snap))

        def restore_and_write() -> None:
            flash.restore(snap)
            flash.program(0x20000, b"\x00" * 256)  # first write after a restore copies one sector

        rw_rate = rate(restore_and_write)
        full = bytearray(flash.dump())
        copy_rate = rate(lambda: bytearray(full))
        rows.append((name, str(len(flash.sectors)), f"{1e6 / snap_rate:,.1f}", f"{1e6 / restore_rate:,.1f}",
                     f"{1e6 / rw_rate:,.1f}", f"{1e6 / copy_rate:,.1f}", f"{snap_rate / copy_rate:,.1f}x"))
    table("Snapshots (copy-on-write) vs a full 1 MiB copy", rows,
          ("profile", "sectors", "snapshot us", "restore us", "restore+write us", "full copy us",
           "snapshot speed-up"))


def swap_job(flash: FlashEmulator, image_size: int) -> None:
    """A scratch swap of ``image_size`` bytes (1 KiB program chunks, one status word per step).

    This is a synthetic workload with the op mix of a swap; it is not the reference bootloader.
    """
    primary, secondary, scratch, status = 0x0C000, 0x82000, 0xF8000, 0xFC000
    for s in range(image_size // (4 * KIB)):
        off = s * 4 * KIB
        for src, dst in ((secondary + off, scratch), (primary + off, secondary + off),
                         (scratch, primary + off)):
            flash.erase(dst, 4 * KIB)
            for c in range(0, 4 * KIB, KIB):
                flash.program(dst + c, flash.read(src + c, KIB))
        flash.program(status + 4 * s, b"\x00\x00\x00\x00")


def sweep() -> None:
    profile = load_profile("nrf52840")
    image = 64 * KIB if QUICK else 256 * KIB
    geometry = profile.geometry(program_limit=None)
    snaps: list[Snapshot] = []
    flash = FlashEmulator(geometry, trace_data=True, before_op=lambda f, k: snaps.append(f.snapshot()))
    flash.load(0x0C000, bytes(range(256)) * (image // 256))
    flash.load(0x82000, bytes(range(255, -1, -1)) * (image // 256))
    t0 = time.perf_counter()
    swap_job(flash, image)
    t_clean = time.perf_counter() - t0
    busy = profile.busy_ms(flash.stats.erases, flash.stats.bytes_programmed)
    clean = flash.trace
    n = len(clean)
    flash.before_op = None

    rows = []
    total_points = 0
    t_all = time.perf_counter()
    for torn in (None, "prefix", "bits"):
        t1 = time.perf_counter()
        for k in range(n):
            flash.restore(snaps[k])
            flash.arm(FaultPlan.cut(k, torn=torn, seed=k))
            try:
                flash.replay(clean[k])
            except PowerLoss:
                pass
            flash.power_cycle()
            flash.arm(None)
            for entry in clean[k + 1:]:  # the recovery redoes the remaining work
                try:
                    flash.replay(entry)
                except FlashError:
                    pass
        dt = time.perf_counter() - t1
        total_points += n
        rows.append((f"F{'0' if torn is None else ('1/F2 ' + torn)}", str(n), f"{dt:,.2f}", f"{n / dt:,.0f}"))
    t_sweep = time.perf_counter() - t_all
    # without snapshots every fault point also re-runs its prefix (same recovery work):
    # sample 16 points evenly, extrapolate to the n points of each of the three schedules
    t2 = time.perf_counter()
    sample = range(0, n, max(1, n // 16))
    for k in sample:
        fresh = FlashEmulator(geometry, trace_data=True)
        fresh.load(0x0C000, bytes(range(256)) * (image // 256))
        fresh.load(0x82000, bytes(range(255, -1, -1)) * (image // 256))
        fresh.arm(FaultPlan.cut(k))
        try:
            swap_job(fresh, image)
        except PowerLoss:
            fresh.power_cycle()
        fresh.arm(None)
        for entry in clean[k + 1:]:
            fresh.replay(entry)
    t_naive = (time.perf_counter() - t2) / len(sample) * n * 3
    rows.append(("all three", str(total_points), f"{t_sweep:,.2f}", f"{total_points / t_sweep:,.0f}"))
    table(f"Suffix sweep of a synthetic {image // KIB} KiB scratch swap on nRF52840 "
          f"({n} ops/run, clean run {t_clean * 1e3:,.1f} ms emulated; the part itself would be "
          f"busy {busy / 1e3:,.1f} s by its datasheet timing)", rows,
          ("schedule", "fault points", "seconds", "points/s"))
    print(f"\nEmulator cost per op in the sweep: {t_sweep / (total_points * n / 2) * 1e6:,.2f} us; "
          f"the same sweep re-running each prefix instead of restoring a snapshot, extrapolated: "
          f"{t_naive:,.1f} s -> snapshots {t_naive / t_sweep:,.1f}x faster")


if __name__ == "__main__":
    raw_ops()
    snapshots()
    sweep()
